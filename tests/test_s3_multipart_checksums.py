"""Multipart uploads' checksum rules, through boto3 and the daemon (see s3/multipart_checksums)."""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.errors import ServiceError
from awsemu.s3 import checksums, multipart_checksums
from awsemu.s3.store import Part
from tests.s3support import S3TestCase, client

MIB = 1024 * 1024


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def crc32(data: bytes) -> str:
    return b64(zlib.crc32(data).to_bytes(4, "big"))


class MultipartChecksumTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        # Sends a checksum only where asked, so each test says which.
        self.bare = client(self.endpoint, request_checksum_calculation="when_required")

    def start(self, **params: Any) -> str:
        upload: str = self.s3.create_multipart_upload(Bucket=self.bucket, Key="k", **params)[
            "UploadId"
        ]
        return upload

    def part(self, upload: str, number: int, body: bytes, **params: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.bare.upload_part(
            Bucket=self.bucket, Key="k", UploadId=upload, PartNumber=number, Body=body, **params
        )
        return answer

    def complete(self, upload: str, parts: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
        done: dict[str, Any] = self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key="k",
            UploadId=upload,
            MultipartUpload={"Parts": parts},
            **params,
        )
        return done

    def test_types_by_algorithm(self) -> None:
        """Which checksum types each algorithm allows, and the defaults (User Guide table)."""
        for algorithm, expected in (
            ("SHA256", "COMPOSITE"),
            ("CRC32C", "COMPOSITE"),
            ("CRC64NVME", "FULL_OBJECT"),
        ):
            created = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key="k", ChecksumAlgorithm=algorithm
            )
            self.assertEqual(created["ChecksumType"], expected, algorithm)
        for algorithm, checksum_type in (("SHA1", "FULL_OBJECT"), ("CRC64NVME", "COMPOSITE")):
            error = self.assertClientError(
                self.s3.create_multipart_upload,
                "InvalidRequest",
                400,
                Bucket=self.bucket,
                Key="k",
                ChecksumAlgorithm=algorithm,
                ChecksumType=checksum_type,
            )
            self.assertEqual(
                error["Message"],
                f"The {checksum_type} checksum type cannot be used with the "
                f"{algorithm.lower()} checksum algorithm.",
            )
        error = self.assertClientError(
            self.bare.create_multipart_upload,
            "InvalidRequest",
            400,
            Bucket=self.bucket,
            Key="k",
            ChecksumType="FULL_OBJECT",
        )
        self.assertEqual(
            error["Message"],
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm "
            "header.",
        )

    def test_part_checksum_of_the_upload_algorithm(self) -> None:
        """A part must carry the upload's algorithm; its value is checked."""
        upload = self.start(ChecksumAlgorithm="SHA256")
        for params, actual in (({}, "null"), ({"ChecksumAlgorithm": "CRC32"}, "crc32")):
            error = self.assertClientError(
                self.part, "InvalidRequest", 400, upload, 1, b"abc", **params
            )
            self.assertEqual(
                error["Message"],
                "Checksum Type mismatch occurred, expected checksum Type: sha256, actual "
                f"checksum Type: {actual}",
            )
        error = self.assertClientError(
            self.part,
            "BadDigest",
            400,
            upload,
            1,
            b"abc",
            ChecksumSHA256=b64(hashlib.sha256(b"other").digest()),
        )
        self.assertEqual(
            error["Message"], "The sha256 you specified did not match the calculated checksum."
        )
        listed = self.s3.list_parts(Bucket=self.bucket, Key="k", UploadId=upload)
        self.assertNotIn("Parts", listed)

    def test_composite_completion(self) -> None:
        """COMPOSITE: every part's checksum is repeated and must be right; the value has -N."""
        upload = self.start(ChecksumAlgorithm="SHA256")
        bodies = [b"a" * (5 * MIB), b"b"]
        answers = [
            self.part(upload, n, body, ChecksumAlgorithm="SHA256")
            for n, body in enumerate(bodies, 1)
        ]
        sums = [hashlib.sha256(body).digest() for body in bodies]
        self.assertEqual([a["ChecksumSHA256"] for a in answers], [b64(s) for s in sums])
        without = [{"PartNumber": n, "ETag": a["ETag"]} for n, a in enumerate(answers, 1)]
        error = self.assertClientError(self.complete, "InvalidRequest", 400, upload, without)
        self.assertEqual(
            error["Message"],
            "The upload was created using a sha256 checksum. The complete request must include "
            "the checksum for each part. It was missing for part 1 in the request.",
        )
        wrong = [{**p, "ChecksumSHA256": answers[1]["ChecksumSHA256"]} for p in without]
        error = self.assertClientError(self.complete, "InvalidPart", 400, upload, wrong)
        self.assertEqual(error["PartNumber"], "1")
        error = self.assertClientError(
            self.complete,
            "InvalidRequest",
            400,
            upload,
            without,
            ChecksumType="FULL_OBJECT",
        )
        self.assertEqual(
            error["Message"],
            "The upload was created using the COMPOSITE checksum mode. The complete request "
            "must use the same checksum mode.",
        )
        parts = [
            {**p, "ChecksumSHA256": a["ChecksumSHA256"]}
            for p, a in zip(without, answers, strict=True)
        ]
        composite = f"{b64(hashlib.sha256(b''.join(sums)).digest())}-2"
        error = self.assertClientError(
            self.complete,
            "BadDigest",
            400,
            upload,
            parts,
            ChecksumSHA256=f"{b64(hashlib.sha256(b'x').digest())}-2",
        )
        error = self.assertClientError(
            self.complete, "InvalidRequest", 400, upload, parts, MpuObjectSize=1
        )
        self.assertEqual(
            error["Message"],
            f"The provided 'x-amz-mp-object-size' header value 1 does not match what was "
            f"computed: {5 * MIB + 1}",
        )
        done = self.complete(upload, parts, ChecksumSHA256=composite, MpuObjectSize=5 * MIB + 1)
        self.assertEqual((done["ChecksumSHA256"], done["ChecksumType"]), (composite, "COMPOSITE"))
        head = self.s3.head_object(Bucket=self.bucket, Key="k", ChecksumMode="ENABLED")
        self.assertEqual((head["ChecksumSHA256"], head["ChecksumType"]), (composite, "COMPOSITE"))
        attributes = self.s3.get_object_attributes(
            Bucket=self.bucket, Key="k", ObjectAttributes=["Checksum", "ObjectParts"]
        )
        # GetObjectAttributes shows the composite value without its part count.
        self.assertEqual(
            attributes["Checksum"],
            {"ChecksumSHA256": composite.partition("-")[0], "ChecksumType": "COMPOSITE"},
        )
        self.assertEqual(
            [p["ChecksumSHA256"] for p in attributes["ObjectParts"]["Parts"]],
            [b64(s) for s in sums],
        )

    def test_attributes_pages(self) -> None:
        """GetObjectAttributes pages ObjectParts by MaxParts and PartNumberMarker."""
        upload = self.start(ChecksumAlgorithm="CRC32")
        bodies = [b"d" * (5 * MIB), b"e" * (5 * MIB), b"f"]
        answers = [
            self.part(upload, n, body, ChecksumAlgorithm="CRC32")
            for n, body in enumerate(bodies, 1)
        ]
        self.complete(
            upload,
            [
                {"PartNumber": n, "ETag": a["ETag"], "ChecksumCRC32": a["ChecksumCRC32"]}
                for n, a in enumerate(answers, 1)
            ],
        )
        first = self.s3.get_object_attributes(
            Bucket=self.bucket, Key="k", ObjectAttributes=["ObjectParts", "ETag"], MaxParts=2
        )
        self.assertFalse(first["ETag"].startswith('"'))
        parts = first["ObjectParts"]
        self.assertEqual(
            (parts["TotalPartsCount"], parts["MaxParts"], parts["IsTruncated"]), (3, 2, True)
        )
        self.assertEqual(
            [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in parts["Parts"]],
            [(1, 5 * MIB, crc32(bodies[0])), (2, 5 * MIB, crc32(bodies[1]))],
        )
        rest = self.s3.get_object_attributes(
            Bucket=self.bucket,
            Key="k",
            ObjectAttributes=["ObjectParts"],
            MaxParts=2,
            PartNumberMarker=parts["NextPartNumberMarker"],
        )["ObjectParts"]
        self.assertEqual(
            ([p["PartNumber"] for p in rest["Parts"]], rest["IsTruncated"]), ([3], False)
        )

    def test_full_object_completion(self) -> None:
        """FULL_OBJECT: part checksums are optional at completion; the object's is checked."""
        upload = self.start(ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
        bodies = [b"c" * (5 * MIB), b"tail"]
        answers = [
            self.part(upload, n, body, ChecksumAlgorithm="CRC32")
            for n, body in enumerate(bodies, 1)
        ]
        parts = [{"PartNumber": n, "ETag": a["ETag"]} for n, a in enumerate(answers, 1)]
        error = self.assertClientError(
            self.complete, "BadDigest", 400, upload, parts, ChecksumCRC32=crc32(b"nope")
        )
        self.assertEqual(
            error["Message"], "The crc32 you specified did not match the calculated checksum."
        )
        whole = crc32(b"".join(bodies))
        done = self.complete(upload, parts, ChecksumCRC32=whole, ChecksumType="FULL_OBJECT")
        self.assertEqual((done["ChecksumCRC32"], done["ChecksumType"]), (whole, "FULL_OBJECT"))


class UploadTypeTests(SynchronousTestCase):
    def test_defaults(self) -> None:
        self.assertEqual(multipart_checksums.upload_type("CRC32", None), "COMPOSITE")
        self.assertEqual(multipart_checksums.upload_type("CRC64NVME", None), "FULL_OBJECT")
        self.assertEqual(multipart_checksums.upload_type("CRC32C", "FULL_OBJECT"), "FULL_OBJECT")
        self.assertIsNone(multipart_checksums.upload_type(None, None))

    def test_refused(self) -> None:
        with self.assertRaises(ServiceError) as raised:
            multipart_checksums.upload_type("SHA256", "FULL_OBJECT")
        self.assertEqual(raised.exception.code, "InvalidRequest")

    def test_part_count_dropped(self) -> None:
        self.assertEqual(
            multipart_checksums.without_part_count([("SHA1", "abc=-3"), ("CRC32", "x+/=")]),
            {"SHA1": "abc=", "CRC32": "x+/="},
        )


class CombineTests(SynchronousTestCase):
    def test_combined_equals_whole(self) -> None:
        """Each CRC combined from parts' CRCs is the CRC of the whole body."""
        bodies = [b"first part " * 1000, b"", b"second", bytes(range(256)) * 7]
        for algorithm in sorted(checksums.FULL_OBJECT_CAPABLE):
            parts = []
            for number, body in enumerate(bodies, 1):
                digests = checksums.BodyDigests((algorithm,))
                digests.update(body)
                parts.append(Part(number, "", len(body), 0.0, None, digests.checksums()))
            whole = checksums.BodyDigests((algorithm,))
            whole.update(b"".join(bodies))
            self.assertEqual(
                multipart_checksums.full_object(algorithm, parts),
                whole.checksums()[algorithm],
                algorithm,
            )

    def test_not_combinable(self) -> None:
        """SHA checksums, or a part without the checksum, need the body read."""
        part = Part(1, "", 1, 0.0, None, {"SHA1": "x"})
        self.assertIsNone(multipart_checksums.full_object("SHA1", [part]))
        self.assertIsNone(multipart_checksums.full_object("CRC32", [part]))
