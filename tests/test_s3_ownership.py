"""
Object Ownership and Block Public Access as AWS enforces them since April
2023 (new buckets: ``BucketOwnerEnforced``, all four public access blocks
on), through real boto3 clients of two accounts against a daemon, plus
unit tests of what makes a bucket policy public.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.client import BaseClient
from twisted.trial.unittest import SynchronousTestCase

from awsemu.s3 import configs
from tests.s3support import TwoAccountsTestCase, enable_acls, raw
from tests.test_s3_auth import multipart_form

OWNER = "111111111111"
OTHER = "333333333333"
ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'
BLOCK_NOTHING = {
    "BlockPublicAcls": False,
    "IgnorePublicAcls": False,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}


class OwnershipTestCase(TwoAccountsTestCase):
    """A fresh bucket of ``OWNER`` holding one object, and a client of ``OTHER``."""

    owner_account, other_account = OWNER, OTHER
    objects = {"k": b"data"}

    def policy(self, principal: Any, action: str, **statement: Any) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": principal,
                        "Action": action,
                        "Resource": f"arn:aws:s3:::{self.bucket}/*",
                        **statement,
                    }
                ],
            }
        )

    def let_other_write(self) -> None:
        """A bucket policy (not public) that lets ``OTHER`` put objects."""
        self.owner.put_bucket_policy(
            Bucket=self.bucket, Policy=self.policy({"AWS": OTHER}, "s3:PutObject")
        )

    def block(self, **settings: bool) -> None:
        self.owner.put_public_access_block(
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={**BLOCK_NOTHING, **settings},
        )

    def assertRefused(self, call: Any, code: str, status: int, message: str, **params: Any) -> None:
        error = self.assertClientError(call, code, status, **params)
        self.assertEqual(error["Message"], message)

    def assertNoAcls(self, call: Any, **params: Any) -> None:
        self.assertRefused(
            call, "AccessControlListNotSupported", 400, "The bucket does not allow ACLs", **params
        )

    def assertDenied(self, call: Any, **params: Any) -> None:
        self.assertRefused(call, "AccessDenied", 403, "Access Denied", **params)

    def canonical_id(self, s3: BaseClient) -> str:
        owner: str = s3.list_buckets()["Owner"]["ID"]
        return owner

    def object_owner(self, key: str) -> str:
        owner: str = self.owner.get_object_acl(Bucket=self.bucket, Key=key)["Owner"]["ID"]
        return owner


class DefaultsTests(OwnershipTestCase):
    def test_new_bucket_settings(self) -> None:
        """All four blocks on and BucketOwnerEnforced, unless CreateBucket names an ownership."""
        block = self.owner.get_public_access_block(Bucket=self.bucket)
        self.assertEqual(
            block["PublicAccessBlockConfiguration"], {name: True for name in BLOCK_NOTHING}
        )
        ownership = self.owner.get_bucket_ownership_controls(Bucket=self.bucket)
        self.assertEqual(
            ownership["OwnershipControls"]["Rules"], [{"ObjectOwnership": "BucketOwnerEnforced"}]
        )
        name = self.new_bucket(ObjectOwnership="BucketOwnerPreferred")
        ownership = self.s3.get_bucket_ownership_controls(Bucket=name)
        self.assertEqual(
            ownership["OwnershipControls"]["Rules"], [{"ObjectOwnership": "BucketOwnerPreferred"}]
        )

    def test_deleted_settings_are_missing(self) -> None:
        """Once deleted, both are AWS's not-found errors, and ACLs work again."""
        self.owner.delete_bucket_ownership_controls(Bucket=self.bucket)
        self.owner.delete_public_access_block(Bucket=self.bucket)
        self.assertClientError(
            self.owner.get_bucket_ownership_controls,
            "OwnershipControlsNotFoundError",
            404,
            Bucket=self.bucket,
        )
        self.assertClientError(
            self.owner.get_public_access_block,
            "NoSuchPublicAccessBlockConfiguration",
            404,
            Bucket=self.bucket,
        )
        self.owner.put_object(Bucket=self.bucket, Key="public", Body=b"p", ACL="public-read")
        status, _, body = raw(self.endpoint, "GET", f"/{self.bucket}/public")
        self.assertEqual((status, body), (200, b"p"))

    def test_create_bucket_with_acl(self) -> None:
        """An ACL at creation needs ACLs enabled, and a public one is refused even then."""
        name = self.bucket_name()
        self.assertRefused(
            self.s3.create_bucket,
            "InvalidBucketAclWithObjectOwnership",
            400,
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            Bucket=name,
            GrantRead=f'id="{self.canonical_id(self.other)}"',
        )
        self.assertRefused(
            self.s3.create_bucket,
            "InvalidBucketAclWithBlockPublicAccessError",
            400,
            "Bucket cannot have public ACLs set with BlockPublicAccess enabled",
            Bucket=name,
            ACL="public-read",
            ObjectOwnership="ObjectWriter",
        )
        self.assertClientError(self.s3.head_bucket, "404", 404, Bucket=name)
        self.s3.create_bucket(Bucket=name, ACL="log-delivery-write", ObjectOwnership="ObjectWriter")
        grants = self.s3.get_bucket_acl(Bucket=name)["Grants"]
        self.assertEqual(
            [g["Grantee"].get("URI", "").rpartition("/")[2] for g in grants],
            ["", "LogDelivery", "LogDelivery"],
        )


