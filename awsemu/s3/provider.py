"""
S3's operations: one method per operation, given botocore-form
parameters, returning botocore-form output (see ``ModelService``).
Stored bucket sub-resources are rows of ``configs.CONFIGURATIONS`` rather
than methods; ``__getattr__`` serves them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import math
import re
from collections.abc import Awaitable, Callable, Iterator
from io import BytesIO
from typing import Any, BinaryIO, Final
from urllib.parse import parse_qsl, unquote

import attrs
from botocore import xform_name
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import access, checksums, configs, errors, keyed, listing, objectlock
from awsemu.s3.conditions import Conditions, byte_range
from awsemu.s3.notifications import NAME as NOTIFICATION
from awsemu.s3.notifications import Notifier
from awsemu.s3.store import Bucket, Document, ObjectVersion, Part, Store, Upload, new_id

Params = dict[str, Any]
Output = dict[str, Any]

_BUCKET_NAME: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS: Final = re.compile(r"\d+\.\d+\.\d+\.\d+")
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_PART_NUMBERS: Final = range(1, 10001)
MAX_DELETE_KEYS: Final = 1000
#: ListMultipartUploads' page size: its default, and the most a larger ``max-uploads`` gets.
MAX_UPLOADS: Final = 1000

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

#: GetObject's ``response-*`` overrides → the header member each replaces.
_OVERRIDES: Final = {
    "ResponseContentType": "ContentType",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseCacheControl": "CacheControl",
    "ResponseExpires": "Expires",
}

_NOT_MODIFIED_COPY: Final = (
    "This copy request is illegal because it is trying to copy an object to itself without "
    "changing the object's metadata, storage class, website redirect location or encryption "
    "attributes."
)


def valid_bucket_name(name: str) -> bool:
    """AWS's naming rules for general purpose buckets."""
    return (
        _BUCKET_NAME.fullmatch(name) is not None
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not _IP_ADDRESS.fullmatch(name)
        and not name.startswith(("xn--", "sthree-"))
        and not name.endswith(("-s3alias", "--ol-s3"))
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


def _bare(etag: str) -> str:
    return etag.strip('"')


def _tags(text: str | None) -> dict[str, str]:
    """``x-amz-tagging``: a URL-encoded query string of tags."""
    return dict(parse_qsl(text or "", keep_blank_values=True))


def _tag_set(tags: dict[str, str]) -> list[Document]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _algorithms(
    params: Params, extra: tuple[str, ...] = (), *, default: bool = False
) -> tuple[str, ...]:
    """
    The checksum algorithms a write must compute: those it sent values for
    or asked for, plus ``extra``; with ``default``, S3's own when that
    leaves none, as S3 gives every object it writes a checksum.
    """
    sent = [name for name in checksums.ALGORITHMS if params.get(checksums.param_name(name))]
    requested = params.get("ChecksumAlgorithm")
    wanted = [*sent, *extra, *([requested.upper()] if requested else [])]
    chosen = tuple(dict.fromkeys(name for name in wanted if name in checksums.ALGORITHMS))
    return chosen or ((checksums.DEFAULT,) if default else ())


def _checksum_output(version_checksums: dict[str, str], checksum_type: str | None) -> Output:
    output: Output = {
        checksums.param_name(name): value for name, value in version_checksums.items()
    }
    if version_checksums and checksum_type:
        output["ChecksumType"] = checksum_type
    return output


def _encryption(params: Params, bucket: Bucket) -> Document:
    """The encryption a write gets: what it asked for, else the bucket's default (SSE-S3)."""
    requested = params.get("ServerSideEncryption")
    if requested is None:
        default = configs.default_encryption(bucket.config)
        requested = default.get("SSEAlgorithm", "AES256")
        key_id = default.get("KMSMasterKeyID")
    else:
        key_id = params.get("SSEKMSKeyId")
    encryption: Document = {"ServerSideEncryption": requested}
    if requested.startswith("aws:kms"):
        if key_id:
            encryption["SSEKMSKeyId"] = key_id
        if configs.bucket_key(params.get("BucketKeyEnabled"), bucket.config):
            encryption["BucketKeyEnabled"] = True
    return encryption


def _max_keys(params: Params) -> int:
    """A listing's ``MaxKeys`` (1000 by default), or S3's error for a negative one."""
    max_keys: int = params.get("MaxKeys", 1000)
    if max_keys < 0:
        raise errors.invalid_argument(
            "Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", max_keys
        )
    return max_keys


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


@attrs.define
class S3Provider:
    """
    The S3 operations over ``store``; ``clock`` dates everything written;
    ``callers`` names the principals of keys IAM and STS issued, for
    bucket policies that name users and roles; ``notifier`` checks event
    notification configurations and sends their events.
    """

    store: Store
    clock: IReactorTime
    callers: access.CallerLookup = access.no_callers
    notifier: Notifier = attrs.field(kw_only=True)
    _configurations: dict[str, Callable[[RequestContext, Params], Awaitable[Output]]] = attrs.field(
        init=False, factory=dict
    )
    _authorizer: access.Authorizer = attrs.field(init=False)

    @_authorizer.default
    def _make_authorizer(self) -> access.Authorizer:
        return access.Authorizer(self.store, parse_copy_source, self.callers)

    @notifier.default
    def _make_notifier(self) -> Notifier:
        return Notifier(self.clock)

    def __attrs_post_init__(self) -> None:
        for configuration in configs.CONFIGURATIONS:
            self._configurations[xform_name(configuration.put)] = self._putter(configuration)
            self._configurations[xform_name(configuration.get)] = self._getter(configuration)
            if configuration.delete is not None:
                self._configurations[xform_name(configuration.delete)] = self._deleter(
                    configuration
                )
        self._configurations.update(keyed.handlers(self._bucket, self.store.save_bucket))
        self._configurations.update(
            objectlock.handlers(self._object, self.store.save_version, self._now)
        )

    def __getattr__(self, name: str) -> Callable[[RequestContext, Params], Awaitable[Output]]:
        """The sub-resource operations of ``configs.CONFIGURATIONS``."""
        try:
            configurations: dict[str, Callable[[RequestContext, Params], Awaitable[Output]]]
            configurations = object.__getattribute__(self, "_configurations")
            return configurations[name]
        except KeyError:
            raise AttributeError(name) from None

    def _putter(
        self, configuration: configs.Configuration
    ) -> Callable[[RequestContext, Params], Awaitable[Output]]:
        async def put(context: RequestContext, params: Params) -> Output:
            bucket = self._bucket(params)
            document = params.get(configuration.member)
            if document is None:
                raise errors.malformed_xml()
            if configuration.name == NOTIFICATION:
                skip = bool(params.get("SkipDestinationValidation"))
                document = await self.notifier.configure(bucket, document, skip)
            else:
                configs.validate(configuration, document, bucket.config, bucket.name)
            if configuration.name == "logging":
                self._check_logging_target(document)
            echoed = {
                member: params.get(member) or default
                for member, default in configuration.echoed.items()
            }
            bucket.config[configuration.name] = {**document, **echoed} if echoed else document
            if configuration.name == "versioning":
                bucket.versioning = document.get("Status") or bucket.versioning
            self.store.save_bucket(bucket)
            return echoed

        return put

    def _getter(
        self, configuration: configs.Configuration
    ) -> Callable[[RequestContext, Params], Awaitable[Output]]:
        async def get(context: RequestContext, params: Params) -> Output:
            bucket = self._bucket(params)
            document = configs.stored(configuration, bucket.config, bucket.name)
            if configuration.payload is not None:
                return {configuration.payload: document}
            return dict(document)

        return get

    def _deleter(
        self, configuration: configs.Configuration
    ) -> Callable[[RequestContext, Params], Awaitable[Output]]:
        async def delete(context: RequestContext, params: Params) -> Output:
            bucket = self._bucket(params)
            bucket.config.pop(configuration.name, None)
            self.store.save_bucket(bucket)
            return {}

        return delete

    def _check_logging_target(self, document: Document) -> None:
        """AWS's error for server access logs sent to a bucket that does not exist."""
        target = (document.get("LoggingEnabled") or {}).get("TargetBucket")
        if target is not None and target not in self.store.buckets:
            raise errors.invalid_target_bucket_for_logging(target)

    def _bucket(self, params: Params) -> Bucket:
        """The bucket a request names, if it exists and is owned as ``ExpectedBucketOwner`` says."""
        bucket = self.store.bucket(params["Bucket"])
        expected = params.get("ExpectedBucketOwner")
        if expected is not None and expected != bucket.owner:
            raise errors.access_denied()
        return bucket

    def _now(self) -> float:
        return self.clock.seconds()

    def authorize(self, context: RequestContext, operation: str, params: Params) -> None:
        """``AccessDenied`` unless the caller may make this call (``ModelService`` asks first)."""
        self._authorizer.authorize(context, operation, params)

    # Buckets

    async def create_bucket(self, context: RequestContext, params: Params) -> Output:
        name = params["Bucket"]
        if not valid_bucket_name(name):
            raise errors.invalid_bucket_name(name)
        region = self._bucket_region(context.region, params.get("CreateBucketConfiguration") or {})
        existing = self.store.buckets.get(name)
        if existing is not None:
            if existing.owner != context.account_id:
                raise errors.bucket_already_exists(name)
            if context.region != "us-east-1" or existing.region != region:
                raise errors.bucket_already_owned_by_you(name)
        else:
            config = configs.new_bucket_config(
                params.get("ObjectOwnership"), bool(params.get("ObjectLockEnabledForBucket"))
            )
            acl = configs.bucket_acl(params, config, context.account_id, creating=True)
            if acl is not None:
                config["acl"] = acl
            versioning = (config.get("versioning") or {}).get("Status")
            self.store.add_bucket(
                Bucket(name, context.account_id, region, self._now(), versioning, config)
            )
        location = f"/{name}" if region == "us-east-1" else f"http://{name}.s3.amazonaws.com/"
        return {"Location": location}

    @staticmethod
    def _bucket_region(endpoint_region: str, configuration: Document) -> str:
        """
        The region a new bucket goes to. The us-east-1 endpoint accepts any
        other region's constraint; a regional endpoint only its own.
        """
        constraint = configuration.get("LocationConstraint")
        if constraint is not None and (
            constraint == "us-east-1" or not _REGION.fullmatch(constraint)
        ):
            raise errors.invalid_location_constraint(constraint)
        if endpoint_region == "us-east-1":
            return constraint or "us-east-1"
        if constraint != endpoint_region:
            raise errors.illegal_location_constraint(endpoint_region, constraint)
        return endpoint_region

    async def delete_bucket(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        if not bucket.is_empty():
            raise errors.bucket_not_empty(bucket.name)
        self.store.remove_bucket(bucket)
        return {}

    async def head_bucket(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        return {"BucketRegion": bucket.region}

    async def get_bucket_location(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        return {"LocationConstraint": None if bucket.region == "us-east-1" else bucket.region}

    async def list_buckets(self, context: RequestContext, params: Params) -> Output:
        prefix = params.get("Prefix") or ""
        region = params.get("BucketRegion")
        after = ""
        if params.get("ContinuationToken"):
            after = _decode_token(params["ContinuationToken"])
        buckets = sorted(
            (
                bucket
                for bucket in self.store.buckets.values()
                if bucket.owner == context.account_id
                and bucket.name.startswith(prefix)
                and bucket.name > after
                and (region is None or bucket.region == region)
            ),
            key=lambda bucket: bucket.name,
        )
        limit = params.get("MaxBuckets")
        output: Output = {"Owner": configs.owner(context.account_id)}
        if limit is not None:
            if not 1 <= limit <= 10000:
                raise errors.invalid_argument(
                    "Argument max-buckets must be an integer between 1 and 10000",
                    "max-buckets",
                    limit,
                )
            if len(buckets) > limit:
                buckets = buckets[:limit]
                output["ContinuationToken"] = _encode_token(buckets[-1].name)
        output["Buckets"] = [
            {"Name": bucket.name, "CreationDate": bucket.created, "BucketRegion": bucket.region}
            for bucket in buckets
        ]
        if "Prefix" in params:
            output["Prefix"] = prefix
        return output

    async def put_bucket_acl(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        if not configs.sets_acl(params):
            raise errors.malformed_xml()
        acl = configs.bucket_acl(params, bucket.config, bucket.owner)
        bucket.config["acl"] = acl or configs.default_acl(bucket.owner)
        self.store.save_bucket(bucket)
        return {}

    async def get_bucket_policy_status(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        return configs.policy_status(bucket.config, bucket.name)

    async def get_bucket_acl(self, context: RequestContext, params: Params) -> Output:
        """With ACLs disabled, AWS shows the bucket owner's full control whatever is stored."""
        bucket = self._bucket(params)
        if not configs.acls_enabled(bucket.config):
            return configs.default_acl(bucket.owner)
        return dict(bucket.config.get("acl") or configs.default_acl(bucket.owner))

    # Object writes

    async def _receive(
        self, body: BinaryIO, params: Params, extra: tuple[str, ...] = (), *, default: bool = False
    ) -> Received:
        """
        Store a request body, verifying its ``Content-MD5`` and checksums; a
        body that fails verification is not kept. ``default``: see ``_algorithms``.
        """
        expected_md5 = _content_md5(params.get("ContentMD5"))
        expected = {
            name: _checksum_value(name, params[checksums.param_name(name)])
            for name in checksums.ALGORITHMS
            if params.get(checksums.param_name(name))
        }
        digests = checksums.BodyDigests(_algorithms(params, extra, default=default))
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

    def _check_write_conditions(self, bucket: Bucket, key: str, params: Params) -> None:
        """``If-None-Match: *`` and ``If-Match`` on writes (PutObject, CompleteMultipartUpload)."""
        current = bucket.live(key)
        if params.get("IfNoneMatch") is not None and current is not None:
            raise errors.precondition_failed("If-None-Match")
        if params.get("IfMatch") is not None:
            if current is None:
                raise errors.no_such_key(key)
            if _bare(params["IfMatch"]) not in ("*", _bare(current.etag)):
                raise errors.precondition_failed("If-Match")

    def _recheck_write(self, bucket: Bucket, key: str, params: Params, blob: str) -> None:
        """
        Once a body is stored (other requests ran meanwhile): the bucket
        must still exist and the write's conditions still hold, or the
        body is dropped.
        """
        try:
            if self.store.buckets.get(bucket.name) is not bucket:
                raise errors.no_such_bucket(bucket.name)
            self._check_write_conditions(bucket, key, params)
        except ServiceError:
            self.store.blobs.delete(blob)
            raise

    def _new_version_id(self, bucket: Bucket) -> str:
        return new_id() if bucket.versioning == "Enabled" else "null"

    def _version_output(self, bucket: Bucket, version: ObjectVersion) -> Output:
        return {"VersionId": version.version_id} if bucket.versioning is not None else {}

    def _written_version(self, bucket: Bucket, version: ObjectVersion) -> Output:
        """
        The version id PutObject and CompleteMultipartUpload answer: none
        for the null version a bucket with versioning suspended writes.
        """
        return {} if version.version_id == "null" else self._version_output(bucket, version)

    def _settings(self, params: Params) -> Output:
        """The stored headers a write sets."""
        return {name: params[name] for name in STORED_HEADERS if params.get(name) is not None}

    async def put_object(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        key = params["Key"]
        self._check_write_conditions(bucket, key, params)
        write = configs.object_write(params, bucket.config, bucket.owner, context.account_id)
        lock = objectlock.new_version_lock(params, bucket.config, self._now())
        received = await self._receive(params["Body"], params, default=True)
        self._recheck_write(bucket, key, params, received.blob)
        version = ObjectVersion(
            key=key,
            version_id=self._new_version_id(bucket),
            last_modified=self._now(),
            owner=write.owner,
            etag=received.etag,
            size=received.size,
            blob=received.blob,
            metadata=params.get("Metadata") or {},
            headers={**self._settings(params), **lock},
            storage_class=params.get("StorageClass") or "STANDARD",
            checksums=received.checksums,
            checksum_type="FULL_OBJECT" if received.checksums else None,
            tags=_tags(params.get("Tagging")),
            encryption=_encryption(params, bucket),
            acl=write.acl,
        )
        self.store.put_version(bucket, version)
        self.notifier.created(context, bucket, version)
        return {
            "ETag": version.etag,
            **_checksum_output(version.checksums, version.checksum_type),
            **version.encryption,
            **self._written_version(bucket, version),
        }

    # Object reads

    def _find(
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

    def _describe(self, bucket: Bucket, version: ObjectVersion, params: Params) -> Output:
        """What GetObject and HeadObject say about an object, besides its body."""
        output: Output = {
            "AcceptRanges": "bytes",
            "LastModified": version.last_modified,
            "ContentLength": version.size,
            "ETag": version.etag,
            "ContentType": "binary/octet-stream",
            **version.headers,
            **version.encryption,
            **self._version_output(bucket, version),
        }
        if version.metadata:
            output["Metadata"] = version.metadata
        if version.storage_class != "STANDARD":
            output["StorageClass"] = version.storage_class
        if version.tags:
            output["TagCount"] = len(version.tags)
        if (params.get("ChecksumMode") or "").upper() == "ENABLED":
            output.update(_checksum_output(version.checksums, version.checksum_type))
        for override, member in _OVERRIDES.items():
            if params.get(override) is not None:
                output[member] = params[override]
        return output

    def _read(self, params: Params, method: str) -> tuple[ObjectVersion, Output, tuple[int, int]]:
        """The version GET or HEAD reads, its description and the (start, length) to send."""
        bucket = self._bucket(params)
        version = self._find(bucket, params["Key"], params.get("VersionId"), method, dated=True)
        Conditions.of_read(params).check(version.etag, version.last_modified)
        output = self._describe(bucket, version, params)
        selected = self._part_range(version, params.get("PartNumber"), output)
        if selected is None:
            selected = byte_range(params.get("Range"), version.size)
        if selected is None:
            return version, output, (0, version.size)
        start, length = selected
        output["ContentLength"] = length
        output["ContentRange"] = f"bytes {start}-{start + length - 1}/{version.size}"
        for name in checksums.ALGORITHMS:
            output.pop(checksums.param_name(name), None)
        output.pop("ChecksumType", None)
        return version, output, selected

    @staticmethod
    def _part_range(
        version: ObjectVersion, number: int | None, output: Output
    ) -> tuple[int, int] | None:
        if number is None:
            return None
        parts = version.parts or [Part(1, version.etag, version.size, version.last_modified)]
        if not 1 <= number <= len(parts):
            raise ServiceError(
                "InvalidPartNumber", "The requested partnumber is not satisfiable", 416
            )
        if version.parts:
            output["PartsCount"] = len(parts)
        start = sum(part.size for part in parts[: number - 1])
        return start, parts[number - 1].size

    async def get_object(self, context: RequestContext, params: Params) -> Output:
        version, output, (start, length) = self._read(params, "GET")
        output["Body"] = (
            b""
            if version.blob is None or not length
            else self.store.blobs.read(version.blob, start, length)
        )
        return output

    async def head_object(self, context: RequestContext, params: Params) -> Output:
        return self._read(params, "HEAD")[1]

    async def get_object_attributes(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        version = self._find(bucket, params["Key"], params.get("VersionId"))
        wanted = set(params.get("ObjectAttributes") or ())
        output: Output = {
            "LastModified": version.last_modified,
            **self._version_output(bucket, version),
        }
        if "ETag" in wanted:
            output["ETag"] = _bare(version.etag)
        if "StorageClass" in wanted:
            output["StorageClass"] = version.storage_class
        if "ObjectSize" in wanted:
            output["ObjectSize"] = version.size
        if "Checksum" in wanted and version.checksums:
            output["Checksum"] = _checksum_output(version.checksums, version.checksum_type)
        if "ObjectParts" in wanted and version.parts:
            marker = params.get("PartNumberMarker") or 0
            limit = params.get("MaxParts") or 1000
            parts = [part for part in version.parts if part.number > marker]
            output["ObjectParts"] = {
                "TotalPartsCount": len(version.parts),
                "PartNumberMarker": marker,
                "NextPartNumberMarker": parts[:limit][-1].number if parts else marker,
                "MaxParts": limit,
                "IsTruncated": len(parts) > limit,
                "Parts": [
                    {
                        "PartNumber": part.number,
                        "Size": part.size,
                        **_checksum_output(part.checksums, None),
                    }
                    for part in parts[:limit]
                ],
            }
        return output

    # Deletes

    def _delete(
        self,
        context: RequestContext,
        bucket: Bucket,
        key: str,
        version_id: str | None,
        bypass: bool = False,
    ) -> Output:
        """
        One object deletion, as DeleteObject and each key of DeleteObjects
        do it (``bypass``: ``x-amz-bypass-governance-retention``).
        """
        if version_id is not None:
            version = bucket.version(key, version_id)
            if version is None:
                if version_id != "null" and not re.fullmatch(r"[0-9a-f]{32}", version_id):
                    raise errors.invalid_argument(
                        "Invalid version id specified", "versionId", version_id
                    )
                return {"VersionId": version_id}
            objectlock.check_delete(version, bypass, self._now())
            self.store.remove_version(bucket, version)
            output: Output = {"VersionId": version_id}
            if version.delete_marker:
                output["DeleteMarker"] = True
            return output
        if bucket.versioning is None:
            current = bucket.current(key)
            if current is not None:
                self.store.remove_version(bucket, current)
            return {}
        marker = ObjectVersion(
            key=key,
            version_id=self._new_version_id(bucket),
            last_modified=self._now(),
            owner=context.account_id,
            delete_marker=True,
        )
        self.store.put_version(bucket, marker)
        return {"DeleteMarker": True, "VersionId": marker.version_id}

    async def delete_object(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        result = self._delete(
            context,
            bucket,
            params["Key"],
            params.get("VersionId"),
            bool(params.get("BypassGovernanceRetention")),
        )
        self.notifier.removed(context, bucket, params["Key"], params.get("VersionId"), result)
        return result

    async def delete_objects(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        request = params.get("Delete") or {}
        objects = request.get("Objects") or []
        if not objects or len(objects) > MAX_DELETE_KEYS:
            raise errors.malformed_xml()
        deleted: list[Document] = []
        failed: list[Document] = []
        for item in objects:
            key, version_id = item.get("Key"), item.get("VersionId")
            if key is None:
                raise errors.malformed_xml()
            try:
                self._authorizer.authorize_key(context, "DeleteObjects", bucket, key, version_id)
                result = self._delete(
                    context, bucket, key, version_id, bool(params.get("BypassGovernanceRetention"))
                )
            except ServiceError as error:
                failed.append(
                    {
                        "Key": key,
                        "VersionId": version_id,
                        "Code": error.code,
                        "Message": error.message,
                    }
                )
                continue
            self.notifier.removed(context, bucket, key, version_id, result)
            entry: Document = {"Key": key}
            if version_id is not None:
                entry["VersionId"] = version_id
            if result.get("DeleteMarker"):
                entry["DeleteMarker"] = True
                entry["DeleteMarkerVersionId"] = result["VersionId"]
            deleted.append(entry)
        output: Output = {"Errors": failed}
        if not request.get("Quiet"):
            output["Deleted"] = deleted
        return output

    # Copies

    async def copy_object(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        key = params["Key"]
        source_bucket, source = self._copy_source(params)
        replace_metadata = (params.get("MetadataDirective") or "COPY") == "REPLACE"
        if (
            source_bucket is bucket
            and source.key == key
            and not replace_metadata
            and not params.get("VersionId")
            and params.get("StorageClass") in (None, source.storage_class)
            and params.get("ServerSideEncryption") is None
            and params.get("WebsiteRedirectLocation") is None
        ):
            raise errors.invalid_request(_NOT_MODIFIED_COPY)
        self._check_write_conditions(bucket, key, params)
        write = configs.object_write(params, bucket.config, bucket.owner, context.account_id)
        lock = objectlock.new_version_lock(params, bucket.config, self._now())
        algorithms = _algorithms(params, tuple(source.checksums), default=True)
        digests = checksums.BodyDigests(algorithms)
        blob = await self.store.blobs.concat([source.blob] if source.blob else [], digests)
        self._recheck_write(bucket, key, params, blob)
        tags = (
            _tags(params.get("Tagging"))
            if params.get("TaggingDirective") == "REPLACE"
            else dict(source.tags)
        )
        version = ObjectVersion(
            key=key,
            version_id=self._new_version_id(bucket),
            last_modified=self._now(),
            owner=write.owner,
            etag=quoted_md5(digests.md5.digest()),
            size=digests.size,
            blob=blob,
            metadata=(params.get("Metadata") or {}) if replace_metadata else dict(source.metadata),
            headers={
                **(
                    self._settings(params)
                    if replace_metadata
                    else objectlock.unlocked(source.headers)
                ),
                **lock,
            },
            storage_class=params.get("StorageClass") or source.storage_class,
            checksums=digests.checksums(),
            checksum_type="FULL_OBJECT" if algorithms else None,
            tags=tags,
            encryption=_encryption(params, bucket),
            acl=write.acl,
        )
        self.store.put_version(bucket, version)
        self.notifier.created(context, bucket, version)
        output: Output = {
            "CopyObjectResult": {
                "ETag": version.etag,
                "LastModified": version.last_modified,
                **_checksum_output(version.checksums, version.checksum_type),
            },
            **version.encryption,
            **self._version_output(bucket, version),
        }
        if source_bucket.versioning is not None:
            output["CopySourceVersionId"] = source.version_id
        return output

    def _copy_source(self, params: Params) -> tuple[Bucket, ObjectVersion]:
        """The copy source a request names, once its ``x-amz-copy-source-if-*`` conditions hold."""
        bucket_name, key, version_id = parse_copy_source(params["CopySource"])
        bucket = self.store.bucket(bucket_name)
        named = None if version_id is None else bucket.version(key, version_id)
        if named is not None and named.delete_marker:
            raise errors.copy_of_delete_marker()
        source = self._find(bucket, key, version_id)
        Conditions.of_copy_source(params).check(
            source.etag, source.last_modified, not_modified_fails=True
        )
        return bucket, source

    # Tagging and ACLs of objects

    def _object(self, params: Params, method: str) -> tuple[Bucket, ObjectVersion]:
        """The version a sub-resource call (tagging, ACL) with HTTP ``method`` names."""
        bucket = self._bucket(params)
        return bucket, self._find(bucket, params["Key"], params.get("VersionId"), method)

    async def put_object_tagging(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self._object(params, "PUT")
        tag_set = (params.get("Tagging") or {}).get("TagSet") or []
        version.tags = {tag["Key"]: tag["Value"] for tag in tag_set}
        self.store.save_version(bucket, version)
        return self._version_output(bucket, version)

    async def get_object_tagging(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self._object(params, "GET")
        return {"TagSet": _tag_set(version.tags), **self._version_output(bucket, version)}

    async def delete_object_tagging(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self._object(params, "DELETE")
        version.tags = {}
        self.store.save_version(bucket, version)
        return self._version_output(bucket, version)

    async def put_object_acl(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self._object(params, "PUT")
        version.acl = configs.object_acl(params, bucket.config, bucket.owner, version.owner)
        self.store.save_version(bucket, version)
        return {}

    async def get_object_acl(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self._object(params, "GET")
        if not configs.acls_enabled(bucket.config):
            return configs.default_acl(bucket.owner)
        return dict(version.acl or configs.default_acl(version.owner))

    # Listings

    def _content(
        self, version: ObjectVersion, encode: Callable[[str], str], owner: bool
    ) -> Document:
        entry: Document = {
            "Key": encode(version.key),
            "LastModified": _listed_time(version.last_modified),
            "ETag": version.etag,
            "Size": version.size,
            "StorageClass": version.storage_class,
        }
        if version.checksums:
            entry["ChecksumAlgorithm"] = list(version.checksums)
            entry["ChecksumType"] = version.checksum_type
        if owner:
            entry["Owner"] = configs.owner(version.owner)
        return entry

    def _listing(
        self, bucket: Bucket, params: Params, after: str, owner: bool
    ) -> tuple[listing.Page, Output]:
        """The page and the members ListObjects and ListObjectsV2 share."""
        max_keys = _max_keys(params)
        encode = _key_encoder(params)
        encoding = params.get("EncodingType")
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        page = listing.walk(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            after=after,
            max_keys=max_keys,
            listed=lambda key: bucket.live(key) is not None,
        )
        output: Output = {
            "Name": bucket.name,
            "Prefix": encode(prefix),
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
            "Contents": [
                self._content(bucket.versions[key][0], encode, owner) for key in page.keys
            ],
            "CommonPrefixes": [{"Prefix": encode(common)} for common in page.prefixes],
        }
        if delimiter:
            output["Delimiter"] = encode(delimiter)
        if encoding:
            output["EncodingType"] = encoding
        return page, output

    async def list_objects_v2(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        after = params.get("StartAfter") or ""
        token = params.get("ContinuationToken")
        if token is not None:
            after = max(after, _decode_token(token, "continuation-token"))
        page, output = self._listing(bucket, params, after, bool(params.get("FetchOwner")))
        output["KeyCount"] = len(page.keys) + len(page.prefixes)
        if token is not None:
            output["ContinuationToken"] = token
        if params.get("StartAfter"):
            output["StartAfter"] = params["StartAfter"]
        if page.truncated and page.last is not None:
            output["NextContinuationToken"] = _encode_token(page.last)
        return output

    async def list_objects(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        marker = params.get("Marker") or ""
        page, output = self._listing(bucket, params, marker, True)
        output["Marker"] = marker
        if page.truncated and params.get("Delimiter") and page.last is not None:
            output["NextMarker"] = page.last
        return output

    async def list_object_versions(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        max_keys = _max_keys(params)
        key_marker = params.get("KeyMarker") or ""
        version_marker = params.get("VersionIdMarker")
        versions: list[Document] = []
        markers: list[Document] = []
        page = listing.walk(
            bucket,
            prefix=params.get("Prefix") or "",
            delimiter=params.get("Delimiter") or "",
            after=key_marker if version_marker is None else "",
            max_keys=2**31,
        )
        output: Output = {
            "Name": bucket.name,
            "Prefix": params.get("Prefix") or "",
            "MaxKeys": max_keys,
            "KeyMarker": key_marker,
            "IsTruncated": False,
        }
        if version_marker is not None:
            output["VersionIdMarker"] = version_marker
        history = itertools.islice(
            _histories(bucket, page.keys, key_marker, version_marker), max_keys + 1
        )
        last: Document = {"Key": key_marker, "VersionId": version_marker}
        for count, version in enumerate(history):
            if count == max_keys:
                if max_keys:  # AWS: MaxKeys=0 is an empty page, not a truncated one.
                    output.update(IsTruncated=True, NextKeyMarker=last["Key"])
                    output["NextVersionIdMarker"] = last["VersionId"]
                break
            entry: Document = {
                "Key": version.key,
                "VersionId": version.version_id,
                "IsLatest": version is bucket.versions[version.key][0],
                "LastModified": _listed_time(version.last_modified),
                "Owner": configs.owner(version.owner),
            }
            if version.delete_marker:
                markers.append(entry)
            else:
                versions.append({**self._content(version, str, True), **entry})
            last = entry
        output.update(
            Versions=versions,
            DeleteMarkers=markers,
            CommonPrefixes=[{"Prefix": common} for common in page.prefixes],
        )
        if params.get("Delimiter"):
            output["Delimiter"] = params["Delimiter"]
        return output

    # Multipart uploads

    async def create_multipart_upload(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        algorithm = (params.get("ChecksumAlgorithm") or "").upper() or None
        checksum_type = params.get("ChecksumType") or ("COMPOSITE" if algorithm else None)
        if checksum_type == "FULL_OBJECT" and algorithm not in checksums.FULL_OBJECT_CAPABLE:
            named = (algorithm or "none").lower()
            raise errors.invalid_request(
                f"The FULL_OBJECT checksum type cannot be used with the {named} checksum algorithm."
            )
        # Refused now, as AWS does, rather than when the upload completes.
        configs.object_write(params, bucket.config, bucket.owner, context.account_id)
        objectlock.new_version_lock(params, bucket.config, self._now())
        settings = {
            **{name: value for name, value in params.items() if name not in ("Bucket", "Key")},
            "ChecksumAlgorithm": algorithm,
            "ChecksumType": checksum_type,
            "encryption": _encryption(params, bucket),
        }
        upload = Upload(
            new_id(), bucket.name, params["Key"], self._now(), context.account_id, settings
        )
        self.store.add_upload(upload)
        output: Output = {
            "Bucket": bucket.name,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            **settings["encryption"],
        }
        if algorithm:
            output.update(ChecksumAlgorithm=algorithm, ChecksumType=checksum_type)
        return output

    def _upload(self, params: Params) -> tuple[Bucket, Upload]:
        bucket = self._bucket(params)
        upload = self.store.upload(params["UploadId"])
        if upload.bucket != bucket.name or upload.key != params["Key"]:
            raise errors.no_such_upload(params["UploadId"])
        return bucket, upload

    @staticmethod
    def _part_number(params: Params) -> int:
        number: int = params["PartNumber"]
        if number not in _PART_NUMBERS:
            raise errors.invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                number,
            )
        return number

    def _upload_algorithms(self, upload: Upload) -> tuple[str, ...]:
        algorithm = upload.settings.get("ChecksumAlgorithm")
        return (algorithm,) if algorithm else ()

    async def upload_part(self, context: RequestContext, params: Params) -> Output:
        _, upload = self._upload(params)
        number = self._part_number(params)
        received = await self._receive(params["Body"], params, self._upload_algorithms(upload))
        if upload.upload_id not in self.store.uploads:
            self.store.blobs.delete(received.blob)
            raise errors.no_such_upload(upload.upload_id)
        part = Part(
            number, received.etag, received.size, self._now(), received.blob, received.checksums
        )
        self.store.add_part(upload, part)
        return {
            "ETag": part.etag,
            **_checksum_output(part.checksums, None),
            **upload.settings["encryption"],
        }

    async def upload_part_copy(self, context: RequestContext, params: Params) -> Output:
        _, upload = self._upload(params)
        number = self._part_number(params)
        source_bucket, source = self._copy_source(params)
        start, length = 0, source.size
        if params.get("CopySourceRange"):
            found = re.fullmatch(r"bytes=(\d+)-(\d+)", params["CopySourceRange"])
            if (
                found is None
                or int(found.group(2)) >= source.size
                or int(found.group(1)) > int(found.group(2))
            ):
                raise errors.invalid_argument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last where "
                    "first and last are the zero-based offsets of the first and last bytes to "
                    "copy",
                    "x-amz-copy-source-range",
                    params["CopySourceRange"],
                )
            start, length = int(found.group(1)), int(found.group(2)) - int(found.group(1)) + 1
        data = self.store.blobs.read(source.blob, start, length) if source.blob and length else b""
        digests = checksums.BodyDigests(self._upload_algorithms(upload))
        blob = await self.store.blobs.write(
            BytesIO(data) if isinstance(data, bytes) else data, digests
        )
        part = Part(
            number,
            quoted_md5(digests.md5.digest()),
            digests.size,
            self._now(),
            blob,
            digests.checksums(),
        )
        self.store.add_part(upload, part)
        output: Output = {
            "CopyPartResult": {
                "ETag": part.etag,
                "LastModified": part.last_modified,
                **_checksum_output(part.checksums, None),
            },
            **upload.settings["encryption"],
        }
        if source_bucket.versioning is not None:
            output["CopySourceVersionId"] = source.version_id
        return output

    async def complete_multipart_upload(self, context: RequestContext, params: Params) -> Output:
        bucket, upload = self._upload(params)
        requested = (params.get("MultipartUpload") or {}).get("Parts") or []
        if not requested:
            raise errors.invalid_request("You must specify at least one part")
        parts = self._completed_parts(upload, requested)
        self._check_write_conditions(bucket, upload.key, params)
        settings = upload.settings
        write = configs.object_write(settings, bucket.config, bucket.owner, upload.owner)
        algorithm: str | None = settings.get("ChecksumAlgorithm")
        checksum_type: str | None = settings.get("ChecksumType")
        if algorithm is None:
            # An upload created without a checksum gets S3's default over the whole object.
            algorithm, checksum_type = checksums.DEFAULT, "FULL_OBJECT"
        full_object = checksum_type == "FULL_OBJECT"
        digests = checksums.BodyDigests((algorithm,) if full_object else ())
        blob = await self.store.blobs.concat([part.blob for part in parts if part.blob], digests)
        if upload.upload_id not in self.store.uploads:
            self.store.blobs.delete(blob)
            raise errors.no_such_upload(upload.upload_id)
        etag = hashlib.md5(b"".join(bytes.fromhex(_bare(part.etag)) for part in parts))
        if full_object:
            object_checksums = digests.checksums()
        else:
            object_checksums = {
                algorithm: checksums.composite(algorithm, (p.checksums[algorithm] for p in parts))
            }
        version = ObjectVersion(
            key=upload.key,
            version_id=self._new_version_id(bucket),
            last_modified=self._now(),
            owner=write.owner,
            etag=f'"{etag.hexdigest()}-{len(parts)}"',
            size=digests.size,
            blob=blob,
            metadata=settings.get("Metadata") or {},
            headers={
                **self._settings(settings),
                **objectlock.new_version_lock(settings, bucket.config, self._now()),
            },
            storage_class=settings.get("StorageClass") or "STANDARD",
            checksums=object_checksums,
            checksum_type=checksum_type,
            parts=[attrs.evolve(part, blob=None) for part in parts],
            tags=_tags(settings.get("Tagging")),
            encryption=settings["encryption"],
            acl=write.acl,
        )
        self.store.put_version(bucket, version)
        self.store.remove_upload(upload)
        self.notifier.created(context, bucket, version)
        return {
            "Location": f"http://{bucket.name}.s3.amazonaws.com/{upload.key}",
            "Bucket": bucket.name,
            "Key": upload.key,
            "ETag": version.etag,
            **_checksum_output(version.checksums, version.checksum_type),
            **version.encryption,
            **self._written_version(bucket, version),
        }

    @staticmethod
    def _completed_parts(upload: Upload, requested: list[Document]) -> list[Part]:
        """The parts a CompleteMultipartUpload names, checked as S3 checks them."""
        parts: list[Part] = []
        previous = 0
        for item in requested:
            number = item.get("PartNumber") or 0
            if number <= previous:
                raise errors.invalid_part_order(upload.upload_id)
            previous = number
            part = upload.part(number)
            etag = item.get("ETag") or ""
            if part is None or _bare(etag) != _bare(part.etag):
                raise errors.invalid_part(upload.upload_id, number, _bare(etag))
            parts.append(part)
        for part in parts[:-1]:
            if part.size < errors.MIN_PART_SIZE:
                raise errors.entity_too_small(part.size)
        return parts

    async def abort_multipart_upload(self, context: RequestContext, params: Params) -> Output:
        _, upload = self._upload(params)
        self.store.remove_upload(upload)
        return {}

    def _upload_owner(self, upload: Upload) -> Document:
        return configs.owner(upload.owner)

    async def list_parts(self, context: RequestContext, params: Params) -> Output:
        bucket, upload = self._upload(params)
        marker = params.get("PartNumberMarker") or 0
        limit = params.get("MaxParts", 1000)
        parts = [part for part in upload.parts if part.number > marker]
        shown = parts[:limit]
        output: Output = {
            "Bucket": bucket.name,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": len(parts) > limit,
            "Parts": [
                {
                    "PartNumber": part.number,
                    "LastModified": part.last_modified,
                    "ETag": part.etag,
                    "Size": part.size,
                    **_checksum_output(part.checksums, None),
                }
                for part in shown
            ],
            "Initiator": self._upload_owner(upload),
            "Owner": self._upload_owner(upload),
            "StorageClass": upload.settings.get("StorageClass") or "STANDARD",
        }
        if shown:
            output["NextPartNumberMarker"] = shown[-1].number
        if upload.settings.get("ChecksumAlgorithm"):
            output.update(
                ChecksumAlgorithm=upload.settings["ChecksumAlgorithm"],
                ChecksumType=upload.settings["ChecksumType"],
            )
        return output

    async def list_multipart_uploads(self, context: RequestContext, params: Params) -> Output:
        bucket = self._bucket(params)
        limit = params.get("MaxUploads", MAX_UPLOADS)
        if limit < 0:
            raise errors.invalid_argument(
                "Argument max-uploads must be an integer between 0 and 2147483647",
                "max-uploads",
                limit,
            )
        limit = min(limit, MAX_UPLOADS)
        encode = _key_encoder(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        key_marker = params.get("KeyMarker") or ""
        # S3 ignores an upload id marker that comes without a key marker.
        id_marker = (params.get("UploadIdMarker") or "") if key_marker else ""
        in_progress = sorted(
            (u for u in self.store.uploads.values() if u.bucket == bucket.name),
            key=lambda u: (u.key, u.initiated),
        )
        uploads: list[Upload] = []
        prefixes: list[str] = []
        last = ("", "")
        truncated = False
        entries = _upload_entries(in_progress, prefix, delimiter, key_marker, id_marker)
        for upload, rolled in entries:
            if len(uploads) + len(prefixes) == limit:
                truncated = True
                break
            if rolled is None:
                uploads.append(upload)
                last = (upload.key, upload.upload_id)
            else:
                prefixes.append(rolled)
                last = (rolled, "")
        next_key, next_id = last if truncated else ("", "")
        output: Output = {
            "Bucket": bucket.name,
            "KeyMarker": encode(key_marker),
            "UploadIdMarker": id_marker,
            "NextKeyMarker": encode(next_key),
            "NextUploadIdMarker": next_id,
            "MaxUploads": limit,
            "IsTruncated": truncated,
            "Uploads": [self._upload_entry(upload, encode) for upload in uploads],
            "CommonPrefixes": [{"Prefix": encode(common)} for common in prefixes],
        }
        if prefix:
            output["Prefix"] = encode(prefix)
        if delimiter:
            output["Delimiter"] = encode(delimiter)
        if params.get("EncodingType"):
            output["EncodingType"] = params["EncodingType"]
        return output

    def _upload_entry(self, upload: Upload, encode: Callable[[str], str]) -> Document:
        """One ``<Upload>`` of ListMultipartUploads."""
        entry: Document = {
            "UploadId": upload.upload_id,
            "Key": encode(upload.key),
            "Initiated": upload.initiated,
            "StorageClass": upload.settings.get("StorageClass") or "STANDARD",
            "Owner": self._upload_owner(upload),
            "Initiator": self._upload_owner(upload),
        }
        if upload.settings.get("ChecksumAlgorithm"):
            entry.update(
                ChecksumAlgorithm=upload.settings["ChecksumAlgorithm"],
                ChecksumType=upload.settings["ChecksumType"],
            )
        return entry


def _upload_entries(
    uploads: list[Upload], prefix: str, delimiter: str, key_marker: str, id_marker: str
) -> Iterator[tuple[Upload, str | None]]:
    """
    ``uploads`` (sorted by key, then initiation) under ``prefix`` and after
    the markers, each with the common prefix it rolls up into at
    ``delimiter`` (None if it does not), a common prefix yielded once.

    The key marker's own uploads follow only after the upload id marker,
    by position as S3 orders them (none if that upload is gone); a key
    marker that is itself a common prefix skips every key under it.
    """
    skip_under = key_marker if delimiter and key_marker.endswith(delimiter) else None
    marker_passed = False
    current_prefix: str | None = None
    for upload in uploads:
        key = upload.key
        if not key.startswith(prefix) or key < key_marker:
            continue
        if skip_under is not None and key.startswith(skip_under):
            continue
        if key == key_marker:
            if not marker_passed:
                marker_passed = upload.upload_id == id_marker
                continue
        if delimiter:
            index = key.find(delimiter, len(prefix))
            if index >= 0:
                common = key[: index + len(delimiter)]
                if common != current_prefix:
                    current_prefix = common
                    yield upload, common
                continue
        yield upload, None


def _key_encoder(params: Params) -> Callable[[str], str]:
    """How a listing writes keys: as they are, or URL-encoded for ``encoding-type=url``."""
    encoding = params.get("EncodingType")
    if encoding is None:
        return str
    if encoding != "url":
        raise errors.invalid_argument(
            "Invalid Encoding Method specified in Request", "encoding-type", encoding
        )
    return listing.url_encode


def _histories(
    bucket: Bucket, keys: list[str], key_marker: str, version_marker: str | None
) -> Iterator[ObjectVersion]:
    """Every version of ``keys``, newest first per key, after the markers."""
    for key in keys:
        history = bucket.versions[key]
        if key == key_marker:
            ids = [version.version_id for version in history]
            if version_marker is None or version_marker not in ids:
                continue
            history = history[ids.index(version_marker) + 1 :]
        elif key < key_marker:
            continue
        yield from history


def _listed_time(moment: float) -> int:
    """
    A time as object listings show it: in whole seconds (``.000Z``), as
    the ``Last-Modified`` header does.
    """
    return math.floor(moment)


def _encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def _decode_token(token: str, argument: str = "continuation-token") -> str:
    """A continuation token's key; a token S3 did not issue is ``InvalidArgument``."""
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError, binascii.Error):
        raise errors.invalid_argument(
            "The continuation token provided is incorrect", argument, token
        ) from None


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
    if len(raw) != len(checksums.ALGORITHMS[algorithm]().digest()):
        raise errors.invalid_checksum_value(algorithm)
    return value
