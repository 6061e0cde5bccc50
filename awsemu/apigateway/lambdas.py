"""
How API Gateway reaches Lambda: the function an integration or
authorizer URI names, and its invocation through Lambda's own API (its
provider), as API Gateway calls Invoke in AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, Protocol

import attrs

from awsemu.gateway.context import RequestContext

if TYPE_CHECKING:
    from awsemu.lambda_.provider import LambdaProvider

_INVOCATION_URI: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<function>.+)/invocations"
)
_FUNCTION_ARN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[^:]+):(?P<account>[0-9]{12}):function:.+"
)
_STAGE_VARIABLE: Final = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


def function_arn(uri: str, variables: Mapping[str, str]) -> str | None:
    """
    The function ARN a Lambda invocation URI names, with
    ``${stageVariables.x}`` replaced by the stage's values; None if it names none.
    """
    found = _INVOCATION_URI.fullmatch(
        _STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), uri)
    )
    return None if found is None else found["function"]


@attrs.frozen
class Invoked:
    """A function's answer: its payload, and ``Unhandled`` when that is an error document."""

    payload: bytes
    function_error: str | None


class Functions(Protocol):
    """
    Invokes Lambda functions; raises ``ServiceError`` as Lambda's Invoke
    would. ``asynchronous`` is an ``Event`` invocation: queued, answered
    at once with no payload.
    """

    async def invoke(
        self, context: RequestContext, function_arn: str, payload: bytes, asynchronous: bool = False
    ) -> Invoked: ...


@attrs.frozen
class LambdaFunctions:
    """``Functions`` through Lambda's provider, in the account and region the ARN names."""

    provider: LambdaProvider

    async def invoke(
        self, context: RequestContext, function_arn: str, payload: bytes, asynchronous: bool = False
    ) -> Invoked:
        found = _FUNCTION_ARN.fullmatch(function_arn)
        if found is not None:
            context = attrs.evolve(
                context, account_id=found["account"], region=found["region"], service="lambda"
            )
        kind = "Event" if asynchronous else "RequestResponse"
        output = await self.provider.invoke(
            context, {"FunctionName": function_arn, "Payload": payload, "InvocationType": kind}
        )
        return Invoked(output.get("Payload", b""), output.get("FunctionError"))
