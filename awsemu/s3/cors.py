"""
CORS as S3 enforces it from a bucket's stored rules: ``OPTIONS``
preflights answered (403 when no rule allows them) and
``Access-Control-*`` headers added to matching requests.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any, Final

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse

Rule = dict[str, Any]

_NOT_ALLOWED: Final = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
    "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are "
    "not whitelisted by the resource's CORS spec."
)


def _forbidden(message: str, method: str) -> ServiceError:
    return ServiceError(
        "AccessForbidden", message, 403, fields={"Method": method, "ResourceType": "OBJECT"}
    )


def _matches(patterns: Sequence[str], value: str) -> bool:
    """S3's CORS wildcards: at most one ``*``, matched case-insensitively."""
    lowered = value.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


def matching_rule(
    rules: Sequence[Rule], origin: str, method: str, headers: Sequence[str] = ()
) -> Rule | None:
    """The first rule allowing ``origin`` to send ``method`` with ``headers``."""
    for rule in rules:
        if (
            _matches(rule.get("AllowedOrigins", ()), origin)
            and method in rule.get("AllowedMethods", ())
            and all(_matches(rule.get("AllowedHeaders", ()), header) for header in headers)
        ):
            return rule
    return None


def _allow_headers(rule: Rule, origin: str) -> list[tuple[str, str]]:
    allowed_origin = "*" if "*" in rule.get("AllowedOrigins", ()) else origin
    headers = [
        ("Access-Control-Allow-Origin", allowed_origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.get("AllowedMethods", ()))),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    ]
    if allowed_origin != "*":
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if rule.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        headers.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    return headers


def preflight(rules: Sequence[Rule] | None, request: HttpRequest) -> HttpResponse:
    """The answer to an ``OPTIONS`` preflight, given the bucket's rules (None: no CORS)."""
    origin = request.headers.get("origin")
    method = request.headers.get("access-control-request-method")
    if not origin or not method:
        raise ServiceError(
            "BadRequest", "Insufficient information. Origin request header needed.", 400
        )
    if rules is None:
        raise _forbidden("CORSResponse: CORS is not enabled for this bucket.", method)
    requested = [
        h.strip()
        for h in (request.headers.get("access-control-request-headers") or "").split(",")
        if h.strip()
    ]
    rule = matching_rule(rules, origin, method, requested)
    if rule is None:
        raise _forbidden(_NOT_ALLOWED, method)
    headers = _allow_headers(rule, origin)
    if requested:
        headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    return HttpResponse(200, headers)


def decorate(rules: Sequence[Rule] | None, request: HttpRequest, response: HttpResponse) -> None:
    """Add the ``Access-Control-*`` headers a cross-origin request's matching rule grants."""
    origin = request.headers.get("origin")
    if not origin or not rules:
        return
    method = "GET" if request.method == "HEAD" else request.method
    rule = matching_rule(rules, origin, method)
    if rule is not None:
        response.headers.extend(_allow_headers(rule, origin))
