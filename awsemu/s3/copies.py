"""
When S3 lets CopyObject write an object onto itself: only when the copy
changes something besides the body. S3's user guide ("Copying, moving,
and renaming objects") names the changes: metadata (``x-amz-metadata-
directive: REPLACE``), storage class, website redirect location,
encryption and checksum algorithm; copying a named earlier version onto
its key restores that version. Anything else is refused with S3's
``InvalidRequest``.
"""

from __future__ import annotations

from typing import Any, Final

from awsemu.s3 import encryption, errors
from awsemu.s3.store import ObjectVersion

Params = dict[str, Any]

# S3's text (API reference, CopyObject; quoted by users since 2012).
NOT_MODIFIED: Final = (
    "This copy request is illegal because it is trying to copy an object to itself without "
    "changing the object's metadata, storage class, website redirect location or encryption "
    "attributes."
)


def _changes(params: Params, source: ObjectVersion, version_named: bool) -> bool:
    """Whether a copy of ``source`` onto its own key changes what S3 counts as a change."""
    requested_class = params.get("StorageClass")
    requested_checksum = (params.get("ChecksumAlgorithm") or "").upper()
    return (
        version_named
        or (params.get("MetadataDirective") or "COPY") == "REPLACE"
        or requested_class not in (None, source.storage_class)
        or params.get("WebsiteRedirectLocation") is not None
        or encryption.changes(params)
        or (bool(requested_checksum) and requested_checksum not in source.checksums)
    )


def check_in_place(params: Params, source: ObjectVersion, version_named: bool) -> None:
    """
    S3's refusal of a copy onto its own source (named by version id if
    ``version_named``) that changes nothing.
    """
    if not _changes(params, source, version_named):
        raise errors.invalid_request(NOT_MODIFIED)


def redirect(params: Params) -> dict[str, str]:
    """The website redirect a copy sets, which applies whatever its metadata directive."""
    location = params.get("WebsiteRedirectLocation")
    return {} if location is None else {"WebsiteRedirectLocation": location}


def kept_checksums(params: Params, source: ObjectVersion) -> tuple[str, ...]:
    """
    The source's checksum algorithms a copy computes again: none when the
    copy names its own (``x-amz-checksum-algorithm`` replaces them).
    """
    return () if params.get("ChecksumAlgorithm") else tuple(source.checksums)
