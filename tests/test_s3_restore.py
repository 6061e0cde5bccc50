"""
Storage classes and archive restores (see s3/restore): boto3 on daemons
(restores at once by default, or after ``--s3-restore-seconds``), the
option's parsing, and AWS's tier times on a fake clock.
"""

from __future__ import annotations

import math
import time
from email.utils import formatdate
from io import BytesIO
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import ConfigError, config_from_options
from awsemu.gateway.context import internal_context
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import restore
from awsemu.s3.provider import S3Provider
from awsemu.s3.store import MemoryBlobs, Store
from tests.s3support import Daemon, S3TestCase

ARCHIVED_READ = "The operation is not valid for the object's storage class"
NOT_SECONDS = "is neither a number of seconds (0 or more) nor aws"


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

    def test_restore_at_once(self) -> None:
        """
        By default (``--s3-restore-seconds 0``) a restore is 202 and ready at
        once; restoring again extends it (200); non-archived objects are refused.
        """
        self.s3.put_object(Bucket=self.bucket, Key="cold", Body=b"x", StorageClass="GLACIER")
        self.assertNotIn("RestoreStatus", listed(self.s3, self.bucket))
        before = time.time()
        started = self.s3.restore_object(Bucket=self.bucket, Key="cold", RestoreRequest={"Days": 1})
        after = time.time()
        self.assertEqual(started["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="cold")["Body"].read(), b"x")
        # Ready now; one day later, rounded up to the next midnight UTC.
        expiries = {
            formatdate(math.ceil((moment + 86400) / 86400) * 86400, usegmt=True)
            for moment in (before, after)
        }
        head = self.s3.head_object(Bucket=self.bucket, Key="cold")
        self.assertIn(
            head["Restore"],
            {f'ongoing-request="false", expiry-date="{expiry}"' for expiry in expiries},
        )
        self.assertIs(listed(self.s3, self.bucket)["RestoreStatus"]["IsRestoreInProgress"], False)
        extended = self.s3.restore_object(
            Bucket=self.bucket, Key="cold", RestoreRequest={"Days": 5}
        )
        self.assertEqual(extended["ResponseMetadata"]["HTTPStatusCode"], 200)
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


def listed(s3: Any, bucket: str) -> dict[str, Any]:
    """The first entry of a listing of ``bucket`` that asks for restore status."""
    entry: dict[str, Any] = s3.list_objects_v2(
        Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"]
    )["Contents"][0]
    return entry


class DelayedRestoreTests(S3TestCase):
    """A daemon given ``--s3-restore-seconds 2``: restores run, then are ready."""

    def daemon(self) -> Daemon:
        daemon = Daemon(["--s3-restore-seconds", "2"]).start()
        self.addCleanup(daemon.stop)
        return daemon

    def test_in_progress_then_ready(self) -> None:
        """Ongoing (409 on a second request, unreadable) until the delay has passed."""
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="DEEP_ARCHIVE")
        started = self.s3.restore_object(
            Bucket=bucket,
            Key="cold",
            RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}},
        )
        self.assertEqual(started["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(
            self.s3.head_object(Bucket=bucket, Key="cold")["Restore"], 'ongoing-request="true"'
        )
        self.assertEqual(listed(self.s3, bucket)["RestoreStatus"], {"IsRestoreInProgress": True})
        error = self.assertClientError(
            self.s3.restore_object,
            "RestoreAlreadyInProgress",
            409,
            Bucket=bucket,
            Key="cold",
            RestoreRequest={"Days": 1},
        )
        self.assertEqual(error["Message"], "Object restore is already in progress")
        self.assertClientError(
            self.s3.get_object, "InvalidObjectState", 403, Bucket=bucket, Key="cold"
        )
        deadline = time.monotonic() + 30
        while self.s3.head_object(Bucket=bucket, Key="cold")["Restore"] == 'ongoing-request="true"':
            self.assertLess(time.monotonic(), deadline, "the restore never finished")
            time.sleep(0.2)
        self.assertTrue(
            self.s3.head_object(Bucket=bucket, Key="cold")["Restore"].startswith(
                'ongoing-request="false", expiry-date="'
            )
        )
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="cold")["Body"].read(), b"x")


