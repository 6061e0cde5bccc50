"""
Bucket sub-resources that S3 stores and returns as given (tagging, CORS,
lifecycle, website...), described once in a table instead of one handler
per operation, plus ACLs, which are built from canned names and grant
headers as well as documents.

Two of those sub-resources decide what ACLs may do, as on AWS since April
2023: Object Ownership (``BucketOwnerEnforced`` by default disables ACLs
and makes the bucket owner own every object) and Block Public Access (all
four settings on by default: public ACLs and public policies are refused
or ignored). The checks of writes live here; ``access`` applies the rest.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

import attrs

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.model import load_service_model
from awsemu.s3 import errors, lifecycle, tagging
from awsemu.s3.store import Document


@attrs.frozen
class Configuration:
    """
    One stored sub-resource: the operations that put, get and delete it,
    the Put operation's member holding the document, the Get output's
    payload member that returns it whole (None when its members are the
    Get output's own), and what a Get finds when nothing was put: AWS's
    error (``missing`` = code, message) or a default document.
    ``echoed``: Put members kept beside the document (each with its value
    when the Put leaves it out), returned by the Put and by the Get.
    """

    name: str
    put: str
    get: str
    delete: str | None
    member: str
    payload: str | None = attrs.field(default=None, kw_only=True)
    missing: tuple[str, str] | None = attrs.field(default=None, kw_only=True)
    default: Document = attrs.field(factory=dict, kw_only=True)
    echoed: Mapping[str, str] = attrs.field(factory=dict, kw_only=True)


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
    POLICY := Configuration(
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
        # The x-amz-transition-default-minimum-object-size header; AWS's
        # default since September 2024 (PutBucketLifecycleConfiguration).
        echoed={"TransitionDefaultMinimumObjectSize": "all_storage_classes_128K"},
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
    # Terraform and cleanup tools read these two on every bucket; the "not
    # found" codes and messages are AWS's (S3 API reference, "List of error
    # codes"; GetObjectLockConfiguration's page).
    Configuration(
        "replication",
        "PutBucketReplication",
        "GetBucketReplication",
        "DeleteBucketReplication",
        "ReplicationConfiguration",
        payload="ReplicationConfiguration",
        missing=(
            "ReplicationConfigurationNotFoundError",
            "The replication configuration was not found",
        ),
    ),
    OBJECT_LOCK := Configuration(
        "object-lock",
        "PutObjectLockConfiguration",
        "GetObjectLockConfiguration",
        None,
        "ObjectLockConfiguration",
        payload="ObjectLockConfiguration",
        missing=(
            "ObjectLockConfigurationNotFoundError",
            "Object Lock configuration does not exist for this bucket",
        ),
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

ENFORCED: Final = "BucketOwnerEnforced"
PREFERRED: Final = "BucketOwnerPreferred"
OBJECT_WRITER: Final = "ObjectWriter"
_FULL_CONTROL_CANNED: Final = "bucket-owner-full-control"


def new_bucket_config(object_ownership: str | None, object_lock: bool = False) -> Document:
    """
    What a new bucket holds before any Put: AWS's defaults since April
    2023, with the Object Ownership CreateBucket asked for, if any. A
    bucket created with Object Lock has it enabled (without a default
    retention) and versioning on, which can then never be suspended.
    """
    locked: Document = {
        OBJECT_LOCK.name: {"ObjectLockEnabled": "Enabled"},
        "versioning": {"Status": "Enabled"},
    }
    return {
        **(locked if object_lock else {}),
        "ownership": {"Rules": [{"ObjectOwnership": object_ownership or ENFORCED}]},
        "public-access-block": {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    }


def object_ownership(config: Document) -> str:
    """
    A bucket's Object Ownership; without ownership controls (deleted, or a
    bucket from before the defaults) S3 behaves as ``ObjectWriter``.
    """
    rules = (config.get("ownership") or {}).get("Rules") or [{}]
    return str(rules[0].get("ObjectOwnership") or OBJECT_WRITER)


def acls_enabled(config: Document) -> bool:
    """Whether ACLs count at all in the bucket (they do unless ownership is enforced)."""
    return object_ownership(config) != ENFORCED


def blocks(config: Document, setting: str) -> bool:
    """Whether the bucket's public access block has ``setting`` (``BlockPublicAcls``...) on."""
    return (config.get("public-access-block") or {}).get(setting) is True


