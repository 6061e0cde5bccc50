"""
Which service owns a request: the routing table of the one port.

Every service shares the port, so a request is given to a service by the
surest sign it carries, in this order (``_RULES``):

1. its Host, when that is a bucket's, an API's or a function URL's own
   domain (the client chose the endpoint, so nothing else can overrule it);
2. ``X-Amz-Target``, which names the JSON-protocol service outright;
3. the SigV4 credential scope, which names the service the client signed for;
4. a path prefix only one service's API uses;
5. the query protocol's ``Action`` (IAM and STS, which share one shape);
6. otherwise S3, because any other path can be a path-style bucket.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

import attrs

from awsemu.gateway.context import credential_scope
from awsemu.protocol.http import HttpRequest


@attrs.frozen
class Route:
    """
    The service that owns a request, with what the routing itself learned.

    ``data_plane`` marks a call of a user's own endpoint (a deployed API
    stage, a Lambda function URL) rather than of the service's API.
    ``bucket`` is the bucket a virtual-hosted S3 Host names (the gateway
    rewrites such requests with ``to_path_style``); ``resource_id`` is the
    REST API id of an execute-api call or the url id of a function URL.
    """

    service: str
    bucket: str | None = None
    data_plane: bool = False
    resource_id: str | None = None


_S3: Final = Route("s3")
_DYNAMODB: Final = Route("dynamodb")
_LAMBDA: Final = Route("lambda")
_FUNCTION_URL: Final = Route("lambda", data_plane=True)
_LOGS: Final = Route("logs")
_APIGATEWAY: Final = Route("apigateway")
_EXECUTE_API: Final = Route("apigateway", data_plane=True)
_IAM: Final = Route("iam")
_STS: Final = Route("sts")


@attrs.frozen
class _Pattern:
    """
    A compiled pattern and the route it gives. Its named groups (``bucket``,
    ``resource_id``) are Route fields, filled in from the match; a pattern
    without groups gives its route as is, so the common case allocates nothing.
    """

    regex: re.Pattern[str]
    route: Route

    def match(self, text: str) -> Route | None:
        """The route for ``text``, or None if the pattern does not match it."""
        found = self.regex.match(text)
        if found is None:
            return None
        if not self.regex.groupindex:
            return self.route
        groups = found.groupdict()
        return Route(
            self.route.service,
            bucket=groups.get("bucket"),
            data_plane=self.route.data_plane,
            resource_id=groups.get("resource_id"),
        )


def _host(pattern: str, route: Route) -> _Pattern:
    """A pattern for the whole lowercased Host, which may end in a ``:port``."""
    return _Pattern(re.compile(rf"(?:{pattern})(?::[0-9]*)?\Z"), route)


def _path(pattern: str, route: Route) -> _Pattern:
    """
    A pattern for whole leading segments of the raw path: ``/restapis``
    owns ``/restapis`` and ``/restapis/x``, but not the bucket ``/restapis-old``.
    """
    return _Pattern(re.compile(rf"(?:{pattern})(?:/|\Z)"), route)


def _any_of(prefixes: Iterable[str]) -> str:
    """A regex alternation matching any of the literal ``prefixes``."""
    return "|".join(map(re.escape, prefixes))


def _first(patterns: Iterable[_Pattern], text: str) -> Route | None:
    """The route of the first of ``patterns`` that matches ``text``."""
    for pattern in patterns:
        route = pattern.match(text)
        if route is not None:
            return route
    return None


LAMBDA_PATH_PREFIXES: Final = (
    "/2014-11-13",
    "/2015-03-31",
    "/2016-08-19",
    "/2017-03-31",
    "/2017-10-31",
    "/2018-10-31/layers",
    "/2019-09-25",
    "/2019-09-30",
    "/2020-04-22",
    "/2020-06-30",
    "/2021-07-20",
    "/2021-10-31",
    "/2021-11-15",
    "/2024-08-31",
    "/2025-11-30",
    "/2025-12-01",
)
"""The leading path segments of Lambda's API: the API version dates of its operations."""

APIGATEWAY_PATH_PREFIXES: Final = (
    "/account",
    "/apikeys",
    "/clientcertificates",
    "/domainnameaccessassociations",
    "/domainnames",
    "/rejectdomainnameaccessassociations",
    "/restapis",
    "/sdktypes",
    "/tags",
    "/usageplans",
    "/vpclinks",
)
"""The leading path segments of API Gateway's (REST API, v1) control plane."""

STS_ACTIONS: Final = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "AssumeRoot",
        "DecodeAuthorizationMessage",
        "GetAccessKeyInfo",
        "GetCallerIdentity",
        "GetDelegatedAccessToken",
        "GetFederationToken",
        "GetSessionToken",
        "GetWebIdentityToken",
    }
)
"""STS's operations; every other query-protocol ``Action`` is IAM's."""