class EnforcedTests(OwnershipTestCase):
    """``BucketOwnerEnforced``: ACLs are refused, ignored, and read as the owner's."""

    def test_acls_refused(self) -> None:
        """Every way of setting an ACL other than the bucket owner's full control is refused."""
        self.assertNoAcls(self.owner.put_object, Bucket=self.bucket, Key="n", ACL="public-read")
        self.assertNoAcls(self.owner.put_object, Bucket=self.bucket, Key="n", GrantRead=ALL_USERS)
        self.assertNoAcls(
            self.owner.copy_object,
            Bucket=self.bucket,
            Key="n",
            CopySource=f"{self.bucket}/k",
            ACL="authenticated-read",
        )
        self.assertNoAcls(
            self.owner.create_multipart_upload, Bucket=self.bucket, Key="n", ACL="public-read"
        )
        self.assertNoAcls(self.owner.put_object_acl, Bucket=self.bucket, Key="k", ACL="public-read")
        self.assertNoAcls(self.owner.put_bucket_acl, Bucket=self.bucket, ACL="public-read")
        self.assertNoAcls(
            self.owner.put_bucket_acl,
            Bucket=self.bucket,
            GrantWrite=f'id="{self.canonical_id(self.other)}"',
        )
        self.assertClientError(self.owner.head_object, "404", 404, Bucket=self.bucket, Key="n")

    def test_post_upload_acl(self) -> None:
        """A browser upload's ``acl`` field is refused as the header would be."""
        form = self.owner.generate_presigned_post(
            self.bucket,
            "posted",
            Fields={"acl": "public-read"},
            Conditions=[{"acl": "public-read"}],
        )
        body, content_type = multipart_form(form["fields"], b"x")
        status, _, answer = raw(
            self.endpoint, "POST", f"/{self.bucket}", body, {"Content-Type": content_type}
        )
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>AccessControlListNotSupported</Code>", answer)
        self.assertClientError(self.owner.head_object, "404", 404, Bucket=self.bucket, Key="posted")

    def test_bucket_owner_full_control_accepted(self) -> None:
        """The one ACL that enforced ownership accepts, from the owner or another account."""
        self.let_other_write()
        self.other.put_object(
            Bucket=self.bucket, Key="theirs", Body=b"t", ACL="bucket-owner-full-control"
        )
        self.owner.put_object(
            Bucket=self.bucket, Key="mine", Body=b"m", ACL="bucket-owner-full-control"
        )
        self.assertEqual(self.object_owner("theirs"), self.canonical_id(self.owner))

    def test_other_accounts_objects_belong_to_bucket_owner(self) -> None:
        """An object another account writes is the bucket owner's, with FULL_CONTROL only."""
        self.let_other_write()
        self.other.put_object(Bucket=self.bucket, Key="theirs", Body=b"t")
        owner_id = self.canonical_id(self.owner)
        acl = self.owner.get_object_acl(Bucket=self.bucket, Key="theirs")
        self.assertEqual(acl["Owner"]["ID"], owner_id)
        self.assertEqual(
            [(g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]],
            [(owner_id, "FULL_CONTROL")],
        )
        listed = self.owner.list_objects_v2(Bucket=self.bucket, FetchOwner=True)["Contents"]
        self.assertEqual({o["Owner"]["ID"] for o in listed}, {owner_id})
        bucket_acl = self.owner.get_bucket_acl(Bucket=self.bucket)
        self.assertEqual(
            [(g["Grantee"]["ID"], g["Permission"]) for g in bucket_acl["Grants"]],
            [(owner_id, "FULL_CONTROL")],
        )

    def test_grants_stop_working(self) -> None:
        """Enforcing ownership voids object grants; a bucket ACL granting others forbids it."""
        enable_acls(self.owner, self.bucket)
        grant = f'id="{self.canonical_id(self.other)}"'
        self.owner.put_object(Bucket=self.bucket, Key="shared", Body=b"s", GrantRead=grant)
        self.assertEqual(
            self.other.get_object(Bucket=self.bucket, Key="shared")["Body"].read(), b"s"
        )
        self.owner.put_bucket_acl(Bucket=self.bucket, GrantRead=grant)
        self.assertRefused(
            enable_acls,
            "InvalidBucketAclWithObjectOwnership",
            400,
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            s3=self.owner,
            bucket=self.bucket,
            ownership="BucketOwnerEnforced",
        )
        self.owner.put_bucket_acl(Bucket=self.bucket, ACL="private")
        enable_acls(self.owner, self.bucket, "BucketOwnerEnforced")
        self.assertDenied(self.other.get_object, Bucket=self.bucket, Key="shared")
        grants = self.owner.get_object_acl(Bucket=self.bucket, Key="shared")["Grants"]
        self.assertEqual([g["Permission"] for g in grants], ["FULL_CONTROL"])


