"""
Lambda proxy integrations (``AWS_PROXY``): a call as the REST API's
payload 1.0 event, field for field as AWS builds it (fields AWS sends as
null are present as null), and the function's answer as the HTTP
response, with AWS's rules for what a valid answer is.

Headers arrive spelled and repeated as sent, without the hop-by-hop
ones (``Connection``...), with the ``X-Forwarded-*`` and
``X-Amzn-Trace-Id`` headers API Gateway adds; ``path`` keeps a trailing
slash; ``requestContext.domainName`` is the ``Host`` the call named.
"""

from __future__ import annotations

import json
import time
from base64 import b64decode, b64encode
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from awsemu.apigateway.matching import Match, split_path
from awsemu.apigateway.metering import UsedKey
from awsemu.apigateway.store import DeployedStage
from awsemu.protocol.http import HttpRequest, HttpResponse

Document = dict[str, Any]

_IDENTITY_FIELDS: Final = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
)
"""``requestContext.identity`` members that are null for an unauthenticated call."""

_HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
"""Headers of one connection, not of the request: API Gateway does not pass them on."""

_RESPONSE_FIELDS: Final = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)
"""The members a proxy response may have: any other makes it malformed, as in AWS."""


def json_response(
    status: int, document: object, headers: Sequence[tuple[str, str]] = ()
) -> HttpResponse:
    """An answer of API Gateway's own (errors), JSON as it writes them."""
    body = json.dumps(document, separators=(",", ":")).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), *headers], body)


def is_binary(content_type: str | None, binary_media_types: Iterable[str]) -> bool:
    """Whether a body of ``content_type`` is binary for an API (``image/*``, ``*/*`` match)."""
    if not content_type:
        return False
    media = content_type.partition(";")[0].strip().lower()
    kind = media.partition("/")[0]
    for declared in binary_media_types:
        declared = declared.lower()
        if declared in (media, "*/*", f"{kind}/*"):
            return True
    return False


