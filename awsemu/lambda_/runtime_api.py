"""
The Lambda Runtime API, as each execution environment's runtime client
(awslambdaric, the official images' bootstrap, a custom runtime) calls it.

Every environment gets its own listening port on the loopback interface:
``AWS_LAMBDA_RUNTIME_API`` is a bare ``host:port``, so a port of its own is
what lets one environment neither take nor answer another's invocations,
without a token in the protocol. ``/next`` is a long poll: its response is
written when the environment is handed an invocation.

A port is no secret, though: any local process can connect to it. So each
connection is vetted once, when it is made: the handler says whether the
connecting socket belongs to the environment (see ``peers``). A refused
connection is logged and every request on it is answered 403, before the
handler hears of it: the environment's invocation is unaffected.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, Protocol, cast

from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IListeningPort, IReactorTCP
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import HTTPChannel
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from awsemu.lambda_.invocations import MAX_RESPONSE, Invocation
from awsemu.lambda_.peers import Address

PREFIX: Final = "/2018-06-01/runtime"
_INVOCATION: Final = re.compile(PREFIX + r"/invocation/([^/]+)/(response|error)\Z")


class RuntimeHandler(Protocol):
    """What an execution environment does with its runtime's calls."""

    def admits(self, client: Address, server: Address) -> bool:
        """Whether the connection from ``client`` to ``server`` comes from the environment."""

    def next_invocation(self) -> Deferred[Invocation]:
        """The invocation to run next, once there is one (cancelled if the runtime hangs up)."""

    def respond(self, request_id: str, payload: bytes) -> bool:
        """The invocation's result; False if ``request_id`` is not the invocation in flight."""

    def fail(self, request_id: str, payload: bytes) -> bool:
        """The invocation's error document; False as for ``respond``."""

    def too_large(self, request_id: str) -> bool:
        """The runtime tried to answer with more than Lambda accepts."""

    def init_failed(self, payload: bytes) -> None:
        """The runtime could not initialise (an import error, a bad handler)."""


def _write_json(request: Request, status: int, document: dict[str, Any]) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json")
    return json.dumps(document).encode()


def _invocation_headers(request: Request, invocation: Invocation) -> None:
    """Every header AWS sends on ``/next``; awslambdaric crashes without ``Content-Type``."""
    set_header = request.setHeader
    set_header(b"Content-Type", b"application/json")
    set_header(b"Lambda-Runtime-Aws-Request-Id", invocation.request_id.encode())
    set_header(b"Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms).encode())
    set_header(b"Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn.encode())
    set_header(b"Lambda-Runtime-Trace-Id", invocation.trace_id.encode())
    if invocation.client_context is not None:
        set_header(b"Lambda-Runtime-Client-Context", invocation.client_context.encode())
    if invocation.cognito_identity is not None:
        set_header(b"Lambda-Runtime-Cognito-Identity", invocation.cognito_identity.encode())


_ACCEPTED: Final = json.dumps({"status": "OK"}).encode()
_log = Logger()


class _VettedChannel(HTTPChannel):
    """A connection whose client is checked once, as it connects (see the module docstring)."""

    admitted = False

    def connectionMade(self) -> None:
        super().connectionMade()
        transport = self.transport
        assert transport is not None
        client, server = (
            cast(IPv4Address, transport.getPeer()),
            cast(IPv4Address, transport.getHost()),
        )
        handler: RuntimeHandler = self.site.handler  # type: ignore[attr-defined]
        self.admitted = handler.admits((client.host, client.port), (server.host, server.port))
        if not self.admitted:
            _log.warn(
                "Refused a connection from {client} to the Runtime API on port {port}:"
                " it does not come from the environment",
                client=f"{client.host}:{client.port}",
                port=server.port,
            )


def _refused(request: Request) -> bytes:
    return _write_json(
        request,
        403,
        {
            "errorType": "AccessDeniedException",
            "errorMessage": "This connection does not come from the environment"
            " this Runtime API serves.",
        },
    )


class RuntimeApiResource(Resource):
    """The whole Runtime API of one environment, routed by hand: it is four paths."""

    isLeaf = True

    def __init__(self, handler: RuntimeHandler) -> None:
        super().__init__()
        self._handler = handler

    def render(self, request: Request) -> bytes | int:
        if not getattr(request.channel, "admitted", False):
            return _refused(request)
        result: bytes | int = super().render(request)
        return result

    def render_GET(self, request: Request) -> bytes | int:
        if request.path != f"{PREFIX}/invocation/next".encode():
            return _write_json(request, 404, {"errorType": "NotFound", "errorMessage": "Not Found"})
        waiting = self._handler.next_invocation()
        request.notifyFinish().addErrback(lambda _: waiting.cancel())

        def deliver(invocation: Invocation) -> None:
            _invocation_headers(request, invocation)
            request.setHeader(b"Content-Length", str(len(invocation.payload)).encode())
            request.write(invocation.payload)
            request.finish()

        def hung_up(reason: Failure) -> None:
            reason.trap(CancelledError)

        waiting.addCallbacks(deliver, hung_up)
        return NOT_DONE_YET

    def render_POST(self, request: Request) -> bytes:
        path = request.path.decode("utf-8", "replace")
        body = request.content.read() if request.content is not None else b""
        if path == f"{PREFIX}/init/error":
            self._handler.init_failed(body)
            return _write_json(request, 202, {"status": "OK"})
        found = _INVOCATION.match(path)
        if found is None:
            return _write_json(request, 404, {"errorType": "NotFound", "errorMessage": "Not Found"})
        request_id, kind = found.groups()
        if len(body) > MAX_RESPONSE:
            self._handler.too_large(request_id)
            return _write_json(
                request,
                413,
                {
                    "errorMessage": "Exceeded maximum allowed payload size"
                    f" ({MAX_RESPONSE} bytes).",
                    "errorType": "RequestEntityTooLarge",
                },
            )
        accepted = (
            self._handler.respond(request_id, body)
            if kind == "response"
            else self._handler.fail(request_id, body)
        )
        if not accepted:
            return _write_json(
                request,
                400,
                {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"},
            )
        request.setResponseCode(202)
        request.setHeader(b"Content-Type", b"application/json")
        return _ACCEPTED


class _QuietSite(Site):
    """
    No access log: an environment's polls are not news. ``handler`` vets
    connections (``_VettedChannel``).
    """

    noisy = False
    displayTracebacks = False
    # HTTP/1.1 only (what runtimes speak), without the HTTP/2 negotiating wrapper.
    protocol = _VettedChannel  # type: ignore[assignment]

    def __init__(self, handler: RuntimeHandler) -> None:
        super().__init__(RuntimeApiResource(handler), parsePOSTFormSubmission=False)
        self.handler = handler

    def log(self, request: Any) -> None:
        """See the class docstring."""


def listen(reactor: IReactorTCP, handler: RuntimeHandler, interface: str) -> IListeningPort:
    """A Runtime API for ``handler`` on a free port of ``interface``."""
    site = _QuietSite(handler)
    return reactor.listenTCP(0, site, interface=interface)  # type: ignore[arg-type]