class AclsEnabledTests(OwnershipTestCase):
    """``BucketOwnerPreferred`` and ``ObjectWriter``: who owns what another account writes."""

    def test_bucket_owner_preferred(self) -> None:
        """``bucket-owner-full-control`` hands the object over; without it the writer keeps it."""
        enable_acls(self.owner, self.bucket, "BucketOwnerPreferred")
        self.let_other_write()
        self.other.put_object(
            Bucket=self.bucket, Key="given", Body=b"g", ACL="bucket-owner-full-control"
        )
        self.other.put_object(Bucket=self.bucket, Key="kept", Body=b"k")
        self.assertEqual(self.object_owner("given"), self.canonical_id(self.owner))
        kept = self.other.get_object_acl(Bucket=self.bucket, Key="kept")
        self.assertEqual(kept["Owner"]["ID"], self.canonical_id(self.other))

    def test_object_writer(self) -> None:
        """The writer owns its object; ``bucket-owner-full-control`` grants the bucket owner."""
        enable_acls(self.owner, self.bucket)
        self.let_other_write()
        self.other.put_object(
            Bucket=self.bucket, Key="theirs", Body=b"t", ACL="bucket-owner-full-control"
        )
        acl = self.other.get_object_acl(Bucket=self.bucket, Key="theirs")
        other_id, owner_id = self.canonical_id(self.other), self.canonical_id(self.owner)
        self.assertEqual(acl["Owner"]["ID"], other_id)
        self.assertEqual(
            [(g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]],
            [(other_id, "FULL_CONTROL"), (owner_id, "FULL_CONTROL")],
        )


