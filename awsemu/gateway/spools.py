"""
Where the gateway's server (L{awsemu.gateway.server}) receives a request
body while it arrives: in memory, in one memory map, or in a temporary
file, by its declared length.
"""

from __future__ import annotations

import mmap
import socket
import tempfile
from typing import Any, BinaryIO, Final

import attrs
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from awsemu.protocol.segments import BodyReader, ReadBody, Segments

#: Request bodies up to this size stay in memory as the pieces they arrive
#: in; larger ones go to one memory map (see ``MappedSpool``), or past
#: ``MAPPED_BODY_LIMIT`` to a temporary file, so that a huge upload (or one
#: a client abandons, or a huge declared ``Content-Length``) never grows the
#: daemon's memory, and what it used is given back when the request ends.
MEMORY_BODY_LIMIT: Final = 8 * 1024 * 1024
#: The largest body received into a memory map (S3's multipart parts and
#: most single uploads are far smaller).
MAPPED_BODY_LIMIT: Final = 256 * 1024 * 1024
#: How much more of a mapped body arrives before its reader sees it again.
READ_STEP: Final = 1024 * 1024
#: How much a socket read may take while a large body arrives (Twisted reads 64 KiB).
BODY_READ_SIZE: Final = 1024 * 1024


@attrs.define
class BodySpool:
    """A request body as it arrives: in memory up to ``memory_limit``, then in a temporary file."""

    remaining: int
    memory_limit: int | None
    _chunks: list[bytes] = attrs.Factory(list)
    _size: int = 0
    _file: BinaryIO | None = None

    def write(self, data: bytes) -> None:
        self.remaining -= len(data)
        if self._file is not None:
            self._file.write(data)
            return
        self._chunks.append(data)
        self._size += len(data)
        if self.memory_limit is not None and self._size > self.memory_limit:
            self._file = tempfile.TemporaryFile()
            self._file.writelines(self._chunks)
            self._chunks = []

    async def body(self) -> BinaryIO:
        """The whole body, at its start (in memory: the pieces as read, see ``Segments``)."""
        if self._file is None:
            return Segments(self._chunks)
        self._file.seek(0)
        return self._file

    def discard(self) -> None:
        """Drop what arrived (the request was abandoned): its memory, or its file."""
        self._chunks = []
        if self._file is not None:
            self._file.close()


@attrs.define(eq=False)
class MappedSpool:
    """
    A large body received into one anonymous memory map of its declared
    length. Pages are taken only as bytes arrive, and all of them go back
    to the system at once when the last view of the map is dropped (with
    the object a service kept it as); a body kept as hundreds of socket
    reads leaves the allocator's heap fragmented instead. Every
    ``READ_STEP`` bytes, ``reader`` sees what arrived, in ``pool`` (None:
    at once, on the reactor thread), while the reactor reads on: a service
    hashes a body there as it arrives rather than after (see
    ``BodyReader``).
    """

    log = Logger()

    remaining: int
    reader: BodyReader | None
    pool: ThreadPool | None
    reactor: Any
    _view: memoryview = attrs.field(init=False)
    _size: int = 0
    #: How far the reader was offered the body, and whether it reads now.
    _offered: int = 0
    _reading: bool = False
    _whole: Deferred[None] | None = None

    def __attrs_post_init__(self) -> None:
        # Private: shared anonymous memory faults in at twice the cost. (Huge
        # pages fault in far fewer, but their cost swung from 10 ms to 1.4 s
        # per 64 MiB on the shared development machine.)
        mapped = mmap.mmap(-1, self.remaining, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._view = memoryview(mapped)

    def write(self, data: bytes) -> None:
        end = self._size + len(data)
        self._view[self._size : end] = data
        self._arrived(len(data))

    def receive(self, source: socket.socket) -> int:
        """Read what ``source`` holds of the body straight into the map; how much."""
        size = min(self.remaining, BODY_READ_SIZE)
        received = source.recv_into(self._view[self._size : self._size + size], size)
        self._arrived(received)
        return received

    def _arrived(self, size: int) -> None:
        self._size += size
        self.remaining -= size
        self._offer()

    def _offer(self) -> None:
        end = self._size
        if self.reader is None or self._reading or end == self._offered:
            return
        if self.remaining and end - self._offered < READ_STEP:
            return
        self._reading, self._offered = True, end
        if self.pool is None:
            done = maybeDeferred(self.reader.advance, self._view, end)
        else:
            done = deferToThreadPool(self.reactor, self.pool, self.reader.advance, self._view, end)
        done.addCallbacks(self._advanced, self._failed)

    def _advanced(self, _: object) -> None:
        self._reading = False
        self._offer()
        whole = self._whole
        if not self._reading and whole is not None:
            self._whole = None
            whole.callback(None)

    def _failed(self, failure: Failure) -> None:
        # A reader bug: the body reaches the service unread, which reads it itself.
        self.log.failure("Reading a request body failed", failure)
        self.reader = None
        self._advanced(None)

    async def body(self) -> BinaryIO:
        """The whole body, once its reader has seen all of it."""
        if self._reading:
            self._whole = Deferred()
            await self._whole
        view = self._view[: self._size]
        return Segments([view]) if self.reader is None else ReadBody([view], self.reader)

    def discard(self) -> None:
        """Drop what arrived: the map goes once a reader still at work lets go of it."""
        self.reader = None
        self._view = memoryview(b"")
