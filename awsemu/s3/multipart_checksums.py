"""
The checksum rules of multipart uploads, from CreateMultipartUpload to
CompleteMultipartUpload (S3 User Guide, "Checking object integrity"):

- An upload's algorithm decides its checksum type: SHA-1 and SHA-256
  combine only ``COMPOSITE`` (a checksum of the parts' checksums,
  written ``<value>-<parts>``), CRC-64/NVME only ``FULL_OBJECT``, CRC-32
  and CRC-32C either (``COMPOSITE`` unless asked).
- Each part must carry a checksum of the upload's algorithm (S3 checks
  its value as PutObject's); a ``COMPOSITE`` completion must repeat every
  part's checksum, and each must be the part's.
- The completion may state the checksum type, the object's checksum and
  its size (``x-amz-mp-object-size``); each must be what S3 computes.

Texts: versitygw's error table (S3-compatible, checked against AWS),
users' reports of S3's answers (aws/aws-sdk-php#2648, apache/arrow-rs#6793,
floci-io/floci#3093), as cited where each is raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from awsemu.s3 import checksums, errors
from awsemu.s3.store import Document, Part

Params = dict[str, Any]

COMPOSITE: Final = "COMPOSITE"
FULL_OBJECT: Final = "FULL_OBJECT"

#: Algorithms whose parts' checksums S3 can combine into a ``COMPOSITE`` one.
COMPOSITE_CAPABLE: Final = frozenset({"CRC32", "CRC32C", "SHA1", "SHA256"})


def upload_type(algorithm: str | None, requested: str | None) -> str | None:
    """
    The checksum type of an upload created with ``algorithm`` (upper case)
    and ``x-amz-checksum-type: requested``, or S3's error for the pair.
    """
    if algorithm is None:
        if requested is not None:
            raise errors.invalid_request(
                "The x-amz-checksum-type header can only be used with the "
                "x-amz-checksum-algorithm header."
            )
        return None
    checksum_type = requested or (COMPOSITE if algorithm in COMPOSITE_CAPABLE else FULL_OBJECT)
    capable = COMPOSITE_CAPABLE if checksum_type == COMPOSITE else checksums.FULL_OBJECT_CAPABLE
    if algorithm not in capable:
        raise errors.invalid_request(
            f"The {checksum_type} checksum type cannot be used with the {algorithm.lower()} "
            "checksum algorithm."
        )
    return checksum_type


def _sent(params: Params) -> str | None:
    """The algorithm a part's checksum is of: the value it sent, else the one it named."""
    for name in checksums.ALGORITHMS:
        if params.get(checksums.param_name(name)):
            return name
    requested = params.get("ChecksumAlgorithm")
    return requested.upper() if requested else None


def check_part(algorithm: str | None, params: Params) -> None:
    """
    An UploadPart of an upload created with ``algorithm``: its checksum
    must be of that algorithm. Parts of an upload created without one
    may carry any (S3 then completes with its default full-object CRC).
    """
    if algorithm is None:
        return
    sent = _sent(params)
    if sent != algorithm:
        actual = sent.lower() if sent else "null"
        raise errors.invalid_request(
            "Checksum Type mismatch occurred, expected checksum Type: "
            f"{algorithm.lower()}, actual checksum Type: {actual}"
        )


def check_completion(
    upload_id: str,
    settings: Params,
    requested: list[Document],
    parts: list[Part],
    params: Params,
) -> None:
    """
    The parts and checksum type a CompleteMultipartUpload names, against
    the upload's ``settings`` (its CreateMultipartUpload parameters).
    """
    algorithm: str | None = settings.get("ChecksumAlgorithm")
    # An upload created without a checksum completes with S3's full-object default.
    checksum_type: str = settings.get("ChecksumType") or FULL_OBJECT
    stated = params.get("ChecksumType")
    if stated is not None and stated != checksum_type:
        # versitygw's table gives InvalidRequest with this text; botocore's model
        # (CompleteMultipartUpload's ChecksumType) speaks of BadDigest instead.
        raise errors.invalid_request(
            f"The upload was created using the {checksum_type} checksum mode. The complete "
            "request must use the same checksum mode."
        )
    if algorithm is None:
        return
    member = checksums.param_name(algorithm)
    for item, part in zip(requested, parts, strict=True):
        given = item.get(member)
        if given is None:
            if checksum_type == COMPOSITE:
                raise errors.invalid_request(
                    f"The upload was created using a {algorithm.lower()} checksum. The complete "
                    "request must include the checksum for each part. It was missing for part "
                    f"{part.number} in the request."
                )
        elif given != part.checksums.get(algorithm):
            # floci-io/floci#3093 records S3's InvalidPart for a part's wrong checksum.
            raise errors.invalid_part(upload_id, part.number, (item.get("ETag") or "").strip('"'))


def check_object(computed: dict[str, str], size: int, params: Params) -> None:
    """
    The object's checksum and size a CompleteMultipartUpload states
    (``x-amz-checksum-*``, ``x-amz-mp-object-size``), against those of
    the completed object.
    """
    for name, value in computed.items():
        stated = params.get(checksums.param_name(name))
        if stated is not None and stated != value:
            raise errors.checksum_mismatch(name.lower())
    stated_size = params.get("MpuObjectSize")
    if stated_size is not None and stated_size != size:
        raise errors.invalid_request(
            f"The provided 'x-amz-mp-object-size' header value {stated_size} does not match "
            f"what was computed: {size}"
        )


def without_part_count(values: Iterable[tuple[str, str]]) -> dict[str, str]:
    """
    Checksums as GetObjectAttributes' ``Checksum`` shows them: a composite
    one without its ``-<parts>`` suffix (floci-io/floci#3083 records S3's
    answer).
    """
    return {name: value.partition("-")[0] for name, value in values}


def full_object(algorithm: str, parts: list[Part]) -> str | None:
    """
    A FULL_OBJECT upload's checksum combined from its parts' checksums,
    or None if a part lacks one (the body must then be read).
    """
    if algorithm not in checksums.FULL_OBJECT_CAPABLE or not all(
        algorithm in part.checksums for part in parts
    ):
        return None
    return checksums.combined(algorithm, ((p.checksums[algorithm], p.size) for p in parts))
