"""
What S3's families of operations (``buckets``, ``objects``, ``listings``,
``multipart``) share: ``Common`` holds the store, the clock and the
notifier, with the lookups and write steps more than one family takes
(a request's bucket and object version, a body received and checked,
write conditions, version ids, copy sources); the functions below shape
what writes store and answer.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO, Final
from urllib.parse import parse_qsl, unquote

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import checksums, encryption, errors, restore
from awsemu.s3.conditions import Conditions
from awsemu.s3.notifications import Notifier
from awsemu.s3.store import Bucket, Document, ObjectVersion, Store, new_id

Params = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[RequestContext, Params], Awaitable[Output]]

#: PutObject/CreateMultipartUpload members stored with the object and returned on reads.
STORED_HEADERS: Final = (
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
    "Expires",
    "WebsiteRedirectLocation",
)


def body_bytes(output: Output) -> bytes:
    """The whole ``Body`` of a ``get_object`` answer (bytes, or a file read and closed)."""
    body = output["Body"]
    if isinstance(body, bytes):
        return body
    try:
        data: bytes = body.read()
    finally:
        body.close()
    return data


def quoted_md5(raw: bytes) -> str:
    return f'"{raw.hex()}"'


def bare(etag: str) -> str:
    return etag.strip('"')


def write_algorithms(
    params: Params, extra: tuple[str, ...] = (), *, default: bool = False
) -> tuple[str, ...]:
    """
    The checksum algorithms a write must compute: those it sent values for
    or asked for, plus ``extra``; with ``default``, S3's own when that
    leaves none, as S3 gives every object it writes a checksum.
    """
    sent = [name for name, param in checksums.PARAM_NAMES.items() if params.get(param)]
    requested = params.get("ChecksumAlgorithm")
    wanted = [*sent, *extra, *([requested.upper()] if requested else [])]
    chosen = tuple(dict.fromkeys(name for name in wanted if name in checksums.ALGORITHMS))
    return chosen or ((checksums.DEFAULT,) if default else ())


def checksum_output(version_checksums: dict[str, str], checksum_type: str | None) -> Output:
    output: Output = {
        checksums.param_name(name): value for name, value in version_checksums.items()
    }
    if version_checksums and checksum_type:
        output["ChecksumType"] = checksum_type
    return output


def write_encryption(params: Params, bucket: Bucket) -> Document:
    """The encryption a write gets: what it asked for, else the bucket's default (SSE-S3)."""
    return encryption.for_write(params, bucket.config, bucket.owner, bucket.region)


def parse_copy_source(text: str) -> tuple[str, str, str | None]:
    """``bucket/key[?versionId=v]``, URL-encoded, with an optional leading slash."""
    path, _, query = text.partition("?")
    bucket, _, key = unquote(path.lstrip("/")).partition("/")
    version_id = dict(parse_qsl(query)).get("versionId")
    if not bucket or not key:
        raise errors.invalid_argument("Invalid copy source object key", "x-amz-copy-source", text)
    return bucket, key, version_id


@attrs.define
class Received:
    """A request body once stored: its blob, size, ETag and checksums."""

    blob: str
    size: int
    etag: str
    checksums: dict[str, str]


def operations(family: object) -> dict[str, Handler]:
    """A family's operations by botocore's method name: its public coroutine methods."""
    return {
        name: getattr(family, name)
        for name, _ in inspect.getmembers(type(family), inspect.iscoroutinefunction)
        if not name.startswith("_")
    }


