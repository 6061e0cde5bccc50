"""
Who may call S3 on a bucket, decided the way S3 decides for the cases
users meet: the bucket owner's account, and other accounts that the bucket
policy or an ACL lets in.

awsemu does not evaluate identity policies (LocalStack does not either),
so every principal of the bucket owner's account is allowed what the
bucket policy does not explicitly deny. Another account needs an ``Allow``
statement of the bucket policy, or an ACL grant, that covers the call. An
explicit ``Deny`` wins over both, for the owner's account too, except that
the owner's root user can always get, put and delete the bucket policy
(AWS's protection against locking oneself out). The bucket policy's
statements are evaluated by ``policies``.

ACLs are honoured as stored (S3's mapping of ACL permissions to actions,
``_BUCKET_GRANTS`` and ``_OBJECT_GRANTS``) unless Object Ownership is
``BucketOwnerEnforced``, which disables them. Block Public Access:
``IgnorePublicAcls`` makes grants to everyone or to every AWS user grant
nothing, and ``RestrictPublicBuckets`` keeps a public policy (see
``configs.is_public_policy``) from letting in anyone outside the bucket
owner's account. (Unsigned requests belong to the default account, as
everywhere in awsemu, so they are refused only from other accounts' buckets;
under ``--auth enforce`` they are anonymous, ``ANONYMOUS_ACCOUNT``, and may
only do what a bucket grants everyone.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

import attrs

from awsemu.gateway.context import ANONYMOUS_ACCOUNT, RequestContext
from awsemu.s3 import configs, errors, keyed
from awsemu.s3.policies import REQUEST_KEYS, Caller, Decision, evaluate, parse_policy, root_arn
from awsemu.s3.store import Bucket, Document, ObjectVersion, Store

Params = dict[str, Any]


class Identity(Protocol):
    """What S3 needs of an IAM or STS principal (``awsemu.iam.store.Caller`` is one)."""

    @property
    def arn(self) -> str: ...


CallerLookup = Callable[[str], Identity | None]
"""The principal holding an access key id that IAM or STS issued, or None."""


def no_callers(access_key_id: str) -> Identity | None:
    """The lookup to use without IAM and STS: every caller is its account's root user."""
    return None


@attrs.frozen
class Permission:
    """
    What an operation needs: its IAM ``action`` (``version_action`` when
    the request names a ``VersionId``), on the bucket or on the object the
    request names (``on_object``).

    ``hides_missing``: a caller who may not list the bucket is told
    ``AccessDenied`` rather than that the key does not exist. ``copies``:
    the copy source must be readable too. ``per_key``: checked for each
    key by the provider (DeleteObjects reports each refusal in its
    result). ``owner_only``: another account that passes the check still
    gets ``MethodNotAllowed`` (the bucket policy operations).
    """

    action: str
    version_action: str | None = None
    on_object: bool = False
    hides_missing: bool = False
    copies: bool = False
    per_key: bool = False
    owner_only: bool = False


def _bucket(action: str, **flags: Any) -> Permission:
    return Permission(action, **flags)


def _object(action: str, version_action: str | None = None, **flags: Any) -> Permission:
    return Permission(action, version_action, on_object=True, **flags)


