"""CopyObject onto its own source: what S3 counts as a change (see s3/copies)."""

from __future__ import annotations

from typing import Any

from awsemu.s3.copies import NOT_MODIFIED
from tests.s3support import S3TestCase


class InPlaceCopyTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"body", Metadata={"a": "1"})
        self.source = {"Bucket": self.bucket, "Key": "k"}

    def copy(self, **params: Any) -> Any:
        return self.s3.copy_object(Bucket=self.bucket, Key="k", CopySource=self.source, **params)

    def test_refused_without_change(self) -> None:
        for params in (
            {},
            {"MetadataDirective": "COPY"},
            {"StorageClass": "STANDARD"},
            {"TaggingDirective": "REPLACE", "Tagging": "a=b"},
        ):
            error = self.assertClientError(self.copy, "InvalidRequest", 400, **params)
            self.assertEqual(error["Message"], NOT_MODIFIED)

    def test_allowed_changes(self) -> None:
        """Each of S3's changes lets the copy through, and the copy has it."""
        self.copy(MetadataDirective="REPLACE", Metadata={"b": "2"})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="k")["Metadata"], {"b": "2"})
        self.copy(StorageClass="STANDARD_IA")
        head = self.s3.head_object(Bucket=self.bucket, Key="k")
        self.assertEqual(head["StorageClass"], "STANDARD_IA")
        self.copy(WebsiteRedirectLocation="/other")
        head = self.s3.head_object(Bucket=self.bucket, Key="k")
        self.assertEqual(head["WebsiteRedirectLocation"], "/other")
        copied = self.copy(ServerSideEncryption="aws:kms")
        self.assertEqual(copied["ServerSideEncryption"], "aws:kms")
        copied = self.copy(ChecksumAlgorithm="SHA256")
        # The named algorithm replaces the source's (CRC64NVME, S3's default).
        self.assertEqual(
            {name for name in copied["CopyObjectResult"] if name.startswith("Checksum")},
            {"ChecksumSHA256", "ChecksumType"},
        )
        # The same algorithm again is no change.
        self.assertClientError(self.copy, "InvalidRequest", 400, ChecksumAlgorithm="SHA256")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"body")

    def test_named_version_restores(self) -> None:
        """Copying an earlier version onto its key makes it current again."""
        bucket = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        first = self.s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"two")
        self.s3.copy_object(
            Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k", "VersionId": first}
        )
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k")["Body"].read(), b"one")
