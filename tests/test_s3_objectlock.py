"""
S3 Object Lock on object versions (retention, legal holds, default
retention, enforcement on delete), through boto3 against the real daemon.
"""

from __future__ import annotations

import datetime

from tests.s3support import S3TestCase

_LATER = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=2)


class ObjectLockTests(S3TestCase):
    def _locked_bucket(self) -> str:
        return self.new_bucket(ObjectLockEnabledForBucket=True)

    def _refused_bypass(self, name: str, version: str) -> None:
        """Deleting ``version`` is refused even with the governance bypass."""
        self.assertClientError(
            self.s3.delete_object,
            "AccessDenied",
            403,
            Bucket=name,
            Key="k",
            VersionId=version,
            BypassGovernanceRetention=True,
        )

    def test_not_enabled(self) -> None:
        """Object-level lock requests on a bucket without Object Lock are refused."""
        name = self.new_bucket()
        self.s3.put_object(Bucket=name, Key="k", Body=b"x")
        for call, params in (
            (self.s3.get_object_retention, {}),
            (self.s3.get_object_legal_hold, {}),
            (self.s3.put_object_legal_hold, {"LegalHold": {"Status": "ON"}}),
            (self.s3.put_object, {"Body": b"y", "ObjectLockLegalHoldStatus": "ON"}),
        ):
            error = self.assertClientError(
                call, "InvalidRequest", 400, Bucket=name, Key="k", **params
            )
            self.assertEqual(error["Message"], "Bucket is missing Object Lock Configuration")

    def test_retention_on_put(self) -> None:
        name = self._locked_bucket()
        version = self.s3.put_object(
            Bucket=name,
            Key="k",
            Body=b"x",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=_LATER,
        )["VersionId"]
        retention = self.s3.get_object_retention(Bucket=name, Key="k")["Retention"]
        self.assertEqual(retention, {"Mode": "GOVERNANCE", "RetainUntilDate": _LATER})
        head = self.s3.head_object(Bucket=name, Key="k")
        self.assertEqual(
            (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]), ("GOVERNANCE", _LATER)
        )
        error = self.assertClientError(
            self.s3.delete_object, "AccessDenied", 403, Bucket=name, Key="k", VersionId=version
        )
        self.assertEqual(error["Message"], "Access Denied because object protected by object lock.")
        self.s3.delete_object(
            Bucket=name, Key="k", VersionId=version, BypassGovernanceRetention=True
        )
        self.assertNotIn("Versions", self.s3.list_object_versions(Bucket=name))

    def test_compliance(self) -> None:
        """COMPLIANCE retention can be neither bypassed nor shortened."""
        name = self._locked_bucket()
        version = self.s3.put_object(Bucket=name, Key="k", Body=b"x")["VersionId"]
        self.s3.put_object_retention(
            Bucket=name, Key="k", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": _LATER}
        )
        self._refused_bypass(name, version)
        self.assertClientError(
            self.s3.put_object_retention,
            "AccessDenied",
            403,
            Bucket=name,
            Key="k",
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _LATER},
            BypassGovernanceRetention=True,
        )
        # A delete without a version id only adds a delete marker.
        self.assertTrue(self.s3.delete_object(Bucket=name, Key="k")["DeleteMarker"])

    def test_legal_hold(self) -> None:
        name = self._locked_bucket()
        version = self.s3.put_object(Bucket=name, Key="k", Body=b"x")["VersionId"]
        # S3 API reference, "List of error codes": NoSuchObjectLockConfiguration.
        error = self.assertClientError(
            self.s3.get_object_legal_hold,
            "NoSuchObjectLockConfiguration",
            404,
            Bucket=name,
            Key="k",
        )
        self.assertEqual(
            error["Message"], "The specified object does not have a ObjectLock configuration"
        )
        self.assertClientError(
            self.s3.get_object_retention, "NoSuchObjectLockConfiguration", 404, Bucket=name, Key="k"
        )
        self.s3.put_object_legal_hold(Bucket=name, Key="k", LegalHold={"Status": "ON"})
        hold = self.s3.get_object_legal_hold(Bucket=name, Key="k")["LegalHold"]
        self.assertEqual(hold, {"Status": "ON"})
        self._refused_bypass(name, version)
        self.s3.put_object_legal_hold(Bucket=name, Key="k", LegalHold={"Status": "OFF"})
        self.s3.delete_object(Bucket=name, Key="k", VersionId=version)

    def test_default_retention(self) -> None:
        name = self._locked_bucket()
        self.s3.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
            },
        )
        before = datetime.datetime.now(datetime.UTC)
        version = self.s3.put_object(Bucket=name, Key="k", Body=b"x")["VersionId"]
        retention = self.s3.get_object_retention(Bucket=name, Key="k")["Retention"]
        self.assertEqual(retention["Mode"], "GOVERNANCE")
        until = retention["RetainUntilDate"] - before
        self.assertTrue(
            datetime.timedelta(hours=23) < until < datetime.timedelta(days=1, minutes=1), until
        )
        result = self.s3.delete_objects(
            Bucket=name, Delete={"Objects": [{"Key": "k", "VersionId": version}]}
        )
        self.assertEqual(result["Errors"][0]["Code"], "AccessDenied")


class LockedWritesTests(S3TestCase):
    """Copies and multipart uploads take their own lock, not their source's."""

    def test_copy_and_multipart(self) -> None:
        name = self.new_bucket(ObjectLockEnabledForBucket=True)
        self.s3.put_object(Bucket=name, Key="src", Body=b"x", ObjectLockLegalHoldStatus="ON")
        self.s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "src"})
        self.assertNotIn("ObjectLockLegalHoldStatus", self.s3.head_object(Bucket=name, Key="copy"))
        self.s3.copy_object(
            Bucket=name,
            Key="held",
            CopySource={"Bucket": name, "Key": "src"},
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=_LATER,
        )
        retention = self.s3.get_object_retention(Bucket=name, Key="held")["Retention"]
        self.assertEqual(retention, {"Mode": "GOVERNANCE", "RetainUntilDate": _LATER})
        upload = self.s3.create_multipart_upload(
            Bucket=name, Key="mp", ObjectLockLegalHoldStatus="ON"
        )["UploadId"]
        part = self.s3.upload_part(Bucket=name, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")
        self.s3.complete_multipart_upload(
            Bucket=name,
            Key="mp",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        hold = self.s3.get_object_legal_hold(Bucket=name, Key="mp")["LegalHold"]
        self.assertEqual(hold, {"Status": "ON"})

    def test_multipart_refused_without_lock(self) -> None:
        name = self.new_bucket()
        error = self.assertClientError(
            self.s3.create_multipart_upload,
            "InvalidRequest",
            400,
            Bucket=name,
            Key="mp",
            ObjectLockLegalHoldStatus="ON",
        )
        self.assertEqual(error["Message"], "Bucket is missing Object Lock Configuration")
