"""
Tests for L{awsemu.dynamodb.loopback}: the parser on bytes, the pool on a
memory reactor, and both against a real server on a loopback socket.
"""

from __future__ import annotations

import weakref
from typing import Any, cast

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.interfaces import IProtocol
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from awsemu.dynamodb.loopback import (
    MAX_HEAD,
    MAX_IDLE,
    RESPONSE_TIMEOUT,
    BadResponse,
    LoopbackPool,
    LoopbackResponse,
    PoolClosed,
    ResponseLost,
    ResponseParser,
    ResponseTimeout,
    render_request,
)

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n"
)


def parse(data: bytes, head_request: bool = False) -> tuple[ResponseParser, LoopbackResponse]:
    """``data`` fed to a parser whole and byte by byte: the same response either way."""
    whole, bytewise = ResponseParser(head_request), ResponseParser(head_request)
    response = whole.feed(data)
    assert response is not None
    for index in range(len(data)):
        piece = bytewise.feed(data[index : index + 1])
        assert (piece is None) == (index < len(data) - 1), index
    assert (bytewise.response, bytewise.reusable) == (response, whole.reusable)
    return whole, response


class ParserTests(SynchronousTestCase):
    """L{ResponseParser} reads the responses an HTTP/1.1 server may send."""

    def test_content_length(self) -> None:
        """
        A body framed by C{Content-Length}; headers as sent, and their lines
        as received; the connection reusable.
        """
        head = b"x-amz-CRC32:  12 \r\nA: 1\r\na: 2\r\nContent-Length: 3\r\n"
        parser, response = parse(b"HTTP/1.1 400 Bad Request\r\n" + head + b"\r\nabc")
        self.assertEqual(response, LoopbackResponse(400, head, b"abc", plain=True))
        self.assertEqual(
            response.headers,
            [("x-amz-CRC32", "12"), ("A", "1"), ("a", "2"), ("Content-Length", "3")],
        )
        self.assertTrue(parser.reusable)
        self.assertEqual(parser.leftover, b"")

    def test_header_spelling(self) -> None:
        """
        Framing headers are found whatever the case of their names and the
        blanks around their values, among lines with any bytes but controls.
        """
        data = (
            b"HTTP/1.1 200\r\nX-\xc3\xa9: caf\xc3\xa9 \xff\r\ncontent-LENGTH:\t 2 \r\n"
            b"CONNECTION: keep-alive, Close\r\n\r\nab"
        )
        parser, response = parse(data)
        self.assertEqual((response.status, response.body, response.plain), (200, b"ab", True))
        self.assertEqual(
            response.headers,
            [
                ("X-\xe9", "caf\xe9 \udcff"),
                ("content-LENGTH", "2"),
                ("CONNECTION", "keep-alive, Close"),
            ],
        )
        self.assertFalse(parser.reusable)

    def test_lone_breaks(self) -> None:
        """
        Only CR LF ends a line: a lone CR or LF is part of one (and the
        response is not ``plain``), even where it precedes a framing header.
        """
        for head, headers in (
            (
                b"A: b\nContent-Length: 5\r\nContent-Length: 2\r\n",
                [("A", "b\nContent-Length: 5"), ("Content-Length", "2")],
            ),
            (b"A: b\r\r\nContent-Length: 2\r\n", [("A", "b\r"), ("Content-Length", "2")]),
            (b"A\nB: c\rd\r\ncontent-length: 2\r\n", [("A\nB", "c\rd"), ("content-length", "2")]),
        ):
            _, response = parse(b"HTTP/1.1 200 OK\r\n" + head + b"\r\nab")
            self.assertEqual((response.body, response.head, response.plain), (b"ab", head, False))
            self.assertEqual(response.headers, headers)

    def test_plain(self) -> None:
        """A response made by hand is ``plain`` unless its lines hold a lone CR or LF."""
        self.assertTrue(LoopbackResponse(200, b"A: b\r\nC: d\r\n", b"").plain)
        self.assertTrue(LoopbackResponse(200, b"", b"").plain)
        for head in (b"A: b\nc\r\n", b"A: b\rc\r\n", b"A: b\r\r\n"):
            self.assertFalse(LoopbackResponse(200, head, b"").plain, head)

    def test_chunked(self) -> None:
        """A chunked body, with chunk extensions and trailers (both ignored)."""
        parser, response = parse(CHUNKED)
        self.assertEqual((response.status, response.body), (200, b"hello 0123456789"))
        self.assertTrue(parser.reusable)

    def test_chunked_over_length(self) -> None:
        """C{Transfer-Encoding} wins over C{Content-Length}, but such a connection is not reused."""
        parser, response = parse(CHUNKED.replace(b"\r\n\r\n", b"\r\nContent-Length: 1\r\n\r\n", 1))
        self.assertEqual(response.body, b"hello 0123456789")
        self.assertFalse(parser.reusable)

    def test_until_close(self) -> None:
        """Without a length, the body ends with the connection."""
        parser = ResponseParser()
        self.assertIsNone(parser.feed(b"HTTP/1.1 200 OK\r\n\r\nab"))
        self.assertIsNone(parser.feed(b"cd"))
        self.assertEqual(parser.finish(), LoopbackResponse(200, b"", b"abcd"))
        self.assertFalse(parser.reusable)

    def test_not_reusable(self) -> None:
        """C{Connection: close} and HTTP/1.0 end the connection after the response."""
        for head in (
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n",
            b"HTTP/1.0 200 OK\r\n",
        ):
            parser, response = parse(head + b"Content-Length: 0\r\n\r\n")
            self.assertFalse(parser.reusable, head)

    def test_no_body(self) -> None:
        """Responses to HEAD, and 204 and 304 responses, have no body whatever their headers say."""
        self.assertEqual(parse(OK[:-2], head_request=True)[1].body, b"")
        for status in (b"204 No Content", b"304 Not Modified"):
            parser, response = parse(b"HTTP/1.1 " + status + b"\r\nContent-Length: 5\r\n\r\n")
            self.assertEqual((response.body, parser.reusable), (b"", True))

    def test_interim(self) -> None:
        """1xx responses are skipped."""
        _, response = parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nA: b\r\n\r\n" + OK
        )
        self.assertEqual((response.status, response.body), (200, b"{}"))

    def test_leftover(self) -> None:
        """Bytes after the response are kept apart (the connection cannot be trusted)."""
        parser = ResponseParser()
        self.assertIsNotNone(parser.feed(OK + b"HTTP/1.1"))
        self.assertEqual(parser.leftover, b"HTTP/1.1")

    def test_malformed(self) -> None:
        """What is not HTTP/1.1 is a L{BadResponse}."""
        for data in (
            b"HTTP/2 200 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 20x OK\r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA\t: b\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n: b\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\r\n\rC\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 200\rOK\r\n\r\n",
            b"HTTP/1.1  200 OK\r\n\r\n",
            b"\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
            b"HTTP/1.1 200 OK\r\n" + b"A: b\r\n" * (MAX_HEAD // 6),
        ):
            self.assertRaises(BadResponse, ResponseParser().feed, data)

    def test_repeated_length(self) -> None:
        """The same C{Content-Length} given twice is that length."""
        _, response = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nab"
        )
        self.assertEqual(response.body, b"ab")

    def test_cut_short(self) -> None:
        """A connection that closes before a framed response ends loses the response."""
        for data in (b"", b"HTTP/1.1 200 OK\r\n", OK[:-1], CHUNKED[:-2]):
            parser = ResponseParser()
            parser.feed(data)
            self.assertRaises(ResponseLost, parser.finish)

    def test_no_cycle(self) -> None:
        """
        A parser, done or midway, is freed as soon as it is dropped, not
        left to the garbage collector as a reference cycle.
        """
        for data in (OK, CHUNKED, OK[:-1], CHUNKED[:-2], b"HTTP/1.1 200 OK\r\n\r\nab"):
            parser = ResponseParser()
            parser.feed(data)
            dropped = weakref.ref(parser)
            del parser
            self.assertIsNone(dropped(), data)


