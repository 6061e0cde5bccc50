"""IAM and STS: the providers over a memory store, then the real daemon with boto3."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config
from awsemu.daemon import account_lookup
from awsemu.gateway.context import RequestContext
from awsemu.iam import directory
from awsemu.iam.provider import IamProvider
from awsemu.iam.store import IamStore, SessionRecord
from awsemu.shared import SharedObjects
from awsemu.state.jsonfile import JsonFile
from awsemu.sts.provider import StsProvider
from tests.daemon import Daemon
from tests.lambda_support import LAMBDA_TRUST as TRUST
from tests.provider_support import ProviderTestCase

ACCOUNT = "111111111111"
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SESSION: SessionRecord = {
    "Account": ACCOUNT,
    "RoleName": "r",
    "RoleId": "AROAEXAMPLE",
    "SessionName": "s",
    "SecretAccessKey": "secret",
    "SessionToken": "token",
    "Expiration": 0.0,
}


def seeded_random() -> Callable[[int], bytes]:
    """A predictable random source, so a failing test fails the same way again."""
    return random.Random(0).randbytes


def context(access_key_id: str | None = None, account: str = ACCOUNT) -> RequestContext:
    return RequestContext("req", account, "us-east-1", "iam", access_key_id, 1000.0)


class ProviderCase(ProviderTestCase):
    """IAM and STS over one memory store."""

    def setUp(self) -> None:
        self.store = IamStore()
        self.random = seeded_random()
        self.iam = IamProvider(self.store, self.random)
        self.sts = StsProvider(self.store, self.random)


class RoleTests(ProviderCase):
    def test_lifecycle(self) -> None:
        """A role is created with an AROA id and its trust policy, found by any case, deleted."""
        role = self.call(
            self.iam.create_role(context(), {"RoleName": "Fn", "AssumeRolePolicyDocument": TRUST})
        )["Role"]
        self.assertRegex(role["RoleId"], "^AROA[A-Z2-7]{17}$")
        self.assertEqual(role["Arn"], f"arn:aws:iam::{ACCOUNT}:role/Fn")
        self.assertEqual(unquote(role["AssumeRolePolicyDocument"]), TRUST)
        self.assertNotIn("{", role["AssumeRolePolicyDocument"])
        self.assertEqual(self.call(self.iam.get_role(context(), {"RoleName": "fn"}))["Role"], role)
        self.assertError(
            self.iam.create_role(context(), {"RoleName": "FN", "AssumeRolePolicyDocument": TRUST}),
            "EntityAlreadyExists",
            "Role with name FN already exists.",
        )
        self.assertEqual(
            [r["RoleName"] for r in self.call(self.iam.list_roles(context(), {}))["Roles"]], ["Fn"]
        )
        self.call(self.iam.delete_role(context(), {"RoleName": "Fn"}))
        error = self.error(self.iam.get_role(context(), {"RoleName": "Fn"}))
        self.assertEqual(
            (error.code, error.message, error.status),
            ("NoSuchEntity", "The role with name Fn cannot be found.", 404),
        )

    def test_path(self) -> None:
        """A path puts the role under it in its ARN, and must sit between slashes."""
        role = self.call(
            self.iam.create_role(
                context(),
                {"RoleName": "r", "Path": "/service/", "AssumeRolePolicyDocument": TRUST},
            )
        )["Role"]
        self.assertEqual(role["Arn"], f"arn:aws:iam::{ACCOUNT}:role/service/r")
        self.assertEqual(
            self.error(self.iam.create_user(context(), {"UserName": "u", "Path": "service"})).code,
            "ValidationError",
        )

    def test_accounts_are_separate(self) -> None:
        """Each account has its own roles."""
        self.call(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
        )
        other = context(account="222222222222")
        self.assertEqual(self.call(self.iam.list_roles(other, {}))["Roles"], [])

    def test_malformed_documents(self) -> None:
        """Trust and inline policies must be JSON policies."""
        self.assertError(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": "{"}),
            "MalformedPolicyDocument",
            "This policy contains invalid Json",
        )
        self.assertError(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": "[]"}),
            "MalformedPolicyDocument",
            "Syntax errors in policy.",
        )

    def test_inline_policies(self) -> None:
        """Inline policies are put, read back URL-encoded, listed, and block deletion."""
        self.call(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
        )
        named = {"RoleName": "r", "PolicyName": "p"}
        self.call(self.iam.put_role_policy(context(), {**named, "PolicyDocument": TRUST}))
        got = self.call(self.iam.get_role_policy(context(), named))
        self.assertEqual(unquote(got["PolicyDocument"]), TRUST)
        self.assertEqual(
            self.call(self.iam.list_role_policies(context(), {"RoleName": "r"}))["PolicyNames"],
            ["p"],
        )
        self.assertError(
            self.iam.delete_role(context(), {"RoleName": "r"}),
            "DeleteConflict",
            "Cannot delete entity, must delete policies first.",
        )
        self.call(self.iam.delete_role_policy(context(), named))
        self.assertError(
            self.iam.get_role_policy(context(), named),
            "NoSuchEntity",
            "The role policy with name p cannot be found.",
        )

    def test_update_assume_role_policy(self) -> None:
        self.call(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
        )
        other = json.dumps({"Statement": [{"Effect": "Deny"}]})
        self.call(
            self.iam.update_assume_role_policy(
                context(), {"RoleName": "r", "PolicyDocument": other}
            )
        )
        role = self.call(self.iam.get_role(context(), {"RoleName": "r"}))["Role"]
        self.assertEqual(unquote(role["AssumeRolePolicyDocument"]), other)

    def test_update_and_tags(self) -> None:
        """UpdateRole, role tags, and the empty instance profiles Terraform asks for."""
        self.call(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
        )
        named = {"RoleName": "r"}
        self.call(self.iam.update_role(context(), {**named, "Description": "d"}))
        self.call(
            self.iam.tag_role(
                context(),
                {**named, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]},
            )
        )
        self.call(self.iam.untag_role(context(), {**named, "TagKeys": ["a"]}))
        role = self.call(self.iam.get_role(context(), named))["Role"]
        self.assertEqual((role["Description"], role["Tags"]), ("d", [{"Key": "b", "Value": "2"}]))
        self.assertEqual(
            self.call(self.iam.list_role_tags(context(), named))["Tags"],
            [{"Key": "b", "Value": "2"}],
        )
        profiles = self.call(self.iam.list_instance_profiles_for_role(context(), named))
        self.assertEqual(profiles["InstanceProfiles"], [])

    def test_pages(self) -> None:
        """Listings page with MaxItems and Marker."""
        for name in "abc":
            self.call(
                self.iam.create_role(
                    context(), {"RoleName": name, "AssumeRolePolicyDocument": TRUST}
                )
            )
        first = self.call(self.iam.list_roles(context(), {"MaxItems": 2}))
        self.assertEqual(
            ([r["RoleName"] for r in first["Roles"]], first["IsTruncated"]), (["a", "b"], True)
        )
        rest = self.call(self.iam.list_roles(context(), {"MaxItems": 2, "Marker": first["Marker"]}))
        self.assertEqual(
            ([r["RoleName"] for r in rest["Roles"]], rest["IsTruncated"]), (["c"], False)
        )


class ManagedPolicyTests(ProviderCase):
    def setUp(self) -> None:
        super().setUp()
        self.call(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
        )

    def test_aws_managed(self) -> None:
        """AWS's managed policies resolve with their real documents and attach."""
        policy = self.call(self.iam.get_policy(context(), {"PolicyArn": BASIC}))["Policy"]
        self.assertEqual(
            (policy["PolicyName"], policy["Path"]),
            ("AWSLambdaBasicExecutionRole", "/service-role/"),
        )
        version = self.call(
            self.iam.get_policy_version(context(), {"PolicyArn": BASIC, "VersionId": "v1"})
        )
        document = json.loads(unquote(version["PolicyVersion"]["Document"]))
        self.assertEqual(
            document["Statement"][0]["Action"],
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        )
        self.call(self.iam.attach_role_policy(context(), {"RoleName": "r", "PolicyArn": BASIC}))
        attached = self.call(self.iam.list_attached_role_policies(context(), {"RoleName": "r"}))
        self.assertEqual(
            attached["AttachedPolicies"],
            [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC}],
        )
        self.assertError(
            self.iam.delete_role(context(), {"RoleName": "r"}),
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
        )
        self.call(self.iam.detach_role_policy(context(), {"RoleName": "r", "PolicyArn": BASIC}))
        self.call(self.iam.delete_role(context(), {"RoleName": "r"}))

    def test_unknown_policy(self) -> None:
        arn = "arn:aws:iam::aws:policy/Nope"
        self.assertError(
            self.iam.attach_role_policy(context(), {"RoleName": "r", "PolicyArn": arn}),
            "NoSuchEntity",
            f"Policy {arn} does not exist or is not attachable.",
        )
        self.assertError(
            self.iam.get_policy(context(), {"PolicyArn": arn}),
            "NoSuchEntity",
            f"Policy {arn} was not found.",
        )

    def test_customer_managed(self) -> None:
        """A customer policy counts its attachments and cannot be deleted while attached."""
        created = self.call(
            self.iam.create_policy(context(), {"PolicyName": "mine", "PolicyDocument": TRUST})
        )["Policy"]
        arn = created["Arn"]
        self.assertEqual(arn, f"arn:aws:iam::{ACCOUNT}:policy/mine")
        self.assertRegex(created["PolicyId"], "^ANPA")
        self.assertError(
            self.iam.create_policy(context(), {"PolicyName": "mine", "PolicyDocument": TRUST}),
            "EntityAlreadyExists",
            "A policy called mine already exists. Duplicate names are not allowed.",
        )
        self.call(self.iam.attach_role_policy(context(), {"RoleName": "r", "PolicyArn": arn}))
        self.assertEqual(
            self.call(self.iam.get_policy(context(), {"PolicyArn": arn}))["Policy"][
                "AttachmentCount"
            ],
            1,
        )
        local = self.call(self.iam.list_policies(context(), {"Scope": "Local"}))["Policies"]
        self.assertEqual([p["Arn"] for p in local], [arn])
        self.assertError(
            self.iam.delete_policy(context(), {"PolicyArn": arn}),
            "DeleteConflict",
            "Cannot delete a policy attached to entities.",
        )
        self.call(self.iam.detach_role_policy(context(), {"RoleName": "r", "PolicyArn": arn}))
        self.call(self.iam.delete_policy(context(), {"PolicyArn": arn}))
        every = self.call(self.iam.list_policies(context(), {}))["Policies"]
        self.assertIn(BASIC, [p["Arn"] for p in every])
        self.assertNotIn(arn, [p["Arn"] for p in every])

    def test_versions(self) -> None:
        """New default versions, their listing, and the conflicts versions cause."""
        arn = self.call(
            self.iam.create_policy(context(), {"PolicyName": "mine", "PolicyDocument": TRUST})
        )["Policy"]["Arn"]
        other = json.dumps({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
        created = self.call(
            self.iam.create_policy_version(
                context(), {"PolicyArn": arn, "PolicyDocument": other, "SetAsDefault": True}
            )
        )["PolicyVersion"]
        self.assertEqual((created["VersionId"], created["IsDefaultVersion"]), ("v2", True))
        listed = self.call(self.iam.list_policy_versions(context(), {"PolicyArn": arn}))
        self.assertEqual(
            [(v["VersionId"], v["IsDefaultVersion"]) for v in listed["Versions"]],
            [("v2", True), ("v1", False)],
        )
        self.assertEqual(
            self.call(self.iam.get_policy(context(), {"PolicyArn": arn}))["Policy"][
                "DefaultVersionId"
            ],
            "v2",
        )
        by_version = {"PolicyArn": arn, "VersionId": "v2"}
        self.assertError(
            self.iam.delete_policy_version(context(), by_version),
            "DeleteConflict",
            "Cannot delete the default version of a policy.",
        )
        self.assertEqual(
            self.error(self.iam.delete_policy(context(), {"PolicyArn": arn})).code, "DeleteConflict"
        )
        self.call(self.iam.delete_policy_version(context(), {**by_version, "VersionId": "v1"}))
        self.call(self.iam.delete_policy(context(), {"PolicyArn": arn}))


class UserTests(ProviderCase):
    def test_policies(self) -> None:
        """Users hold inline and attached policies as roles do, and must drop them to go."""
        self.call(self.iam.create_user(context(), {"UserName": "dev"}))
        named = {"UserName": "dev", "PolicyName": "p"}
        self.call(self.iam.put_user_policy(context(), {**named, "PolicyDocument": TRUST}))
        got = self.call(self.iam.get_user_policy(context(), named))
        self.assertEqual((got["UserName"], unquote(got["PolicyDocument"])), ("dev", TRUST))
        self.call(self.iam.attach_user_policy(context(), {"UserName": "dev", "PolicyArn": BASIC}))
        attached = self.call(self.iam.list_attached_user_policies(context(), {"UserName": "dev"}))
        self.assertEqual([p["PolicyArn"] for p in attached["AttachedPolicies"]], [BASIC])
        self.assertError(
            self.iam.delete_user(context(), {"UserName": "dev"}),
            "DeleteConflict",
            "Cannot delete entity, must detach all policies first.",
        )
        self.call(self.iam.detach_user_policy(context(), {"UserName": "dev", "PolicyArn": BASIC}))
        self.call(self.iam.delete_user_policy(context(), named))
        self.assertError(
            self.iam.get_user_policy(context(), named),
            "NoSuchEntity",
            "The user policy with name p cannot be found.",
        )
        self.call(self.iam.delete_user(context(), {"UserName": "dev"}))

    def test_access_keys(self) -> None:
        """Keys are AKIA ids with 40-character secrets, select their account, block deletion."""
        user = self.call(self.iam.create_user(context(), {"UserName": "dev"}))["User"]
        self.assertRegex(user["UserId"], "^AIDA[A-Z2-7]{17}$")
        key = self.call(self.iam.create_access_key(context(), {"UserName": "dev"}))["AccessKey"]
        self.assertRegex(key["AccessKeyId"], "^AKIA[A-Z2-7]{16}$")
        self.assertEqual(len(key["SecretAccessKey"]), 40)
        self.assertEqual(self.store.account_for_key(key["AccessKeyId"]), ACCOUNT)
        listed = self.call(self.iam.list_access_keys(context(), {"UserName": "dev"}))
        self.assertEqual(listed["AccessKeyMetadata"][0]["AccessKeyId"], key["AccessKeyId"])
        self.assertNotIn("SecretAccessKey", listed["AccessKeyMetadata"][0])
        as_user = context(key["AccessKeyId"])
        self.assertEqual(self.call(self.iam.get_user(as_user, {}))["User"]["UserName"], "dev")
        self.assertError(
            self.iam.delete_user(context(), {"UserName": "dev"}),
            "DeleteConflict",
            "Cannot delete entity, must delete access keys first.",
        )
        self.call(self.iam.delete_access_key(as_user, {"AccessKeyId": key["AccessKeyId"]}))
        self.assertIsNone(self.store.account_for_key(key["AccessKeyId"]))
        self.call(self.iam.delete_user(context(), {"UserName": "dev"}))
        self.assertError(
            self.iam.get_user(context(), {"UserName": "dev"}),
            "NoSuchEntity",
            "The user with name dev cannot be found.",
        )

    def test_key_quota(self) -> None:
        self.call(self.iam.create_user(context(), {"UserName": "dev"}))
        for _ in range(2):
            self.call(self.iam.create_access_key(context(), {"UserName": "dev"}))
        self.assertError(
            self.iam.create_access_key(context(), {"UserName": "dev"}),
            "LimitExceeded",
            "Cannot exceed quota for AccessKeysPerUser: 2",
        )

    def test_root_user(self) -> None:
        """GetUser without a name, as the root, describes the root."""
        user = self.call(self.iam.get_user(context(), {}))["User"]
        self.assertEqual(user["Arn"], f"arn:aws:iam::{ACCOUNT}:root")


class StsTests(ProviderCase):
    def test_identities(self) -> None:
        """The root, a user's key, and an assumed role's session each report themselves."""
        root = self.call(self.sts.get_caller_identity(context("test"), {}))
        self.assertEqual(
            root, {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"}
        )
        user = self.call(self.iam.create_user(context(), {"UserName": "dev"}))["User"]
        key = self.call(self.iam.create_access_key(context(), {"UserName": "dev"}))["AccessKey"]
        identity = self.call(self.sts.get_caller_identity(context(key["AccessKeyId"]), {}))
        self.assertEqual(
            identity, {"UserId": user["UserId"], "Account": ACCOUNT, "Arn": user["Arn"]}
        )

        role = self.call(
            self.iam.create_role(
                context(), {"RoleName": "deployer", "AssumeRolePolicyDocument": TRUST}
            )
        )["Role"]
        assumed = self.call(
            self.sts.assume_role(context(), {"RoleArn": role["Arn"], "RoleSessionName": "ci"})
        )
        credentials = assumed["Credentials"]
        self.assertRegex(credentials["AccessKeyId"], "^ASIA[A-Z2-7]{16}$")
        self.assertEqual(credentials["Expiration"], 1000.0 + 3600)
        arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci"
        self.assertEqual(
            assumed["AssumedRoleUser"], {"AssumedRoleId": f"{role['RoleId']}:ci", "Arn": arn}
        )
        self.assertEqual(self.store.account_for_key(credentials["AccessKeyId"]), ACCOUNT)
        session = self.call(self.sts.get_caller_identity(context(credentials["AccessKeyId"]), {}))
        self.assertEqual(
            session, {"UserId": f"{role['RoleId']}:ci", "Account": ACCOUNT, "Arn": arn}
        )

    def test_assume_unknown_role(self) -> None:
        arn = f"arn:aws:iam::{ACCOUNT}:role/nope"
        self.assertError(
            self.sts.assume_role(context(), {"RoleArn": arn, "RoleSessionName": "s"}),
            "AccessDenied",
            f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: "
            f"sts:AssumeRole on resource: {arn}",
        )

    def test_duration_limits(self) -> None:
        role = self.call(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
        )["Role"]
        named = {"RoleArn": role["Arn"], "RoleSessionName": "s"}
        self.assertError(
            self.sts.assume_role(context(), {**named, "DurationSeconds": 7200}),
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )


class PersistenceTests(ProviderCase):
    def test_reopen(self) -> None:
        """Everything, key index included, survives reopening the file."""
        file = JsonFile(FilePath(self.mktemp()).child("iam").child("state.json"))
        self.store = IamStore.open(file)
        self.iam = IamProvider(self.store, self.random)
        self.call(
            self.iam.create_role(context(), {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
        )
        self.call(self.iam.create_user(context(), {"UserName": "dev"}))
        key = self.call(self.iam.create_access_key(context(), {"UserName": "dev"}))["AccessKey"]
        reopened = IamStore.open(file)
        self.assertEqual(reopened.accounts, self.store.accounts)
        self.assertEqual(reopened.account_for_key(key["AccessKeyId"]), ACCOUNT)


class AccountLookupTests(SynchronousTestCase):
    def test_daemon_wiring(self) -> None:
        """
        The daemon gives the gateway the IAM store's key lookup when IAM or
        STS is enabled, the same store their providers use.
        """
        reactor = object()
        shared = SharedObjects(Config(services=("sts",)), reactor)
        store = shared.obtain(directory)
        store.add_session("ASIAEXAMPLE", {**SESSION, "Account": "222222222222"})
        self.assertEqual(account_lookup(shared)("ASIAEXAMPLE"), "222222222222")
        other = SharedObjects(Config(services=("s3",)), reactor)
        self.assertIsNone(account_lookup(other)("ASIAEXAMPLE"))


class IamEndToEndTests(SynchronousTestCase):
    def test_deploy_script(self) -> None:
        """
        What a deploy script does, through boto3 and the real daemon: a
        Lambda role with a managed policy, a user whose key selects the
        account that created it, an assumed role; all of it survives a
        restart with ``--data-dir``.
        """
        data_dir = os.path.abspath(self.mktemp())
        daemon = Daemon(self, "--services", "iam,sts", "--data-dir", data_dir)
        iam: Any = daemon.client("iam", access_key_id=ACCOUNT)
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST)["Role"]
        self.assertEqual(role["AssumeRolePolicyDocument"], json.loads(TRUST))
        iam.attach_role_policy(RoleName="fn-role", PolicyArn=BASIC)
        with self.assertRaises(ClientError) as raised:
            iam.get_role(RoleName="missing")
        self.assertEqual(
            raised.exception.response["Error"],
            {
                "Type": "Sender",
                "Code": "NoSuchEntity",
                "Message": "The role with name missing cannot be found.",
            },
        )
        iam.create_user(UserName="ci")
        key = iam.create_access_key(UserName="ci")["AccessKey"]

        sts: Any = daemon.client(
            "sts", access_key_id=key["AccessKeyId"], secret=key["SecretAccessKey"]
        )
        self.assertEqual(sts.get_caller_identity()["Arn"], f"arn:aws:iam::{ACCOUNT}:user/ci")
        credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="deploy")["Credentials"]
        session: Any = daemon.client(
            "sts",
            access_key_id=credentials["AccessKeyId"],
            secret=credentials["SecretAccessKey"],
            token=credentials["SessionToken"],
        )
        self.assertEqual(
            session.get_caller_identity()["Arn"],
            f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/deploy",
        )
        daemon.stop()

        again = Daemon(self, "--services", "iam,sts", "--data-dir", data_dir)
        as_user: Any = again.client(
            "iam", access_key_id=key["AccessKeyId"], secret=key["SecretAccessKey"]
        )
        attached = as_user.list_attached_role_policies(RoleName="fn-role")["AttachedPolicies"]
        self.assertEqual([p["PolicyArn"] for p in attached], [BASIC])
        self.assertEqual(as_user.get_user()["User"]["UserName"], "ci")
