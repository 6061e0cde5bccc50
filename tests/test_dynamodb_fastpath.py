"""
Tests for L{awsemu.dynamodb.fastpath}: DynamoDB's item operations through
the gateway's server on the fast path, answered byte for byte as the
generic path answers them, against a fake DynamoDB Local.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import formatEvent
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from awsemu.auth.verify import WORDINGS
from awsemu.dynamodb import fastpath
from awsemu.dynamodb.fastpath import ItemFastPath, _passed_headers
from awsemu.dynamodb.loopback import LoopbackResponse, ResponseParser
from awsemu.dynamodb.proxy import DynamoDBProxy
from awsemu.dynamodb.service import ProxyCalls
from awsemu.gateway.app import Gateway
from awsemu.gateway.context import RequestContext
from awsemu.gateway.server import gateway_factory
from awsemu.gateway.services import RUNNING, ServiceState
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.reply import Reply
from tests.test_dynamodb_proxy import LOCAL, FakeDynamoDBLocal, FakeSupervised, RefusingClient

PUBLIC = "arn:aws:dynamodb:eu-west-1:111111111111:"
CREDENTIAL = "111111111111/20250101/eu-west-1/dynamodb/aws4_request"


@attrs.define
class SendingLocal(FakeDynamoDBLocal):
    """The fake DynamoDB Local, also reached without a coroutine (as L{LoopbackPool.send})."""

    sent: int = 0
    refused: bool = False

    def send_to(self, port: int, data: bytes, reply: Reply[LoopbackResponse]) -> None:
        """
        Read the request ``data`` renders as the fake's C{request} takes it
        (without the client's own C{Host} and C{Content-Length}), and give
        ``reply`` the answer as received over HTTP, read by the loopback
        client's parser.
        """
        self.sent += 1
        if self.refused:
            reply.errback(Failure(ConnectionRefusedError()))
            return
        head, _, body = data.partition(b"\r\n\r\n")
        request_line, *lines = head.split(b"\r\n")
        method, target, _ = request_line.split(b" ")
        headers = [tuple(line.split(b": ", 1)) for line in lines]
        mine = [
            (name, value) for name, value in headers if name not in (b"Host", b"Content-Length")
        ]
        answered = Deferred.fromCoroutine(self.request(port, method, target, mine, body))
        answered.addCallback(_over_http).addCallbacks(reply.callback, reply.errback)


def _over_http(response: LoopbackResponse) -> LoopbackResponse:
    """``response`` as the loopback client reads it from Jetty's bytes."""
    head = "".join(f"{name}: {value}\r\n" for name, value in response.headers)
    data = f"HTTP/1.1 {response.status} Whatever\r\n{head}\r\n".encode() + response.body
    read = ResponseParser().feed(data)
    assert read is not None
    return read


@attrs.define
class Backend(ProxyCalls):
    """The DynamoDB backend as the daemon's service offers it, on a fake DynamoDB Local."""

    proxy: DynamoDBProxy
    fast_path: ItemFastPath | None
    name: str = "dynamodb"

    def state(self) -> ServiceState:
        return RUNNING


def wire(target: str, body: bytes, signature: str = "0", host: str = "localhost:4566") -> bytes:
    """A DynamoDB request as a client sends it."""
    return (
        f"POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: DynamoDB_20120810.{target}\r\n"
        "Content-Type: application/x-amz-json-1.0\r\nAccept-Encoding: identity\r\n"
        f"Authorization: AWS4-HMAC-SHA256 Credential={CREDENTIAL}, SignedHeaders=host,"
        f" Signature={signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def refuse_bad_signatures(context: RequestContext, request: HttpRequest) -> ServiceError | None:
    """An ``Authenticate`` refusing every signature but ``0`` as the gateway's check words it."""
    authorization = request.headers.get("authorization") or ""
    if authorization.endswith("Signature=0"):
        return None
    return WORDINGS["dynamodb"].signature()


class Daemon:
    """The gateway's server and a DynamoDB backend whose fast path is on or off."""

    def __init__(self, fast: bool, authenticate: Any = refuse_bad_signatures) -> None:
        self.clock = MemoryReactorClock()
        self.local = SendingLocal()
        self.proxy = DynamoDBProxy(FakeSupervised(), self.local, self.clock, secret="5ec")
        backend = Backend(self.proxy, ItemFastPath(self.proxy, self.local) if fast else None)
        self.gateway = Gateway(
            {"dynamodb": backend},
            "us-east-1",
            self.clock,
            random=lambda n: bytes(range(n)),
            authenticate=authenticate,
        )
        self.protocol = gateway_factory(self.gateway, self.clock).buildProtocol(None)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def call(self, request: bytes, *answers: tuple[int, bytes]) -> bytes:
        """The response's bytes, DynamoDB Local answering each of ``answers`` (status, body)."""
        for status, body in answers:
            headers = {"Content-Type": "application/x-amz-json-1.0", "x-amz-crc32": crc(body)}
            self.local.responses.append((status, headers, body))
        self.transport.clear()
        self.protocol.dataReceived(request)
        return bytes(self.transport.value())


def crc(body: bytes) -> str:
    return str(zlib.crc32(body))


def parsed(response: bytes) -> tuple[str, dict[str, str], bytes]:
    """A response's status line, headers (by lowercased name) and body."""
    head, _, body = response.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    return status, headers, body


_VARYING: re.Pattern[bytes] = re.compile(rb"(?m)^(x-amzn-RequestId|Date): [^\r]*\r$")

ITEM: dict[str, Any] = {"k": {"S": "key"}, "v": {"S": "value"}}

CASES: list[tuple[str, bytes, list[tuple[int, bytes]]]] = [
    (
        "GetItem",
        json.dumps({"TableName": "t", "Key": {"k": {"S": "key"}}}).encode(),
        [(200, json.dumps({"Item": ITEM}).encode())],
    ),
    ("PutItem", json.dumps({"TableName": "t", "Item": ITEM}).encode(), [(200, b"{}")]),
    (
        "GetItem",
        json.dumps({"TableName": PUBLIC + "table/t", "Key": {"k": {"S": "key"}}}).encode(),
        [(200, b'{"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}')],
    ),
    (
        "GetItem",
        json.dumps({"TableName": "arn:aws:dynamodb:eu-west-1:222222222222:table/t"}).encode(),
        [],
    ),
    (
        "Query",
        b"{",
        [(500, b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalFailure"}')],
    ),
    (
        "BatchWriteItem",
        json.dumps({"RequestItems": {"t": [{"PutRequest": {"Item": ITEM}}]}}).encode(),
        [
            (
                400,
                b'{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException",'
                b'"message":"One of the required keys was not given a value"}',
            )
        ],
    ),
    (
        "UpdateItem",
        json.dumps({"TableName": "missing", "Key": {"k": {"S": "key"}}}).encode(),
        [
            (
                400,
                b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",'
                b'"message":"Stream: ' + LOCAL.encode() + b'table/missing not found"}',
            )
        ],
    ),
]


class FastPathTests(SynchronousTestCase):
    """Item operations take the fast path, and answer as the generic path does."""

    def setUp(self) -> None:
        self.fast, self.generic = Daemon(fast=True), Daemon(fast=False)

    def both(self, request: bytes, *answers: tuple[int, bytes]) -> tuple[bytes, bytes]:
        """The fast path's response and the generic path's, the request id and date blanked."""
        fast = self.fast.call(request, *answers)
        generic = self.generic.call(request, *answers)
        return _VARYING.sub(rb"\1: -\r", fast), _VARYING.sub(rb"\1: -\r", generic)

    def test_same_answers(self) -> None:
        """
        Every case answers with the same status, headers (in order) and body
        bytes either way (but the request id and the date), and the same
        request reached DynamoDB Local; only the fast path was used by one.
        """
        for operation, body, answers in CASES:
            fast, generic = self.both(wire(operation, body), *answers)
            self.assertEqual(fast, generic, operation)
            self.assertEqual(self.fast.local.received, self.generic.local.received)
        self.assertEqual(self.fast.local.sent, len(self.fast.local.received))
        self.assertEqual(self.generic.local.sent, 0)

    def test_headers_forwarded_alike(self) -> None:
        """
        Both paths pass on the same headers to DynamoDB Local: neither the
        hop-by-hop ones and those replaced here, nor those its server would
        answer with an HTML page (a name that is not a token, a control
        character, bytes that are not UTF-8), whatever their case.
        """
        body = json.dumps({"TableName": "t", "Key": {}}).encode()
        odd = (
            b"X-F\xc3\xa9o: a\r\nX(o): a\r\nX-Control: a\x01b\r\nX-Bytes: \xe9\r\n"
            b"X-Kept: caf\xc3\xa9\r\nkeep-alive: 5\r\nTE: trailers\r\n"
            b"X-AMZ-Security-Token: t\r\nUser-Agent: Boto3/1.44.8 md/Botocore#1.44.8\r\n"
        )
        request = wire("GetItem", body).replace(b"\r\n", b"\r\n" + odd, 1)
        fast, generic = self.both(request, (200, b"{}"))
        self.assertEqual(fast, generic)
        self.assertEqual((self.fast.local.sent, self.generic.local.sent), (1, 0))
        self.assertEqual(self.fast.local.received, self.generic.local.received)
        [(headers, _)] = self.fast.local.received
        self.assertEqual(
            sorted(headers),
            [
                b"authorization",
                b"content-type",
                b"user-agent",
                b"x-amz-target",
                b"x-kept",
            ],
        )
        self.assertEqual(headers[b"x-kept"], [b"caf\xc3\xa9"])

    def test_request_id_and_checksum(self) -> None:
        """
        The answer carries the gateway's request id, not DynamoDB Local's, and
        a checksum of the body sent: DynamoDB Local's when the body is its
        own, a new one when ARNs were rewritten.
        """
        body = json.dumps({"TableName": PUBLIC + "table/t", "Key": {}}).encode()
        local = b'{"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}'
        status, headers, answered = parsed(self.fast.call(wire("GetItem", body), (200, local)))
        self.assertEqual(status, "HTTP/1.1 200 OK")
        self.assertEqual(
            answered,
            b'{"ConsumedCapacity":{"TableName":"' + PUBLIC.encode() + b'table/t",'
            b'"CapacityUnits":0.5}}',
        )
        self.assertEqual(headers["x-amz-crc32"], crc(answered))
        self.assertEqual(headers["x-amzn-requestid"], "00010203-0405-4607-8809-0a0b0c0d0e0f")
        self.assertEqual(self.fast.local.received[0][1], b'{"TableName": "t", "Key": {}}')
        answer = json.dumps({"Item": ITEM}).encode()
        _, headers, answered = parsed(self.fast.call(wire("GetItem", b"{}"), (200, answer)))
        self.assertEqual((answered, headers["x-amz-crc32"]), (answer, crc(answer)))

    def test_errors_worded_as_aws(self) -> None:
        """
        DynamoDB Local's errors get AWS's codes and messages on the fast
        path: a body it fails on with a 500 gets DynamoDB's 400, a batch's
        key error AWS's wording, another account's table ARN is refused.
        """
        _, _, body = parsed(
            self.fast.call(wire("Query", b"{"), (500, b'{"__type":"x#InternalFailure"}'))
        )
        self.assertEqual(
            json.loads(body),
            {
                "__type": "com.amazonaws.dynamodb.v20120810#SerializationException",
                "message": "The request body is not a JSON object",
            },
        )
        _, _, body = parsed(self.fast.call(wire("BatchWriteItem", CASES[5][1]), *CASES[5][2]))
        self.assertEqual(
            json.loads(body)["message"], "The provided key element does not match the schema"
        )
        status, _, body = parsed(self.fast.call(wire("GetItem", CASES[3][1])))
        self.assertEqual(status, "HTTP/1.1 400 Bad Request")
        self.assertEqual(json.loads(body)["__type"].rpartition("#")[2], "AccessDeniedException")
        self.assertEqual(self.fast.local.received[2:], [])

    def test_bad_signature(self) -> None:
        """A request the gateway's check refuses gets the same 400 either way, and is not sent."""
        fast, generic = self.both(wire("GetItem", b"{}", signature="bad"))
        self.assertEqual(fast, generic)
        status, _, body = parsed(fast)
        self.assertEqual(status, "HTTP/1.1 400 Bad Request")
        self.assertEqual(json.loads(body)["__type"].rpartition("#")[2], "InvalidSignatureException")
        self.assertEqual(self.fast.local.received, [])

    def test_unanswered(self) -> None:
        """DynamoDB Local refusing the connection gives the same retryable 500 either way."""
        self.fast.local.refused = True
        fast = self.fast.call(wire("GetItem", b"{}"))
        generic_local = self.generic.local
        generic_local.responses = []
        self.generic.proxy.client = RefusingClient()
        generic = self.generic.call(wire("GetItem", b"{}"))
        self.assertEqual(_VARYING.sub(rb"\1: -\r", fast), _VARYING.sub(rb"\1: -\r", generic))
        status, _, body = parsed(fast)
        self.assertEqual(status, "HTTP/1.1 500 Internal Server Error")
        self.assertIn("ConnectionRefusedError", json.loads(body)["message"])
        self.flushLoggedErrors()

    def test_failing_step(self) -> None:
        """
        A step that raises on the way back gives the gateway's 500 either
        way, logged as a failure, and the connection serves the next request.
        """

        def broken(*arguments: object) -> HttpResponse:
            raise RuntimeError("a bug")

        patches = [
            self.patch(fastpath, "_passed_headers", lambda response: None),
            self.patch(DynamoDBProxy, "answer", broken),
        ]
        operation, body, answers = CASES[0]
        fast, generic = self.both(wire(operation, body), *answers)
        self.assertEqual(fast, generic)
        status, _, answer = parsed(fast)
        self.assertEqual(status, "HTTP/1.1 500 Internal Server Error")
        self.assertEqual(json.loads(answer)["__type"].rpartition("#")[2], "InternalFailure")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 2)
        for patched in patches:
            patched.restore()
        again = self.fast.call(wire(operation, body), *answers)
        self.assertTrue(again.startswith(b"HTTP/1.1 200 OK\r\n"), again)

    def test_body_after_head(self) -> None:
        """
        A body sent after its head (http.client and urllib3 write them
        apart) takes the fast path too, with the same answer.
        """
        operation, body, answers = CASES[0]
        request = wire(operation, body)
        end = request.index(b"\r\n\r\n") + 4
        for daemon in (self.fast, self.generic):
            for status, answer in answers:
                headers = {"Content-Type": "application/x-amz-json-1.0", "x-amz-crc32": crc(answer)}
                daemon.local.responses.append((status, headers, answer))
            daemon.transport.clear()
            daemon.protocol.dataReceived(request[:end])
            self.assertEqual(daemon.transport.value(), b"")
            daemon.protocol.dataReceived(request[end:])
        fast, generic = (
            _VARYING.sub(rb"\1: -\r", bytes(daemon.transport.value()))
            for daemon in (self.fast, self.generic)
        )
        self.assertEqual(fast, generic)
        self.assertTrue(fast.startswith(b"HTTP/1.1 200 OK\r\n"), fast)
        self.assertEqual(self.fast.local.sent, 1)
        self.assertEqual(self.fast.local.received, self.generic.local.received)

    def test_not_taken(self) -> None:
        """
        Operations the proxy looks into, and any request while DynamoDB Local
        is not running, take the generic path.
        """
        self.fast.call(wire("ListTables", b"{}"), (200, b'{"TableNames":[]}'))
        self.assertEqual(self.fast.local.sent, 0)
        self.fast.proxy.supervised = FakeSupervised(port=None)
        self.fast.call(wire("GetItem", b"{}"))
        self.assertEqual(self.fast.local.sent, 0)

    def test_logged(self) -> None:
        """The request's log line names the operation and its table, as the generic path's."""
        lines = []
        for daemon in (self.fast, self.generic):
            events: list[dict[str, Any]] = []
            daemon.gateway._request_log.observer = events.append  # type: ignore[assignment]
            daemon.call(wire("GetItem", CASES[0][1]), *CASES[0][2])
            lines.append(formatEvent(events[0]))
        self.assertEqual(lines[0], lines[1])
        self.assertTrue(lines[0].startswith("dynamodb GetItem t 200 "), lines[0])


class PassedHeadersTests(SynchronousTestCase):
    """L{_passed_headers}: which of DynamoDB Local's header lines are passed on as they are."""

    JETTY = (
        b"HTTP/1.1 %d OK\r\nDate: Thu, 03 Dec 2026 06:40:00 GMT\r\n"
        b"Content-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: local\r\n"
        b"x-amz-crc32: %d\r\nContent-Length: %d\r\nServer: Jetty(12.1.11)\r\n\r\n%s"
    )

    def read(self, status: int, body: bytes, extra: bytes = b"") -> LoopbackResponse:
        data = self.JETTY % (status, zlib.crc32(body), len(body), body)
        response = ResponseParser().feed(data.replace(b"Server:", extra + b"Server:"))
        assert response is not None
        return response

    def test_success(self) -> None:
        """A success's lines but its framing, date, server and request id, in order."""
        self.assertEqual(
            _passed_headers(self.read(200, b"{}")),
            b"Content-Type: application/x-amz-json-1.0\r\nx-amz-crc32: %d\r\n" % zlib.crc32(b"{}"),
        )

    def test_not_passed(self) -> None:
        """
        Errors, bodies with DynamoDB Local's ARNs (rewritten, with a new
        checksum) and lines with a lone LF are answered the generic way.
        """
        self.assertIsNone(_passed_headers(self.read(400, b"{}")))
        self.assertIsNone(_passed_headers(self.read(200, LOCAL.encode())))
        self.assertIsNone(_passed_headers(self.read(200, b"{}", b"X-Odd: a\nb\r\n")))
