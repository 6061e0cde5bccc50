"""
``Content-Encoding: aws-chunked`` bodies, which current SDKs send for
every PutObject and UploadPart: each chunk framed as ``<hex size>[;
chunk-signature=<sig>]\\r\\n<data>\\r\\n``, a zero-size chunk, then trailer
headers (the ``x-amz-checksum-*`` the SDK computed while sending) and a
blank line.

Decoding turns such a request into the plain one the protocol layer
expects: the framing removed from the body, trailers promoted to headers
(so the checksum reaches the operation like a header-sent one) and
``aws-chunked`` dropped from ``Content-Encoding``. Given the chain of a
signed stream, decoding also checks each chunk's and the trailer's
signature, so a tampered body fails before anything is stored.

A large upload is read while it arrives (``BodyDigester``, in the
gateway's thread pool): its framing is removed as views of the received
body and its digests computed there, chunk signatures' hashes included,
so that decoding and storing it later find that work done. Whatever that
reading did not finish or understand is decoded here the ordinary way,
which answers with S3's error.
"""

from __future__ import annotations

import enum
import hashlib
import tempfile
from collections.abc import Callable
from io import BytesIO
from typing import Any, BinaryIO, Final

import attrs

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import Headers, HttpRequest
from awsemu.protocol.segments import Lane, Piece, ReadBody, Segments, blocks
from awsemu.s3 import checksums
from awsemu.s3.checksums import BodyDigests
from awsemu.s3.signature import ChunkChain

SPOOL_SIZE: Final = 8 * 1024 * 1024
"""Decoded bodies up to this size stay in memory; larger ones go to a temporary file."""
_MAX_LINE: Final = 4096


def incomplete_body() -> ServiceError:
    return ServiceError("IncompleteBody", "The request body terminated unexpectedly")


def is_aws_chunked(request: HttpRequest) -> bool:
    encodings = (request.headers.get("content-encoding") or "").lower()
    sha = request.headers.get("x-amz-content-sha256") or ""
    return "aws-chunked" in encodings or sha.startswith("STREAMING-")


def _line(source: BinaryIO) -> bytes:
    line = source.readline(_MAX_LINE)
    if not line.endswith(b"\r\n"):
        raise incomplete_body()
    return line[:-2]


def _verify_chunk(chain: ChunkChain, sha256: str, extension: bytes) -> None:
    name, _, provided = extension.decode("latin-1").partition("=")
    chain.verify_chunk(sha256, provided if name == "chunk-signature" else "")


def _trailers(source: BinaryIO, chain: ChunkChain | None) -> dict[str, str]:
    """The trailers at ``source``'s position, by lowercase name (checked by ``chain``)."""
    trailers: dict[str, str] = {}
    while line := source.readline(_MAX_LINE).strip():
        name, separator, value = line.decode("latin-1").partition(":")
        if not separator:
            raise incomplete_body()
        trailers[name.strip().lower()] = value.strip()
    if chain is not None and chain.trailer:
        provided = trailers.pop("x-amz-trailer-signature", "")
        chain.verify_trailer("".join(f"{k}:{v}\n" for k, v in trailers.items()), provided)
    return trailers


def decode_body(
    source: BinaryIO, target: BinaryIO, chain: ChunkChain | None = None
) -> dict[str, str]:
    """
    Copy the data of the chunks in ``source`` to ``target``; the trailers,
    by lowercase name. With ``chain``, every signature is checked.
    """
    while True:
        size_text, _, extension = _line(source).partition(b";")
        try:
            size = int(size_text, 16)
        except ValueError:
            raise incomplete_body() from None
        last = size == 0
        digest = None if chain is None else hashlib.sha256()
        for data in blocks(source, size):
            target.write(data)
            if digest is not None:
                digest.update(data)
            size -= len(data)
        if size:
            raise incomplete_body()
        if chain is not None and digest is not None:
            _verify_chunk(chain, digest.hexdigest(), extension)
        if last:
            break
        if _line(source):
            raise incomplete_body()
    return _trailers(source, chain)


class _Stage(enum.Enum):
    SIZE = "size"
    DATA = "data"
    END = "end"
    DONE = "done"


class _Unreadable(Exception):
    """The body is not aws-chunked as expected: left to ``decode_body``, which says how."""


