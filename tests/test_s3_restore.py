"""Storage classes and archive restores (see s3/restore): boto3 on the daemon, and a fake clock."""

from __future__ import annotations

from email.utils import formatdate
from io import BytesIO
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.gateway.context import internal_context
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import restore
from awsemu.s3.provider import S3Provider
from awsemu.s3.store import MemoryBlobs, Store
from tests.s3support import S3TestCase

ARCHIVED_READ = "The operation is not valid for the object's storage class"


class StorageClassTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()

    def test_invalid_storage_class(self) -> None:
        for call, extra in (
            (self.s3.put_object, {"Body": b"x"}),
            (self.s3.create_multipart_upload, {}),
        ):
            for storage_class in ("CHEAP", "EXPRESS_ONEZONE", "OUTPOSTS"):
                error = self.assertClientError(
                    call,
                    "InvalidStorageClass",
                    400,
                    Bucket=self.bucket,
                    Key="k",
                    StorageClass=storage_class,
                    **extra,
                )
                self.assertEqual(
                    (error["Message"], error["StorageClassRequested"]),
                    ("The storage class you specified is not valid", storage_class),
                )
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x", StorageClass="GLACIER_IR")
        self.assertEqual(
            self.s3.get_object(Bucket=self.bucket, Key="k")["StorageClass"], "GLACIER_IR"
        )

    def test_archived_reads(self) -> None:
        """GLACIER and DEEP_ARCHIVE objects are headed but not read or copied unrestored."""
        for storage_class in sorted(restore.ARCHIVED):
            self.s3.put_object(
                Bucket=self.bucket, Key=storage_class, Body=b"cold", StorageClass=storage_class
            )
            error = self.assertClientError(
                self.s3.get_object, "InvalidObjectState", 403, Bucket=self.bucket, Key=storage_class
            )
            self.assertEqual(
                (error["Message"], error["StorageClass"]), (ARCHIVED_READ, storage_class)
            )
            head = self.s3.head_object(Bucket=self.bucket, Key=storage_class)
            self.assertEqual(head["StorageClass"], storage_class)
            self.assertNotIn("Restore", head)
            self.assertClientError(
                self.s3.copy_object,
                "InvalidObjectState",
                403,
                Bucket=self.bucket,
                Key="copy",
                CopySource={"Bucket": self.bucket, "Key": storage_class},
            )

    def test_restore_requests(self) -> None:
        """202 and an ongoing x-amz-restore; 409 while it runs; non-archived objects refused."""
        self.s3.put_object(Bucket=self.bucket, Key="cold", Body=b"x", StorageClass="GLACIER")
        self.assertNotIn(
            "RestoreStatus",
            self.s3.list_objects_v2(Bucket=self.bucket, OptionalObjectAttributes=["RestoreStatus"])[
                "Contents"
            ][0],
        )
        started = self.s3.restore_object(
            Bucket=self.bucket,
            Key="cold",
            RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}},
        )
        self.assertEqual(started["ResponseMetadata"]["HTTPStatusCode"], 202)
        head = self.s3.head_object(Bucket=self.bucket, Key="cold")
        self.assertEqual(head["Restore"], 'ongoing-request="true"')
        listed = self.s3.list_objects_v2(
            Bucket=self.bucket, OptionalObjectAttributes=["RestoreStatus"]
        )["Contents"][0]
        self.assertEqual(listed["RestoreStatus"], {"IsRestoreInProgress": True})
        error = self.assertClientError(
            self.s3.restore_object,
            "RestoreAlreadyInProgress",
            409,
            Bucket=self.bucket,
            Key="cold",
            RestoreRequest={"Days": 1},
        )
        self.assertEqual(error["Message"], "Object restore is already in progress")
        self.s3.put_object(Bucket=self.bucket, Key="warm", Body=b"x")
        error = self.assertClientError(
            self.s3.restore_object,
            "InvalidObjectState",
            403,
            Bucket=self.bucket,
            Key="warm",
            RestoreRequest={"Days": 1},
        )
        self.assertEqual(
            error["Message"], "Restore is not allowed for the object's current storage class"
        )


def context() -> Any:
    return internal_context("r", "000000000000", "us-east-1", "s3", 0.0)


class RestoreClockTests(SynchronousTestCase):
    """A restore's life on the provider's clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(86400 * 100 + 3600)  # 01:00 UTC on a day
        self.s3 = S3Provider(Store(MemoryBlobs()), self.clock)
        self.call("create_bucket", Bucket="bkt")
        self.call(
            "put_object", Bucket="bkt", Key="k", Body=BytesIO(b"cold"), StorageClass="GLACIER"
        )

    def call(self, operation: str, **params: Any) -> Any:
        method = getattr(self.s3, operation)
        return self.successResultOf(Deferred.fromCoroutine(method(context(), params)))

    def refused(self, operation: str, **params: Any) -> ServiceError:
        method = getattr(self.s3, operation)
        failure = self.failureResultOf(
            Deferred.fromCoroutine(method(context(), params)), ServiceError
        )
        error: ServiceError = failure.value
        return error

    def test_ready_after_tier_then_expires(self) -> None:
        started = self.call("restore_object", Bucket="bkt", Key="k", RestoreRequest={"Days": 2})
        self.assertEqual(started, {restore.ACCEPTED: True})
        self.clock.advance(3 * 3600 - 1)
        self.assertEqual(
            self.refused("get_object", Bucket="bkt", Key="k").code, "InvalidObjectState"
        )
        self.clock.advance(1)
        got = self.call("get_object", Bucket="bkt", Key="k")
        self.assertEqual(got["Body"], b"cold")
        # Ready at 04:00 on day 100; two days later, rounded up to midnight: day 103.
        expiry = formatdate(86400 * 103, usegmt=True)
        self.assertEqual(got["Restore"], f'ongoing-request="false", expiry-date="{expiry}"')
        # Restoring a restored copy extends it (200, no ACCEPTED).
        self.assertEqual(
            self.call("restore_object", Bucket="bkt", Key="k", RestoreRequest={"Days": 5}), {}
        )
        listed = self.call(
            "list_objects_v2", Bucket="bkt", OptionalObjectAttributes=["RestoreStatus"]
        )
        self.assertEqual(
            listed["Contents"][0]["RestoreStatus"],
            {"IsRestoreInProgress": False, "RestoreExpiryDate": 86400 * 106},
        )
        self.assertNotIn("RestoreStatus", self.call("list_objects_v2", Bucket="bkt")["Contents"][0])
        self.clock.advance(86400 * 6)
        head = self.call("head_object", Bucket="bkt", Key="k")
        self.assertNotIn("Restore", head)
        self.assertEqual(
            self.refused("get_object", Bucket="bkt", Key="k").code, "InvalidObjectState"
        )

    def test_tiers(self) -> None:
        self.call(
            "restore_object",
            Bucket="bkt",
            Key="k",
            RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}},
        )
        self.clock.advance(5 * 3600 - 1)
        self.assertEqual(
            self.call("head_object", Bucket="bkt", Key="k")["Restore"], 'ongoing-request="true"'
        )
        self.clock.advance(1)
        self.assertEqual(self.call("get_object", Bucket="bkt", Key="k")["Body"], b"cold")
