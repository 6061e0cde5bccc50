"""
The digests S3 computes over object bodies: the MD5 of the ETag and the
``x-amz-checksum-*`` algorithms, all fed in one pass over the body.

CRC32 and SHA come from the standard library; CRC32C and CRC64NVME have
no C implementation without ``awscrt`` (which botocore does not require),
so they are table-driven here: slower, but only paid by clients that ask
for those algorithms.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Final, Protocol

import attrs


class Digest(Protocol):
    """What ``hashlib`` objects offer, and all this module needs of a digest."""

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


def _reflected_table(polynomial: int) -> tuple[int, ...]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ polynomial if value & 1 else value >> 1
        table.append(value)
    return tuple(table)


@attrs.define
class _Crc32:
    """zlib's CRC32 behind the hashlib interface."""

    value: int = 0

    def update(self, data: bytes, /) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


@attrs.define
class _TableCrc:
    """A reflected CRC of ``width`` bits computed a byte at a time from ``table``."""

    table: tuple[int, ...]
    width: int
    value: int = 0

    def update(self, data: bytes, /) -> None:
        mask = (1 << self.width) - 1
        crc = self.value ^ mask
        table = self.table
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self.value = crc ^ mask

    def digest(self) -> bytes:
        return self.value.to_bytes(self.width // 8, "big")


_CRC32C_TABLE: Final = _reflected_table(0x82F63B78)
_CRC64NVME_TABLE: Final = _reflected_table(0x9A6C9329AC4BC9B5)

#: ``x-amz-checksum-<name>`` → a new digest of that algorithm.
ALGORITHMS: Final[Mapping[str, Callable[[], Digest]]] = {
    "CRC32": _Crc32,
    "CRC32C": lambda: _TableCrc(_CRC32C_TABLE, 32),
    "CRC64NVME": lambda: _TableCrc(_CRC64NVME_TABLE, 64),
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
}

#: Algorithms whose checksums of parts combine into a full-object checksum.
FULL_OBJECT_CAPABLE: Final = frozenset({"CRC32", "CRC32C", "CRC64NVME"})


def param_name(algorithm: str) -> str:
    """The botocore member holding ``algorithm``'s value: ``ChecksumCRC32``..."""
    return f"Checksum{algorithm}"


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

    def update(self, data: bytes) -> None:
        self.size += len(data)
        self.md5.update(data)
        for digest in self._checksums.values():
            digest.update(data)

    def checksums(self) -> dict[str, str]:
        """Each algorithm's checksum, base64-encoded as S3 reports it."""
        return {name: encode(digest.digest()) for name, digest in self._checksums.items()}


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
