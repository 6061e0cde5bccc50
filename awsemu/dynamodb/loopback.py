"""
A lean HTTP/1.1 client for the one server the DynamoDB proxy talks to:
DynamoDB Local, on a port of 127.0.0.1.

Twisted's C{Agent} costs about 290 µs of CPU per request (URI parsing,
C{Headers}, body producers, a response protocol and a second Deferred
chain for the body), as much as DynamoDB Local takes to answer a GetItem.
This client sends each request in one write, at once (L{write_now}), and
reads the response with one small parser, over a L{LoopbackPool} of
persistent connections.

What it need not do, being the client of one known server: no TLS, no
proxies, no redirects, no compression, no C{Expect: 100-continue}, no
pipelining (one request per connection at a time).

What it must do, because DynamoDB requests are not idempotent: never send
a request twice. A request goes out on one connection; if that connection
dies before the whole response is in, the caller gets a L{LoopbackError}
(or the reactor's connection error) and decides. The one case where a
resend would be tempting, a keep-alive connection the server closed while
it sat idle, is avoided rather than repaired: Jetty (DynamoDB Local's
server) closes connections idle for 30 seconds, and the pool does not
reuse one idle for L{MAX_IDLE} seconds, well before; a close it has
already seen takes the connection out of the pool at once.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable, Iterable
from typing import Final, cast

import attrs
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import (
    IAddress,
    IConnector,
    IDelayedCall,
    IReactorTCP,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.python.failure import Failure

from awsemu.protocol.http import REMEMBERED_LENGTH
from awsemu.reply import Reply
from awsemu.transport import write_now

MAX_CONNECTIONS: Final = 32
"""Connections open to DynamoDB Local at most: more requests at once wait for one."""

MAX_IDLE: Final = 20.0
"""
Seconds a connection may sit idle and still be reused: Jetty closes
DynamoDB Local's after 30 (its connector's default idle timeout, measured
with Jetty 12.1 in DynamoDB Local 3.3), and a request written as it closes
would be lost.
"""

RESPONSE_TIMEOUT: Final = 60.0
"""
Seconds a request waits for its whole response before it fails and its
connection is closed: generous, far longer than a working DynamoDB Local
takes over any request, and as long as botocore's default read timeout,
after which an SDK client has given up anyway.
"""

MAX_HEAD: Final = 65536
"""Bytes of status line and headers at most, and of a chunk-size line or trailer."""


class LoopbackError(Exception):
    """DynamoDB Local's response could not be read; the request may or may not have run."""


class BadResponse(LoopbackError):
    """The response is not well-formed HTTP/1.1."""


class ResponseLost(LoopbackError):
    """The connection closed before the whole response was in."""


class PoolClosed(LoopbackError):
    """The pool was closed while the request waited for a connection."""


class ResponseTimeout(LoopbackError):
    """No whole response came in time: the server may be hung, and may yet act on the request."""


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _tokens(value: str) -> list[str]:
    """A list-valued header's items, lowercased (C{Connection}, C{Transfer-Encoding})."""
    return [token.strip().lower() for token in value.split(",")]


def _parse_line(line: str) -> tuple[str, str] | None:
    """A response header line's name and value; None if it is not one."""
    name, colon, value = line.partition(":")
    if not colon or not name or name[0] in " \t" or name[-1] in " \t":
        return None
    return name, value.strip(" \t")


_header_line = functools.lru_cache(maxsize=256)(_parse_line)
"""
L{_parse_line}, remembered for short lines: DynamoDB Local's responses
repeat most of theirs (its server, the content type, lengths, the date
for a second).
"""


def _fields(head: bytes) -> list[tuple[str, str]]:
    """
    The headers of ``head`` (lines each ending with CR LF), read as UTF-8
    with undecodable bytes kept as the gateway reads headers: only a CR LF
    ends a line, a lone CR or LF is part of one. L{BadResponse} for a line
    that is not a header.
    """
    fields = []
    for line in head.decode("utf-8", "surrogateescape").split("\r\n")[:-1]:
        field = _header_line(line) if len(line) <= REMEMBERED_LENGTH else _parse_line(line)
        if field is None:
            raise BadResponse(f"Not a header: {line!r}")
        fields.append(field)
    return fields


