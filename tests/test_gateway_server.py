"""
The gateway's HTTP/1.1 server on a string transport: framing, keep-alive,
pipelining, streamed bodies, and what it hands to twisted.web.
"""

from __future__ import annotations

import os
import weakref
from io import BytesIO
from typing import Any

import attrs
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.server import Request

from awsemu.gateway.server import (
    GatewayFactory,
    GatewayProtocol,
    GatewaySite,
    _header_line,
)
from awsemu.gateway.spools import MAPPED_BODY_LIMIT, POPULATE_AHEAD, READ_STEP
from awsemu.protocol.http import REMEMBERED_LENGTH, HttpRequest, HttpResponse
from awsemu.protocol.segments import Lane, Piece, ReadBody, Segments

PEER = IPv4Address("TCP", "127.0.0.5", 40000)


@attrs.define
class Recorder:
    """
    A gateway that records what it is asked and answers with ``answer``, or
    waits; it refuses every head with ``refusal`` when one is given.
    """

    answer: HttpResponse = attrs.Factory(lambda: HttpResponse(200, [], b"ok"))
    refusal: HttpResponse | None = None
    hold: bool = False
    fail: bool = False
    seen: list[tuple[HttpRequest, bytes]] = attrs.Factory(list)
    waiting: list[Deferred[None]] = attrs.Factory(list)
    pieces: list[list[Piece]] = attrs.Factory(list)

    async def respond(self, incoming: HttpRequest) -> HttpResponse:
        if isinstance(incoming.body, Segments):
            self.pieces.append(incoming.body.take())
        self.seen.append((incoming, incoming.read_body()))
        if self.fail:
            raise RuntimeError("gateway bug")
        if self.hold:
            waiting: Deferred[None] = Deferred()
            self.waiting.append(waiting)
            await waiting
        return self.answer

    def refuse_head(self, incoming: HttpRequest) -> HttpResponse | None:
        return self.refusal


class Fallback(Resource):
    """What twisted.web serves: the method, path and body it read."""

    isLeaf = True

    def render(self, request: Request) -> bytes:
        assert request.content is not None
        body = request.content.read()
        return b"fallback %s %s %s" % (request.method, request.path, body)


@attrs.define
class RecordingReader:
    """A body reader (run at once: no pool) that records what it saw, or fails."""

    seen: list[bytes] = attrs.Factory(list)
    fail: bool = False

    def lanes(self) -> tuple[Lane]:
        return (self.advance,)

    def advance(self, body: memoryview, end: int) -> None:
        if self.fail:
            raise RuntimeError("reader bug")
        self.seen.append(bytes(body[:end]))


def connect(
    gateway: Recorder,
    memory_limit: int | None = 1024,
    factory: GatewayFactory | None = None,
    reader: RecordingReader | None = None,
    mapped_limit: int = MAPPED_BODY_LIMIT,
) -> tuple[Any, StringTransport]:
    if factory is None:
        reactor = MemoryReactorClock()
        reactor.advance(1_700_000_000)
        site = GatewaySite(Fallback(), reactor=reactor)
        factory = GatewayFactory(
            gateway,
            site,
            reactor,
            memory_limit,
            body_readers=lambda request: reader,
            mapped_body_limit=mapped_limit,
        )
    protocol = factory.buildProtocol(PEER)
    transport = StringTransport(peerAddress=PEER)
    protocol.makeConnection(transport)
    return protocol, transport


def responses(transport: StringTransport) -> list[bytes]:
    """The response heads written so far, each with the body that followed it."""
    return [b"HTTP/1.1 " + part for part in transport.value().split(b"HTTP/1.1 ")[1:]]


