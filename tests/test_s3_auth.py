"""
Presigned URLs, signed requests, browser POST uploads and CORS, against a
running daemon.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import time
import urllib.parse
import uuid
from typing import Any

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.client import BaseClient
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config
from awsemu.iam import directory
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest
from awsemu.s3 import presign, secret_lookup
from awsemu.shared import SharedObjects
from tests.s3support import Daemon, S3TestCase, client, raw


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
        presign.check(self.request(url), now, lambda key, token: "test", "b")
        with self.assertRaises(ServiceError) as raised:
            presign.check(self.request(url), now, lambda key, token: "other secret", "b")
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
        presign.check(request, time.time(), lambda key, token: "test", "bkt")

    def test_sigv2(self) -> None:
        s3 = client("http://127.0.0.1:9", signature_version="s3")
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60
        )
        presign.check(self.request(url), time.time(), lambda key, token: "test", "b")
        with self.assertRaises(ServiceError):
            presign.check(self.request(url), time.time(), lambda key, token: "wrong", "b")


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


_iam_daemon: Daemon | None = None


def iam_daemon() -> Daemon:
    """A daemon serving IAM and STS too, so the keys they issue have known secrets."""
    global _iam_daemon
    if _iam_daemon is None:
        _iam_daemon = Daemon(["--services", "s3,iam,sts"]).start()
        atexit.register(_iam_daemon.stop)
    return _iam_daemon


def keyed_client(
    service: str, endpoint: str, key: str, secret: str, token: str | None = None, **config: Any
) -> BaseClient:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=BotoConfig(retries={"max_attempts": 1}, **config),
    )


def session_client(endpoint: str, credentials: dict[str, Any]) -> BaseClient:
    """An S3 client using the temporary ``credentials`` STS returned."""
    return keyed_client(
        "s3",
        endpoint,
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )


class _StreamingAuth(S3SigV4Auth):  # type: ignore[misc]  # botocore is untyped
    """botocore's S3 signer, seeding a signed stream of chunks instead of hashing the body."""

    def __init__(self, credentials: Credentials, streaming: str) -> None:
        super().__init__(credentials, "s3", "us-east-1")
        self.streaming = streaming

    def payload(self, request: AWSRequest) -> str:
        return self.streaming


def _chunk_string(request: AWSRequest, auth: S3SigV4Auth, previous: str, data: bytes) -> str:
    """The string to sign of one chunk (AWS's chunked-upload documentation)."""
    return "\n".join(
        (
            "AWS4-HMAC-SHA256-PAYLOAD",
            request.context["timestamp"],
            auth.credential_scope(request),
            previous,
            hashlib.sha256(b"").hexdigest(),
            hashlib.sha256(data).hexdigest(),
        )
    )