def _is_plain(head: bytes) -> bool:
    """Whether ``head``'s only CRs and LFs are the CR LFs that end its lines."""
    ends = head.count(b"\r\n")
    return head.count(b"\r") == ends and head.count(b"\n") == ends


@attrs.define
class LoopbackResponse:
    """
    A whole response: its status, its header lines and its body. Not
    frozen, though never changed: one request makes one, and a frozen
    class takes three times as long to make (0.3 µs against 0.1).
    """

    status: int
    head: bytes
    """The header lines as received, each ending with CR LF, for passing them on."""
    body: bytes
    plain: bool = attrs.field(
        default=attrs.Factory(lambda self: _is_plain(self.head), takes_self=True)
    )
    """
    Whether no header line holds a lone CR or LF (L{_is_plain}): told by
    the parser, which knows from reading the lines; worked out if not told.
    """

    @property
    def headers(self) -> list[tuple[str, str]]:
        """
        The headers, names spelled as sent, repeats apart (see L{_fields}):
        read from ``head`` on each use, as only the proxy's generic path
        reads them, once; the fast path passes the lines on as they are.
        """
        return _fields(self.head)


_STATUS: Final = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?:\r\n| )")
"""The start of a status line: version, code, and the end of the line or a reason."""

_LINE: Final = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]++:[\t\x20-\x7e\x80-\xff]*+\r\n"
"""A header line as servers send them: a token for a name, no control character but tabs."""

_UNFRAMING_LINE: Final = rb"(?!(?i:content-length|transfer-encoding|connection):)" + _LINE
"""Such a line, but for the headers that frame the body."""

_USUAL_HEAD: Final = re.compile(
    rb"HTTP/1\.([01]) ([0-9]{3})(?: [\t\x20-\x7e\x80-\xff]*+)?\r\n"
    rb"((?:%s)*+(?i:content-length):[ \t]*+([0-9]++)[ \t]*+\r\n(?:%s)*+)"
    % (_UNFRAMING_LINE, _UNFRAMING_LINE)
)
"""
A response's head as DynamoDB Local sends it, but for the empty line: its
status line (version, code, reason without control characters), lines as
servers send them (L{_LINE}: the third group), one of them a
C{Content-Length} (the fourth), none a C{Transfer-Encoding} or
C{Connection}. Matching it takes a fifth of the time reading the lines one
by one does (L{_fields}, then L{_framing}), as any other head is read.
"""

_FRAMING: Final = re.compile(
    rb"(?is)\r\n(content-length|transfer-encoding|connection):(.*?)(?=\r\n)"
)
"""
The headers that frame the body, in a status line and header lines: a
line starts after each CR LF (a lone CR or LF is part of a line) and its
name ends at its first colon, and no name holds a colon.
"""


def _framing(raw: bytes, start: int, close: bool) -> tuple[set[str], list[str], bool]:
    """
    The C{Content-Length}s, C{Transfer-Encoding}s and whether a
    C{Connection} says to close (or ``close``) of a status line and header
    lines ``raw``, from ``start``, the CR LF that ends the status line.
    """
    lengths: set[str] = set()
    codings: list[str] = []
    for name, raw_value in _FRAMING.findall(raw, start):
        lowered = name.lower()
        value = raw_value.strip(b" \t").decode("utf-8", "surrogateescape")
        if lowered == b"content-length":
            # One length, as servers send it, needs no splitting into a list.
            if value.isdigit():
                lengths.add(value)
            else:
                lengths.update(_tokens(value))
        elif lowered == b"transfer-encoding":
            codings += _tokens(value)
        else:
            close = close or "close" in _tokens(value)
    return lengths, codings, close


