"""
Where the gateway's server (L{awsemu.gateway.server}) receives a request
body while it arrives: in memory, in one memory map, or in a temporary
file, by its declared length.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any, BinaryIO, Final

import attrs
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from awsemu.protocol.segments import BodyReader, Lane, ReadBody, Segments

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
#: How far ahead of the bytes received a mapped body's pages are made.
POPULATE_AHEAD: Final = 8 * 1024 * 1024
#: ``madvise``'s MADV_POPULATE_WRITE (Linux 5.14; Python 3.11's ``mmap`` lacks the name).
_MADV_POPULATE_WRITE: Final = 23
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

    def in_memory(self) -> BinaryIO | None:
        """The whole body as the pieces read (see ``Segments``), if it is in memory; else None."""
        return Segments(self._chunks) if self._file is None else None

    async def body(self) -> BinaryIO:
        """The whole body, at its start (in memory: the pieces as read, see ``Segments``)."""
        held = self.in_memory()
        if held is not None:
            return held
        assert self._file is not None
        self._file.seek(0)
        return self._file

    def discard(self) -> None:
        """Drop what arrived (the request was abandoned): its memory, or its file."""
        self._chunks = []
        if self._file is not None:
            self._file.close()


@functools.cache
def _populate_write() -> Callable[[int, int, int], int] | None:
    """
    The C library's ``madvise``, called without the GIL (``mmap.madvise``
    holds it: 30 ms per 64 MiB in which no other thread runs); None where
    there is none to call, or MADV_POPULATE_WRITE's number means another
    advice (other systems than Linux).
    """
    if sys.platform != "linux":
        return None
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (AttributeError, OSError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    call: Callable[[int, int, int], int] = madvise
    return call


@attrs.define(eq=False)
class _Lane:
    """One lane of a body's reader: how far it was offered the body, and whether it reads now."""

    advance: Lane
    offered: int = 0
    reading: bool = False


@attrs.define(eq=False)
class MappedSpool:
    """
    A large body received into one anonymous memory map of its declared
    length. Its pages are made (``_populate_ahead``) only a few MiB ahead
    of the bytes received, and all of them go back to the system at once
    when the last view of the map is dropped (with the object a service
    kept it as); a body kept as hundreds of socket reads leaves the
    allocator's heap fragmented instead.

    Every ``READ_STEP`` bytes, each lane of ``reader`` sees what arrived,
    in ``pool`` (None: at once, on the reactor thread), while the reactor
    reads on: a service hashes a body there as it arrives rather than
    after (see ``BodyReader``). A lane's thread reads on by itself as long
    as a step more has arrived, and is offered the body again only once it
    has caught up, so it never waits for the reactor to hand it work.
    """

    log = Logger()

    remaining: int
    reader: BodyReader | None
    pool: ThreadPool | None
    reactor: Any
    _view: memoryview = attrs.field(init=False)
    _size: int = 0
    _lanes: list[_Lane] = attrs.Factory(list)
    #: Guards ``_size``, ``remaining`` and the lanes' state, shared with their threads.
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _whole: Deferred[None] | None = None
    #: How far the map's pages are made, and whether a thread makes more now.
    _populated: int = 0
    _populating: bool = False

    def __attrs_post_init__(self) -> None:
        # Private: shared anonymous memory faults in at twice the cost. (Huge
        # pages fault in far fewer, but their cost swung from 10 ms to 1.4 s
        # per 64 MiB on the shared development machine.)
        mapped = mmap.mmap(-1, self.remaining, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._view = memoryview(mapped)
        if self.reader is not None:
            self._lanes = [_Lane(lane) for lane in self.reader.lanes()]
        self._populate_ahead()

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
        with self._lock:
            self._size += size
            self.remaining -= size
        for lane in self._lanes:
            self._offer(lane)
        self._populate_ahead()

    def _populate_ahead(self) -> None:
        """
        Have the pool make the map's pages ``POPULATE_AHEAD`` bytes ahead of
        those received: the reactor's ``recv_into`` then finds them, where
        it would take a page fault every 4 KiB. Making a page costs the same
        either way (the kernel clears it: about 25 ms per 64 MiB here), but
        in the pool it is no longer the reactor's time, which every other
        connection waits for (measured per 64 MiB: the reactor's CPU 44 ms
        → 22 ms, the daemon's total unchanged).
        """
        if self.pool is None or self._populating or self.remaining <= 0:
            return
        if self._populated - self._size >= POPULATE_AHEAD // 2:
            return
        if _populate_write() is None:
            return
        self._populating = True
        populated = deferToThreadPool(self.reactor, self.pool, self._populate, self._view)
        populated.addErrback(lambda failure: self.log.failure("Populating failed", failure))

    def _populate(self, view: memoryview) -> None:
        """Make ``view``'s pages up to ``POPULATE_AHEAD`` past the bytes received; in the pool."""
        madvise = _populate_write()
        assert madvise is not None
        address = ctypes.addressof(ctypes.c_char.from_buffer(view))
        try:
            while True:
                with self._lock:
                    start = self._populated
                    end = min(len(view), (self._size + POPULATE_AHEAD) & -mmap.PAGESIZE)
                    if self._view is not view or start >= end:
                        return
                if madvise(address + start, end - start, _MADV_POPULATE_WRITE):
                    # Refused (a kernel before 5.14): the faults are taken as bytes arrive.
                    end = len(view)
                with self._lock:
                    self._populated = end
        finally:
            with self._lock:
                self._populating = False

    def _due(self, lane: _Lane) -> bool:
        """Whether ``lane`` has a step to read (a whole one, or the body's end); under the lock."""
        if self.reader is None or lane.offered == self._size:
            return False
        return not self.remaining or self._size - lane.offered >= READ_STEP

    def _offer(self, lane: _Lane) -> None:
        with self._lock:
            if lane.reading or not self._due(lane):
                return
            lane.reading = True
        if self.pool is None:
            done = maybeDeferred(self._read, lane, self._view)
        else:
            done = deferToThreadPool(self.reactor, self.pool, self._read, lane, self._view)
        done.addCallbacks(self._advanced, self._failed)

    def _read(self, lane: _Lane, view: memoryview) -> None:
        """Show ``lane`` what arrived, step after step, until it has caught up; in ``pool``."""
        try:
            while True:
                with self._lock:
                    if not self._due(lane):
                        return
                    end = lane.offered = self._size
                lane.advance(view, end)
        finally:
            with self._lock:
                lane.reading = False

    def _advanced(self, _: object) -> None:
        whole = self._whole
        if whole is not None and not any(lane.reading for lane in self._lanes):
            self._whole = None
            whole.callback(None)

    def _failed(self, failure: Failure) -> None:
        # A reader bug: the body reaches the service unread, which reads it itself.
        self.log.failure("Reading a request body failed", failure)
        self.reader = None
        self._advanced(None)

    async def body(self) -> BinaryIO:
        """The whole body, once every lane of its reader has seen all of it."""
        if any(lane.reading for lane in self._lanes):
            self._whole = Deferred()
            await self._whole
        view = self._view[: self._size]
        return Segments([view]) if self.reader is None else ReadBody([view], self.reader)

    def discard(self) -> None:
        """Drop what arrived: the map goes once the lanes still at work let go of it."""
        self.reader = None
        self._view = memoryview(b"")
