"""
Details of listings and versioned writes as AWS answers them, through
boto3 against the real daemon.
"""

from __future__ import annotations

from tests.s3support import S3TestCase, raw


class ListingDetailsTests(S3TestCase):
    def test_whole_seconds(self) -> None:
        """Listed LastModified values have whole seconds (``.000Z``), as AWS's do."""
        name = self.new_bucket()
        self.s3.put_object(Bucket=name, Key="k", Body=b"x")
        status, _, body = raw(self.endpoint, "GET", f"/{name}?list-type=2")
        self.assertEqual(status, 200)
        stamp = body.split(b"<LastModified>")[1].split(b"</LastModified>")[0]
        self.assertTrue(stamp.endswith(b".000Z"), stamp)
        listed = self.s3.list_objects_v2(Bucket=name)["Contents"][0]["LastModified"]
        head = self.s3.head_object(Bucket=name, Key="k")["LastModified"]
        self.assertEqual((listed.microsecond, listed), (0, head))
        version = self.s3.list_object_versions(Bucket=name)["Versions"][0]
        self.assertEqual(version["LastModified"], head)

    def test_max_keys_zero(self) -> None:
        """MaxKeys=0 answers an empty page that is not truncated."""
        name = self.new_bucket()
        self.s3.put_object(Bucket=name, Key="k", Body=b"x")
        for call in (self.s3.list_objects_v2, self.s3.list_objects, self.s3.list_object_versions):
            answer = call(Bucket=name, MaxKeys=0)
            self.assertEqual(
                (answer["IsTruncated"], answer.get("Contents"), answer.get("Versions")),
                (False, None, None),
                call,
            )
            self.assertEqual(answer["MaxKeys"], 0)


class SuspendedVersioningTests(S3TestCase):
    """Writes of the null version (versioning suspended) answer no ``x-amz-version-id``."""

    def test_put_object(self) -> None:
        name = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.assertIn("VersionId", self.s3.put_object(Bucket=name, Key="k", Body=b"1"))
        self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
        answer = self.s3.put_object(Bucket=name, Key="k", Body=b"2")
        self.assertNotIn("x-amz-version-id", answer["ResponseMetadata"]["HTTPHeaders"])
        ids = [v["VersionId"] for v in self.s3.list_object_versions(Bucket=name)["Versions"]]
        self.assertEqual(ids[0], "null")

    def test_complete_multipart_upload(self) -> None:
        name = self.new_bucket()
        self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
        upload = self.s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
        part = self.s3.upload_part(Bucket=name, Key="k", UploadId=upload, PartNumber=1, Body=b"x")
        answer = self.s3.complete_multipart_upload(
            Bucket=name,
            Key="k",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        self.assertNotIn("x-amz-version-id", answer["ResponseMetadata"]["HTTPHeaders"])
