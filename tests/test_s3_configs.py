"""
S3's stored bucket configurations beyond the first round (replication,
Object Lock, policy status), through boto3 against the real daemon.
"""

from __future__ import annotations

import json
from typing import Any

from botocore import xform_name

from tests.s3support import S3TestCase, allow_public, client

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

    def test_default_retention_days_or_years(self) -> None:
        name = self.new_bucket(ObjectLockEnabledForBucket=True)
        for retention in (
            {"Mode": "GOVERNANCE", "Days": 1, "Years": 1},
            {"Mode": "GOVERNANCE"},
        ):
            self.assertClientError(
                self.s3.put_object_lock_configuration,
                "MalformedXML",
                400,
                Bucket=name,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": retention},
                },
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

    def test_infrequent_access_after_30_days(self) -> None:
        """
        Transitions to the IA classes come 30 days or more after creation:
        AWS's 400 InvalidArgument otherwise (S3 user guide, "Transitioning
        objects using Amazon S3 Lifecycle"), and nothing is stored.
        """
        name = self.new_bucket()
        for storage_class, days in (("STANDARD_IA", 29), ("ONEZONE_IA", 0)):
            rules = [
                {
                    "ID": "r",
                    "Status": "Enabled",
                    "Filter": {},
                    "Transitions": [{"Days": days, "StorageClass": storage_class}],
                }
            ]
            error = self.assertClientError(
                self.s3.put_bucket_lifecycle_configuration,
                "InvalidArgument",
                400,
                Bucket=name,
                LifecycleConfiguration={"Rules": rules},
            )
            self.assertEqual(
                error["Message"],
                "'Days' in Transition action must be greater than or equal to 30"
                f" for storageClass '{storage_class}'",
            )
        self.assertClientError(
            self.s3.get_bucket_lifecycle_configuration,
            "NoSuchLifecycleConfiguration",
            404,
            Bucket=name,
        )
        rules[0]["Transitions"] = [
            {"Days": 30, "StorageClass": "STANDARD_IA"},
            {"Days": 0, "StorageClass": "GLACIER_IR"},
        ]
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": rules}
        )


#: One valid document of each Id-keyed family (botocore's model's required members).
_KEYED = {
    "Metrics": {"Id": "{id}", "Filter": {"Prefix": "logs/"}},
    "Inventory": {
        "Id": "{id}",
        "IsEnabled": True,
        "IncludedObjectVersions": "Current",
        "Schedule": {"Frequency": "Daily"},
        "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::reports", "Format": "CSV"}},
    },
    "Analytics": {"Id": "{id}", "StorageClassAnalysis": {}},
    "IntelligentTiering": {
        "Id": "{id}",
        "Status": "Enabled",
        "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}],
    },
}


class KeyedConfigurationTests(S3TestCase):
    """Metrics, inventory, analytics and Intelligent-Tiering configurations, by Id."""

    def _call(self, verb: str, noun: str, plural: bool = False, **params: Any) -> Any:
        suffix = "configurations" if plural else "configuration"
        return getattr(self.s3, f"{verb}_bucket_{xform_name(noun)}_{suffix}")(**params)

    def test_round_trips(self) -> None:
        for noun, template in _KEYED.items():
            name = self.new_bucket()
            member = f"{noun}Configuration"
            listed = self._call("list", noun, plural=True, Bucket=name)
            self.assertEqual((listed["IsTruncated"], f"{member}List" in listed), (False, False))
            # S3 API reference, "List of error codes": NoSuchConfiguration.
            error = self.assertClientError(
                self._call, "NoSuchConfiguration", 404, "get", noun, Bucket=name, Id="a"
            )
            self.assertEqual(error["Message"], "The specified configuration does not exist.")
            documents = {
                ident: json.loads(json.dumps(template).replace("{id}", ident))
                for ident in ("b", "a")
            }
            for ident, document in documents.items():
                self._call("put", noun, Bucket=name, Id=ident, **{member: document})
            self.assertEqual(
                self._call("get", noun, Bucket=name, Id="a")[member], documents["a"], noun
            )
            listed = self._call("list", noun, plural=True, Bucket=name)
            self.assertEqual(listed[f"{member}List"], [documents["a"], documents["b"]], noun)
            self._call("delete", noun, Bucket=name, Id="a")
            self.assertClientError(
                self._call, "NoSuchConfiguration", 404, "get", noun, Bucket=name, Id="a"
            )
            self.assertClientError(
                self._call, "NoSuchConfiguration", 404, "delete", noun, Bucket=name, Id="a"
            )
            listed = self._call("list", noun, plural=True, Bucket=name)
            self.assertEqual(listed[f"{member}List"], [documents["b"]], noun)

    def test_required_members(self) -> None:
        """A document without a member the model requires is AWS's MalformedXML."""
        s3 = client(self.endpoint, parameter_validation=False)
        name = self.new_bucket()
        self.assertClientError(
            s3.put_bucket_inventory_configuration,
            "MalformedXML",
            400,
            Bucket=name,
            Id="a",
            InventoryConfiguration={"Id": "a", "IsEnabled": True},
        )


