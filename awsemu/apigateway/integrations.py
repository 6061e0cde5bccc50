"""
Integrations that map (``AWS`` with a Lambda function, ``HTTP``,
``MOCK``): the request template (chosen by the call's ``Content-Type``,
or the body passed through as ``passthroughBehavior`` allows) makes the
backend's input; the backend's answer selects an integration response
(a Lambda error's ``errorMessage``, an HTTP status or a MOCK
``statusCode`` against each ``selectionPattern``, else the response
without one), whose template (chosen by the call's ``Accept``) and
``method.response.header.*`` parameters make the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, urlencode

import attrs

from awsemu.apigateway.errors import CallFailed
from awsemu.apigateway.matching import Match
from awsemu.apigateway.proxy import Call
from awsemu.apigateway.store import Record
from awsemu.apigateway.templates import choose_template, json_path, render_template
from awsemu.apigateway.vtl import TemplateError, to_text
from awsemu.protocol.http import HttpResponse

_SOURCE: Final = re.compile(
    r"method\.request\.(?P<where>path|querystring|header|multivaluequerystring|multivalueheader)"
    r"\.(?P<name>.+)"
    r"|integration\.response\.header\.(?P<response_header>.+)"
    r"|integration\.response\.body(?:\.(?P<body_path>.+))?"
    r"|stageVariables\.(?P<variable>.+)"
    r"|context\.(?P<context>.+)"
)


@attrs.frozen
class Mapper:
    """What templates and parameter mappings read for one call."""

    call: Call
    matched: Match
    context: dict[str, Any]

    @property
    def stage_variables(self) -> Mapping[str, str]:
        variables: Mapping[str, str] = self.call.deployed.stage.get("variables") or {}
        return variables

    def parameters(self) -> dict[str, dict[str, str]]:
        """``$input.params()``: path, query string (last value) and header parameters."""
        return {
            "path": dict(self.matched.path_parameters),
            "querystring": dict(self.call.request.query),
            "header": {name: value for name, value in self.call.request.headers.as_sent()},
        }

    def value_of(
        self, source: str, response_headers: Mapping[str, str] | None = None, body: str = ""
    ) -> str | None:
        """
        The value a mapping source names: ``'literal'``,
        ``method.request.{path,querystring,header}.NAME``,
        ``stageVariables.NAME``, ``context.a.b``, and in responses
        ``integration.response.header.NAME`` and
        ``integration.response.body[.JSONPath]``.
        """
        if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
            return source[1:-1]
        found = _SOURCE.fullmatch(source)
        if found is None:
            return None
        if found["where"] is not None:
            where = found["where"].removeprefix("multivalue")
            name = found["name"]
            if where == "header":
                return self.call.request.headers.get(name)
            values = self.parameters()[where]
            return values.get(name)
        if found["response_header"] is not None:
            lowered = {k.lower(): v for k, v in (response_headers or {}).items()}
            return lowered.get(found["response_header"].lower())
        if found["variable"] is not None:
            return self.stage_variables.get(found["variable"])
        if found["context"] is not None:
            value: Any = self.context
            for part in found["context"].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return None if value is None else to_text(value)
        if found["body_path"] is None:
            return body
        try:
            document = json.loads(body)
        except ValueError:
            return None
        value = json_path(document, found["body_path"])
        return None if value is None else to_text(value)

    def render(self, template: str, body: str) -> str:
        try:
            return render_template(
                template, body, self.parameters(), self.context, self.stage_variables
            )
        except TemplateError as e:
            raise CallFailed("configuration") from e

    def request_body(self, integration: Record) -> tuple[str, str]:
        """
        The backend's input and its media type: the request template's
        output, or the call's body as ``passthroughBehavior`` allows
        (else 415 ``Unsupported Media Type``). The template may set
        ``$context.requestOverride.{header,querystring,path}``.
        """
        self.context["requestOverride"] = {"header": {}, "querystring": {}, "path": {}}
        request = self.call.request
        media_type = (request.headers.get("content-type") or "application/json").partition(";")[0]
        media_type = media_type.strip().lower()
        templates = integration.get("requestTemplates") or {}
        lowered = {name.lower(): template for name, template in templates.items()}
        body = request.read_body().decode("utf-8", "replace")
        template = lowered.get(media_type)
        if template is None:
            behavior = integration.get("passthroughBehavior", "WHEN_NO_MATCH")
            if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates):
                raise CallFailed("unsupported_media_type")
            return body, media_type
        return self.render(template, body), media_type


def select_response(integration: Record, selector: str | None) -> Record:
    """
    The integration response whose ``selectionPattern`` matches the
    whole ``selector``, else the one without a pattern; none: the API is
    misconfigured (500), as in AWS.
    """
    responses: dict[str, Record] = integration.get("integrationResponses") or {}
    if selector is not None:
        for response in responses.values():
            pattern = response.get("selectionPattern")
            if pattern and re.fullmatch(pattern, selector, re.DOTALL):
                return response
    for response in responses.values():
        if not response.get("selectionPattern"):
            return response
    raise CallFailed("configuration")


def respond(
    mapping: Mapper,
    chosen: Record,
    body: bytes,
    headers: Mapping[str, str],
) -> HttpResponse:
    """The method's answer from the integration response ``chosen`` and the backend's answer."""
    text = body.decode("utf-8", "replace")
    templates: Mapping[str, str] = chosen.get("responseTemplates") or {}
    accept = (mapping.call.request.headers.get("accept") or "").split(",")[0]
    template = choose_template(templates, accept)
    media_type = None
    if template is None and templates:
        media_type, template = next(iter(templates.items()))
    elif template is not None:
        wanted = accept.partition(";")[0].strip().lower()
        media_type = next(
            (name for name in templates if name.lower() == wanted), "application/json"
        )
    overrides: dict[str, Any] = {"status": None, "header": {}}
    mapping.context["responseOverride"] = overrides
    output = body if template is None else mapping.render(template, text).encode("utf-8")
    out_headers: list[tuple[str, str]] = []
    for target, source in (chosen.get("responseParameters") or {}).items():
        if target.startswith("method.response.header."):
            value = mapping.value_of(source, headers, text)
            if value is not None:
                out_headers.append((target.removeprefix("method.response.header."), value))
    for name, value in (overrides.get("header") or {}).items():
        out_headers.append((str(name), to_text(value)))
    if not any(name.lower() == "content-type" for name, _ in out_headers):
        backend_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        out_headers.append(("Content-Type", media_type or backend_type or "application/json"))
    status = overrides.get("status") or chosen["statusCode"]
    try:
        code = int(status)
    except (TypeError, ValueError):
        raise CallFailed("configuration") from None
    return HttpResponse(code, out_headers, output)


def mock_selector(rendered: str) -> str:
    """A MOCK integration's ``statusCode``, from its rendered request template (200 if none)."""
    try:
        document = json.loads(rendered) if rendered.strip() else {}
    except ValueError:
        raise CallFailed("configuration") from None
    status = document.get("statusCode", 200) if isinstance(document, dict) else 200
    return str(status)