class BlockPublicAccessTests(OwnershipTestCase):
    def setUp(self) -> None:
        super().setUp()
        enable_acls(self.owner, self.bucket)

    def test_block_public_acls(self) -> None:
        """Public canned ACLs and grants to public groups are AccessDenied; others are not."""
        self.block(BlockPublicAcls=True)
        for canned in ("public-read", "public-read-write", "authenticated-read"):
            self.assertDenied(self.owner.put_object, Bucket=self.bucket, Key="n", ACL=canned)
        self.assertDenied(self.owner.put_object, Bucket=self.bucket, Key="n", GrantRead=ALL_USERS)
        self.assertDenied(self.owner.put_object_acl, Bucket=self.bucket, Key="k", ACL="public-read")
        self.assertDenied(self.owner.put_bucket_acl, Bucket=self.bucket, ACL="public-read-write")
        self.assertDenied(
            self.owner.create_multipart_upload, Bucket=self.bucket, Key="n", ACL="public-read"
        )
        self.owner.put_object(Bucket=self.bucket, Key="n", Body=b"n", ACL="private")
        self.block()
        self.owner.put_object_acl(Bucket=self.bucket, Key="n", ACL="public-read")
        status, _, _ = raw(self.endpoint, "GET", f"/{self.bucket}/n")
        self.assertEqual(status, 200)

    def test_ignore_public_acls(self) -> None:
        """Existing public grants stay stored but grant nothing."""
        self.block()
        self.owner.put_object(Bucket=self.bucket, Key="p", Body=b"p", ACL="public-read")
        self.assertEqual(self.other.get_object(Bucket=self.bucket, Key="p")["Body"].read(), b"p")
        self.block(IgnorePublicAcls=True)
        self.assertDenied(self.other.get_object, Bucket=self.bucket, Key="p")
        grants = self.owner.get_object_acl(Bucket=self.bucket, Key="p")["Grants"]
        self.assertEqual([g["Permission"] for g in grants], ["FULL_CONTROL", "READ"])

    def test_block_public_policy(self) -> None:
        """A public policy is refused; a named principal or a fixing condition is not public."""
        public = self.policy("*", "s3:GetObject")
        self.assertDenied(self.owner.put_bucket_policy, Bucket=self.bucket, Policy=public)
        self.assertDenied(
            self.owner.put_bucket_policy,
            Bucket=self.bucket,
            Policy=self.policy(
                {"AWS": "*"}, "s3:GetObject", Condition={"StringLike": {"aws:SourceArn": "*"}}
            ),
        )
        self.assertClientError(
            self.owner.get_bucket_policy, "NoSuchBucketPolicy", 404, Bucket=self.bucket
        )
        fixed = self.policy(
            "*", "s3:GetObject", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
        )
        self.owner.put_bucket_policy(Bucket=self.bucket, Policy=fixed)
        self.owner.put_bucket_policy(
            Bucket=self.bucket, Policy=self.policy({"AWS": OTHER}, "s3:GetObject")
        )
        self.block()
        self.owner.put_bucket_policy(Bucket=self.bucket, Policy=public)
        self.assertEqual(
            json.loads(self.owner.get_bucket_policy(Bucket=self.bucket)["Policy"]),
            json.loads(public),
        )

    def test_restrict_public_buckets(self) -> None:
        """A public policy lets in only the bucket owner's account, signed or not."""
        self.block()
        self.owner.put_bucket_policy(Bucket=self.bucket, Policy=self.policy("*", "s3:GetObject"))
        self.assertEqual(self.other.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"data")
        self.block(RestrictPublicBuckets=True)
        self.assertDenied(self.other.get_object, Bucket=self.bucket, Key="k")
        self.assertEqual(self.owner.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"data")
        # Unsigned requests belong to the default account, not to this bucket's.
        status, _, body = raw(self.endpoint, "GET", f"/{self.bucket}/k")
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", body)

    def test_restrict_spares_non_public_policies(self) -> None:
        """A policy naming another account is not public: RestrictPublicBuckets leaves it."""
        self.block(RestrictPublicBuckets=True)
        self.owner.put_bucket_policy(
            Bucket=self.bucket, Policy=self.policy({"AWS": OTHER}, "s3:GetObject")
        )
        self.assertEqual(self.other.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"data")


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", **extra}


class PublicPolicyTests(SynchronousTestCase):
    """``configs.is_public_policy``: S3's "The meaning of public"."""

    def assertPublic(self, expected: bool, *statements: dict[str, Any]) -> None:
        self.assertEqual(configs.is_public_policy(_policy(*statements)), expected)

    def test_wildcard_principals(self) -> None:
        self.assertPublic(True, _allow("*"))
        self.assertPublic(True, _allow({"AWS": "*"}))
        self.assertPublic(True, _allow({"AWS": ["123456789012", "*"]}))
        self.assertPublic(True, {"Effect": "Allow", "NotPrincipal": {"AWS": "123456789012"}})

    def test_named_principals_and_denials_are_not_public(self) -> None:
        self.assertPublic(False, _allow({"AWS": "arn:aws:iam::123456789012:root"}))
        self.assertPublic(False, _allow({"Service": "logging.s3.amazonaws.com"}))
        self.assertPublic(False, {"Effect": "Deny", "Principal": "*", "Action": "s3:*"})
        self.assertFalse(configs.is_public_policy(None))

    def test_fixing_conditions(self) -> None:
        """A fixed value of a fixing key narrows ``*``; wildcards and negations do not."""
        for operator, key, value in (
            ("IpAddress", "aws:SourceIp", "192.0.2.0/24"),
            ("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
            ("StringEquals", "aws:SourceVpc", "vpc-111bbb22"),
            ("StringEquals", "aws:PrincipalAccount", "123456789012"),
            ("StringEquals", "aws:PrincipalOrgID", "o-abc123"),
            ("ArnEquals", "aws:SourceArn", "arn:aws:cloudfront::123456789012:distribution/E1"),
            ("StringEquals", "aws:SourceAccount", "123456789012"),
            ("StringLike", "aws:userid", "AROAEXAMPLEID:*"),
        ):
            condition = {operator: {key: value}}
            self.assertPublic(False, _allow("*", Condition=condition))
        for condition in (
            {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
            {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
            {"StringLike": {"aws:SourceAccount": "*"}},
            {"Bool": {"aws:SecureTransport": "true"}},
            {"StringEquals": {"s3:prefix": "home/"}},
        ):
            self.assertPublic(True, _allow("*", Condition=condition))