class SignedRequestTests(S3TestCase):
    """Requests signed with a key IAM created have their signatures checked."""

    def daemon(self) -> Daemon:
        return iam_daemon()

    def setUp(self) -> None:
        super().setUp()
        self.iam = iam = keyed_client("iam", self.endpoint, "test", "test")
        self.user = user = f"user-{uuid.uuid4().hex[:12]}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        self.key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.signed = keyed_client("s3", self.endpoint, self.key, self.secret)
        self.bucket = self.bucket_name()
        self.signed.create_bucket(Bucket=self.bucket)

    def test_right_secret(self) -> None:
        key = "dir/a key+with ü~!'()*$"
        self.signed.put_object(Bucket=self.bucket, Key=key, Body=b"data")
        self.assertEqual(
            self.signed.get_object(Bucket=self.bucket, Key=key)["Body"].read(), b"data"
        )
        listed = self.signed.list_objects_v2(Bucket=self.bucket, Prefix="dir/a key+", Delimiter="/")
        self.assertEqual([o["Key"] for o in listed["Contents"]], [key])
        # A body whose SHA-256 botocore signs (no checksum trailer).
        self.signed.put_bucket_tagging(
            Bucket=self.bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
        )

    def test_wrong_secret(self) -> None:
        wrong = keyed_client("s3", self.endpoint, self.key, "not the secret")
        error = self.assertClientError(
            wrong.put_object, "SignatureDoesNotMatch", 403, Bucket=self.bucket, Key="k", Body=b"x"
        )
        self.assertEqual(
            error["Message"],
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
        self.assertEqual(error["AWSAccessKeyId"], self.key)
        self.assertTrue(error["StringToSign"].startswith("AWS4-HMAC-SHA256\n"))
        self.assertTrue(error["CanonicalRequest"].startswith(f"PUT\n/{self.bucket}/k\n"))
        self.assertIn("SignatureProvided", error)
        self.assertTrue(error["StringToSignBytes"].startswith("41 57 53 34"))
        self.assertTrue(error["CanonicalRequestBytes"].startswith("50 55 54 0a"))
        self.assertClientError(self.signed.head_object, "404", 404, Bucket=self.bucket, Key="k")

    def test_inactive_key(self) -> None:
        """A key made inactive in IAM is refused until it is active again."""
        self.iam.update_access_key(UserName=self.user, AccessKeyId=self.key, Status="Inactive")
        error = self.assertClientError(
            self.signed.list_objects_v2, "InvalidAccessKeyId", 403, Bucket=self.bucket
        )
        self.assertEqual(error["AWSAccessKeyId"], self.key)
        self.iam.update_access_key(UserName=self.user, AccessKeyId=self.key, Status="Active")
        self.assertEqual(self.signed.list_objects_v2(Bucket=self.bucket)["KeyCount"], 0)

    def test_unknown_key_unchecked(self) -> None:
        """Keys IAM never issued (``test``/``test``...) are accepted with any secret."""
        anyone = keyed_client("s3", self.endpoint, "AKIAUNKNOWN", "whatever")
        anyone.put_object(Bucket=self.bucket, Key="k", Body=b"x")

    def test_tampered_body(self) -> None:
        request = AWSRequest(
            "PUT", f"{self.endpoint}/{self.bucket}/k", data=b"signed body", headers={}
        )
        S3SigV4Auth(Credentials(self.key, self.secret), "s3", "us-east-1").add_auth(request)
        status, _, body = raw(
            self.endpoint, "PUT", f"/{self.bucket}/k", b"other body", dict(request.headers)
        )
        self.assertEqual(status, 400)
        self.assertIn(b"<Code>XAmzContentSHA256Mismatch</Code>", body)
        self.assertIn(
            f"<ClientComputedContentSHA256>{hashlib.sha256(b'signed body').hexdigest()}"
            "</ClientComputedContentSHA256>"
            f"<S3ComputedContentSHA256>{hashlib.sha256(b'other body').hexdigest()}"
            "</S3ComputedContentSHA256>".encode(),
            body,
        )
        self.assertClientError(self.signed.head_object, "404", 404, Bucket=self.bucket, Key="k")
        status, _, _ = raw(
            self.endpoint, "PUT", f"/{self.bucket}/k", b"signed body", dict(request.headers)
        )
        self.assertEqual(status, 200)

    def test_presigned(self) -> None:
        """SigV4 and SigV2 presigned URLs; either fails once its path is changed."""
        self.signed.put_object(Bucket=self.bucket, Key="k", Body=b"secret")
        for version, signed in [
            ("s3v4", b"<CanonicalRequest>GET\n/"),
            ("s3", b"<StringToSign>GET\n"),
        ]:
            presigner = keyed_client(
                "s3", self.endpoint, self.key, self.secret, signature_version=version
            )
            url = presigner.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": "k"}, ExpiresIn=60
            )
            self.assertEqual(raw(self.endpoint, "GET", _target(url))[2], b"secret")
            tampered = _target(url).replace(f"/{self.bucket}/k?", f"/{self.bucket}/other?")
            status, _, body = raw(self.endpoint, "GET", tampered)
            self.assertEqual(status, 403)
            self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
            self.assertIn(signed, body)

    def test_sigv2_header(self) -> None:
        legacy = keyed_client("s3", self.endpoint, self.key, self.secret, signature_version="s3")
        legacy.put_object(Bucket=self.bucket, Key="k", Body=b"x", Metadata={"a": "b"})
        self.assertEqual(legacy.get_object(Bucket=self.bucket, Key="k")["Body"].read(), b"x")
        wrong = keyed_client("s3", self.endpoint, self.key, "wrong", signature_version="s3")
        error = self.assertClientError(
            wrong.get_object, "SignatureDoesNotMatch", 403, Bucket=self.bucket, Key="k"
        )
        self.assertTrue(error["StringToSign"].startswith("GET\n"))

    def test_session_credentials(self) -> None:
        iam = keyed_client("iam", self.endpoint, "test", "test")
        role = iam.create_role(
            RoleName=f"role-{uuid.uuid4().hex[:12]}",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]
        sts = keyed_client("sts", self.endpoint, "test", "test")
        credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="session")["Credentials"]
        session = session_client(self.endpoint, credentials)
        session.put_object(Bucket=self.bucket, Key="k", Body=b"x")
        wrong = keyed_client(
            "s3", self.endpoint, credentials["AccessKeyId"], "wrong", credentials["SessionToken"]
        )
        self.assertClientError(
            wrong.get_object, "SignatureDoesNotMatch", 403, Bucket=self.bucket, Key="k"
        )
        key_id, secret = credentials["AccessKeyId"], credentials["SecretAccessKey"]
        tokenless = keyed_client("s3", self.endpoint, key_id, secret)
        error = self.assertClientError(
            tokenless.get_object, "InvalidAccessKeyId", 403, Bucket=self.bucket, Key="k"
        )
        self.assertEqual(error["AWSAccessKeyId"], key_id)
        forged = keyed_client("s3", self.endpoint, key_id, secret, "forged")
        error = self.assertClientError(
            forged.get_object, "InvalidToken", 400, Bucket=self.bucket, Key="k"
        )
        self.assertEqual(error["Token-0"], "forged")
        params = {"Bucket": self.bucket, "Key": "k"}
        url = forged.generate_presigned_url("get_object", Params=params)
        status, _, body = raw(self.endpoint, "GET", _target(url))
        self.assertEqual((status, b"<Code>InvalidToken</Code>" in body), (400, True))

    def streaming_put(
        self, key: str, chunks: list[bytes], trailer: bool = False, tamper: bool = False
    ) -> tuple[int, bytes]:
        """
        PUT ``chunks`` as a signed aws-chunked stream (what the Java and Go
        SDKs send; botocore never does), its seed signed by botocore.
        """
        streaming = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(sum(map(len, chunks))),
        }
        if trailer:
            headers["x-amz-trailer"] = "x-amz-checksum-crc32"
        request = AWSRequest("PUT", f"{self.endpoint}/{self.bucket}/{key}", headers=headers)
        auth = _StreamingAuth(Credentials(self.key, self.secret), streaming)
        auth.add_auth(request)
        previous = request.headers["Authorization"].rpartition("Signature=")[2]
        body = b""
        for data in [*chunks, b""]:
            previous = auth.signature(_chunk_string(request, auth, previous, data), request)
            sent = data[::-1] if tamper and data else data
            body += f"{len(data):x};chunk-signature={previous}\r\n".encode() + sent
            body += b"\r\n" if data else b""
        if trailer:
            checksum = "x-amz-checksum-crc32:AAAAAA==\n"
            to_sign = "\n".join(
                (
                    "AWS4-HMAC-SHA256-TRAILER",
                    request.context["timestamp"],
                    auth.credential_scope(request),
                    previous,
                    hashlib.sha256(checksum.encode()).hexdigest(),
                )
            )
            body += checksum.replace("\n", "\r\n").encode()
            body += f"x-amz-trailer-signature:{auth.signature(to_sign, request)}\r\n".encode()
        status, _, answer = raw(
            self.endpoint, "PUT", f"/{self.bucket}/{key}", body + b"\r\n", dict(request.headers)
        )
        return status, answer

    def test_signed_chunks(self) -> None:
        chunks = [b"a" * 8192, b"b" * 100]
        self.assertEqual(self.streaming_put("k", chunks)[0], 200)
        got = self.signed.get_object(Bucket=self.bucket, Key="k")["Body"].read()
        self.assertEqual(got, b"".join(chunks))
        status, body = self.streaming_put("tampered", [b"abc" * 3000], tamper=True)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        self.assertClientError(
            self.signed.head_object, "404", 404, Bucket=self.bucket, Key="tampered"
        )

    def test_large_signed_chunks(self) -> None:
        """A signed stream past the memory limit, read while it arrives, is checked the same."""
        chunks = [os.urandom(64 * 1024) for _ in range(150)]
        self.assertEqual(self.streaming_put("large", chunks)[0], 200)
        got = self.signed.get_object(Bucket=self.bucket, Key="large")["Body"].read()
        self.assertEqual(got, b"".join(chunks))
        status, body = self.streaming_put("large-tampered", chunks, tamper=True)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", body)
        self.assertClientError(
            self.signed.head_object, "404", 404, Bucket=self.bucket, Key="large-tampered"
        )

    def test_signed_trailer(self) -> None:
        """The trailer's checksum is signed too (a CRC32 of nothing is ``AAAAAA==``)."""
        self.assertEqual(self.streaming_put("empty", [], trailer=True)[0], 200)
        head = self.signed.head_object(Bucket=self.bucket, Key="empty", ChecksumMode="ENABLED")
        self.assertEqual(head["ChecksumCRC32"], "AAAAAA==")


class SessionKeyTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        shared = SharedObjects(Config(services=("s3", "sts")), self.clock)
        shared.obtain(directory).add_session(
            "ASIAEXAMPLE",
            {
                "Account": "111111111111",
                "RoleName": "r",
                "RoleId": "AROAEXAMPLE",
                "SessionName": "s",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": 100.0,
            },
        )
        self.lookup = secret_lookup(shared)

    def refused(self, key_id: str, token: str | None) -> tuple[str, int, str, dict[str, str]]:
        with self.assertRaises(ServiceError) as raised:
            self.lookup(key_id, token)
        error = raised.exception
        return error.code, error.status, error.message, dict(error.fields)

    def test_expired_session(self) -> None:
        """A session's secret serves until it expires; then S3 answers ExpiredToken."""
        self.clock.advance(99)
        self.assertEqual(self.lookup("ASIAEXAMPLE", "token"), "secret")
        self.clock.advance(1)
        self.assertEqual(
            self.refused("ASIAEXAMPLE", "token"),
            ("ExpiredToken", 400, "The provided token has expired.", {"Token-0": "token"}),
        )
        self.assertIsNone(self.lookup("AKIANOTISSUED", None))

    def test_token_required(self) -> None:
        """
        A session's key without its token is unknown to S3; with another
        token it is InvalidToken, naming the token.
        """
        self.assertEqual(
            self.refused("ASIAEXAMPLE", None),
            (
                "InvalidAccessKeyId",
                403,
                "The AWS Access Key Id you provided does not exist in our records.",
                {"AWSAccessKeyId": "ASIAEXAMPLE"},
            ),
        )
        self.assertEqual(
            self.refused("ASIAEXAMPLE", "forged"),
            (
                "InvalidToken",
                400,
                "The provided token is malformed or otherwise invalid.",
                {"Token-0": "forged"},
            ),
        )
