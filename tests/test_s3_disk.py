"""S3 under ``--data-dir``: durable across ``kill -9``, bodies as files, keys never paths."""

from __future__ import annotations

import base64
import os
import signal
from pathlib import Path

from tests.s3support import Daemon, S3TestCase, client

MIB = 1024 * 1024


class DiskTests(S3TestCase):
    def setUp(self) -> None:
        self.data = os.path.abspath(self.mktemp())
        self.running = Daemon(["--data-dir", self.data]).start()
        self.addCleanup(lambda: self.running.stop())
        super().setUp()

    def daemon(self) -> Daemon:
        return self.running

    def restart(self) -> None:
        """Kill the daemon without warning and start another on the same data."""
        self.running.stop(signal.SIGKILL)
        self.running = Daemon(["--data-dir", self.data]).start()
        self.s3 = client(self.running.endpoint)

    def test_survives_kill(self) -> None:
        """Everything answered before a ``kill -9`` is there after it, versions in order."""
        bucket = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        first = self.s3.put_object(Bucket=bucket, Key="../../etc/passwd", Body=b"one")["VersionId"]
        second = self.s3.put_object(
            Bucket=bucket, Key="../../etc/passwd", Body=b"two", Tagging="a=b"
        )["VersionId"]
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        self.s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"part")
        self.restart()
        self.assertEqual(
            self.s3.get_object(Bucket=bucket, Key="../../etc/passwd")["Body"].read(), b"two"
        )
        versions = self.s3.list_object_versions(Bucket=bucket)["Versions"]
        self.assertEqual([v["VersionId"] for v in versions], [second, first])
        self.assertEqual(
            self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"], [{"Key": "k", "Value": "v"}]
        )
        self.assertEqual(
            self.s3.get_object_tagging(Bucket=bucket, Key="../../etc/passwd")["TagSet"],
            [{"Key": "a", "Value": "b"}],
        )
        self.assertEqual(
            len(self.s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["Parts"]), 1
        )
        names = {name for _, _, files in os.walk(self.data) for name in files}
        self.assertNotIn("passwd", names)

    def test_customer_key_never_kept(self) -> None:
        """Only an SSE-C key's MD5 is written; the key is needed again after a restart."""
        key = "k" * 16 + "e" * 16
        sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key="secret", Body=b"body", **sse)
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="mp", **sse)["UploadId"]
        self.s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"part", **sse
        )
        self.restart()
        self.assertClientError(
            self.s3.get_object, "InvalidRequest", 400, Bucket=bucket, Key="secret"
        )
        got = self.s3.get_object(Bucket=bucket, Key="secret", **sse)
        self.assertEqual(got["Body"].read(), b"body")
        stored = b"".join(
            path.read_bytes() for path in Path(self.data).rglob("*") if path.is_file()
        )
        self.assertNotIn(key.encode(), stored)
        self.assertNotIn(base64.b64encode(key.encode()), stored)

    def test_large_ranges_and_deletes(self) -> None:
        """Large bodies stream to and from files; ranges read slices; deletes remove files."""
        bucket = self.new_bucket()
        data = os.urandom(3 * MIB)
        self.s3.put_object(Bucket=bucket, Key="big", Body=data)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="big")["Body"].read(), data)
        ranged = self.s3.get_object(Bucket=bucket, Key="big", Range="bytes=1000-1999")[
            "Body"
        ].read()
        self.assertEqual(ranged, data[1000:2000])
        blobs = os.path.join(self.data, "s3", "blobs")
        self.assertEqual(len(os.listdir(blobs)), 1)
        self.s3.put_object(Bucket=bucket, Key="big", Body=b"smaller")
        self.assertEqual(len(os.listdir(blobs)), 1)
        self.s3.delete_object(Bucket=bucket, Key="big")
        self.assertEqual(os.listdir(blobs), [])
