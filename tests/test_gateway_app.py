"""
The gateway over real sockets: health, dispatch to a service, AWS-shaped
errors for everything that goes wrong, and one log line per request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from io import BytesIO
from typing import Any

import treq
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import ILogObserver, LogEvent, formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import Agent, HTTPConnectionPool
from zope.interface import implementer

from awsemu import __version__
from awsemu.auth.verify import Authenticate, accept_all
from awsemu.gateway import app, routing
from awsemu.gateway.app import Gateway, _after
from awsemu.gateway.context import RequestContext
from awsemu.gateway.routing import Route
from awsemu.gateway.server import gateway_factory
from awsemu.gateway.services import RUNNING, ModelService, ServiceState, resource_of
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.sts.provider import StsProvider

SIGNED_STS = (
    "AWS4-HMAC-SHA256 Credential=123456789012/20250101/eu-west-1/sts/aws4_request, "
    "SignedHeaders=host, Signature=0"
)
FORM: dict[bytes | str, bytes | str] = {"Content-Type": "application/x-www-form-urlencoded"}
FORM_LINE = b"Content-Type: application/x-www-form-urlencoded\r\n"
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


class FlakyProvider(StsProvider):
    """An STS whose GetCallerIdentity fails once with a bug, then works."""

    failed = False

    async def get_caller_identity(
        self, context: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        if not self.failed:
            self.failed = True
            raise RuntimeError("provider bug")
        return await super().get_caller_identity(context, params)


class NoOperations:
    """A provider that implements nothing."""


@implementer(ILogObserver)
class Events(list[LogEvent]):
    def __call__(self, event: LogEvent) -> None:
        self.append(event)


class GatewayTests(TestCase):
    def setUp(self) -> None:
        self.serve(StsProvider())
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.http = HTTPClient(Agent(reactor, pool=pool))
        self.events = Events()
        globalLogPublisher.addObserver(self.events)
        self.addCleanup(globalLogPublisher.removeObserver, self.events)

    def serve(self, provider: object, authenticate: Authenticate = accept_all) -> None:
        """Listen on a free loopback port with a gateway serving STS from ``provider``."""
        gateway = Gateway(
            {"sts": ModelService("sts", provider)},
            "us-east-1",
            reactor,
            authenticate=authenticate,
        )
        site = gateway_factory(gateway, reactor)
        port: IListeningPort = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[arg-type]
        self.addCleanup(port.stopListening)
        self.url = f"http://127.0.0.1:{port.getHost().port}"  # type: ignore[attr-defined]

    async def post(self, body: str, **headers: bytes | str) -> tuple[Any, bytes]:
        sent: dict[bytes | str, bytes | str] = dict(FORM)
        sent.update(headers)
        response = await self.http.post(self.url + "/", data=body.encode(), headers=sent)
        return response, await treq.content(response)

    def test_health(self) -> Deferred[None]:
        """Both health URLs give each service's state and the version."""

        async def check() -> None:
            for path in ("/_awsemu/health", "/_localstack/health"):
                response = await self.http.get(self.url + path)
                self.assertEqual(response.code, 200)
                self.assertEqual(
                    response.headers.getRawHeaders("content-type"), ["application/json"]
                )
                document = json.loads(await treq.content(response))
                self.assertEqual(
                    document,
                    {"services": {"sts": "running"}, "edition": "awsemu", "version": __version__},
                )

        return Deferred.fromCoroutine(check())

    def test_dispatch(self) -> Deferred[None]:
        """A signed STS call reaches the provider with the account its key names."""

        async def check() -> None:
            response, body = await self.post(
                "Action=GetCallerIdentity&Version=2011-06-15", Authorization=SIGNED_STS
            )
            self.assertEqual(response.code, 200)
            request_id = response.headers.getRawHeaders("x-amzn-requestid")[0]
            self.assertIn(b"<Account>123456789012</Account>", body)
            self.assertIn(f"<RequestId>{request_id}</RequestId>".encode(), body)
            (line,) = [e for e in self.events if e.get("service") == "sts"]
            self.assertEqual(line["operation"], "GetCallerIdentity")
            self.assertEqual(line["status"], 200)
            self.assertEqual(
                (line["resource"], line["account"], line["region"], line["request_id"]),
                ("-", "123456789012", "eu-west-1", request_id),
            )
            self.assertRegex(
                formatEvent(line), r"^sts GetCallerIdentity - 200 \d+\.\dms 123456789012 eu-west-1$"
            )

        return Deferred.fromCoroutine(check())

    def test_refused(self) -> Deferred[None]:
        """
        A request the gateway's check refuses gets that error in the
        service's protocol, and never reaches the provider.
        """
        checked: list[tuple[str, str | None]] = []

        def refuse(context: RequestContext, request: HttpRequest) -> ServiceError | None:
            checked.append((context.service, context.access_key_id))
            return ServiceError("InvalidClientTokenId", "The token is invalid.", 403)

        self.serve(FlakyProvider(), refuse)

        async def check() -> None:
            response, body = await self.post(
                "Action=GetCallerIdentity&Version=2011-06-15", Authorization=SIGNED_STS
            )
            self.assertEqual(response.code, 403)
            self.assertIn(b"<Code>InvalidClientTokenId</Code>", body)
            self.assertIn(b"<Message>The token is invalid.</Message>", body)
            self.assertEqual(checked, [("sts", "123456789012")])
            (line,) = [e for e in self.events if e.get("service") == "sts"]
            self.assertEqual(line["status"], 403)

        return Deferred.fromCoroutine(check())

    def test_unknown_action(self) -> Deferred[None]:
        """An action the model does not know is the query protocol's InvalidAction."""

        async def check() -> None:
            response, body = await self.post(
                "Action=Nope&Version=2011-06-15", Authorization=SIGNED_STS
            )
            self.assertEqual(response.code, 400)
            self.assertIn(b"<Code>InvalidAction</Code>", body)
            self.assertIn(b"<Type>Sender</Type>", body)

        return Deferred.fromCoroutine(check())

    def test_not_implemented(self) -> Deferred[None]:
        """An operation the model knows but the provider lacks is a 501 NotImplemented."""

        async def check() -> None:
            self.serve(NoOperations())
            response, body = await self.post(
                "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/r&RoleSessionName=s",
                Authorization=SIGNED_STS,
            )
            self.assertEqual(response.code, 501)
            self.assertIn(b"<Code>NotImplemented</Code>", body)
            self.assertIn(b"<Type>Receiver</Type>", body)

        return Deferred.fromCoroutine(check())

    def test_provider_failure(self) -> Deferred[None]:
        """A provider's exception is a logged 500 InternalFailure; the next request is served."""

        async def check() -> None:
            self.serve(FlakyProvider())
            response, body = await self.post(
                "Action=GetCallerIdentity&Version=2011-06-15", Authorization=SIGNED_STS
            )
            self.assertEqual(response.code, 500)
            self.assertIn(b"<Code>InternalFailure</Code>", body)
            self.assertNotIn(b"Traceback", body)
            self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
            response, _ = await self.post(
                "Action=GetCallerIdentity&Version=2011-06-15", Authorization=SIGNED_STS
            )
            self.assertEqual(response.code, 200)

        return Deferred.fromCoroutine(check())

    def test_service_not_enabled(self) -> Deferred[None]:
        """
        A request for a service that is not enabled gets that service's own
        error shape: S3's XML error with its two ids, and no redirect or
        slash merging on the way.
        """

        async def check() -> None:
            response = await self.http.get(self.url + "/bucket//key/", allow_redirects=False)
            body = await treq.content(response)
            self.assertEqual(response.code, 501)
            request_id = response.headers.getRawHeaders("x-amz-request-id")[0]
            self.assertRegex(request_id, "^[0-9A-F]{16}$")
            host_id = response.headers.getRawHeaders("x-amz-id-2")[0]
            self.assertTrue(body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>'))
            self.assertIn(b"<Code>NotImplemented</Code>", body)
            self.assertIn(
                f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId>".encode(), body
            )

            response = await self.http.head(self.url + "/bucket")
            self.assertEqual(response.code, 501)
            self.assertEqual(await treq.content(response), b"")

            json_headers: dict[bytes | str, bytes | str] = {
                "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
                "Content-Type": "application/x-amz-json-1.1",
            }
            response = await self.http.post(self.url + "/", data=b"{}", headers=json_headers)
            self.assertEqual(response.code, 501)
            document = json.loads(await treq.content(response))
            self.assertEqual(document["__type"], "NotImplemented")
            self.assertIn("logs", document["message"])

        return Deferred.fromCoroutine(check())


class BrokenBackend:
    """A backend whose handle() itself raises: the gateway's last line of defence."""

    name = "sts"

    def state(self) -> ServiceState:
        return RUNNING

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        raise RuntimeError("backend bug")

    def error_response(
        self, context: RequestContext, request: HttpRequest, error: ServiceError
    ) -> HttpResponse:
        return ModelService("sts", object()).error_response(context, request, error)


class BrokenBackendTests(TestCase):
    def test_backend_failure(self) -> Deferred[None]:
        """An exception escaping a backend is a logged, AWS-shaped 500, not a hung connection."""
        gateway = Gateway({"sts": BrokenBackend()}, "us-east-1", reactor)
        site = gateway_factory(gateway, reactor)
        port: IListeningPort = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[arg-type]
        self.addCleanup(port.stopListening)
        http = HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))

        async def check() -> None:
            response = await http.post(
                f"http://127.0.0.1:{port.getHost().port}/",  # type: ignore[attr-defined]
                data=b"Action=GetCallerIdentity&Version=2011-06-15",
                headers=dict(FORM),
            )
            body = await treq.content(response)
            self.assertEqual(response.code, 500)
            self.assertIn(b"<Code>InternalFailure</Code>", body)
            self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

        return Deferred.fromCoroutine(check())


