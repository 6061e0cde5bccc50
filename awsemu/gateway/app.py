"""
The one port: the daemon's own endpoints (health) in a Klein application,
and every AWS request handed to the service the routing table picks, with
one log line per request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, ClassVar

import attrs
from klein import Klein
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger, LogLevel
from twisted.protocols.basic import FileSender
from twisted.python.failure import Failure
from twisted.web.http_headers import Headers as TwistedHeaders
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET, Request

from awsemu import __version__
from awsemu.auth.verify import Authenticate, accept_all
from awsemu.dashboard.recent import RecentRequests
from awsemu.gateway.context import (
    DEFAULT_ACCOUNT_ID,
    AccountForKey,
    PooledRandom,
    Random,
    RequestContext,
    new_context,
    no_known_keys,
)
from awsemu.gateway.routing import Route, route_request, to_path_style
from awsemu.gateway.services import (
    DataPlaneBackend,
    FastPath,
    HeadCheckingBackend,
    ServiceBackend,
    StatefulBackend,
)
from awsemu.logobserver import REQUEST_FORMAT
from awsemu.protocol.catalog import catalog
from awsemu.protocol.codec import codec_for, service_error_response
from awsemu.protocol.errors import ServiceError, internal_failure
from awsemu.protocol.http import Headers, HttpRequest, HttpResponse, wire_bytes, wire_text
from awsemu.reply import Passing, Reply
from awsemu.services import SERVICE_MODELS


def http_request(request: IRequest) -> HttpRequest:
    """
    The protocol layer's view of a ``twisted.web`` request: with its headers
    as sent if the gateway's site read it (L{GatewayRequest.sent_headers}),
    as Twisted spells them if another did (treq's C{StubTreq} in tests).
    """
    sent = (
        request.sent_headers
        if isinstance(request, GatewayRequest)
        else [
            (name, value)
            for name, values in request.requestHeaders.getAllRawHeaders()
            for value in values
        ]
    )
    headers = Headers((wire_text(name), wire_text(value)) for name, value in sent)
    body: BinaryIO = request.content
    body.seek(0)
    client = request.getClientAddress()
    return HttpRequest.from_uri(
        wire_text(request.method),
        wire_text(request.uri),
        headers,
        body,
        host=headers.get("host") or "",
        remote=getattr(client, "host", ""),
    )


def _json(request: IRequest, status: int, document: object) -> bytes:
    """``document`` as the JSON answer to one of the daemon's own endpoints."""
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json")
    return json.dumps(document).encode()


def _after(path: str, resource_id: str) -> str:
    """
    A data-plane path without the prefix naming its resource: the stage
    and path of ``/restapis/<id>/<stage>/_user_request_/<path>`` or
    ``/_aws/execute-api/<id>/<stage>/<path>``; a host-addressed path whole.
    """
    before, found, after = path.partition(resource_id)
    rest = after if found and resource_id else path
    return rest.replace("/_user_request_", "", 1).lstrip("/")


class SpelledHeaders(TwistedHeaders):
    """
    Response headers written with each name spelled as the service gave it.
    Twisted writes ``Header-Case``, but AWS sends user metadata names as
    they were stored (``x-amz-meta-color``) and botocore keeps the case it
    receives, so ``Metadata`` would come back as ``{"Color": ...}``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._spellings: dict[bytes, bytes] = {}

    def addRawHeader(self, name: str | bytes, value: str | bytes) -> None:
        super().addRawHeader(name, value)
        spelled = name.encode("iso-8859-1") if isinstance(name, str) else name
        self._spellings[spelled.lower()] = spelled

    def getAllRawHeaders(self) -> Iterator[tuple[bytes, Sequence[bytes]]]:
        for name, values in super().getAllRawHeaders():
            yield self._spellings.get(name.lower(), name), values


class GatewayRequest(Request):
    """
    The requests the gateway serves: request and response headers keep
    their spelling, and no ``Content-Type`` is made up for a response
    that has none (Twisted's default is ``text/html``; AWS sends none).
    """

    defaultContentType = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responseHeaders = SpelledHeaders()
        self.sent_headers: list[tuple[bytes, bytes]] = []
        """
        The request's headers in order, each name spelled as sent, as the
        gateway's own server reads them (its channel records them):
        ``requestHeaders`` has every name in ``Header-Case`` and repeated
        names merged, but API Gateway passes header names on as sent.
        """


#: Paths of the daemon's own endpoints, which the Klein application serves.
INTERNAL_PREFIXES = (b"/_awsemu/", b"/_localstack/")


class GatewayResource(Resource):
    """
    The root resource. AWS requests go straight to the gateway's dispatcher:
    matching them against Klein's (werkzeug's) URL map would cost about
    75 µs of the ~300 µs a small S3 GET may take, for a route that always
    matches. The daemon's own endpoints go through the Klein application,
    which can route everything by itself too.
    """

    isLeaf = True

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self._gateway = gateway
        self._klein: IResource = gateway.app.resource()

    def render(self, request: Request) -> int | bytes:
        if request.path.startswith(INTERNAL_PREFIXES):
            result: int | bytes = self._klein.render(request)
            return result
        connection_lost: list[object] = []
        request.notifyFinish().addErrback(connection_lost.append)

        def finish(_: None) -> None:
            if not connection_lost:
                request.finish()

        def abort(failure: Failure) -> None:
            # Only writing the response can fail here; the client gets no
            # half-written answer, the daemon keeps serving.
            self._gateway.log.failure("Writing a response failed", failure)
            if not connection_lost:
                request.loseConnection()

        self._gateway.dispatch(request).addCallbacks(finish, abort)
        return NOT_DONE_YET


@attrs.define(slots=False)
class Gateway:
    """
    The one Klein application every request enters through.

    ``backends`` are the enabled services by routing name. ``clock`` times
    requests for the log; ``random`` makes request ids; ``account_for_key``
    finds the account of access keys awsemu knows. ``authenticate`` checks
    the signature of every call of an AWS API but S3's (which checks its
    own); an unsigned S3 request belongs to ``unsigned_s3_account``.
    ``settings`` are the daemon's options, as the info endpoint shows them.
    """

    backends: Mapping[str, ServiceBackend]
    region: str
    clock: IReactorTime
    random: Random = attrs.field(factory=PooledRandom)
    account_for_key: AccountForKey = no_known_keys
    authenticate: Authenticate = accept_all
    unsigned_s3_account: str = DEFAULT_ACCOUNT_ID
    settings: Mapping[str, object] = attrs.field(factory=dict)
    init_state: Callable[[], object] | None = None
    """The init hooks' state, for the health document, when there are hooks."""
    started: float = attrs.field(
        init=False, default=attrs.Factory(lambda self: self.clock.seconds(), takes_self=True)
    )
    recent: RecentRequests = attrs.field(factory=RecentRequests)
    """The last requests answered, which the dashboard shows."""
    _dashboard: IResource | None = attrs.field(default=None, init=False)
    _request_log: Logger = attrs.field(
        init=False, default=attrs.Factory(lambda self: self.log, takes_self=True)
    )
    """``log`` bound to this gateway, once, for the line of every request."""
    _head_checking: Mapping[str, HeadCheckingBackend] = attrs.field(
        init=False,
        default=attrs.Factory(
            lambda self: {
                name: backend
                for name, backend in self.backends.items()
                if isinstance(backend, HeadCheckingBackend)
            },
            takes_self=True,
        ),
    )
    """
    The ``backends`` that check heads, found once: ``isinstance`` against
    a runtime-checkable protocol costs tens of µs, on every
    ``Expect: 100-continue`` upload.
    """
    _checked: tuple[HttpRequest, Route] | None = attrs.field(default=None, init=False)
    """
    The last head ``refuse_head`` let through, with its route: ``respond``
    takes the route from here once that request's body has arrived, rather
    than routing it again (a request whose head was checked before
    another's is routed anew). Only a head is kept: ``respond`` lets go of
    the request before its body is read.
    """
    _fast_paths: Mapping[str, FastPath] = attrs.field(
        init=False,
        default=attrs.Factory(
            lambda self: {
                name: backend.fast_path
                for name, backend in self.backends.items()
                if getattr(backend, "fast_path", None) is not None
            },
            takes_self=True,
        ),
    )
    """The backends' fast paths (``FastPath``), found once."""
    app: ClassVar[Klein] = Klein()
    log: ClassVar[Logger] = Logger()

    @app.route("/_awsemu/health", methods=["GET", "HEAD"])
    @app.route("/_localstack/health", methods=["GET", "HEAD"])
    def health(self, request: IRequest) -> bytes:
        """Each enabled service's state, in the document LocalStack's tools wait on."""
        services: dict[str, str] = {}
        reasons: dict[str, str] = {}
        details: dict[str, object] = {}
        for name, backend in sorted(self.backends.items()):
            state = backend.state()
            services[name] = state.status
            if state.reason is not None:
                reasons[name] = state.reason
            found = getattr(backend, "details", None)
            if found is not None:
                details[name] = found()
        document: dict[str, Any] = {
            "services": services,
            "edition": "awsemu",
            "version": __version__,
        }
        if reasons:
            document["reasons"] = reasons
        if details:
            document["details"] = details
        if self.init_state is not None:
            document["init"] = self.init_state()
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps(document).encode()

    @app.route("/_awsemu/", branch=True)
    def dashboard(self, request: IRequest) -> IResource:
        """The dashboard (``awsemu.dashboard``), imported on its first page."""
        if self._dashboard is None:
            from awsemu.dashboard import dashboard_resource

            self._dashboard = dashboard_resource(self)
        return self._dashboard

    @app.route("/_awsemu/info", methods=["GET", "HEAD"])
    @app.route("/_localstack/info", methods=["GET", "HEAD"])
    def info(self, request: IRequest) -> bytes:
        """The version, uptime, settings and services of this daemon."""
        document = {
            "edition": "awsemu",
            "version": __version__,
            "uptime": round(self.clock.seconds() - self.started, 3),
            "config": self.settings,
            "services": {name: b.state().status for name, b in sorted(self.backends.items())},
        }
        return _json(request, 200, document)

    @app.route("/_awsemu/reset", methods=["POST"])
    @app.route("/_localstack/state/reset", methods=["POST"])
    def reset(self, request: IRequest) -> Deferred[bytes]:
        """
        Forget the state of every service, or of those ``?service=`` names
        (repeated, or comma-separated), without a restart: buckets, tables,
        functions (with their running environments), APIs, log groups, IAM.
        """
        return Deferred.fromCoroutine(self._reset(request))

    async def _reset(self, request: IRequest) -> bytes:
        chosen = self._chosen_services(request)
        if isinstance(chosen, bytes):
            return chosen
        started = self.clock.seconds()
        for backend in chosen.values():
            await backend.reset()
        self.log.info("State reset: {services}", services=", ".join(chosen) or "none")
        elapsed = round(self.clock.seconds() - started, 3)
        return _json(request, 200, {"reset": list(chosen), "seconds": elapsed})

    @app.route("/_awsemu/state", methods=["GET"])
    def state(self, request: IRequest) -> Deferred[bytes]:
        """
        Every resource held, by account, region, service and kind
        (``?service=`` narrows it as for a reset).
        """
        return Deferred.fromCoroutine(self._state(request))

    async def _state(self, request: IRequest) -> bytes:
        chosen = self._chosen_services(request)
        if isinstance(chosen, bytes):
            return chosen
        accounts: dict[str, Any] = {}
        for name, backend in chosen.items():
            for account, region, kind, resource in await backend.inventory():
                services = accounts.setdefault(account, {}).setdefault(region, {})
                services.setdefault(name, {}).setdefault(kind, []).append(resource)
        return _json(request, 200, {"accounts": accounts})

    def _chosen_services(self, request: IRequest) -> dict[str, StatefulBackend] | bytes:
        """
        The services ``?service=`` names (all that keep state without it),
        or the 400 answer for a name that is not one of them.
        """
        stateful: dict[str, StatefulBackend] = {
            n: b for n, b in self.backends.items() if isinstance(b, StatefulBackend)
        }
        given = [
            name.strip()
            for value in request.args.get(b"service", [])
            for name in value.decode("utf-8", "replace").split(",")
            if name.strip()
        ]
        unknown = [name for name in given if name not in stateful]
        if unknown:
            message = (
                f"no service {', '.join(unknown)} keeps state here"
                f" (services that do: {', '.join(stateful)})"
            )
            return _json(request, 400, {"error": message})
        return {n: b for n, b in stateful.items() if n in given} if given else stateful

    def resource(self) -> IResource:
        """The resource to serve on the port."""
        return GatewayResource(self)

    @app.route("/", branch=True, strict_slashes=False)
    def dispatch(self, request: IRequest) -> Deferred[None]:
        """Every AWS request: route, handle, write."""
        return Deferred.fromCoroutine(self._dispatch(request))

    async def _dispatch(self, request: IRequest) -> None:
        response = await self.respond(http_request(request))
        await self._write(request, response)

    async def respond(
        self, incoming: HttpRequest, routed: tuple[Route, HttpRequest] | None = None
    ) -> HttpResponse:
        """
        The answer to one AWS request, whichever server read it: route
        (unless ``routed`` gives its route already, and the request as its
        service sees it), handle, and log one line. Whatever a backend
        raises becomes the service's AWS-shaped 500.
        """
        route, incoming = self._checked_route(incoming) if routed is None else routed
        context = self._context(route, incoming)
        backend = self.backends.get(route.service)
        if backend is None:
            response = self._not_enabled(context, incoming)
        else:
            try:
                response = await self._answer(route, backend, context, incoming)
            except Exception:
                response = self._failed(None, route, backend, context, incoming)
        self._log(route, context, incoming, response)
        return response

    def respond_fast(self, incoming: HttpRequest, reply: Reply[HttpResponse]) -> bool:
        """
        Give ``reply`` ``respond``'s answer, in plain callbacks (see
        L{awsemu.reply}), if a backend's fast path takes ``incoming``
        (``FastPath``); whether one did (if routing gives a request a fast
        path took to another service, that service's answer, through
        ``respond``'s coroutine). Measured in process on a DynamoDB GetItem
        (``bench/inprocess.py``): 27 to 28 µs of Python work, against 41 to
        42 the generic way.
        """
        for fast in self._fast_paths.values():
            if fast.takes(incoming):
                break
        else:
            return False
        route, incoming = self._route(incoming)
        if route.data_plane or self._fast_paths.get(route.service) is not fast:
            answered = Deferred.fromCoroutine(self.respond(incoming, (route, incoming)))
            answered.addCallbacks(reply.callback, reply.errback)
            return True
        backend = self.backends[route.service]
        context = self._context(route, incoming)
        logged = _Logged(self, route, backend, context, incoming, reply)
        refusal = self.authenticate(context, incoming)
        if refusal is not None:
            logged.callback(backend.error_response(context, incoming, refusal))
            return True
        try:
            fast.answer(context, incoming, logged)
        except Exception:
            logged.errback(Failure())
        return True

    def _failed(
        self,
        failure: Failure | None,
        route: Route,
        backend: ServiceBackend,
        context: RequestContext,
        incoming: HttpRequest,
    ) -> HttpResponse:
        """The service's AWS-shaped 500 for what a backend raised (None: the current exception)."""
        self.log.failure("{service} failed", failure, service=route.service)
        protocol = codec_for(SERVICE_MODELS[route.service][0]).protocol
        return backend.error_response(context, incoming, internal_failure(protocol))

    def _checked_route(self, incoming: HttpRequest) -> tuple[Route, HttpRequest]:
        """
        ``incoming``'s route, and the request as its service sees it: the
        one ``refuse_head`` found if it checked this request's head last.
        """
        checked = self._checked
        if checked is None or checked[0] is not incoming:
            return self._route(incoming)
        self._checked = None
        route = checked[1]
        if route.bucket is not None:
            incoming = to_path_style(incoming, route.bucket)
        return route, incoming

    def refuse_head(self, incoming: HttpRequest) -> HttpResponse | None:
        """
        The refusal of a request by its head alone, before its body is
        read (see ``server.Responder``): only backends that check heads
        (``HeadCheckingBackend``, S3's signatures) refuse any.
        """
        route, routed = self._route(incoming)
        backend = self._head_checking.get(route.service)
        if route.data_plane or backend is None:
            self._checked = (incoming, route)
            return None
        made: list[RequestContext] = []

        def context() -> RequestContext:
            # Most heads pass: their context (and request id) is made once, by ``respond``.
            if not made:
                made.append(self._context(route, routed))
            return made[0]

        response = backend.refuse_head(context, routed)
        if response is None:
            self._checked = (incoming, route)
        else:
            self._log(route, context(), routed, response)
        return response

    @staticmethod
    def _route(incoming: HttpRequest) -> tuple[Route, HttpRequest]:
        """The route of ``incoming``, and the request as its service sees it."""
        route = route_request(incoming)
        if route.bucket is not None:
            incoming = to_path_style(incoming, route.bucket)
        return route, incoming

    def _context(self, route: Route, incoming: HttpRequest) -> RequestContext:
        return new_context(
            incoming,
            route.service,
            self.region,
            self.clock.seconds(),
            self.random,
            self.account_for_key,
            self.unsigned_s3_account if route.service == "s3" else DEFAULT_ACCOUNT_ID,
        )

    def _log(
        self, route: Route, context: RequestContext, incoming: HttpRequest, response: HttpResponse
    ) -> None:
        """Record the answered request for the dashboard and write its log line."""
        elapsed = (self.clock.seconds() - context.started) * 1000
        if route.data_plane:
            # A call of a user's endpoint: its method, and the API (or
            # function URL) id with the stage and path after it.
            operation = incoming.method
            resource = f"{route.resource_id}/{_after(incoming.path, route.resource_id or '')}"
        else:
            operation = context.operation or "-"
            resource = context.resource or "-"
        self.recent.add(context, operation, resource, response.status, elapsed, route.data_plane)
        # The event is the one ``self.log.info(REQUEST_FORMAT, ...)`` would
        # emit, built directly: the bound logger is made once
        # (``Logger.__get__`` makes one per access) and ``Logger.emit``'s
        # check of the level and its copy are skipped. The daemon's observers
        # render its line when they write it (``awsemu.logobserver``), among
        # the lines held; its fields stay for structured observers.
        log = self._request_log
        log.observer(
            {
                "service": context.service,
                "operation": operation,
                "resource": resource,
                "account": context.account_id,
                "region": context.region,
                "status": response.status,
                "elapsed_ms": elapsed,
                "request_id": context.request_id,
                "log_logger": log,
                "log_level": LogLevel.info,
                "log_namespace": log.namespace,
                "log_source": self,
                "log_format": REQUEST_FORMAT,
                "log_time": time.time(),
            }
        )

    async def _answer(
        self,
        route: Route,
        backend: ServiceBackend,
        context: RequestContext,
        request: HttpRequest,
    ) -> HttpResponse:
        """The backend's answer: to a call of its API, or of one of its users' endpoints."""
        if not route.data_plane:
            refusal = self.authenticate(context, request)
            if refusal is not None:
                return backend.error_response(context, request, refusal)
            return await backend.handle(context, request)
        if not isinstance(backend, DataPlaneBackend):
            error = ServiceError(
                "NotImplemented", f"{route.service} endpoints are not served yet.", 501
            )
            return backend.error_response(context, request, error)
        return await backend.handle_data_plane(context, request, route.resource_id or "")

    def _not_enabled(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        """
        The answer for a service this daemon does not serve, in that
        service's protocol: one awsemu does not emulate at all, or one
        ``--services`` left out.
        """
        service = context.service
        served = ", ".join(sorted(self.backends)) or "none"
        models = SERVICE_MODELS.get(service)
        if models is None:
            model = service
            message = (
                f"awsemu does not emulate {catalog().services[service].service_id} ({service}); "
                f"it serves: {served}."
            )
        else:
            model = models[0]
            message = f"The service {service} is not enabled in this awsemu (enabled: {served})."
        error = ServiceError("NotImplemented", message, status=501, sender_fault=False)
        return service_error_response(model, request, error, context.request_id)

    async def _write(self, request: IRequest, response: HttpResponse) -> None:
        request.setResponseCode(response.status)
        headers = request.responseHeaders
        for name, value in response.headers:
            headers.addRawHeader(wire_bytes(name), wire_bytes(value))
        body = response.body
        if isinstance(body, bytes):
            if not headers.hasHeader(b"content-length"):
                request.setHeader(b"Content-Length", b"%d" % len(body))
            request.write(body)
            return
        if response.length is not None and not headers.hasHeader(b"content-length"):
            request.setHeader(b"Content-Length", b"%d" % response.length)
        try:
            if request.method != b"HEAD":
                await FileSender().beginFileTransfer(body, request)
        finally:
            body.close()


@attrs.define(eq=False)
class _Logged(Passing[HttpResponse, HttpResponse]):
    """
    A fast path's L{Reply} (see L{Gateway.respond_fast}): its answer to
    ``incoming``, or the service's 500 for its failure, logged by
    ``gateway`` and passed on to ``reply``.
    """

    gateway: Gateway
    route: Route
    backend: ServiceBackend
    context: RequestContext
    incoming: HttpRequest
    reply: Reply[HttpResponse]

    def step(self, response: HttpResponse) -> HttpResponse:
        self.gateway._log(self.route, self.context, self.incoming, response)
        return response

    def failed(self, fail: Failure) -> HttpResponse:
        route, context, incoming = self.route, self.context, self.incoming
        return self.step(self.gateway._failed(fail, route, self.backend, context, incoming))
