"""
What S3 keeps: buckets, object versions and multipart uploads, indexed in
memory for the reactor thread, with every change written through to a
``Journal`` (nothing, or SQLite under ``--data-dir``) and object bodies
kept by a ``Blobs`` store (memory, or files).

All methods run on the reactor thread; only ``Blobs`` moves work to
threads. Blobs are named by random ids, never by keys, so no key can name
a path.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, Protocol

import attrs
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import PooledRandom
from awsemu.protocol.segments import BLOCK_SIZE, Piece, Segments, blocks
from awsemu.s3 import errors
from awsemu.s3.checksums import BodyDigests
from awsemu.s3.chunked import digested

Document = dict[str, Any]
"""A sub-resource or ACL as botocore's parameters spell it."""


def _parts(items: Iterable[Part | Document]) -> list[Part]:
    return [item if isinstance(item, Part) else Part(**item) for item in items]


@attrs.define
class Part:
    """One uploaded part, or one part of a completed multipart object."""

    number: int
    etag: str
    size: int
    last_modified: float
    blob: str | None = None
    checksums: dict[str, str] = attrs.Factory(dict)


@attrs.define
class ObjectVersion:
    """
    One version of a key: its body's blob and everything S3 returns about
    it. Unversioned buckets hold only ``version_id="null"`` versions.
    ``headers`` are the stored ``Content-*``/``Cache-Control``/``Expires``
    values by botocore member name.
    """

    key: str
    version_id: str
    last_modified: float
    owner: str
    etag: str = ""
    size: int = 0
    blob: str | None = None
    delete_marker: bool = False
    metadata: dict[str, str] = attrs.Factory(dict)
    headers: dict[str, Any] = attrs.Factory(dict)
    storage_class: str = "STANDARD"
    checksums: dict[str, str] = attrs.Factory(dict)
    checksum_type: str | None = None
    parts: list[Part] = attrs.field(factory=list, converter=_parts)
    tags: dict[str, str] = attrs.Factory(dict)
    encryption: dict[str, Any] = attrs.Factory(dict)
    acl: Document | None = None
    restore: dict[str, float] = attrs.Factory(dict)
    """An archived version's restored copy: when it is ``ready`` and ``expires``."""


@attrs.define
class Upload:
    """A multipart upload in progress; ``settings`` are CreateMultipartUpload's parameters."""

    upload_id: str
    bucket: str
    key: str
    initiated: float
    owner: str
    settings: dict[str, Any]
    parts: list[Part] = attrs.field(factory=list, converter=_parts)

    def part(self, number: int) -> Part | None:
        for part in self.parts:
            if part.number == number:
                return part
        return None

    def add_part(self, part: Part) -> Part | None:
        """Keep ``part``; the part it replaces (same number), if any."""
        old = self.part(part.number)
        if old is not None:
            self.parts.remove(old)
        bisect.insort(self.parts, part, key=lambda p: p.number)
        return old


@attrs.define
class Bucket:
    """
    A bucket: its owner, region, versioning state and stored sub-resources
    (``config``, by sub-resource name), and its versions by key (newest
    first) with the keys kept sorted for listing.
    """

    name: str
    owner: str
    region: str
    created: float
    versioning: str | None = None
    config: dict[str, Any] = attrs.Factory(dict)
    versions: dict[str, list[ObjectVersion]] = attrs.field(factory=dict, eq=False, repr=False)
    keys: list[str] = attrs.field(factory=list, eq=False, repr=False)

    def document(self) -> Document:
        """What the journal keeps of the bucket itself (versions are kept apart)."""
        return attrs.asdict(self, filter=lambda a, _: a.name not in ("versions", "keys"))

    def current(self, key: str) -> ObjectVersion | None:
        """The key's current version (possibly a delete marker), or None."""
        versions = self.versions.get(key)
        return versions[0] if versions else None

    def live(self, key: str) -> ObjectVersion | None:
        """The key's current version unless it is a delete marker."""
        current = self.current(key)
        return None if current is None or current.delete_marker else current

    def version(self, key: str, version_id: str) -> ObjectVersion | None:
        for version in self.versions.get(key, ()):
            if version.version_id == version_id:
                return version
        return None

    def keys_from(self, start: str, prefix: str = "") -> Iterator[str]:
        """Keys ``>= start`` (and ``>= prefix``) that begin with ``prefix``, in order."""
        index = bisect.bisect_left(self.keys, max(start, prefix))
        keys = self.keys
        while index < len(keys):
            key = keys[index]
            if not key.startswith(prefix):
                return
            yield key
            index += 1

    def is_empty(self) -> bool:
        return not self.keys


