"""Unit tests of S3's access checks: bucket policy matching, ACL grants, the operation table."""

from __future__ import annotations

import json
from typing import Any

import attrs
from botocore import xform_name
from botocore.session import get_session
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.gateway.context import ANONYMOUS_ACCOUNT, RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import access, configs
from awsemu.s3.common import parse_copy_source
from awsemu.s3.policies import Caller, Decision, evaluate, parse_policy
from awsemu.s3.provider import S3Provider
from awsemu.s3.store import Bucket, MemoryBlobs, ObjectVersion, Store

OWNER = "111111111111"
OTHER = "222222222222"
ALICE = f"arn:aws:iam::{OTHER}:user/alice"
SESSION = f"arn:aws:sts::{OTHER}:assumed-role/Deployer/ci"
OBJECT = "arn:aws:s3:::b/reports/q1.csv"


def root(account: str) -> Caller:
    return Caller(account, f"arn:aws:iam::{account}:root")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(**elements: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", **elements}


def deny(**elements: Any) -> dict[str, Any]:
    return {**allow(**elements), "Effect": "Deny"}


def decide(
    statement: dict[str, Any],
    caller: Caller | None = None,
    action: str = "s3:GetObject",
    resource: str = OBJECT,
    keys: dict[str, str] | None = None,
) -> Decision | None:
    return evaluate(parse_policy(policy(statement)), caller or root(OTHER), action, resource, keys)


class PolicyParsingTests(SynchronousTestCase):
    def test_no_policy(self) -> None:
        """A bucket without a policy has no statements."""
        self.assertEqual(parse_policy(None), ())

    def test_single_statement(self) -> None:
        """``Statement`` may be one object rather than a list."""
        text = json.dumps({"Statement": allow()})
        self.assertEqual(len(parse_policy(text)), 1)

    def test_malformed_statements_left_out(self) -> None:
        """Statements without a valid Effect are ignored; the others still count."""
        text = json.dumps({"Statement": [{"Effect": "Maybe"}, "nonsense", allow()]})
        self.assertEqual([s.effect for s in parse_policy(text)], [Decision.ALLOW])

    def test_missing_resource_matches_nothing(self) -> None:
        """A statement without Resource (or NotResource) never applies."""
        statement = allow()
        del statement["Resource"]
        self.assertIsNone(decide(statement))


class PrincipalTests(SynchronousTestCase):
    def assertNames(self, principal: Any, caller: Caller, named: bool = True) -> None:
        decision = decide(allow(Principal=principal), caller)
        self.assertEqual(decision, Decision.ALLOW if named else None, principal)

    def test_everyone(self) -> None:
        """``*`` and ``{"AWS": "*"}`` name any caller, signed or not."""
        anonymous = Caller("000000000000", "arn:aws:iam::000000000000:root", authenticated=False)
        for principal in ("*", {"AWS": "*"}):
            self.assertNames(principal, root(OTHER))
            self.assertNames(principal, anonymous)

    def test_account(self) -> None:
        """An account id or its ``:root`` ARN names every principal of that account."""
        for principal in (OTHER, f"arn:aws:iam::{OTHER}:root"):
            self.assertNames({"AWS": principal}, root(OTHER))
            self.assertNames({"AWS": [OWNER, principal]}, Caller(OTHER, ALICE))
            self.assertNames({"AWS": principal}, root(OWNER), named=False)

    def test_user(self) -> None:
        """A user ARN names that user only."""
        self.assertNames({"AWS": ALICE}, Caller(OTHER, ALICE))
        self.assertNames({"AWS": ALICE}, Caller(OTHER, f"arn:aws:iam::{OTHER}:user/bob"), False)
        self.assertNames({"AWS": ALICE}, root(OTHER), named=False)

    def test_role(self) -> None:
        """A role ARN (with or without a path) names its sessions; a session ARN names itself."""
        session = Caller(OTHER, SESSION)
        self.assertNames({"AWS": f"arn:aws:iam::{OTHER}:role/Deployer"}, session)
        self.assertNames({"AWS": f"arn:aws:iam::{OTHER}:role/ci/Deployer"}, session)
        self.assertNames({"AWS": SESSION}, session)
        self.assertNames({"AWS": f"arn:aws:iam::{OTHER}:role/Other"}, session, named=False)
        self.assertNames({"AWS": f"arn:aws:iam::{OWNER}:role/Deployer"}, session, named=False)

    def test_canonical_user(self) -> None:
        """A canonical user id names its account."""
        principal = {"CanonicalUser": configs.canonical_user_id(OTHER)}
        self.assertNames(principal, root(OTHER))
        self.assertNames(principal, root(OWNER), named=False)

    def test_services_name_no_caller(self) -> None:
        """No awsemu caller is a service principal."""
        self.assertNames({"Service": "lambda.amazonaws.com"}, root(OTHER), named=False)

    def test_not_principal(self) -> None:
        """NotPrincipal applies to everyone but the principals it names."""
        statement = deny(NotPrincipal={"AWS": OWNER})
        del statement["Principal"]
        self.assertEqual(decide(statement, root(OTHER)), Decision.DENY)
        self.assertIsNone(decide(statement, root(OWNER)))


class ActionAndResourceTests(SynchronousTestCase):
    def test_action_wildcards(self) -> None:
        """``*`` and ``?`` match runs and single characters; actions ignore case."""
        for action in ("s3:Get*", "s3:get?bject", "S3:GETOBJECT", ["s3:PutObject", "s3:*"]):
            self.assertEqual(decide(allow(Action=action)), Decision.ALLOW, action)
        for action in ("s3:Put*", "s3:GetObjectAcl", "s3:List?"):
            self.assertIsNone(decide(allow(Action=action)), action)

    def test_not_action(self) -> None:
        """NotAction applies to every action but those it names."""
        statement = allow(NotAction="s3:Delete*")
        del statement["Action"]
        self.assertEqual(decide(statement), Decision.ALLOW)
        self.assertIsNone(decide(statement, action="s3:DeleteObject"))

    def test_resource_wildcards(self) -> None:
        """Resources match case-sensitively; a key wildcard does not cover the bucket itself."""
        statement = allow(Resource="arn:aws:s3:::b/reports/*")
        self.assertEqual(decide(statement), Decision.ALLOW)
        self.assertIsNone(decide(statement, resource="arn:aws:s3:::b/other/x"))
        self.assertIsNone(decide(statement, resource="arn:aws:s3:::b/Reports/q1.csv"))
        self.assertIsNone(decide(statement, action="s3:ListBucket", resource="arn:aws:s3:::b"))

    def test_not_resource(self) -> None:
        statement = deny(NotResource=["arn:aws:s3:::b/public/*"])
        del statement["Resource"]
        self.assertEqual(decide(statement), Decision.DENY)
        self.assertIsNone(decide(statement, resource="arn:aws:s3:::b/public/x"))

    def test_deny_wins(self) -> None:
        """An explicit Deny beats any Allow, whatever their order."""
        text = policy(allow(), deny(Resource="arn:aws:s3:::b/reports/*"), allow())
        self.assertEqual(
            evaluate(parse_policy(text), root(OTHER), "s3:GetObject", OBJECT), Decision.DENY
        )


class ConditionTests(SynchronousTestCase):
    def test_principal_account(self) -> None:
        statement = allow(Condition={"StringEquals": {"aws:PrincipalAccount": OTHER}})
        self.assertEqual(decide(statement, root(OTHER)), Decision.ALLOW)
        self.assertIsNone(decide(statement, root("333333333333")))

    def test_principal_arn_like(self) -> None:
        statement = allow(Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER}:*"}})
        self.assertEqual(decide(statement, Caller(OTHER, ALICE)), Decision.ALLOW)

    def test_listing_keys(self) -> None:
        """``s3:prefix`` is the listing's Prefix; every listed value may match."""
        statement = allow(Condition={"StringLike": {"s3:prefix": ["home/*", "public/"]}})
        for prefix, decision in (("home/al", Decision.ALLOW), ("etc/", None)):
            self.assertEqual(decide(statement, keys={"s3:prefix": prefix}), decision)

    def test_missing_keys(self) -> None:
        """
        A key the request lacks fails a positive test, passes a negated one
        and an IfExists one; Null tests for its absence.
        """
        cases = (
            ({"StringEquals": {"s3:prefix": "a/"}}, None),
            ({"StringNotEquals": {"s3:prefix": "a/"}}, Decision.ALLOW),
            ({"StringEqualsIfExists": {"s3:prefix": "a/"}}, Decision.ALLOW),
            ({"Null": {"s3:prefix": "true"}}, Decision.ALLOW),
            ({"Null": {"s3:prefix": "false"}}, None),
            ({"StringEquals": {"aws:SourceAccount": OWNER}}, None),
        )
        for condition, decision in cases:
            self.assertEqual(decide(allow(Condition=condition)), decision, condition)

    def test_all_conditions_must_hold(self) -> None:
        condition = {
            "StringEquals": {"aws:PrincipalAccount": OTHER},
            "StringLike": {"s3:prefix": "home/*"},
        }
        self.assertEqual(
            decide(allow(Condition=condition), keys={"s3:prefix": "home/x"}), Decision.ALLOW
        )
        self.assertIsNone(decide(allow(Condition=condition), keys={"s3:prefix": "etc"}))

    def test_unsupported_conditions_never_apply(self) -> None:
        """
        A condition awsemu cannot evaluate (unknown key or operator, policy
        variables) makes its statement grant nothing and deny nothing.
        """
        for condition in (
            {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            {"StringLike": {"s3:prefix": "home/${aws:userid}/*"}},
            {"ForAnyValue:StringEquals": {"aws:PrincipalAccount": OTHER}},
        ):
            self.assertIsNone(decide(allow(Condition=condition)), condition)
            self.assertIsNone(decide(deny(Condition=condition)), condition)


class RequestKeyTests(SynchronousTestCase):
    """The condition keys a request gives, and the operators that test them."""

    def test_max_keys_numeric(self) -> None:
        statement = allow(Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}})
        for max_keys, decision in (("10", Decision.ALLOW), ("5", Decision.ALLOW), ("11", None)):
            self.assertEqual(decide(statement, keys={"s3:max-keys": max_keys}), decision)
        self.assertIsNone(decide(statement))
        for operator, wanted, decision in (
            ("NumericEquals", "10", Decision.ALLOW),
            ("NumericNotEquals", "10", None),
            ("NumericLessThan", "10", None),
            ("NumericGreaterThan", "9", Decision.ALLOW),
            ("NumericGreaterThanEquals", "11", None),
            ("NumericEquals", "ten", None),
        ):
            condition = {operator: {"s3:max-keys": wanted}}
            self.assertEqual(
                decide(allow(Condition=condition), keys={"s3:max-keys": "10"}), decision, condition
            )

    def test_source_ip(self) -> None:
        inside = allow(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.7"]}})
        outside = allow(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
        for address, decision in (
            ("10.1.2.3", Decision.ALLOW),
            ("192.0.2.7", Decision.ALLOW),
            ("192.0.2.8", None),
            ("::1", None),
        ):
            self.assertEqual(decide(inside, keys={"aws:sourceip": address}), decision, address)
        self.assertIsNone(decide(outside, keys={"aws:sourceip": "10.9.9.9"}))
        self.assertEqual(decide(outside, keys={"aws:sourceip": "127.0.0.1"}), Decision.ALLOW)
        v6 = allow(Condition={"IpAddress": {"aws:SourceIp": "2001:db8::/32"}})
        self.assertEqual(decide(v6, keys={"aws:sourceip": "2001:db8::5"}), Decision.ALLOW)

    def test_username(self) -> None:
        """``aws:username`` is an IAM user's name; a root user or a session has none."""
        statement = allow(Condition={"StringEquals": {"aws:username": "alice"}})
        self.assertEqual(decide(statement, Caller(OTHER, ALICE)), Decision.ALLOW)
        self.assertIsNone(decide(statement, root(OTHER)))
        self.assertIsNone(decide(statement, Caller(OTHER, SESSION)))
        absent = allow(Condition={"Null": {"aws:username": "true"}})
        self.assertEqual(decide(absent, root(OTHER)), Decision.ALLOW)

    def test_request_keys(self) -> None:
        """ACL, grant and listing parameters give their keys; SecureTransport is true."""
        context = RequestContext("r", OTHER, "us-east-1", "s3", None, 0.0, source_ip="10.0.0.9")
        params = {"ACL": "bucket-owner-full-control", "GrantRead": "id=abc", "MaxKeys": 5}
        self.assertEqual(
            access.request_keys(context, params),
            {
                "s3:x-amz-acl": "bucket-owner-full-control",
                "s3:x-amz-grant-read": "id=abc",
                "s3:max-keys": "5",
                "aws:securetransport": "true",
                "aws:sourceip": "10.0.0.9",
            },
        )
        tls_only = deny(Condition={"Bool": {"aws:SecureTransport": "false"}})
        keys = access.request_keys(context, {})
        self.assertIsNone(decide(tls_only, keys=keys))
        secure = allow(Condition={"Bool": {"aws:SecureTransport": "true"}})
        self.assertEqual(decide(secure, keys=keys), Decision.ALLOW)


class PolicyVariableTests(SynchronousTestCase):
    """``${key}`` in resources and condition values (policies of version 2012-10-17)."""

    def test_resource(self) -> None:
        statement = allow(Resource="arn:aws:s3:::b/home/${aws:username}/*")
        alice = Caller(OTHER, ALICE)
        mine, theirs = "arn:aws:s3:::b/home/alice/notes", "arn:aws:s3:::b/home/bob/notes"
        self.assertEqual(decide(statement, alice, resource=mine), Decision.ALLOW)
        self.assertIsNone(decide(statement, alice, resource=theirs))
        # A root user has no user name: the resource matches nothing.
        self.assertIsNone(decide(statement, root(OTHER), resource="arn:aws:s3:::b/home//notes"))
        guest = allow(Resource="arn:aws:s3:::b/home/${aws:username, 'guest'}/*")
        self.assertEqual(
            decide(guest, root(OTHER), resource="arn:aws:s3:::b/home/guest/x"), Decision.ALLOW
        )

    def test_condition_value(self) -> None:
        statement = allow(Condition={"StringLike": {"s3:prefix": "home/${aws:username}/*"}})
        alice = Caller(OTHER, ALICE)
        self.assertEqual(
            decide(statement, alice, keys={"s3:prefix": "home/alice/x"}), Decision.ALLOW
        )
        self.assertIsNone(decide(statement, alice, keys={"s3:prefix": "home/bob/x"}))
        special = allow(Condition={"StringEquals": {"s3:prefix": "a${$}b${*}"}})
        self.assertEqual(decide(special, alice, keys={"s3:prefix": "a$b*"}), Decision.ALLOW)

    def test_old_version_is_literal(self) -> None:
        document = {
            "Version": "2008-10-17",
            "Statement": [allow(Resource="arn:aws:s3:::b/home/${aws:username}/*")],
        }
        statements = parse_policy(json.dumps(document))
        alice = Caller(OTHER, ALICE)
        literal = "arn:aws:s3:::b/home/${aws:username}/x"
        self.assertEqual(evaluate(statements, alice, "s3:GetObject", literal), Decision.ALLOW)
        self.assertIsNone(
            evaluate(statements, alice, "s3:GetObject", "arn:aws:s3:::b/home/alice/x")
        )


class PrincipalValidationTests(SynchronousTestCase):
    """PutBucketPolicy refuses principals S3 cannot resolve."""

    def put(self, principal: Any) -> None:
        document = policy(allow(Principal=principal, Resource="arn:aws:s3:::b/*"))
        configs.validate(configs.POLICY, document, {}, "b")

    def test_valid(self) -> None:
        for principal in (
            "*",
            {"AWS": "*"},
            {"AWS": [OTHER, f"arn:aws:iam::{OTHER}:root", ALICE, SESSION]},
            {"AWS": f"arn:aws:iam::{OTHER}:role/path/Deployer"},
            {"CanonicalUser": configs.canonical_user_id(OTHER)},
            {"Service": "cloudfront.amazonaws.com"},
            {"Federated": "cognito-identity.amazonaws.com"},
        ):
            self.put(principal)

    def test_invalid(self) -> None:
        principals: tuple[Any, ...] = (
            {"AWS": "alice"},
            {"AWS": "AIDAXYZABCDEF12345678"},
            {"AWS": "arn:aws:iam::123:root"},
            {"AWS": [OTHER, "nobody"]},
            {"AWS": []},
            {"CanonicalUser": "not-hex"},
            {"Group": "everyone"},
            {},
            "everyone",
        )
        for principal in principals:
            with self.assertRaises(ServiceError) as raised:
                self.put(principal)
            self.assertEqual(
                (raised.exception.code, raised.exception.message),
                ("MalformedPolicy", "Invalid principal in policy"),
                principal,
            )


def bucket(text: str | None = None, acl: dict[str, Any] | None = None) -> Bucket:
    config: dict[str, Any] = {}
    if text is not None:
        config["policy"] = text
    if acl is not None:
        config["acl"] = acl
    return Bucket("b", OWNER, "us-east-1", 0.0, config=config)


def version(owner: str = OWNER, acl: dict[str, Any] | None = None) -> ObjectVersion:
    return ObjectVersion("reports/q1.csv", "null", 0.0, owner, acl=acl)


class AllowedTests(SynchronousTestCase):
    def test_owner_and_others(self) -> None:
        """Without a policy or ACL grants, the owner's account may do anything, no one else."""
        for action in ("s3:GetObject", "s3:DeleteBucket", "s3:PutBucketPolicy"):
            self.assertTrue(access.allowed(bucket(), root(OWNER), action))
            self.assertTrue(access.allowed(bucket(), Caller(OWNER, "arn:x:user/u"), action))
            self.assertFalse(access.allowed(bucket(), root(OTHER), action))

    def test_policy_allows_other_account(self) -> None:
        granted = bucket(policy(allow(Principal={"AWS": OTHER}, Action="s3:GetObject")))
        self.assertTrue(access.allowed(granted, root(OTHER), "s3:GetObject", "reports/q1.csv"))
        self.assertFalse(access.allowed(granted, root(OTHER), "s3:PutObject", "reports/q1.csv"))

    def test_deny_applies_to_owner(self) -> None:
        """An explicit Deny binds the owner's account too."""
        denied = bucket(policy(deny(Action="s3:DeleteObject")))
        self.assertFalse(access.allowed(denied, root(OWNER), "s3:DeleteObject", "k"))
        self.assertTrue(access.allowed(denied, root(OWNER), "s3:GetObject", "k"))

    def test_root_cannot_lock_itself_out(self) -> None:
        """
        The owner's root user may always get, put and delete the policy; its
        other principals, other actions and other accounts stay denied.
        """
        locked = bucket(policy(deny()))
        for action in ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"):
            self.assertTrue(access.allowed(locked, root(OWNER), action))
            self.assertFalse(access.allowed(locked, Caller(OWNER, "arn:x:user/u"), action))
            self.assertFalse(access.allowed(locked, root(OTHER), action))
        self.assertFalse(access.allowed(locked, root(OWNER), "s3:GetObject", "k"))

    def test_public_object_acl(self) -> None:
        """A public-read object may be read by anyone, not written; its bucket stays private."""
        public = version(acl=configs.acl_from_params({"ACL": "public-read"}, OWNER))
        anonymous = attrs.evolve(root(OTHER), authenticated=False)
        for caller in (root(OTHER), anonymous):
            self.assertTrue(access.allowed(bucket(), caller, "s3:GetObject", "k", public))
            self.assertTrue(access.allowed(bucket(), caller, "s3:GetObjectVersion", "k", public))
            self.assertFalse(access.allowed(bucket(), caller, "s3:PutObject", "k", public))
            self.assertFalse(access.allowed(bucket(), caller, "s3:GetObjectAcl", "k", public))
            self.assertFalse(access.allowed(bucket(), caller, "s3:ListBucket"))

    def test_authenticated_read(self) -> None:
        """authenticated-read grants signed callers only."""
        acl = configs.acl_from_params({"ACL": "authenticated-read"}, OWNER)
        anonymous = attrs.evolve(root(OTHER), authenticated=False)
        self.assertTrue(access.allowed(bucket(acl=acl), root(OTHER), "s3:ListBucket"))
        self.assertFalse(access.allowed(bucket(acl=acl), anonymous, "s3:ListBucket"))

    def test_public_read_write_bucket(self) -> None:
        """A bucket's WRITE lets others write and delete objects; its READ lets them list."""
        writable = bucket(acl=configs.acl_from_params({"ACL": "public-read-write"}, OWNER))
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:ListBucket"):
            self.assertTrue(access.allowed(writable, root(OTHER), action, "k"), action)
        self.assertFalse(access.allowed(writable, root(OTHER), "s3:GetObject", "k", version()))
        self.assertFalse(access.allowed(writable, root(OTHER), "s3:PutBucketAcl"))

    def test_grant_to_account(self) -> None:
        """A grant to an account's canonical id; FULL_CONTROL is every permission."""
        grant = f'id="{configs.canonical_user_id(OTHER)}"'
        read = version(acl=configs.acl_from_params({"GrantRead": grant}, OWNER))
        full = version(acl=configs.acl_from_params({"GrantFullControl": grant}, OWNER))
        self.assertTrue(access.allowed(bucket(), root(OTHER), "s3:GetObject", "k", read))
        self.assertFalse(access.allowed(bucket(), root(OTHER), "s3:PutObjectAcl", "k", read))
        self.assertTrue(access.allowed(bucket(), root(OTHER), "s3:PutObjectAcl", "k", full))
        self.assertFalse(access.allowed(bucket(), root("333333333333"), "s3:GetObject", "k", full))

    def test_deny_beats_acl(self) -> None:
        public = version(acl=configs.acl_from_params({"ACL": "public-read"}, OWNER))
        denied = bucket(policy(deny(Principal={"AWS": OTHER})))
        self.assertFalse(access.allowed(denied, root(OTHER), "s3:GetObject", "k", public))


@attrs.frozen
class Identity:
    arn: str


def context(access_key_id: str | None, account: str = OTHER) -> RequestContext:
    return RequestContext("r", account, "us-east-1", "s3", access_key_id, 0.0)


class AuthorizerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.store = Store(MemoryBlobs())
        self.bucket = bucket()
        self.store.add_bucket(self.bucket)
        self.store.put_version(self.bucket, version())
        self.authorizer = access.Authorizer(
            self.store, parse_copy_source, {"AKIAALICE": Identity(ALICE)}.get
        )

    def denied(self, operation: str, params: dict[str, Any], caller: str = OTHER) -> str:
        """The error code ``operation`` gets from ``caller``'s account."""
        with self.assertRaises(ServiceError) as raised:
            self.authorizer.authorize(context(caller), operation, params)
        code: str = raised.exception.code
        return code

    def test_table_covers_provider(self) -> None:
        """Every operation the provider implements has its permission in the table."""
        provider = S3Provider(self.store, Clock())
        model = get_session().get_service_model("s3")
        implemented = {
            name
            for name in model.operation_names
            if getattr(provider, xform_name(name), None) is not None
        }
        self.assertEqual(implemented - set(access.PERMISSIONS), set())

    def test_caller_of(self) -> None:
        """IAM's directory names the principal; other keys are their account's root user."""
        self.assertEqual(access.caller_of(context("AKIAALICE"), self.authorizer.callers).arn, ALICE)
        self.assertEqual(access.caller_of(context(OTHER), self.authorizer.callers), root(OTHER))
        self.assertFalse(access.caller_of(context(None), self.authorizer.callers).authenticated)

    def test_missing_bucket_left_to_operation(self) -> None:
        """NoSuchBucket is S3's answer to anyone: the check lets the operation give it."""
        self.authorizer.authorize(context(OTHER), "GetObject", {"Bucket": "nope", "Key": "k"})

    def test_anonymous(self) -> None:
        """
        Anonymous callers (``--auth enforce``) list and create nothing, get
        only what everyone is granted, and still learn of missing buckets.
        """
        anonymous = context(None, ANONYMOUS_ACCOUNT)
        params = {"Bucket": "b", "Key": "reports/q1.csv"}
        for operation, refused in (
            ("ListBuckets", {}),
            ("CreateBucket", {"Bucket": "new"}),
            ("GetObject", params),
        ):
            with self.assertRaises(ServiceError) as raised:
                self.authorizer.authorize(anonymous, operation, refused)
            self.assertEqual(raised.exception.code, "AccessDenied")
        self.authorizer.authorize(anonymous, "GetObject", {"Bucket": "nope", "Key": "k"})
        self.bucket.config["policy"] = policy(allow(Action="s3:GetObject", Principal="*"))
        self.authorizer.authorize(anonymous, "GetObject", params)

    def test_unknown_operation_owner_only(self) -> None:
        self.authorizer.authorize(context(OWNER, OWNER), "GetBucketAnalytics", {"Bucket": "b"})
        self.assertEqual(self.denied("GetBucketAnalytics", {"Bucket": "b"}), "AccessDenied")

    def test_version_actions(self) -> None:
        """Naming a VersionId needs the ``*Version`` action."""
        self.bucket.config["policy"] = policy(allow(Action="s3:GetObject"))
        params = {"Bucket": "b", "Key": "reports/q1.csv"}
        self.authorizer.authorize(context(OTHER), "GetObject", params)
        versioned = {**params, "VersionId": "null"}
        self.assertEqual(self.denied("GetObject", versioned), "AccessDenied")

    def test_missing_key_needs_list(self) -> None:
        """A missing key is AccessDenied to a caller that may not list the bucket."""
        self.bucket.config["policy"] = policy(allow(Action="s3:GetObject"))
        missing = {"Bucket": "b", "Key": "gone"}
        self.assertEqual(self.denied("HeadObject", missing), "AccessDenied")
        self.bucket.config["policy"] = policy(allow(Action=["s3:GetObject", "s3:ListBucket"]))
        self.authorizer.authorize(context(OTHER), "HeadObject", missing)

    def test_listing_conditions(self) -> None:
        self.bucket.config["policy"] = policy(
            allow(Action="s3:ListBucket", Condition={"StringLike": {"s3:prefix": "reports/*"}})
        )
        self.authorizer.authorize(
            context(OTHER), "ListObjectsV2", {"Bucket": "b", "Prefix": "reports/"}
        )
        self.assertEqual(self.denied("ListObjectsV2", {"Bucket": "b"}), "AccessDenied")

    def test_copy_needs_source(self) -> None:
        """A copy needs PutObject on its target and GetObject on its source."""
        target = bucket()
        target.name = "t"
        target.owner = OTHER
        self.store.add_bucket(target)
        params = {"Bucket": "t", "Key": "copy", "CopySource": "b/reports/q1.csv"}
        self.assertEqual(self.denied("CopyObject", params), "AccessDenied")
        self.bucket.config["policy"] = policy(allow(Action="s3:GetObject"))
        self.authorizer.authorize(context(OTHER), "CopyObject", params)
        self.assertEqual(self.denied("UploadPartCopy", {**params, "Bucket": "b"}), "AccessDenied")

    def test_policy_operations_owner_only(self) -> None:
        """Another account allowed a bucket policy operation gets MethodNotAllowed."""
        self.assertEqual(self.denied("GetBucketPolicy", {"Bucket": "b"}), "AccessDenied")
        self.bucket.config["policy"] = policy(allow())
        self.assertEqual(self.denied("GetBucketPolicy", {"Bucket": "b"}), "MethodNotAllowed")

    def test_per_key(self) -> None:
        """DeleteObjects is checked key by key, by ``authorize_key``."""
        self.bucket.config["policy"] = policy(allow(Action="s3:DeleteObject"))
        self.authorizer.authorize(context(OTHER), "DeleteObjects", {"Bucket": "b"})
        self.authorizer.authorize_key(context(OTHER), "DeleteObjects", self.bucket, "k", None)
        with self.assertRaises(ServiceError):
            self.authorizer.authorize_key(context(OTHER), "DeleteObjects", self.bucket, "k", "null")
