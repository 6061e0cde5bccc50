"""
S3's object operations: PutObject, GetObject, HeadObject,
GetObjectAttributes, deletes, CopyObject, and objects' tagging and ACLs.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import (
    access,
    checksums,
    configs,
    copies,
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
    parse_copy_source,
    quoted_md5,
    write_algorithms,
    write_encryption,
)
from awsemu.s3.conditions import Conditions, byte_range
from awsemu.s3.store import Bucket, Document, ObjectVersion, Part

MAX_DELETE_KEYS: Final = 1000

#: GetObject's ``response-*`` overrides → the header member each replaces.
_OVERRIDES: Final = {
    "ResponseContentType": "ContentType",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseCacheControl": "CacheControl",
    "ResponseExpires": "Expires",
}


def _tag_set(tags: dict[str, str]) -> list[Document]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


@attrs.define
class Objects:
    """
    The object operations over ``common``; ``authorizer`` checks each key
    of DeleteObjects.
    """

    common: Common
    authorizer: access.Authorizer

    async def put_object(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        key = params["Key"]
        self.common.check_write_conditions(bucket, key, params)
        write = configs.object_write(params, bucket.config, bucket.owner, context.account_id)
        lock = objectlock.new_version_lock(params, bucket.config, self.common.now())
        sse = write_encryption(params, bucket)
        tags = tagging.header_tags(params.get("Tagging"))
        restore.check_storage_class(params)
        received = await self.common.receive(params["Body"], params, default=True)
        self.common.recheck_write(bucket, key, params, received.blob)
        version = ObjectVersion(
            key=key,
            version_id=self.common.new_version_id(bucket),
            last_modified=self.common.now(),
            owner=write.owner,
            etag=encryption.etag(sse, received.etag),
            size=received.size,
            blob=received.blob,
            metadata=params.get("Metadata") or {},
            headers={**self.common.settings(params), **lock},
            storage_class=params.get("StorageClass") or "STANDARD",
            checksums=received.checksums,
            checksum_type="FULL_OBJECT" if received.checksums else None,
            tags=tags,
            encryption=sse,
            acl=write.acl,
        )
        self.common.store.put_version(bucket, version)
        self.common.notifier.created(context, bucket, version)
        return {
            "ETag": version.etag,
            **checksum_output(version.checksums, version.checksum_type),
            **version.encryption,
            **self.common.written_version(bucket, version),
            **lifecycle.expiration(bucket.config, version),
        }

    # Object reads

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
            **self.common.version_output(bucket, version),
        }
        if version.metadata:
            output["Metadata"] = version.metadata
        if version.storage_class != "STANDARD":
            output["StorageClass"] = version.storage_class
        if version.tags:
            output["TagCount"] = len(version.tags)
        if (params.get("ChecksumMode") or "").upper() == "ENABLED":
            output.update(checksum_output(version.checksums, version.checksum_type))
        for override, member in _OVERRIDES.items():
            if params.get(override) is not None:
                output[member] = params[override]
        return output

    def _read(self, params: Params, method: str) -> tuple[ObjectVersion, Output, tuple[int, int]]:
        """The version GET or HEAD reads, its description and the (start, length) to send."""
        bucket = self.common.bucket(params)
        version = self.common.find(
            bucket, params["Key"], params.get("VersionId"), method, dated=True
        )
        encryption.check_read(version.encryption, params)
        Conditions.of_read(params).check(version.etag, version.last_modified)
        if method == "GET":
            restore.check_readable(version, self.common.now())
        output = self._describe(bucket, version, params)
        output.update(restore.header(version, self.common.now()))
        if params.get("VersionId") is None:
            output.update(lifecycle.expiration(bucket.config, version))
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
            else self.common.store.blobs.read(version.blob, start, length)
        )
        return output

    async def head_object(self, context: RequestContext, params: Params) -> Output:
        return self._read(params, "HEAD")[1]

    async def get_object_attributes(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        version = self.common.find(bucket, params["Key"], params.get("VersionId"))
        encryption.check_read(version.encryption, params)
        wanted = set(params.get("ObjectAttributes") or ())
        output: Output = {
            "LastModified": version.last_modified,
            **self.common.version_output(bucket, version),
        }
        if "ETag" in wanted:
            output["ETag"] = bare(version.etag)
        if "StorageClass" in wanted:
            output["StorageClass"] = version.storage_class
        if "ObjectSize" in wanted:
            output["ObjectSize"] = version.size
        if "Checksum" in wanted and version.checksums:
            output["Checksum"] = checksum_output(
                multipart_checksums.without_part_count(version.checksums.items()),
                version.checksum_type,
            )
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
                        **checksum_output(part.checksums, None),
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
            objectlock.check_delete(version, bypass, self.common.now())
            self.common.store.remove_version(bucket, version)
            output: Output = {"VersionId": version_id}
            if version.delete_marker:
                output["DeleteMarker"] = True
            return output
        if bucket.versioning is None:
            current = bucket.current(key)
            if current is not None:
                self.common.store.remove_version(bucket, current)
            return {}
        marker = ObjectVersion(
            key=key,
            version_id=self.common.new_version_id(bucket),
            last_modified=self.common.now(),
            owner=context.account_id,
            delete_marker=True,
        )
        self.common.store.put_version(bucket, marker)
        return {"DeleteMarker": True, "VersionId": marker.version_id}

    async def delete_object(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        result = self._delete(
            context,
            bucket,
            params["Key"],
            params.get("VersionId"),
            bool(params.get("BypassGovernanceRetention")),
        )
        self.common.notifier.removed(
            context, bucket, params["Key"], params.get("VersionId"), result
        )
        return result

    async def delete_objects(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
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
                self.authorizer.authorize_key(context, "DeleteObjects", bucket, key, version_id)
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
            self.common.notifier.removed(context, bucket, key, version_id, result)
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
        bucket = self.common.bucket(params)
        key = params["Key"]
        source_bucket, source = self.common.copy_source(params)
        replace_metadata = (params.get("MetadataDirective") or "COPY") == "REPLACE"
        if source_bucket is bucket and source.key == key:
            version_named = parse_copy_source(params["CopySource"])[2] is not None
            copies.check_in_place(params, source, version_named)
        self.common.check_write_conditions(bucket, key, params)
        write = configs.object_write(params, bucket.config, bucket.owner, context.account_id)
        lock = objectlock.new_version_lock(params, bucket.config, self.common.now())
        sse = write_encryption(params, bucket)
        restore.check_storage_class(params)
        tags = (
            tagging.header_tags(params.get("Tagging"))
            if params.get("TaggingDirective") == "REPLACE"
            else dict(source.tags)
        )
        algorithms = write_algorithms(params, copies.kept_checksums(params, source), default=True)
        digests = checksums.BodyDigests(algorithms)
        blob = await self.common.store.blobs.concat([source.blob] if source.blob else [], digests)
        self.common.recheck_write(bucket, key, params, blob)
        version = ObjectVersion(
            key=key,
            version_id=self.common.new_version_id(bucket),
            last_modified=self.common.now(),
            owner=write.owner,
            etag=encryption.etag(sse, quoted_md5(digests.md5.digest())),
            size=digests.size,
            blob=blob,
            metadata=(params.get("Metadata") or {}) if replace_metadata else dict(source.metadata),
            headers={
                **(
                    self.common.settings(params)
                    if replace_metadata
                    else objectlock.unlocked(source.headers)
                ),
                **copies.redirect(params),
                **lock,
            },
            storage_class=params.get("StorageClass") or source.storage_class,
            checksums=digests.checksums(),
            checksum_type="FULL_OBJECT" if algorithms else None,
            tags=tags,
            encryption=sse,
            acl=write.acl,
        )
        self.common.store.put_version(bucket, version)
        self.common.notifier.created(context, bucket, version)
        output: Output = {
            "CopyObjectResult": {
                "ETag": version.etag,
                "LastModified": version.last_modified,
                **checksum_output(version.checksums, version.checksum_type),
            },
            **version.encryption,
            **self.common.version_output(bucket, version),
            **lifecycle.expiration(bucket.config, version),
        }
        if source_bucket.versioning is not None:
            output["CopySourceVersionId"] = source.version_id
        return output

    # Tagging and ACLs of objects

    async def put_object_tagging(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self.common.object_version(params, "PUT")
        version.tags = tagging.object_tags((params.get("Tagging") or {}).get("TagSet") or [])
        self.common.store.save_version(bucket, version)
        return self.common.version_output(bucket, version)

    async def get_object_tagging(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self.common.object_version(params, "GET")
        return {"TagSet": _tag_set(version.tags), **self.common.version_output(bucket, version)}

    async def delete_object_tagging(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self.common.object_version(params, "DELETE")
        version.tags = {}
        self.common.store.save_version(bucket, version)
        return self.common.version_output(bucket, version)

    async def put_object_acl(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self.common.object_version(params, "PUT")
        version.acl = configs.object_acl(params, bucket.config, bucket.owner, version.owner)
        self.common.store.save_version(bucket, version)
        return {}

    async def get_object_acl(self, context: RequestContext, params: Params) -> Output:
        bucket, version = self.common.object_version(params, "GET")
        if not configs.acls_enabled(bucket.config):
            return configs.default_acl(bucket.owner)
        return configs.shown_acl(version.acl or configs.default_acl(version.owner))
