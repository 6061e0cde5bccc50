"""
Bodies held as the byte strings they arrived in.

A large upload reaches the daemon as dozens of socket reads. Joining them
into one ``bytes`` costs a copy of the whole body, and the page faults of
a fresh allocation as large as it: about 40 ms of a 64 MiB PutObject,
whose whole budget is 160 ms. ``Segments`` reads such a list as one file
instead, and hands the pieces themselves to the consumers that can take
them one at a time (digests, the memory store, a socket write), so a body
the daemon keeps in memory is never copied between the socket and its
store.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO, Final, Protocol

#: A piece of a body: what a socket read returned, or a view into one.
Piece = bytes | memoryview

#: How much ``blocks`` reads at a time from a file that is not ``Segments``.
BLOCK_SIZE: Final = 1024 * 1024


def _find_newline(piece: Piece, start: int, end: int) -> int:
    if isinstance(piece, bytes):
        return piece.find(b"\n", start, end)
    found = bytes(piece[start:end]).find(b"\n")
    return found if found < 0 else start + found


class Segments(io.BufferedIOBase, BinaryIO):
    """
    A readable (and, at its end, appendable) file over a list of pieces,
    positioned at its start. ``read`` joins only when a read spans pieces;
    ``take`` returns the pieces themselves, cut with ``memoryview`` where a
    read starts or ends inside one, so nothing is copied.
    """

    def __init__(self, pieces: Iterable[Piece] = ()) -> None:
        super().__init__()
        self._pieces: list[Piece] = [piece for piece in pieces if len(piece)]
        self._size = sum(len(piece) for piece in self._pieces)
        self._index = 0
        self._offset = 0
        self._position = 0

    @property
    def size(self) -> int:
        """How many bytes all the pieces hold."""
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def take(self, size: int | None = -1) -> list[Piece]:
        """The next ``size`` bytes (all that remain when negative), as pieces, uncopied."""
        available = self._size - self._position
        wanted = available if size is None or size < 0 else min(size, available)
        self._position += wanted
        taken: list[Piece] = []
        while wanted:
            piece = self._pieces[self._index]
            step = min(len(piece) - self._offset, wanted)
            if step == len(piece):
                taken.append(piece)
            else:
                taken.append(memoryview(piece)[self._offset : self._offset + step])
            wanted -= step
            self._offset += step
            if self._offset == len(piece):
                self._index += 1
                self._offset = 0
        return taken

    def read(self, size: int | None = -1) -> bytes:
        taken = self.take(size)
        if len(taken) == 1 and isinstance(taken[0], bytes):
            return taken[0]
        return b"".join(taken)

    read1 = read

    def readline(self, size: int | None = -1) -> bytes:
        limit = self._size - self._position
        if size is not None and size >= 0:
            limit = min(size, limit)
        length, index, offset = 0, self._index, self._offset
        while length < limit:
            piece = self._pieces[index]
            found = _find_newline(piece, offset, offset + limit - length)
            if found >= 0:
                length += found - offset + 1
                break
            length += len(piece) - offset
            index, offset = index + 1, 0
        return self.read(min(length, limit))

    def write(self, data: Piece) -> int:  # type: ignore[override]
        """Append ``data`` (kept, not copied): only at the end, where building a body writes."""
        if self._position != self._size:
            raise io.UnsupportedOperation("Segments are appended to at their end only")
        if len(data):
            self._pieces.append(data)
            self._size += len(data)
            self._position = self._size
            self._index, self._offset = len(self._pieces), 0
        return len(data)

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        target = max(0, min(base + offset, self._size))
        self._position, self._index, self._offset = target, 0, 0
        while self._index < len(self._pieces) and target >= len(self._pieces[self._index]):
            target -= len(self._pieces[self._index])
            self._index += 1
        self._offset = target
        return self._position

    def close(self) -> None:
        self._pieces = []
        super().close()


def blocks(source: BinaryIO, size: int = -1) -> Iterator[Piece]:
    """
    The next ``size`` bytes of ``source`` (all that remain when negative):
    from ``Segments``, its pieces uncopied; from any other file, read
    ``BLOCK_SIZE`` at a time. Stops early at the end of the file.
    """
    if isinstance(source, Segments):
        yield from source.take(size)
        return
    while size:
        block = source.read(BLOCK_SIZE if size < 0 else min(size, BLOCK_SIZE))
        if not block:
            return
        yield block
        if size > 0:
            size -= len(block)


#: One lane of a ``BodyReader``: told that ``body[:end]`` arrived (earlier
#: calls saw a shorter stretch of it).
Lane = Callable[[memoryview, int], None]


class BodyReader(Protocol):
    """
    What reads a large request body while it arrives (the gateway's server
    offers it each stretch received). Its ``lanes`` share the work: each
    sees every stretch, one call at a time and in order, in a thread pool;
    different lanes may run at once, in different threads (the MD5 of an
    upload beside its checksums). They must touch nothing of Twisted.
    """

    def lanes(self) -> Sequence[Lane]: ...


class ReadBody(Segments):
    """A body its ``reader`` saw whole as it arrived: what it computed comes with it."""

    def __init__(self, pieces: Iterable[Piece], reader: BodyReader) -> None:
        super().__init__(pieces)
        self.reader = reader
