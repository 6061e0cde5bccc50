"""Server-side encryption (SSE-C, SSE-KMS, bucket defaults), through boto3 and the daemon."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.errors import ServiceError
from awsemu.s3 import encryption
from tests.s3support import S3TestCase, kms_by_default

KEY_A = "0123456789abcdef0123456789abcdef"
KEY_B = "fedcba9876543210fedcba9876543210"
MIB = 1024 * 1024


def md5_of(key: str) -> str:
    return base64.b64encode(hashlib.md5(key.encode()).digest()).decode()


def sse_c(key: str, prefix: str = "SSECustomer") -> dict[str, Any]:
    """The parameters of a customer key (boto3 base64-encodes the key and adds its MD5)."""
    return {f"{prefix}Algorithm": "AES256", f"{prefix}Key": key}


def encoded_sse_c(key: str) -> dict[str, Any]:
    """A customer key as sent on the wire: boto3 encodes it only when no MD5 is given."""
    return {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key.encode()).decode(),
        "SSECustomerKeyMD5": md5_of(key),
    }


# S3's texts, quoted as in awsemu.s3.encryption (see the sources cited there).
KEY_NEEDED = (
    "The object was stored using a form of Server Side Encryption. The correct parameters must "
    "be provided to retrieve the object."
)


class CustomerKeyTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"secret", **sse_c(KEY_A))

    def test_echoed_and_required(self) -> None:
        """The key's MD5 is echoed; reads without the key are 400, with another key 403."""
        self.assertEqual(self.put["SSECustomerAlgorithm"], "AES256")
        self.assertEqual(self.put["SSECustomerKeyMD5"], md5_of(KEY_A))
        self.assertNotIn("ServerSideEncryption", self.put)
        got = self.s3.get_object(Bucket=self.bucket, Key="k", **sse_c(KEY_A))
        self.assertEqual(got["Body"].read(), b"secret")
        self.assertEqual(
            (got["SSECustomerAlgorithm"], got["SSECustomerKeyMD5"]), ("AES256", md5_of(KEY_A))
        )
        head = self.s3.head_object(Bucket=self.bucket, Key="k", **sse_c(KEY_A))
        self.assertEqual(head["SSECustomerKeyMD5"], md5_of(KEY_A))
        error = self.assertClientError(
            self.s3.get_object, "InvalidRequest", 400, Bucket=self.bucket, Key="k"
        )
        self.assertEqual(error["Message"], KEY_NEEDED)
        self.assertClientError(self.s3.head_object, "400", 400, Bucket=self.bucket, Key="k")
        error = self.assertClientError(
            self.s3.get_object, "AccessDenied", 403, Bucket=self.bucket, Key="k", **sse_c(KEY_B)
        )
        self.assertEqual(error["Message"], "Access Denied")
        self.assertClientError(
            self.s3.head_object, "403", 403, Bucket=self.bucket, Key="k", **sse_c(KEY_B)
        )
        self.assertClientError(
            self.s3.get_object_attributes,
            "InvalidRequest",
            400,
            Bucket=self.bucket,
            Key="k",
            ObjectAttributes=["ObjectSize"],
        )
        attributes = self.s3.get_object_attributes(
            Bucket=self.bucket, Key="k", ObjectAttributes=["ObjectSize"], **encoded_sse_c(KEY_A)
        )
        self.assertEqual(attributes["ObjectSize"], 6)

    def test_key_headers_checked(self) -> None:
        """Algorithm, key length and key MD5 are checked with S3's codes and messages."""
        cases: list[tuple[dict[str, Any], str, str, str]] = [
            (
                {"SSECustomerAlgorithm": "AES128", "SSECustomerKey": KEY_A},
                "InvalidEncryptionAlgorithmError",
                "The Encryption request you specified is not valid. Supported value: AES256.",
                "x-amz-server-side-encryption-customer-algorithm",
            ),
            (
                {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "short"},
                "InvalidArgument",
                "The secret key was invalid for the specified algorithm.",
                "x-amz-server-side-encryption-customer-key",
            ),
            (
                {**encoded_sse_c(KEY_A), "SSECustomerKeyMD5": md5_of(KEY_B)},
                "InvalidArgument",
                "The calculated MD5 hash of the key did not match the hash that was provided.",
                "x-amz-server-side-encryption-customer-key-MD5",
            ),
            (
                {"SSECustomerAlgorithm": "AES256"},
                "InvalidArgument",
                "Requests specifying Server Side Encryption with Customer provided keys must "
                "provide an appropriate secret key.",
                "x-amz-server-side-encryption-customer-key",
            ),
            (
                {**sse_c(KEY_A), "ServerSideEncryption": "AES256"},
                "InvalidArgument",
                "Server Side Encryption with Customer provided key is incompatible with the "
                "encryption method specified",
                "x-amz-server-side-encryption",
            ),
        ]
        for params, code, message, argument in cases:
            error = self.assertClientError(
                self.s3.put_object, code, 400, Bucket=self.bucket, Key="bad", Body=b"x", **params
            )
            self.assertEqual((error["Message"], error["ArgumentName"]), (message, argument))
        self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="bad")

    def test_key_for_plain_object(self) -> None:
        self.s3.put_object(Bucket=self.bucket, Key="plain", Body=b"x")
        error = self.assertClientError(
            self.s3.get_object,
            "InvalidRequest",
            400,
            Bucket=self.bucket,
            Key="plain",
            **sse_c(KEY_A),
        )
        self.assertEqual(
            error["Message"], "The encryption parameters are not applicable to this object."
        )

    def test_copy(self) -> None:
        """A copy needs the source's key (copy-source headers) and takes its own encryption."""
        error = self.assertClientError(
            self.s3.copy_object,
            "InvalidRequest",
            400,
            Bucket=self.bucket,
            Key="copy",
            CopySource={"Bucket": self.bucket, "Key": "k"},
        )
        self.assertEqual(error["Message"], KEY_NEEDED)
        self.assertClientError(
            self.s3.copy_object,
            "AccessDenied",
            403,
            Bucket=self.bucket,
            Key="copy",
            CopySource={"Bucket": self.bucket, "Key": "k"},
            **sse_c(KEY_B, "CopySourceSSECustomer"),
        )
        copied = self.s3.copy_object(
            Bucket=self.bucket,
            Key="copy",
            CopySource={"Bucket": self.bucket, "Key": "k"},
            **sse_c(KEY_A, "CopySourceSSECustomer"),
            **sse_c(KEY_B),
        )
        self.assertEqual(copied["SSECustomerKeyMD5"], md5_of(KEY_B))
        got = self.s3.get_object(Bucket=self.bucket, Key="copy", **sse_c(KEY_B))
        self.assertEqual(got["Body"].read(), b"secret")
        # A copy onto itself that changes the key is allowed (a key rotation).
        rotated = self.s3.copy_object(
            Bucket=self.bucket,
            Key="copy",
            CopySource={"Bucket": self.bucket, "Key": "copy"},
            **sse_c(KEY_B, "CopySourceSSECustomer"),
            **sse_c(KEY_A),
        )
        self.assertEqual(rotated["SSECustomerKeyMD5"], md5_of(KEY_A))
        plain = self.s3.copy_object(
            Bucket=self.bucket,
            Key="plain",
            CopySource={"Bucket": self.bucket, "Key": "k"},
            **sse_c(KEY_A, "CopySourceSSECustomer"),
        )
        self.assertEqual(plain["ServerSideEncryption"], "AES256")
        self.assertEqual(
            self.s3.get_object(Bucket=self.bucket, Key="plain")["Body"].read(), b"secret"
        )

    def test_multipart(self) -> None:
        """Parts of an SSE-C upload need its key; each answer echoes it."""
        created = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp", **sse_c(KEY_A))
        self.assertEqual(created["SSECustomerKeyMD5"], md5_of(KEY_A))
        upload = created["UploadId"]
        part = {"Bucket": self.bucket, "Key": "mp", "UploadId": upload, "PartNumber": 1}
        error = self.assertClientError(
            self.s3.upload_part, "InvalidRequest", 400, Body=b"x", **part
        )
        self.assertEqual(
            error["Message"],
            "The multipart upload initiate requested encryption. Subsequent part requests must "
            "include the appropriate encryption parameters.",
        )
        error = self.assertClientError(
            self.s3.upload_part, "InvalidArgument", 400, Body=b"x", **part, **sse_c(KEY_B)
        )
        self.assertEqual(
            error["Message"],
            "The provided encryption parameters did not match the ones used originally.",
        )
        uploaded = self.s3.upload_part(Body=b"body", **part, **sse_c(KEY_A))
        self.assertEqual(uploaded["SSECustomerKeyMD5"], md5_of(KEY_A))
        source = {"Bucket": self.bucket, "Key": "k"}
        self.assertClientError(
            self.s3.upload_part_copy,
            "InvalidRequest",
            400,
            CopySource=source,
            **{**part, "PartNumber": 2},
            **sse_c(KEY_A),
        )
        copied = self.s3.upload_part_copy(
            CopySource=source,
            **{**part, "PartNumber": 2},
            **sse_c(KEY_A),
            **sse_c(KEY_A, "CopySourceSSECustomer"),
        )
        self.assertEqual(copied["SSECustomerKeyMD5"], md5_of(KEY_A))
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key="mp",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": uploaded["ETag"]}]},
        )
        self.assertClientError(
            self.s3.get_object, "InvalidRequest", 400, Bucket=self.bucket, Key="mp"
        )
        got = self.s3.get_object(Bucket=self.bucket, Key="mp", **sse_c(KEY_A))
        self.assertEqual(got["Body"].read(), b"body")


class KmsTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()

    def test_key_id_context_and_bucket_key(self) -> None:
        """A key id is kept as given; the context and bucket key are echoed."""
        context = base64.b64encode(json.dumps({"team": "a"}).encode()).decode()
        put = self.s3.put_object(
            Bucket=self.bucket,
            Key="k",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId="alias/mine",
            SSEKMSEncryptionContext=context,
            BucketKeyEnabled=True,
        )
        self.assertEqual(
            (
                put["ServerSideEncryption"],
                put["SSEKMSKeyId"],
                put["SSEKMSEncryptionContext"],
                put["BucketKeyEnabled"],
            ),
            ("aws:kms", "alias/mine", context, True),
        )
        head = self.s3.head_object(Bucket=self.bucket, Key="k")
        self.assertEqual(
            (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["BucketKeyEnabled"]),
            ("aws:kms", "alias/mine", True),
        )

    def test_default_key(self) -> None:
        """Without a key id, S3 names the account's aws/s3 key; the same one each time."""
        first = self.s3.put_object(
            Bucket=self.bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms"
        )
        second = self.s3.put_object(
            Bucket=self.bucket, Key="b", Body=b"x", ServerSideEncryption="aws:kms"
        )
        self.assertRegex(
            first["SSEKMSKeyId"], r"^arn:aws:kms:us-east-1:000000000000:key/[0-9a-f-]{36}$"
        )
        self.assertEqual(first["SSEKMSKeyId"], second["SSEKMSKeyId"])
        self.assertNotIn("BucketKeyEnabled", first)

    def test_bad_headers(self) -> None:
        cases: list[tuple[dict[str, Any], str, str]] = [
            (
                {"ServerSideEncryption": "aws:kms", "SSEKMSEncryptionContext": "not json"},
                "x-amz-server-side-encryption-context",
                "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 "
                "string holding JSON which represents a string-string map",
            ),
            (
                {"SSEKMSKeyId": "alias/mine"},
                "x-amz-server-side-encryption-aws-kms-key-id",
                "Server Side Encryption with AWS KMS managed key requires HTTP header "
                "x-amz-server-side-encryption : aws:kms",
            ),
            (
                {"ServerSideEncryption": "DES"},
                "x-amz-server-side-encryption",
                "The encryption method specified is not supported",
            ),
        ]
        for params, argument, message in cases:
            error = self.assertClientError(
                self.s3.put_object,
                "InvalidArgument",
                400,
                Bucket=self.bucket,
                Key="k",
                Body=b"x",
                **params,
            )
            self.assertEqual((error["ArgumentName"], error["Message"]), (argument, message))

    def test_bucket_default(self) -> None:
        """PutBucketEncryption's default applies to writes that ask for nothing."""
        kms_by_default(self.s3, self.bucket, "arn:aws:kms:us-east-1:000000000000:key/abc")
        put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")
        self.assertEqual(
            (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]),
            ("aws:kms", "arn:aws:kms:us-east-1:000000000000:key/abc", True),
        )
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp")
        self.assertEqual(upload["ServerSideEncryption"], "aws:kms")
        explicit = self.s3.put_object(
            Bucket=self.bucket, Key="s3", Body=b"x", ServerSideEncryption="AES256"
        )
        self.assertEqual(explicit["ServerSideEncryption"], "AES256")
        self.assertNotIn("SSEKMSKeyId", explicit)


