"""
Server-side encryption as S3 reports and enforces it, without encrypting
anything: what a write asks for (SSE-S3, SSE-KMS with its key id, context
and bucket key, or SSE-C with a customer key) or the bucket's default is
kept with the version (``ObjectVersion.encryption``, by botocore output
member) and echoed by every call that answers with it; reads, copies and
parts of objects stored with a customer key need that key again.

A customer key is never kept: only its MD5, which is what S3 compares
(and echoes as ``x-amz-server-side-encryption-customer-key-MD5``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any, Final

import attrs

from awsemu.protocol.errors import ServiceError
from awsemu.s3 import configs, errors

Params = dict[str, Any]
Document = dict[str, Any]

ALGORITHMS: Final = ("AES256", "aws:kms", "aws:kms:dsse")
"""``x-amz-server-side-encryption`` values (botocore's ``ServerSideEncryption`` enum)."""

_HEADER: Final = "x-amz-server-side-encryption"
_KMS_KEY_HEADER: Final = "x-amz-server-side-encryption-aws-kms-key-id"
_CONTEXT_HEADER: Final = "x-amz-server-side-encryption-context"

# AWS's texts for bad SSE-C headers; "secret key was invalid" and "calculated
# MD5 hash" are quoted in users' reports of real S3 answers (aws-cli notes;
# andrewrk/node-s3-client#137), "incompatible with the encryption method" in
# aws-amplify/aws-sdk-ios#142; the two "must provide" texts are recalled.
_NO_ALGORITHM: Final = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide a "
    "valid encryption algorithm."
)
_NO_KEY: Final = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide an "
    "appropriate secret key."
)
_NO_KEY_MD5: Final = (
    "Requests specifying Server Side Encryption with Customer provided keys must provide the "
    "client calculated MD5 of the secret key."
)
_BAD_KEY: Final = "The secret key was invalid for the specified algorithm."
_BAD_KEY_MD5: Final = "The calculated MD5 hash of the key did not match the hash that was provided."
_BOTH_KINDS: Final = (
    "Server Side Encryption with Customer provided key is incompatible with the encryption "
    "method specified"
)
# The SSE-C read refusal, as S3 answers it (localstack/localstack#12136 shows
# the 400 InvalidRequest; the text is the one S3's users quote).
_KEY_NEEDED: Final = (
    "The object was stored using a form of Server Side Encryption. The correct parameters must "
    "be provided to retrieve the object."
)
# S3's answer quoted in boto/boto3#982.
_NOT_APPLICABLE: Final = "The encryption parameters are not applicable to this object."
_PART_KEY_NEEDED: Final = (  # recalled
    "The multipart upload initiate requested encryption. Subsequent part requests must include "
    "the appropriate encryption parameters."
)
_PART_KEY_DIFFERS: Final = (  # recalled
    "The provided encryption parameters did not match the ones used originally."
)


def _argument(message: str, name: str, value: object = "null") -> ServiceError:
    """``InvalidArgument`` naming the header; S3 never echoes a key, so "null" stands for it."""
    return errors.invalid_argument(message, name, value)


@attrs.frozen
class Prefix:
    """Where one set of SSE-C headers is: a request's own, or its copy source's."""

    member: str
    header: str

    def values(self, params: Params) -> tuple[str | None, str | None, str | None]:
        return (
            params.get(f"{self.member}Algorithm"),
            params.get(f"{self.member}Key"),
            params.get(f"{self.member}KeyMD5"),
        )


OWN: Final = Prefix("SSECustomer", "x-amz-server-side-encryption-customer")
COPY_SOURCE: Final = Prefix(
    "CopySourceSSECustomer", "x-amz-copy-source-server-side-encryption-customer"
)


