"""
ACL grants S3 refuses (unknown canonical ids, groups, e-mail addresses)
and an ACL that grants nothing, through real boto3 clients.
"""

from __future__ import annotations

from typing import Any

from awsemu.s3 import configs
from tests.s3support import TwoAccountsTestCase, enable_acls

OWNER = "111111111111"
OTHER = "222222222222"
#: A well-formed canonical user id of no account awsemu has met.
STRANGER = "f" * 64


class AclGrantTests(TwoAccountsTestCase):
    owner_account, other_account = OWNER, OTHER
    objects = {"k": b"data"}

    def setUp(self) -> None:
        super().setUp()
        enable_acls(self.owner, self.bucket)
        self.owner_id = configs.canonical_user_id(OWNER)

    def policy(self, *grants: dict[str, Any]) -> dict[str, Any]:
        return {"Owner": {"ID": self.owner_id}, "Grants": list(grants)}

    def assertInvalidId(self, call: Any, value: str, **params: Any) -> None:
        error = self.assertClientError(call, "InvalidArgument", 400, **params)
        self.assertEqual(
            (error["Message"], error["ArgumentName"], error["ArgumentValue"]),
            ("Invalid id", "CanonicalUser/ID", value),
        )

    def test_unknown_canonical_ids(self) -> None:
        for value in (STRANGER, "not-an-id"):
            grant = {"Grantee": {"Type": "CanonicalUser", "ID": value}, "Permission": "READ"}
            calls: list[tuple[Any, dict[str, Any]]] = [
                (self.owner.put_bucket_acl, {"AccessControlPolicy": self.policy(grant)}),
                (self.owner.put_object_acl, {"Key": "k", "GrantRead": f'id="{value}"'}),
                (
                    self.owner.put_object,
                    {"Key": "new", "Body": b"x", "GrantFullControl": f"id={value}"},
                ),
            ]
            for call, params in calls:
                self.assertInvalidId(call, value, Bucket=self.bucket, **params)
        self.assertClientError(self.owner.head_object, "404", 404, Bucket=self.bucket, Key="new")
        grants = self.owner.get_bucket_acl(Bucket=self.bucket)["Grants"]
        self.assertEqual([g["Grantee"]["ID"] for g in grants], [self.owner_id])

    def test_known_account(self) -> None:
        """An account that has called S3 is known: a grant to it is stored and honoured."""
        other_id = self.other.list_buckets()["Owner"]["ID"]
        self.owner.put_object_acl(Bucket=self.bucket, Key="k", GrantRead=f'id="{other_id}"')
        self.assertEqual(self.other.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"data")

    def test_unknown_group(self) -> None:
        uri = "http://acs.amazonaws.com/groups/s3/FakeGroup"
        grant = {"Grantee": {"Type": "Group", "URI": uri}, "Permission": "READ"}
        error = self.assertClientError(
            self.owner.put_bucket_acl,
            "InvalidArgument",
            400,
            Bucket=self.bucket,
            AccessControlPolicy=self.policy(grant),
        )
        self.assertEqual(
            (error["Message"], error["ArgumentName"], error["ArgumentValue"]),
            ("Invalid group uri", "Group/URI", uri),
        )

    def test_email_grantee(self) -> None:
        grant = {
            "Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "someone@example.com"},
            "Permission": "READ",
        }
        for call, params in (
            (self.owner.put_bucket_acl, {"AccessControlPolicy": self.policy(grant)}),
            (self.owner.put_bucket_acl, {"GrantRead": 'emailAddress="someone@example.com"'}),
        ):
            error = self.assertClientError(
                call, "UnresolvableGrantByEmailAddress", 400, Bucket=self.bucket, **params
            )
            self.assertEqual(
                error["Message"],
                "The email address that you provided does not match any account on record.",
            )

    def test_empty_grant_list_clears(self) -> None:
        """An AccessControlPolicy with no grants leaves the bucket with none, its owner's too."""
        public = {
            "Grantee": {
                "Type": "Group",
                "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
            }
        }
        self.owner.delete_public_access_block(Bucket=self.bucket)
        self.owner.put_bucket_acl(
            Bucket=self.bucket, AccessControlPolicy=self.policy({**public, "Permission": "READ"})
        )
        self.assertEqual(len(self.owner.get_bucket_acl(Bucket=self.bucket)["Grants"]), 1)
        self.owner.put_bucket_acl(Bucket=self.bucket, AccessControlPolicy=self.policy())
        acl = self.owner.get_bucket_acl(Bucket=self.bucket)
        self.assertEqual((acl["Grants"], acl["Owner"]["ID"]), ([], self.owner_id))
        # The owner still owns the bucket: its account is never locked out by an ACL.
        self.owner.put_bucket_acl(Bucket=self.bucket, ACL="private")
        self.assertEqual(len(self.owner.get_bucket_acl(Bucket=self.bucket)["Grants"]), 1)

    def test_no_display_names(self) -> None:
        """
        S3 stopped returning ``DisplayName`` on November 21, 2025 (S3 API
        reference, ``Owner``), even where a caller's ACL document names one.
        """
        named = {"ID": self.owner_id, "DisplayName": "someone"}
        grant = {"Grantee": {"Type": "CanonicalUser", **named}, "Permission": "FULL_CONTROL"}
        self.owner.put_bucket_acl(
            Bucket=self.bucket, AccessControlPolicy={"Owner": named, "Grants": [grant]}
        )
        self.owner.put_object_acl(Bucket=self.bucket, Key="k", ACL="private")
        bare = {"ID": self.owner_id}
        for acl in (
            self.owner.get_bucket_acl(Bucket=self.bucket),
            self.owner.get_object_acl(Bucket=self.bucket, Key="k"),
        ):
            self.assertEqual(acl["Owner"], bare)
            self.assertEqual(
                [g["Grantee"] for g in acl["Grants"]], [{"Type": "CanonicalUser", **bare}]
            )
        self.assertEqual(self.owner.list_buckets()["Owner"], bare)
        listed = self.owner.list_objects_v2(Bucket=self.bucket, FetchOwner=True)["Contents"]
        self.assertEqual([entry["Owner"] for entry in listed], [bare])
        versions = self.owner.list_object_versions(Bucket=self.bucket)["Versions"]
        self.assertEqual([entry["Owner"] for entry in versions], [bare])
