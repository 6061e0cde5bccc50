"""
CreateBucket's answers about where a bucket goes and whose it is, with
AWS's codes and messages, through boto3 clients of several regions and
accounts. The messages are AWS's wire texts as recalled (AWS's "Error
responses" page describes the codes in other words).
"""

from __future__ import annotations

from botocore.client import BaseClient

from awsemu.s3 import configs
from tests.s3support import S3TestCase, allow_public, client, enable_acls

_ILLEGAL = (
    "location constraint is incompatible for the region specific endpoint this request was sent to."
)


class BucketLocationTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.regional = client(self.endpoint, region="eu-west-1")

    def assertInvalid(self, s3: BaseClient, constraint: str) -> None:
        error = self.assertClientError(
            s3.create_bucket,
            "InvalidLocationConstraint",
            400,
            Bucket=self.bucket_name(),
            CreateBucketConfiguration={"LocationConstraint": constraint},
        )
        self.assertEqual(
            (error["Message"], error["LocationConstraint"]),
            ("The specified location-constraint is not valid", constraint),
        )

    def test_invalid_constraints(self) -> None:
        """us-east-1 named explicitly, or a region S3 does not have, from any endpoint."""
        for constraint in ("us-east-1", "xx-nowhere-1", "EU", "eu-west-1 "):
            self.assertInvalid(self.s3, constraint)
        self.assertInvalid(self.regional, "xx-nowhere-1")

    def test_illegal_for_endpoint(self) -> None:
        """A regional endpoint creates only in its own region."""
        for configuration, named in (
            ({}, "unspecified"),
            ({"LocationConstraint": "eu-west-2"}, "eu-west-2"),
        ):
            error = self.assertClientError(
                self.regional.create_bucket,
                "IllegalLocationConstraintException",
                400,
                Bucket=self.bucket_name(),
                CreateBucketConfiguration=configuration,
            )
            self.assertEqual(error["Message"], f"The {named} {_ILLEGAL}")
        name = self.bucket_name()
        self.regional.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        self.assertEqual(
            self.s3.get_bucket_location(Bucket=name)["LocationConstraint"], "eu-west-1"
        )
        # The us-east-1 endpoint creates in any region.
        other = self.bucket_name()
        self.s3.create_bucket(
            Bucket=other, CreateBucketConfiguration={"LocationConstraint": "sa-east-1"}
        )
        self.assertEqual(
            self.s3.get_bucket_location(Bucket=other)["LocationConstraint"], "sa-east-1"
        )

    def test_already_owned(self) -> None:
        """
        Re-creating one's own bucket is BucketAlreadyOwnedByYou, except in
        us-east-1, where it answers 200 and resets the bucket's ACL.
        """
        name = self.new_bucket()
        enable_acls(self.s3, name)
        allow_public(self.s3, name)
        self.s3.put_bucket_acl(Bucket=name, ACL="public-read")
        self.assertEqual(len(self.s3.get_bucket_acl(Bucket=name)["Grants"]), 2)
        self.assertEqual(self.s3.create_bucket(Bucket=name)["Location"], f"/{name}")
        grants = self.s3.get_bucket_acl(Bucket=name)["Grants"]
        self.assertEqual(
            [(g["Grantee"]["ID"], g["Permission"]) for g in grants],
            [(configs.canonical_user_id("000000000000"), "FULL_CONTROL")],
        )
        european = self.bucket_name()
        self.regional.create_bucket(
            Bucket=european, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        for s3, params in (
            (self.regional, {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}),
            (self.s3, {}),
        ):
            error = self.assertClientError(
                s3.create_bucket, "BucketAlreadyOwnedByYou", 409, Bucket=european, **params
            )
            self.assertEqual(
                (error["Message"], error["BucketName"]),
                (
                    "Your previous request to create the named bucket succeeded and you already "
                    "own it.",
                    european,
                ),
            )

    def test_other_accounts_bucket(self) -> None:
        name = self.new_bucket()
        for region in ("us-east-1", "eu-west-1"):
            stranger = client(self.endpoint, access_key="111122223333", region=region)
            configuration = {} if region == "us-east-1" else {"LocationConstraint": region}
            error = self.assertClientError(
                stranger.create_bucket,
                "BucketAlreadyExists",
                409,
                Bucket=name,
                CreateBucketConfiguration=configuration,
            )
            self.assertEqual(
                error["Message"],
                "The requested bucket name is not available. The bucket namespace is shared by "
                "all users of the system. Please select a different name and try again.",
            )