def stored(configuration: Configuration, config: Document, bucket: str) -> Any:
    """The bucket's document for ``configuration``, its default, or AWS's error."""
    if configuration.name in config:
        return config[configuration.name]
    if configuration.missing is not None:
        code, message = configuration.missing
        raise errors.missing_configuration(code, message, bucket)
    return configuration.default


def default_encryption(config: Document) -> Document:
    """
    The ``ApplyServerSideEncryptionByDefault`` of a bucket holding
    ``config``: its first rule's, else SSE-S3. A stored document without
    one (written before documents were checked) does not fail the write.
    """
    document = config.get(ENCRYPTION.name) or _DEFAULT_ENCRYPTION
    rules = document.get("Rules") if isinstance(document, dict) else None
    rule = rules[0] if isinstance(rules, list) and rules and isinstance(rules[0], dict) else {}
    default = rule.get("ApplyServerSideEncryptionByDefault")
    return default if isinstance(default, dict) else {"SSEAlgorithm": "AES256"}


def within_enums(shape: Any, value: Any) -> bool:
    """Whether every value of a parsed document that the model enumerates is one it lists."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return all(within_enums(members[k], v) for k, v in value.items() if k in members)
    if kind == "list" and isinstance(value, list):
        return all(within_enums(shape.member, item) for item in value)
    enum = getattr(shape, "enum", None)
    return not enum or value in enum


def is_bucket_region(constraint: str) -> bool:
    """
    Whether CreateBucket may name ``constraint`` as a location: a region of
    the model's ``BucketLocationConstraint`` (us-east-1 is not one: it is
    the constraint's absence). The legacy ``EU`` alias is not taken.
    """
    regions = load_service_model("s3").shape_for("BucketLocationConstraint").enum
    return constraint in regions and constraint != "EU"


def check_enums(operation: str, member: str, document: Any) -> None:
    """AWS's MalformedXML for a Put document with a value outside its schema's enumerations."""
    shape = load_service_model("s3").operation_model(operation).input_shape.members[member]
    if not within_enums(shape, document):
        raise errors.malformed_xml()


def validate(
    configuration: Configuration, document: Any, config: Document, bucket: str = ""
) -> None:
    """
    Reject what AWS rejects on Put into ``bucket`` holding ``config``: a
    value outside the schema's enumerations; a policy that is not JSON, or
    public while ``BlockPublicPolicy`` is on; ``BucketOwnerEnforced`` while
    the bucket ACL grants anyone else; the rules of the sub-resources below.
    """
    check_enums(configuration.put, configuration.member, document)
    if configuration.name == "tagging":
        tagging.bucket_tags(document.get("TagSet") or [])
    if configuration.name == "lifecycle":
        lifecycle.check(document)
    if configuration.name == "accelerate" and "." in bucket:
        # AWS's answer (S3 user guide, "Configuring fast, secure file transfers
        # using Amazon S3 Transfer Acceleration": names must not contain periods).
        raise errors.invalid_request(
            "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names"
        )
    if configuration.name == "website" and not (
        (document.get("IndexDocument") or {}).get("Suffix") or document.get("RedirectAllRequestsTo")
    ):
        raise ServiceError(
            "InvalidArgument",
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
        )
    if configuration.name == "policy":
        try:
            parsed = json.loads(document)
        except (ValueError, RecursionError):
            parsed = None
        if not isinstance(parsed, dict):
            raise ServiceError(
                "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'"
            )
        if not all(_valid_principals(statement) for statement in _statements(parsed)):
            # AWS's answer to a principal it cannot resolve (AWS knowledge
            # center, repost.aws/knowledge-center/s3-invalid-principal-in-policy-error).
            raise ServiceError("MalformedPolicy", "Invalid principal in policy")
        if blocks(config, "BlockPublicPolicy") and is_public_policy(document):
            raise errors.access_denied()
    if (
        configuration.name == "replication"
        and (config.get("versioning") or {}).get("Status") != "Enabled"
    ):
        # AWS's answer to a replication configuration on an unversioned bucket.
        raise errors.invalid_request(
            "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
        )
    if configuration.name == "object-lock" and OBJECT_LOCK.name not in config:
        # AWS's answer for a bucket not created with ObjectLockEnabledForBucket.
        raise errors.invalid_bucket_state(
            "Object Lock configuration cannot be enabled on existing buckets"
        )
    if configuration.name == "object-lock":
        retention = (document.get("Rule") or {}).get("DefaultRetention")
        # A default retention has a mode and exactly one of Days and Years.
        if retention is not None and (
            "Mode" not in retention or ("Days" in retention) == ("Years" in retention)
        ):
            raise errors.malformed_xml()
    if (
        configuration.name == "versioning"
        and OBJECT_LOCK.name in config
        and document.get("Status") != "Enabled"
    ):
        raise errors.invalid_bucket_state(
            "An Object Lock configuration is present on this bucket, so the versioning state "
            "cannot be changed."
        )
    if configuration.name == "ownership":
        rules = document.get("Rules") or [{}]
        acl = config.get("acl")
        enforcing = rules[0].get("ObjectOwnership") == ENFORCED
        if enforcing and acl and not _owner_only(acl, acl["Owner"]["ID"]):
            raise errors.invalid_bucket_acl_with_object_ownership()


def policy_status(config: Document, bucket: str) -> Document:
    """GetBucketPolicyStatus's answer: whether the bucket's policy is public, or AWS's error."""
    return {"PolicyStatus": {"IsPublic": is_public_policy(stored(POLICY, config, bucket))}}


