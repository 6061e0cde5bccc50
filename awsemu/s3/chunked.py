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
"""

from __future__ import annotations

import hashlib
import tempfile
from io import BytesIO
from typing import BinaryIO, Final

import attrs

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import Headers, HttpRequest
from awsemu.protocol.segments import Segments, blocks
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
            name, _, provided = extension.decode("latin-1").partition("=")
            chain.verify_chunk(digest.hexdigest(), provided if name == "chunk-signature" else "")
        if last:
            break
        if _line(source):
            raise incomplete_body()
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


def decode_request(request: HttpRequest, chain: ChunkChain | None = None) -> HttpRequest:
    """``request`` with its aws-chunked body decoded (and checked by ``chain``); see above."""
    request.body.seek(0)
    # A body the gateway kept in memory is decoded in memory, as views of the
    # pieces it arrived in (nothing copied); one it spooled to disk (with
    # --data-dir) is decoded to disk too, past SPOOL_SIZE.
    target: BinaryIO = (
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