class RestoreSecondsOptionTests(SynchronousTestCase):
    """``--s3-restore-seconds`` (``AWSEMU_S3_RESTORE_SECONDS``)."""

    def test_values(self) -> None:
        """0 by default; a number of seconds, or ``aws`` (None) for AWS's tier times."""
        self.assertEqual(config_from_options({}, {}).s3_restore_seconds, 0.0)
        self.assertEqual(
            config_from_options({"s3-restore-seconds": "2.5"}, {}).s3_restore_seconds, 2.5
        )
        self.assertIsNone(
            config_from_options({}, {"AWSEMU_S3_RESTORE_SECONDS": "aws"}).s3_restore_seconds
        )
        self.assertEqual(
            config_from_options({"s3-restore-seconds": "0"}, {}).s3_restore_seconds, 0.0
        )

    def test_bad_values(self) -> None:
        """Negative, infinite, NaN and other text are refused, naming the option or variable."""
        for text in ("-1", "soon", "inf", "nan", "AWS", ""):
            e = self.assertRaises(
                ConfigError, config_from_options, {"s3-restore-seconds": text}, {}
            )
            self.assertEqual(
                str(e),
                f"--s3-restore-seconds: {text!r} {NOT_SECONDS}",
            )
        e = self.assertRaises(
            ConfigError, config_from_options, {}, {"AWSEMU_S3_RESTORE_SECONDS": "-5"}
        )
        self.assertEqual(
            str(e),
            f"AWSEMU_S3_RESTORE_SECONDS: '-5' {NOT_SECONDS}",
        )


def context() -> Any:
    return internal_context("r", "000000000000", "us-east-1", "s3", 0.0)


class RestoreClockTests(SynchronousTestCase):
    """A restore's life on the provider's clock."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(86400 * 100 + 3600)  # 01:00 UTC on a day
        self.use_provider(None)

    def use_provider(self, restore_seconds: float | None) -> None:
        """A provider on the fake clock holding ``bkt/k``, a GLACIER object."""
        self.s3 = S3Provider(Store(MemoryBlobs()), self.clock, restore_seconds=restore_seconds)
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

    def assert_readable(self, expiry_day: int) -> None:
        """``bkt/k`` is read, restored until midnight UTC starting ``expiry_day``."""
        got = self.call("get_object", Bucket="bkt", Key="k")
        self.assertEqual(got["Body"], b"cold")
        expiry = formatdate(86400 * expiry_day, usegmt=True)
        self.assertEqual(got["Restore"], f'ongoing-request="false", expiry-date="{expiry}"')

    def test_ready_after_tier_then_expires(self) -> None:
        started = self.call("restore_object", Bucket="bkt", Key="k", RestoreRequest={"Days": 2})
        self.assertEqual(started, {restore.ACCEPTED: True})
        self.clock.advance(3 * 3600 - 1)
        self.assertEqual(
            self.refused("get_object", Bucket="bkt", Key="k").code, "InvalidObjectState"
        )
        self.clock.advance(1)
        # Ready at 04:00 on day 100; two days later, rounded up to midnight: day 103.
        self.assert_readable(expiry_day=103)
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

    def test_configured_seconds(self) -> None:
        """Given seconds, every tier takes them; 0 makes the copy ready at once."""
        self.use_provider(30)
        started = self.call(
            "restore_object",
            Bucket="bkt",
            Key="k",
            RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}},
        )
        self.assertEqual(started, {restore.ACCEPTED: True})
        self.clock.advance(29)
        self.assertEqual(
            self.refused("restore_object", Bucket="bkt", Key="k", RestoreRequest={"Days": 1}).code,
            "RestoreAlreadyInProgress",
        )
        self.clock.advance(1)
        self.assertEqual(self.call("get_object", Bucket="bkt", Key="k")["Body"], b"cold")
        self.use_provider(0)
        started = self.call("restore_object", Bucket="bkt", Key="k", RestoreRequest={"Days": 1})
        self.assertEqual(started, {restore.ACCEPTED: True})
        # Ready at once; a day later, rounded up to midnight: day 102.
        self.assert_readable(expiry_day=102)
        self.assertEqual(
            self.call("restore_object", Bucket="bkt", Key="k", RestoreRequest={"Days": 1}), {}
        )
