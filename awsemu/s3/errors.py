"""
S3's errors, with AWS's exact codes, statuses, messages and the extra
elements AWS puts in each, in one place so providers never spell one out.
"""

from __future__ import annotations

from email.utils import formatdate
from typing import Final

import attrs

from awsemu.auth import sigv4
from awsemu.protocol.errors import ServiceError


def no_such_bucket(bucket: str) -> ServiceError:
    return ServiceError(
        "NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": bucket}
    )


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})


def _naming_marker(version_id: str) -> list[tuple[str, str]]:
    """The headers with which S3 says a request met a delete marker, and which one."""
    return [("x-amz-delete-marker", "true"), ("x-amz-version-id", version_id)]


def deleted_key(key: str, marker_id: str) -> ServiceError:
    """``NoSuchKey`` for a key whose current version is a delete marker, named in headers."""
    return attrs.evolve(no_such_key(key), headers=_naming_marker(marker_id))


def delete_marker_method(
    method: str, marker_id: str | None = None, last_modified: float | None = None
) -> ServiceError:
    """
    405 for a method other than DELETE (the only one a delete marker
    allows) on a delete marker. The headers name the marker when the
    request named it by version id; GetObject and HeadObject also date it.
    """
    headers = [("Allow", "DELETE")]
    if marker_id is not None:
        headers.extend(_naming_marker(marker_id))
    if last_modified is not None:
        headers.append(("Last-Modified", formatdate(last_modified, usegmt=True)))
    return attrs.evolve(
        method_not_allowed(),
        fields={"Method": method, "ResourceType": "DeleteMarker"},
        headers=headers,
    )


def copy_of_delete_marker() -> ServiceError:
    return invalid_request(
        "The source of a copy request may not specifically refer to a delete marker by version id."
    )


def no_such_version(key: str, version_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchVersion",
        "The specified version does not exist.",
        404,
        fields={"Key": key, "VersionId": version_id},
    )


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        404,
        fields={"UploadId": upload_id},
    )


def invalid_bucket_name(bucket: str) -> ServiceError:
    return ServiceError(
        "InvalidBucketName", "The specified bucket is not valid.", fields={"BucketName": bucket}
    )


def bucket_already_exists(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users "
        "of the system. Please select a different name and try again.",
        409,
        fields={"BucketName": bucket},
    )


def bucket_already_owned_by_you(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        fields={"BucketName": bucket},
    )


def bucket_not_empty(bucket: str) -> ServiceError:
    return ServiceError(
        "BucketNotEmpty",
        "The bucket you tried to delete is not empty",
        409,
        fields={"BucketName": bucket},
    )


def illegal_location_constraint(region: str, constraint: str | None) -> ServiceError:
    if constraint is None:
        message = (
            "The unspecified location constraint is incompatible for the region specific endpoint "
            "this request was sent to."
        )
    else:
        message = (
            f"The {constraint} location constraint is incompatible for the region specific "
            "endpoint this request was sent to."
        )
    return ServiceError("IllegalLocationConstraintException", message)


def invalid_location_constraint(constraint: str) -> ServiceError:
    return ServiceError(
        "InvalidLocationConstraint",
        "The specified location-constraint is not valid",
        fields={"LocationConstraint": constraint},
    )


def invalid_argument(message: str, name: str, value: object) -> ServiceError:
    return ServiceError(
        "InvalidArgument", message, fields={"ArgumentName": name, "ArgumentValue": value}
    )


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message)


def invalid_bucket_state(message: str) -> ServiceError:
    """409 for a request the bucket's current state (versioning, Object Lock) forbids."""
    return ServiceError("InvalidBucketState", message, 409)


def invalid_target_bucket_for_logging(bucket: str) -> ServiceError:
    # S3 API reference, "List of error codes": InvalidTargetBucketForLogging.
    return ServiceError(
        "InvalidTargetBucketForLogging",
        "The target bucket for logging does not exist",
        fields={"TargetBucket": bucket},
    )


def malformed_post() -> ServiceError:
    return ServiceError(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )


def malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def not_modified(etag: str, last_modified: float) -> ServiceError:
    """
    304: rendered without a body, which is what botocore expects of it,
    with the object's ``ETag`` and ``Last-Modified`` as S3 sends them.
    """
    return ServiceError(
        "NotModified",
        "Not Modified",
        304,
        headers=(("ETag", etag), ("Last-Modified", formatdate(last_modified, usegmt=True))),
    )


def invalid_range(requested: str, size: int) -> ServiceError:
    return ServiceError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        fields={"RangeRequested": requested, "ActualObjectSize": size},
    )


def invalid_digest(content_md5: str) -> ServiceError:
    return ServiceError(
        "InvalidDigest",
        "The Content-MD5 you specified was invalid.",
        fields={"Content-MD5": content_md5},
    )


def bad_digest(expected: str, calculated: str) -> ServiceError:
    return ServiceError(
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
        fields={"ExpectedDigest": expected, "CalculatedDigest": calculated},
    )


def checksum_mismatch(algorithm: str) -> ServiceError:
    return ServiceError(
        "BadDigest", f"The {algorithm} you specified did not match the calculated checksum."
    )