def lambda_selector(payload: bytes, function_error: str | None) -> str | None:
    """What a Lambda answer's selection patterns are matched against: an error's message."""
    if function_error is None:
        return None
    try:
        document = json.loads(payload)
    except ValueError:
        return ""
    message = document.get("errorMessage") if isinstance(document, dict) else None
    return "" if message is None else to_text(message)


def http_target(mapping: Mapper, integration: Record) -> tuple[str, list[tuple[str, str]]]:
    """
    The URL and headers of an ``HTTP`` integration's request: the URI's
    ``{name}`` and the query string and headers from the integration's
    ``requestParameters`` and the request template's overrides (a
    non-proxy integration sends nothing else).
    """
    url: str = integration["uri"]
    mapped: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
    for target, source in (integration.get("requestParameters") or {}).items():
        value = mapping.value_of(source)
        kind, _, name = target.removeprefix("integration.request.").partition(".")
        if value is not None and kind in mapped:
            mapped[kind][name] = value
    # What the request template set in $context.requestOverride wins.
    overrides = mapping.context.get("requestOverride") or {}
    for kind, values in mapped.items():
        values.update({str(k): to_text(v) for k, v in (overrides.get(kind) or {}).items()})
    for name, value in mapped["path"].items():
        url = url.replace(f"{{{name}}}", quote(value, safe=""))
    query = list(mapped["querystring"].items())
    headers = list(mapped["header"].items())
    for name, value in mapping.matched.path_parameters.items():
        url = url.replace(f"{{{name}}}", quote(value, safe="/"))
    if query:
        url += ("&" if "?" in url else "?") + urlencode(query)
    return url, headers


def invocation_type(mapping: Mapper, integration: Record) -> str | None:
    """The ``X-Amz-Invocation-Type`` a Lambda integration's request parameters map."""
    for target, source in (integration.get("requestParameters") or {}).items():
        if target.lower() == "integration.request.header.x-amz-invocation-type":
            return mapping.value_of(source)
    return None