class RecordingBackend(BrokenBackend):
    """A backend that records the headers (as sent) and body of each request."""

    def __init__(self) -> None:
        self.seen: list[tuple[list[tuple[str, str]], bytes]] = []

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        self.seen.append((list(request.headers.as_sent()), request.read_body()))
        return HttpResponse(200, [], b"ok")


class RawClient(Protocol):
    """Sends ``data`` and collects all the server says until it closes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.received = b""
        self.closed: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(self.data)  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.closed.callback(self.received)


class HeaderSpellingTests(TestCase):
    """
    Header names reach services as sent, in order, whichever server reads
    the request: the gateway's own (HTTP/1.1 with a length) or
    twisted.web's (HTTP/1.0, chunked bodies).
    """

    HEADERS = b"x-lower: a\r\nX-MiXed-CASE: b\r\nx-mixed-case: c\r\n"
    SENT = [("x-lower", "a"), ("X-MiXed-CASE", "b"), ("x-mixed-case", "c")]

    def send(self, data: bytes) -> Deferred[list[tuple[list[tuple[str, str]], bytes]]]:
        backend = RecordingBackend()
        gateway = Gateway({"sts": backend}, "us-east-1", reactor)
        factory = gateway_factory(gateway, reactor)
        port: IListeningPort = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[arg-type]
        self.addCleanup(port.stopListening)

        async def exchange() -> list[tuple[list[tuple[str, str]], bytes]]:
            endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)  # type: ignore[attr-defined]
            client = RawClient(data)
            await connectProtocol(endpoint, client)
            response = await client.closed
            self.assertTrue(response.startswith(b"HTTP/1."), response)
            self.assertIn(b" 200 OK\r\n", response)
            return backend.seen

        return Deferred.fromCoroutine(exchange())

    def custom(self, seen: list[tuple[list[tuple[str, str]], bytes]]) -> list[tuple[str, str]]:
        self.assertEqual(len(seen), 1)
        self.assertEqual(seen[0][1], BODY)
        return [(name, value) for name, value in seen[0][0] if name.lower().startswith("x-")]

    async def check(self, data: bytes) -> None:
        self.assertEqual(self.custom(await self.send(data)), self.SENT)

    def test_http_1_1(self) -> Deferred[None]:
        """The gateway's own server: the reference."""
        head = b"POST / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n" + FORM_LINE
        data = head + b"Content-Length: %d\r\n" % len(BODY) + self.HEADERS + b"\r\n" + BODY
        return Deferred.fromCoroutine(self.check(data))

    def test_http_1_0(self) -> Deferred[None]:
        head = b"POST / HTTP/1.0\r\nHost: h\r\n" + FORM_LINE
        data = head + b"Content-Length: %d\r\n" % len(BODY) + self.HEADERS + b"\r\n" + BODY
        return Deferred.fromCoroutine(self.check(data))

    def test_chunked(self) -> Deferred[None]:
        head = b"POST / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n" + FORM_LINE
        chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
        data = head + b"Transfer-Encoding: chunked\r\n" + self.HEADERS + b"\r\n" + chunks
        return Deferred.fromCoroutine(self.check(data))