class CustomerKeyUnitTests(SynchronousTestCase):
    def test_never_kept(self) -> None:
        """Only the key's MD5 is kept; the key itself is stripped from stored parameters."""
        params = {
            "SSECustomerAlgorithm": "AES256",
            "SSECustomerKey": base64.b64encode(KEY_A.encode()).decode(),
            "SSECustomerKeyMD5": md5_of(KEY_A),
        }
        self.assertEqual(
            encryption.for_write(params, {}, "1", "us-east-1"),
            {"SSECustomerAlgorithm": "AES256", "SSECustomerKeyMD5": md5_of(KEY_A)},
        )
        self.assertNotIn("SSECustomerKey", encryption.stripped(params))

    def test_missing_md5(self) -> None:
        params = {
            "SSECustomerAlgorithm": "AES256",
            "SSECustomerKey": base64.b64encode(KEY_A.encode()).decode(),
        }
        with self.assertRaises(ServiceError) as raised:
            encryption.customer_key(params)
        self.assertEqual(
            raised.exception.fields["ArgumentName"],
            "x-amz-server-side-encryption-customer-key-MD5",
        )

    def test_default_key_per_account(self) -> None:
        self.assertNotEqual(
            encryption.default_kms_key("1", "us-east-1"),
            encryption.default_kms_key("2", "us-east-1"),
        )


