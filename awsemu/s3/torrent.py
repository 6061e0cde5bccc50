"""
GetObjectTorrent: an object's BitTorrent metainfo file (S3 user guide,
"Using BitTorrent with Amazon S3"; BitTorrent's BEP 3 for the format).

S3 makes torrents only of objects under 5 GB that are readable as they
are (not archived, not encrypted with a customer key, which GetObject's
checks already refuse); a larger object is refused as S3 refuses it. The
file names S3's tracker and the object's bucket and key, as S3's torrents
did (recalled), and hashes the body in 256 KiB pieces. That hashing
reads and digests up to 5 GB, so it runs through an ``Offload``: the S3
disk thread pool when bodies are files (``--data-dir``), in place for the
memory store, whose bodies are already in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO, Final

from botocore import xform_name

from awsemu.gateway.context import RequestContext
from awsemu.s3 import encryption, errors, restore
from awsemu.s3.store import Blobs, Bucket, ObjectVersion

Params = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[RequestContext, Params], Awaitable[Output]]
Offload = Callable[[Callable[[], bytes]], Awaitable[bytes]]
"""Runs blocking work (reading and hashing a body) and gives its result."""

MAX_SIZE: Final = 5 * 1024**3
PIECE: Final = 256 * 1024
TRACKER: Final = "http://torrent.amazonaws.com:6969/announce"


def bencode(value: int | str | bytes | list[Any] | dict[str, Any]) -> bytes:
    """BEP 3's encoding: integers, byte strings, lists, and dictionaries with sorted keys."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(item) for item in value) + b"e"
    items = sorted((key.encode("utf-8"), item) for key, item in value.items())
    return b"d" + b"".join(bencode(key) + bencode(item) for key, item in items) + b"e"


def _pieces(body: bytes | BinaryIO) -> bytes:
    """The SHA-1 of each piece of ``body``, joined."""
    hashes = []
    if isinstance(body, bytes):
        for start in range(0, len(body), PIECE):
            hashes.append(hashlib.sha1(body[start : start + PIECE]).digest())
        return b"".join(hashes)
    try:
        while piece := body.read(PIECE):
            hashes.append(hashlib.sha1(piece).digest())
    finally:
        body.close()
    return b"".join(hashes)


async def in_place(work: Callable[[], bytes]) -> bytes:
    """The ``Offload`` of the memory store: the work, run at once."""
    return work()


def metainfo(bucket: str, version: ObjectVersion, pieces: bytes) -> bytes:
    """The torrent file of ``version`` of a key in ``bucket``, whose pieces hash to ``pieces``."""
    name = version.key.rstrip("/").rpartition("/")[2] or version.key
    return bencode(
        {
            "announce": TRACKER,
            "info": {
                "length": version.size,
                "name": name,
                "piece length": PIECE,
                "pieces": pieces,
                "x-amz-bucket": bucket,
                "x-amz-key": version.key,
            },
        }
    )


def handlers(
    lookup: Callable[[Params], Bucket],
    find: Callable[[Bucket, str, str | None, str], ObjectVersion],
    blobs: Blobs,
    now: Callable[[], float],
    offload: Offload = in_place,
) -> dict[str, Handler]:
    """
    GetObjectTorrent, by botocore's method name, over the provider's
    lookups; the body is read and hashed through ``offload``.
    """

    async def get_object_torrent(context: RequestContext, params: Params) -> Output:
        bucket = lookup(params)
        version = find(bucket, params["Key"], None, "GET")
        encryption.check_read(version.encryption, params)
        restore.check_readable(version, now())
        if version.size > MAX_SIZE:
            # S3's answer, quoted in cenkalti/rain#5.
            raise errors.invalid_request(
                f"Torrent creation is not supported for objects larger than {MAX_SIZE}"
            )
        blob = version.blob

        def hashed() -> bytes:
            return _pieces(blobs.read(blob, 0, version.size) if blob else b"")

        return {"Body": metainfo(bucket.name, version, await offload(hashed))}

    return {xform_name("GetObjectTorrent"): get_object_torrent}