def invalid_checksum_value(algorithm: str) -> ServiceError:
    return invalid_request(f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.")


def entity_too_small(size: int) -> ServiceError:
    return ServiceError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
        fields={"ProposedSize": size, "MinSizeAllowed": MIN_PART_SIZE},
    )


def invalid_part(upload_id: str, part_number: int, etag: str) -> ServiceError:
    return ServiceError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not have matched the part's entity tag.",
        fields={"UploadId": upload_id, "PartNumber": part_number, "ETag": etag},
    )


def invalid_part_order(upload_id: str) -> ServiceError:
    return ServiceError(
        "InvalidPartOrder",
        "The list of parts was not in ascending order. The parts list must be specified in order "
        "by part number.",
        fields={"UploadId": upload_id},
    )


def access_denied(message: str = "Access Denied", **fields: object) -> ServiceError:
    return ServiceError("AccessDenied", message, 403, fields=fields)


def acl_not_supported() -> ServiceError:
    """An ACL set on a bucket whose Object Ownership is ``BucketOwnerEnforced``."""
    return ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs")


def invalid_bucket_acl_with_object_ownership() -> ServiceError:
    """A bucket ACL granting anyone but its owner, with ``BucketOwnerEnforced``."""
    return ServiceError(
        "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    )


def invalid_bucket_acl_with_block_public_access() -> ServiceError:
    """CreateBucket with a public ACL: the new bucket's Block Public Access refuses it."""
    return ServiceError(
        "InvalidBucketAclWithBlockPublicAccessError",
        "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
    )


def signature_does_not_match() -> ServiceError:
    return ServiceError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check "
        "your key and signing method.",
        403,
    )


def missing_configuration(code: str, message: str, bucket: str) -> ServiceError:
    """A bucket sub-resource read before it was ever put: ``NoSuchTagSet``..."""
    return ServiceError(code, message, 404, fields={"BucketName": bucket})


MIN_PART_SIZE: Final = 5 * 1024 * 1024
"""The smallest size S3 accepts for a multipart upload's part, the last excepted."""


def _hex_bytes(text: str) -> str:
    """How S3's errors spell a signed string's bytes: ``41 57 53 34 ...``."""
    return " ".join(f"{byte:02x}" for byte in text.encode())


def signature_mismatch(
    access_key_id: str, string_to_sign: str, provided: str, canonical_request: str | None = None
) -> ServiceError:
    """
    ``SignatureDoesNotMatch`` with what AWS shows to debug it: the string
    it signed (and, for SigV4 requests, the canonical request), as text and
    as bytes.
    """
    fields: dict[str, object] = {
        "AWSAccessKeyId": access_key_id,
        "StringToSign": string_to_sign,
        "SignatureProvided": provided,
        "StringToSignBytes": _hex_bytes(string_to_sign),
    }
    if canonical_request is not None:
        fields["CanonicalRequest"] = canonical_request
        fields["CanonicalRequestBytes"] = _hex_bytes(canonical_request)
    return attrs.evolve(signature_does_not_match(), fields=fields)


def content_sha256_mismatch(client: str, computed: str) -> ServiceError:
    return ServiceError(
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        fields={"ClientComputedContentSHA256": client, "S3ComputedContentSHA256": computed},
    )


def invalid_content_sha256(value: str) -> ServiceError:
    return invalid_argument(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        "x-amz-content-sha256",
        value,
    )


def missing_content_sha256() -> ServiceError:
    return invalid_request("Missing required header for this request: x-amz-content-sha256")


def missing_date() -> ServiceError:
    return access_denied("AWS authentication requires a valid Date or x-amz-date header")


MAX_CLOCK_SKEW: Final = sigv4.MAX_CLOCK_SKEW


def request_time_too_skewed(request_time: str, server_time: str) -> ServiceError:
    return ServiceError(
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        403,
        fields={
            "RequestTime": request_time,
            "ServerTime": server_time,
            "MaxAllowedSkewMilliseconds": MAX_CLOCK_SKEW * 1000,
        },
    )


def method_not_allowed() -> ServiceError:
    """405: e.g. another account's call of a bucket policy operation the policy allows."""
    return ServiceError(
        "MethodNotAllowed", "The specified method is not allowed against this resource.", 405
    )


def malformed_credential() -> ServiceError:
    return ServiceError(
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the Credential is mal-formed; expecting "
        '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    )


def invalid_access_key_id(key_id: str) -> ServiceError:
    """A key S3 does not accept: unknown to it, or made inactive in IAM."""
    return ServiceError(
        "InvalidAccessKeyId",
        "The AWS Access Key Id you provided does not exist in our records.",
        403,
        fields={"AWSAccessKeyId": key_id},
    )


def expired_token(token: str | None) -> ServiceError:
    return ServiceError(
        "ExpiredToken", "The provided token has expired.", 400, fields=_token_field(token)
    )


def invalid_token(token: str) -> ServiceError:
    """A session token that is not the one issued with the key (or a token for a lasting key)."""
    return ServiceError(
        "InvalidToken",
        "The provided token is malformed or otherwise invalid.",
        400,
        fields=_token_field(token),
    )


def _token_field(token: str | None) -> dict[str, str]:
    # S3 names the token it refused in a numbered element.
    return {} if token is None else {"Token-0": token}
