"""Multipart uploads, through boto3."""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Any

from awscrt import checksums as crt
from boto3.s3.transfer import TransferConfig

from tests.s3support import S3TestCase, client

MIB = 1024 * 1024


class MultipartTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()

    def start(self, key: str = "big", **params: object) -> str:
        upload_id: str = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key, **params)[
            "UploadId"
        ]
        return upload_id

    def test_complete(self) -> None:
        """Parts join in order; the ETag is the MD5 of the part MD5s and the part count."""
        upload = self.start(ContentType="text/csv", Metadata={"m": "1"})
        bodies = [b"a" * (5 * MIB), b"tail"]
        parts = [
            {
                "PartNumber": n,
                "ETag": self.s3.upload_part(
                    Bucket=self.bucket, Key="big", UploadId=upload, PartNumber=n, Body=body
                )["ETag"],
            }
            for n, body in enumerate(bodies, 1)
        ]
        listed = self.s3.list_parts(Bucket=self.bucket, Key="big", UploadId=upload)
        self.assertEqual([p["Size"] for p in listed["Parts"]], [5 * MIB, 4])
        uploads = self.s3.list_multipart_uploads(Bucket=self.bucket)["Uploads"]
        self.assertEqual([u["UploadId"] for u in uploads], [upload])
        done = self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts}
        )
        digest = hashlib.md5(b"".join(hashlib.md5(b).digest() for b in bodies)).hexdigest()
        self.assertEqual(done["ETag"], f'"{digest}-2"')
        got = self.s3.get_object(Bucket=self.bucket, Key="big")
        self.assertEqual(got["Body"].read(), b"".join(bodies))
        self.assertEqual(got["ContentType"], "text/csv")
        second = self.s3.get_object(Bucket=self.bucket, Key="big", PartNumber=2)
        self.assertEqual((second["Body"].read(), second["PartsCount"]), (b"tail", 2))
        self.assertClientError(
            self.s3.list_parts, "NoSuchUpload", 404, Bucket=self.bucket, Key="big", UploadId=upload
        )

    def test_errors(self) -> None:
        upload = self.start()
        small = self.s3.upload_part(
            Bucket=self.bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x"
        )["ETag"]
        last = self.s3.upload_part(
            Bucket=self.bucket, Key="big", UploadId=upload, PartNumber=2, Body=b"y"
        )["ETag"]
        error = self.assertClientError(
            self.s3.complete_multipart_upload,
            "EntityTooSmall",
            400,
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]
            },
        )
        self.assertEqual(error["MinSizeAllowed"], str(5 * MIB))
        self.assertClientError(
            self.s3.complete_multipart_upload,
            "InvalidPartOrder",
            400,
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            MultipartUpload={
                "Parts": [{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": small}]
            },
        )
        error = self.assertClientError(
            self.s3.complete_multipart_upload,
            "InvalidPart",
            400,
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0000"'}]},
        )
        self.assertEqual(error["PartNumber"], "1")
        self.assertClientError(
            self.s3.upload_part,
            "InvalidArgument",
            400,
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            PartNumber=10001,
            Body=b"x",
        )
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key="big", UploadId=upload)
        for call, extra in (
            (self.s3.upload_part, {"PartNumber": 1, "Body": b"x"}),
            (self.s3.list_parts, {}),
            (self.s3.abort_multipart_upload, {}),
            (
                self.s3.complete_multipart_upload,
                {"MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": small}]}},
            ),
        ):
            error = self.assertClientError(
                call, "NoSuchUpload", 404, Bucket=self.bucket, Key="big", UploadId=upload, **extra
            )
            self.assertEqual(error["UploadId"], upload)

    def test_composite_checksum(self) -> None:
        upload = self.start(ChecksumAlgorithm="CRC32")
        part = self.s3.upload_part(
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            PartNumber=1,
            Body=b"abc",
            ChecksumAlgorithm="CRC32",
        )
        crc = zlib.crc32(b"abc").to_bytes(4, "big")
        self.assertEqual(part["ChecksumCRC32"], base64.b64encode(crc).decode())
        done = self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}
                ]
            },
        )
        composite = base64.b64encode(zlib.crc32(crc).to_bytes(4, "big")).decode()
        self.assertEqual(
            (done["ChecksumCRC32"], done["ChecksumType"]), (f"{composite}-1", "COMPOSITE")
        )

    def test_full_object_checksum_and_attributes(self) -> None:
        """FULL_OBJECT CRC32 covers the whole object; GetObjectAttributes lists the parts."""
        upload = self.start(ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
        bodies = [b"p" * (5 * MIB), b"end"]
        parts = []
        for number, body in enumerate(bodies, 1):
            answer = self.s3.upload_part(
                Bucket=self.bucket,
                Key="big",
                UploadId=upload,
                PartNumber=number,
                Body=body,
                ChecksumAlgorithm="CRC32",
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        done = self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            MultipartUpload={"Parts": parts},
            ChecksumType="FULL_OBJECT",
        )
        whole = base64.b64encode(zlib.crc32(b"".join(bodies)).to_bytes(4, "big")).decode()
        self.assertEqual((done["ChecksumCRC32"], done["ChecksumType"]), (whole, "FULL_OBJECT"))
        attributes = self.s3.get_object_attributes(
            Bucket=self.bucket, Key="big", ObjectAttributes=["ObjectParts", "ObjectSize", "ETag"]
        )
        self.assertEqual(attributes["ObjectSize"], sum(map(len, bodies)))
        self.assertEqual(attributes["ObjectParts"]["TotalPartsCount"], 2)
        self.assertTrue(attributes["ETag"].endswith("-2"))

    def test_default_checksum(self) -> None:
        """An upload created without a checksum completes with S3's full-object CRC64NVME."""
        bare = client(self.endpoint, request_checksum_calculation="when_required")
        created = bare.create_multipart_upload(Bucket=self.bucket, Key="big")
        self.assertNotIn("ChecksumAlgorithm", created)
        bodies = [b"q" * (5 * MIB), b"rest"]
        parts = []
        for number, body in enumerate(bodies, 1):
            answer = bare.upload_part(
                Bucket=self.bucket,
                Key="big",
                UploadId=created["UploadId"],
                PartNumber=number,
                Body=body,
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        done = bare.complete_multipart_upload(
            Bucket=self.bucket,
            Key="big",
            UploadId=created["UploadId"],
            MultipartUpload={"Parts": parts},
        )
        whole = base64.b64encode(crt.crc64nvme(b"".join(bodies)).to_bytes(8, "big")).decode()
        self.assertEqual((done["ChecksumCRC64NVME"], done["ChecksumType"]), (whole, "FULL_OBJECT"))
        head = self.s3.head_object(Bucket=self.bucket, Key="big", ChecksumMode="ENABLED")
        self.assertEqual((head["ChecksumCRC64NVME"], head["ChecksumType"]), (whole, "FULL_OBJECT"))

    def test_upload_part_copy(self) -> None:
        self.s3.put_object(Bucket=self.bucket, Key="src", Body=b"0123456789")
        upload = self.start()
        copied = self.s3.upload_part_copy(
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": self.bucket, "Key": "src"},
            CopySourceRange="bytes=2-5",
        )
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key="big",
            UploadId=upload,
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}]
            },
        )
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="big")["Body"].read(), b"2345")

    def test_transfer_manager(self) -> None:
        """boto3's upload_fileobj/download_fileobj in multipart mode round-trip the bytes."""
        import io

        data = bytes(range(256)) * (48 * 1024)
        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
        self.s3.upload_fileobj(io.BytesIO(data), self.bucket, "managed", Config=config)
        target = io.BytesIO()
        self.s3.download_fileobj(self.bucket, "managed", target, Config=config)
        self.assertEqual(target.getvalue(), data)