def canonical_user_id(account_id: str) -> str:
    """An account's S3 canonical user id: 64 hex digits, stable for the account."""
    return hashlib.sha256(f"awsemu:{account_id}".encode()).hexdigest()


def owner(account_id: str) -> Document:
    """
    An ``Owner`` (or grantee) as S3 gives it: the canonical id alone. S3
    stopped returning ``DisplayName`` on November 21, 2025 (S3 API
    reference, ``Owner``: "End of support notice").
    """
    return {"ID": canonical_user_id(account_id)}


def shown_acl(acl: Document) -> Document:
    """
    A stored ACL as GetBucketAcl and GetObjectAcl answer it: without the
    ``DisplayName`` a caller's ``AccessControlPolicy`` (or an older
    ``--data-dir``) may hold, which S3 no longer returns.
    """

    def bare(party: Document) -> Document:
        return {name: value for name, value in party.items() if name != "DisplayName"}

    shown: Document = {
        **acl,
        "Grants": [
            {**grant, "Grantee": bare(grant["Grantee"])}
            if isinstance(grant.get("Grantee"), dict)
            else grant
            for grant in acl.get("Grants") or []
        ],
    }
    if isinstance(acl.get("Owner"), dict):
        shown["Owner"] = bare(acl["Owner"])
    return shown


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


@functools.cache
def granting_operations() -> frozenset[str]:
    """The operations whose input may carry ACL grants, read from the model once."""
    model = load_service_model("s3")
    return frozenset(
        name
        for name in model.operation_names
        if (shape := model.operation_model(name).input_shape) is not None
        and ({"AccessControlPolicy", *_GRANT_MEMBERS} & set(shape.members))
    )


def check_grantees(params: Document, known_ids: Callable[[], Collection[str]]) -> None:
    """
    Refuse, as AWS does, a grant (in ``AccessControlPolicy`` or an
    ``x-amz-grant-*`` header) to a canonical user id ``known_ids`` does not
    hold (the accounts awsemu has met), to an unknown group, or to an
    e-mail address: awsemu's accounts have none. "Invalid id" with
    ``CanonicalUser/ID`` is AWS's answer as Ceph's s3-tests record it
    (test_bucket_acl_grant_userid_write, fails_on_aws); "Invalid group uri"
    is recalled; UnresolvableGrantByEmailAddress's text is the one AWS's
    "Error responses" page lists.
    """
    grantees = [
        grant.get("Grantee") or {}
        for grant in (params.get("AccessControlPolicy") or {}).get("Grants") or ()
    ]
    grantees += [
        _grantee(item)
        for member in _GRANT_MEMBERS
        for item in (params.get(member) or "").split(",")
        if item.strip()
    ]
    for grantee in grantees:
        kind = grantee.get("Type")
        if kind == "CanonicalUser" and grantee.get("ID") not in known_ids():
            raise errors.invalid_argument("Invalid id", "CanonicalUser/ID", grantee.get("ID"))
        if kind == "Group" and grantee.get("URI") not in _GROUPS.values():
            raise errors.invalid_argument("Invalid group uri", "Group/URI", grantee.get("URI"))
        if kind == "AmazonCustomerByEmail":
            raise ServiceError(
                "UnresolvableGrantByEmailAddress",
                "The email address that you provided does not match any account on record.",
            )