def customer_key(params: Params, prefix: Prefix = OWN) -> Document | None:
    """
    The SSE-C members (``SSECustomerAlgorithm``, ``SSECustomerKeyMD5``) a
    request's headers under ``prefix`` name, once checked as S3 checks
    them; None if it sends none.
    """
    algorithm, key, key_md5 = prefix.values(params)
    if algorithm is None and key is None and key_md5 is None:
        return None
    if algorithm is None:
        raise _argument(_NO_ALGORITHM, f"{prefix.header}-algorithm")
    if algorithm != "AES256":
        # S3's error for any algorithm but AES256 (aws/aws-cli#1349, aws/aws-sdk-js#1789).
        raise ServiceError(
            "InvalidEncryptionAlgorithmError",
            "The Encryption request you specified is not valid. Supported value: AES256.",
            fields={"ArgumentName": f"{prefix.header}-algorithm", "ArgumentValue": algorithm},
        )
    if key is None:
        raise _argument(_NO_KEY, f"{prefix.header}-key")
    try:
        raw = base64.b64decode(key, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        raise _argument(_BAD_KEY, f"{prefix.header}-key")
    if key_md5 is None:
        raise _argument(_NO_KEY_MD5, f"{prefix.header}-key-MD5")
    computed = base64.b64encode(hashlib.md5(raw).digest()).decode("ascii")
    if key_md5 != computed:
        raise _argument(_BAD_KEY_MD5, f"{prefix.header}-key-MD5")
    return {"SSECustomerAlgorithm": algorithm, "SSECustomerKeyMD5": computed}


def default_kms_key(account: str, region: str) -> str:
    """
    The ARN of the account's AWS managed ``aws/s3`` key in ``region``,
    which S3 uses (and names) for SSE-KMS without a key id: one stable id
    per account and region.
    """
    key_id = uuid.uuid5(uuid.NAMESPACE_URL, f"awsemu:kms:{account}:{region}:aws/s3")
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def _context(value: str) -> str:
    """``x-amz-server-side-encryption-context``: base64 of a JSON string-to-string map."""
    try:
        document = json.loads(base64.b64decode(value, validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        document = None
    if not isinstance(document, dict) or not all(
        isinstance(item, str) for item in document.values()
    ):
        # Recalled: S3's text for a context that is not such a map.
        raise errors.invalid_argument(
            f"The header '{_CONTEXT_HEADER}' shall be Base64-encoded UTF-8 string holding JSON "
            "which represents a string-string map",
            _CONTEXT_HEADER,
            value,
        )
    return value


def _bucket_key_default(config: Document) -> bool:
    """Whether the bucket's default encryption rule enables S3 Bucket Keys."""
    document = config.get(configs.ENCRYPTION.name) or {}
    rules = document.get("Rules") if isinstance(document, dict) else None
    rule = rules[0] if isinstance(rules, list) and rules and isinstance(rules[0], dict) else {}
    return rule.get("BucketKeyEnabled") is True


def for_write(params: Params, config: Document, account: str, region: str) -> Document:
    """
    The encryption a new object (or multipart upload) gets, by output
    member: the SSE-C key's algorithm and MD5, the SSE-KMS or SSE-S3 the
    request asks for, else the default of the bucket holding ``config``
    (owned by ``account`` in ``region``).
    """
    requested = params.get("ServerSideEncryption")
    customer = customer_key(params)
    if customer is not None:
        if requested is not None:
            raise errors.invalid_argument(_BOTH_KINDS, _HEADER, requested)
        return customer
    if requested is not None and requested not in ALGORITHMS:
        # Recalled: S3's text for an unknown x-amz-server-side-encryption.
        raise errors.invalid_argument(
            "The encryption method specified is not supported", _HEADER, requested
        )
    key_id: str | None = params.get("SSEKMSKeyId")
    context: str | None = params.get("SSEKMSEncryptionContext")
    bucket_key = params.get("BucketKeyEnabled")
    if requested is None:
        if key_id is not None or context is not None:
            # Recalled: a KMS key id (or context) without aws:kms.
            raise errors.invalid_argument(
                "Server Side Encryption with AWS KMS managed key requires HTTP header "
                f"{_HEADER} : aws:kms",
                _KMS_KEY_HEADER if key_id is not None else _CONTEXT_HEADER,
                key_id if key_id is not None else context,
            )
        default = configs.default_encryption(config)
        requested = default.get("SSEAlgorithm", "AES256")
        key_id = default.get("KMSMasterKeyID")
    if bucket_key is None:
        # S3 user guide, "Configuring an S3 Bucket Key at the object level": "If you
        # don't specify an S3 Bucket Key for your object, Amazon S3 applies the S3
        # Bucket Key settings for the destination bucket to the object", whether the
        # write asked for SSE-KMS itself or took the bucket's default.
        bucket_key = _bucket_key_default(config)
    encryption: Document = {"ServerSideEncryption": requested}
    if requested.startswith("aws:kms"):
        encryption["SSEKMSKeyId"] = key_id or default_kms_key(account, region)
        if context is not None:
            encryption["SSEKMSEncryptionContext"] = _context(context)
        if bucket_key:
            encryption["BucketKeyEnabled"] = True
    return encryption


def etag(encryption: Document, md5_etag: str) -> str:
    """
    The ETag of a new object, copy or part stored with ``encryption``,
    whose body's quoted MD5 is ``md5_etag``: that MD5, except under SSE-C
    and SSE-KMS (and DSSE-KMS), whose ETags S3 makes opaque. S3 API
    reference, Object, ETag: "Objects created by the PUT Object, POST
    Object, or Copy operation, or through the AWS Management Console, and
    are encrypted by SSE-C or SSE-KMS, have ETags that are not an MD5
    digest of their object data." Each write gets its own random 32 hex
    digits, kept with the version so every read, listing and condition
    sees the same one.
    """
    if "SSECustomerKeyMD5" in encryption or str(
        encryption.get("ServerSideEncryption", "")
    ).startswith("aws:kms"):
        return f'"{uuid.uuid4().hex}"'
    return md5_etag


def check_read(encryption: Document, params: Params, prefix: Prefix = OWN) -> None:
    """
    A read (or copy, with ``COPY_SOURCE``) of a version stored with
    ``encryption``: an SSE-C version needs its key again (400 without it,
    403 with another); SSE-C headers for any other version are refused.
    """
    # Another key is S3's 403 AccessDenied (minio/minio#5203 matched S3's answer).
    _match(encryption, customer_key(params, prefix), _KEY_NEEDED, errors.access_denied)


def check_part(encryption: Document, params: Params) -> None:
    """A part of an upload started with ``encryption``: SSE-C uploads need the same key."""
    _match(
        encryption,
        customer_key(params),
        _PART_KEY_NEEDED,
        lambda: _argument(_PART_KEY_DIFFERS, f"{OWN.header}-key"),
    )


def _match(
    encryption: Document, sent: Document | None, missing: str, other: Callable[[], ServiceError]
) -> None:
    """
    Refuse ``sent`` customer key for a version stored with ``encryption``;
    ``other`` makes the error for a key that differs (only then: most reads
    send no key for a version stored without one).
    """
    stored = encryption.get("SSECustomerKeyMD5")
    if stored is None:
        if sent is not None:
            raise errors.invalid_request(_NOT_APPLICABLE)
    elif sent is None:
        raise errors.invalid_request(missing)
    elif sent["SSECustomerKeyMD5"] != stored:
        raise other()


def changes(params: Params) -> bool:
    """Whether a copy onto its own source asks for encryption (which S3 then redoes)."""
    return any(
        params.get(name) is not None
        for name in ("ServerSideEncryption", "SSECustomerAlgorithm", "SSEKMSKeyId")
    )


def stripped(params: Params) -> Params:
    """``params`` without the customer keys, which are never kept."""
    return {
        name: value
        for name, value in params.items()
        if name not in ("SSECustomerKey", "CopySourceSSECustomerKey")
    }