class ValidationTests(S3TestCase):
    """What AWS refuses in the stored configurations' Put documents."""

    def setUp(self) -> None:
        super().setUp()
        # Sent as written, so that the daemon, not botocore, judges them.
        self.raw_s3 = client(self.endpoint, parameter_validation=False)

    def test_enumerations(self) -> None:
        """A value outside the model's enumerations is MalformedXML."""
        name = self.new_bucket()
        for call, params in (
            (
                self.raw_s3.put_bucket_accelerate_configuration,
                {"AccelerateConfiguration": {"Status": "On"}},
            ),
            (
                self.raw_s3.put_bucket_request_payment,
                {"RequestPaymentConfiguration": {"Payer": "Me"}},
            ),
            (self.raw_s3.put_bucket_versioning, {"VersioningConfiguration": {"Status": "On"}}),
            (
                self.raw_s3.put_bucket_intelligent_tiering_configuration,
                {
                    "Id": "a",
                    "IntelligentTieringConfiguration": {
                        "Id": "a",
                        "Status": "Enabled",
                        "Tierings": [{"Days": 90, "AccessTier": "COLD"}],
                    },
                },
            ),
        ):
            self.assertClientError(call, "MalformedXML", 400, Bucket=name, **params)
        self.assertEqual(self.s3.get_bucket_request_payment(Bucket=name)["Payer"], "BucketOwner")

    def test_accelerate_dotted_name(self) -> None:
        name = f"{self.bucket_name()}.dotted"
        self.s3.create_bucket(Bucket=name)
        error = self.assertClientError(
            self.s3.put_bucket_accelerate_configuration,
            "InvalidRequest",
            400,
            Bucket=name,
            AccelerateConfiguration={"Status": "Enabled"},
        )
        self.assertEqual(
            error["Message"],
            "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names",
        )

    def test_accelerate_round_trip(self) -> None:
        name = self.new_bucket()
        self.assertNotIn("Status", self.s3.get_bucket_accelerate_configuration(Bucket=name))
        self.s3.put_bucket_accelerate_configuration(
            Bucket=name, AccelerateConfiguration={"Status": "Suspended"}
        )
        status = self.s3.get_bucket_accelerate_configuration(Bucket=name)["Status"]
        self.assertEqual(status, "Suspended")

    def test_website_needs_index_or_redirect(self) -> None:
        name = self.new_bucket()
        error = self.assertClientError(
            self.raw_s3.put_bucket_website,
            "InvalidArgument",
            400,
            Bucket=name,
            WebsiteConfiguration={},
        )
        self.assertEqual(
            error["Message"],
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
        )

    def test_logging_target_must_exist(self) -> None:
        name = self.new_bucket()
        missing = self.bucket_name()
        error = self.assertClientError(
            self.s3.put_bucket_logging,
            "InvalidTargetBucketForLogging",
            400,
            Bucket=name,
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": missing, "TargetPrefix": "l/"}},
        )
        self.assertEqual(
            (error["Message"], error["TargetBucket"]),
            ("The target bucket for logging does not exist", missing),
        )
        self.assertEqual(self.s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"), None)
        self.s3.put_bucket_logging(
            Bucket=name,
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": name, "TargetPrefix": "l/"}},
        )
        enabled = self.s3.get_bucket_logging(Bucket=name)["LoggingEnabled"]
        self.assertEqual(enabled, {"TargetBucket": name, "TargetPrefix": "l/"})
