"""Presigned URLs, browser POST uploads and CORS, against a running daemon."""

from __future__ import annotations

import time
import urllib.parse
import uuid

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest
from awsemu.s3 import presign
from tests.s3support import S3TestCase, client, raw


def _target(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.path}?{parts.query}"


def multipart_form(
    fields: dict[str, str], content: bytes, filename: str = "f.txt"
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    lines: list[bytes] = []
    for name, value in fields.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{name}"'.encode(),
            b"",
            value.encode(),
        ]
    lines += [
        f"--{boundary}".encode(),
        f'Content-Disposition: form-data; name="file"; filename="{filename}"'.encode(),
        b"Content-Type: application/octet-stream",
        b"",
        content,
        f"--{boundary}--".encode(),
        b"",
    ]
    return b"\r\n".join(lines), f"multipart/form-data; boundary={boundary}"


class PresignedTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.s3 = client(self.endpoint, signature_version="s3v4")
        self.bucket = self.new_bucket()
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"secret")

    def test_sigv4_get_and_put(self) -> None:
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "k"}, ExpiresIn=60
        )
        self.assertEqual(raw(self.endpoint, "GET", _target(url))[2], b"secret")
        put = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": "new"}
        )
        self.assertEqual(raw(self.endpoint, "PUT", _target(put), b"uploaded")[0], 200)
        self.assertEqual(
            self.s3.get_object(Bucket=self.bucket, Key="new")["Body"].read(), b"uploaded"
        )

    def test_expired(self) -> None:
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "k"}, ExpiresIn=1
        )
        time.sleep(1.1)
        status, _, body = raw(self.endpoint, "GET", _target(url))
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code><Message>Request has expired</Message>", body)
        self.assertIn(b"<X-Amz-Expires>1</X-Amz-Expires>", body)

    def test_sigv2(self) -> None:
        legacy = client(self.endpoint, signature_version="s3")
        url = legacy.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "k"}, ExpiresIn=60
        )
        self.assertEqual(raw(self.endpoint, "GET", _target(url))[2], b"secret")
        expired = url.replace(
            urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["Expires"][0], "1000"
        )
        self.assertEqual(raw(self.endpoint, "GET", _target(expired))[0], 403)


class SignatureTests(SynchronousTestCase):
    """With the secret known, a presigned URL's signature is checked (no daemon needed)."""

    def request(self, url: str) -> HttpRequest:
        parts = urllib.parse.urlsplit(url)
        return HttpRequest.from_uri("GET", f"{parts.path}?{parts.query}", [("host", parts.netloc)])

    def test_sigv4(self) -> None:
        s3 = client("http://127.0.0.1:9", signature_version="s3v4")
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "b", "Key": "a key/x"}, ExpiresIn=60
        )
        now = Clock().seconds() + time.time()
        presign.check(self.request(url), now, lambda key: "test", "b")
        with self.assertRaises(ServiceError) as raised:
            presign.check(self.request(url), now, lambda key: "other secret", "b")
        self.assertEqual(raised.exception.code, "SignatureDoesNotMatch")

    def test_sigv4_virtual_hosted(self) -> None:
        """A virtual-hosted URL's signature holds after the gateway made the request path-style."""
        s3 = client(
            "http://s3.localhost.localstack.cloud:4566",
            signature_version="s3v4",
            s3={"addressing_style": "virtual"},
        )
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=60
        )
        request = self.request(url)
        self.assertEqual(request.headers["host"], "bkt.s3.localhost.localstack.cloud:4566")
        request.path = "/bkt" + request.path
        presign.check(request, time.time(), lambda key: "test", "bkt")

    def test_sigv2(self) -> None:
        s3 = client("http://127.0.0.1:9", signature_version="s3")
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60
        )
        presign.check(self.request(url), time.time(), lambda key: "test", "b")
        with self.assertRaises(ServiceError):
            presign.check(self.request(url), time.time(), lambda key: "wrong", "b")


class PostUploadTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()

    def post(self, fields: dict[str, str], content: bytes) -> tuple[int, dict[str, str], bytes]:
        body, content_type = multipart_form(fields, content)
        return raw(self.endpoint, "POST", f"/{self.bucket}", body, {"Content-Type": content_type})

    def test_presigned_post(self) -> None:
        form = self.s3.generate_presigned_post(
            self.bucket,
            "uploads/${filename}",
            Fields={"Content-Type": "text/plain", "success_action_status": "201"},
            Conditions=[
                ["content-length-range", 1, 10],
                {"Content-Type": "text/plain"},
                {"success_action_status": "201"},
                ["starts-with", "$key", "uploads/"],
            ],
        )
        status, _, body = self.post(form["fields"], b"hello")
        self.assertEqual(status, 201)
        self.assertIn(b"<Key>uploads/f.txt</Key>", body)
        got = self.s3.get_object(Bucket=self.bucket, Key="uploads/f.txt")
        self.assertEqual((got["Body"].read(), got["ContentType"]), (b"hello", "text/plain"))
        status, _, body = self.post(form["fields"], b"far too long for the policy")
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>EntityTooLarge</Code>", body)

    def test_conditions(self) -> None:
        form = self.s3.generate_presigned_post(self.bucket, "fixed")
        self.assertEqual(self.post(form["fields"], b"x")[0], 204)
        wrong_key = {**form["fields"], "key": "other"}
        status, _, body = self.post(wrong_key, b"x")
        self.assertEqual(status, 403)
        self.assertIn(b"Policy Condition failed", body)
        extra = {**form["fields"], "x-amz-meta-extra": "1"}
        self.assertIn(b"Extra input fields", self.post(extra, b"x")[2])

    def test_redirect(self) -> None:
        form = self.s3.generate_presigned_post(
            self.bucket,
            "r",
            Fields={"success_action_redirect": "http://example.com/done"},
            Conditions=[{"success_action_redirect": "http://example.com/done"}],
        )
        status, headers, _ = self.post(form["fields"], b"x")
        self.assertEqual(status, 303)
        self.assertTrue(headers["location"].startswith("http://example.com/done?bucket="))


class CorsTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")

    def test_preflight(self) -> None:
        preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT"}
        status, _, body = raw(self.endpoint, "OPTIONS", f"/{self.bucket}/k", headers=preflight)
        self.assertEqual(status, 403)
        self.assertIn(b"CORS is not enabled", body)
        self.s3.put_bucket_cors(
            Bucket=self.bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": ["http://*.example"],
                        "AllowedMethods": ["GET", "PUT"],
                        "AllowedHeaders": ["x-amz-*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 30,
                    },
                ]
            },
        )
        status, headers, _ = raw(
            self.endpoint,
            "OPTIONS",
            f"/{self.bucket}/k",
            headers={**preflight, "Access-Control-Request-Headers": "x-amz-meta-a"},
        )
        self.assertEqual(status, 200)
        self.assertEqual(headers["access-control-allow-origin"], "http://app.example")
        self.assertEqual(headers["access-control-allow-methods"], "GET, PUT")
        self.assertEqual(headers["access-control-max-age"], "30")
        denied = {"Origin": "http://evil.test", "Access-Control-Request-Method": "PUT"}
        self.assertEqual(raw(self.endpoint, "OPTIONS", f"/{self.bucket}/k", headers=denied)[0], 403)
        status, headers, _ = raw(
            self.endpoint, "GET", f"/{self.bucket}/k", headers={"Origin": "http://app.example"}
        )
        self.assertEqual(headers["access-control-allow-origin"], "http://app.example")
        self.assertEqual(headers["access-control-expose-headers"], "ETag")
        self.assertNotIn(
            "access-control-allow-origin", raw(self.endpoint, "GET", f"/{self.bucket}/k")[1]
        )
