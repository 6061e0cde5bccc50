"""ListObjects, ListObjectsV2 and their paging, prefixes and encodings."""

from __future__ import annotations

from tests.s3support import S3TestCase

KEYS = ("a/1", "a/2", "a/b/3", "b", "c d", "c+e", "z/")


class ListingTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        for key in KEYS:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"x")

    def test_v2_all(self) -> None:
        result = self.s3.list_objects_v2(Bucket=self.bucket)
        self.assertEqual([o["Key"] for o in result["Contents"]], sorted(KEYS))
        self.assertEqual((result["KeyCount"], result["IsTruncated"]), (len(KEYS), False))
        self.assertNotIn("Owner", result["Contents"][0])
        self.assertEqual(result["Contents"][0]["ChecksumAlgorithm"], ["CRC32"])

    def test_delimiter(self) -> None:
        result = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="/")
        self.assertEqual([o["Key"] for o in result["Contents"]], ["b", "c d", "c+e"])
        self.assertEqual([p["Prefix"] for p in result["CommonPrefixes"]], ["a/", "z/"])
        nested = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="/", Prefix="a/")
        self.assertEqual([o["Key"] for o in nested["Contents"]], ["a/1", "a/2"])
        self.assertEqual([p["Prefix"] for p in nested["CommonPrefixes"]], ["a/b/"])

    def test_pages(self) -> None:
        """Every page of max-keys, contents and common prefixes counted alike, with no repeats."""
        seen: list[str] = []
        token = None
        while True:
            params = {"Bucket": self.bucket, "MaxKeys": 2, "Delimiter": "/"}
            if token:
                params["ContinuationToken"] = token
            page = self.s3.list_objects_v2(**params)
            seen += [o["Key"] for o in page.get("Contents", [])] + [
                p["Prefix"] for p in page.get("CommonPrefixes", [])
            ]
            if not page["IsTruncated"]:
                break
            token = page["NextContinuationToken"]
        self.assertEqual(sorted(seen), ["a/", "b", "c d", "c+e", "z/"])
        paginated = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, PaginationConfig={"PageSize": 3}
        )
        self.assertEqual([o["Key"] for page in paginated for o in page["Contents"]], sorted(KEYS))

    def test_start_after_owner_encoding(self) -> None:
        result = self.s3.list_objects_v2(
            Bucket=self.bucket, StartAfter="b", FetchOwner=True, EncodingType="url"
        )
        # boto3 decodes only when it asked for the encoding itself; here the caller did.
        self.assertEqual([o["Key"] for o in result["Contents"]], ["c+d", "c%2Be", "z/"])
        decoded = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="b")
        self.assertEqual([o["Key"] for o in decoded["Contents"]], ["c d", "c+e", "z/"])
        self.assertEqual(len(result["Contents"][0]["Owner"]["ID"]), 64)
        self.assertEqual(result["StartAfter"], "b")

    def test_garbage_token(self) -> None:
        error = self.assertClientError(
            self.s3.list_objects_v2,
            "InvalidArgument",
            400,
            Bucket=self.bucket,
            ContinuationToken="!!garbage",
        )
        self.assertEqual(error["ArgumentName"], "continuation-token")

    def test_v1(self) -> None:
        first = self.s3.list_objects(Bucket=self.bucket, MaxKeys=3)
        self.assertEqual([o["Key"] for o in first["Contents"]], sorted(KEYS)[:3])
        self.assertTrue(first["IsTruncated"])
        rest = self.s3.list_objects(Bucket=self.bucket, Marker=first["Contents"][-1]["Key"])
        self.assertEqual([o["Key"] for o in rest["Contents"]], sorted(KEYS)[3:])
        delimited = self.s3.list_objects(Bucket=self.bucket, Delimiter="/", MaxKeys=1)
        self.assertEqual(delimited["NextMarker"], "a/")
        self.assertIn("Owner", rest["Contents"][0])
