"""
The gateway's HTTP/1.1 server.

AWS clients speak a narrow, well-formed HTTP/1.1: keep-alive connections,
a ``Content-Length`` on every body, a dozen headers. ``twisted.web``'s
general server spends about 130 µs of CPU on each such request (a line at
a time, a ``Headers`` object each way, a ``Request`` and its resource
traversal): most of the budget of a small S3 GetObject or a proxied
DynamoDB GetItem. This protocol reads a request head in one pass into the
protocol layer's ``HttpRequest``, lets the gateway answer it, and writes
the ``HttpResponse`` head in one write.

Everything else goes to ``twisted.web``: HTTP/1.0, ``Transfer-Encoding``,
absolute-form targets, heads it cannot parse (Twisted's 400 answers them)
and the daemon's own endpoints, which Klein serves. At a request boundary
the connection is handed to an ``HTTPChannel`` of the gateway's site, for
the rest of its life. Its channel records header names as sent
(L{SpellingChannel}), so a service sees a request the same either way.

Connections are watched by one sweep per factory rather than a timer per
request: a request only sets a flag, and every quarter of the idle timeout
the sweep closes the connections that have not sent a byte since the
sweeps before. A head must also be whole within that time however its
bytes trickle in (the slowloris attack keeps connections open with a
header line every few seconds). A connection waiting for its next request
is closed silently, as AWS's front ends close idle keep-alive connections;
one stuck inside a request head or body gets a 408 first, and its partial
body is dropped without reaching the gateway. A connection the gateway is
answering is never timed out here (a Lambda invocation may take minutes).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from io import BytesIO
from typing import Any, BinaryIO, Final, NamedTuple
from typing import Protocol as TypingProtocol

import attrs
from twisted.internet import main, tcp
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IProtocol, IPullProducer, IReactorTime
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool
from twisted.web.http import RESPONSES, HTTPChannel, datetimeToString
from twisted.web.server import Site
from zope.interface import implementer

from awsemu.gateway.app import INTERNAL_PREFIXES, Gateway, GatewayRequest
from awsemu.gateway.spools import (
    BODY_READ_SIZE,
    MAPPED_BODY_LIMIT,
    MEMORY_BODY_LIMIT,
    BodySpool,
    MappedSpool,
)
from awsemu.protocol.http import (
    REMEMBERED_LENGTH,
    Headers,
    HttpRequest,
    HttpResponse,
    wire_bytes,
    wire_text,
)
from awsemu.protocol.segments import BodyReader, Piece, Segments
from awsemu.reply import Reply
from awsemu.transport import write_now

#: A head longer than this is refused (AWS refuses 8 KiB of S3 headers).
MAX_HEAD: Final = 64 * 1024
#: How many sweeps a silent connection survives: it is closed after between
#: the idle timeout and 1.25 times that.
_SWEEPS_PER_TIMEOUT: Final = 4
#: The largest body a request may declare: S3's largest single upload (a
#: PutObject or UploadPart of 5 GiB), more than any other AWS API takes.
#: A larger one is refused before a byte of it is read, rather than spooled
#: until the disk fills.
MAX_BODY: Final = 5 * 1024**3
#: How much a client may send ahead while its previous request is answered.
PIPELINE_LIMIT: Final = 1024 * 1024
#: Bytes read from a streamed response body at a time.
STREAM_CHUNK: Final = 256 * 1024

_HEAD_TOO_LARGE: Final = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)
_BODY_TOO_LARGE: Final = (
    b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)
_TIMED_OUT: Final = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)
#: Where a head ends whose lines end with a bare LF (RFC 9112 lets servers take them).
_BARE_LF_HEAD_END: Final = re.compile(b"\n\r?\n")
_LINE_END: Final = re.compile(b"\r?\n")
_NO_BODY_STATUSES: Final = frozenset({204, 304})
_INTERNAL: Final = tuple(prefix.decode() for prefix in INTERNAL_PREFIXES)


class SpellingChannel(HTTPChannel):
    """
    An ``HTTPChannel`` that records each header of a L{GatewayRequest} as
    sent (Twisted stores names in ``Header-Case``), as this module's own
    server passes them on: API Gateway's proxy events carry header names as
    the client spelled them, however the request reached the gateway.
    """

    def headerReceived(self, line: bytes) -> bool:
        if not super().headerReceived(line):
            return False
        request = self.requests[-1]
        if isinstance(request, GatewayRequest):
            name, _, value = line.partition(b":")
            request.sent_headers.append((name, value.strip(b" \t")))
        return True


class GatewaySite(Site):
    """
    ``twisted.web``'s side of the gateway (see the module docstring). The
    gateway writes one log line per request itself, with the service and
    operation, so the access log is not kept, and a failure never shows a
    traceback to the client. Request bodies are left to the services:
    Twisted's own form parsing would cost every POST a MIME parse and would
    read a whole multipart upload into memory.
    """

    displayTracebacks = False
    requestFactory = GatewayRequest
    # Twisted's default wraps the channel to negotiate HTTP/2, which it
    # only does over TLS: the gateway serves plain HTTP/1.x.
    protocol = SpellingChannel  # type: ignore[assignment]

    def log(self, request: Any) -> None:
        """No access log: see the class docstring."""


BodyReaders = Callable[[HttpRequest], BodyReader | None]
"""Who reads a large body while it arrives, given its request's head (None: nobody)."""