_HOSTS: Final = (
    _host(r"(?P<resource_id>[^.:]+)\.execute-api\..+", _EXECUTE_API),
    _host(
        r"(?P<resource_id>[^.:]+)\.lambda-url\.[^.:]+\.localhost(?:\.localstack\.cloud)?",
        _FUNCTION_URL,
    ),
    _host(r"s3\.localhost\.localstack\.cloud|s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com", _S3),
    _host(r"(?P<bucket>[^:]+)\.s3\.localhost\.localstack\.cloud", _S3),
    _host(r"(?P<bucket>[^:]+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com", _S3),
    _host(r"(?P<bucket>[^:]+)\.localhost", _S3),
)
"""
Service domains, most specific first: ``abc.execute-api.localhost`` is an
API and ``my.bucket.s3.localhost.localstack.cloud`` the bucket ``my.bucket``
before the catch-all ``<bucket>.localhost`` is tried.
"""

_TARGET_PREFIXES: Final[Mapping[str, Route]] = {
    "DynamoDB_20120810": _DYNAMODB,
    "DynamoDBStreams_20120810": _DYNAMODB,
    "Logs_20140328": _LOGS,
}
"""``X-Amz-Target`` prefixes; DynamoDB Streams is served by the DynamoDB service."""

_SIGNING_NAMES: Final[Mapping[str, Route]] = {
    "s3": _S3,
    "dynamodb": _DYNAMODB,
    "lambda": _LAMBDA,
    "logs": _LOGS,
    "apigateway": _APIGATEWAY,
    "execute-api": _EXECUTE_API,
    "iam": _IAM,
    "sts": _STS,
}
"""SigV4 signing names (the credential scope's service)."""

_EXECUTE_API_PATHS: Final = (
    _path(r"/restapis/(?P<resource_id>[^/]+)/[^/]+/_user_request_", _EXECUTE_API),
    _path(r"/_aws/execute-api/(?P<resource_id>[^/]+)/[^/]+", _EXECUTE_API),
)
"""Deployed API stages reached through the shared host: ``/<marker>/<api id>/<stage>/...``."""

_PATHS: Final = (
    *_EXECUTE_API_PATHS,
    _path(_any_of(LAMBDA_PATH_PREFIXES), _LAMBDA),
    _path(_any_of(APIGATEWAY_PATH_PREFIXES), _APIGATEWAY),
)
"""API paths; the execute-api ones come first since they live under ``/restapis`` too."""


def _by_host(request: HttpRequest) -> Route | None:
    """Rule 1: a bucket's, an API's or a function URL's own domain (DNS ignores case)."""
    return _first(_HOSTS, request.host.lower())


def _by_target(request: HttpRequest) -> Route | None:
    """Rule 2: ``X-Amz-Target: <prefix>.<operation>`` of a JSON-protocol service."""
    target = request.headers.get("x-amz-target")
    return None if target is None else _TARGET_PREFIXES.get(target.partition(".")[0])


def _by_scope(request: HttpRequest) -> Route | None:
    """Rule 3: the service the request was signed for."""
    scope = credential_scope(request)
    route = None if scope is None else _SIGNING_NAMES.get(scope.service)
    if route is _EXECUTE_API:
        # An IAM-authorised call of a deployed API on the shared host: the path names the API.
        return _first(_EXECUTE_API_PATHS, request.path) or route
    return route


def _by_path(request: HttpRequest) -> Route | None:
    """Rule 4: a path only one service's API uses (unsigned clients, curl)."""
    return _first(_PATHS, request.path)


def _by_action(request: HttpRequest) -> Route | None:
    """Rule 5: the query protocol's ``Action``, in the query string or a form body."""
    action = request.form().get("Action")
    if not action:
        return None
    return _STS if action in STS_ACTIONS else _IAM


_RULES: Final[tuple[Callable[[HttpRequest], Route | None], ...]] = (
    _by_host,
    _by_target,
    _by_scope,
    _by_path,
    _by_action,
)
"""The rules in the order they are tried (see the module docstring)."""


def route_request(request: HttpRequest) -> Route:
    """The service that owns ``request``: the first rule's answer, else path-style S3."""
    for rule in _RULES:
        route = rule(request)
        if route is not None:
            return route
    return _S3


def to_path_style(request: HttpRequest, bucket: str) -> HttpRequest:
    """
    ``request`` (to a virtual-hosted bucket) as the path-style request S3's
    URI templates expect: ``/<bucket>`` then the raw path untouched, since
    keys may hold ``%2F``, ``//`` and a trailing ``/``. Bucket names are
    DNS-safe, so the bucket needs no encoding. Headers and body are shared.
    """
    path = request.path
    return attrs.evolve(request, path=f"/{bucket}" if path == "/" else f"/{bucket}{path}")
