"""
Per-account access to buckets, through real boto3 clients of two accounts:
the owner's account is allowed, another is refused unless the bucket
policy or an ACL lets it in.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3support import (
    Daemon,
    S3TestCase,
    TwoAccountsTestCase,
    allow_public,
    client,
    enable_acls,
    raw,
)
from tests.test_s3_auth import iam_daemon, keyed_client, multipart_form, session_client

OWNER = "111111111111"
OTHER = "222222222222"


class CrossAccountTests(TwoAccountsTestCase):
    owner_account, other_account = OWNER, OTHER
    objects = {key: key.encode() for key in ("data/a.txt", "private/b.txt")}

    def post_as_other(self, key: str) -> tuple[int, bytes]:
        """A browser upload of ``key`` whose form ``OTHER`` signed."""
        form = self.other.generate_presigned_post(self.bucket, key)
        body, content_type = multipart_form(form["fields"], b"posted")
        status, _, answer = raw(
            self.endpoint, "POST", f"/{self.bucket}", body, {"Content-Type": content_type}
        )
        return status, answer

    def test_post_upload_needs_put_object(self) -> None:
        """A browser upload is made by whoever signed its form, and needs s3:PutObject too."""
        status, answer = self.post_as_other("data/posted")
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", answer)
        self.assertClientError(
            self.owner.head_object, "404", 404, Bucket=self.bucket, Key="data/posted"
        )
        self.put_policy(self.statement("Allow", {"AWS": OTHER}, "s3:PutObject", "/data/*"))
        self.assertEqual(self.post_as_other("data/posted")[0], 204)
        posted = self.owner.get_object(Bucket=self.bucket, Key="data/posted")
        self.assertEqual(posted["Body"].read(), b"posted")

    def put_policy(self, *statements: dict[str, Any]) -> None:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        self.owner.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(document))

    def statement(
        self, effect: str, principal: Any, action: Any, resource: str = "/*"
    ) -> dict[str, Any]:
        """A statement on this bucket; ``resource`` is what follows the bucket's ARN."""
        return {
            "Effect": effect,
            "Principal": principal,
            "Action": action,
            "Resource": f"arn:aws:s3:::{self.bucket}{resource}",
        }

    def assertDenied(self, call: Any, **params: Any) -> None:
        error = self.assertClientError(call, "AccessDenied", 403, Bucket=self.bucket, **params)
        self.assertEqual(error["Message"], "Access Denied")

    def assertReads(self, key: str) -> None:
        body = self.other.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        self.assertEqual(body, key.encode())

    def test_other_account_denied(self) -> None:
        """Without a grant, another account gets AccessDenied on every operation."""
        self.assertDenied(self.other.get_object, Key="data/a.txt")
        self.assertDenied(self.other.put_object, Key="new", Body=b"x")
        self.assertDenied(self.other.list_objects_v2)
        self.assertDenied(self.other.list_objects)
        self.assertDenied(self.other.delete_object, Key="data/a.txt")
        self.assertDenied(self.other.get_bucket_policy)
        self.assertDenied(self.other.get_bucket_encryption)
        self.assertDenied(self.other.put_bucket_tagging, Tagging={"TagSet": []})
        self.assertDenied(self.other.create_multipart_upload, Key="new")
        self.assertDenied(self.other.delete_bucket)
        self.assertDenied(
            self.other.copy_object, Key="copy", CopySource=f"{self.bucket}/data/a.txt"
        )
        self.assertClientError(self.other.head_bucket, "403", 403, Bucket=self.bucket)
        self.assertClientError(
            self.other.head_object, "403", 403, Bucket=self.bucket, Key="data/a.txt"
        )
        self.assertEqual(
            [o["Key"] for o in self.owner.list_objects_v2(Bucket=self.bucket)["Contents"]],
            ["data/a.txt", "private/b.txt"],
        )

    def test_head_denied_without_body(self) -> None:
        """A refused HEAD (here through a presigned URL) is a bare 403, as S3 sends it."""
        url = self.other.generate_presigned_url(
            "head_object", Params={"Bucket": self.bucket, "Key": "data/a.txt"}
        )
        target = url.removeprefix(self.endpoint)
        status, _, body = raw(self.endpoint, "HEAD", target)
        self.assertEqual((status, body), (403, b""))
        owner_url = self.owner.generate_presigned_url(
            "head_object", Params={"Bucket": self.bucket, "Key": "data/a.txt"}
        )
        self.assertEqual(raw(self.endpoint, "HEAD", owner_url.removeprefix(self.endpoint))[0], 200)

    def test_delete_objects_per_key(self) -> None:
        """DeleteObjects reports each refused key in its result, and deletes the allowed ones."""
        self.put_policy(self.statement("Allow", {"AWS": OTHER}, "s3:DeleteObject", "/data/*"))
        result = self.other.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": "data/a.txt"}, {"Key": "private/b.txt"}]},
        )
        self.assertEqual([d["Key"] for d in result["Deleted"]], ["data/a.txt"])
        self.assertEqual(
            [(e["Key"], e["Code"], e["Message"]) for e in result["Errors"]],
            [("private/b.txt", "AccessDenied", "Access Denied")],
        )

    def test_owner_unaffected(self) -> None:
        """The owner's account keeps every right, policy or not."""
        self.put_policy(self.statement("Allow", {"AWS": OTHER}, "s3:GetObject"))
        self.owner.put_object(Bucket=self.bucket, Key="data/c.txt", Body=b"c")
        self.assertEqual(
            self.owner.get_object(Bucket=self.bucket, Key="data/c.txt")["Body"].read(), b"c"
        )
        self.owner.head_bucket(Bucket=self.bucket)
        self.owner.delete_object(Bucket=self.bucket, Key="data/c.txt")
        self.assertEqual(self.owner.list_objects_v2(Bucket=self.bucket)["KeyCount"], 2)

    def test_account_principal_on_prefix(self) -> None:
        """An account principal with ``s3:Get*`` on a prefix reads inside it, nothing else."""
        self.put_policy(
            self.statement("Allow", {"AWS": f"arn:aws:iam::{OTHER}:root"}, "s3:Get*", "/data/*")
        )
        self.assertReads("data/a.txt")
        self.other.head_object(Bucket=self.bucket, Key="data/a.txt")
        self.assertDenied(self.other.get_object, Key="private/b.txt")
        self.assertDenied(self.other.put_object, Key="data/new", Body=b"x")
        self.assertDenied(self.other.list_objects_v2)
        # Without s3:ListBucket, a missing key is not told apart from a forbidden one.
        self.assertDenied(self.other.get_object, Key="data/missing")

    def test_star_principal(self) -> None:
        """``*`` grants any account: writes, listing, reading back."""
        allow_public(self.owner, self.bucket)
        self.put_policy(
            self.statement("Allow", "*", ["s3:PutObject", "s3:GetObject"]),
            self.statement("Allow", {"AWS": "*"}, "s3:ListBucket", ""),
        )
        self.other.put_object(Bucket=self.bucket, Key="data/new", Body=b"data/new")
        self.assertReads("data/new")
        self.other.head_bucket(Bucket=self.bucket)
        listed = self.other.list_objects_v2(Bucket=self.bucket, Prefix="data/")
        self.assertEqual([o["Key"] for o in listed["Contents"]], ["data/a.txt", "data/new"])
        self.assertClientError(
            self.other.get_object, "NoSuchKey", 404, Bucket=self.bucket, Key="data/missing"
        )

    def test_explicit_deny_wins(self) -> None:
        """A Deny beats any Allow, for the owner's account too."""
        self.put_policy(
            self.statement("Allow", {"AWS": OTHER}, "s3:*"),
            self.statement("Deny", "*", "s3:GetObject", "/private/*"),
        )
        self.assertReads("data/a.txt")
        self.assertDenied(self.other.get_object, Key="private/b.txt")
        self.assertDenied(self.owner.get_object, Key="private/b.txt")

    def test_root_keeps_policy_rights(self) -> None:
        """A policy denying everything still lets the owner's root user replace it."""
        self.put_policy(self.statement("Deny", "*", "s3:*"), self.statement("Deny", "*", "*", ""))
        self.assertDenied(self.owner.get_object, Key="data/a.txt")
        self.assertDenied(self.owner.list_objects_v2)
        self.owner.get_bucket_policy(Bucket=self.bucket)
        self.owner.delete_bucket_policy(Bucket=self.bucket)
        self.assertEqual(self.owner.list_objects_v2(Bucket=self.bucket)["KeyCount"], 2)

    def test_policy_operations_stay_with_owner(self) -> None:
        """Another account allowed to read the policy still may not: MethodNotAllowed."""
        self.put_policy(self.statement("Allow", {"AWS": OTHER}, "s3:GetBucketPolicy", ""))
        self.assertClientError(
            self.other.get_bucket_policy, "MethodNotAllowed", 405, Bucket=self.bucket
        )

    def test_public_read_object(self) -> None:
        """A public-read object is readable by any account and unsigned; the bucket is not."""
        enable_acls(self.owner, self.bucket)
        allow_public(self.owner, self.bucket)
        self.owner.put_object(
            Bucket=self.bucket, Key="data/public", Body=b"data/public", ACL="public-read"
        )
        self.assertReads("data/public")
        status, _, body = raw(self.endpoint, "GET", f"/{self.bucket}/data/public")
        self.assertEqual((status, body), (200, b"data/public"))
        self.assertDenied(self.other.get_object, Key="data/a.txt")
        self.assertDenied(self.other.list_objects_v2)
        self.assertDenied(self.other.put_object_acl, Key="data/public", ACL="private")

    def test_public_read_bucket(self) -> None:
        """A bucket's public-read ACL lets others list it, not read its objects."""
        enable_acls(self.owner, self.bucket)
        allow_public(self.owner, self.bucket)
        self.owner.put_bucket_acl(Bucket=self.bucket, ACL="public-read")
        self.assertEqual(self.other.list_objects_v2(Bucket=self.bucket)["KeyCount"], 2)
        self.assertDenied(self.other.get_object, Key="data/a.txt")

    def test_names_stay_global(self) -> None:
        """CreateBucket and ListBuckets keep their per-account meaning."""
        with self.assertRaises(ClientError) as raised:
            self.other.create_bucket(Bucket=self.bucket)
        self.assertEqual(raised.exception.response["Error"]["Code"], "BucketAlreadyExists")
        names = [b["Name"] for b in self.other.list_buckets()["Buckets"]]
        self.assertNotIn(self.bucket, names)