class RenderTests(SynchronousTestCase):
    """L{render_request} writes requests that cannot be read as two."""

    def test_render(self) -> None:
        """Host and length are the client's; headers follow as given, then the body."""
        self.assertEqual(
            render_request(8000, b"POST", b"/?a=b", [(b"X-Amz-Target", b"T"), (b"a", b"")], b"{}"),
            b"POST /?a=b HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Length: 2\r\n"
            b"X-Amz-Target: T\r\na: \r\n\r\n{}",
        )

    def test_injection(self) -> None:
        """A CR or LF in any field, or a space in the request line, is refused."""
        for method, target, headers in (
            (b"POST", b"/", [(b"A", b"b\r\nHost: evil")]),
            (b"POST", b"/", [(b"A", b"b\n")]),
            (b"POST", b"/", [(b"A\r", b"b")]),
            (b"POST", b"/\r\n", []),
            (b"POST", b"/ HTTP/1.1\r\n\r\nGET /", []),
            (b"POST", b"/ x", []),
            (b"PO ST", b"/", []),
        ):
            self.assertRaises(ValueError, render_request, 1, method, target, headers, b"")


class RecordingTransport(StringTransport):
    """A transport that remembers each write apart, and the protocol it carries."""

    def __init__(self, protocol: IProtocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.writes: list[bytes] = []
        self.no_delay = False

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.no_delay = enabled

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        super().write(data)


class PoolTests(SynchronousTestCase):
    """L{LoopbackPool} on a memory reactor: connections, reuse, limits, failures."""

    def setUp(self) -> None:
        self.reactor = MemoryReactorClock()
        self.pool = LoopbackPool(self.reactor, self.reactor, max_connections=2)
        self.transports: list[RecordingTransport] = []

    def request(self, port: int = 8000, body: bytes = b"{}") -> Deferred[LoopbackResponse]:
        return Deferred.fromCoroutine(
            self.pool.request(port, b"POST", b"/", [(b"X-Amz-Target", b"T")], body)
        )

    def connect(self) -> RecordingTransport:
        """Complete the next connection the pool asked for."""
        host, port, factory, _, _ = self.reactor.tcpClients[len(self.transports)]
        self.assertEqual(host, "127.0.0.1")
        protocol = factory.buildProtocol(None)
        assert protocol is not None
        transport = RecordingTransport(protocol)
        protocol.makeConnection(transport)
        self.transports.append(transport)
        return transport

    def lose(self, transport: RecordingTransport) -> None:
        transport.protocol.connectionLost(Failure(ConnectionDone()))

    def test_request(self) -> None:
        """
        A request is written in one write, without Nagle's delay; its
        response fires the request's Deferred.
        """
        answered = self.request(8001, b'{"a":1}')
        self.assertNoResult(answered)
        self.assertEqual(self.reactor.tcpClients[0][1], 8001)
        transport = self.connect()
        self.assertTrue(transport.no_delay)
        self.assertEqual(
            transport.writes,
            [
                b"POST / HTTP/1.1\r\nHost: 127.0.0.1:8001\r\nContent-Length: 7\r\n"
                b'X-Amz-Target: T\r\n\r\n{"a":1}'
            ],
        )
        transport.protocol.dataReceived(OK[:10])
        self.assertNoResult(answered)
        transport.protocol.dataReceived(OK[10:])
        self.assertEqual(self.successResultOf(answered).body, b"{}")

    def test_reuse(self) -> None:
        """The next request goes on the same connection, once it is free."""
        transport = self.answer_one()
        answered = self.request()
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.assertEqual(len(transport.writes), 2)
        transport.protocol.dataReceived(OK)
        self.successResultOf(answered)

    def answer_one(self, response: bytes = OK) -> RecordingTransport:
        """A request on a new connection, answered with ``response``."""
        answered = self.request()
        transport = self.connect()
        transport.protocol.dataReceived(response)
        self.successResultOf(answered)
        return transport

    def test_connection_close(self) -> None:
        """A response that ends its connection closes it; the next request opens another."""
        transport = self.answer_one(OK.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        self.assertTrue(transport.disconnecting)
        self.request()
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_closed_while_idle(self) -> None:
        """A connection the server closed while idle is not used again."""
        transport = self.answer_one()
        self.lose(transport)
        self.request()
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.assertEqual(len(transport.writes), 1)

    def test_idle_too_long(self) -> None:
        """
        A connection idle for L{MAX_IDLE} seconds is closed rather than used:
        the server may be closing it at that very moment.
        """
        transport = self.answer_one()
        self.reactor.advance(MAX_IDLE - 0.1)
        self.request()
        self.assertEqual(len(transport.writes), 2)
        transport.protocol.dataReceived(OK)
        self.reactor.advance(MAX_IDLE)
        self.request()
        self.assertTrue(transport.disconnecting)
        self.assertEqual(len(transport.writes), 2)
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_lost_mid_response(self) -> None:
        """
        A connection lost before the response ends fails the request, which
        is never sent again: the server may have acted on it.
        """
        answered = self.request()
        transport = self.connect()
        transport.protocol.dataReceived(OK[:-1])
        self.lose(transport)
        self.failureResultOf(answered, ResponseLost)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_response_timeout(self) -> None:
        """
        A request whose response does not come within the timeout fails, and
        its connection is closed: a late response would answer the next one.
        """
        answered = self.request()
        transport = self.connect()
        transport.protocol.dataReceived(OK[:10])
        self.reactor.advance(RESPONSE_TIMEOUT - 0.1)
        self.assertNoResult(answered)
        self.reactor.advance(0.1)
        failure = self.failureResultOf(answered, ResponseTimeout)
        self.assertEqual(
            failure.getErrorMessage(), "DynamoDB Local did not answer within 60 seconds"
        )
        self.assertTrue(transport.disconnecting)
        self.lose(transport)
        self.request()
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_timeout_per_request(self) -> None:
        """
        Each request has the whole timeout from when it is sent, however long
        its connection has carried others: a fast answer leaves no timer behind.
        """
        transport = self.answer_one()
        self.reactor.advance(MAX_IDLE / 2)
        answered = self.request()
        self.reactor.advance(RESPONSE_TIMEOUT - 0.1)
        self.assertNoResult(answered)
        transport.protocol.dataReceived(OK)
        self.successResultOf(answered)
        self.reactor.advance(RESPONSE_TIMEOUT)
        self.assertFalse(transport.disconnecting)
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        late = self.request()
        self.connect()  # A new connection: the other was idle too long.
        self.reactor.advance(RESPONSE_TIMEOUT)
        self.failureResultOf(late, ResponseTimeout)

    def test_timeout_configurable(self) -> None:
        """The pool's ``response_timeout`` bounds each request."""
        self.pool.response_timeout = 2.5
        answered = self.request()
        self.connect()
        self.reactor.advance(2.5)
        failure = self.failureResultOf(answered, ResponseTimeout)
        self.assertEqual(
            failure.getErrorMessage(), "DynamoDB Local did not answer within 2.5 seconds"
        )

    def test_closed_stops_timer(self) -> None:
        """A connection that closes leaves no timer behind."""
        answered = self.request()
        transport = self.connect()
        self.lose(transport)
        self.failureResultOf(answered, ResponseLost)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_bad_response(self) -> None:
        """A malformed response fails the request and closes the connection."""
        answered = self.request()
        transport = self.connect()
        transport.protocol.dataReceived(b"SSH-2.0-OpenSSH\r\n\r\n")
        self.failureResultOf(answered, BadResponse)
        self.assertTrue(transport.disconnecting)

    def test_unsolicited(self) -> None:
        """An idle connection that receives bytes is closed: they would pass for the next answer."""
        transport = self.answer_one()
        transport.protocol.dataReceived(b"HTTP/1.1 200 OK\r\n")
        self.assertTrue(transport.disconnecting)
        self.request()
        self.assertEqual(len(transport.writes), 1)

    def test_refused(self) -> None:
        """A refused connection fails the request."""
        answered = self.request()
        _, _, factory, _, _ = self.reactor.tcpClients[0]
        factory.clientConnectionFailed(
            self.reactor.connectors[0], Failure(ConnectionRefusedError())
        )
        self.failureResultOf(answered, ConnectionRefusedError)

    def test_limit(self) -> None:
        """
        Beyond C{max_connections} at once, requests wait for a connection to
        be free (or closed, when another is opened).
        """
        first, second, third, fourth = (self.request() for _ in range(4))
        self.assertEqual(len(self.reactor.tcpClients), 2)
        one, two = self.connect(), self.connect()
        one.protocol.dataReceived(OK)
        self.successResultOf(first)
        self.assertEqual(len(one.writes), 2)
        self.assertNoResult(third)
        self.lose(two)
        self.failureResultOf(second, ResponseLost)
        self.assertEqual(len(self.reactor.tcpClients), 3)
        three = self.connect()
        self.assertEqual(len(three.writes), 1)
        one.protocol.dataReceived(OK)
        three.protocol.dataReceived(OK)
        self.successResultOf(third)
        self.successResultOf(fourth)

    def send_to(self, data: bytes = b"POST / HTTP/1.1\r\n\r\n") -> Deferred[LoopbackResponse]:
        """L{LoopbackPool.send_to} on port 8000, with a Deferred for its reply."""
        reply: Deferred[LoopbackResponse] = Deferred()
        self.pool.send_to(8000, data, reply)
        return reply

    def test_send_to(self) -> None:
        """
        C{send_to} writes the rendered request as it is, on a new connection
        or an idle one, and gives the response to the reply it was given.
        """
        first = self.send_to(b"first")
        transport = self.connect()
        self.assertEqual(transport.writes, [b"first"])
        self.assertNoResult(first)
        transport.protocol.dataReceived(OK)
        self.assertEqual(self.successResultOf(first).body, b"{}")
        second = self.send_to(b"second")
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.assertEqual(transport.writes, [b"first", b"second"])
        transport.protocol.dataReceived(OK)
        self.assertEqual(self.successResultOf(second).status, 200)

    def test_send_to_failures(self) -> None:
        """
        Its reply gets why there is no response: a refused connection, a
        malformed response, no response in time.
        """
        malformed = self.send_to()
        self.connect().protocol.dataReceived(b"nonsense\r\n\r\n")
        self.failureResultOf(malformed, BadResponse)
        late = self.send_to()
        self.connect()
        self.reactor.advance(RESPONSE_TIMEOUT)
        self.failureResultOf(late, ResponseTimeout)
        refused = self.send_to()
        _, _, factory, _, _ = self.reactor.tcpClients[-1]
        factory.clientConnectionFailed(
            self.reactor.connectors[-1], Failure(ConnectionRefusedError())
        )
        self.failureResultOf(refused, ConnectionRefusedError)

    def test_send_to_waits(self) -> None:
        """At the limit of connections, C{send_to}'s request waits for one to be free."""
        first, second, third = self.send_to(), self.send_to(), self.send_to(b"third")
        self.assertEqual(len(self.reactor.tcpClients), 2)
        one, _ = self.connect(), self.connect()
        self.assertNoResult(third)
        one.protocol.dataReceived(OK)
        self.successResultOf(first)
        self.assertEqual(one.writes[-1], b"third")
        one.protocol.dataReceived(OK)
        self.successResultOf(third)
        self.assertNoResult(second)

    def test_cancel_waiting(self) -> None:
        """A request that gives up waiting leaves the queue."""
        self.request(), self.request()
        waiting = self.request()
        waiting.cancel()
        self.failureResultOf(waiting, CancelledError)
        one = self.connect()
        one.protocol.dataReceived(OK)
        self.assertEqual(len(one.writes), 1)

    def test_cancel_connecting(self) -> None:
        """A request that gives up while its connection is opened stops the connecting."""
        waiting = self.request()
        waiting.cancel()
        self.failureResultOf(waiting, CancelledError)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)

    def test_cancel_in_flight(self) -> None:
        """A request cancelled in flight closes its connection: its response would come next."""
        answered = self.request()
        transport = self.connect()
        answered.cancel()
        self.failureResultOf(answered, CancelledError)
        self.assertTrue(transport.disconnecting)
        self.lose(transport)
        self.request()
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_other_port(self) -> None:
        """Idle connections to another port (a DynamoDB Local since restarted) are closed."""
        transport = self.answer_one()
        self.request(9000)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.reactor.tcpClients[1][1], 9000)

    def test_close(self) -> None:
        """
        Closing the pool closes every connection, fails the requests they
        carry and those waiting, and fires once all are closed.
        """
        busy_request, connecting, waiting = self.request(), self.request(), self.request()
        busy = self.connect()
        closed = self.pool.close()
        self.failureResultOf(waiting, PoolClosed)
        self.assertTrue(busy.disconnecting)
        self.assertTrue(self.reactor.connectors[1].stoppedConnecting)
        self.lose(busy)
        self.failureResultOf(busy_request, ResponseLost)
        self.assertNoResult(closed)
        _, _, factory, _, _ = self.reactor.tcpClients[1]
        factory.clientConnectionFailed(self.reactor.connectors[1], Failure(ConnectionDone()))
        self.failureResultOf(connecting, ConnectionDone)
        self.successResultOf(closed)

    def test_answered_while_closing(self) -> None:
        """A connection closed by the pool is not reused, even if its response comes after."""
        answered = self.request()
        transport = self.connect()
        self.pool.close()
        transport.protocol.dataReceived(OK)
        self.successResultOf(answered)
        self.request()
        self.assertEqual(len(transport.writes), 1)
        self.assertEqual(len(self.reactor.tcpClients), 2)

    def test_close_idle(self) -> None:
        """Idle connections are closed too; the pool can be used again."""
        idle = self.answer_one()
        closed = self.pool.close()
        self.assertTrue(idle.disconnecting)
        self.lose(idle)
        self.successResultOf(closed)
        self.answer_one()


