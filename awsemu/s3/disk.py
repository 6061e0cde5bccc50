"""
S3 state under ``--data-dir``: bodies as files, metadata in SQLite.

A body is copied to a temporary file, fsynced and renamed into place
before its metadata is committed, so an object whose PUT was answered
survives ``kill -9``: the rename is durable first, then the WAL commit.
A crash in between leaves only an unreferenced blob, removed on the next
start. Copies run in the given thread pool, a chunk at a time, so large
bodies never sit in memory and never block the reactor.
"""

from __future__ import annotations

import json
import os
import sqlite3
from base64 import b64decode, b64encode
from collections.abc import Iterable
from datetime import datetime
from typing import Any, BinaryIO, Final

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.filepath import FilePath
from twisted.python.threadpool import ThreadPool

from awsemu.protocol.segments import Segments, blocks
from awsemu.s3.checksums import BodyDigests
from awsemu.s3.chunked import digested
from awsemu.s3.store import Bucket, ObjectVersion, Upload, new_id
from awsemu.state.datadir import FILE_MODE

_TEMPORARY_PREFIX: Final = "tmp-"


@attrs.define
class Window:
    """
    A readable view of ``length`` bytes of an open file from its current
    position, for streaming a range of a blob; closes the file at its end.
    """

    file: BinaryIO
    remaining: int

    def read(self, size: int = -1) -> bytes:
        if not self.remaining:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self.file.read(size)
        self.remaining -= len(data)
        if not data or not self.remaining:
            self.file.close()
        return data

    def close(self) -> None:
        self.file.close()


def _fsync_directory(path: FilePath[str]) -> None:
    descriptor = os.open(path.path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@attrs.define
class DiskBlobs:
    """Bodies as files named by random ids in ``root``; copies run in ``pool``."""

    root: FilePath[str]
    reactor: IReactorFromThreads
    pool: ThreadPool

    def __attrs_post_init__(self) -> None:
        if not self.root.isdir():
            self.root.makedirs()

    def _path(self, blob_id: str) -> FilePath[str]:
        return self.root.child(blob_id)

    def _store(self, sources: Iterable[BinaryIO], digests: BodyDigests | None) -> str:
        """Copy ``sources`` into a new blob (feeding ``digests``), durably; runs in the pool."""
        blob_id = new_id()
        temporary = self.root.child(_TEMPORARY_PREFIX + blob_id)
        descriptor = os.open(temporary.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(descriptor, "wb") as target:
            for source in sources:
                for chunk in blocks(source):
                    if digests is not None:
                        digests.update(chunk)
                    target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        os.replace(temporary.path, self._path(blob_id).path)
        _fsync_directory(self.root)
        return blob_id

    def write(self, source: BinaryIO, digests: BodyDigests) -> Deferred[str]:
        pieces = digested(source, digests)
        if pieces is None:
            return deferToThreadPool(self.reactor, self.pool, self._store, [source], digests)
        # Digested as it arrived: only the copy to the file is left.
        return deferToThreadPool(self.reactor, self.pool, self._store, [Segments(pieces)], None)

    def concat(self, blob_ids: list[str], digests: BodyDigests) -> Deferred[str]:
        def opened() -> Iterable[BinaryIO]:
            for blob_id in blob_ids:
                with open(self._path(blob_id).path, "rb") as source:
                    yield source

        return deferToThreadPool(self.reactor, self.pool, self._store, opened(), digests)

    def read(self, blob_id: str, start: int, length: int) -> bytes | BinaryIO:
        source = open(self._path(blob_id).path, "rb")  # noqa: SIM115 - closed by Window
        source.seek(start)
        return Window(source, length)  # type: ignore[return-value]

    def delete(self, blob_id: str) -> None:
        try:
            os.unlink(self._path(blob_id).path)
        except FileNotFoundError:
            pass

    def sweep(self, referenced: set[str]) -> None:
        """Remove temporaries and blobs nothing refers to (left by a crash)."""
        for child in self.root.children():
            if child.basename() not in referenced:
                child.remove()


def _encode(value: Any) -> Any:
    """JSON for what botocore parameters hold beyond JSON's own types."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": b64encode(value).decode("ascii")}
    raise TypeError(f"cannot record {type(value).__name__}")


def _decode(document: dict[str, Any]) -> Any:
    if "$datetime" in document:
        return datetime.fromisoformat(document["$datetime"])
    if "$bytes" in document:
        return b64decode(document["$bytes"])
    return document


def _dump(value: Any) -> str:
    return json.dumps(attrs.asdict(value) if attrs.has(type(value)) else value, default=_encode)


def _load(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL, doc TEXT NOT NULL,
    UNIQUE (bucket, key, version_id)
);
CREATE TABLE IF NOT EXISTS uploads (upload_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
"""


@attrs.define
class SqliteJournal:
    """
    The store's metadata in SQLite, WAL mode: each change is one small
    transaction, durable against a killed process once committed. Versions
    keep their insertion order in ``seq``, which is the order of a key's
    version history.
    """

    connection: sqlite3.Connection

    @classmethod
    def open(cls, path: FilePath[str]) -> SqliteJournal:
        connection = sqlite3.connect(path.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        return cls(connection)

    def load(self) -> tuple[list[Bucket], list[tuple[str, ObjectVersion]], list[Upload]]:
        run = self.connection.execute
        buckets = [Bucket(**_load(doc)) for (doc,) in run("SELECT doc FROM buckets")]
        versions = [
            (bucket, ObjectVersion(**_load(doc)))
            for bucket, doc in run("SELECT bucket, doc FROM versions ORDER BY seq")
        ]
        uploads = [Upload(**_load(doc)) for (doc,) in run("SELECT doc FROM uploads")]
        return buckets, versions, uploads

    def _transaction(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        with self.connection:
            self.connection.execute("BEGIN")
            for sql, parameters in statements:
                self.connection.execute(sql, parameters)

    def save_bucket(self, bucket: Bucket) -> None:
        self._transaction(
            (
                "INSERT OR REPLACE INTO buckets VALUES (?, ?)",
                (bucket.name, _dump(bucket.document())),
            )
        )

    def delete_bucket(self, name: str) -> None:
        self._transaction(
            ("DELETE FROM buckets WHERE name = ?", (name,)),
            ("DELETE FROM versions WHERE bucket = ?", (name,)),
        )

    def save_version(self, bucket: str, version: ObjectVersion, fresh: bool) -> None:
        where = (bucket, version.key, version.version_id)
        if fresh:
            self._transaction(
                ("DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?", where),
                (
                    "INSERT INTO versions (bucket, key, version_id, doc) VALUES (?, ?, ?, ?)",
                    (*where, _dump(version)),
                ),
            )
        else:
            self._transaction(
                (
                    "UPDATE versions SET doc = ? WHERE bucket = ? AND key = ? AND version_id = ?",
                    (_dump(version), *where),
                )
            )

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        self._transaction(
            (
                "DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?",
                (bucket, key, version_id),
            )
        )

    def save_upload(self, upload: Upload) -> None:
        self._transaction(
            ("INSERT OR REPLACE INTO uploads VALUES (?, ?)", (upload.upload_id, _dump(upload)))
        )

    def delete_upload(self, upload_id: str) -> None:
        self._transaction(("DELETE FROM uploads WHERE upload_id = ?", (upload_id,)))


def referenced_blobs(versions: Iterable[ObjectVersion], uploads: Iterable[Upload]) -> set[str]:
    """Every blob id the metadata refers to."""
    blobs = {version.blob for version in versions if version.blob is not None}
    blobs.update(part.blob for upload in uploads for part in upload.parts if part.blob is not None)
    return blobs