class ListUploadsTests(S3TestCase):
    """ListMultipartUploads: filtering, rolling up, paging and encoding as S3 does them."""

    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        #: (key, upload id) in the order S3 lists them: by key, then by initiation.
        self.started = [
            (key, self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"])
            for key in ("b", "a", "dir/x", "b", "dir/y", "c d")
        ]
        self.started.sort(key=lambda started: started[0])

    def listed(self, **params: object) -> dict[str, Any]:
        result: dict[str, Any] = self.s3.list_multipart_uploads(Bucket=self.bucket, **params)
        return result

    def test_order_and_defaults(self) -> None:
        result = self.listed()
        self.assertEqual([(u["Key"], u["UploadId"]) for u in result["Uploads"]], self.started)
        self.assertEqual(
            (
                result["MaxUploads"],
                result["IsTruncated"],
                result["KeyMarker"],
                result["UploadIdMarker"],
                result["NextKeyMarker"],
                result["NextUploadIdMarker"],
            ),
            (1000, False, "", "", "", ""),
        )
        self.assertNotIn("Prefix", result)
        self.assertNotIn("CommonPrefixes", result)
        self.assertEqual(self.listed(MaxUploads=5000)["MaxUploads"], 1000)

    def test_prefix_and_delimiter(self) -> None:
        result = self.listed(Prefix="dir/")
        self.assertEqual([u["Key"] for u in result["Uploads"]], ["dir/x", "dir/y"])
        self.assertEqual(result["Prefix"], "dir/")
        rolled = self.listed(Delimiter="/")
        self.assertEqual([u["Key"] for u in rolled["Uploads"]], ["a", "b", "b", "c d"])
        self.assertEqual(rolled["CommonPrefixes"], [{"Prefix": "dir/"}])
        self.assertEqual(rolled["Delimiter"], "/")

    def test_markers(self) -> None:
        """The key marker's own uploads follow only after the upload id marker."""
        after_a = self.listed(KeyMarker="a")
        self.assertEqual(
            [u["Key"] for u in after_a["Uploads"]], ["b", "b", "c d", "dir/x", "dir/y"]
        )
        first_b = self.started[1][1]
        after_first_b = self.listed(KeyMarker="b", UploadIdMarker=first_b)
        self.assertEqual(
            [(u["Key"], u["UploadId"]) for u in after_first_b["Uploads"]], self.started[2:]
        )
        self.assertEqual(after_first_b["UploadIdMarker"], first_b)
        ignored = self.listed(UploadIdMarker=first_b)
        self.assertEqual((len(ignored["Uploads"]), ignored["UploadIdMarker"]), (6, ""))
        past_prefix = self.listed(KeyMarker="dir/", Delimiter="/")
        self.assertNotIn("Uploads", past_prefix)

    def test_pages(self) -> None:
        page = self.listed(MaxUploads=2)
        self.assertEqual(
            (page["IsTruncated"], page["NextKeyMarker"], page["NextUploadIdMarker"]),
            (True, "b", self.started[1][1]),
        )
        pages = list(
            self.s3.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, PaginationConfig={"PageSize": 2}
            )
        )
        self.assertEqual(len(pages), 3)
        self.assertEqual(
            [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])],
            self.started,
        )
        rolled = self.s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Delimiter="/", PaginationConfig={"PageSize": 1}
        )
        entries = [
            entry.get("Key") or entry["Prefix"]
            for page in rolled
            for entry in (*page.get("Uploads", []), *page.get("CommonPrefixes", []))
        ]
        self.assertEqual(entries, ["a", "b", "b", "c d", "dir/"])

    def test_encoding_and_bad_arguments(self) -> None:
        encoded = self.listed(EncodingType="url", Prefix="c ")
        self.assertEqual(
            ([u["Key"] for u in encoded["Uploads"]], encoded["Prefix"], encoded["EncodingType"]),
            (["c+d"], "c+", "url"),
        )
        error = self.assertClientError(
            self.s3.list_multipart_uploads,
            "InvalidArgument",
            400,
            Bucket=self.bucket,
            MaxUploads=-1,
        )
        self.assertEqual(
            (error["Message"], error["ArgumentName"], error["ArgumentValue"]),
            (
                "Argument max-uploads must be an integer between 0 and 2147483647",
                "max-uploads",
                "-1",
            ),
        )
        error = self.assertClientError(
            self.s3.list_multipart_uploads,
            "InvalidArgument",
            400,
            Bucket=self.bucket,
            EncodingType="base64",
        )
        self.assertEqual(error["ArgumentName"], "encoding-type")
