"""
The digests S3 computes over object bodies: the MD5 of the ETag and the
``x-amz-checksum-*`` algorithms, all fed in one pass over the body.

CRC32 comes from zlib and SHA from hashlib; CRC32C and CRC64NVME from
``awscrt`` (AWS's own C implementations, which botocore also uses for
them), fast enough for S3's default CRC64NVME to be paid on every body.
awscrt is imported on first use: loading its native library costs about
50 ms, which startup need not pay.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Protocol

import attrs

from awsemu.protocol.segments import Piece


class Digest(Protocol):
    """What ``hashlib`` objects offer, and all this module needs of a digest."""

    def update(self, data: Piece, /) -> None: ...

    def digest(self) -> bytes: ...


@attrs.define
class _Crc:
    """
    A CRC of ``width`` bits behind the hashlib interface, kept up to date by
    ``function(data, previous)`` (zlib's and awscrt's CRCs all continue one).
    """

    function: Callable[[Piece, int], int]
    width: int
    value: int = 0

    def update(self, data: Piece, /) -> None:
        self.value = self.function(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self.width // 8, "big")


def _crt(name: str, width: int) -> Callable[[], Digest]:
    """New digests of awscrt's CRC ``name`` (``crc32c``...), imported on first use."""

    def new() -> Digest:
        from awscrt import checksums

        return _Crc(getattr(checksums, name), width)

    return new


#: ``x-amz-checksum-<name>`` → a new digest of that algorithm.
ALGORITHMS: Final[Mapping[str, Callable[[], Digest]]] = {
    "CRC32": lambda: _Crc(zlib.crc32, 32),
    "CRC32C": _crt("crc32c", 32),
    "CRC64NVME": _crt("crc64nvme", 64),
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
}

#: Algorithms whose checksums of parts combine into a full-object checksum.
FULL_OBJECT_CAPABLE: Final = frozenset({"CRC32", "CRC32C", "CRC64NVME"})

#: The full-object checksum S3 gives every object written without one.
DEFAULT: Final = "CRC64NVME"


def param_name(algorithm: str) -> str:
    """The botocore member holding ``algorithm``'s value: ``ChecksumCRC32``..."""
    return f"Checksum{algorithm}"


#: Each algorithm's ``param_name``, made once: every write looks for all of them.
PARAM_NAMES: Final = {name: param_name(name) for name in ALGORITHMS}


@functools.cache
def digest_size(algorithm: str) -> int:
    """How many bytes ``algorithm``'s digest has."""
    return len(ALGORITHMS[algorithm]().digest())


def encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@attrs.define
class BodyDigests:
    """
    The MD5 and the chosen checksums of one body, fed incrementally while
    the body is copied to its store, so each byte is read once.
    """

    algorithms: tuple[str, ...] = ()
    md5: Digest = attrs.field(factory=hashlib.md5)
    size: int = 0
    _checksums: dict[str, Digest] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._checksums = {name: ALGORITHMS[name]() for name in self.algorithms}

    def update(self, data: Piece) -> None:
        self.update_md5(data)
        self.update_checksums(data)

    def update_md5(self, data: Piece) -> None:
        """Feed ``data`` to the MD5 (and count it); ``update_checksums`` may run beside it."""
        self.size += len(data)
        self.md5.update(data)

    def update_checksums(self, data: Piece) -> None:
        """Feed ``data`` to the checksums (another thread may feed the MD5 meanwhile)."""
        for digest in self._checksums.values():
            digest.update(data)

    def adopt(self, other: BodyDigests) -> bool:
        """
        Take the results of ``other``, fed the same body, if they cover
        these algorithms (a reader computed them while the body arrived).
        """
        if not set(self.algorithms) <= set(other.algorithms):
            return False
        self.md5, self.size = other.md5, other.size
        self._checksums = {name: other._checksums[name] for name in self.algorithms}
        return True

    def checksums(self) -> dict[str, str]:
        """Each algorithm's checksum, base64-encoded as S3 reports it."""
        return {name: encode(digest.digest()) for name, digest in self._checksums.items()}


class _Unkept:
    """A digest that keeps nothing: for bodies whose MD5 no one reads."""

    def update(self, data: Piece, /) -> None:
        pass

    def digest(self) -> bytes:
        return b""


def without_md5(algorithms: tuple[str, ...]) -> BodyDigests:
    """Digests of ``algorithms`` only (a completed upload's ETag comes from its parts')."""
    return BodyDigests(algorithms, md5=_Unkept())


#: awscrt's function that combines two CRCs of an algorithm: (first, second, second's length).
_COMBINERS: Final = {
    "CRC32": "combine_crc32",
    "CRC32C": "combine_crc32c",
    "CRC64NVME": "combine_crc64nvme",
}


def combined(algorithm: str, parts: Iterable[tuple[str, int]]) -> str:
    """
    The CRC of a whole object from its parts' (checksum, size), in order,
    without reading a byte: CRCs combine (awscrt's ``combine_*``).
    """
    from awscrt import checksums

    combine = getattr(checksums, _COMBINERS[algorithm])
    width = 8 if algorithm == "CRC64NVME" else 4
    value = 0
    for index, (checksum, size) in enumerate(parts):
        part = int.from_bytes(base64.b64decode(checksum), "big")
        value = part if index == 0 else combine(value, part, size)
    return encode(value.to_bytes(width, "big"))


def composite(algorithm: str, part_checksums: Iterable[str]) -> str:
    """
    A multipart upload's ``COMPOSITE`` checksum: the checksum of the parts'
    binary checksums, suffixed with the part count as S3 writes it.
    """
    digest = ALGORITHMS[algorithm]()
    count = 0
    for value in part_checksums:
        digest.update(base64.b64decode(value))
        count += 1
    return f"{encode(digest.digest())}-{count}"