class LogResourceTests(SynchronousTestCase):
    """What a request line names as the call's resource."""

    def test_resource_of(self) -> None:
        """The parameters naming a resource, narrowed by those that qualify it."""
        cases: list[tuple[dict[str, object], str | None]] = [
            ({"Bucket": "b", "Key": "k/1"}, "b/k/1"),
            ({"Bucket": "b"}, "b"),
            ({"FunctionName": "f", "Qualifier": "live"}, "f:live"),
            ({"FunctionName": "f", "Qualifier": None}, "f"),
            ({"restApiId": "a1", "stageName": "prod"}, "a1/prod"),
            ({"logGroupName": "/aws/lambda/f", "logStreamName": "s"}, "/aws/lambda/f/s"),
            ({"RoleName": "r"}, "r"),
            ({"MaxKeys": 3}, None),
            ({}, None),
        ]
        for params, expected in cases:
            self.assertEqual(resource_of(params), expected, params)

    def test_data_plane_path(self) -> None:
        """A data-plane path keeps its stage and path, whichever way it names the API."""
        for path in (
            "/restapis/a1/prod/_user_request_/items/3",
            "/_aws/execute-api/a1/prod/items/3",
            "/prod/items/3",
        ):
            self.assertEqual(_after(path, "a1"), "prod/items/3", path)