def sets_acl(params: Document) -> bool:
    """Whether a request sets an ACL (a document, a canned ACL or a grant header)."""
    return any(params.get(member) for member in ("AccessControlPolicy", "ACL", *_GRANT_MEMBERS))


def acl_from_params(
    params: Document, account_id: str, bucket_owner: str | None = None
) -> Document | None:
    """
    The ACL a request sets on what ``account_id`` owns: its
    ``AccessControlPolicy`` document, its canned ``ACL`` (the
    ``bucket-owner-*`` ones also grant to ``bucket_owner``), or its
    ``x-amz-grant-*`` headers; None when it sets none.
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
        if canned.startswith("bucket-owner-") and bucket_owner not in (None, account_id):
            permission = "READ" if canned == "bucket-owner-read" else "FULL_CONTROL"
            grants.append(_owner_grant(bucket_owner, permission))
    return {"Owner": owner(account_id), "Grants": grants}


def _owner_grant(account_id: str, permission: str = "FULL_CONTROL") -> Document:
    return {"Grantee": {"Type": "CanonicalUser", **owner(account_id)}, "Permission": permission}


def default_acl(account_id: str) -> Document:
    """The ACL of anything created without one: its owner has FULL_CONTROL."""
    return {"Owner": owner(account_id), "Grants": [_owner_grant(account_id)]}


def is_public_grantee(grantee: Document) -> bool:
    """AWS's public grantees: everyone, and every signed-in AWS user."""
    return grantee.get("URI") in (_GROUPS["AllUsers"], _GROUPS["AuthenticatedUsers"])


def _owner_only(acl: Document, owner_id: str) -> bool:
    """
    Whether ``acl`` grants only FULL_CONTROL to the canonical user
    ``owner_id``: all that enforced ownership allows.
    """
    return all(
        grant.get("Permission") == "FULL_CONTROL"
        and (grant.get("Grantee") or {}).get("ID") == owner_id
        for grant in acl.get("Grants") or ()
    )


def _is_public_acl(acl: Document) -> bool:
    return any(is_public_grantee(grant.get("Grantee") or {}) for grant in acl.get("Grants") or ())


def bucket_acl(
    params: Document, config: Document, account_id: str, *, creating: bool = False
) -> Document | None:
    """
    The ACL CreateBucket (``creating``) or PutBucketAcl sets on a bucket of
    ``account_id`` holding ``config``: None when it sets none, or only the
    owner's full control that enforced ownership keeps anyway. Otherwise
    AWS's error, CreateBucket's own codes for what the new bucket refuses.
    """
    acl = acl_from_params(params, account_id)
    if acl is None:
        return None
    if not acls_enabled(config):
        if _owner_only(acl, canonical_user_id(account_id)):
            return None
        if creating:
            raise errors.invalid_bucket_acl_with_object_ownership()
        raise errors.acl_not_supported()
    if blocks(config, "BlockPublicAcls") and _is_public_acl(acl):
        if creating:
            raise errors.invalid_bucket_acl_with_block_public_access()
        raise errors.access_denied()
    return acl


def reset_bucket_acl(params: Document, config: Document, account_id: str) -> None:
    """
    us-east-1's legacy answer to re-creating a bucket one owns: 200 OK, and
    the bucket's ACL reset to what the request sets, or to the default
    (AWS's "Error responses" page, BucketAlreadyOwnedByYou).
    """
    acl = bucket_acl(params, config, account_id, creating=True)
    if acl is None:
        config.pop("acl", None)
    else:
        config["acl"] = acl


@attrs.frozen
class ObjectWrite:
    """Who owns an object a request writes, and the ACL it is stored with (None: the default)."""

    owner: str
    acl: Document | None


def object_write(params: Document, config: Document, bucket_owner: str, writer: str) -> ObjectWrite:
    """
    The owner and ACL of an object ``writer`` puts (PutObject, CopyObject,
    a multipart upload, a POST) into a bucket of ``bucket_owner`` holding
    ``config``, or AWS's error for an ACL the bucket refuses. With
    ``BucketOwnerEnforced`` the bucket owner owns it and only the
    ``bucket-owner-full-control`` ACL (or its equivalent) is accepted; with
    ``BucketOwnerPreferred`` that canned ACL hands ownership over.
    """
    setting = object_ownership(config)
    canned = params.get("ACL")
    if setting == ENFORCED:
        acl = acl_from_params(params, writer)
        accepted = canned == _FULL_CONTROL_CANNED or (
            acl is None or _owner_only(acl, canonical_user_id(bucket_owner))
        )
        if not accepted:
            raise errors.acl_not_supported()
        return ObjectWrite(bucket_owner, None)
    owner_id = writer
    if setting == PREFERRED and canned == _FULL_CONTROL_CANNED:
        owner_id = bucket_owner
    acl = acl_from_params(params, owner_id, bucket_owner)
    if acl is not None and blocks(config, "BlockPublicAcls") and _is_public_acl(acl):
        raise errors.access_denied()
    return ObjectWrite(owner_id, acl)