class Echo(Resource):
    """Answers with the request's body, chunked or with a length, and counts connections."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.channels: set[Any] = set()

    def render_POST(self, request: IRequest) -> bytes | int:
        self.channels.add(request.channel)  # type: ignore[attr-defined]
        body: bytes = request.content.read()
        if request.getHeader("x-chunked"):
            request.write(body[:10])
            request.write(body[10:])
            request.finish()
            return NOT_DONE_YET
        return body


class RealSocketTests(TestCase):
    """The pool against a real server (twisted.web) on a loopback socket."""

    async def test_keep_alive(self) -> None:
        """Responses framed either way arrive whole, all on one connection."""
        echo = Echo()
        port = reactor.listenTCP(0, Site(echo), interface="127.0.0.1")  # type: ignore[arg-type]
        self.addCleanup(port.stopListening)
        pool = LoopbackPool(reactor, reactor)
        self.addCleanup(pool.close)
        number = cast(IPv4Address, port.getHost()).port
        for index in range(20):
            body = b"%d" % index * 10_000
            headers = [(b"X-Chunked", b"1")] if index % 2 else []
            response = await pool.request(number, b"POST", b"/", headers, body)
            self.assertEqual((response.status, response.body), (200, body))
        self.assertEqual(len(echo.channels), 1)

    async def test_crash_mid_response(self) -> None:
        """
        A server that dies halfway through its response fails the request,
        which it received once: it is never sent again.
        """
        received: list[bytes] = []

        class Crashing(Protocol):
            def dataReceived(self, data: bytes) -> None:
                received.append(data)
                assert self.transport is not None
                self.transport.write(OK[:-1])
                self.transport.loseConnection()

        factory = ServerFactory.forProtocol(Crashing)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")  # type: ignore[arg-type]
        self.addCleanup(port.stopListening)
        pool = LoopbackPool(reactor, reactor)
        self.addCleanup(pool.close)
        with self.assertRaises(ResponseLost):
            await pool.request(cast(IPv4Address, port.getHost()).port, b"POST", b"/", [], b"{}")
        self.assertEqual(len(received), 1)