class ServerTests(SynchronousTestCase):
    def test_request(self) -> None:
        """A request reaches the gateway whole; the answer is framed with a length and a date."""
        gateway = Recorder(HttpResponse(201, [("x-amz-meta-Color", "red")], b"created"))
        protocol, transport = connect(gateway)
        protocol.dataReceived(
            b"PUT /b/k%2Fx?uploads&a=1 HTTP/1.1\r\nHost: s3.localhost\r\n"
            b"Content-Length: 4\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\nbody"
        )
        [(request, body)] = gateway.seen
        self.assertEqual(
            (request.method, request.path, request.query, request.host, request.remote),
            ("PUT", "/b/k%2Fx", [("uploads", ""), ("a", "1")], "s3.localhost", "127.0.0.5"),
        )
        self.assertEqual(body, b"body")
        self.assertEqual(request.headers["x-twice"], "1, 2")
        self.assertEqual(request.headers.as_sent()[-2:], [("X-Twice", "1"), ("x-twice", "2")])
        self.assertEqual(
            transport.value(),
            b"HTTP/1.1 201 Created\r\nx-amz-meta-Color: red\r\n"
            b"Date: Tue, 14 Nov 2023 22:13:20 GMT\r\nContent-Length: 7\r\n\r\ncreated",
        )
        self.assertFalse(transport.disconnecting)

    def test_repeated_and_long_lines(self) -> None:
        """
        Header lines read the same whether they were parsed before (short
        lines are remembered) or not, and a long one is not kept.
        """
        gateway = Recorder()
        protocol, transport = connect(gateway)
        long_value = "v" * (REMEMBERED_LENGTH + 1)
        head = (
            "GET /b HTTP/1.1\r\nHost: s3.localhost\r\nX-Same:  kept \t\r\n"
            f"X-Long: {long_value}\r\nBad Name: x\r\n\r\n"
        ).encode()
        good = head.replace(b"Bad Name: x\r\n", b"")
        _header_line.cache_clear()
        protocol.dataReceived(good + good)
        first, second = (request.headers.as_sent() for request, _ in gateway.seen)
        self.assertEqual(first, second)
        self.assertEqual(first[1:], [("X-Same", "kept"), ("X-Long", long_value)])
        # Host and X-Same remembered, then found; X-Long parsed each time.
        self.assertEqual(_header_line.cache_info()[:2], (2, 2))
        # A line with a space in its name is no header this server reads:
        # twisted.web gets the connection (and refuses it).
        protocol.dataReceived(head)
        self.assertEqual(len(gateway.seen), 2)
        self.assertIn(b"400 Bad Request", transport.value())

    def test_pipelined(self) -> None:
        """Requests sent ahead are answered in order, each after the one before."""
        gateway = Recorder(hold=True)
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n")
        self.assertEqual([request.path for request, _ in gateway.seen], ["/a"])
        gateway.waiting.pop().callback(None)
        self.assertEqual([request.path for request, _ in gateway.seen], ["/a", "/b"])
        gateway.waiting.pop().callback(None)
        protocol.dataReceived(b"\r\n")
        gateway.waiting.pop().callback(None)
        self.assertEqual([request.path for request, _ in gateway.seen], ["/a", "/b", "/c"])
        self.assertEqual(len(responses(transport)), 3)

    def test_pipeline_limit(self) -> None:
        """A client sending far ahead of its answers is paused until they catch up."""
        gateway = Recorder(hold=True)
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"GET /a HTTP/1.1\r\n\r\n")
        protocol.dataReceived(b"GET /b HTTP/1.1\r\nX-Pad: " + b"p" * 2_000_000)
        self.assertEqual(transport.producerState, "paused")
        gateway.waiting.pop().callback(None)
        self.assertEqual(transport.producerState, "producing")

    def test_body_in_pieces(self) -> None:
        """A body arriving in pieces is gathered; ``Expect: 100-continue`` is honoured."""
        gateway = Recorder()
        protocol, transport = connect(gateway)
        protocol.dataReceived(
            b"PUT /b/k HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n01"
        )
        self.assertEqual(transport.value(), b"HTTP/1.1 100 Continue\r\n\r\n")
        self.assertEqual(gateway.seen, [])
        protocol.dataReceived(b"2345")
        protocol.dataReceived(b"6789GET /next HTTP/1.1\r\n\r\n")
        self.assertEqual([body for _, body in gateway.seen], [b"0123456789", b""])

    def test_refused_before_continue(self) -> None:
        """
        A head the gateway refuses gets its answer instead of ``100 Continue``,
        and the connection closes: the body is never read or handed on.
        """
        gateway = Recorder(refusal=HttpResponse(403, [], b"denied"))
        protocol, transport = connect(gateway)
        protocol.dataReceived(
            b"PUT /b/k HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"
        )
        written = transport.value()
        self.assertTrue(written.startswith(b"HTTP/1.1 403 Forbidden\r\n"), written)
        self.assertIn(b"\r\nConnection: close\r\n", written)
        self.assertTrue(written.endswith(b"\r\n\r\ndenied"))
        self.assertNotIn(b"100 Continue", written)
        self.assertTrue(transport.disconnecting)
        protocol.dataReceived(b"0123456789")
        self.assertEqual(gateway.seen, [])

    def test_body_kept_as_read(self) -> None:
        """A body kept in memory reaches the gateway as the very pieces read, uncopied."""
        gateway = Recorder()
        protocol, _ = connect(gateway)
        first, second = b"0123", b"456"
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\r\nContent-Length: 10\r\n\r\n")
        protocol.dataReceived(first)
        protocol.dataReceived(second)
        protocol.dataReceived(b"789")
        [pieces] = gateway.pieces
        self.assertIs(pieces[0], first)
        self.assertIs(pieces[1], second)
        self.assertEqual([body for _, body in gateway.seen], [b"0123456789"])

    def test_segments_answer(self) -> None:
        """A ``Segments`` body is written whole after its length; HEAD keeps only the length."""
        pieces: list[Piece] = [b"ab", memoryview(b"xcd")[1:]]
        gateway = Recorder(HttpResponse(200, [], Segments(pieces)))
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"GET /b/k HTTP/1.1\r\n\r\n")
        head, _, body = transport.value().partition(b"\r\n\r\n")
        self.assertIn(b"\r\nContent-Length: 4", head)
        self.assertEqual(body, b"abcd")
        transport.clear()
        gateway.answer = HttpResponse(200, [], Segments(pieces))
        protocol.dataReceived(b"HEAD /b/k HTTP/1.1\r\n\r\n")
        self.assertIn(b"\r\nContent-Length: 4\r\n", transport.value())
        self.assertTrue(transport.value().endswith(b"\r\n\r\n"))

    def test_large_segments_streamed(self) -> None:
        """A large ``Segments`` body is streamed after its length, not joined in one write."""
        pieces = [b"a" * 200_000, b"b" * 200_000]
        gateway = Recorder(HttpResponse(200, [], Segments(pieces)))
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"GET /b/k HTTP/1.1\r\n\r\n")
        self.assertIsNotNone(transport.producer)
        while transport.producer is not None:
            transport.producer.resumeProducing()
        head, _, body = transport.value().partition(b"\r\n\r\n")
        self.assertIn(b"\r\nContent-Length: 400000", head)
        self.assertEqual(body, b"".join(pieces))

    def test_large_body_spooled(self) -> None:
        """A body over the memory limit is kept in a temporary file and read back whole."""
        gateway = Recorder()
        protocol, _ = connect(gateway, memory_limit=8, mapped_limit=10)
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\r\nContent-Length: 20\r\n\r\n0123456789")
        protocol.dataReceived(b"abcdefghij")
        [(request, body)] = gateway.seen
        self.assertEqual(body, b"0123456789abcdefghij")
        self.assertNotIsInstance(request.body, BytesIO)

    def test_connection_close(self) -> None:
        """``Connection: close`` is answered with the same, then the connection closes."""
        protocol, transport = connect(Recorder())
        protocol.dataReceived(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertIn(b"\r\nConnection: close\r\n", transport.value())
        self.assertTrue(transport.disconnecting)

    def test_head_and_no_content(self) -> None:
        """HEAD answers keep their length but carry no body; 204 gets no length made up."""
        gateway = Recorder(HttpResponse(200, [("Content-Length", "5")], b""))
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"HEAD /b/k HTTP/1.1\r\n\r\n")
        head = transport.value()
        self.assertIn(b"\r\nContent-Length: 5\r\n", head)
        self.assertTrue(head.endswith(b"\r\n\r\n"))
        transport.clear()
        gateway.answer = HttpResponse(204)
        protocol.dataReceived(b"DELETE /b/k HTTP/1.1\r\n\r\n")
        self.assertNotIn(b"Content-Length", transport.value())

    def test_header_injection(self) -> None:
        """A header value holding line breaks is written on one line."""
        protocol, transport = connect(Recorder(HttpResponse(200, [("x-a", "1\r\nx-b: 2")])))
        protocol.dataReceived(b"GET / HTTP/1.1\r\n\r\n")
        self.assertIn(b"\r\nx-a: 1 x-b: 2\r\n", transport.value())

    def test_streamed_body(self) -> None:
        """A file body is streamed after its length; without a length, in chunks."""
        source = b"x" * 300_000
        gateway = Recorder(HttpResponse(200, [], BytesIO(source), length=len(source)))
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"GET /b/k HTTP/1.1\r\n\r\n")
        while transport.producer is not None:
            transport.producer.resumeProducing()
        head, _, body = transport.value().partition(b"\r\n\r\n")
        self.assertIn(b"Content-Length: 300000", head)
        self.assertEqual(body, source)
        transport.clear()
        gateway.answer = HttpResponse(200, [], BytesIO(b"abc"))
        protocol.dataReceived(b"GET /b/k HTTP/1.1\r\n\r\n")
        while transport.producer is not None:
            transport.producer.resumeProducing()
        head, _, body = transport.value().partition(b"\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertEqual(body, b"3\r\nabc\r\n0\r\n\r\n")

    def test_client_gone(self) -> None:
        """A client that leaves before its answer gets nothing written, and no error is logged."""
        gateway = Recorder(hold=True)
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"GET / HTTP/1.1\r\n\r\n")
        protocol.connectionLost(None)
        gateway.waiting.pop().callback(None)
        self.assertEqual(transport.value(), b"")
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_gateway_failure(self) -> None:
        """A failure escaping the gateway is logged and ends the connection."""
        protocol, transport = connect(Recorder(fail=True))
        protocol.dataReceived(b"GET / HTTP/1.1\r\n\r\n")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertTrue(transport.disconnected)

    def test_head_too_large(self) -> None:
        """A head that never ends is refused with 431, and the connection closed."""
        gateway = Recorder()
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"GET /b/k HTTP/1.1\r\nX-Big: " + b"b" * 70_000)
        protocol.dataReceived(b"more")
        self.assertEqual(gateway.seen, [])
        self.assertTrue(
            transport.value().startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
        )
        self.assertTrue(transport.disconnecting)

    def test_bare_lf(self) -> None:
        """A head whose lines end with a bare LF is read as if they ended with CRLF."""
        gateway = Recorder()
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\nHost: h\nContent-Length: 3\n\nabc")
        [(request, body)] = gateway.seen
        self.assertEqual((request.path, request.headers["host"], body), ("/b/k", "h", b"abc"))
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 200 OK\r\n"))
        protocol.dataReceived(b"GET /next HTTP/1.1\r\n\r\n")
        self.assertEqual(gateway.seen[-1][0].path, "/next")

    def test_mapped_body_read_as_it_arrives(self) -> None:
        """
        A body past the memory limit is received into one map; the reader
        sees it every ``READ_STEP`` bytes and at its end, before the gateway
        gets it with the reader.
        """
        gateway, reader = Recorder(), RecordingReader()
        protocol, _ = connect(gateway, memory_limit=8, reader=reader)
        body = bytes(range(256)) * (READ_STEP * 5 // 2 // 256)
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body))
        for start in range(0, len(body), 65536):
            self.assertEqual(gateway.seen, [])
            protocol.dataReceived(body[start : start + 65536])
        self.assertEqual(reader.seen, [body[:READ_STEP], body[: 2 * READ_STEP], body])
        [(request, received)] = gateway.seen
        self.assertEqual(received, body)
        assert isinstance(request.body, ReadBody)
        self.assertIs(request.body.reader, reader)

    def test_failing_reader(self) -> None:
        """A reader that fails is logged and dropped; the body still arrives whole."""
        gateway = Recorder()
        protocol, _ = connect(gateway, memory_limit=8, reader=RecordingReader(fail=True))
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\r\nContent-Length: 20\r\n\r\n0123456789")
        protocol.dataReceived(b"abcdefghij")
        [(request, body)] = gateway.seen
        self.assertEqual(body, b"0123456789abcdefghij")
        self.assertNotIsInstance(request.body, ReadBody)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_abandoned_mapped_body_dropped(self) -> None:
        """A mapped body whose client leaves never reaches the gateway or its reader again."""
        gateway, reader = Recorder(), RecordingReader()
        protocol, _ = connect(gateway, memory_limit=8, reader=reader)
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n")
        protocol.dataReceived(b"x" * (READ_STEP + 1))
        protocol.connectionLost(None)
        self.assertIsNone(protocol._spool)
        self.assertEqual(gateway.seen, [])
        self.assertEqual(len(reader.seen), 1)

    def test_abandoned_body_dropped(self) -> None:
        """A body whose client leaves never reaches the gateway; its temporary file is closed."""
        gateway = Recorder()
        protocol, _ = connect(gateway, memory_limit=8, mapped_limit=100)
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n")
        protocol.dataReceived(b"x" * 100)
        spooled = protocol._spool._file
        self.assertIsNotNone(spooled)
        protocol.connectionLost(None)
        self.assertTrue(spooled.closed)
        self.assertIsNone(protocol._spool)
        self.assertEqual(gateway.seen, [])

    def test_body_too_large(self) -> None:
        """A body declared past 5 GiB is refused with 413 before any of it is read."""
        gateway = Recorder()
        protocol, transport = connect(gateway)
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\r\nContent-Length: 1000000000000\r\n\r\nxx")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n"))
        self.assertTrue(transport.disconnecting)
        self.assertIsNone(protocol._spool)
        self.assertEqual(gateway.seen, [])


