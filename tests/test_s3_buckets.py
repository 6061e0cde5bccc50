"""Buckets and their sub-resources, through boto3 against a running daemon."""

from __future__ import annotations

import json
from typing import Any

from tests.s3support import S3TestCase, allow_public, client, raw


class BucketTests(S3TestCase):
    def test_create_head_list_delete(self) -> None:
        """A bucket is created, listed with its region, answered by HeadBucket, and deleted."""
        name = self.new_bucket()
        head = self.s3.head_bucket(Bucket=name)
        self.assertEqual(
            head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"], "us-east-1"
        )
        listed = self.s3.list_buckets()
        self.assertIn(name, [bucket["Name"] for bucket in listed["Buckets"]])
        self.assertEqual(len(listed["Owner"]["ID"]), 64)
        self.assertIsNone(self.s3.get_bucket_location(Bucket=name)["LocationConstraint"])
        self.assertEqual(
            self.s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"], 204
        )
        self.assertClientError(self.s3.head_bucket, "404", 404, Bucket=name)

    def test_invalid_names(self) -> None:
        """Names outside AWS's rules are InvalidBucketName, naming the bucket."""
        for name in ("ab", "Upper", "a..b", "192.168.1.1", "-start", "xn--abc", "a" * 64):
            error = self.assertClientError(
                client(self.endpoint, parameter_validation=False).create_bucket,
                "InvalidBucketName",
                400,
                Bucket=name,
            )
            self.assertEqual(error["BucketName"], name)

    def test_same_owner_again(self) -> None:
        """us-east-1 answers 200 for a bucket the caller owns; elsewhere BucketAlreadyOwnedByYou."""
        name = self.new_bucket()
        self.s3.create_bucket(Bucket=name)
        regional = client(self.endpoint, region="eu-west-1")
        other = self.bucket_name()
        regional.create_bucket(
            Bucket=other, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        error = self.assertClientError(
            regional.create_bucket,
            "BucketAlreadyOwnedByYou",
            409,
            Bucket=other,
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        self.assertEqual(error["BucketName"], other)
        self.assertEqual(
            regional.get_bucket_location(Bucket=other)["LocationConstraint"], "eu-west-1"
        )

    def test_other_account(self) -> None:
        """Bucket names are global: another account gets BucketAlreadyExists."""
        name = self.new_bucket()
        stranger = client(self.endpoint, access_key="111122223333")
        error = self.assertClientError(
            stranger.create_bucket, "BucketAlreadyExists", 409, Bucket=name
        )
        self.assertEqual(error["BucketName"], name)
        self.assertNotIn(name, [b["Name"] for b in stranger.list_buckets()["Buckets"]])

    def test_location_constraints(self) -> None:
        """AWS's location-constraint rules."""
        self.assertClientError(
            self.s3.create_bucket,
            "InvalidLocationConstraint",
            400,
            Bucket=self.bucket_name(),
            CreateBucketConfiguration={"LocationConstraint": "us-east-1"},
        )
        regional = client(self.endpoint, region="eu-west-1")
        self.assertClientError(
            regional.create_bucket,
            "IllegalLocationConstraintException",
            400,
            Bucket=self.bucket_name(),
        )
        self.assertClientError(
            regional.create_bucket,
            "IllegalLocationConstraintException",
            400,
            Bucket=self.bucket_name(),
            CreateBucketConfiguration={"LocationConstraint": "eu-west-2"},
        )

    def test_expected_bucket_owner(self) -> None:
        name = self.new_bucket()
        self.s3.head_bucket(Bucket=name, ExpectedBucketOwner="000000000000")
        self.assertClientError(
            self.s3.list_objects_v2,
            "AccessDenied",
            403,
            Bucket=name,
            ExpectedBucketOwner="111122223333",
        )

    def test_not_empty(self) -> None:
        name = self.new_bucket()
        self.s3.put_object(Bucket=name, Key="k", Body=b"x")
        error = self.assertClientError(self.s3.delete_bucket, "BucketNotEmpty", 409, Bucket=name)
        self.assertEqual(error["BucketName"], name)

    def test_no_such_bucket(self) -> None:
        error = self.assertClientError(
            self.s3.list_objects_v2, "NoSuchBucket", 404, Bucket="missing-bucket-x"
        )
        self.assertEqual(error["BucketName"], "missing-bucket-x")
        self.assertNotIn("Resource", error)

    def test_list_buckets_pages(self) -> None:
        """MaxBuckets pages with ContinuationToken; Prefix and BucketRegion filter."""
        account = client(self.endpoint, access_key="444455556666")
        names = sorted(f"pages-{i}-{self.bucket_name()}" for i in range(3))
        for name in names:
            account.create_bucket(Bucket=name)
        first = account.list_buckets(MaxBuckets=2, Prefix="pages-")
        self.assertEqual([b["Name"] for b in first["Buckets"]], names[:2])
        second = account.list_buckets(
            MaxBuckets=2, Prefix="pages-", ContinuationToken=first["ContinuationToken"]
        )
        self.assertEqual([b["Name"] for b in second["Buckets"]], names[2:])
        self.assertNotIn("ContinuationToken", second)
        self.assertEqual(account.list_buckets(BucketRegion="eu-west-3")["Buckets"], [])


#: (put method, put arguments, get method, what get returns, delete method, missing error).
SUB_RESOURCES: list[tuple[str, dict[str, Any], str, dict[str, Any], str | None, str | None]] = [
    (
        "put_bucket_tagging",
        {"Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
        "get_bucket_tagging",
        {"TagSet": [{"Key": "k", "Value": "v"}]},
        "delete_bucket_tagging",
        "NoSuchTagSet",
    ),
    (
        "put_bucket_cors",
        {
            "CORSConfiguration": {
                "CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]
            }
        },
        "get_bucket_cors",
        {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]},
        "delete_bucket_cors",
        "NoSuchCORSConfiguration",
    ),
    (
        "put_bucket_policy",
        {"Policy": json.dumps({"Version": "2012-10-17", "Statement": []})},
        "get_bucket_policy",
        {"Policy": json.dumps({"Version": "2012-10-17", "Statement": []})},
        "delete_bucket_policy",
        "NoSuchBucketPolicy",
    ),
    (
        "put_bucket_lifecycle_configuration",
        {
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "ID": "r",
                        "Status": "Enabled",
                        "Filter": {"Prefix": "p/"},
                        "Expiration": {"Days": 3},
                    }
                ]
            }
        },
        "get_bucket_lifecycle_configuration",
        {
            "Rules": [
                {
                    "ID": "r",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "p/"},
                    "Expiration": {"Days": 3},
                }
            ],
            "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K",
        },
        "delete_bucket_lifecycle",
        "NoSuchLifecycleConfiguration",
    ),
    (
        "put_bucket_ownership_controls",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}},
        "get_bucket_ownership_controls",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}},
        "delete_bucket_ownership_controls",
        "OwnershipControlsNotFoundError",
    ),
    (
        "put_public_access_block",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": False,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            }
        },
        "get_public_access_block",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": False,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            }
        },
        "delete_public_access_block",
        "NoSuchPublicAccessBlockConfiguration",
    ),
    (
        "put_bucket_website",
        {"WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}}},
        "get_bucket_website",
        {"IndexDocument": {"Suffix": "index.html"}},
        "delete_bucket_website",
        "NoSuchWebsiteConfiguration",
    ),
    (
        "put_bucket_versioning",
        {"VersioningConfiguration": {"Status": "Enabled"}},
        "get_bucket_versioning",
        {"Status": "Enabled"},
        None,
        None,
    ),
    (
        "put_bucket_accelerate_configuration",
        {"AccelerateConfiguration": {"Status": "Enabled"}},
        "get_bucket_accelerate_configuration",
        {"Status": "Enabled"},
        None,
        None,
    ),
    (
        "put_bucket_request_payment",
        {"RequestPaymentConfiguration": {"Payer": "Requester"}},
        "get_bucket_request_payment",
        {"Payer": "Requester"},
        None,
        None,
    ),
    (
        "put_bucket_notification_configuration",
        {"NotificationConfiguration": {"EventBridgeConfiguration": {}}},
        "get_bucket_notification_configuration",
        {"EventBridgeConfiguration": {}},
        None,
        None,
    ),
    (
        "put_bucket_encryption",
        {
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": "key-1",
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            }
        },
        "get_bucket_encryption",
        {
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": "key-1",
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            }
        },
        "delete_bucket_encryption",
        None,
    ),
]