def no_readers(request: HttpRequest) -> None:
    """No body is read while it arrives."""


class Responder(TypingProtocol):
    """What answers the requests this server reads: the gateway."""

    async def respond(self, incoming: HttpRequest) -> HttpResponse: ...

    def refuse_head(self, incoming: HttpRequest) -> HttpResponse | None:
        """
        The final answer to a request whose head alone decides it (a bad
        signature), or None: asked before a client that sent ``Expect:
        100-continue`` is told to send its body, so a refused upload is
        never read.
        """


class _Head(NamedTuple):
    """A parsed request head: the request without its body, and how to read the body."""

    request: HttpRequest
    length: int
    keep_alive: bool
    expects_continue: bool


def _parse_head(head: bytes, remote: str) -> _Head | None:
    """
    The request ``head`` holds, or None when it is not the plain HTTP/1.1
    this server takes (see the module docstring).
    """
    lines = wire_text(head).split("\r\n")
    line_ends = len(lines) - 1
    if head.count(b"\n") != line_ends or head.count(b"\r") != line_ends:
        # A bare CR or LF inside a line: not a head this parser can split.
        return None
    request_line = lines[0].split(" ")
    if len(request_line) != 3 or request_line[2] != "HTTP/1.1":
        return None
    method, target, _ = request_line
    if not target.startswith("/") or target.startswith(_INTERNAL):
        return None
    parsed = []
    for index in range(1, len(lines)):
        line = lines[index]
        header = _header_line(line) if len(line) <= REMEMBERED_LENGTH else _parse_line(line)
        if header is None:
            return None
        parsed.append(header)
    headers = Headers.lowered(parsed)
    get = headers.lowered_get
    if get("transfer-encoding") is not None:
        return None
    length_text = get("content-length") or "0"
    if not length_text.isdigit() or not length_text.isascii():
        return None
    request = HttpRequest.from_uri(method, target, headers, host=get("host") or "", remote=remote)
    connection = (get("connection") or "").lower()
    expect = (get("expect") or "").lower()
    return _Head(request, int(length_text), "close" not in connection, expect == "100-continue")


def _parse_line(line: str) -> tuple[str, str, str] | None:
    """A header line's name as sent, value and lowercased name; None if it is not a header line."""
    name, colon, value = line.partition(":")
    if not colon or not name or " " in name or "\t" in name:
        return None
    return name, value.strip(" \t"), name.lower()


_header_line = functools.lru_cache(maxsize=1024)(_parse_line)
"""
L{_parse_line}, remembered for short lines: most lines of a client's
requests are the same from one request to the next (its host, user agent,
content type, the operation's target).
"""


@implementer(IPullProducer)
@attrs.define(eq=False)
class _StreamProducer:
    """Writes a file to a transport as fast as it takes it, then fires ``done``."""

    source: BinaryIO
    transport: Any
    done: Deferred[None] = attrs.Factory(Deferred)

    def resumeProducing(self) -> None:
        data = self.source.read(STREAM_CHUNK)
        if data:
            self.transport.write(data)
            return
        self.transport.unregisterProducer()
        self.done.callback(None)

    def stopProducing(self) -> None:
        # The client went away: the protocol sees its connection lost.
        if not self.done.called:
            self.done.callback(None)