class Blobs(Protocol):
    """Where object bodies live: in memory, or as files under the data dir."""

    def write(self, source: BinaryIO, digests: BodyDigests) -> Deferred[str]:
        """Copy ``source`` to a new blob, feeding ``digests``; its id once it is durable."""

    def concat(self, blob_ids: list[str], digests: BodyDigests) -> Deferred[str]:
        """A new blob holding the given blobs one after the other."""

    def read(self, blob_id: str, start: int, length: int) -> bytes | BinaryIO:
        """``length`` bytes of the blob from ``start``, as bytes or a file to stream."""

    def delete(self, blob_id: str) -> None:
        """Forget the blob; it is unreferenced."""


class Journal(Protocol):
    """Durable record of the store's metadata; every call is one committed change."""

    def load(self) -> tuple[list[Bucket], list[tuple[str, ObjectVersion]], list[Upload]]:
        """Everything recorded: buckets, (bucket, version) oldest first, uploads."""

    def save_bucket(self, bucket: Bucket) -> None: ...

    def delete_bucket(self, name: str) -> None: ...

    def save_version(self, bucket: str, version: ObjectVersion, fresh: bool) -> None:
        """Record ``version``: as the key's newest if ``fresh``, else changed in place."""

    def delete_version(self, bucket: str, key: str, version_id: str) -> None: ...

    def save_upload(self, upload: Upload) -> None: ...

    def delete_upload(self, upload_id: str) -> None: ...


class NoJournal:
    """The journal of a store kept in memory only."""

    def load(self) -> tuple[list[Bucket], list[tuple[str, ObjectVersion]], list[Upload]]:
        return [], [], []

    def save_bucket(self, bucket: Bucket) -> None:
        pass

    def delete_bucket(self, name: str) -> None:
        pass

    def save_version(self, bucket: str, version: ObjectVersion, fresh: bool) -> None:
        pass

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        pass

    def save_upload(self, upload: Upload) -> None:
        pass

    def delete_upload(self, upload_id: str) -> None:
        pass


@attrs.define
class Store:
    """The S3 state of every account: bucket names are global, as in AWS."""

    blobs: Blobs
    journal: Journal = attrs.Factory(NoJournal)
    buckets: dict[str, Bucket] = attrs.Factory(dict)
    uploads: dict[str, Upload] = attrs.Factory(dict)

    @classmethod
    def open(cls, blobs: Blobs, journal: Journal) -> Store:
        """A store holding what ``journal`` recorded."""
        store = cls(blobs, journal)
        buckets, versions, uploads = journal.load()
        store.buckets = {bucket.name: bucket for bucket in buckets}
        for bucket_name, version in versions:
            bucket = store.buckets[bucket_name]
            if version.key not in bucket.versions:
                bucket.versions[version.key] = []
                bucket.keys.append(version.key)
            bucket.versions[version.key].insert(0, version)
        for bucket in store.buckets.values():
            bucket.keys.sort()
        store.uploads = {upload.upload_id: upload for upload in uploads}
        return store

    def clear(self) -> None:
        """Forget every bucket, object and upload, bodies included."""
        for upload in list(self.uploads.values()):
            self.remove_upload(upload)
        for bucket in list(self.buckets.values()):
            for versions in list(bucket.versions.values()):
                for version in list(versions):
                    self.remove_version(bucket, version)
            self.remove_bucket(bucket)

    def inventory(self) -> list[tuple[str, str, str, str]]:
        """Every bucket (in its owner's account and its region)."""
        return [(b.owner, b.region, "buckets", b.name) for b in self.buckets.values()]

    def bucket(self, name: str) -> Bucket:
        try:
            return self.buckets[name]
        except KeyError:
            raise errors.no_such_bucket(name) from None

    def add_bucket(self, bucket: Bucket) -> None:
        self.journal.save_bucket(bucket)
        self.buckets[bucket.name] = bucket

    def save_bucket(self, bucket: Bucket) -> None:
        """Record a change to the bucket's own settings."""
        self.journal.save_bucket(bucket)

    def remove_bucket(self, bucket: Bucket) -> None:
        self.journal.delete_bucket(bucket.name)
        del self.buckets[bucket.name]
        for upload in [u for u in self.uploads.values() if u.bucket == bucket.name]:
            self.remove_upload(upload)

    def put_version(self, bucket: Bucket, version: ObjectVersion) -> None:
        """
        Make ``version`` the key's current version. A ``null`` version
        replaces the previous ``null`` one (unversioned and suspended buckets).
        """
        versions = bucket.versions.get(version.key)
        if versions is None:
            versions = bucket.versions[version.key] = []
            bisect.insort(bucket.keys, version.key)
        self.journal.save_version(bucket.name, version, fresh=True)
        if version.version_id == "null":
            for old in [v for v in versions if v.version_id == "null"]:
                versions.remove(old)
                self._forget_body(old)
        versions.insert(0, version)

    def save_version(self, bucket: Bucket, version: ObjectVersion) -> None:
        """Record a change to an existing version's tags or ACL, in place."""
        self.journal.save_version(bucket.name, version, fresh=False)

    def remove_version(self, bucket: Bucket, version: ObjectVersion) -> None:
        versions = bucket.versions[version.key]
        self.journal.delete_version(bucket.name, version.key, version.version_id)
        versions.remove(version)
        if not versions:
            del bucket.versions[version.key]
            del bucket.keys[bisect.bisect_left(bucket.keys, version.key)]
        self._forget_body(version)

    def _forget_body(self, version: ObjectVersion) -> None:
        if version.blob is not None:
            self.blobs.delete(version.blob)

    def upload(self, upload_id: str) -> Upload:
        try:
            return self.uploads[upload_id]
        except KeyError:
            raise errors.no_such_upload(upload_id) from None

    def add_upload(self, upload: Upload) -> None:
        self.journal.save_upload(upload)
        self.uploads[upload.upload_id] = upload

    def add_part(self, upload: Upload, part: Part) -> None:
        old = upload.add_part(part)
        self.journal.save_upload(upload)
        if old is not None and old.blob is not None:
            self.blobs.delete(old.blob)

    def remove_upload(self, upload: Upload, keep: Iterable[str] = ()) -> None:
        """Forget ``upload`` and its parts' blobs, except those in ``keep``."""
        self.journal.delete_upload(upload.upload_id)
        del self.uploads[upload.upload_id]
        kept = set(keep)
        for part in upload.parts:
            if part.blob is not None and part.blob not in kept:
                self.blobs.delete(part.blob)