@attrs.frozen
class Call:
    """
    One call of a deployed stage, with what the data plane learned about
    it: ``path`` is the resource path part (after the stage), raw;
    ``domain_name`` the Host as sent (port included); ``now`` the request
    time; ``trace_id`` the ``X-Amzn-Trace-Id`` given to a call without
    one; ``api_key`` the key the call used, once checked.
    """

    request: HttpRequest
    deployed: DeployedStage
    path: str
    domain_name: str
    request_id: str
    extended_request_id: str
    now: float
    trace_id: str
    api_key: UsedKey | None = None

    @property
    def stage_name(self) -> str:
        name: str = self.deployed.stage["stageName"]
        return name

    def headers(self) -> tuple[dict[str, str], dict[str, list[str]]]:
        """
        ``headers`` and ``multiValueHeaders``: the call's, and the
        ``X-Amzn-Trace-Id`` and ``X-Forwarded-*`` headers API Gateway adds
        (WSGI adapters read the scheme and port from them).
        """
        request = self.request
        multi: dict[str, list[str]] = {}
        forwarded = None
        for name, value in request.headers.as_sent():
            if name.lower() == "x-forwarded-for":
                forwarded = value
            elif name.lower() not in _HOP_BY_HOP:
                multi.setdefault(name, []).append(value)
        if "x-amzn-trace-id" not in request.headers:
            multi["X-Amzn-Trace-Id"] = [self.trace_id]
        client = request.remote or "127.0.0.1"
        _, _, port = request.host.rpartition(":")
        multi["X-Forwarded-For"] = [client if forwarded is None else f"{forwarded}, {client}"]
        multi["X-Forwarded-Port"] = [port if port.isdigit() else "80"]
        multi["X-Forwarded-Proto"] = ["http"]
        # A repeated header shows its last value in ``headers``, as in AWS.
        return {name: values[-1] for name, values in multi.items()}, multi

    def query(self) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
        """``queryStringParameters`` (last value wins) and the multi-valued form."""
        if not self.request.query:
            return None, None
        multi: dict[str, list[str]] = {}
        for key, value in self.request.query:
            multi.setdefault(key, []).append(value)
        return {key: values[-1] for key, values in multi.items()}, multi

    def request_context(self, match: Match, authorizer: Document | None) -> Document:
        """The event's ``requestContext``."""
        request = self.request
        identity: Document = {
            **dict.fromkeys(_IDENTITY_FIELDS),
            "sourceIp": request.remote or "127.0.0.1",
            "userAgent": request.headers.get("user-agent"),
        }
        if self.api_key is not None:
            identity.update(apiKey=self.api_key.value, apiKeyId=self.api_key.id)
        document: Document = {
            "accountId": self.deployed.account,
            "apiId": self.deployed.api["id"],
            "deploymentId": self.deployed.stage["deploymentId"],
            "domainName": self.domain_name,
            "domainPrefix": self.domain_name.partition(":")[0].partition(".")[0],
            "extendedRequestId": self.extended_request_id,
            "httpMethod": request.method,
            "identity": identity,
            "path": f"/{self.stage_name}{self.path}",
            "protocol": "HTTP/1.1",
            "requestId": self.request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(self.now)),
            "requestTimeEpoch": int(self.now * 1000),
            "resourceId": match.resource["id"],
            "resourcePath": match.resource["path"],
            "stage": self.stage_name,
        }
        if authorizer is not None:
            document["authorizer"] = authorizer
        return document

    def fields(self, match: Match) -> Document:
        """What the proxy event and a REQUEST authorizer's event share."""
        headers, multi_headers = self.headers()
        query, multi_query = self.query()
        path = "/" + "/".join(split_path(self.path))
        if self.path.endswith("/") and path != "/":
            path += "/"
        return {
            "resource": match.resource["path"],
            "path": path,
            "httpMethod": self.request.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": match.path_parameters or None,
            "stageVariables": self.deployed.stage.get("variables") or None,
        }

    def event(self, match: Match, authorizer: Document | None) -> bytes:
        """The payload 1.0 event of the call."""
        body = self.request.read_body()
        binary = is_binary(
            self.request.headers.get("content-type"),
            self.deployed.api.get("binaryMediaTypes", ()),
        )
        document = self.fields(match)
        document["requestContext"] = self.request_context(match, authorizer)
        if not body:
            document["body"] = None
        elif binary:
            document["body"] = b64encode(body).decode("ascii")
        else:
            document["body"] = body.decode("utf-8", "replace")
        document["isBase64Encoded"] = binary and bool(body)
        return json.dumps(document).encode()


class MalformedResponse(ValueError):
    """The function's answer is not a valid proxy response."""


def _header_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedResponse(f"header value {value!r}")


def _status(value: object) -> int:
    if isinstance(value, bool):
        raise MalformedResponse("statusCode")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise MalformedResponse("statusCode")


def proxy_response(payload: bytes) -> HttpResponse:
    """
    The HTTP response a proxy function's ``payload`` describes; raises
    ``MalformedResponse`` where AWS answers 502. ``headers`` and
    ``multiValueHeaders`` are merged (several ``Set-Cookie`` come from the
    latter), and a body is decoded from base64 when ``isBase64Encoded`` says so.
    """
    try:
        result = json.loads(payload)
    except ValueError as e:
        raise MalformedResponse("not JSON") from e
    if not isinstance(result, dict) or not result.keys() <= _RESPONSE_FIELDS:
        raise MalformedResponse("not a proxy response object")
    status = _status(result.get("statusCode", 200))
    headers = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(headers, Mapping) or not isinstance(multi, Mapping):
        raise MalformedResponse("headers")
    pairs: list[tuple[str, str]] = []
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse("multiValueHeaders")
        pairs += [(str(name), _header_value(value)) for value in values]
    # AWS merges the two; a pair given in both appears once.
    pairs += [
        pair
        for pair in ((str(name), _header_value(value)) for name, value in headers.items())
        if pair not in pairs
    ]
    body = result.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise MalformedResponse("body")
    elif result.get("isBase64Encoded"):
        try:
            raw = b64decode(body, validate=True)
        except ValueError as e:
            raise MalformedResponse("body is not base64") from e
    else:
        raw = body.encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.append(("Content-Type", "application/json"))
    return HttpResponse(status, pairs, raw)
