"""
Lambda authorizers (``TOKEN`` and ``REQUEST``): the event the authorizer
function receives, and what its answer means — the IAM policy it returns
allows or denies the call, and its ``context`` reaches the integration
as ``requestContext.authorizer``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any, Final

from awsemu.apigateway.matching import Match
from awsemu.apigateway.proxy import Call, Document

_IDENTITY_SOURCE: Final = re.compile(
    r"method\.request\.(?P<where>header|querystring)\.(?P<name>.+)|stageVariables\.(?P<variable>.+)"
)


class Unauthorized(Exception):
    """401 ``Unauthorized``: the identity is missing, or the authorizer said so."""


class Denied(Exception):
    """403: the authorizer's policy does not allow the call (``explicit``: it denies it)."""

    def __init__(self, explicit: bool) -> None:
        super().__init__(explicit)
        self.explicit = explicit


class AuthorizerFailed(Exception):
    """500: the authorizer failed or answered something that is not a policy."""


def method_arn(call: Call, match: Match) -> str:
    """The ARN of the method the call reached, which the authorizer's policy must allow."""
    deployed = call.deployed
    path = call.path.lstrip("/")
    return (
        f"arn:aws:execute-api:{deployed.region}:{deployed.account}:{deployed.api['id']}/"
        f"{call.stage_name}/{call.request.method}/{path}"
    )


def _identities(call: Call, sources: str) -> list[str | None]:
    """The values of a REQUEST authorizer's identity sources (None where one is missing)."""
    values: list[str | None] = []
    for source in filter(None, (part.strip() for part in sources.split(","))):
        found = _IDENTITY_SOURCE.fullmatch(source)
        if found is None:
            continue
        if found["variable"] is not None:
            variables = call.deployed.stage.get("variables") or {}
            values.append(variables.get(found["variable"]))
        elif found["where"] == "header":
            values.append(call.request.headers.get(found["name"]))
        else:
            values.append(call.request.query_value(found["name"]))
    return values


def identity(call: Call, authorizer: Document) -> tuple[str, ...]:
    """
    The values of the authorizer's identity sources (the token, for
    ``TOKEN``), which also key its cached answers; raises ``Unauthorized``
    when one is missing or the token fails ``identityValidationExpression``
    (AWS then does not call the function at all).
    """
    found = _identities(call, authorizer.get("identitySource") or "")
    values = tuple(value for value in found if value)
    if len(values) != len(found):
        raise Unauthorized()
    if authorizer["type"] == "TOKEN":
        expression = authorizer.get("identityValidationExpression")
        if not values or (expression and not re.fullmatch(expression, values[0])):
            raise Unauthorized()
    return values


def event(call: Call, match: Match, authorizer: Document, identity: tuple[str, ...]) -> bytes:
    """The authorizer function's event."""
    arn = method_arn(call, match)
    if authorizer["type"] == "TOKEN":
        return json.dumps(
            {"type": "TOKEN", "methodArn": arn, "authorizationToken": identity[0]}
        ).encode()
    document: Document = {"type": "REQUEST", "methodArn": arn, **call.fields(match)}
    document["requestContext"] = call.request_context(match, None)
    return json.dumps(document).encode()


def _listed(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check(statements: Iterable[Any], arn: str) -> None:
    """Raise ``Denied`` unless a policy's statements allow invoking ``arn`` (a Deny wins)."""
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict):
            raise AuthorizerFailed("statement")
        actions = _listed(statement.get("Action", []))
        resources = _listed(statement.get("Resource", []))
        if not any(fnmatchcase("execute-api:Invoke", str(a)) for a in actions):
            continue
        if not any(fnmatchcase(arn, str(r)) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            raise Denied(explicit=True)
        allowed = allowed or statement.get("Effect") == "Allow"
    if not allowed:
        raise Denied(explicit=False)


def _text(value: object) -> str:
    """A context value as the integration sees it: AWS passes every value as a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def verdict(payload: bytes, function_error: str | None, arn: str, latency_ms: int) -> Document:
    """
    ``requestContext.authorizer`` for a call the authorizer's answer
    allows; raises ``Unauthorized``, ``Denied`` or ``AuthorizerFailed``.
    """
    try:
        answer = json.loads(payload)
    except ValueError as e:
        raise AuthorizerFailed("not JSON") from e
    if function_error is not None:
        if isinstance(answer, dict) and answer.get("errorMessage") == "Unauthorized":
            raise Unauthorized()
        raise AuthorizerFailed("function error")
    if not isinstance(answer, dict) or not isinstance(answer.get("policyDocument"), dict):
        raise AuthorizerFailed("no policy")
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        raise AuthorizerFailed("context")
    _check(_listed(answer["policyDocument"].get("Statement", [])), arn)
    return {
        **{str(key): _text(value) for key, value in context.items()},
        "principalId": answer.get("principalId"),
        "integrationLatency": latency_ms,
    }


def usage_key(payload: bytes) -> str | None:
    """The ``usageIdentifierKey`` of an allowing answer: the API key, for ``AUTHORIZER`` sources."""
    answer = json.loads(payload)
    key = answer.get("usageIdentifierKey") if isinstance(answer, dict) else None
    return key if isinstance(key, str) else None
