"""
Which service owns a request: the routing table of the one port.

Every service shares the port, so a request is given to a service by the
surest sign it carries, in this order (``_RULES``):

1. its Host, when that is a bucket's (or its website's), an API's or a
   function URL's own domain (the client chose the endpoint, so nothing
   else can overrule it), or any service's
   ``<endpoint prefix>.<region>.amazonaws.com``;
2. ``X-Amz-Target``, which names the JSON-protocol service outright;
3. the SigV4 credential scope, which names the service the client signed for;
4. a path prefix only one service's API uses;
5. the query protocol's ``Action`` (IAM and STS, which share one shape);
6. otherwise S3, because any other path can be a path-style bucket.

What these signs are for the services awsemu serves is read from the
botocore models in use, never listed by hand. Rules 1 to 3 also know every
other service botocore has (``awsemu.protocol.catalog``): a request for
SQS or KMS is routed to ``Route("sqs")``, a service the gateway answers
with "not emulated" in that service's own protocol.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Final

import attrs

from awsemu.gateway.context import credential_scope
from awsemu.protocol.catalog import ServiceInfo, catalog, leading_segments, service_info
from awsemu.protocol.http import REMEMBERED_LENGTH, HttpRequest
from awsemu.services import SERVICE_MODELS


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
    """
    The awsemu service (``SERVICE_MODELS``), or botocore's name of a service
    awsemu does not emulate.
    """
    bucket: str | None = None
    data_plane: bool = False
    resource_id: str | None = None


_S3: Final = Route("s3")
_S3_WEBSITE: Final = Route("s3", data_plane=True)
_FUNCTION_URL: Final = Route("lambda", data_plane=True)
_EXECUTE_API: Final = Route("apigateway", data_plane=True)
_IAM: Final = Route("iam")


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


_HOSTS: Final = (
    _host(r"(?P<resource_id>[^.:]+)\.execute-api\..+", _EXECUTE_API),
    _host(
        r"(?P<resource_id>[^.:]+)\.lambda-url\.[^.:]+\.localhost(?:\.localstack\.cloud)?",
        _FUNCTION_URL,
    ),
    _host(
        r"(?P<resource_id>[^:]+)\.s3-website(?:[.-][a-z0-9-]+\.amazonaws\.com"
        r"|\.localhost\.localstack\.cloud)",
        _S3_WEBSITE,
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

_AWS_HOST: Final = re.compile(r"([a-z0-9-]+)(?:\.[a-z0-9-]+)?\.amazonaws\.com(?::[0-9]*)?\Z")
"""A service's own AWS domain, ``<endpoint prefix>[.<region>].amazonaws.com``."""

_EXECUTE_API_PATHS: Final = (
    _path(r"/restapis/(?P<resource_id>[^/]+)/[^/]+/_user_request_", _EXECUTE_API),
    _path(r"/_aws/execute-api/(?P<resource_id>[^/]+)/[^/]+", _EXECUTE_API),
)
"""Deployed API stages reached through the shared host: ``/<marker>/<api id>/<stage>/...``."""

_WEBSITE_PATH: Final = _path(r"/_aws/s3-website/(?P<resource_id>[^/]+)", _S3_WEBSITE)
"""A bucket's website reached through the shared host: ``/_aws/s3-website/<bucket>/<key>``."""

_QUERY_DEFAULT: Final = _IAM
"""
The service of a query-protocol ``Action`` no served model has: IAM,
which answers ``InvalidAction`` in the query protocol's shape.
"""


