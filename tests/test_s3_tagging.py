"""Tag limits of objects and buckets, through boto3 and the daemon (see s3/tagging)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.errors import ServiceError
from awsemu.s3 import tagging
from tests.s3support import S3TestCase


def tag_set(count: int, key: str = "k", value: str = "v") -> list[dict[str, str]]:
    return [{"Key": f"{key}{n}", "Value": value} for n in range(count)]


class ObjectTagTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")

    def put_tags(self, tags: list[dict[str, str]]) -> Any:
        return self.s3.put_object_tagging(Bucket=self.bucket, Key="k", Tagging={"TagSet": tags})

    def test_put_object_tagging_limits(self) -> None:
        """10 tags of 128/256 characters pass; more, longer, reserved or repeated keys do not."""
        most = [{"Key": f"{n}" + "k" * 127, "Value": "v" * 256} for n in range(10)]
        self.put_tags(most)
        cases: list[tuple[list[dict[str, str]], str, str]] = [
            (tag_set(11), "BadRequest", "Object tags cannot be greater than 10"),
            (
                [{"Key": "k" * 129, "Value": ""}],
                "InvalidTag",
                "The TagKey you have provided is too long, max 128",
            ),
            (
                [{"Key": "k", "Value": "v" * 257}],
                "InvalidTag",
                "The TagValue you have provided is too long, max 256",
            ),
            (
                [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
                "InvalidTag",
                "Cannot provide multiple Tags with the same key",
            ),
            (
                [{"Key": "aws:cloudformation", "Value": "1"}],
                "InvalidTag",
                "Your TagKey cannot be prefixed with aws:",
            ),
            (
                [{"Key": "bad{key}", "Value": "1"}],
                "InvalidTag",
                "The TagKey you have provided is invalid",
            ),
        ]
        for tags, code, message in cases:
            error = self.assertClientError(self.put_tags, code, 400, tags)
            self.assertEqual(error["Message"], message)
        # Nothing was changed by the refused calls.
        kept = self.s3.get_object_tagging(Bucket=self.bucket, Key="k")["TagSet"]
        self.assertEqual(len(kept), 10)

    def test_utf16_length(self) -> None:
        """A character outside the BMP counts twice, as S3 counts UTF-16 code units."""
        self.put_tags([{"Key": "k", "Value": "\U0001d400" * 128}])
        error = self.assertClientError(
            self.put_tags, "InvalidTag", 400, [{"Key": "k", "Value": "\U0001d400" * 129}]
        )
        self.assertEqual(error["Message"], "The TagValue you have provided is too long, max 256")

    def test_header(self) -> None:
        """x-amz-tagging on PutObject, CreateMultipartUpload and CopyObject (REPLACE)."""
        eleven = urlencode({f"k{n}": "v" for n in range(11)})
        for call, extra in (
            (self.s3.put_object, {"Body": b"x"}),
            (self.s3.create_multipart_upload, {}),
            (
                self.s3.copy_object,
                {"CopySource": {"Bucket": self.bucket, "Key": "k"}, "TaggingDirective": "REPLACE"},
            ),
        ):
            error = self.assertClientError(
                call, "BadRequest", 400, Bucket=self.bucket, Key="new", Tagging=eleven, **extra
            )
            self.assertEqual(error["Message"], "Object tags cannot be greater than 10")
        self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="new")
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=self.bucket))
        error = self.assertClientError(
            self.s3.put_object,
            "InvalidArgument",
            400,
            Bucket=self.bucket,
            Key="new",
            Body=b"x",
            Tagging="a=1&a=2",
        )
        self.assertEqual(
            (error["Message"], error["ArgumentName"]),
            (
                "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
                "parameters without tag name duplicates.",
                "x-amz-tagging",
            ),
        )
        self.s3.put_object(Bucket=self.bucket, Key="new", Body=b"x", Tagging="a=1&b")
        tags = self.s3.get_object_tagging(Bucket=self.bucket, Key="new")["TagSet"]
        self.assertEqual(tags, [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}])
        # A copy with COPY keeps the source's tags and ignores the header.
        self.s3.copy_object(
            Bucket=self.bucket,
            Key="copied",
            CopySource={"Bucket": self.bucket, "Key": "new"},
            Tagging=eleven,
        )
        self.assertEqual(
            self.s3.get_object_tagging(Bucket=self.bucket, Key="copied")["TagSet"], tags
        )


class BucketTagTests(S3TestCase):
    def test_limits(self) -> None:
        bucket = self.new_bucket()
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_set(50)})
        error = self.assertClientError(
            self.s3.put_bucket_tagging,
            "InvalidTag",
            400,
            Bucket=bucket,
            Tagging={"TagSet": tag_set(51)},
        )
        self.assertEqual(error["Message"], "Bucket tag count cannot be greater than 50")
        error = self.assertClientError(
            self.s3.put_bucket_tagging,
            "InvalidTag",
            400,
            Bucket=bucket,
            Tagging={"TagSet": [{"Key": "aws:x", "Value": "1"}]},
        )
        self.assertEqual(error["Message"], "Your TagKey cannot be prefixed with aws:")
        self.assertEqual(len(self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"]), 50)


class TagUnitTests(SynchronousTestCase):
    def test_symbols_and_spaces(self) -> None:
        tags = tagging.header_tags("name=a%20b_c.d%3Ae%2Ff%3Dg%2Bh-i%40j&%C3%A9t%C3%A9=%E6%97%A5")
        self.assertEqual(tags, {"name": "a b_c.d:e/f=g+h-i@j", "été": "日"})

    def test_empty_key(self) -> None:
        with self.assertRaises(ServiceError) as raised:
            tagging.object_tags([{"Key": "", "Value": "v"}])
        self.assertEqual(raised.exception.code, "InvalidTag")