class ThreadlessReactor(MemoryReactorClock):
    """A memory reactor whose ``callFromThread`` calls at once (``QueuedPool`` runs on it)."""

    def callFromThread(self, callable: Any, *args: Any, **kwargs: Any) -> None:
        callable(*args, **kwargs)


@attrs.define
class QueuedPool:
    """A thread pool whose work waits until ``run`` does it, on the test's thread."""

    queued: list[tuple[Any, Any, tuple[Any, ...]]] = attrs.Factory(list)

    def callInThreadWithCallback(self, on_result: Any, work: Any, *args: Any) -> None:
        self.queued.append((on_result, work, args))

    def run(self) -> list[str]:
        """Do the queued work (not what it queues meanwhile); the names of what it did."""
        queued, self.queued = self.queued, []
        for on_result, work, args in queued:
            on_result(True, work(*args))
        return sorted(work.__name__ for _, work, _ in queued)


@attrs.define
class TwoLanes:
    """A body reader of two lanes, each recording what it saw."""

    first: RecordingReader = attrs.Factory(RecordingReader)
    second: RecordingReader = attrs.Factory(RecordingReader)

    def lanes(self) -> tuple[Lane, Lane]:
        return self.first.advance, self.second.advance


class PooledReaderTests(SynchronousTestCase):
    """Large bodies read in a thread pool, lane by lane, while they arrive."""

    def setUp(self) -> None:
        self.gateway, self.reader, self.pool = Recorder(), TwoLanes(), QueuedPool()
        reactor = ThreadlessReactor()
        factory = GatewayFactory(
            self.gateway,
            GatewaySite(Fallback(), reactor=reactor),
            reactor,
            8,
            body_readers=lambda request: self.reader,
            pool=self.pool,  # type: ignore[arg-type]
        )
        self.protocol, _ = connect(self.gateway, factory=factory)
        self.send(os.urandom(READ_STEP * 4))

    def send(self, body: bytes) -> None:
        """Send the head of a PUT of ``body`` (kept as ``self.body``)."""
        self.body = body
        self.protocol.dataReceived(
            b"PUT /b/k HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(self.body)
        )

    def test_lane_reads_on(self) -> None:
        """
        A lane busy when more arrives is not offered it again: it reads on
        by itself, and the gateway gets the body once every lane saw it all.
        """
        self.protocol.dataReceived(self.body[:READ_STEP])
        self.assertEqual(len(self.pool.queued), 3)
        self.protocol.dataReceived(self.body[READ_STEP : 3 * READ_STEP])
        # The map's pages are made ahead of the bytes received; those that
        # arrived are kept as they are.
        self.assertEqual(self.pool.run(), ["_populate", "_read", "_read"])
        self.assertEqual(self.protocol._spool._populated, len(self.body))
        three = self.body[: 3 * READ_STEP]
        self.assertEqual(self.reader.first.seen, [three])
        self.assertEqual(self.reader.second.seen, [three])
        self.protocol.dataReceived(self.body[3 * READ_STEP :])
        self.assertEqual(self.gateway.seen, [])
        self.assertEqual(self.pool.run(), ["_read", "_read"])
        self.assertEqual(self.reader.first.seen, [three, self.body])
        self.assertEqual(self.reader.second.seen, [three, self.body])
        [(request, received)] = self.gateway.seen
        self.assertEqual(received, self.body)
        assert isinstance(request.body, ReadBody)
        self.assertIs(request.body.reader, self.reader)

    def test_abandoned_body_freed(self) -> None:
        """
        A body whose client leaves is read no further; its map is freed
        once the lanes queued for it let go of it.
        """
        self.protocol.dataReceived(self.body[:READ_STEP])
        mapped = weakref.ref(self.protocol._spool._view.obj)
        self.protocol.connectionLost(None)
        self.assertIsNotNone(mapped())
        self.assertEqual(self.pool.run(), ["_populate", "_read", "_read"])
        self.assertEqual((self.reader.first.seen, self.reader.second.seen), ([], []))
        self.assertIsNone(mapped())
        self.assertEqual(self.gateway.seen, [])

    def test_populated_ahead(self) -> None:
        """The map's pages are made ``POPULATE_AHEAD`` past the bytes received, no further."""
        self.protocol.dataReceived(self.body)
        self.pool.run()
        self.pool.run()
        self.send(os.urandom(POPULATE_AHEAD * 2))
        self.assertEqual(self.pool.run(), ["_populate"])
        spool = self.protocol._spool
        self.assertEqual(spool._populated, POPULATE_AHEAD)
        # Half of that received: more is made.
        self.protocol.dataReceived(self.body[: POPULATE_AHEAD // 2 + 1])
        self.assertEqual(self.pool.run(), ["_populate", "_read", "_read"])
        self.assertEqual(spool._populated, POPULATE_AHEAD * 3 // 2)
        self.protocol.dataReceived(self.body[POPULATE_AHEAD // 2 + 1 :])
        while self.pool.run():
            pass
        self.assertEqual(self.gateway.seen[-1][1], self.body)


class IdleTimeoutTests(SynchronousTestCase):
    """Connections that stay silent are closed by the factory's sweep."""

    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.gateway = Recorder()
        site = GatewaySite(Fallback(), reactor=self.clock)
        self.factory = GatewayFactory(self.gateway, site, self.clock, 8, idle_timeout=60)
        self.factory.doStart()
        self.addCleanup(self.factory.doStop)

    def connect(self) -> tuple[Any, StringTransport]:
        return connect(self.gateway, factory=self.factory)

    def wait(self, seconds: float) -> None:
        for _ in range(int(seconds)):
            self.clock.advance(1)

    def test_idle_connection_closed(self) -> None:
        """A connection with no request for the timeout is closed without an answer."""
        protocol, transport = self.connect()
        protocol.dataReceived(b"GET / HTTP/1.1\r\n\r\n")
        transport.clear()
        self.wait(59)
        self.assertFalse(transport.disconnecting)
        self.wait(16)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(transport.value(), b"")

    def test_active_connection_kept(self) -> None:
        """A connection that sends a request now and then is never closed."""
        protocol, transport = self.connect()
        for _ in range(10):
            self.wait(40)
            protocol.dataReceived(b"GET / HTTP/1.1\r\n\r\n")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(len(self.gateway.seen), 10)

    def test_stalled_head(self) -> None:
        """A head that stops arriving is answered 408, and the connection closed."""
        protocol, transport = self.connect()
        protocol.dataReceived(b"GET / HTTP/1.1\r\nHost:")
        self.wait(76)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 408 Request Timeout\r\n"))
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.gateway.seen, [])

    def test_trickled_head(self) -> None:
        """A head whose bytes trickle in must still be whole within the timeout (slowloris)."""
        protocol, transport = self.connect()
        protocol.dataReceived(b"GET / HTTP/1.1\r\n")
        for second in range(90):
            if second % 10 == 0:
                protocol.dataReceived(b"X-A: b\r\n")
            self.clock.advance(1)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 408 Request Timeout\r\n"))
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.gateway.seen, [])

    def test_stalled_body(self) -> None:
        """A body that stops arriving is dropped (408): the gateway never sees the request."""
        protocol, transport = self.connect()
        protocol.dataReceived(b"PUT /b/k HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789")
        self.wait(30)
        protocol.dataReceived(b"slow but alive")
        self.wait(59)
        self.assertFalse(transport.disconnecting)
        self.wait(16)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 408 Request Timeout\r\n"))
        self.assertTrue(transport.disconnecting)
        protocol.connectionLost(None)
        self.assertEqual(self.gateway.seen, [])

    def test_busy_connection_kept(self) -> None:
        """A request the gateway takes long to answer does not time its connection out."""
        self.gateway.hold = True
        protocol, transport = self.connect()
        protocol.dataReceived(b"POST /invoke HTTP/1.1\r\n\r\n")
        self.wait(600)
        self.assertFalse(transport.disconnecting)
        self.gateway.waiting.pop().callback(None)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 200 OK\r\n"))

    def test_closed_connections_forgotten(self) -> None:
        """The sweep holds only open connections."""
        protocol, _ = self.connect()
        protocol.connectionLost(None)
        self.assertEqual(self.factory._connections, set())

    def test_stopped(self) -> None:
        """Stopping the factory stops its sweep."""
        self.factory.doStop()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.factory.doStart()


class HandOffTests(SynchronousTestCase):
    """What the server leaves to twisted.web, which serves the connection from then on."""

    def handed_off(self, data: bytes) -> tuple[Recorder, GatewayProtocol, StringTransport]:
        gateway = Recorder()
        protocol, transport = connect(gateway)
        protocol.dataReceived(data)
        return gateway, protocol, transport

    def test_http_1_0(self) -> None:
        gateway, _, transport = self.handed_off(b"GET /b/k HTTP/1.0\r\n\r\n")
        self.assertEqual(gateway.seen, [])
        self.assertTrue(transport.value().startswith(b"HTTP/1.0 200 OK"))
        self.assertTrue(transport.value().endswith(b"fallback GET /b/k "))

    def test_internal_path(self) -> None:
        gateway, protocol, transport = self.handed_off(b"GET /_awsemu/health HTTP/1.1\r\n\r\n")
        self.assertEqual(gateway.seen, [])
        self.assertTrue(transport.value().endswith(b"fallback GET /_awsemu/health "))
        transport.clear()
        protocol.dataReceived(b"GET /b/k HTTP/1.1\r\n\r\n")
        self.assertEqual(gateway.seen, [])
        self.assertTrue(transport.value().endswith(b"fallback GET /b/k "))

    def test_chunked_request(self) -> None:
        _, _, transport = self.handed_off(
            b"PUT /b/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        )
        self.assertIn(b"fallback PUT /b/k abc", transport.value())

    def test_after_a_served_request(self) -> None:
        """A request served here, then one handed off on the same connection."""
        gateway, protocol, transport = self.handed_off(
            b"GET /first HTTP/1.1\r\n\r\nGET /_localstack/health HTTP/1.1\r\n\r\n"
        )
        self.assertEqual([request.path for request, _ in gateway.seen], ["/first"])
        self.assertTrue(transport.value().endswith(b"fallback GET /_localstack/health "))

    def test_malformed(self) -> None:
        for head in (
            b"GET /b/k HTTP/1.1\r\nNo colon here\r\n\r\n",
            b"GET /b/k HTTP/1.1\nX-A: 1\r\n\r\n",
            b"GET /b/k HTTP/1.1\r\nX-A: 1\rX-B: 2\r\n\r\n",
            b"GET /b/k HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"GET /b/k HTTP/1.1\r\nBad Name: x\r\n\r\n",
        ):
            gateway, _, transport = self.handed_off(head)
            self.assertEqual(gateway.seen, [])
            self.assertTrue(transport.value().startswith(b"HTTP/1.1 400 Bad Request"), head)
