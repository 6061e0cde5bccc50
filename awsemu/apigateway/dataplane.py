"""
Calls of deployed stages (the data plane): find the stage and the
method, run its authorizer, check its API key, then its integration — a
Lambda function (``AWS_PROXY``, or ``AWS`` behind mapping templates), an
HTTP endpoint (``HTTP_PROXY``, or ``HTTP`` behind mapping templates) or
the integration's own answer (``MOCK``) — and answer as API Gateway
does, errors included, as the API's gateway responses customise them.

An unknown API or stage is answered 403 ``{"message":"Forbidden"}``, which
is what AWS answers for a stage its API does not have (an unknown API id
has no DNS name there at all); an unknown path or method is 403
``Missing Authentication Token``.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Coroutine
from typing import Any, Final, Protocol, TypeVar
from urllib.parse import quote, urlencode

import attrs
from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from awsemu.apigateway import authorizers, responses
from awsemu.apigateway.api import DEFAULT_AUTHORIZER_TTL, DEFAULT_TIMEOUT_MS
from awsemu.apigateway.errors import CallFailed
from awsemu.apigateway.integrations import (
    Mapper,
    http_target,
    invocation_type,
    lambda_selector,
    mock_selector,
    respond,
    select_response,
)
from awsemu.apigateway.lambdas import Functions, Invoked, function_arn
from awsemu.apigateway.matching import Match, match
from awsemu.apigateway.metering import Meter
from awsemu.apigateway.proxy import Call, MalformedResponse, json_response, proxy_response
from awsemu.apigateway.store import ApiGatewayStore, DeployedStage, Record
from awsemu.gateway.context import Random, RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse

T = TypeVar("T")

FAILURES: Final = {
    "forbidden": responses.Failure(
        "MISSING_AUTHENTICATION_TOKEN", 403, "Forbidden", "ForbiddenException"
    ),
    "missing_token": responses.Failure(
        "MISSING_AUTHENTICATION_TOKEN",
        403,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    ),
    "unauthorized": responses.Failure("UNAUTHORIZED", 401, "Unauthorized", "UnauthorizedException"),
    "denied": responses.Failure(
        "ACCESS_DENIED",
        403,
        "User is not authorized to access this resource",
        "AccessDeniedException",
        "Message",
    ),
    "explicitly_denied": responses.Failure(
        "ACCESS_DENIED",
        403,
        "User is not authorized to access this resource with an explicit deny",
        "AccessDeniedException",
        "Message",
    ),
    "authorizer_failed": responses.Failure(
        "AUTHORIZER_CONFIGURATION_ERROR", 500, None, "AuthorizerConfigurationException"
    ),
    "invalid_api_key": responses.Failure("INVALID_API_KEY", 403, "Forbidden", "ForbiddenException"),
    "throttled": responses.Failure(
        "THROTTLED", 429, "Too Many Requests", "TooManyRequestsException"
    ),
    "quota_exceeded": responses.Failure(
        "QUOTA_EXCEEDED", 429, "Limit Exceeded", "LimitExceededException"
    ),
    "unsupported_media_type": responses.Failure(
        "UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported Media Type", "UnsupportedMediaTypeException"
    ),
    "configuration": responses.Failure(
        "API_CONFIGURATION_ERROR", 500, "Internal server error", "InternalServerErrorException"
    ),
    "bad_gateway": responses.Failure(
        "DEFAULT_5XX", 502, "Internal server error", "InternalServerErrorException"
    ),
    "timeout": responses.Failure(
        "INTEGRATION_TIMEOUT", 504, "Endpoint request timed out", "InternalServerErrorException"
    ),
}
"""
API Gateway's own answers, with their bodies and ``x-amzn-ErrorType``
exactly as AWS's, and the gateway response type that customises each (a
Lambda proxy's malformed answer has none of its own: ``DEFAULT_5XX``).
"""


def error(kind: str) -> HttpResponse:
    """An error answer as AWS gives it when the API has not customised it."""
    failure = FAILURES[kind]
    return json_response(
        failure.status, failure.document(), [("x-amzn-ErrorType", failure.error_type)]
    )


class Forwarder(Protocol):
    """Sends a request to an HTTP endpoint (``HTTP``, ``HTTP_PROXY``) and returns its answer."""

    async def forward(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpResponse: ...


def _split(request: HttpRequest, api_id: str) -> tuple[str, str] | None:
    """
    The stage and the path within it, for each way of calling an API:
    ``/restapis/<api>/<stage>/_user_request_/<path>``,
    ``/_aws/execute-api/<api>/<stage>/<path>``, or ``/<stage>/<path>`` on
    the API's own host.
    """
    path = request.path
    if ".execute-api." in request.host.lower():
        prefix = ""
    elif path.startswith(f"/restapis/{api_id}/"):
        prefix = f"/restapis/{api_id}"
    else:
        prefix = f"/_aws/execute-api/{api_id}"
    stage, _, rest = path[len(prefix) + 1 :].partition("/")
    if prefix.startswith("/restapis"):
        marker, _, rest = rest.partition("/")
        if marker != "_user_request_":
            return None
    return (stage, "/" + rest) if stage else None


async def within(work: Coroutine[Any, Any, T], seconds: float, clock: IReactorTime) -> T:
    """
    ``work``'s result, or ``TimeoutError`` after ``seconds``; the work
    itself is not cancelled (a function keeps running in AWS too).
    """
    answer: Deferred[T] = Deferred()

    def settle(result: T | Failure) -> None:
        if answer.called:
            return
        if isinstance(result, Failure):
            answer.errback(result)
        else:
            answer.callback(result)

    Deferred.fromCoroutine(work).addBoth(settle)
    answer.addTimeout(seconds, clock)
    return await answer


_CacheKey = tuple[str, str, str, tuple[str, ...]]
"""An authorizer's cached answers are keyed by API, stage, authorizer and identity."""


