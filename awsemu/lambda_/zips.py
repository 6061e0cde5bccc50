"""
Deployment packages: checking an uploaded zip, and unpacking it where an
execution environment can read it.

Unpacking is zip-slip safe (no member may land outside the target, whether
by ``..``, an absolute name or a symlink) because packages come from users;
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
from base64 import b64encode
from collections.abc import Sequence
from pathlib import Path

from awsemu.lambda_ import errors


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_sha256(data: bytes) -> str:
    """``CodeSha256`` as Lambda reports it: the base64 of the package's SHA-256."""
    return b64encode(hashlib.sha256(data).digest()).decode("ascii")


def unzipped_size(data: bytes) -> int:
    """
    The package's unzipped size, checking that it is a zip at all (AWS
    rejects an unreadable package at upload, not at the first invoke).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise errors.unzippable() from e


def _extract(data: bytes, target: Path) -> None:
    root = target.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            destination = (root / info.filename).resolve()
            if destination != root and root not in destination.parents:
                raise errors.invalid(f"The package holds a path outside its root: {info.filename}")
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(destination, "wb") as sink:
                shutil.copyfileobj(source, sink)
            # Keep the executable bits (a custom runtime's bootstrap), drop the rest.
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(destination, 0o755 if mode & stat.S_IXUSR else 0o644)


def unpack(packages: Sequence[bytes], target: Path) -> Path:
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
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.{id(packages)}")
    scratch.mkdir()
    try:
        for data in packages:
            _extract(data, scratch)
        scratch.chmod(0o755)
        os.rename(scratch, target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
    return target
