"""
S3's object listings: ListObjects, ListObjectsV2 and ListObjectVersions
(pages walked by ``listing``), and the key encoding and continuation
tokens other listings share.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
from collections.abc import Callable, Iterator

import attrs

from awsemu.gateway.context import RequestContext
from awsemu.s3 import configs, errors, listing, restore
from awsemu.s3.common import Common, Output, Params
from awsemu.s3.store import Bucket, Document, ObjectVersion


def _max_keys(params: Params) -> int:
    """A listing's ``MaxKeys`` (1000 by default), or S3's error for a negative one."""
    max_keys: int = params.get("MaxKeys", 1000)
    if max_keys < 0:
        raise errors.invalid_argument(
            "Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", max_keys
        )
    return max_keys


@attrs.define
class Listings:
    """The listing operations over ``common``."""

    common: Common

    def _content(
        self,
        version: ObjectVersion,
        encode: Callable[[str], str],
        owner: bool,
        params: Params | None = None,
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
        entry.update(restore.listed_status(version, params or {}, self.common.now()))
        return entry

    def _listing(
        self, bucket: Bucket, params: Params, after: str, owner: bool
    ) -> tuple[listing.Page, Output]:
        """The page and the members ListObjects and ListObjectsV2 share."""
        max_keys = _max_keys(params)
        encode = key_encoder(params)
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
                self._content(bucket.versions[key][0], encode, owner, params) for key in page.keys
            ],
            "CommonPrefixes": [{"Prefix": encode(common)} for common in page.prefixes],
        }
        if delimiter:
            output["Delimiter"] = encode(delimiter)
        if encoding:
            output["EncodingType"] = encoding
        return page, output

    async def list_objects_v2(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        after = params.get("StartAfter") or ""
        token = params.get("ContinuationToken")
        if token is not None:
            after = max(after, decode_token(token, "continuation-token"))
        page, output = self._listing(bucket, params, after, bool(params.get("FetchOwner")))
        output["KeyCount"] = len(page.keys) + len(page.prefixes)
        if token is not None:
            output["ContinuationToken"] = token
        if params.get("StartAfter"):
            output["StartAfter"] = params["StartAfter"]
        if page.truncated and page.last is not None:
            output["NextContinuationToken"] = encode_token(page.last)
        return output

    async def list_objects(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        marker = params.get("Marker") or ""
        page, output = self._listing(bucket, params, marker, True)
        output["Marker"] = marker
        if page.truncated and params.get("Delimiter") and page.last is not None:
            output["NextMarker"] = page.last
        return output

    async def list_object_versions(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
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
                versions.append({**self._content(version, str, True, params), **entry})
            last = entry
        output.update(
            Versions=versions,
            DeleteMarkers=markers,
            CommonPrefixes=[{"Prefix": common} for common in page.prefixes],
        )
        if params.get("Delimiter"):
            output["Delimiter"] = params["Delimiter"]
        return output


def key_encoder(params: Params) -> Callable[[str], str]:
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


def encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def decode_token(token: str, argument: str = "continuation-token") -> str:
    """A continuation token's key; a token S3 did not issue is ``InvalidArgument``."""
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError, binascii.Error):
        raise errors.invalid_argument(
            "The continuation token provided is incorrect", argument, token
        ) from None