@attrs.define(eq=False, repr=False)
class GatewayFactory(Factory):
    """
    Builds a ``GatewayProtocol`` per connection; ``site`` serves what it
    hands off. Its repr is object's: an attrs repr would render every
    stored object into Twisted's "Starting factory" log line.
    """

    noisy = False

    gateway: Responder
    site: Site
    clock: IReactorTime
    memory_body_limit: int | None = MEMORY_BODY_LIMIT
    idle_timeout: float | None = None
    body_readers: BodyReaders = no_readers
    #: Where body readers run; started and stopped with the factory.
    pool: ThreadPool | None = None
    mapped_body_limit: int = MAPPED_BODY_LIMIT
    fast: Callable[[HttpRequest, Reply[HttpResponse]], bool] | None = None
    """
    The gateway's fast paths (``Gateway.respond_fast``): the answer,
    without a coroutine, to a request whose body came with its head, given
    to a L{Reply}; false for the generic path (``respond``).
    """
    _date: tuple[int, bytes] = (0, b"")
    _connections: set[GatewayProtocol] = attrs.Factory(set)
    _sweeper: LoopingCall | None = None

    def buildProtocol(self, addr: IAddress | None) -> GatewayProtocol:
        return GatewayProtocol(self, getattr(addr, "host", ""))

    def startFactory(self) -> None:
        if self.pool is not None:
            self.pool.start()
        if self.idle_timeout is None:
            return
        self._sweeper = LoopingCall(self.sweep)
        self._sweeper.clock = self.clock
        self._sweeper.start(self.idle_timeout / _SWEEPS_PER_TIMEOUT, now=False)

    def stopFactory(self) -> None:
        if self.pool is not None:
            self.pool.stop()
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        self._sweeper = None

    def spool(self, head: _Head) -> BodySpool | MappedSpool:
        """Where the body of ``head`` is received (see ``MEMORY_BODY_LIMIT``)."""
        limit = self.memory_body_limit
        if limit is None or head.length <= limit or head.length > self.mapped_body_limit:
            return BodySpool(head.length, limit)
        return MappedSpool(head.length, self.body_readers(head.request), self.pool, self.clock)

    def opened(self, protocol: GatewayProtocol) -> None:
        self._connections.add(protocol)

    def closed(self, protocol: GatewayProtocol) -> None:
        self._connections.discard(protocol)

    def sweep(self) -> None:
        """Close the connections that stayed silent too long (see the module docstring)."""
        for protocol in list(self._connections):
            protocol.swept(_SWEEPS_PER_TIMEOUT)

    def date(self) -> bytes:
        """The ``Date`` header's value, formatted once a second."""
        now = int(self.clock.seconds())
        if self._date[0] != now:
            self._date = (now, datetimeToString(now))
        return self._date[1]


def gateway_factory(
    gateway: Gateway,
    reactor: Any,
    memory_body_limit: int | None = MEMORY_BODY_LIMIT,
    idle_timeout: float | None = None,
    body_readers: BodyReaders = no_readers,
) -> GatewayFactory:
    """
    The factory that serves ``gateway`` on its port, keeping request bodies
    up to ``memory_body_limit`` bytes (None: all of them) in memory as they
    arrive, letting ``body_readers`` read larger ones while they arrive
    (in a thread pool of its own), and closing connections silent for
    ``idle_timeout`` seconds (None: never).
    """
    site = GatewaySite(
        gateway.resource(),
        reactor=reactor,
        parsePOSTFormSubmission=False,
        # twisted.web's own idle timeout, for the connections handed to it.
        timeout=idle_timeout,
    )
    # Three threads per large upload (two reader lanes, the pages made ahead); a
    # second upload at once shares them.
    pool = ThreadPool(minthreads=0, maxthreads=4, name="awsemu-gateway-bodies")
    return GatewayFactory(
        gateway,
        site,
        reactor,
        memory_body_limit,
        idle_timeout,
        body_readers,
        pool,
        fast=gateway.respond_fast,
    )