@attrs.frozen
class _Authorized:
    """An authorizer's answer, and when it expires."""

    expires: float
    invoked: Invoked
    latency_ms: int


@attrs.define
class DataPlane:
    """
    See the module docstring. ``functions`` is None when Lambda is not
    served; ``forwarder`` sends ``HTTP``/``HTTP_PROXY`` calls; ``clock``
    gives ``requestTime``, times integrations and meters API keys;
    ``random`` makes ``x-amz-apigw-id`` and trace ids.
    """

    store: ApiGatewayStore
    functions: Functions | None
    forwarder: Forwarder
    clock: IReactorTime
    random: Random
    meter: Meter = attrs.field(factory=Meter)
    _authorized: dict[_CacheKey, _Authorized] = attrs.field(factory=dict, init=False)
    _log: Logger = attrs.field(factory=Logger, init=False)

    async def handle(
        self, context: RequestContext, request: HttpRequest, api_id: str
    ) -> HttpResponse:
        extended_id = b64encode(self.random(10)).decode("ascii")
        response = await self._answer(context, request, api_id, extended_id)
        response.headers += [
            ("x-amzn-RequestId", context.request_id),
            ("x-amz-apigw-id", extended_id),
        ]
        return response

    async def _answer(
        self, context: RequestContext, request: HttpRequest, api_id: str, extended_id: str
    ) -> HttpResponse:
        found = _split(request, api_id)
        deployed = None if found is None else self.store.deployed_stage(api_id, found[0])
        if found is None or deployed is None:
            return error("forbidden")
        now = self.clock.seconds()
        call = Call(
            request,
            deployed,
            found[1],
            request.host,
            context.request_id,
            extended_id,
            now,
            f"Root=1-{int(now):08x}-{self.random(12).hex()}",
        )
        matched = match(deployed.resources.values(), request.method, call.path)
        try:
            if matched is None:
                raise CallFailed("missing_token")
            return await self._serve(context, call, matched)
        except CallFailed as failed:
            return self._failure(call, matched, failed.kind)

    def _failure(self, call: Call, matched: Match | None, kind: str) -> HttpResponse:
        """The error ``kind``, as the API's customised gateway responses say."""
        gateway_responses = call.deployed.gateway_responses
        failure = FAILURES[kind]
        if not gateway_responses:
            return error(kind)
        empty = Match({"id": None, "path": call.path}, {}, {})
        mapper = Mapper(call, matched or empty, call.request_context(matched or empty, None))
        return responses.answer(
            failure, gateway_responses, mapper.context, mapper.value_of, mapper.stage_variables
        )

    async def _serve(self, context: RequestContext, call: Call, matched: Match) -> HttpResponse:
        """A call that reached a method: its throttle, authorizer, key, then its integration."""
        self.meter.check_stage(
            call.deployed,
            matched.resource["path"],
            matched.method["httpMethod"],
            self.clock.seconds(),
        )
        authorizer: Record | None = None
        usage_key: str | None = None
        if matched.method.get("authorizationType") == "CUSTOM":
            authorizer_id = matched.method.get("authorizerId", "")
            try:
                authorizer, usage_key = await self._authorize(
                    context, call, matched, call.deployed.authorizers[authorizer_id]
                )
            except authorizers.Unauthorized:
                raise CallFailed("unauthorized") from None
            except authorizers.Denied as denied:
                raise CallFailed("explicitly_denied" if denied.explicit else "denied") from None
            except (authorizers.AuthorizerFailed, ServiceError, KeyError):
                raise CallFailed("authorizer_failed") from None
        if matched.method.get("apiKeyRequired"):
            call = self._check_key(call, matched, usage_key)
        integration: Record | None = matched.method.get("methodIntegration")
        if integration is None:
            raise CallFailed("configuration")
        timeout = integration.get("timeoutInMillis", DEFAULT_TIMEOUT_MS) / 1000
        try:
            return await within(
                self._integrate(context, call, matched, integration, authorizer),
                timeout,
                self.clock,
            )
        except TimeoutError:
            raise CallFailed("timeout") from None

    def _check_key(self, call: Call, matched: Match, usage_key: str | None) -> Call:
        """
        The call with the API key it used (``usage_key``: the authorizer's
        ``usageIdentifierKey``); raises ``CallFailed`` when the key may not.
        """
        if call.deployed.api.get("apiKeySource") == "AUTHORIZER":
            value = usage_key
        else:
            value = call.request.headers.get("x-api-key")
        method_key = f"{matched.resource['path']}/{matched.method['httpMethod']}"
        used = self.meter.check(call.deployed, method_key, value, self.clock.seconds())
        return attrs.evolve(call, api_key=used)

    async def _invoke(
        self,
        context: RequestContext,
        deployed: DeployedStage,
        uri: str,
        payload: bytes,
        asynchronous: bool = False,
    ) -> Invoked:
        """Invoke the function ``uri`` names; raises ``ServiceError`` as Invoke does."""
        arn = function_arn(uri, deployed.stage.get("variables") or {})
        if arn is None or self.functions is None:
            raise ServiceError("ResourceNotFoundException", f"No function for {uri}", 404)
        return await self.functions.invoke(context, arn, payload, asynchronous)

    async def _authorize(
        self, context: RequestContext, call: Call, matched: Match, authorizer: Record
    ) -> tuple[Record, str | None]:
        """
        ``requestContext.authorizer`` and the ``usageIdentifierKey`` the
        authorizer answered, if it allows the call. Its
        answers are cached per identity for ``authorizerResultTtlInSeconds``
        (AWS's default 300; 0: not cached) and, as in AWS, a cached policy
        is checked against each new call's method ARN.
        """
        identity = authorizers.identity(call, authorizer)
        key = (call.deployed.api["id"], call.stage_name, authorizer["id"], identity)
        now = self.clock.seconds()
        cached = self._authorized.get(key)
        if cached is None or cached.expires <= now:
            event = authorizers.event(call, matched, authorizer, identity)
            invoked = await self._invoke(context, call.deployed, authorizer["authorizerUri"], event)
            latency = int((self.clock.seconds() - now) * 1000)
            ttl = authorizer.get("authorizerResultTtlInSeconds", DEFAULT_AUTHORIZER_TTL)
            cached = _Authorized(now + ttl, invoked, latency)
            if ttl > 0 and identity and invoked.function_error is None:
                self._remember(key, cached, now)
        verdict = authorizers.verdict(
            cached.invoked.payload,
            cached.invoked.function_error,
            authorizers.method_arn(call, matched),
            cached.latency_ms,
        )
        return verdict, authorizers.usage_key(cached.invoked.payload)

    def _remember(self, key: _CacheKey, answer: _Authorized, now: float) -> None:
        """Cache an authorizer's answer, forgetting the expired ones."""
        for stale in [k for k, v in self._authorized.items() if v.expires <= now]:
            del self._authorized[stale]
        self._authorized[key] = answer

    async def _integrate(
        self,
        context: RequestContext,
        call: Call,
        matched: Match,
        integration: Record,
        authorizer: Record | None,
    ) -> HttpResponse:
        kind = integration.get("type")
        if kind == "AWS_PROXY":
            return await self._lambda_proxy(context, call, matched, integration, authorizer)
        if kind == "HTTP_PROXY":
            return await self._http_proxy(call, matched, integration)
        mapper = Mapper(call, matched, call.request_context(matched, authorizer))
        if kind == "MOCK":
            rendered, _ = mapper.request_body(integration)
            chosen = select_response(integration, mock_selector(rendered))
            return respond(mapper, chosen, b"", {})
        if kind == "HTTP":
            return await self._http(mapper, integration)
        if kind == "AWS" and function_arn(integration.get("uri", ""), mapper.stage_variables):
            return await self._lambda(context, mapper, integration)
        self._log.warn("Integrations of type {kind} are not served", kind=kind)
        raise CallFailed("configuration")

    async def _lambda(
        self, context: RequestContext, mapper: Mapper, integration: Record
    ) -> HttpResponse:
        """
        A Lambda function behind mapping templates (``AWS``, non-proxy);
        invoked asynchronously when the integration maps
        ``X-Amz-Invocation-Type`` to ``'Event'``, as AWS documents.
        """
        body, _ = mapper.request_body(integration)
        asynchronous = invocation_type(mapper, integration) == "Event"
        try:
            invoked = await self._invoke(
                context,
                mapper.call.deployed,
                integration["uri"],
                body.encode() or b"{}",
                asynchronous,
            )
        except ServiceError as e:
            self._log.warn("The integration cannot invoke its function: {error}", error=e)
            raise CallFailed("configuration") from None
        chosen = select_response(
            integration, lambda_selector(invoked.payload, invoked.function_error)
        )
        return respond(mapper, chosen, invoked.payload, {"Content-Type": "application/json"})

    async def _http(self, mapper: Mapper, integration: Record) -> HttpResponse:
        """An HTTP endpoint behind mapping templates (``HTTP``, non-proxy)."""
        body, media_type = mapper.request_body(integration)
        url, headers = http_target(mapper, integration)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", media_type))
        method = integration.get("httpMethod", "ANY")
        try:
            answer = await self.forwarder.forward(
                mapper.call.request.method if method == "ANY" else method,
                url,
                headers,
                body.encode("utf-8"),
            )
        except Exception:
            self._log.failure("HTTP integration to {url} failed", url=url)
            raise CallFailed("configuration") from None
        chosen = select_response(integration, str(answer.status))
        raw = answer.body if isinstance(answer.body, bytes) else answer.body.read()
        return respond(mapper, chosen, raw, dict(answer.headers))

    async def _lambda_proxy(
        self,
        context: RequestContext,
        call: Call,
        matched: Match,
        integration: Record,
        authorizer: Record | None,
    ) -> HttpResponse:
        try:
            invoked = await self._invoke(
                context, call.deployed, integration["uri"], call.event(matched, authorizer)
            )
        except ServiceError as e:
            self._log.warn("The integration cannot invoke its function: {error}", error=e)
            raise CallFailed("configuration") from None
        if invoked.function_error is not None:
            raise CallFailed("bad_gateway")
        try:
            return proxy_response(invoked.payload)
        except MalformedResponse:
            self._log.warn("Malformed Lambda proxy response: {payload!r}", payload=invoked.payload)
            raise CallFailed("bad_gateway") from None

    async def _http_proxy(self, call: Call, matched: Match, integration: Record) -> HttpResponse:
        url = _target_url(integration, matched, call)
        method = integration.get("httpMethod", "ANY")
        request = call.request
        headers = [
            (name, value) for name, value in request.headers.as_sent() if name.lower() != "host"
        ]
        try:
            return await self.forwarder.forward(
                request.method if method == "ANY" else method, url, headers, request.read_body()
            )
        except Exception:
            self._log.failure("HTTP_PROXY to {url} failed", url=url)
            raise CallFailed("bad_gateway") from None


def _target_url(integration: Record, matched: Match, call: Call) -> str:
    """
    The endpoint an ``HTTP_PROXY`` call goes to: the URI with its
    ``{name}`` filled in from the method's path parameters (as the
    ``integration.request.path.*`` mappings say, else by the same name),
    and the call's query string.
    """
    mapped = {
        target.removeprefix("integration.request.path."): source
        for target, source in (integration.get("requestParameters") or {}).items()
        if target.startswith("integration.request.path.")
    }
    url: str = integration["uri"]
    for name, value in matched.path_parameters.items():
        url = url.replace(f"{{{name}}}", quote(value, safe="/"))
    for name, source in mapped.items():
        parameter = source.removeprefix("method.request.path.")
        value = matched.path_parameters.get(parameter, "")
        url = url.replace(f"{{{name}}}", quote(value, safe="/"))
    query = urlencode(call.request.query)
    return f"{url}?{query}" if query else url
