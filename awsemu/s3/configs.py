"""
Bucket sub-resources that S3 stores and returns as given (tagging, CORS,
lifecycle, website...), described once in a table instead of one handler
per operation, plus ACLs, which are built from canned names and grant
headers as well as documents.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

import attrs

from awsemu.protocol.errors import ServiceError
from awsemu.s3 import errors
from awsemu.s3.store import Document


@attrs.frozen
class Configuration:
    """
    One stored sub-resource: the operations that put, get and delete it,
    the Put operation's member holding the document, the Get output's
    payload member that returns it whole (None when its members are the
    Get output's own), and what a Get finds when nothing was put: AWS's
    error (``missing`` = code, message) or a default document.
    """

    name: str
    put: str
    get: str
    delete: str | None
    member: str
    payload: str | None = attrs.field(default=None, kw_only=True)
    missing: tuple[str, str] | None = attrs.field(default=None, kw_only=True)
    default: Document = attrs.field(factory=dict, kw_only=True)


_DEFAULT_ENCRYPTION: Final[Document] = {
    "Rules": [
        {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": False,
        }
    ]
}

CONFIGURATIONS: Final = (
    Configuration(
        "versioning", "PutBucketVersioning", "GetBucketVersioning", None, "VersioningConfiguration"
    ),
    Configuration(
        "tagging",
        "PutBucketTagging",
        "GetBucketTagging",
        "DeleteBucketTagging",
        "Tagging",
        missing=("NoSuchTagSet", "The TagSet does not exist"),
    ),
    Configuration(
        "cors",
        "PutBucketCors",
        "GetBucketCors",
        "DeleteBucketCors",
        "CORSConfiguration",
        missing=("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    ),
    Configuration(
        "policy",
        "PutBucketPolicy",
        "GetBucketPolicy",
        "DeleteBucketPolicy",
        "Policy",
        payload="Policy",
        missing=("NoSuchBucketPolicy", "The bucket policy does not exist"),
    ),
    Configuration(
        "lifecycle",
        "PutBucketLifecycleConfiguration",
        "GetBucketLifecycleConfiguration",
        "DeleteBucketLifecycle",
        "LifecycleConfiguration",
        missing=("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    ),
    ENCRYPTION := Configuration(
        "encryption",
        "PutBucketEncryption",
        "GetBucketEncryption",
        "DeleteBucketEncryption",
        "ServerSideEncryptionConfiguration",
        payload="ServerSideEncryptionConfiguration",
        default=_DEFAULT_ENCRYPTION,
    ),
    Configuration(
        "ownership",
        "PutBucketOwnershipControls",
        "GetBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
        "OwnershipControls",
        payload="OwnershipControls",
        missing=("OwnershipControlsNotFoundError", "The bucket ownership controls were not found"),
    ),
    Configuration(
        "public-access-block",
        "PutPublicAccessBlock",
        "GetPublicAccessBlock",
        "DeletePublicAccessBlock",
        "PublicAccessBlockConfiguration",
        payload="PublicAccessBlockConfiguration",
        missing=(
            "NoSuchPublicAccessBlockConfiguration",
            "The public access block configuration was not found",
        ),
    ),
    Configuration(
        "notification",
        "PutBucketNotificationConfiguration",
        "GetBucketNotificationConfiguration",
        None,
        "NotificationConfiguration",
    ),
    Configuration(
        "website",
        "PutBucketWebsite",
        "GetBucketWebsite",
        "DeleteBucketWebsite",
        "WebsiteConfiguration",
        missing=(
            "NoSuchWebsiteConfiguration",
            "The specified bucket does not have a website configuration",
        ),
    ),
    Configuration("logging", "PutBucketLogging", "GetBucketLogging", None, "BucketLoggingStatus"),
    Configuration(
        "accelerate",
        "PutBucketAccelerateConfiguration",
        "GetBucketAccelerateConfiguration",
        None,
        "AccelerateConfiguration",
    ),
    Configuration(
        "request-payment",
        "PutBucketRequestPayment",
        "GetBucketRequestPayment",
        None,
        "RequestPaymentConfiguration",
        default={"Payer": "BucketOwner"},
    ),
)

#: What a new bucket holds before any Put: AWS's defaults since April 2023.
NEW_BUCKET_CONFIG: Final[Document] = {
    "ownership": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    "public-access-block": {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    },
}


def stored(configuration: Configuration, config: Document, bucket: str) -> Any:
    """The bucket's document for ``configuration``, its default, or AWS's error."""
    if configuration.name in config:
        return config[configuration.name]
    if configuration.missing is not None:
        code, message = configuration.missing
        raise errors.missing_configuration(code, message, bucket)
    return configuration.default


def validate(configuration: Configuration, document: Any) -> None:
    """Reject what AWS rejects on Put; only policies are checked for now (as JSON)."""
    if configuration.name == "policy":
        try:
            parsed = json.loads(document)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ServiceError(
                "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'"
            )


def canonical_user_id(account_id: str) -> str:
    """An account's S3 canonical user id: 64 hex digits, stable for the account."""
    return hashlib.sha256(f"awsemu:{account_id}".encode()).hexdigest()


def owner(account_id: str) -> Document:
    return {"ID": canonical_user_id(account_id), "DisplayName": "awsemu"}


_GROUPS: Final = {
    "AllUsers": "http://acs.amazonaws.com/groups/global/AllUsers",
    "AuthenticatedUsers": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    "LogDelivery": "http://acs.amazonaws.com/groups/s3/LogDelivery",
}

#: Canned ACL → the (group, permission) grants it adds to the owner's FULL_CONTROL.
_CANNED: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "private": (),
    "public-read": (("AllUsers", "READ"),),
    "public-read-write": (("AllUsers", "READ"), ("AllUsers", "WRITE")),
    "authenticated-read": (("AuthenticatedUsers", "READ"),),
    "log-delivery-write": (("LogDelivery", "WRITE"), ("LogDelivery", "READ_ACP")),
    "bucket-owner-read": (),
    "bucket-owner-full-control": (),
    "aws-exec-read": (),
}