_RANDOM = PooledRandom()
"""
``os.urandom``'s bytes for ``new_id``, read 4 KiB at a time: a system
call for every object written cost a PutObject a few µs of the daemon's
CPU. Ids are made on the reactor thread and in the disk store's threads.
"""
_RANDOM_LOCK = threading.Lock()


def _forget_random() -> None:
    """A forked child draws its own bytes, never the ones its parent has yet to use."""
    global _RANDOM
    _RANDOM = PooledRandom()


os.register_at_fork(after_in_child=_forget_random)


def new_id() -> str:
    """
    A fresh random id (blobs, uploads, versions): unguessable, path-safe,
    32 hex digits. Not a ``uuid4``: building the UUID object costs several
    times the random bytes, on every object written.
    """
    with _RANDOM_LOCK:
        return _RANDOM(16).hex()


@attrs.define
class MemoryBlobs:
    """
    Bodies kept in memory: the default, for a daemon without ``--data-dir``.
    A body is kept as the pieces it arrived in (see ``Segments``), so a
    large upload is stored, and a multipart upload completed, without
    copying a byte; one the gateway received into a memory map is kept as
    views of it, with the digests computed as it arrived.

    With ``clock``, a deleted body is let go on the reactor's next turn,
    after the answer of the request that deleted or replaced it is written:
    unmapping a 64 MiB map takes 5–9 ms, which that answer need not wait for.
    """

    clock: IReactorTime | None = None
    _blobs: dict[str, list[Piece]] = attrs.field(factory=dict, repr=False)

    def _keep(self, pieces: Iterable[Piece], digests: BodyDigests) -> Deferred[str]:
        kept = []
        for piece in pieces:
            digests.update(piece)
            kept.append(piece)
        blob_id = new_id()
        self._blobs[blob_id] = kept
        return succeed(blob_id)

    def write(self, source: BinaryIO, digests: BodyDigests) -> Deferred[str]:
        pieces = digested(source, digests)
        if pieces is None:
            return self._keep(blocks(source), digests)
        blob_id = new_id()
        self._blobs[blob_id] = pieces
        return succeed(blob_id)

    def concat(self, blob_ids: list[str], digests: BodyDigests) -> Deferred[str]:
        pieces = (piece for blob_id in blob_ids for piece in self._blobs[blob_id])
        return self._keep(pieces, digests)

    def read(self, blob_id: str, start: int, length: int) -> bytes | BinaryIO:
        pieces = self._blobs[blob_id]
        if len(pieces) == 1 and isinstance(pieces[0], bytes):
            # A small body: most are one piece, read as it is or sliced.
            whole = pieces[0]
            return whole if length == len(whole) else whole[start : start + length]
        body = Segments(pieces)
        body.seek(start)
        pieces = body.take(length)
        if len(pieces) == 1 and length <= BLOCK_SIZE:
            piece = pieces[0]
            return piece if isinstance(piece, bytes) else bytes(piece)
        # Larger views (of a memory map, say) are streamed, never copied whole.
        return Segments(pieces)

    def delete(self, blob_id: str) -> None:
        pieces = self._blobs.pop(blob_id, None)
        if pieces is not None and self.clock is not None:
            self.clock.callLater(0, pieces.clear)
