"""Objects: writes, reads, conditions, ranges, copies, deletes, through boto3."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

from awscrt import checksums as crt
from botocore.exceptions import ClientError

from tests.s3support import S3TestCase, allow_public, client, enable_acls, kms_by_default, raw

#: Keys that must survive path-style and virtual-hosted addressing unchanged.
ODD_KEYS = ("ünïcødé ✓", "with space", "a+b", "x%2Fy", "a//b", "trailing/", "/leading", "k" * 1024)


class PutGetTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()

    def test_round_trip_and_defaults(self) -> None:
        """The stored body comes back without chunk framing, with AWS's default headers."""
        put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"hello")
        self.assertEqual(put["ETag"], f'"{hashlib.md5(b"hello").hexdigest()}"')
        self.assertEqual(put["ServerSideEncryption"], "AES256")
        crc = base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")).decode()
        self.assertEqual((put["ChecksumCRC32"], put["ChecksumType"]), (crc, "FULL_OBJECT"))
        self.assertNotIn("ChecksumCRC64NVME", put)
        got = self.s3.get_object(Bucket=self.bucket, Key="k")
        self.assertEqual(got["Body"].read(), b"hello")
        self.assertEqual(got["ContentType"], "binary/octet-stream")
        self.assertEqual(got["ServerSideEncryption"], "AES256")
        self.assertEqual(got["ContentLength"], 5)
        checked = self.s3.head_object(Bucket=self.bucket, Key="k", ChecksumMode="ENABLED")
        self.assertEqual(checked["ChecksumCRC32"], crc)

    def test_bucket_key_from_default_encryption(self) -> None:
        """
        A KMS-encrypted write into a bucket whose default rule enables S3
        Bucket Keys uses one unless its own header says otherwise (S3 user
        guide, "Configuring an S3 Bucket Key at the object level").
        """
        kms_by_default(self.s3, self.bucket, "key-1")
        put = self.s3.put_object(Bucket=self.bucket, Key="default", Body=b"x")
        self.assertEqual(
            (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]),
            ("aws:kms", "key-1", True),
        )
        head = self.s3.head_object(Bucket=self.bucket, Key="default")
        self.assertEqual((head["SSEKMSKeyId"], head["BucketKeyEnabled"]), ("key-1", True))
        asked = self.s3.put_object(
            Bucket=self.bucket, Key="asked", Body=b"x", ServerSideEncryption="aws:kms"
        )
        self.assertTrue(asked["BucketKeyEnabled"])
        refused = self.s3.put_object(
            Bucket=self.bucket, Key="off", Body=b"x", BucketKeyEnabled=False
        )
        self.assertNotIn("BucketKeyEnabled", refused)
        self.assertNotIn("BucketKeyEnabled", self.s3.head_object(Bucket=self.bucket, Key="off"))
        copied = self.s3.copy_object(
            Bucket=self.bucket, Key="copy", CopySource={"Bucket": self.bucket, "Key": "off"}
        )
        self.assertTrue(copied["BucketKeyEnabled"])
        # SSE-S3 has no bucket key, whatever the bucket's rule says.
        plain = self.s3.put_object(
            Bucket=self.bucket, Key="plain", Body=b"x", ServerSideEncryption="AES256"
        )
        self.assertNotIn("BucketKeyEnabled", plain)

    def test_headers_and_metadata(self) -> None:
        expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        self.s3.put_object(
            Bucket=self.bucket,
            Key="k",
            Body=b"x",
            Metadata={"color": "blue"},
            ContentType="text/plain",
            ContentEncoding="gzip",
            ContentDisposition="attachment",
            ContentLanguage="en",
            CacheControl="no-cache",
            Expires=expires,
            StorageClass="STANDARD_IA",
            Tagging="a=1&b=2",
        )
        head = self.s3.head_object(Bucket=self.bucket, Key="k")
        self.assertEqual(head["Metadata"], {"color": "blue"})
        self.assertEqual(
            (
                head["ContentType"],
                head["ContentEncoding"],
                head["ContentDisposition"],
                head["ContentLanguage"],
                head["CacheControl"],
                head["StorageClass"],
            ),
            ("text/plain", "gzip", "attachment", "en", "no-cache", "STANDARD_IA"),
        )
        self.assertEqual(head["ExpiresString"], "Wed, 02 Jan 2030 03:04:05 GMT")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k")["TagCount"], 2)
        overridden = self.s3.get_object(
            Bucket=self.bucket,
            Key="k",
            ResponseContentType="image/png",
            ResponseCacheControl="max-age=1",
            ResponseContentDisposition="inline",
        )
        self.assertEqual(
            (
                overridden["ContentType"],
                overridden["CacheControl"],
                overridden["ContentDisposition"],
            ),
            ("image/png", "max-age=1", "inline"),
        )

    def test_content_md5(self) -> None:
        """A malformed Content-MD5 is InvalidDigest, a wrong one BadDigest; neither is stored."""
        error = self.assertClientError(
            self.s3.put_object,
            "InvalidDigest",
            400,
            Bucket=self.bucket,
            Key="k",
            Body=b"x",
            ContentMD5="nope",
        )
        self.assertEqual(error["Message"], "The Content-MD5 you specified was invalid.")
        wrong = base64.b64encode(hashlib.md5(b"y").digest()).decode()
        self.assertClientError(
            self.s3.put_object,
            "BadDigest",
            400,
            Bucket=self.bucket,
            Key="k",
            Body=b"x",
            ContentMD5=wrong,
        )
        self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="k")
        right = base64.b64encode(hashlib.md5(b"x").digest()).decode()
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x", ContentMD5=right)

    def test_checksums(self) -> None:
        """Every algorithm is computed, returned and verified."""
        expected = {
            "CRC32": zlib.crc32(b"data").to_bytes(4, "big"),
            "SHA1": hashlib.sha1(b"data").digest(),
            "SHA256": hashlib.sha256(b"data").digest(),
        }
        for algorithm, digest in expected.items():
            encoded = base64.b64encode(digest).decode()
            put = self.s3.put_object(
                Bucket=self.bucket, Key=algorithm, Body=b"data", ChecksumAlgorithm=algorithm
            )
            self.assertEqual(put[f"Checksum{algorithm}"], encoded)
            head = self.s3.head_object(Bucket=self.bucket, Key=algorithm, ChecksumMode="ENABLED")
            self.assertEqual(head[f"Checksum{algorithm}"], encoded)
        crc32c = self.s3.put_object(
            Bucket=self.bucket, Key="c", Body=b"123456789", ChecksumCRC32C="4waSgw=="
        )
        self.assertEqual(crc32c["ChecksumCRC32C"], "4waSgw==")
        error = self.assertClientError(
            self.s3.put_object,
            "BadDigest",
            400,
            Bucket=self.bucket,
            Key="bad",
            Body=b"data",
            ChecksumSHA256=base64.b64encode(hashlib.sha256(b"other").digest()).decode(),
        )
        self.assertEqual(
            error["Message"], "The sha256 you specified did not match the calculated checksum."
        )
        self.assertClientError(
            self.s3.put_object,
            "InvalidRequest",
            400,
            Bucket=self.bucket,
            Key="bad",
            Body=b"data",
            ChecksumSHA256="short",
        )

    def test_default_checksum(self) -> None:
        """
        A body sent without a checksum gets S3's full-object CRC64NVME,
        reported wherever a client-sent one is, and kept by copies.
        """
        bare = client(self.endpoint, request_checksum_calculation="when_required")
        crc = base64.b64encode(crt.crc64nvme(b"hello").to_bytes(8, "big")).decode()
        put = bare.put_object(Bucket=self.bucket, Key="k", Body=b"hello")
        self.assertEqual((put["ChecksumCRC64NVME"], put["ChecksumType"]), (crc, "FULL_OBJECT"))
        self.assertNotIn("ChecksumCRC32", put)
        got = self.s3.get_object(Bucket=self.bucket, Key="k", ChecksumMode="ENABLED")
        self.assertEqual(
            (got["Body"].read(), got["ChecksumCRC64NVME"], got["ChecksumType"]),
            (b"hello", crc, "FULL_OBJECT"),
        )
        attributes = self.s3.get_object_attributes(
            Bucket=self.bucket, Key="k", ObjectAttributes=["Checksum"]
        )
        self.assertEqual(
            attributes["Checksum"], {"ChecksumCRC64NVME": crc, "ChecksumType": "FULL_OBJECT"}
        )
        listed = self.s3.list_objects_v2(Bucket=self.bucket)["Contents"][0]
        self.assertEqual(
            (listed["ChecksumAlgorithm"], listed["ChecksumType"]), (["CRC64NVME"], "FULL_OBJECT")
        )
        copied = bare.copy_object(
            Bucket=self.bucket, Key="copy", CopySource={"Bucket": self.bucket, "Key": "k"}
        )["CopyObjectResult"]
        self.assertEqual(
            (copied["ChecksumCRC64NVME"], copied["ChecksumType"]), (crc, "FULL_OBJECT")
        )

    def test_signed_streaming(self) -> None:
        """STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies (signed chunks) decode too."""
        status, _, _ = raw(
            self.endpoint,
            "PUT",
            f"/{self.bucket}/signed",
            b"5;chunk-signature="
            + b"0" * 64
            + b"\r\nhello\r\n0;chunk-signature="
            + b"0" * 64
            + b"\r\n\r\n",
            {
                "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                "x-amz-decoded-content-length": "5",
                "content-encoding": "aws-chunked",
            },
        )
        self.assertEqual(status, 200)
        self.assertEqual(
            self.s3.get_object(Bucket=self.bucket, Key="signed")["Body"].read(), b"hello"
        )

    def test_conditional_writes(self) -> None:
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"1", IfNoneMatch="*")
        error = self.assertClientError(
            self.s3.put_object,
            "PreconditionFailed",
            412,
            Bucket=self.bucket,
            Key="k",
            Body=b"2",
            IfNoneMatch="*",
        )
        self.assertEqual(error["Condition"], "If-None-Match")
        etag = self.s3.head_object(Bucket=self.bucket, Key="k")["ETag"]
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"3", IfMatch=etag)
        self.assertClientError(
            self.s3.put_object,
            "PreconditionFailed",
            412,
            Bucket=self.bucket,
            Key="k",
            Body=b"4",
            IfMatch=etag,
        )
        self.assertClientError(
            self.s3.put_object,
            "NoSuchKey",
            404,
            Bucket=self.bucket,
            Key="none",
            Body=b"4",
            IfMatch=etag,
        )

    def test_odd_keys(self) -> None:
        """Odd keys (unicode, +, %2F, //, edge slashes, 1024 bytes) in path and virtual host."""
        host = f"{self.bucket}.s3.localhost.localstack.cloud"
        for key in ODD_KEYS:
            path = "/" + quote(key, safe="/~")
            status, _, _ = raw(
                self.endpoint, "PUT", path, b"virtual " + key.encode(), {"Host": host}
            )
            self.assertEqual(status, 200)
            self.assertEqual(
                raw(self.endpoint, "GET", path, headers={"Host": host})[2],
                b"virtual " + key.encode(),
            )
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=key.encode())
            self.assertEqual(
                self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), key.encode(), key
            )
        listed = [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket)["Contents"]]
        self.assertEqual(sorted(listed), sorted(ODD_KEYS))

    def test_not_found(self) -> None:
        error = self.assertClientError(
            self.s3.get_object, "NoSuchKey", 404, Bucket=self.bucket, Key="nope"
        )
        self.assertEqual(
            (error["Key"], error["Message"]), ("nope", "The specified key does not exist.")
        )
        with self.assertRaises(ClientError) as raised:
            self.s3.head_object(Bucket=self.bucket, Key="nope")
        self.assertEqual(raised.exception.response["Error"]["Code"], "404")


class RangeAndConditionTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.etag = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"0123456789")["ETag"]

    def get(self, **params: object) -> dict[str, Any]:
        result: dict[str, Any] = self.s3.get_object(Bucket=self.bucket, Key="k", **params)
        result["Data"] = result["Body"].read()
        return result

    def test_ranges(self) -> None:
        for header, data, content_range in (
            ("bytes=2-4", b"234", "bytes 2-4/10"),
            ("bytes=7-", b"789", "bytes 7-9/10"),
            ("bytes=-3", b"789", "bytes 7-9/10"),
            ("bytes=8-100", b"89", "bytes 8-9/10"),
        ):
            result = self.get(Range=header)
            self.assertEqual(
                (
                    result["Data"],
                    result["ContentRange"],
                    result["ResponseMetadata"]["HTTPStatusCode"],
                ),
                (data, content_range, 206),
            )
        self.assertEqual(self.get(Range="garbage")["Data"], b"0123456789")
        error = self.assertClientError(
            self.s3.get_object, "InvalidRange", 416, Bucket=self.bucket, Key="k", Range="bytes=10-"
        )
        self.assertEqual((error["RangeRequested"], error["ActualObjectSize"]), ("bytes=10-", "10"))

    def test_preconditions(self) -> None:
        past = datetime.now(UTC) - timedelta(days=1)
        future = datetime.now(UTC) + timedelta(days=1)
        self.assertEqual(self.get(IfMatch=self.etag)["Data"], b"0123456789")
        error = self.assertClientError(
            self.s3.get_object,
            "PreconditionFailed",
            412,
            Bucket=self.bucket,
            Key="k",
            IfMatch='"other"',
        )
        self.assertEqual(error["Condition"], "If-Match")
        self.assertClientError(
            self.s3.get_object, "304", 304, Bucket=self.bucket, Key="k", IfNoneMatch=self.etag
        )
        self.assertClientError(
            self.s3.get_object, "304", 304, Bucket=self.bucket, Key="k", IfModifiedSince=future
        )
        error = self.assertClientError(
            self.s3.get_object,
            "PreconditionFailed",
            412,
            Bucket=self.bucket,
            Key="k",
            IfUnmodifiedSince=past,
        )
        self.assertEqual(error["Condition"], "If-Unmodified-Since")
        # If-Match holding overrides If-Unmodified-Since;
        # If-None-Match not matching overrides If-Modified-Since.
        self.get(IfMatch=self.etag, IfUnmodifiedSince=past)
        self.get(IfNoneMatch='"other"', IfModifiedSince=future)
        self.assertClientError(
            self.s3.head_object, "412", 412, Bucket=self.bucket, Key="k", IfMatch='"x"'
        )

    def test_bodiless_answers(self) -> None:
        """HEAD errors and 304 carry no body, but still the request ids."""
        status, headers, body = raw(self.endpoint, "HEAD", f"/{self.bucket}/missing")
        self.assertEqual((status, body), (404, b""))
        self.assertIn("x-amz-id-2", headers)
        status, headers, body = raw(
            self.endpoint, "GET", f"/{self.bucket}/k", headers={"If-None-Match": self.etag}
        )
        self.assertEqual((status, body), (304, b""))
        self.assertIn("x-amz-request-id", headers)
        stored = self.s3.head_object(Bucket=self.bucket, Key="k")["ResponseMetadata"]
        self.assertEqual(
            (headers["etag"], headers["last-modified"]),
            (self.etag, stored["HTTPHeaders"]["last-modified"]),
        )

    def test_part_number(self) -> None:
        result = self.get(PartNumber=1)
        self.assertEqual(result["Data"], b"0123456789")
        self.assertClientError(
            self.s3.get_object, "InvalidPartNumber", 416, Bucket=self.bucket, Key="k", PartNumber=2
        )


class CopyDeleteTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.s3.put_object(
            Bucket=self.bucket,
            Key="src key+",
            Body=b"body",
            Metadata={"a": "1"},
            ContentType="text/plain",
            Tagging="t=1",
        )

    def test_copy_directives(self) -> None:
        source = {"Bucket": self.bucket, "Key": "src key+"}
        copied = self.s3.copy_object(Bucket=self.bucket, Key="copy", CopySource=source)
        self.assertEqual(
            copied["CopyObjectResult"]["ETag"], f'"{hashlib.md5(b"body").hexdigest()}"'
        )
        self.assertEqual(copied["ServerSideEncryption"], "AES256")
        head = self.s3.head_object(Bucket=self.bucket, Key="copy")
        self.assertEqual((head["Metadata"], head["ContentType"]), ({"a": "1"}, "text/plain"))
        self.assertEqual(
            self.s3.get_object_tagging(Bucket=self.bucket, Key="copy")["TagSet"],
            [{"Key": "t", "Value": "1"}],
        )
        self.s3.copy_object(
            Bucket=self.bucket,
            Key="replaced",
            CopySource=source,
            MetadataDirective="REPLACE",
            Metadata={"b": "2"},
            TaggingDirective="REPLACE",
            Tagging="u=2",
        )
        head = self.s3.head_object(Bucket=self.bucket, Key="replaced")
        self.assertEqual(
            (head["Metadata"], head["ContentType"]), ({"b": "2"}, "binary/octet-stream")
        )
        self.assertEqual(
            self.s3.get_object_tagging(Bucket=self.bucket, Key="replaced")["TagSet"],
            [{"Key": "u", "Value": "2"}],
        )
        error = self.assertClientError(
            self.s3.copy_object,
            "InvalidRequest",
            400,
            Bucket=self.bucket,
            Key="src key+",
            CopySource=source,
        )
        self.assertIn("copy an object to itself", error["Message"])
        self.s3.copy_object(
            Bucket=self.bucket, Key="src key+", CopySource=source, MetadataDirective="REPLACE"
        )

    def test_copy_conditions(self) -> None:
        source = {"Bucket": self.bucket, "Key": "src key+"}
        error = self.assertClientError(
            self.s3.copy_object,
            "PreconditionFailed",
            412,
            Bucket=self.bucket,
            Key="c",
            CopySource=source,
            CopySourceIfMatch='"nope"',
        )
        self.assertEqual(error["Condition"], "x-amz-copy-source-If-Match")
        etag = self.s3.head_object(Bucket=self.bucket, Key="src key+")["ETag"]
        self.assertClientError(
            self.s3.copy_object,
            "PreconditionFailed",
            412,
            Bucket=self.bucket,
            Key="c",
            CopySource=source,
            CopySourceIfNoneMatch=etag,
        )
        self.assertClientError(
            self.s3.copy_object,
            "NoSuchKey",
            404,
            Bucket=self.bucket,
            Key="c",
            CopySource={"Bucket": self.bucket, "Key": "missing"},
        )

    def test_delete(self) -> None:
        self.assertEqual(
            self.s3.delete_object(Bucket=self.bucket, Key="missing")["ResponseMetadata"][
                "HTTPStatusCode"
            ],
            204,
        )
        self.s3.delete_object(Bucket=self.bucket, Key="src key+")
        self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="src key+")

    def test_delete_objects(self) -> None:
        for key in ("a", "b"):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"")
        result = self.s3.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]}
        )
        self.assertEqual(sorted(d["Key"] for d in result["Deleted"]), ["a", "b", "zz"])
        quiet = self.s3.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": "src key+"}], "Quiet": True}
        )
        self.assertNotIn("Deleted", quiet)
        errors = self.s3.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": "x", "VersionId": "bad"}]}
        )
        self.assertEqual(errors["Errors"][0]["Code"], "InvalidArgument")
        self.assertClientError(
            self.s3.delete_objects,
            "MalformedXML",
            400,
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": str(i)} for i in range(1001)]},
        )

    def test_object_tagging_and_acl(self) -> None:
        self.s3.put_object_tagging(
            Bucket=self.bucket, Key="src key+", Tagging={"TagSet": [{"Key": "x", "Value": "y"}]}
        )
        self.assertEqual(
            self.s3.get_object_tagging(Bucket=self.bucket, Key="src key+")["TagSet"],
            [{"Key": "x", "Value": "y"}],
        )
        self.s3.delete_object_tagging(Bucket=self.bucket, Key="src key+")
        self.assertEqual(
            self.s3.get_object_tagging(Bucket=self.bucket, Key="src key+")["TagSet"], []
        )
        enable_acls(self.s3, self.bucket)
        allow_public(self.s3, self.bucket)
        self.s3.put_object_acl(Bucket=self.bucket, Key="src key+", ACL="public-read")
        grants = self.s3.get_object_acl(Bucket=self.bucket, Key="src key+")["Grants"]
        self.assertEqual([g["Permission"] for g in grants], ["FULL_CONTROL", "READ"])

    def test_attributes(self) -> None:
        attributes = self.s3.get_object_attributes(
            Bucket=self.bucket,
            Key="src key+",
            ObjectAttributes=["ETag", "ObjectSize", "StorageClass", "Checksum"],
        )
        self.assertEqual(attributes["ETag"], hashlib.md5(b"body").hexdigest())
        self.assertEqual((attributes["ObjectSize"], attributes["StorageClass"]), (4, "STANDARD"))
        self.assertIn("ChecksumCRC32", attributes["Checksum"])