#: Grant header member → permission.
_GRANT_MEMBERS: Final = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}


def _grantee(text: str) -> Document:
    """One ``id="..."``, ``uri="..."`` or ``emailAddress="..."`` of a grant header."""
    kind, _, value = text.strip().partition("=")
    value = value.strip().strip('"')
    if kind == "uri":
        return {"Type": "Group", "URI": value}
    if kind == "emailAddress":
        return {"Type": "AmazonCustomerByEmail", "EmailAddress": value}
    if kind == "id":
        return {"Type": "CanonicalUser", "ID": value}
    raise errors.invalid_argument("Argument format not recognized", kind, value)


def acl_from_params(params: Document, account_id: str) -> Document | None:
    """
    The ACL a request sets: its ``AccessControlPolicy`` document, its canned
    ``ACL``, or its ``x-amz-grant-*`` headers; None when it sets none.
    """
    if "AccessControlPolicy" in params:
        policy: Document = params["AccessControlPolicy"]
        return {
            "Owner": policy.get("Owner") or owner(account_id),
            "Grants": policy.get("Grants", []),
        }
    grants = [
        {"Grantee": _grantee(item), "Permission": permission}
        for member, permission in _GRANT_MEMBERS.items()
        for item in (params.get(member) or "").split(",")
        if item.strip()
    ]
    canned = params.get("ACL")
    if canned is None and not grants:
        return None
    if canned is not None:
        if canned not in _CANNED:
            raise errors.invalid_argument("", "x-amz-acl", canned)
        grants = [
            {"Grantee": {"Type": "Group", "URI": _GROUPS[group]}, "Permission": permission}
            for group, permission in _CANNED[canned]
        ]
        grants.insert(0, _owner_grant(account_id))
    return {"Owner": owner(account_id), "Grants": grants}


def _owner_grant(account_id: str) -> Document:
    return {"Grantee": {"Type": "CanonicalUser", **owner(account_id)}, "Permission": "FULL_CONTROL"}


def default_acl(account_id: str) -> Document:
    """The ACL of anything created without one: its owner has FULL_CONTROL."""
    return {"Owner": owner(account_id), "Grants": [_owner_grant(account_id)]}