class OpaqueEtagTests(S3TestCase):
    """
    S3 API reference, Object, ETag: objects "encrypted by SSE-C or
    SSE-KMS, have ETags that are not an MD5 digest of their object data";
    SSE-S3 ones are; multipart ones are not, whatever the encryption.
    """

    BODY = b"secret data"

    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.md5 = f'"{hashlib.md5(self.BODY).hexdigest()}"'

    def assertOpaque(self, etag: str) -> None:
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$')
        self.assertNotEqual(etag, self.md5)

    def test_customer_key(self) -> None:
        """One opaque ETag per write, the same on every read, list and condition."""
        etag = self.s3.put_object(Bucket=self.bucket, Key="k", Body=self.BODY, **sse_c(KEY_A))[
            "ETag"
        ]
        self.assertOpaque(etag)
        key = {"Bucket": self.bucket, "Key": "k", **sse_c(KEY_A)}
        self.assertEqual(self.s3.head_object(**key)["ETag"], etag)
        self.assertEqual(self.s3.get_object(**key)["ETag"], etag)
        listed = self.s3.list_objects_v2(Bucket=self.bucket)["Contents"]
        self.assertEqual([item["ETag"] for item in listed], [etag])
        self.assertEqual(self.s3.get_object(**key, IfMatch=etag)["Body"].read(), self.BODY)
        self.assertClientError(
            self.s3.get_object, "PreconditionFailed", 412, **key, IfMatch=self.md5
        )
        self.assertClientError(self.s3.head_object, "304", 304, **key, IfNoneMatch=etag)
        # A conditional write matches the stored ETag, not the body's MD5.
        self.assertClientError(
            self.s3.put_object,
            "PreconditionFailed",
            412,
            Body=self.BODY,
            IfMatch=self.md5,
            **key,
        )
        again = self.s3.put_object(Body=self.BODY, IfMatch=etag, **key)["ETag"]
        self.assertOpaque(again)
        self.assertNotEqual(again, etag)

    def test_content_md5_still_checked(self) -> None:
        """``Content-MD5`` is verified against the body, whatever the ETag."""
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        error = self.assertClientError(
            self.s3.put_object,
            "BadDigest",
            400,
            Bucket=self.bucket,
            Key="k",
            Body=self.BODY,
            ContentMD5=wrong,
            **sse_c(KEY_A),
        )
        self.assertEqual(
            error["Message"], "The Content-MD5 you specified did not match what we received."
        )
        right = base64.b64encode(hashlib.md5(self.BODY).digest()).decode()
        put = self.s3.put_object(
            Bucket=self.bucket, Key="k", Body=self.BODY, ContentMD5=right, **sse_c(KEY_A)
        )
        self.assertOpaque(put["ETag"])

    def test_kms_copies_and_plain(self) -> None:
        """SSE-KMS writes and SSE-C copies are opaque too; SSE-S3 keeps the MD5."""
        plain = self.s3.put_object(Bucket=self.bucket, Key="plain", Body=self.BODY)
        self.assertEqual(plain["ETag"], self.md5)
        kms = self.s3.put_object(
            Bucket=self.bucket, Key="kms", Body=self.BODY, ServerSideEncryption="aws:kms"
        )
        self.assertOpaque(kms["ETag"])
        copied = self.s3.copy_object(
            Bucket=self.bucket,
            Key="copy",
            CopySource={"Bucket": self.bucket, "Key": "plain"},
            **sse_c(KEY_B),
        )["CopyObjectResult"]["ETag"]
        self.assertOpaque(copied)
        back = self.s3.copy_object(
            Bucket=self.bucket,
            Key="back",
            CopySource={"Bucket": self.bucket, "Key": "copy"},
            **sse_c(KEY_B, "CopySourceSSECustomer"),
        )["CopyObjectResult"]["ETag"]
        self.assertEqual(back, self.md5)

    def test_multipart(self) -> None:
        """An SSE-C upload's parts get opaque ETags; the object's keeps its ``-N`` form."""
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp", **sse_c(KEY_A))
        part = {"Bucket": self.bucket, "Key": "mp", "UploadId": upload["UploadId"]}
        first = self.s3.upload_part(PartNumber=1, Body=self.BODY, **part, **sse_c(KEY_A))["ETag"]
        self.assertOpaque(first)
        listed = self.s3.list_parts(**part)["Parts"]
        self.assertEqual([item["ETag"] for item in listed], [first])
        done = self.s3.complete_multipart_upload(
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}]}, **part
        )
        expected = hashlib.md5(bytes.fromhex(first.strip('"'))).hexdigest()
        self.assertEqual(done["ETag"], f'"{expected}-1"')
        head = self.s3.head_object(Bucket=self.bucket, Key="mp", **sse_c(KEY_A))
        self.assertEqual(head["ETag"], done["ETag"])