@attrs.define
class Common:
    """
    The state every family of operations works on: ``store``; ``clock``
    dates everything written; ``notifier`` sends event notifications.
    """

    store: Store
    clock: IReactorTime
    notifier: Notifier

    def bucket(self, params: Params) -> Bucket:
        """The bucket a request names, if it exists and is owned as ``ExpectedBucketOwner`` says."""
        bucket = self.store.bucket(params["Bucket"])
        expected = params.get("ExpectedBucketOwner")
        if expected is not None and expected != bucket.owner:
            raise errors.access_denied()
        return bucket

    def now(self) -> float:
        return self.clock.seconds()

    async def receive(
        self, body: BinaryIO, params: Params, extra: tuple[str, ...] = (), *, default: bool = False
    ) -> Received:
        """
        Store a request body, verifying its ``Content-MD5`` and checksums; a
        body that fails verification is not kept. ``default``: see ``write_algorithms``.
        """
        expected_md5 = _content_md5(params.get("ContentMD5"))
        expected = {
            name: _checksum_value(name, params[param])
            for name, param in checksums.PARAM_NAMES.items()
            if params.get(param)
        }
        digests = checksums.BodyDigests(write_algorithms(params, extra, default=default))
        blob = await self.store.blobs.write(body, digests)
        md5 = digests.md5.digest()
        computed = digests.checksums()
        try:
            if expected_md5 is not None and expected_md5 != md5:
                raise errors.bad_digest(params["ContentMD5"], checksums.encode(md5))
            for name, value in expected.items():
                if computed[name] != value:
                    raise errors.checksum_mismatch(name.lower())
        except ServiceError:
            self.store.blobs.delete(blob)
            raise
        return Received(blob, digests.size, quoted_md5(md5), computed)

    def check_write_conditions(self, bucket: Bucket, key: str, params: Params) -> None:
        """``If-None-Match: *`` and ``If-Match`` on writes (PutObject, CompleteMultipartUpload)."""
        current = bucket.live(key)
        if params.get("IfNoneMatch") is not None and current is not None:
            raise errors.precondition_failed("If-None-Match")
        if params.get("IfMatch") is not None:
            if current is None:
                raise errors.no_such_key(key)
            if bare(params["IfMatch"]) not in ("*", bare(current.etag)):
                raise errors.precondition_failed("If-Match")

    def recheck_write(self, bucket: Bucket, key: str, params: Params, blob: str) -> None:
        """
        Once a body is stored (other requests ran meanwhile): the bucket
        must still exist and the write's conditions still hold, or the
        body is dropped.
        """
        try:
            if self.store.buckets.get(bucket.name) is not bucket:
                raise errors.no_such_bucket(bucket.name)
            self.check_write_conditions(bucket, key, params)
        except ServiceError:
            self.store.blobs.delete(blob)
            raise

    def new_version_id(self, bucket: Bucket) -> str:
        return new_id() if bucket.versioning == "Enabled" else "null"

    def version_output(self, bucket: Bucket, version: ObjectVersion) -> Output:
        return {"VersionId": version.version_id} if bucket.versioning is not None else {}

    def written_version(self, bucket: Bucket, version: ObjectVersion) -> Output:
        """
        The version id PutObject and CompleteMultipartUpload answer: none
        for the null version a bucket with versioning suspended writes.
        """
        return {} if version.version_id == "null" else self.version_output(bucket, version)

    def settings(self, params: Params) -> Output:
        """The stored headers a write sets."""
        return {name: params[name] for name in STORED_HEADERS if params.get(name) is not None}

    def find(
        self,
        bucket: Bucket,
        key: str,
        version_id: str | None,
        method: str = "GET",
        *,
        dated: bool = False,
    ) -> ObjectVersion:
        """
        The version a request made with HTTP ``method`` names, or AWS's
        error for its absence. A current delete marker hides the key from
        reads (404) and refuses writes (405); one named by its version id
        refuses all but DELETE, with its ``Last-Modified`` if ``dated``.
        """
        if version_id is None:
            version = bucket.current(key)
            if version is None:
                raise errors.no_such_key(key)
            if version.delete_marker:
                if method in ("GET", "HEAD"):
                    raise errors.deleted_key(key, version.version_id)
                raise errors.delete_marker_method(method)
            return version
        found = bucket.version(key, version_id)
        if found is None:
            if version_id != "null" and not re.fullmatch(r"[0-9a-f]{32}", version_id):
                raise errors.invalid_argument(
                    "Invalid version id specified", "versionId", version_id
                )
            raise errors.no_such_version(key, version_id)
        if found.delete_marker:
            raise errors.delete_marker_method(
                method, found.version_id, found.last_modified if dated else None
            )
        return found

    def copy_source(self, params: Params) -> tuple[Bucket, ObjectVersion]:
        """The copy source a request names, once its ``x-amz-copy-source-if-*`` conditions hold."""
        bucket_name, key, version_id = parse_copy_source(params["CopySource"])
        bucket = self.store.bucket(bucket_name)
        named = None if version_id is None else bucket.version(key, version_id)
        if named is not None and named.delete_marker:
            raise errors.copy_of_delete_marker()
        source = self.find(bucket, key, version_id)
        encryption.check_read(source.encryption, params, encryption.COPY_SOURCE)
        restore.check_copy_source(source, self.now())
        Conditions.of_copy_source(params).check(
            source.etag, source.last_modified, not_modified_fails=True
        )
        return bucket, source

    def object_version(self, params: Params, method: str) -> tuple[Bucket, ObjectVersion]:
        """The version a sub-resource call (tagging, ACL) with HTTP ``method`` names."""
        bucket = self.bucket(params)
        return bucket, self.find(bucket, params["Key"], params.get("VersionId"), method)


def _content_md5(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 16:
        raise errors.invalid_digest(value)
    return raw


def _checksum_value(algorithm: str, value: str) -> str:
    """A sent checksum, checked for form (base64 of the algorithm's digest size)."""
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != checksums.digest_size(algorithm):
        raise errors.invalid_checksum_value(algorithm)
    return value