class PrincipalArnTests(S3TestCase):
    """Bucket policies naming IAM users and roles, whose keys IAM and STS issued."""

    def daemon(self) -> Daemon:
        return iam_daemon()

    def setUp(self) -> None:
        super().setUp()
        self.owner = client(self.endpoint, access_key=OWNER)
        self.bucket = self.bucket_name()
        self.owner.create_bucket(Bucket=self.bucket)
        self.owner.put_object(Bucket=self.bucket, Key="k", Body=b"shared")
        self.iam = keyed_client("iam", self.endpoint, OTHER, "test")

    def user(self, name: str) -> tuple[str, BaseClient]:
        """A new IAM user of the other account: its ARN, and an S3 client with its key."""
        unique = f"{name}-{uuid.uuid4().hex[:8]}"
        arn = self.iam.create_user(UserName=unique)["User"]["Arn"]
        key = self.iam.create_access_key(UserName=unique)["AccessKey"]
        return arn, keyed_client("s3", self.endpoint, key["AccessKeyId"], key["SecretAccessKey"])

    def allow(self, principal: str) -> None:
        statement = {
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{self.bucket}/*",
        }
        self.owner.put_bucket_policy(
            Bucket=self.bucket,
            Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )

    def test_user_principal(self) -> None:
        """The user the policy names may read; another user of its account may not."""
        alice_arn, alice = self.user("alice")
        _, bob = self.user("bob")
        self.allow(alice_arn)
        self.assertEqual(alice.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"shared")
        self.assertClientError(bob.get_object, "AccessDenied", 403, Bucket=self.bucket, Key="k")

    def test_role_principal(self) -> None:
        """A role named by the policy covers the sessions of whoever assumes it."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole"}
            ],
        }
        role = self.iam.create_role(
            RoleName=f"reader-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]
        self.allow(role["Arn"])
        sts = keyed_client("sts", self.endpoint, OTHER, "test")
        credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="reader")["Credentials"]
        session = session_client(self.endpoint, credentials)
        self.assertEqual(session.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"shared")
        other = client(self.endpoint, access_key=OTHER)
        self.assertClientError(other.get_object, "AccessDenied", 403, Bucket=self.bucket, Key="k")