class HeadChecker(BrokenBackend):
    """An S3-like backend that checks heads: it records what it checked and what it answered."""

    name = "s3"

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.answered: list[tuple[str, bytes]] = []

    def refuse_head(
        self, context: Callable[[], RequestContext], request: HttpRequest
    ) -> HttpResponse | None:
        self.checked.append(request.path)
        return HttpResponse(403) if request.path.endswith("/refused") else None

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        self.answered.append((request.path, request.read_body()))
        return HttpResponse(200)


class HeadCheckedRouteTests(SynchronousTestCase):
    """An upload whose head was checked is routed once, at its head."""

    def setUp(self) -> None:
        self.backend = HeadChecker()
        self.gateway = Gateway({"s3": self.backend}, "us-east-1", reactor)
        self.routed: list[HttpRequest] = []

        def route_request(request: HttpRequest) -> Route:
            self.routed.append(request)
            return routing.route_request(request)

        self.patch(app, "route_request", route_request)

    def upload(self, host: str, path: str) -> HttpRequest:
        return HttpRequest.from_uri("PUT", path, [("Host", host)], host=host)

    def respond(self, request: HttpRequest, body: bytes) -> int:
        request.body = BytesIO(body)
        response = self.successResultOf(Deferred.fromCoroutine(self.gateway.respond(request)))
        return response.status

    def test_virtual_hosted(self) -> None:
        """The body that arrives after the check reaches the backend, path-style."""
        request = self.upload("bucket.s3.localhost.localstack.cloud", "/key")
        self.assertIsNone(self.gateway.refuse_head(request))
        self.assertEqual(self.respond(request, b"data"), 200)
        self.assertEqual(self.backend.checked, ["/bucket/key"])
        self.assertEqual(self.backend.answered, [("/bucket/key", b"data")])
        self.assertEqual(self.routed, [request])

    def test_another_in_between(self) -> None:
        """A request answered between an upload's check and its body is routed itself."""
        first = self.upload("127.0.0.1:4566", "/bucket/first")
        other = self.upload("127.0.0.1:4566", "/bucket/other")
        self.assertIsNone(self.gateway.refuse_head(first))
        self.assertEqual(self.respond(other, b"2"), 200)
        self.assertEqual(self.respond(first, b"1"), 200)
        self.assertEqual(self.backend.answered, [("/bucket/other", b"2"), ("/bucket/first", b"1")])
        self.assertEqual(self.routed, [first, other])
        # Once answered, the check is not taken again for the same request.
        self.assertEqual(self.respond(first, b"1"), 200)
        self.assertEqual(self.routed, [first, other, first])

    def test_refused(self) -> None:
        """A refused head is not remembered: the refusal is its answer."""
        refused = self.upload("127.0.0.1:4566", "/bucket/refused")
        refusal = self.gateway.refuse_head(refused)
        assert refusal is not None
        self.assertEqual(refusal.status, 403)
        self.assertEqual(self.respond(refused, b""), 200)
        self.assertEqual(self.routed, [refused, refused])
