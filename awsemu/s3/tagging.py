"""
S3's limits on tags: an object's (PutObjectTagging's ``TagSet``, or the
``x-amz-tagging`` header of PutObject, CreateMultipartUpload and
CopyObject, or the ``tagging`` field of a browser POST upload) and a
bucket's (PutBucketTagging).

From S3's user guide ("Categorizing your storage using tags"; "Using cost
allocation S3 bucket tags"): up to 10 tags on an object and 50 on a bucket,
unique keys, keys of 1 to 128 and values of up to 256 Unicode characters,
counted in UTF-16 code units ("Amazon S3 object tags are internally
represented in UTF-16"), of letters, digits, white space and
``_ . : / = + - @``; the ``aws:`` prefix is reserved.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Final
from urllib.parse import parse_qsl

from awsemu.protocol import xmlshapes
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.model import load_service_model
from awsemu.protocol.values import WireValueError
from awsemu.s3 import errors

MAX_OBJECT_TAGS: Final = 10
MAX_BUCKET_TAGS: Final = 50
MAX_KEY: Final = 128
MAX_VALUE: Final = 256

_SYMBOLS: Final = frozenset("_.:/=+-@")


def _allowed(text: str) -> bool:
    """Only letters, numbers, spaces (``\\p{L}\\p{Z}\\p{N}``) and ``_ . : / = + - @``."""
    return all(char in _SYMBOLS or unicodedata.category(char)[0] in "LZN" for char in text)


def _invalid_tag(message: str) -> ServiceError:
    return ServiceError("InvalidTag", message)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check(pairs: list[tuple[str, str]], limit: int, too_many: ServiceError) -> dict[str, str]:
    if len(pairs) > limit:
        raise too_many
    tags: dict[str, str] = {}
    for key, value in pairs:
        # Texts as S3 answers them: "The TagKey you have provided is invalid" is
        # quoted from S3 in aws/aws-cli#2841 and "Cannot provide multiple Tags
        # with the same key" in users' code matching S3's message; the length
        # texts are recalled.
        if not key or not _allowed(key):
            raise _invalid_tag("The TagKey you have provided is invalid")
        if not _allowed(value):
            raise _invalid_tag("The TagValue you have provided is invalid")
        if _utf16_length(key) > MAX_KEY:
            raise _invalid_tag(f"The TagKey you have provided is too long, max {MAX_KEY}")
        if _utf16_length(value) > MAX_VALUE:
            raise _invalid_tag(f"The TagValue you have provided is too long, max {MAX_VALUE}")
        if key.lower().startswith("aws:"):
            # Recalled: S3's answer to a reserved key.
            raise _invalid_tag("Your TagKey cannot be prefixed with aws:")
        if key in tags:
            raise _invalid_tag("Cannot provide multiple Tags with the same key")
        tags[key] = value
    return tags


def _too_many_object_tags() -> ServiceError:
    # S3's answer, BadRequest (not InvalidTag), for PutObjectTagging
    # (boto/boto3#1213) and for the header (hashicorp/terraform-provider-aws#19895).
    return ServiceError("BadRequest", "Object tags cannot be greater than 10")


def object_tags(tag_set: Iterable[dict[str, str]]) -> dict[str, str]:
    """The tags of PutObjectTagging's ``TagSet``, or S3's error for them."""
    pairs = [(tag.get("Key", ""), tag.get("Value", "")) for tag in tag_set]
    return _check(pairs, MAX_OBJECT_TAGS, _too_many_object_tags())


def header_tags(text: str | None) -> dict[str, str]:
    """
    ``x-amz-tagging``: URL-encoded query parameters (a name without ``=``
    holds the empty value), or S3's error for them.
    """
    if not text:
        return {}
    pairs = parse_qsl(text, keep_blank_values=True)
    if len({key for key, _ in pairs}) != len(pairs):
        # S3's answer, quoted in aws/aws-cli#2841.
        raise errors.invalid_argument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
            "parameters without tag name duplicates.",
            "x-amz-tagging",
            text,
        )
    return _check(pairs, MAX_OBJECT_TAGS, _too_many_object_tags())


def document_tags(text: str) -> dict[str, str]:
    """
    The tags of a ``Tagging`` XML document (botocore's ``Tagging`` shape),
    which a browser upload's ``tagging`` field holds (S3 API reference,
    "POST Object", tagging: "<Tagging><TagSet><Tag><Key>TagName</Key>
    <Value>TagValue</Value></Tag>...</TagSet></Tagging>", recalled),
    checked as PutObjectTagging checks its tags; a document that is not
    well-formed, or no ``Tagging`` with a ``TagSet``, is ``MalformedXML``
    as for PutObjectTagging ("The XML provided does not match the
    schema", PutObjectTagging's API reference).
    """
    try:
        root = xmlshapes.parse_document(text.encode("utf-8"))
    except WireValueError:
        raise errors.malformed_xml() from None
    shape = load_service_model("s3").shape_for("Tagging")
    document = (
        xmlshapes.decode_structure(shape, root)
        if xmlshapes.local_name(root.tag) == "Tagging"
        else {}
    )
    if "TagSet" not in document:
        raise errors.malformed_xml()
    return object_tags(document["TagSet"])


def bucket_tags(tag_set: Iterable[dict[str, str]]) -> None:
    """PutBucketTagging's ``TagSet``: S3's error if it breaks a bucket's limits."""
    pairs = [(tag.get("Key", ""), tag.get("Value", "")) for tag in tag_set]
    # Recalled: S3's text for more than 50 bucket tags.
    _check(pairs, MAX_BUCKET_TAGS, _invalid_tag("Bucket tag count cannot be greater than 50"))