class VersioningTests(S3TestCase):
    def test_versions_and_delete_markers(self) -> None:
        bucket = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        first = self.s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
        second = self.s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
        self.assertNotEqual(first, second)
        self.assertEqual(
            self.s3.get_object(Bucket=bucket, Key="k", VersionId=first)["Body"].read(), b"1"
        )
        deleted = self.s3.delete_object(Bucket=bucket, Key="k")
        self.assertTrue(deleted["DeleteMarker"])
        self.assertClientError(self.s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="k")
        versions = self.s3.list_object_versions(Bucket=bucket)
        self.assertEqual([v["VersionId"] for v in versions["Versions"]], [second, first])
        self.assertEqual(
            [(m["VersionId"], m["IsLatest"]) for m in versions["DeleteMarkers"]],
            [(deleted["VersionId"], True)],
        )
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=bucket))
        self.s3.delete_object(Bucket=bucket, Key="k", VersionId=deleted["VersionId"])
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k")["Body"].read(), b"2")
        copied = self.s3.copy_object(
            Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k", "VersionId": first}
        )
        self.assertEqual(copied["CopySourceVersionId"], first)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="c")["Body"].read(), b"1")
        self.assertClientError(
            self.s3.get_object, "NoSuchVersion", 404, Bucket=bucket, Key="k", VersionId="0" * 32
        )

    def test_delete_marker_answers(self) -> None:
        """
        Reads meet a current delete marker as a missing key, and one named
        by version id as a resource only DELETE applies to; both say so in
        headers, which HEAD answers carry without a body.
        """
        bucket = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"1")
        marker = self.s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
        listed = self.s3.list_object_versions(Bucket=bucket)["DeleteMarkers"][0]
        last_modified = formatdate(listed["LastModified"].timestamp(), usegmt=True)

        def answer(call: Any, *names: str, **params: str) -> tuple[object, ...]:
            """The status of the error ``call`` fails with, and its headers ``names``."""
            with self.assertRaises(ClientError) as raised:
                call(Bucket=bucket, Key="k", **params)
            metadata = raised.exception.response["ResponseMetadata"]
            return (metadata["HTTPStatusCode"], *(metadata["HTTPHeaders"][n] for n in names))

        for call in (self.s3.get_object, self.s3.head_object):
            self.assertEqual(
                answer(call, "x-amz-delete-marker", "x-amz-version-id"), (404, "true", marker)
            )
        error = self.assertClientError(self.s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="k")
        self.assertEqual(error["Key"], "k")
        for method, call in (("GET", self.s3.get_object), ("HEAD", self.s3.head_object)):
            self.assertEqual(
                answer(
                    call,
                    "x-amz-delete-marker",
                    "x-amz-version-id",
                    "last-modified",
                    "allow",
                    VersionId=marker,
                ),
                (405, "true", marker, last_modified, "DELETE"),
                method,
            )
        error = self.assertClientError(
            self.s3.get_object, "MethodNotAllowed", 405, Bucket=bucket, Key="k", VersionId=marker
        )
        self.assertEqual(
            (error["Message"], error["Method"], error["ResourceType"]),
            ("The specified method is not allowed against this resource.", "GET", "DeleteMarker"),
        )
        status, headers, body = raw(self.endpoint, "HEAD", f"/{bucket}/k?versionId={marker}")
        self.assertEqual((status, body, headers["allow"]), (405, b"", "DELETE"))

    def test_delete_marker_as_target(self) -> None:
        """Sub-resource writes refuse a delete marker (405); copies may not name one (400)."""
        bucket = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"1")
        marker = self.s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
        error = self.assertClientError(
            self.s3.put_object_acl, "MethodNotAllowed", 405, Bucket=bucket, Key="k", ACL="private"
        )
        self.assertEqual((error["Method"], error["ResourceType"]), ("PUT", "DeleteMarker"))
        with self.assertRaises(ClientError) as raised:
            self.s3.get_object_acl(Bucket=bucket, Key="k", VersionId=marker)
        response = raised.exception.response
        self.assertEqual(
            (
                response["Error"]["Code"],
                response["ResponseMetadata"]["HTTPHeaders"]["x-amz-version-id"],
                response["ResponseMetadata"]["HTTPHeaders"]["allow"],
            ),
            ("MethodNotAllowed", marker, "DELETE"),
        )
        with self.assertRaises(ClientError) as raised:
            self.s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"})
        response = raised.exception.response
        self.assertEqual(
            (
                response["Error"]["Code"],
                response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"],
            ),
            ("NoSuchKey", "true"),
        )
        error = self.assertClientError(
            self.s3.copy_object,
            "InvalidRequest",
            400,
            Bucket=bucket,
            Key="c",
            CopySource={"Bucket": bucket, "Key": "k", "VersionId": marker},
        )
        self.assertEqual(
            error["Message"],
            "The source of a copy request may not specifically refer to a delete marker by "
            "version id.",
        )

    def test_suspended(self) -> None:
        """A suspended bucket writes "null" versions that replace each other, keeping older ones."""
        bucket = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        kept = self.s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
        self.s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
        )
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=bucket)["Status"], "Suspended")
        for body in (b"a", b"b"):
            # The null version's write answers no x-amz-version-id, as AWS's does.
            self.assertNotIn("VersionId", self.s3.put_object(Bucket=bucket, Key="k", Body=body))
        versions = self.s3.list_object_versions(Bucket=bucket)["Versions"]
        self.assertEqual([v["VersionId"] for v in versions], ["null", kept])
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k")["Body"].read(), b"b")

    def test_version_pages(self) -> None:
        bucket = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for key in ("a", "a", "b"):
            self.s3.put_object(Bucket=bucket, Key=key, Body=b"")
        pages = self.s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 1}
        )
        self.assertEqual([v["Key"] for page in pages for v in page["Versions"]], ["a", "a", "b"])
