"""
The one port: the daemon's own endpoints (health) in a Klein application,
and every AWS request handed to the service the routing table picks, with
one log line per request.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO, ClassVar

import attrs
from klein import Klein
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
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
    Random,
    RequestContext,
    new_context,
    no_known_keys,
)
from awsemu.gateway.routing import Route, route_request, to_path_style
from awsemu.gateway.services import DataPlaneBackend, ServiceBackend
from awsemu.protocol.catalog import catalog
from awsemu.protocol.codec import codec_for, service_error_response
from awsemu.protocol.errors import ServiceError, internal_failure
from awsemu.protocol.http import Headers, HttpRequest, HttpResponse, wire_bytes, wire_text
from awsemu.services import SERVICE_MODELS


def http_request(request: IRequest) -> HttpRequest:
    """The protocol layer's view of a ``twisted.web`` request."""
    headers = Headers(
        (wire_text(name), wire_text(value))
        for name, values in request.requestHeaders.getAllRawHeaders()
        for value in values
    )
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
    The requests the gateway serves: response headers keep the spelling
    services give them, and no ``Content-Type`` is made up for a response
    that has none (Twisted's default is ``text/html``; AWS sends none).
    """

    defaultContentType = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responseHeaders = SpelledHeaders()


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
    """

    backends: Mapping[str, ServiceBackend]
    region: str
    clock: IReactorTime
    random: Random = os.urandom
    account_for_key: AccountForKey = no_known_keys
    authenticate: Authenticate = accept_all
    unsigned_s3_account: str = DEFAULT_ACCOUNT_ID
    recent: RecentRequests = attrs.field(factory=RecentRequests)
    """The last requests answered, which the dashboard shows."""
    started: float = attrs.field(
        init=False, default=attrs.Factory(lambda self: self.clock.seconds(), takes_self=True)
    )
    """When the daemon started, by ``clock``: the dashboard's uptime."""
    _dashboard: IResource | None = attrs.field(default=None, init=False)
    app: ClassVar[Klein] = Klein()
    log: ClassVar[Logger] = Logger()

    @app.route("/_awsemu/health", methods=["GET", "HEAD"])
    @app.route("/_localstack/health", methods=["GET", "HEAD"])
    def health(self, request: IRequest) -> bytes:
        """Each enabled service's state, in the document LocalStack's tools wait on."""
        services: dict[str, str] = {}
        reasons: dict[str, str] = {}
        for name, backend in sorted(self.backends.items()):
            state = backend.state()
            services[name] = state.status
            if state.reason is not None:
                reasons[name] = state.reason
        document: dict[str, Any] = {
            "services": services,
            "edition": "awsemu",
            "version": __version__,
        }
        if reasons:
            document["reasons"] = reasons
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps(document).encode()

    @app.route("/_awsemu/", branch=True)
    def dashboard(self, request: IRequest) -> IResource:
        """The dashboard (``awsemu.dashboard``), imported on its first page."""
        if self._dashboard is None:
            from awsemu.dashboard import dashboard_resource

            self._dashboard = dashboard_resource(self)
        return self._dashboard

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

    async def respond(self, incoming: HttpRequest) -> HttpResponse:
        """
        The answer to one AWS request, whichever server read it: route,
        handle, and log one line. Whatever a backend raises becomes the
        service's AWS-shaped 500.
        """
        route = route_request(incoming)
        if route.bucket is not None:
            incoming = to_path_style(incoming, route.bucket)
        context = new_context(
            incoming,
            route.service,
            self.region,
            self.clock.seconds(),
            self.random,
            self.account_for_key,
            self.unsigned_s3_account if route.service == "s3" else DEFAULT_ACCOUNT_ID,
        )
        backend = self.backends.get(route.service)
        if backend is None:
            response = self._not_enabled(context, incoming)
        else:
            try:
                response = await self._answer(route, backend, context, incoming)
            except Exception:
                self.log.failure("{service} failed", service=route.service)
                protocol = codec_for(SERVICE_MODELS[route.service][0]).protocol
                response = backend.error_response(context, incoming, internal_failure(protocol))
        elapsed = (self.clock.seconds() - context.started) * 1000
        self.recent.add(context, incoming.path, response.status, elapsed)
        operation = context.operation or "-"
        # The line is formatted here, once: twisted.logger's format strings
        # cost more than the rest of a small request. The fields stay in the
        # event for structured observers.
        self.log.info(
            "{line}",
            line=f"{context.service} {operation} {response.status} {elapsed:.1f}ms",
            service=context.service,
            operation=operation,
            status=response.status,
            elapsed_ms=elapsed,
        )
        return response

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
