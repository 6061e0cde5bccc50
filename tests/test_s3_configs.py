"""
S3's stored bucket configurations beyond the first round (replication,
Object Lock, policy status), through boto3 against the real daemon.
"""

from __future__ import annotations

import json

from tests.s3support import S3TestCase, allow_public

_ROLE = "arn:aws:iam::000000000000:role/replication"

_REPLICATION = {
    "Role": _ROLE,
    "Rules": [
        {
            "ID": "all",
            "Priority": 1,
            "Filter": {"Prefix": ""},
            "Status": "Enabled",
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": "arn:aws:s3:::elsewhere"},
        }
    ],
}


class NotFoundTests(S3TestCase):
    """The reads Terraform and cleanup tools make on every bucket."""

    def test_replication(self) -> None:
        # Code and message: S3 API reference, "List of error codes".
        name = self.new_bucket()
        error = self.assertClientError(
            self.s3.get_bucket_replication,
            "ReplicationConfigurationNotFoundError",
            404,
            Bucket=name,
        )
        self.assertEqual(error["Message"], "The replication configuration was not found")
        self.assertEqual(error["BucketName"], name)

    def test_object_lock(self) -> None:
        # Code and message: GetObjectLockConfiguration in the S3 API reference.
        name = self.new_bucket()
        error = self.assertClientError(
            self.s3.get_object_lock_configuration,
            "ObjectLockConfigurationNotFoundError",
            404,
            Bucket=name,
        )
        self.assertEqual(
            error["Message"], "Object Lock configuration does not exist for this bucket"
        )

    def test_policy_status_without_policy(self) -> None:
        name = self.new_bucket()
        error = self.assertClientError(
            self.s3.get_bucket_policy_status, "NoSuchBucketPolicy", 404, Bucket=name
        )
        self.assertEqual(error["Message"], "The bucket policy does not exist")


class ReplicationTests(S3TestCase):
    def test_versioning_required(self) -> None:
        name = self.new_bucket()
        error = self.assertClientError(
            self.s3.put_bucket_replication,
            "InvalidRequest",
            400,
            Bucket=name,
            ReplicationConfiguration=_REPLICATION,
        )
        self.assertEqual(
            error["Message"],
            "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
        )
        self.assertClientError(
            self.s3.get_bucket_replication,
            "ReplicationConfigurationNotFoundError",
            404,
            Bucket=name,
        )

    def test_round_trip(self) -> None:
        name = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_replication(Bucket=name, ReplicationConfiguration=_REPLICATION)
        found = self.s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"]
        self.assertEqual(found, _REPLICATION)
        self.s3.delete_bucket_replication(Bucket=name)
        self.assertClientError(
            self.s3.get_bucket_replication,
            "ReplicationConfigurationNotFoundError",
            404,
            Bucket=name,
        )


class ObjectLockConfigurationTests(S3TestCase):
    def test_existing_bucket_refused(self) -> None:
        name = self.new_bucket()
        error = self.assertClientError(
            self.s3.put_object_lock_configuration,
            "InvalidBucketState",
            409,
            Bucket=name,
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"},
        )
        self.assertEqual(
            error["Message"], "Object Lock configuration cannot be enabled on existing buckets"
        )

    def test_created_enabled(self) -> None:
        """Object Lock at creation turns versioning on for good."""
        name = self.new_bucket(ObjectLockEnabledForBucket=True)
        found = self.s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
        self.assertEqual(found, {"ObjectLockEnabled": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=name)["Status"], "Enabled")
        self.assertIn("VersionId", self.s3.put_object(Bucket=name, Key="k", Body=b"x"))
        error = self.assertClientError(
            self.s3.put_bucket_versioning,
            "InvalidBucketState",
            409,
            Bucket=name,
            VersioningConfiguration={"Status": "Suspended"},
        )
        self.assertEqual(
            error["Message"],
            "An Object Lock configuration is present on this bucket, so the versioning state "
            "cannot be changed.",
        )

    def test_default_retention_round_trip(self) -> None:
        name = self.new_bucket(ObjectLockEnabledForBucket=True)
        configuration = {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        }
        self.s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=configuration)
        found = self.s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
        self.assertEqual(found, configuration)


class PolicyStatusTests(S3TestCase):
    def _policy(self, name: str, principal: object) -> str:
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": principal,
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{name}/*",
                    }
                ],
            }
        )

    def test_private(self) -> None:
        name = self.new_bucket()
        policy = self._policy(name, {"AWS": "arn:aws:iam::000000000000:root"})
        self.s3.put_bucket_policy(Bucket=name, Policy=policy)
        status = self.s3.get_bucket_policy_status(Bucket=name)["PolicyStatus"]
        self.assertEqual(status, {"IsPublic": False})

    def test_public(self) -> None:
        name = self.new_bucket()
        allow_public(self.s3, name)
        self.s3.put_bucket_policy(Bucket=name, Policy=self._policy(name, "*"))
        status = self.s3.get_bucket_policy_status(Bucket=name)["PolicyStatus"]
        self.assertEqual(status, {"IsPublic": True})


class LifecycleTests(S3TestCase):
    """
    ``TransitionDefaultMinimumObjectSize`` travels in the
    ``x-amz-transition-default-minimum-object-size`` header of Put's and
    Get's answers (botocore's model); Terraform's aws provider waits for it.
    """

    _HEADER = "x-amz-transition-default-minimum-object-size"
    _RULES = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]}

    def test_default(self) -> None:
        name = self.new_bucket()
        put = self.s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration=self._RULES
        )
        headers = put["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers[self._HEADER], "all_storage_classes_128K")
        got = self.s3.get_bucket_lifecycle_configuration(Bucket=name)
        self.assertEqual(got["TransitionDefaultMinimumObjectSize"], "all_storage_classes_128K")
        self.assertEqual(got["Rules"], self._RULES["Rules"])

    def test_kept(self) -> None:
        name = self.new_bucket()
        put = self.s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration=self._RULES,
            TransitionDefaultMinimumObjectSize="varies_by_storage_class",
        )
        self.assertEqual(put["TransitionDefaultMinimumObjectSize"], "varies_by_storage_class")
        got = self.s3.get_bucket_lifecycle_configuration(Bucket=name)
        self.assertEqual(
            got["ResponseMetadata"]["HTTPHeaders"][self._HEADER], "varies_by_storage_class"
        )