class GatewayProtocol(Protocol):
    """
    One client connection; see the module docstring. Requests are answered
    one at a time, in order; what a client sends ahead waits in the buffer
    (reading pauses when too much does).
    """

    log = Logger()

    def __init__(self, factory: GatewayFactory, remote: str) -> None:
        self._factory = factory
        self._remote = remote
        self._buffer = b""
        self._spool: BodySpool | MappedSpool | None = None
        self._head: _Head | None = None
        self._busy = False
        self._paused = False
        self._advancing = False
        self._lost = False
        self._delegate: IProtocol | None = None
        self._default_read_size: int | None = None
        #: Whether bytes came since the last sweep, how many sweeps found none,
        #: and how many found the same unfinished head.
        self._heard = False
        self._silent_sweeps = 0
        self._head_sweeps = 0

    def connectionMade(self) -> None:
        self._factory.opened(self)

    def swept(self, limit: int) -> None:
        """
        One sweep of the factory's: count it if the connection was silent
        since the last one, and time it out at the ``limit``-th.
        """
        if self._busy or self._lost or self._delegate is not None:
            self._heard = False
            self._silent_sweeps = self._head_sweeps = 0
            return
        if self._buffer and self._spool is None:
            self._head_sweeps += 1
        else:
            self._head_sweeps = 0
        if self._heard:
            self._heard = False
            self._silent_sweeps = 0
        else:
            self._silent_sweeps += 1
        if self._silent_sweeps < limit and self._head_sweeps <= limit:
            return
        self._lost = True
        if self._buffer or self._spool is not None:
            self.transport.write(_TIMED_OUT)  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self._heard = True
        if self._delegate is not None:
            self._delegate.dataReceived(data)
            return
        if self._lost:
            return
        spool = self._spool
        if spool is not None:
            if len(data) <= spool.remaining:
                spool.write(data)
                data = b""
            else:
                spool.write(data[: spool.remaining])
                data = data[spool.remaining :]
            if spool.remaining:
                return
        self._buffer += data
        if self._busy:
            if len(self._buffer) > PIPELINE_LIMIT and not self._paused:
                self._paused = True
                self.transport.pauseProducing()  # type: ignore[union-attr]
            return
        self._advance()

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._lost = True
        self._factory.closed(self)
        if self._delegate is not None:
            self._delegate.connectionLost(reason)  # type: ignore[arg-type]
        self._buffer = b""
        if self._spool is not None:
            self._spool.discard()
            self._spool = self._head = None

    def _advance(self) -> None:
        """Answer what the buffer holds, until a request has to wait or more bytes are needed."""
        if self._advancing:
            return
        self._advancing = True
        try:
            while self._step():
                pass
        finally:
            self._advancing = False

    def _step(self) -> bool:
        """Take the next step; True when another may follow at once."""
        if self._busy or self._lost or self._delegate is not None:
            return False
        if self._spool is not None and self._head is not None:
            if self._spool.remaining:
                return False
            head, spool = self._head, self._spool
            self._head = self._spool = None
            self._read_size(None)
            self._serve(head, spool)
            return True
        if not self._buffer:
            return False
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            bare = _BARE_LF_HEAD_END.search(self._buffer)
            if bare is not None:
                # Lines that end with a bare LF: the same head, with CRLFs.
                lines = _LINE_END.sub(b"\r\n", self._buffer[: bare.start()])
                self._buffer = lines + b"\r\n\r\n" + self._buffer[bare.end() :]
                return True
            if len(self._buffer) > MAX_HEAD:
                self._refuse(_HEAD_TOO_LARGE)
            return False
        parsed = _parse_head(self._buffer[:end], self._remote)
        if parsed is None:
            self._hand_off()
            return False
        head = parsed
        if head.length > MAX_BODY:
            self._refuse(_BODY_TOO_LARGE)
            return False
        body_start = end + 4
        if len(self._buffer) - body_start >= head.length:
            body_end = body_start + head.length
            head.request.body = BytesIO(self._buffer[body_start:body_end])
            self._buffer = self._buffer[body_end:]
            self._serve(head)
            return True
        spool = self._factory.spool(head)
        spool.write(self._buffer[body_start:])
        self._buffer = b""
        self._head, self._spool = head, spool
        self._read_size(BODY_READ_SIZE if spool.remaining > BODY_READ_SIZE else None)
        if isinstance(spool, MappedSpool) and spool.remaining:
            self._read_into()
        if head.expects_continue:
            refusal = self._factory.gateway.refuse_head(head.request)
            if refusal is not None:
                self._refuse_unread(head, refusal)
                return False
            write_now(self.transport, b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[arg-type]
        return False

    def _refuse_unread(self, head: _Head, response: HttpResponse) -> None:
        """
        Answer ``response`` instead of ``100 Continue`` and close: the body
        the client holds back is never read (RFC 9110, section 10.1.1 lets
        the server close rather than read it).
        """
        if self._spool is not None:
            self._spool.discard()
        self._head = self._spool = None
        self._read_size(None)
        self._busy = self._lost = True
        Deferred.fromCoroutine(self._answer_unread(head, response)).addErrback(self._failed)

    async def _answer_unread(self, head: _Head, response: HttpResponse) -> None:
        try:
            await self._write(response, head.request.method == "HEAD", keep_alive=False)
        finally:
            self.transport.loseConnection()  # type: ignore[union-attr]

    def _read_into(self) -> None:
        """
        While a mapped body arrives over TCP, read the socket straight into
        its map: one ``recv_into`` per read, instead of a new bytes object
        copied into the map (64 MiB: 28 ms of CPU instead of 70 here), and
        the kernel's copy runs without the GIL.
        """
        if isinstance(self.transport, tcp.Connection):
            self.transport.doRead = self._read_body

    def _read_body(self) -> object:
        """The transport's ``doRead`` while a mapped body arrives (see ``_read_into``)."""
        transport: Any = self.transport
        spool = self._spool
        if not isinstance(spool, MappedSpool) or not spool.remaining:
            del transport.doRead
            return transport.doRead()
        try:
            received = spool.receive(transport.socket)
        except BlockingIOError:
            return None
        except OSError:
            return main.CONNECTION_LOST
        if not received:
            return main.CONNECTION_DONE
        self._heard = True
        if not spool.remaining:
            del transport.doRead
            self._advance()
        return None

    def _refuse(self, answer: bytes) -> None:
        """Answer a request this server will not read, and close the connection."""
        self._buffer = b""
        self.transport.write(answer)  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]
        self._lost = True

    def _read_size(self, size: int | None) -> None:
        """Read the socket ``size`` bytes at a time (None: Twisted's default), where it can."""
        transport: Any = self.transport
        if not hasattr(transport, "bufferSize"):
            return
        if self._default_read_size is None:
            self._default_read_size = transport.bufferSize
        transport.bufferSize = size or self._default_read_size

    def _hand_off(self) -> None:
        """Give this connection, from the current request on, to ``twisted.web``."""
        channel = self._factory.site.buildProtocol(self.transport.getPeer())  # type: ignore[union-attr]
        assert channel is not None
        self._delegate = channel
        channel.makeConnection(self.transport)
        data, self._buffer = self._buffer, b""
        channel.dataReceived(data)

    def _serve(self, head: _Head, spool: BodySpool | MappedSpool | None = None) -> None:
        self._busy = True
        fast = self._factory.fast
        # A small body may come after its head (as http.client and urllib3
        # send them: two writes); a fast path takes it as one that came with it.
        held = spool.in_memory() if isinstance(spool, BodySpool) else None
        if fast is not None and (spool is None or held is not None):
            if held is not None:
                head.request.body = held
            try:
                taken = fast(head.request, _Answering(self, head))
            except Exception:
                self._failed(Failure())
                return
            if taken:
                return
        Deferred.fromCoroutine(self._answer(head, spool)).addErrback(self._failed)

    async def _answer(self, head: _Head, spool: BodySpool | MappedSpool | None) -> None:
        if spool is not None:
            head.request.body = await spool.body()
        try:
            response = await self._factory.gateway.respond(head.request)
        finally:
            head.request.body.close()
        if self._lost:
            _close_body(response)
            return
        await self._write(response, head.request.method == "HEAD", head.keep_alive)
        self._next(head.keep_alive)

    def _answered(self, response: HttpResponse, head: _Head) -> None:
        """
        Send the answer a fast path gave (see ``GatewayFactory.fast``): a
        body in memory at once, without a coroutine.
        """
        try:
            head.request.body.close()
            if not isinstance(response.body, bytes) or self._lost:
                Deferred.fromCoroutine(self._deliver(response, head)).addErrback(self._failed)
                return
            head_only = head.request.method == "HEAD"
            data, _, _ = self._rendered(response, head_only, head.keep_alive)
            write_now(self.transport, data)  # type: ignore[arg-type]
            self._next(head.keep_alive)
        except Exception:
            self._failed(Failure())

    async def _deliver(self, response: HttpResponse, head: _Head) -> None:
        """Send ``response`` to ``head``'s request, and go on to the next request."""
        if self._lost:
            _close_body(response)
            return
        await self._write(response, head.request.method == "HEAD", head.keep_alive)
        self._next(head.keep_alive)

    def _next(self, keep_alive: bool) -> None:
        """The answer is sent: close, or read the next request."""
        if not keep_alive:
            self.transport.loseConnection()  # type: ignore[union-attr]
            return
        self._busy = False
        if self._paused:
            self._paused = False
            self.transport.resumeProducing()  # type: ignore[union-attr]
        self._advance()

    def _failed(self, failure: Failure) -> None:
        # Only a gateway bug or writing the response can fail here: the
        # client gets no half-written answer, the daemon keeps serving.
        self.log.failure("Answering a request failed", failure)
        if not self._lost:
            self.transport.abortConnection()  # type: ignore[union-attr]

    async def _write(self, response: HttpResponse, head_only: bool, keep_alive: bool) -> None:
        data, stream, chunked = self._rendered(response, head_only, keep_alive)
        transport: Any = self.transport
        if stream is None:
            write_now(transport, data)
            return
        transport.write(data)
        try:
            if not head_only and response.status not in _NO_BODY_STATUSES:
                await self._stream(stream, chunked)
        finally:
            stream.close()

    def _rendered(
        self, response: HttpResponse, head_only: bool, keep_alive: bool
    ) -> tuple[bytes, BinaryIO | None, bool]:
        """
        The bytes to write first: the head, and the body if it is small
        enough to go with it; the body to stream after it, if not (or
        None); whether that is chunked.
        """
        status = response.status
        lines = []
        has_length = has_date = False
        for name, value in response.headers:
            lowered = name.lower()
            if lowered == "content-length":
                has_length = True
            elif lowered == "date":
                has_date = True
            if "\r" in value or "\n" in value:
                value = " ".join(value.splitlines())
            lines.append(f"{name}: {value}\r\n")
        # One encoding of all the lines gives the bytes encoding each would.
        parts: list[Piece] = [_status_line(status), wire_bytes("".join(lines))]
        if response.passed_headers:
            parts.append(response.passed_headers)
        if not has_date:
            parts.append(b"Date: %s\r\n" % self._factory.date())
        # A small body goes out with the head in one write; a large one, or a
        # file, is streamed a chunk at a time (for a large body in memory,
        # that is cheaper than joining its pieces into one huge write).
        body = response.body
        inline: list[Piece] = []
        stream: BinaryIO | None = None
        length = response.length
        if isinstance(body, bytes):
            inline.append(body)
            length = len(body)
        elif isinstance(body, Segments) and body.size - body.tell() <= STREAM_CHUNK:
            inline = body.take()
            length = sum(len(piece) for piece in inline)
        else:
            stream = body
            if isinstance(body, Segments):
                length = body.size - body.tell()
        chunked = False
        if not has_length and status not in _NO_BODY_STATUSES:
            if length is not None:
                parts.append(b"Content-Length: %d\r\n" % length)
            elif not head_only:
                parts.append(b"Transfer-Encoding: chunked\r\n")
                chunked = True
        if not keep_alive:
            parts.append(b"Connection: close\r\n")
        parts.append(b"\r\n")
        if stream is None and not head_only and status not in _NO_BODY_STATUSES:
            parts += inline
        return b"".join(parts), stream, chunked

    async def _stream(self, body: BinaryIO, chunked: bool) -> None:
        transport: Any = self.transport
        consumer = _ChunkedWriter(transport) if chunked else transport
        producer = _StreamProducer(body, consumer)
        transport.registerProducer(producer, False)
        await producer.done
        if chunked:
            transport.write(b"0\r\n\r\n")


@attrs.define(eq=False)
class _Answering:
    """The L{Reply} a fast path gives its answer to ``head``'s request (L{GatewayFactory.fast})."""

    protocol: GatewayProtocol
    head: _Head

    def callback(self, response: HttpResponse) -> None:
        self.protocol._answered(response, self.head)

    def errback(self, fail: Failure) -> None:
        self.protocol._failed(fail)


@functools.lru_cache(maxsize=64)
def _status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, RESPONSES.get(status, b"Unknown Status"))


@attrs.define(eq=False)
class _ChunkedWriter:
    """A transport's writes framed in HTTP/1.1 chunks, for a body of unknown length."""

    transport: Any

    def write(self, data: bytes) -> None:
        self.transport.writeSequence((b"%x\r\n" % len(data), data, b"\r\n"))

    def unregisterProducer(self) -> None:
        self.transport.unregisterProducer()


def _close_body(response: HttpResponse) -> None:
    if not isinstance(response.body, bytes):
        response.body.close()