class ResponseParser:
    """
    Reads one response from the bytes given to L{feed}, as they come.
    Its body is framed by C{Transfer-Encoding: chunked}, C{Content-Length},
    or the end of the connection (then L{finish} gives the response);
    interim (1xx) responses are skipped, but C{101} is an error (no upgrade
    is ever asked for). ``reusable`` says, once the response is complete,
    whether the connection may carry another request.
    """

    def __init__(self, head_request: bool = False) -> None:
        self._head_request = head_request
        self._buffer = b""
        self._status = 0
        self._head = b""
        self._plain = True
        self._body: list[bytes] = []
        self._remaining = 0
        # The step that reads on, as a function of the class: a bound method
        # kept here would make each parser a reference cycle, left for the
        # garbage collector (which, run that often, costs every request).
        self._state: Callable[[ResponseParser], bool] = ResponseParser._read_head
        self.response: LoopbackResponse | None = None
        self.reusable = False
        self.leftover = b""
        """Bytes received after the response: none from a server that waits for a request."""

    def feed(self, data: bytes) -> LoopbackResponse | None:
        """The response, once ``data`` completes it; L{BadResponse} if it is malformed."""
        self._buffer = self._buffer + data if self._buffer else data
        while self.response is None and self._state(self):
            pass
        return self.response

    def finish(self) -> LoopbackResponse:
        """The response, now that the connection has closed; L{ResponseLost} if it is cut short."""
        if self._state is not ResponseParser._read_until_close:
            raise ResponseLost("DynamoDB Local closed the connection before its response ended")
        self._read_until_close()
        self._complete()
        assert self.response is not None
        return self.response

    def _line(self, end: bytes, kept: int = 0) -> bytes | None:
        """
        The buffer up to ``end`` (and the first ``kept`` bytes of it), taken
        from it with ``end``, once it holds ``end``.
        """
        index = self._buffer.find(end)
        if index < 0:
            if len(self._buffer) > MAX_HEAD:
                raise BadResponse("The response's head is too long")
            return None
        line, self._buffer = self._buffer[: index + kept], self._buffer[index + len(end) :]
        return line

    def _read_head(self) -> bool:
        # The status line and header lines, each ending with CR LF.
        raw = self._line(b"\r\n\r\n", kept=2)
        if raw is None:
            return False
        usual = _USUAL_HEAD.fullmatch(raw)
        codings: list[str]
        if usual is not None:
            close, status, head = usual[1] == b"0", int(usual[2]), usual[3]
            plain, lengths, codings = True, {usual[4].decode()}, []
        else:
            status_end = raw.find(b"\r\n")
            started = _STATUS.match(raw)
            if started is None:
                status_line = raw[:status_end].decode("utf-8", "surrogateescape")
                raise BadResponse(f"Not an HTTP/1.1 status line: {status_line!r}")
            status, head = int(started[2]), raw[status_end + 2 :]
            _fields(head)  # Is a line malformed, or only unusual?
            plain = _is_plain(head)
            lengths, codings, close = _framing(raw, status_end, started[1] == b"0")
        if status == 101:
            raise BadResponse("DynamoDB Local switched protocols unasked")
        if status < 200:
            return True  # An interim response: the real one follows.
        self._status, self._head, self._plain = status, head, plain
        self.reusable = not close
        if self._head_request or status in (204, 304):
            self._complete()
        elif codings:
            # Transfer-Encoding overrides Content-Length (RFC 9112, 6.3), but
            # a message with both is suspect: its connection is not reused.
            self.reusable = self.reusable and not lengths
            if codings[-1] == "chunked":
                self._state = ResponseParser._read_chunk_size
            else:
                self._state, self.reusable = ResponseParser._read_until_close, False
        elif lengths:
            if len(lengths) > 1 or not _is_number(length := next(iter(lengths))):
                raise BadResponse(f"Invalid Content-Length: {', '.join(sorted(lengths))}")
            self._remaining, self._state = int(length), ResponseParser._read_length
        else:
            self._state, self.reusable = ResponseParser._read_until_close, False
        return True

    def _take(self) -> bool:
        """Move up to ``_remaining`` bytes of the buffer to the body; whether all have come."""
        piece = self._buffer[: self._remaining]
        self._buffer = self._buffer[len(piece) :]
        self._remaining -= len(piece)
        if piece:
            self._body.append(piece)
        return not self._remaining

    def _read_length(self) -> bool:
        if self._take():
            self._complete()
        return False

    def _read_chunk_size(self) -> bool:
        line = self._line(b"\r\n")
        if line is None:
            return False
        size = line.partition(b";")[0].strip(b" \t")
        if not size or size.strip(b"0123456789abcdefABCDEF") or len(size) > 16:
            raise BadResponse(f"Invalid chunk size: {line[:40]!r}")
        self._remaining = int(size, 16)
        self._state = (
            ResponseParser._read_chunk if self._remaining else ResponseParser._read_trailer
        )
        return True

    def _read_chunk(self) -> bool:
        if not self._take():
            return False
        self._state = ResponseParser._read_chunk_end
        return True

    def _read_chunk_end(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if not self._buffer.startswith(b"\r\n"):
            raise BadResponse("A chunk does not end with CRLF")
        self._buffer, self._state = self._buffer[2:], ResponseParser._read_chunk_size
        return True

    def _read_trailer(self) -> bool:
        """Skip the trailer section: DynamoDB's headers all come before the body."""
        line = self._line(b"\r\n")
        if line is None:
            return False
        if not line:
            self._complete()
        return True

    def _read_until_close(self) -> bool:
        if self._buffer:
            self._body.append(self._buffer)
            self._buffer = b""
        return False

    def _complete(self) -> None:
        self.response = LoopbackResponse(
            self._status, self._head, b"".join(self._body), self._plain
        )
        self.leftover, self._buffer = self._buffer, b""


def render_request(
    port: int, method: bytes, target: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> bytes:
    """
    A request's bytes, for DynamoDB Local on ``port``: ``headers`` must not
    include C{Host}, C{Content-Length}, C{Transfer-Encoding} or C{Connection},
    which are this client's. L{ValueError} if a CR or LF (or, in the request
    line, a space) inside a field would let it be read as another request.
    """
    if b" " in method or b" " in target:
        raise ValueError("Space in the request line")
    head = [
        b"%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d"
        % (method, target, port, len(body))
    ]
    head += [name + b": " + value for name, value in headers]
    rendered = b"\r\n".join(head)
    # Lines are only ended by the CR LFs put there here (two in the first
    # item, one between items): any other CR or LF would show in the counts.
    breaks = len(head) + 1
    if rendered.count(b"\r") != breaks or rendered.count(b"\n") != breaks:
        raise ValueError("CR or LF in a request field")
    return rendered + b"\r\n\r\n" + body


class _Connection(Protocol):
    """One connection of the pool, carrying one request at a time."""

    def __init__(self, pool: LoopbackPool, port: int, ready: Deferred[_Connection]) -> None:
        self.pool = pool
        self.port = port
        self.connector: IConnector | None = None
        self.idle_since = 0.0
        self.ready = ready
        """Fires with this connection once it is connected (unless cancelled)."""
        self.lost: Deferred[None] = Deferred()
        """Fires once it is closed, or failed to connect."""
        self._parser: ResponseParser | None = None
        self._answer: Reply[LoopbackResponse] | None = None
        self._deadline = 0.0
        self._watchdog: IDelayedCall | None = None

    def connectionMade(self) -> None:
        # A request is one write, but one larger than a segment would have
        # its last segment held back by Nagle's algorithm until an ACK.
        cast(ITCPTransport, self.transport).setTcpNoDelay(True)
        self.ready.callback(self)

    def send(self, request: bytes, head_request: bool) -> Deferred[LoopbackResponse]:
        """Write ``request``; the response, once whole. Cancelling closes the connection."""
        answer: Deferred[LoopbackResponse] = Deferred(self._abandon)
        self.send_to(request, head_request, answer)
        return answer

    def send_to(self, request: bytes, head_request: bool, reply: Reply[LoopbackResponse]) -> None:
        """Write ``request``; the response, once whole, goes to ``reply``."""
        self._parser = ResponseParser(head_request)
        self._answer = reply
        clock, timeout = self.pool.clock, self.pool.response_timeout
        self._deadline = clock.seconds() + timeout
        if self._watchdog is None:
            self._watchdog = clock.callLater(timeout, self._check_deadline)
        assert self.transport is not None, "only connected connections are handed out"
        write_now(self.transport, request)

    def _check_deadline(self) -> None:
        """
        Fail the request in flight if its deadline has passed, closing the
        connection (a late response would pass for the next request's), or
        look again at its deadline. One timer per connection, armed by a
        request only when none is, and dropped once it finds the connection
        idle: a timer set and cancelled on every request would cost more
        than the rest of the pool's bookkeeping.
        """
        self._watchdog = None
        answer = self._answer
        if answer is None:
            return
        clock = self.pool.clock
        left = self._deadline - clock.seconds()
        if left > 0:
            self._watchdog = clock.callLater(left, self._check_deadline)
            return
        self._parser = self._answer = None
        self.pool.close_connection(self)
        answer.errback(
            Failure(
                ResponseTimeout(
                    f"DynamoDB Local did not answer within {self.pool.response_timeout:g} seconds"
                )
            )
        )

    def dataReceived(self, data: bytes) -> None:
        parser, answer = self._parser, self._answer
        if parser is None or answer is None:
            self.pool.close_connection(self)  # Bytes no request asked for: no longer in step.
            return
        try:
            response = parser.feed(data)
        except BadResponse as e:
            self._parser = self._answer = None
            self.pool.close_connection(self)
            answer.errback(Failure(e))
            return
        if response is None:
            return
        self._parser = self._answer = None
        if parser.reusable and not parser.leftover:
            self.pool.release(self)
        else:
            self.pool.close_connection(self)
        answer.callback(response)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self.pool.forget(self)
        parser, answer = self._parser, self._answer
        self._parser = self._answer = None
        if parser is not None and answer is not None:
            try:
                response = parser.finish()
            except LoopbackError as e:
                answer.errback(Failure(e))
            else:
                answer.callback(response)
        self.lost.callback(None)

    def _abandon(self, answer: object) -> None:
        """A cancelled request's response would come next on this connection: close it."""
        self._parser = self._answer = None
        self.pool.close_connection(self)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.loseConnection()
        elif self.connector is not None:
            self.connector.stopConnecting()


@attrs.define(eq=False)
class _Dial(ClientFactory):
    """Connects one L{_Connection}."""

    #: No "Starting factory" / "Stopping factory" log lines for each connection.
    noisy = False

    connection: _Connection

    def buildProtocol(self, addr: IAddress | None) -> _Connection:
        return self.connection

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.connection.pool.forget(self.connection)
        if not self.connection.ready.called:  # It was, if cancelled.
            self.connection.ready.errback(reason)
        self.connection.lost.callback(None)


@attrs.define(eq=False)
class LoopbackPool:
    """
    Persistent connections to ports of 127.0.0.1, at most
    ``max_connections`` open at once: a request takes the most recently
    used idle connection to its port, or opens one, or waits its turn.
    Connections to another port than the one asked for are closed as they
    come up: they belong to a DynamoDB Local that was restarted. A request
    whose response is not whole ``response_timeout`` seconds after it was
    sent fails with L{ResponseTimeout}, and its connection is closed.
    """

    reactor: IReactorTCP
    clock: IReactorTime
    max_connections: int = MAX_CONNECTIONS
    max_idle: float = MAX_IDLE
    response_timeout: float = RESPONSE_TIMEOUT
    _open: set[_Connection] = attrs.field(factory=set, init=False)
    _idle: list[_Connection] = attrs.field(factory=list, init=False)
    _waiting: deque[tuple[int, Deferred[_Connection]]] = attrs.field(factory=deque, init=False)

    async def request(
        self,
        port: int,
        method: bytes,
        target: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> LoopbackResponse:
        """
        The response of the server on ``port`` to a request; L{ValueError}
        if it cannot be written safely, L{LoopbackError} or a connection
        error if no whole response came.
        """
        data = render_request(port, method, target, headers, body)
        return await self.send(port, data, method == b"HEAD")

    def send(
        self, port: int, data: bytes, head_request: bool = False
    ) -> Deferred[LoopbackResponse]:
        """The response to a request already rendered (``data``, as L{render_request} does)."""
        connection = self._idle_connection(port)
        if connection is not None:
            return connection.send(data, head_request)
        return self._connection(port).addCallback(_Connection.send, data, head_request)

    def send_to(self, port: int, data: bytes, reply: Reply[LoopbackResponse]) -> None:
        """
        Send a C{POST} already rendered (``data``); its response, or why
        there is none, goes to ``reply``: for the proxy's fast path (see
        L{awsemu.dynamodb.fastpath} and L{awsemu.reply}).
        """
        connection = self._idle_connection(port)
        if connection is not None:
            connection.send_to(data, False, reply)
            return
        sent = self._connection(port).addCallback(_Connection.send_to, data, False, reply)
        sent.addErrback(reply.errback)

    def close(self) -> Deferred[None]:
        """
        Close every connection, failing the requests they carry and those
        waiting for one; fires once all are closed. The pool may be used again.
        """
        waiting, self._waiting = self._waiting, deque()
        for _, waiter in waiting:
            waiter.errback(PoolClosed("DynamoDB Local's connections were closed"))
        connections = list(self._open)
        for connection in connections:
            self.close_connection(connection)
        ended = DeferredList([connection.lost for connection in connections])
        return ended.addCallback(lambda _: None)

    def release(self, connection: _Connection) -> None:
        """Take back a connection whose response is complete, for the next request."""
        if connection not in self._open:
            return  # Closing already: its response came before its end.
        if not self._waiting:
            connection.idle_since = self.clock.seconds()
            self._idle.append(connection)
        elif self._waiting[0][0] == connection.port:
            self._waiting.popleft()[1].callback(connection)
        else:
            self.close_connection(connection)

    def close_connection(self, connection: _Connection) -> None:
        """Close ``connection`` and count it out at once, its place open to the next."""
        self.forget(connection)
        connection.close()

    def forget(self, connection: _Connection) -> None:
        """Count out a connection that is closed or closing, and open one for a waiting request."""
        if connection not in self._open:
            return
        self._open.remove(connection)
        if connection in self._idle:
            self._idle.remove(connection)
        if self._waiting:
            self._dial(*self._waiting.popleft())

    def _idle_connection(self, port: int) -> _Connection | None:
        """The most recently used idle connection to ``port``, closing those unfit to reuse."""
        while self._idle:
            connection = self._idle.pop()
            idle = self.clock.seconds() - connection.idle_since
            if connection.port == port and idle < self.max_idle:
                return connection
            self.close_connection(connection)
        return None

    def _connection(self, port: int) -> Deferred[_Connection]:
        """A new connection to ``port``, or, at the limit, the next one released."""
        ready: Deferred[_Connection] = Deferred(self._stop_waiting)
        if len(self._open) < self.max_connections:
            self._dial(port, ready)
        else:
            self._waiting.append((port, ready))
        return ready

    def _stop_waiting(self, ready: Deferred[_Connection]) -> None:
        """A request gave up: forget it, or close the connection being opened for it."""
        for connection in self._open:
            if connection.ready is ready:
                self.close_connection(connection)
                return
        self._waiting = deque(entry for entry in self._waiting if entry[1] is not ready)

    def _dial(self, port: int, ready: Deferred[_Connection]) -> None:
        """Open a connection to ``port`` that fires ``ready`` once connected."""
        connection = _Connection(self, port, ready)
        self._open.add(connection)
        connection.connector = self.reactor.connectTCP("127.0.0.1", port, _Dial(connection))
