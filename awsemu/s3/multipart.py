"""
S3's multipart uploads: create, upload part (and part copy), complete,
abort, ListParts and ListMultipartUploads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Final

import attrs

from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import (
    checksums,
    configs,
    encryption,
    errors,
    lifecycle,
    multipart_checksums,
    objectlock,
    restore,
    tagging,
)
from awsemu.s3.common import (
    Common,
    Output,
    Params,
    bare,
    checksum_output,
    quoted_md5,
    write_encryption,
)
from awsemu.s3.listings import key_encoder
from awsemu.s3.store import Bucket, Document, ObjectVersion, Part, Upload, new_id

_PART_NUMBERS: Final = range(1, 10001)
#: ListMultipartUploads' page size: its default, and the most a larger ``max-uploads`` gets.
MAX_UPLOADS: Final = 1000


@attrs.define
class Multipart:
    """The multipart upload operations over ``common``."""

    common: Common

    async def create_multipart_upload(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        algorithm = (params.get("ChecksumAlgorithm") or "").upper() or None
        checksum_type = multipart_checksums.upload_type(algorithm, params.get("ChecksumType"))
        # Refused now, as AWS does, rather than when the upload completes.
        configs.object_write(params, bucket.config, bucket.owner, context.account_id)
        objectlock.new_version_lock(params, bucket.config, self.common.now())
        tagging.header_tags(params.get("Tagging"))
        restore.check_storage_class(params)
        settings = {
            **{
                name: value
                for name, value in encryption.stripped(params).items()
                if name not in ("Bucket", "Key")
            },
            "ChecksumAlgorithm": algorithm,
            "ChecksumType": checksum_type,
            "encryption": write_encryption(params, bucket),
        }
        upload = Upload(
            new_id(), bucket.name, params["Key"], self.common.now(), context.account_id, settings
        )
        self.common.store.add_upload(upload)
        output: Output = {
            "Bucket": bucket.name,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            **settings["encryption"],
            **lifecycle.abort(bucket.config, upload.key, upload.initiated),
        }
        if algorithm:
            output.update(ChecksumAlgorithm=algorithm, ChecksumType=checksum_type)
        return output

    def _upload(self, params: Params) -> tuple[Bucket, Upload]:
        bucket = self.common.bucket(params)
        upload = self.common.store.upload(params["UploadId"])
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
        encryption.check_part(upload.settings["encryption"], params)
        multipart_checksums.check_part(upload.settings.get("ChecksumAlgorithm"), params)
        received = await self.common.receive(
            params["Body"], params, self._upload_algorithms(upload)
        )
        if upload.upload_id not in self.common.store.uploads:
            self.common.store.blobs.delete(received.blob)
            raise errors.no_such_upload(upload.upload_id)
        part = Part(
            number,
            encryption.etag(upload.settings["encryption"], received.etag),
            received.size,
            self.common.now(),
            received.blob,
            received.checksums,
        )
        self.common.store.add_part(upload, part)
        return {
            "ETag": part.etag,
            **checksum_output(part.checksums, None),
            **upload.settings["encryption"],
        }

    async def upload_part_copy(self, context: RequestContext, params: Params) -> Output:
        _, upload = self._upload(params)
        number = self._part_number(params)
        encryption.check_part(upload.settings["encryption"], params)
        source_bucket, source = self.common.copy_source(params)
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
        data = (
            self.common.store.blobs.read(source.blob, start, length)
            if source.blob and length
            else b""
        )
        digests = checksums.BodyDigests(self._upload_algorithms(upload))
        blob = await self.common.store.blobs.write(
            BytesIO(data) if isinstance(data, bytes) else data, digests
        )
        part = Part(
            number,
            encryption.etag(upload.settings["encryption"], quoted_md5(digests.md5.digest())),
            digests.size,
            self.common.now(),
            blob,
            digests.checksums(),
        )
        self.common.store.add_part(upload, part)
        output: Output = {
            "CopyPartResult": {
                "ETag": part.etag,
                "LastModified": part.last_modified,
                **checksum_output(part.checksums, None),
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
        multipart_checksums.check_completion(
            upload.upload_id, upload.settings, requested, parts, params
        )
        self.common.check_write_conditions(bucket, upload.key, params)
        settings = upload.settings
        write = configs.object_write(settings, bucket.config, bucket.owner, upload.owner)
        algorithm: str | None = settings.get("ChecksumAlgorithm")
        checksum_type: str | None = settings.get("ChecksumType")
        if algorithm is None:
            # An upload created without a checksum gets S3's default over the whole object.
            algorithm, checksum_type = checksums.DEFAULT, "FULL_OBJECT"
        full_object = checksum_type == "FULL_OBJECT"
        whole = multipart_checksums.full_object(algorithm, parts) if full_object else None
        digests = checksums.without_md5((algorithm,) if full_object and whole is None else ())
        blob = await self.common.store.blobs.concat(
            [part.blob for part in parts if part.blob], digests
        )
        etag = hashlib.md5(b"".join(bytes.fromhex(bare(part.etag)) for part in parts))
        if whole is not None:
            object_checksums = {algorithm: whole}
        elif full_object:
            object_checksums = digests.checksums()
        else:
            object_checksums = {
                algorithm: checksums.composite(algorithm, (p.checksums[algorithm] for p in parts))
            }
        try:
            if upload.upload_id not in self.common.store.uploads:
                raise errors.no_such_upload(upload.upload_id)
            multipart_checksums.check_object(object_checksums, digests.size, params)
        except ServiceError:
            self.common.store.blobs.delete(blob)
            raise
        version = ObjectVersion(
            key=upload.key,
            version_id=self.common.new_version_id(bucket),
            last_modified=self.common.now(),
            owner=write.owner,
            etag=f'"{etag.hexdigest()}-{len(parts)}"',
            size=digests.size,
            blob=blob,
            metadata=settings.get("Metadata") or {},
            headers={
                **self.common.settings(settings),
                **objectlock.new_version_lock(settings, bucket.config, self.common.now()),
            },
            storage_class=settings.get("StorageClass") or "STANDARD",
            checksums=object_checksums,
            checksum_type=checksum_type,
            parts=[attrs.evolve(part, blob=None) for part in parts],
            tags=tagging.header_tags(settings.get("Tagging")),
            encryption=settings["encryption"],
            acl=write.acl,
        )
        self.common.store.put_version(bucket, version)
        self.common.store.remove_upload(upload)
        self.common.notifier.created(context, bucket, version)
        return {
            "Location": f"http://{bucket.name}.s3.amazonaws.com/{upload.key}",
            "Bucket": bucket.name,
            "Key": upload.key,
            "ETag": version.etag,
            **checksum_output(version.checksums, version.checksum_type),
            **version.encryption,
            **self.common.written_version(bucket, version),
            **lifecycle.expiration(bucket.config, version),
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
            if part is None or bare(etag) != bare(part.etag):
                raise errors.invalid_part(upload.upload_id, number, bare(etag))
            parts.append(part)
        for part in parts[:-1]:
            if part.size < errors.MIN_PART_SIZE:
                raise errors.entity_too_small(part.size)
        return parts

    async def abort_multipart_upload(self, context: RequestContext, params: Params) -> Output:
        _, upload = self._upload(params)
        self.common.store.remove_upload(upload)
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
                    **checksum_output(part.checksums, None),
                }
                for part in shown
            ],
            "Initiator": self._upload_owner(upload),
            "Owner": self._upload_owner(upload),
            "StorageClass": upload.settings.get("StorageClass") or "STANDARD",
            **lifecycle.abort(bucket.config, upload.key, upload.initiated),
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
        bucket = self.common.bucket(params)
        limit = params.get("MaxUploads", MAX_UPLOADS)
        if limit < 0:
            raise errors.invalid_argument(
                "Argument max-uploads must be an integer between 0 and 2147483647",
                "max-uploads",
                limit,
            )
        limit = min(limit, MAX_UPLOADS)
        encode = key_encoder(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        key_marker = params.get("KeyMarker") or ""
        # S3 ignores an upload id marker that comes without a key marker.
        id_marker = (params.get("UploadIdMarker") or "") if key_marker else ""
        in_progress = sorted(
            (u for u in self.common.store.uploads.values() if u.bucket == bucket.name),
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