class SubResourceTests(S3TestCase):
    def test_round_trips(self) -> None:
        """GET before PUT is AWS's NoSuch... error, GET after PUT returns it, DELETE removes it."""
        for put, arguments, get, expected, delete, missing in SUB_RESOURCES:
            name = self.new_bucket()
            if missing is not None and put not in (
                "put_bucket_ownership_controls",
                "put_public_access_block",
            ):
                error = self.assertClientError(getattr(self.s3, get), missing, 404, Bucket=name)
                self.assertEqual(error["BucketName"], name)
            getattr(self.s3, put)(Bucket=name, **arguments)
            result = getattr(self.s3, get)(Bucket=name)
            result.pop("ResponseMetadata")
            self.assertEqual(result, expected, get)
            if delete is not None:
                getattr(self.s3, delete)(Bucket=name)
                if missing is not None:
                    self.assertClientError(getattr(self.s3, get), missing, 404, Bucket=name)

    def test_new_bucket_defaults(self) -> None:
        """AWS's defaults: SSE-S3, BucketOwnerEnforced, public access blocked, BucketOwner pays."""
        name = self.new_bucket()
        rule = self.s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
            "Rules"
        ][0]
        self.assertEqual(rule["ApplyServerSideEncryptionByDefault"], {"SSEAlgorithm": "AES256"})
        ownership = self.s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]
        self.assertEqual(ownership["Rules"], [{"ObjectOwnership": "BucketOwnerEnforced"}])
        self.assertTrue(
            self.s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"][
                "BlockPublicAcls"
            ]
        )
        self.assertEqual(self.s3.get_bucket_request_payment(Bucket=name)["Payer"], "BucketOwner")
        self.assertNotIn("Status", self.s3.get_bucket_versioning(Bucket=name))

    def test_policy_must_be_json(self) -> None:
        name = self.new_bucket()
        self.assertClientError(
            self.s3.put_bucket_policy, "MalformedPolicy", 400, Bucket=name, Policy="nope"
        )

    def test_acl(self) -> None:
        """Canned ACLs and grant headers become grants; the owner keeps FULL_CONTROL."""
        name = self.new_bucket(ObjectOwnership="ObjectWriter")
        allow_public(self.s3, name)
        default = self.s3.get_bucket_acl(Bucket=name)
        self.assertEqual([g["Permission"] for g in default["Grants"]], ["FULL_CONTROL"])
        self.s3.put_bucket_acl(Bucket=name, ACL="public-read")
        grants = self.s3.get_bucket_acl(Bucket=name)["Grants"]
        self.assertEqual(
            [(g["Grantee"].get("URI"), g["Permission"]) for g in grants],
            [(None, "FULL_CONTROL"), ("http://acs.amazonaws.com/groups/global/AllUsers", "READ")],
        )
        self.s3.put_bucket_acl(
            Bucket=name, GrantRead='uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"'
        )
        grants = self.s3.get_bucket_acl(Bucket=name)["Grants"]
        self.assertEqual(grants[0]["Grantee"]["Type"], "Group")
        policy = {"Owner": default["Owner"], "Grants": default["Grants"]}
        self.s3.put_bucket_acl(Bucket=name, AccessControlPolicy=policy)
        self.assertEqual(self.s3.get_bucket_acl(Bucket=name)["Grants"], default["Grants"])

    def test_malformed_xml(self) -> None:
        """A body that is not XML is MalformedXML."""
        name = self.new_bucket()
        status, _, body = raw(self.endpoint, "PUT", f"/{name}?tagging", b"<Tagging")
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>MalformedXML</Code>", body)