PERMISSIONS: Final[Mapping[str, Permission | None]] = {
    # No existing bucket to guard: ListBuckets lists the caller's own, and
    # CreateBucket refuses another account's name itself.
    "ListBuckets": None,
    "CreateBucket": None,
    "DeleteBucket": _bucket("s3:DeleteBucket"),
    "HeadBucket": _bucket("s3:ListBucket"),
    "GetBucketLocation": _bucket("s3:GetBucketLocation"),
    "ListObjects": _bucket("s3:ListBucket"),
    "ListObjectsV2": _bucket("s3:ListBucket"),
    "ListObjectVersions": _bucket("s3:ListBucketVersions"),
    "ListMultipartUploads": _bucket("s3:ListBucketMultipartUploads"),
    "GetBucketAcl": _bucket("s3:GetBucketAcl"),
    "PutBucketAcl": _bucket("s3:PutBucketAcl"),
    "GetBucketPolicy": _bucket("s3:GetBucketPolicy", owner_only=True),
    "PutBucketPolicy": _bucket("s3:PutBucketPolicy", owner_only=True),
    "DeleteBucketPolicy": _bucket("s3:DeleteBucketPolicy", owner_only=True),
    "GetBucketVersioning": _bucket("s3:GetBucketVersioning"),
    "PutBucketVersioning": _bucket("s3:PutBucketVersioning"),
    "GetBucketTagging": _bucket("s3:GetBucketTagging"),
    "PutBucketTagging": _bucket("s3:PutBucketTagging"),
    "DeleteBucketTagging": _bucket("s3:PutBucketTagging"),
    "GetBucketCors": _bucket("s3:GetBucketCORS"),
    "PutBucketCors": _bucket("s3:PutBucketCORS"),
    "DeleteBucketCors": _bucket("s3:PutBucketCORS"),
    "GetBucketLifecycleConfiguration": _bucket("s3:GetLifecycleConfiguration"),
    "PutBucketLifecycleConfiguration": _bucket("s3:PutLifecycleConfiguration"),
    "DeleteBucketLifecycle": _bucket("s3:PutLifecycleConfiguration"),
    "GetBucketEncryption": _bucket("s3:GetEncryptionConfiguration"),
    "PutBucketEncryption": _bucket("s3:PutEncryptionConfiguration"),
    "DeleteBucketEncryption": _bucket("s3:PutEncryptionConfiguration"),
    "GetBucketOwnershipControls": _bucket("s3:GetBucketOwnershipControls"),
    "PutBucketOwnershipControls": _bucket("s3:PutBucketOwnershipControls"),
    "DeleteBucketOwnershipControls": _bucket("s3:PutBucketOwnershipControls"),
    "GetPublicAccessBlock": _bucket("s3:GetBucketPublicAccessBlock"),
    "PutPublicAccessBlock": _bucket("s3:PutBucketPublicAccessBlock"),
    "DeletePublicAccessBlock": _bucket("s3:PutBucketPublicAccessBlock"),
    "GetBucketNotificationConfiguration": _bucket("s3:GetBucketNotification"),
    "PutBucketNotificationConfiguration": _bucket("s3:PutBucketNotification"),
    "GetBucketWebsite": _bucket("s3:GetBucketWebsite"),
    "PutBucketWebsite": _bucket("s3:PutBucketWebsite"),
    "DeleteBucketWebsite": _bucket("s3:DeleteBucketWebsite"),
    "GetBucketLogging": _bucket("s3:GetBucketLogging"),
    "PutBucketLogging": _bucket("s3:PutBucketLogging"),
    "GetBucketAccelerateConfiguration": _bucket("s3:GetAccelerateConfiguration"),
    "PutBucketAccelerateConfiguration": _bucket("s3:PutAccelerateConfiguration"),
    "GetBucketRequestPayment": _bucket("s3:GetBucketRequestPayment"),
    "PutBucketRequestPayment": _bucket("s3:PutBucketRequestPayment"),
    "GetBucketReplication": _bucket("s3:GetReplicationConfiguration"),
    "PutBucketReplication": _bucket("s3:PutReplicationConfiguration"),
    "DeleteBucketReplication": _bucket("s3:PutReplicationConfiguration"),
    "GetObjectLockConfiguration": _bucket("s3:GetBucketObjectLockConfiguration"),
    "PutObjectLockConfiguration": _bucket("s3:PutBucketObjectLockConfiguration"),
    "GetBucketPolicyStatus": _bucket("s3:GetBucketPolicyStatus"),
    **{
        f"{verb}Bucket{family.member}{plural}": _bucket(f"s3:{action}{family.member}")
        for family in keyed.FAMILIES
        for verb, plural, action in (
            ("Get", "", "Get"),
            ("List", "s", "Get"),
            ("Put", "", "Put"),
            ("Delete", "", "Put"),
        )
    },
    "GetObjectRetention": _object("s3:GetObjectRetention"),
    "PutObjectRetention": _object("s3:PutObjectRetention"),
    "GetObjectLegalHold": _object("s3:GetObjectLegalHold"),
    "PutObjectLegalHold": _object("s3:PutObjectLegalHold"),
    "RestoreObject": _object("s3:RestoreObject"),
    "GetObjectTorrent": _object("s3:GetObjectTorrent", "s3:GetObjectVersionTorrent"),
    "GetObject": _object("s3:GetObject", "s3:GetObjectVersion", hides_missing=True),
    "HeadObject": _object("s3:GetObject", "s3:GetObjectVersion", hides_missing=True),
    "GetObjectAttributes": _object(
        "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes", hides_missing=True
    ),
    "PutObject": _object("s3:PutObject"),
    "CopyObject": _object("s3:PutObject", copies=True),
    "DeleteObject": _object("s3:DeleteObject", "s3:DeleteObjectVersion"),
    "DeleteObjects": _object("s3:DeleteObject", "s3:DeleteObjectVersion", per_key=True),
    "GetObjectAcl": _object("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "PutObjectAcl": _object("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    "GetObjectTagging": _object("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    "PutObjectTagging": _object("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    "DeleteObjectTagging": _object("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    "CreateMultipartUpload": _object("s3:PutObject"),
    "UploadPart": _object("s3:PutObject"),
    "UploadPartCopy": _object("s3:PutObject", copies=True),
    "CompleteMultipartUpload": _object("s3:PutObject"),
    "AbortMultipartUpload": _object("s3:AbortMultipartUpload"),
    "ListParts": _object("s3:ListMultipartUploadParts"),
}
"""
Each S3 operation's permission (AWS's "Required permissions for Amazon S3
API operations"). An operation missing here is allowed to its bucket's
owner only, as nothing could grant it.
"""

_LOCKOUT_EXEMPT: Final = frozenset(
    {"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"}
)
"""What the bucket owner's root user may do whatever the bucket policy denies."""


def caller_of(context: RequestContext, callers: CallerLookup) -> Caller:
    """The caller of ``context``'s request; unsigned ones stay in the default account."""
    key = context.access_key_id
    identity = None if key is None else callers(key)
    arn = root_arn(context.account_id) if identity is None else identity.arn
    return Caller(context.account_id, arn, authenticated=key is not None)


# ACLs

_ALL_USERS: Final = "http://acs.amazonaws.com/groups/global/AllUsers"
_AUTHENTICATED_USERS: Final = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

_BUCKET_GRANTS: Final[Mapping[str, frozenset[str]]] = {
    "READ": frozenset({"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"}),
    "WRITE": frozenset({"s3:PutObject", "s3:DeleteObject"}),
    "READ_ACP": frozenset({"s3:GetBucketAcl"}),
    "WRITE_ACP": frozenset({"s3:PutBucketAcl"}),
}
"""A bucket ACL's permissions → the actions they allow (AWS's mapping)."""

_OBJECT_GRANTS: Final[Mapping[str, frozenset[str]]] = {
    "READ": frozenset({"s3:GetObject", "s3:GetObjectVersion"}),
    "READ_ACP": frozenset({"s3:GetObjectAcl", "s3:GetObjectVersionAcl"}),
    "WRITE_ACP": frozenset({"s3:PutObjectAcl", "s3:PutObjectVersionAcl"}),
}
"""An object ACL's permissions → the actions they allow."""


def _grantee_matches(grantee: Document, caller: Caller, ignore_public: bool) -> bool:
    if ignore_public and configs.is_public_grantee(grantee):
        return False
    uri = grantee.get("URI")
    if uri == _ALL_USERS:
        return True
    if uri == _AUTHENTICATED_USERS:
        return caller.authenticated
    return grantee.get("ID") == configs.canonical_user_id(caller.account)


def acl_allows(
    acl: Document,
    grants: Mapping[str, frozenset[str]],
    caller: Caller,
    action: str,
    ignore_public: bool = False,
) -> bool:
    """
    Whether a grant of ``acl`` gives ``caller`` ``action`` (FULL_CONTROL is
    every permission); ``ignore_public`` leaves out grants to public groups.
    """
    for grant in acl.get("Grants") or ():
        permission = grant.get("Permission")
        allowed = (
            frozenset().union(*grants.values())
            if permission == "FULL_CONTROL"
            else grants.get(permission, frozenset())
        )
        grantee = grant.get("Grantee") or {}
        if action in allowed and _grantee_matches(grantee, caller, ignore_public):
            return True
    return False


# The checks


def allowed(
    bucket: Bucket,
    caller: Caller,
    action: str,
    key: str | None = None,
    version: ObjectVersion | None = None,
    keys: Mapping[str, str] | None = None,
) -> bool:
    """
    Whether ``caller`` may do ``action`` on ``bucket`` or on its ``key``
    (whose ``version``, if it exists, brings its ACL); see the module
    docstring for the rules.
    """
    resource = f"arn:aws:s3:::{bucket.name}" if key is None else f"arn:aws:s3:::{bucket.name}/{key}"
    decision = evaluate(parse_policy(bucket.config.get("policy")), caller, action, resource, keys)
    if decision is Decision.DENY:
        return caller.is_root and caller.account == bucket.owner and action in _LOCKOUT_EXEMPT
    if caller.account == bucket.owner:
        return True
    if decision is Decision.ALLOW and not _restricted(bucket):
        return True
    return _acls_allow(bucket, caller, action, version)


def _restricted(bucket: Bucket) -> bool:
    """Whether ``RestrictPublicBuckets`` limits the bucket's (public) policy to its account."""
    return configs.blocks(bucket.config, "RestrictPublicBuckets") and configs.is_public_policy(
        bucket.config.get("policy")
    )


def _acls_allow(bucket: Bucket, caller: Caller, action: str, version: ObjectVersion | None) -> bool:
    """Whether the bucket's ACL, or the object's, grants another account ``action``."""
    if not configs.acls_enabled(bucket.config):
        return False
    ignore_public = configs.blocks(bucket.config, "IgnorePublicAcls")
    bucket_acl = bucket.config.get("acl") or configs.default_acl(bucket.owner)
    if acl_allows(bucket_acl, _BUCKET_GRANTS, caller, action, ignore_public):
        return True
    if version is None:
        return False
    object_acl = version.acl or configs.default_acl(version.owner)
    return acl_allows(object_acl, _OBJECT_GRANTS, caller, action, ignore_public)


def request_keys(context: RequestContext, params: Params) -> dict[str, str]:
    """
    The condition keys a request gives: its parameters' (``REQUEST_KEYS``),
    the client's address, and ``aws:SecureTransport``, always true (see
    ``policies``).
    """
    keys = {name: str(params[member]) for name, member in REQUEST_KEYS.items() if member in params}
    keys["aws:securetransport"] = "true"
    if context.source_ip:
        keys["aws:sourceip"] = context.source_ip
    return keys


@attrs.frozen
class Authorizer:
    """
    The check S3's provider runs before each operation, over its ``store``;
    ``callers`` names the principals of keys IAM and STS issued, and
    ``copy_source`` parses ``x-amz-copy-source`` as the provider does.
    """

    store: Store
    copy_source: Callable[[str], tuple[str, str, str | None]]
    callers: CallerLookup = no_callers
    accounts: set[str] = attrs.field(factory=set)
    """The accounts that made requests since the daemon started."""

    def known_ids(self) -> set[str]:
        """The canonical user ids of the accounts awsemu has met: callers and bucket owners."""
        owners = {bucket.owner for bucket in self.store.buckets.values()}
        return {configs.canonical_user_id(account) for account in self.accounts | owners}

    def authorize(self, context: RequestContext, operation: str, params: Params) -> None:
        """
        Refuse the request with ``AccessDenied`` unless its caller may make
        it, and grants to grantees S3 cannot resolve (see
        ``configs.check_grantees``). A bucket that does not exist is left to
        the operation, which answers ``NoSuchBucket`` to anyone, as S3 does.
        """
        self.accounts.add(context.account_id)
        if operation in configs.granting_operations() and configs.sets_acl(params):
            configs.check_grantees(params, self.known_ids)
        bucket = self.store.buckets.get(params.get("Bucket") or "")
        if bucket is None:
            if context.account_id == ANONYMOUS_ACCOUNT and (
                operation == "CreateBucket" or "Bucket" not in params
            ):
                # Anonymous users own nothing and can list or create nothing.
                raise errors.access_denied()
            return
        if operation not in PERMISSIONS:
            if bucket.owner != context.account_id:
                raise errors.access_denied()
            return
        permission = PERMISSIONS[operation]
        if permission is None or permission.per_key:
            return
        if (
            bucket.owner == context.account_id
            and bucket.config.get("policy") is None
            and not permission.copies
        ):
            # The common case, decided without a lookup: only a bucket
            # policy's explicit Deny refuses the owner's account.
            return
        caller = caller_of(context, self.callers)
        keys = request_keys(context, params)
        if not permission.on_object:
            if not allowed(bucket, caller, permission.action, keys=keys):
                raise errors.access_denied()
        else:
            self._object(caller, permission, bucket, params["Key"], params.get("VersionId"), keys)
        if permission.copies:
            self._copy_source(caller, params["CopySource"], keys)
        if permission.owner_only and caller.account != bucket.owner:
            raise errors.method_not_allowed()

    def authorize_key(
        self,
        context: RequestContext,
        operation: str,
        bucket: Bucket,
        key: str,
        version_id: str | None,
    ) -> None:
        """The check of one key of a ``per_key`` operation (each key of DeleteObjects)."""
        permission = PERMISSIONS[operation]
        assert permission is not None
        caller = caller_of(context, self.callers)
        keys = request_keys(context, {})
        self._object(caller, permission, bucket, key, version_id, keys)

    @staticmethod
    def _object(
        caller: Caller,
        permission: Permission,
        bucket: Bucket,
        key: str,
        version_id: str | None,
        keys: Mapping[str, str],
    ) -> None:
        version = bucket.live(key) if version_id is None else bucket.version(key, version_id)
        action = permission.action
        if version_id is not None and permission.version_action is not None:
            action = permission.version_action
        if not allowed(bucket, caller, action, key, version, keys):
            raise errors.access_denied()
        if (
            permission.hides_missing
            and version is None
            and not allowed(bucket, caller, "s3:ListBucket", keys=keys)
        ):
            raise errors.access_denied()

    def _copy_source(self, caller: Caller, copy_source: str, keys: Mapping[str, str]) -> None:
        """A copy's source must be readable (a missing bucket is left to the operation)."""
        name, key, version_id = self.copy_source(copy_source)
        bucket = self.store.buckets.get(name)
        if bucket is not None:
            self._object(caller, _COPY_SOURCE, bucket, key, version_id, keys)


_COPY_SOURCE: Final = _object("s3:GetObject", "s3:GetObjectVersion")
"""What a copy needs of its source."""