@attrs.frozen
class _Served:
    """
    What the requests of the services awsemu serves carry, read from the
    botocore models in use (``SERVICE_MODELS``), so that an operation a newer
    botocore adds reaches its service, which answers ``NotImplemented``
    until it is built. Each fact is read when a rule first needs it: the
    models' metadata cost next to nothing, whole models are loaded only for
    the rules that look at operations (unsigned requests, mostly).
    """

    service_models: Mapping[str, tuple[str, ...]]

    def _infos(self) -> Iterator[tuple[Route, ServiceInfo]]:
        for service, names in self.service_models.items():
            for name in names:
                yield Route(service), service_info(name)

    @functools.cached_property
    def target_prefixes(self) -> Mapping[str, Route]:
        """``X-Amz-Target`` prefix → route (JSON-protocol models)."""
        return {info.target_prefix: route for route, info in self._infos() if info.target_prefix}

    @functools.cached_property
    def signing_names(self) -> Mapping[str, Route]:
        """SigV4 signing name → route; ``execute-api`` is the API Gateway data plane."""
        found = {"execute-api": _EXECUTE_API}
        for route, info in self._infos():
            found.setdefault(info.signing_name, route)
        return found

    @functools.cached_property
    def rest_json(self) -> Mapping[str, tuple[Route, ServiceInfo]]:
        """The REST-JSON models by signing name: their leading path segments are theirs."""
        return {
            info.signing_name: (route, info)
            for route, info in self._infos()
            if info.protocols[0] == "rest-json"
        }

    @functools.cached_property
    def paths(self) -> tuple[_Pattern, ...]:
        """
        The deployed-API and website paths, then each REST-JSON service's
        leading path segments.
        """
        return (
            *_EXECUTE_API_PATHS,
            _WEBSITE_PATH,
            *(
                _path(f"/(?:{_any_of(sorted(leading_segments(info.name)))})", route)
                for route, info in self.rest_json.values()
            ),
        )

    @functools.cached_property
    def actions(self) -> Mapping[str, Route]:
        """Query-protocol ``Action`` → route."""
        from awsemu.protocol.model import load_service_model

        return {
            action: route
            for route, info in self._infos()
            if info.protocols[0] == "query"
            for action in load_service_model(info.name).operation_names
        }


_SERVED: Final = _Served(SERVICE_MODELS)


def _foreign(service: ServiceInfo) -> Route:
    """The route of a service awsemu does not emulate (``Route.service`` is botocore's name)."""
    return Route(service.name)


def _by_host(request: HttpRequest) -> Route | None:
    """
    Rule 1: a bucket's, an API's or a function URL's own domain, else any
    service's own AWS domain (DNS ignores case).
    """
    host = request.host.lower()
    return _remembered_host_route(host) if len(host) <= REMEMBERED_LENGTH else _host_route(host)


def _host_route(host: str) -> Route | None:
    """L{_by_host}'s answer for a lowercased ``Host``."""
    route = _first(_HOSTS, host)
    if route is not None:
        return route
    found = _AWS_HOST.match(host)
    if found is None:
        return None
    service = catalog().by_endpoint_prefix.get(found.group(1))
    return None if service is None else _served_or_foreign(service)


_remembered_host_route = functools.lru_cache(maxsize=256)(_host_route)
"""L{_host_route}, remembered: clients send the same ``Host`` every time."""


def _by_target(request: HttpRequest) -> Route | None:
    """Rule 2: ``X-Amz-Target: <prefix>.<operation>`` of a JSON-protocol service."""
    target = request.headers.get("x-amz-target")
    if target is None:
        return None
    prefix = target.rpartition(".")[0]
    route = _SERVED.target_prefixes.get(prefix)
    if route is not None:
        return route
    service = catalog().by_target_prefix.get(prefix)
    return None if service is None else _foreign(service)


def _by_scope(request: HttpRequest) -> Route | None:
    """
    Rule 3: the service the request was signed for. Some services share a
    signing name (``apigateway`` is also API Gateway v2's, ``s3`` S3
    Control's): a path the served service's API never uses, whose first
    segment another service of that name's does, is that other service's.
    """
    scope = credential_scope(request)
    if scope is None:
        return None
    served = _SERVED
    route = served.signing_names.get(scope.service)
    if route is _EXECUTE_API:
        # An IAM-authorised call of a deployed API on the shared host: the path names the API.
        return _first(_EXECUTE_API_PATHS, request.path) or route
    if route is None:
        services = catalog().by_signing_name.get(scope.service)
        return None if not services else _foreign(services[0])
    rest_json = served.rest_json.get(scope.service)
    segment = request.path[1:].partition("/")[0]
    if rest_json is None or not segment or segment in leading_segments(rest_json[1].name):
        return route
    for service in catalog().by_signing_name[scope.service]:
        if service.protocols[0].startswith("rest-") and segment in leading_segments(service.name):
            return _served_or_foreign(service)
    return route


def _by_path(request: HttpRequest) -> Route | None:
    """Rule 4: a path only one service's API uses (unsigned clients, curl)."""
    return _first(_SERVED.paths, request.path)


def _by_action(request: HttpRequest) -> Route | None:
    """Rule 5: the query protocol's ``Action``, in the query string or a form body."""
    action = request.form().get("Action")
    if not action:
        return None
    return _SERVED.actions.get(action, _QUERY_DEFAULT)


def _served_or_foreign(service: ServiceInfo) -> Route:
    """The route of the awsemu service serving ``service``'s model, or its foreign route."""
    for name, models in SERVICE_MODELS.items():
        if service.name in models:
            return Route(name)
    return _foreign(service)


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