def object_acl(params: Document, config: Document, bucket_owner: str, owner_id: str) -> Document:
    """
    The ACL PutObjectAcl sets on an object of ``owner_id`` (its default
    when enforced ownership accepts the request), or AWS's error.
    """
    if not sets_acl(params):
        raise errors.malformed_xml()
    write = object_write(params, config, bucket_owner, owner_id)
    return write.acl or default_acl(write.owner)


#: Condition keys whose fixed value stops a ``"*"`` principal from making a
#: statement public ("The meaning of public" in S3's user guide).
_FIXING_KEYS: Final = frozenset(
    {
        "aws:sourceip",
        "aws:sourcearn",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceowner",
        "aws:sourceaccount",
        "aws:userid",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    }
)

#: Operators that pin a key to the listed values.
_FIXING_OPERATORS: Final = frozenset(
    {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress"}
)


def _fixed(key: str, value: str) -> bool:
    """Whether one condition value names a fixed set: no wildcard, no all-addresses range."""
    if key == "aws:sourceip":
        return not value.endswith("/0")
    if key == "aws:userid" and value.endswith(":*"):
        # A role's sessions ("AROLEID:*") are a fixed set of principals.
        value = value[:-2]
    return "*" not in value and "?" not in value


def _fixing(condition: Any) -> bool:
    """Whether a statement's ``Condition`` pins a key of ``_FIXING_KEYS``."""
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if operator not in _FIXING_OPERATORS or not isinstance(block, dict):
            continue
        for key, values in block.items():
            items = values if isinstance(values, list) else [values]
            if key.lower() in _FIXING_KEYS and all(
                _fixed(key.lower(), str(item)) for item in items
            ):
                return True
    return False


def _public_principal(statement: Document) -> bool:
    """An ``Allow`` to everyone: ``"*"``, an ``AWS`` wildcard, or any ``NotPrincipal``."""
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    found = principal.get("AWS", [])
    return any("*" in str(item) for item in (found if isinstance(found, list) else [found]))


_AWS_PRINCIPAL: Final = re.compile(
    r"\*|[0-9]{12}"
    r"|arn:aws[a-z-]*:iam::[0-9]{12}:(root|user/.+|role/.+)"
    r"|arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+/.+"
    r"|arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity .+"
)
_CANONICAL_ID: Final = re.compile("[0-9a-f]{64}")


def _statements(document: Document) -> list[Any]:
    found = document.get("Statement", [])
    return found if isinstance(found, list) else [found]


def _valid_principals(statement: Any) -> bool:
    """
    Whether a statement's ``Principal`` (or ``NotPrincipal``) names only
    principals S3 can resolve: everyone, account ids and IAM/STS ARNs,
    canonical user ids, services and federated providers.
    """
    if not isinstance(statement, dict):
        return True
    principal = statement.get("NotPrincipal", statement.get("Principal"))
    if principal is None or principal == "*":
        return True
    if not isinstance(principal, dict) or not principal:
        return False
    for kind, value in principal.items():
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, str) and item for item in items):
            return False
        if kind == "AWS" and not all(_AWS_PRINCIPAL.fullmatch(item) for item in items):
            return False
        if kind == "CanonicalUser" and not all(_CANONICAL_ID.fullmatch(item) for item in items):
            return False
        if kind not in ("AWS", "CanonicalUser", "Service", "Federated"):
            return False
    return True


def is_public_policy(text: str | None) -> bool:
    """
    Whether a bucket policy is public as S3 defines it: an ``Allow``
    statement to everyone that no condition on a fixing key narrows.
    """
    try:
        document = json.loads(text or "{}")
    except (ValueError, RecursionError):
        return False
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return any(
        isinstance(statement, dict)
        and statement.get("Effect") == "Allow"
        and _public_principal(statement)
        and not _fixing(statement.get("Condition"))
        for statement in (found if isinstance(found, list) else [found])
    )
