"""
Bodies past the gateway's memory limit (8 MiB), which S3 reads while they
arrive (framing removed, MD5 and checksums computed in a thread pool):
they are stored and verified exactly as small ones are, and a body that
fails a check is answered with S3's error and not kept.
"""

# trial's assertions carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import base64
import hashlib
import os
import socket
import zlib

from awscrt import checksums

from tests.s3support import S3TestCase, raw

MIB = 1024 * 1024
#: Past the gateway's memory limit, not on a chunk or step boundary.
SIZE = 9 * MIB + 12345


def _b64(raw_digest: bytes) -> str:
    return base64.b64encode(raw_digest).decode()


def _crc32(data: bytes) -> str:
    return _b64(zlib.crc32(data).to_bytes(4, "big"))


def _aws_chunked(data: bytes, chunk: int, trailer: str) -> bytes:
    """``data`` framed as boto3 frames it, chunks of ``chunk`` bytes, then ``trailer``."""
    framed = b"".join(
        b"%x\r\n%s\r\n" % (len(data[at : at + chunk]), data[at : at + chunk])
        for at in range(0, len(data), chunk)
    )
    return framed + b"0\r\n" + trailer.encode() + b"\r\n\r\n"


class LargeBodyTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.data = os.urandom(SIZE)

    def get(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def test_boto3_defaults(self) -> None:
        """aws-chunked with a CRC32 trailer: the decoded body, its MD5 ETag and CRC32."""
        answer = self.s3.put_object(Bucket=self.bucket, Key="k", Body=self.data)
        self.assertEqual(answer["ETag"], f'"{hashlib.md5(self.data).hexdigest()}"')
        self.assertEqual(answer["ChecksumCRC32"], _crc32(self.data))
        self.assertEqual(self.get("k"), self.data)

    def test_sha256_checksum_and_content_md5(self) -> None:
        answer = self.s3.put_object(
            Bucket=self.bucket,
            Key="k",
            Body=self.data,
            ChecksumAlgorithm="SHA256",
            ContentMD5=_b64(hashlib.md5(self.data).digest()),
        )
        self.assertEqual(answer["ChecksumSHA256"], _b64(hashlib.sha256(self.data).digest()))
        self.assertEqual(self.get("k"), self.data)

    def test_raw_put_default_checksum(self) -> None:
        """A plain Content-Length PUT gets S3's default CRC64NVME, as a small one does."""
        status, headers, _ = raw(self.endpoint, "PUT", f"/{self.bucket}/k", self.data)
        self.assertEqual(status, 200)
        self.assertEqual(headers["etag"], f'"{hashlib.md5(self.data).hexdigest()}"')
        crc64 = checksums.crc64nvme(self.data).to_bytes(8, "big")
        self.assertEqual(headers["x-amz-checksum-crc64nvme"], _b64(crc64))
        head = self.s3.head_object(Bucket=self.bucket, Key="k", ChecksumMode="ENABLED")
        self.assertEqual((head["ChecksumType"], head["ContentLength"]), ("FULL_OBJECT", SIZE))
        self.assertEqual(self.get("k"), self.data)

    def test_wrong_content_md5(self) -> None:
        wrong = _b64(hashlib.md5(b"other").digest())
        status, _, body = raw(
            self.endpoint, "PUT", f"/{self.bucket}/k", self.data, {"Content-MD5": wrong}
        )
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>BadDigest</Code>", body)
        self.assertIn(
            f"<CalculatedDigest>{_b64(hashlib.md5(self.data).digest())}</CalculatedDigest>".encode(),
            body,
        )
        self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="k")

    def test_wrong_trailer_checksum(self) -> None:
        """A CRC32 trailer that does not match the decoded body is S3's BadDigest."""
        body = _aws_chunked(self.data, MIB, f"x-amz-checksum-crc32:{_crc32(b'other')}")
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-decoded-content-length": str(SIZE),
            "x-amz-trailer": "x-amz-checksum-crc32",
        }
        status, _, answer = raw(self.endpoint, "PUT", f"/{self.bucket}/k", body, headers)
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>BadDigest</Code>", answer)
        self.assertIn(b"The crc32 you specified did not match the calculated checksum.", answer)
        right = _aws_chunked(self.data, MIB, f"x-amz-checksum-crc32:{_crc32(self.data)}")
        status, _, _ = raw(self.endpoint, "PUT", f"/{self.bucket}/k", right, headers)
        self.assertEqual(status, 200)
        self.assertEqual(self.get("k"), self.data)

    def test_broken_framing(self) -> None:
        """A chunk shorter than its size line says is IncompleteBody, as a small one is."""
        body = _aws_chunked(self.data, MIB, "").replace(b"100000\r\n", b"100001\r\n", 1)
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-decoded-content-length": str(SIZE),
        }
        status, _, answer = raw(self.endpoint, "PUT", f"/{self.bucket}/k", body, headers)
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>IncompleteBody</Code>", answer)
        self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="k")

    def test_abandoned_upload(self) -> None:
        """A client that leaves mid-body stores nothing; the daemon serves on."""
        host, _, port = self.endpoint.removeprefix("http://").partition(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(
                b"PUT /%s/k HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n"
                % (self.bucket.encode(), host.encode(), 2 * SIZE)
            )
            sock.sendall(self.data)
        self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="k")
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=self.data)
        self.assertEqual(self.get("k"), self.data)

    def test_upload_part(self) -> None:
        """A large part's ETag and checksum, and the completed object."""
        upload = self.s3.create_multipart_upload(
            Bucket=self.bucket, Key="k", ChecksumAlgorithm="CRC32"
        )["UploadId"]
        part = self.s3.upload_part(
            Bucket=self.bucket,
            Key="k",
            UploadId=upload,
            PartNumber=1,
            Body=self.data,
            ChecksumAlgorithm="CRC32",
        )
        self.assertEqual(part["ETag"], f'"{hashlib.md5(self.data).hexdigest()}"')
        self.assertEqual(part["ChecksumCRC32"], _crc32(self.data))
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key="k",
            UploadId=upload,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}
                ]
            },
        )
        self.assertEqual(self.get("k"), self.data)