@attrs.define(eq=False)
class _Walk:
    """
    One lane's way through a body as it arrives: the data of its chunks
    when aws-chunked (framing read as ``decode_body`` reads it), or all of
    it, given to ``take`` as views; ``chunk_done`` hears each chunk's
    extension at its end. (Both are passed to each call, not kept: a walk
    keeping its digester's methods would be a reference cycle, and the
    body's memory would wait for the garbage collector.)
    """

    chunked: bool
    #: Where the trailers start, once the last chunk was read.
    trailers_at: int | None = None
    _position: int = 0
    _stage: _Stage = _Stage.SIZE
    _left: int = 0
    _last: bool = False
    _extension: bytes = b""

    def advance(
        self,
        body: memoryview,
        end: int,
        take: Callable[[memoryview], None],
        chunk_done: Callable[[bytes], None],
    ) -> None:
        if not self.chunked:
            if end > self._position:
                take(body[self._position : end])
            self._position = end
            return
        while True:
            position = self._position
            if self._stage is _Stage.SIZE:
                window = bytes(body[position : min(end, position + _MAX_LINE)])
                found = window.find(b"\r\n")
                if found < 0:
                    if len(window) >= _MAX_LINE:
                        raise _Unreadable
                    return
                size_text, _, self._extension = window[:found].partition(b";")
                self._left = int(size_text, 16)
                self._last = not self._left
                self._position, self._stage = position + found + 2, _Stage.DATA
            elif self._stage is _Stage.DATA:
                step = min(self._left, end - position)
                if step:
                    take(body[position : position + step])
                self._position, self._left = position + step, self._left - step
                if self._left:
                    return
                chunk_done(self._extension)
                self._stage = _Stage.END
                if self._last:
                    self.trailers_at, self._stage = self._position, _Stage.DONE
            elif self._stage is _Stage.END:
                if end - position < 2:
                    return
                if bytes(body[position : position + 2]) != b"\r\n":
                    raise _Unreadable
                self._position, self._stage = position + 2, _Stage.SIZE
            else:
                return


@attrs.define(eq=False)
class BodyDigester:
    """
    Reads an object's body while it arrives (the gateway's ``BodyReader``)
    in two lanes, which the gateway runs side by side: one keeps the data
    of its chunks (when aws-chunked) as views of the body and feeds the
    MD5, the other feeds the checksums (and each chunk's SHA-256 when
    ``signed``), so that decoding (``decode_request``) and storing
    (``digested``) find that done. Each lane reads the framing itself: it
    costs a few bytes a chunk, where handing pieces from one lane to the
    other would tie them together. A body it cannot read is left to them
    whole (``failed``).
    """

    digests: BodyDigests
    chunked: bool
    signed: bool = False
    #: The decoded body, as views of the received one.
    pieces: list[Piece] = attrs.Factory(list)
    #: Each chunk's SHA-256 (when ``signed``) and its extension, in order.
    chunks: list[tuple[str, bytes]] = attrs.Factory(list)
    failed: bool = False
    _data: _Walk = attrs.field(init=False)
    _checked: _Walk = attrs.field(init=False)
    _chunk: Any = None

    def __attrs_post_init__(self) -> None:
        self._data = _Walk(self.chunked)
        self._checked = _Walk(self.chunked)

    @property
    def trailers_at(self) -> int | None:
        """Where the trailers start, once both lanes read the last chunk."""
        if self._checked.trailers_at != self._data.trailers_at:
            return None
        return self._data.trailers_at

    def lanes(self) -> tuple[Lane, Lane]:
        return self.read_data, self.read_checksums

    def read_data(self, body: memoryview, end: int) -> None:
        """The first lane: the decoded body's pieces and its MD5."""
        if not self.failed:
            self._walk(self._data, body, end, self._take, _ignore)

    def read_checksums(self, body: memoryview, end: int) -> None:
        """The second lane: the checksums and, for a signed stream, the chunks' hashes."""
        if not self.failed:
            self._walk(self._checked, body, end, self._check, self._chunk_done)

    def _walk(
        self,
        walk: _Walk,
        body: memoryview,
        end: int,
        take: Callable[[memoryview], None],
        chunk_done: Callable[[bytes], None],
    ) -> None:
        try:
            walk.advance(body, end, take, chunk_done)
        except (_Unreadable, ValueError):
            self.failed = True

    def _take(self, piece: memoryview) -> None:
        self.digests.update_md5(piece)
        self.pieces.append(piece)

    def _check(self, piece: memoryview) -> None:
        self.digests.update_checksums(piece)
        if self.signed:
            if self._chunk is None:
                self._chunk = hashlib.sha256()
            self._chunk.update(piece)

    def _chunk_done(self, extension: bytes) -> None:
        if self.signed:
            chunk, self._chunk = self._chunk or hashlib.sha256(), None
            self.chunks.append((chunk.hexdigest(), extension))


