"""
Bucket policy conditions on what a request carries (ACL headers, listing
parameters, the client's address, TLS) and principals PutBucketPolicy
refuses, through real boto3 clients of two accounts.
"""

from __future__ import annotations

import json
from typing import Any

from awsemu.s3 import configs
from tests.s3support import Daemon, S3TestCase, TwoAccountsTestCase, enable_acls
from tests.test_s3_auth import iam_daemon, keyed_client

OWNER = "111111111111"
OTHER = "222222222222"


class PolicyConditionTests(TwoAccountsTestCase):
    owner_account, other_account = OWNER, OTHER
    objects = {"data/a.txt": b"a", "data/b.txt": b"b"}

    def put_policy(self, *statements: dict[str, Any]) -> None:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        self.owner.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(document))

    def statement(
        self, effect: str, action: str, resource: str, condition: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "Effect": effect,
            "Principal": {"AWS": OTHER},
            "Action": action,
            "Resource": f"arn:aws:s3:::{self.bucket}{resource}",
            "Condition": condition,
        }

    def assertDenied(self, call: Any, **params: Any) -> None:
        error = self.assertClientError(call, "AccessDenied", 403, Bucket=self.bucket, **params)
        self.assertEqual(error["Message"], "Access Denied")

    def test_required_acl(self) -> None:
        """The classic cross-account upload rule: only with ``bucket-owner-full-control``."""
        self.put_policy(
            self.statement(
                "Allow",
                "s3:PutObject",
                "/*",
                {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            )
        )
        self.assertDenied(self.other.put_object, Key="up", Body=b"x")
        self.assertDenied(self.other.put_object, Key="up", Body=b"x", ACL="private")
        self.other.put_object(
            Bucket=self.bucket, Key="up", Body=b"x", ACL="bucket-owner-full-control"
        )
        self.assertEqual(self.owner.get_object(Bucket=self.bucket, Key="up")["Body"].read(), b"x")

    def test_grant_header(self) -> None:
        enable_acls(self.owner, self.bucket, "BucketOwnerPreferred")
        owner_grant = f"id={configs.canonical_user_id(OWNER)}"
        self.put_policy(
            self.statement(
                "Allow",
                "s3:PutObject",
                "/*",
                {"StringEquals": {"s3:x-amz-grant-full-control": owner_grant}},
            )
        )
        self.assertDenied(self.other.put_object, Key="g", Body=b"x")
        self.assertDenied(self.other.put_object, Key="g", Body=b"x", GrantRead=owner_grant)
        self.other.put_object(Bucket=self.bucket, Key="g", Body=b"x", GrantFullControl=owner_grant)
        self.assertEqual(self.owner.get_object(Bucket=self.bucket, Key="g")["Body"].read(), b"x")

    def test_max_keys(self) -> None:
        self.put_policy(
            self.statement(
                "Allow", "s3:ListBucket", "", {"NumericLessThanEquals": {"s3:max-keys": "10"}}
            )
        )
        listed = self.other.list_objects_v2(Bucket=self.bucket, MaxKeys=10)
        self.assertEqual(listed["KeyCount"], 2)
        self.assertDenied(self.other.list_objects_v2, MaxKeys=11)
        self.assertDenied(self.other.list_objects_v2)

    def test_prefix_and_delimiter(self) -> None:
        self.put_policy(
            self.statement(
                "Allow",
                "s3:ListBucket",
                "",
                {"StringEquals": {"s3:prefix": "data/", "s3:delimiter": "/"}},
            )
        )
        listed = self.other.list_objects(Bucket=self.bucket, Prefix="data/", Delimiter="/")
        self.assertEqual([o["Key"] for o in listed["Contents"]], ["data/a.txt", "data/b.txt"])
        self.assertDenied(self.other.list_objects, Prefix="data/")
        self.assertDenied(self.other.list_objects, Prefix="", Delimiter="/")

    def test_source_ip(self) -> None:
        """The daemon's clients come from loopback: ``aws:SourceIp`` is their address."""
        self.put_policy(
            self.statement(
                "Allow", "s3:GetObject", "/*", {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}
            ),
            self.statement(
                "Deny",
                "s3:GetObject",
                "/data/b.txt",
                {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            ),
        )
        self.assertEqual(
            self.other.get_object(Bucket=self.bucket, Key="data/a.txt")["Body"].read(), b"a"
        )
        self.assertDenied(self.other.get_object, Key="data/b.txt")

    def test_secure_transport(self) -> None:
        """
        The daemon stands for AWS's HTTPS endpoints: the TLS-only Deny does
        not lock anyone out, and an Allow on secure transport lets in.
        """
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{self.bucket}", f"arn:aws:s3:::{self.bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                self.statement(
                    "Allow", "s3:GetObject", "/*", {"Bool": {"aws:SecureTransport": "true"}}
                ),
            ],
        }
        self.owner.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(document))
        for s3 in (self.owner, self.other):
            self.assertEqual(
                s3.get_object(Bucket=self.bucket, Key="data/a.txt")["Body"].read(), b"a"
            )
        self.owner.list_objects_v2(Bucket=self.bucket)
        self.assertDenied(self.other.list_objects_v2)

    def test_invalid_principal(self) -> None:
        for principal in ({"AWS": "some-user"}, {"AWS": "arn:aws:iam::12:root"}, {"Group": "x"}):
            document = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": principal,
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{self.bucket}/*",
                    }
                ],
            }
            error = self.assertClientError(
                self.owner.put_bucket_policy,
                "MalformedPolicy",
                400,
                Bucket=self.bucket,
                Policy=json.dumps(document),
            )
            self.assertEqual(error["Message"], "Invalid principal in policy")
        self.assertClientError(
            self.owner.get_bucket_policy, "NoSuchBucketPolicy", 404, Bucket=self.bucket
        )


class UserVariableTests(S3TestCase):
    """``${aws:username}`` in a bucket policy, for users IAM issued keys to."""

    def daemon(self) -> Daemon:
        return iam_daemon()

    def user_client(self, name: str) -> Any:
        iam = keyed_client("iam", self.endpoint, "test", "test")
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return keyed_client("s3", self.endpoint, key["AccessKeyId"], key["SecretAccessKey"])

    def test_home_prefixes(self) -> None:
        bucket = self.new_bucket()
        alice = f"alice-{bucket[-8:]}"
        for key in (f"home/{alice}/a", "home/bob/b"):
            self.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:aws:s3:::{bucket}",
                    "Condition": {"StringNotLike": {"s3:prefix": "home/${aws:username}/*"}},
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {"StringNotEquals": {"aws:username": alice}},
                },
            ],
        }
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
        s3 = self.user_client(alice)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"home/{alice}/")
        self.assertEqual([o["Key"] for o in listed["Contents"]], [f"home/{alice}/a"])
        self.assertEqual(s3.get_object(Bucket=bucket, Key="home/bob/b")["Body"].read(), b"x")
        for call, params in (
            (s3.list_objects_v2, {"Prefix": "home/bob/"}),
            (self.s3.list_objects_v2, {"Prefix": f"home/{alice}/"}),
            (self.s3.get_object, {"Key": "home/bob/b"}),
        ):
            self.assertClientError(call, "AccessDenied", 403, Bucket=bucket, **params)
