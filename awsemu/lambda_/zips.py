"""
Deployment packages: checking an uploaded zip, and unpacking it where an
execution environment can read it.

Unpacking is zip-slip safe (no member may land outside the target, whether
by ``..``, an absolute name or a symlink: a symlink member is unpacked as
a plain file holding its target) and bounded (AWS's unzipped limit, counted
on the bytes written, not on the sizes the archive declares), because
packages come from users;
it runs in a thread (it is all blocking file work) and each package is
unpacked once per content hash, since every environment of every version
sharing the code can share the directory read-only.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import zipfile
import zlib
from base64 import b64encode
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Final

import attrs

from awsemu.lambda_ import errors
from awsemu.protocol.errors import ServiceError


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_sha256(data: bytes) -> str:
    """``CodeSha256`` as Lambda reports it: the base64 of the package's SHA-256."""
    return b64encode(hashlib.sha256(data).digest()).decode("ascii")


#: The largest package ``ZipFile`` may carry in a request (50 MiB), and the
#: largest unzipped size of a function's code and layers together, as AWS
#: words its quotas ("Lambda quotas" in the Lambda developer guide). Larger
#: packages go through S3, which only the unzipped limit applies to.
ZIPPED_LIMIT: Final = 52_428_800
UNZIPPED_LIMIT: Final = 262_144_000

_COPY_CHUNK: Final = 1024 * 1024
#: What a broken archive raises while it is read (zlib.error for a corrupt stream).
_UNREADABLE: Final = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError)


def too_large_zipped() -> ServiceError:
    # AWS's answer to a ZipFile over the quota, checked before the request's size
    # since late 2023 (as recorded in github.com/localstack/docs/pull/933).
    return ServiceError(
        "RequestEntityTooLargeException",
        f"Zipped size must be smaller than {ZIPPED_LIMIT} bytes",
        413,
    )


def invalid_zip() -> ServiceError:
    # Invoke's modeled error for a package Lambda cannot unpack.
    return ServiceError(
        "InvalidZipFileException",
        "Lambda was not able to unzip the deployment package.",
        502,
        sender_fault=False,
    )


def too_large_unzipped(limit: int) -> ServiceError:
    # As AWS words it (e.g. github.com/serverless/serverless/issues/6792).
    return errors.invalid(f"Unzipped size must be smaller than {limit} bytes")


def check_zipped_size(data: bytes) -> None:
    """Refuse a package uploaded as ``ZipFile`` past AWS's quota."""
    if len(data) >= ZIPPED_LIMIT:
        raise too_large_zipped()


@attrs.define
class _Budget:
    """How many more bytes unpacking may write, of ``limit`` in all."""

    limit: int
    left: int = attrs.field()

    @left.default
    def _whole(self) -> int:
        return self.limit

    def copy(self, source: IO[bytes], sink: IO[bytes] | None) -> None:
        """
        Copy ``source`` to ``sink`` (None: only read it) a chunk at a time,
        spending the budget; ``too_large_unzipped`` once it is spent (AWS
        wants sizes smaller than the limit).
        """
        while chunk := source.read(_COPY_CHUNK):
            self.left -= len(chunk)
            if self.left <= 0:
                raise too_large_unzipped(self.limit)
            if sink is not None:
                sink.write(chunk)


def unzipped_size(data: bytes, limit: int = UNZIPPED_LIMIT) -> int:
    """
    The package's unzipped size, checked as AWS does at upload: it must be
    a readable zip (not at the first invoke) of at most ``limit`` bytes.
    The sizes an archive declares are checked first, then every member is
    decompressed and counted, since declared sizes can lie (and a member's
    CRC must match).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if sum(info.file_size for info in members) >= limit:
                raise too_large_unzipped(limit)
            budget = _Budget(limit)
            for info in members:
                with archive.open(info) as source:
                    budget.copy(source, None)
            return limit - budget.left
    except (*_UNREADABLE, OSError) as e:
        raise errors.unzippable() from e


def _extract(data: bytes, target: Path, budget: _Budget) -> None:
    """Unpack ``data`` into ``target``, within ``budget``."""
    root = target.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            destination = (root / info.filename).resolve()
            if destination != root and root not in destination.parents:
                raise errors.invalid(f"The package holds a path outside its root: {info.filename}")
            if info.is_dir():
                _directories(root, destination)
                continue
            _directories(root, destination.parent)
            with archive.open(info) as source, open(destination, "wb") as sink:
                budget.copy(source, sink)
            # Keep the executable bits (a custom runtime's bootstrap), drop the rest.
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(destination, 0o755 if mode & stat.S_IXUSR else 0o644)


def _directories(root: Path, directory: Path, mode: int = 0o755) -> None:
    """
    Make ``directory`` and its parents up to ``root`` with ``mode``, by
    default readable by all: the daemon's umask may be private, and a
    function may run as another user.
    """
    missing = []
    while directory != root and not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
        path.chmod(mode)


def unpack(packages: Sequence[bytes], target: Path, limit: int = UNZIPPED_LIMIT) -> Path:
    """
    ``packages`` unpacked in order into ``target`` (later ones overwrite
    earlier ones, as layers do in ``/opt``), unless it already exists.

    The packages are unpacked beside ``target`` and renamed into place, so a
    concurrent or interrupted unpack never leaves a half-filled directory
    that a later call would take for a finished one. Blocking: run it in a
    thread.
    """
    if target.is_dir():
        return target
    # Functions may run as uids of their own (--lambda-user): they must reach
    # their code, whatever the daemon's umask, but not list the others'.
    _directories(Path(target.anchor), target.parent, 0o711)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.{id(packages)}")
    scratch.mkdir()
    try:
        budget = _Budget(limit)
        for data in packages:
            _extract(data, scratch, budget)
        scratch.chmod(0o755)
        os.rename(scratch, target)
    except _UNREADABLE as e:
        # A package stored before uploads were checked this closely.
        raise invalid_zip() from e
    except OSError:
        if not target.is_dir():
            raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
    return target