def _ignore(_: bytes) -> None:
    """A chunk's end, to a lane that keeps nothing per chunk."""


def _announced(headers: Headers) -> tuple[str, ...]:
    """The checksum algorithms a request's headers name (as a value, trailer or choice)."""
    names = [(headers.get("x-amz-sdk-checksum-algorithm") or "").upper()]
    for trailer in (headers.get("x-amz-trailer") or "").split(","):
        names.append(trailer.strip().lower().removeprefix("x-amz-checksum-").upper())
    for name, _ in headers.items():
        if name.startswith("x-amz-checksum-"):
            names.append(name.removeprefix("x-amz-checksum-").upper())
    return tuple(dict.fromkeys(name for name in names if name in checksums.ALGORITHMS))


def body_reader(request: HttpRequest) -> BodyDigester | None:
    """
    A reader for a large body the gateway receives that may be an object's
    (a PutObject or UploadPart: a PUT that is no copy, signed for S3 or not
    signed): it computes the MD5 and the checksums the request names, or
    S3's default one when it names none.
    """
    headers = request.headers
    if request.method != "PUT" or "x-amz-copy-source" in headers:
        return None
    authorization = headers.get("authorization") or ""
    if "Credential=" in authorization and "/s3/aws4_request" not in authorization:
        return None
    sha256 = headers.get("x-amz-content-sha256") or ""
    return BodyDigester(
        BodyDigests(_announced(headers) or (checksums.DEFAULT,)),
        chunked=is_aws_chunked(request),
        signed=sha256.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    )


def _reader(source: BinaryIO) -> BodyDigester | None:
    """The reader that saw ``source`` arrive, if it read all of it."""
    if not isinstance(source, ReadBody) or not isinstance(source.reader, BodyDigester):
        return None
    return None if source.reader.failed else source.reader


def digested(source: BinaryIO, digests: BodyDigests) -> list[Piece] | None:
    """
    The rest of ``source`` as its pieces, with ``digests`` taken from the
    reader that saw it arrive; None when no reader computed them all for
    exactly this body (feed ``digests`` from ``source`` then).
    """
    reader = _reader(source)
    if (
        reader is None
        or not isinstance(source, Segments)
        or source.tell()
        or reader.digests.size != source.size
        or not digests.adopt(reader.digests)
    ):
        return None
    return source.take()


def decode_request(request: HttpRequest, chain: ChunkChain | None = None) -> HttpRequest:
    """``request`` with its aws-chunked body decoded (and checked by ``chain``); see above."""
    request.body.seek(0)
    reader = _reader(request.body)
    target: BinaryIO
    if (
        reader is not None
        and reader.trailers_at is not None
        and reader.signed == (chain is not None)
    ):
        # Read as it arrived: its chunks' data and hashes are there.
        if chain is not None:
            for sha256, extension in reader.chunks:
                _verify_chunk(chain, sha256, extension)
        request.body.seek(reader.trailers_at)
        trailers = _trailers(request.body, chain)
        target = ReadBody(reader.pieces, reader)
        target.seek(0, 2)
    else:
        # A body the gateway kept in memory is decoded in memory, as views of
        # the pieces it arrived in (nothing copied); one it spooled to disk
        # is decoded to disk too, past SPOOL_SIZE.
        target = (
            Segments()
            if isinstance(request.body, BytesIO | Segments)
            else tempfile.SpooledTemporaryFile(SPOOL_SIZE)  # type: ignore[assignment]  # noqa: SIM115
        )
        trailers = decode_body(request.body, target, chain)
    declared = request.headers.get("x-amz-decoded-content-length")
    size = target.tell()
    if declared is not None and declared.isdigit() and int(declared) != size:
        raise incomplete_body()
    target.seek(0)
    encodings = [
        encoding.strip()
        for encoding in (request.headers.get("content-encoding") or "").split(",")
        if encoding.strip() and encoding.strip().lower() != "aws-chunked"
    ]
    headers = [
        (name, value)
        for name, value in request.headers.items()
        if name not in ("content-encoding", "content-length", "x-amz-trailer")
    ]
    if encodings:
        headers.append(("content-encoding", ", ".join(encodings)))
    headers.append(("content-length", str(size)))
    headers.extend(
        (name, value) for name, value in trailers.items() if name.startswith("x-amz-checksum-")
    )
    return attrs.evolve(request, headers=Headers(headers), body=target)
