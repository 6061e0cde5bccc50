"""
Gateway responses: how an API answers the data plane's own errors
(missing route, authorizer refusals, bad keys, throttling, integration
failures). Each error has a response type; an API may customise a type,
or ``DEFAULT_4XX``/``DEFAULT_5XX`` for every type of that class that it
did not customise: the status code, ``gatewayresponse.header.*``
parameters and the body's mapping template (``$context.error.*``). As in
AWS, customisations reach callers with the next deployment.

The types come from botocore's model; their default status codes from
AWS's table (https://docs.aws.amazon.com/apigateway/latest/developerguide/
supported-gateway-response-types.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final

import attrs

from awsemu.apigateway.api import given
from awsemu.apigateway.base import Operations, Output, page
from awsemu.apigateway.errors import bad_request, not_found
from awsemu.apigateway.proxy import json_response
from awsemu.apigateway.store import Record
from awsemu.apigateway.templates import render_template
from awsemu.apigateway.vtl import TemplateError, to_text
from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import Params
from awsemu.protocol.http import HttpResponse
from awsemu.protocol.model import load_service_model
from awsemu.state.jsonfile import saving

DEFAULT_STATUS: Final[Mapping[str, str]] = {
    "ACCESS_DENIED": "403",
    "API_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500",
    "BAD_REQUEST_PARAMETERS": "400",
    "BAD_REQUEST_BODY": "400",
    "EXPIRED_TOKEN": "403",
    "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504",
    "INVALID_API_KEY": "403",
    "INVALID_SIGNATURE": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403",
    "QUOTA_EXCEEDED": "429",
    "REQUEST_TOO_LARGE": "413",
    "RESOURCE_NOT_FOUND": "404",
    "THROTTLED": "429",
    "UNAUTHORIZED": "401",
    "UNSUPPORTED_MEDIA_TYPE": "415",
    "WAF_FILTERED": "403",
}
"""Each type's status when not customised (``DEFAULT_4XX``/``DEFAULT_5XX`` have none)."""

DEFAULT_TEMPLATE: Final = '{"message":$context.error.messageString}'
"""The body template of every response AWS has not been told otherwise about."""

_FIELDS: Final = ("statusCode", "responseParameters", "responseTemplates")
_PATCHABLE: Final = frozenset(_FIELDS)


@cache
def response_types() -> tuple[str, ...]:
    """Every gateway response type, in the model's order."""
    model = load_service_model("apigateway")
    return tuple(model.shape_for("GatewayResponseType").enum)


def default_response(response_type: str) -> Record:
    """A type's response when the API has not customised it, as GetGatewayResponse shows it."""
    record: Record = {"responseType": response_type}
    if response_type in DEFAULT_STATUS:
        record["statusCode"] = DEFAULT_STATUS[response_type]
    record.update(
        responseParameters={},
        responseTemplates={"application/json": DEFAULT_TEMPLATE},
        defaultResponse=True,
    )
    return record


def _check_type(response_type: str) -> None:
    if response_type not in response_types():
        raise bad_request(
            f"Invalid response type specified: {response_type}. Must be one of: "
            + ", ".join(response_types())
        )


class GatewayResponseOperations(Operations):
    """The gateway response operations of ``ApiGatewayProvider``."""

    def _gateway_responses(self, context: RequestContext, params: Params) -> dict[str, Record]:
        responses: dict[str, Record] = self._api(context, params).state.setdefault(
            "gatewayResponses", {}
        )
        return responses

    @saving
    async def put_gateway_response(self, context: RequestContext, params: Params) -> Output:
        _check_type(params["responseType"])
        record: Record = {
            "responseType": params["responseType"],
            **given(params, _FIELDS),
            "defaultResponse": False,
        }
        record.setdefault("responseParameters", {})
        record.setdefault("responseTemplates", {})
        self._gateway_responses(context, params)[params["responseType"]] = record
        return record

    async def get_gateway_response(self, context: RequestContext, params: Params) -> Output:
        _check_type(params["responseType"])
        responses = self._gateway_responses(context, params)
        return responses.get(params["responseType"]) or default_response(params["responseType"])

    async def get_gateway_responses(self, context: RequestContext, params: Params) -> Output:
        responses = self._gateway_responses(context, params)
        return page(
            [responses.get(kind) or default_response(kind) for kind in response_types()], params
        )

    @saving
    async def update_gateway_response(self, context: RequestContext, params: Params) -> Output:
        _check_type(params["responseType"])
        responses = self._gateway_responses(context, params)
        kind = params["responseType"]
        record = responses.get(kind) or {**default_response(kind), "defaultResponse": False}
        self._patch(record, "GatewayResponse", params, _PATCHABLE, lambda patched: None)
        responses[kind] = record
        return record

    @saving
    async def delete_gateway_response(self, context: RequestContext, params: Params) -> Output:
        _check_type(params["responseType"])
        if self._gateway_responses(context, params).pop(params["responseType"], None) is None:
            raise not_found("Invalid Gateway Response identifier specified")
        return {}


@attrs.frozen
class Failure:
    """One of the data plane's own errors, before an API's customisations apply."""

    response_type: str
    status: int
    message: str | None
    error_type: str
    body_key: str = "message"
    """``Message`` for authorizer denials, as AWS writes those."""

    def document(self) -> dict[str, str | None]:
        return {self.body_key: self.message}


def _class_default(failure: Failure) -> str:
    return "DEFAULT_4XX" if failure.status < 500 else "DEFAULT_5XX"


def answer(
    failure: Failure,
    customised: Mapping[str, Record],
    context: dict[str, Any],
    value_of: Callable[[str], str | None],
    stage_variables: Mapping[str, str],
) -> HttpResponse:
    """
    The response to ``failure`` under an API's customised gateway
    responses; ``value_of`` resolves a mapping source such as
    ``method.request.header.Origin`` for ``responseParameters``.
    """
    headers = [("x-amzn-ErrorType", failure.error_type)]
    own = customised.get(failure.response_type)
    fallback = customised.get(_class_default(failure))
    if own is None and fallback is None:
        return json_response(failure.status, failure.document(), headers)
    record = own or fallback or {}
    status = record.get("statusCode") or (fallback or {}).get("statusCode") or failure.status
    templates = record.get("responseTemplates") or {"application/json": DEFAULT_TEMPLATE}
    template = templates.get("application/json") or next(iter(templates.values()), "")
    message = failure.message
    context["error"] = {
        "message": message,
        "messageString": json.dumps(message),
        "responseType": failure.response_type,
    }
    try:
        body = render_template(template, "", {}, context, stage_variables)
    except TemplateError:
        body = json.dumps(failure.document(), separators=(",", ":"))
    parameters = record.get("responseParameters") or {}
    for target, source in parameters.items():
        if not target.startswith("gatewayresponse.header."):
            continue
        if source.startswith("'") and source.endswith("'") and len(source) >= 2:
            value: str | None = source[1:-1]
        else:
            value = value_of(source)
        if value is not None:
            headers.append((target.removeprefix("gatewayresponse.header."), to_text(value)))
    response = HttpResponse(int(status), headers, body.encode("utf-8"))
    if response.header("content-type") is None:
        response.headers.insert(0, ("Content-Type", "application/json"))
    return response
