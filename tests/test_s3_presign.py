"""
Presigned URLs at their edges, and uploads that wait for ``100 Continue``,
against a running daemon over real sockets.
"""

from __future__ import annotations

import socket
import time
import urllib.parse
import uuid

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.rawhttp_support import read_response
from tests.s3support import Daemon, S3TestCase, client, raw
from tests.test_s3_auth import iam_daemon, keyed_client


def _target(url: str, **replaced: str) -> str:
    """The path and query of ``url``, with the ``replaced`` query parameters set."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(replaced)
    return f"{parts.path}?{urllib.parse.urlencode(query)}"


class PresignedEdgeTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.s3 = client(self.endpoint, signature_version="s3v4")
        self.bucket = self.new_bucket()
        self.etag = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"secret")["ETag"]
        self.url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "k"}, ExpiresIn=60
        )

    def get(self, target: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return raw(self.endpoint, "GET", target, headers=headers)

    def test_conditional_headers(self) -> None:
        """A presigned GET honours conditional headers as a signed GetObject does."""
        target = _target(self.url)
        status, headers, body = self.get(target, **{"If-Match": '"0000"'})
        self.assertEqual(status, 412)
        self.assertIn(b"<Code>PreconditionFailed</Code>", body)
        self.assertIn(b"<Condition>If-Match</Condition>", body)
        status, headers, body = self.get(target, **{"If-None-Match": self.etag})
        self.assertEqual((status, body), (304, b""))
        self.assertEqual(headers["etag"], self.etag)
        later = "Wed, 01 Jan 2098 00:00:00 GMT"
        self.assertEqual(self.get(target, **{"If-Modified-Since": later})[0], 304)
        earlier = "Wed, 01 Jan 2003 00:00:00 GMT"
        status, _, body = self.get(target, **{"If-Unmodified-Since": earlier})
        self.assertEqual(status, 412)
        self.assertIn(b"<Condition>If-Unmodified-Since</Condition>", body)
        status, _, body = self.get(target, **{"If-Match": self.etag})
        self.assertEqual((status, body), (200, b"secret"))

    def assertQueryError(self, target: str, message: str) -> None:
        status, _, body = self.get(target)
        self.assertEqual(status, 400)
        self.assertIn(
            b"<Code>AuthorizationQueryParametersError</Code><Message>%s</Message>"
            % message.encode(),
            body,
        )

    def test_expiry_bounds(self) -> None:
        """
        X-Amz-Expires must be a number from 0 to a week. AWS's texts are
        not documented: these are recalled (see ``awsemu.s3.presign``).
        """
        self.assertQueryError(
            _target(self.url, **{"X-Amz-Expires": "604801"}),
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        )
        self.assertQueryError(
            _target(self.url, **{"X-Amz-Expires": "-1"}), "X-Amz-Expires must be non-negative"
        )
        for value in ("soon", "", "1_0", "+5"):
            self.assertQueryError(
                _target(self.url, **{"X-Amz-Expires": value}), "X-Amz-Expires should be a number"
            )
        status, _, body = self.get(_target(self.url, **{"X-Amz-Expires": "604800"}))
        self.assertEqual((status, body), (200, b"secret"))

    def test_missing_parameters(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        query = dict(urllib.parse.parse_qsl(parts.query))
        for dropped in ("X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Date", "X-Amz-Signature"):
            kept = {name: value for name, value in query.items() if name != dropped}
            self.assertQueryError(
                f"{parts.path}?{urllib.parse.urlencode(kept)}",
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                "X-Amz-Expires parameters.",
            )

    def test_expired(self) -> None:
        signed_at = int(time.time()) - 120
        signed = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at))
        target = _target(self.url, **{"X-Amz-Date": signed, "X-Amz-Expires": "60"})
        status, _, body = self.get(target)
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code><Message>Request has expired</Message>", body)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(signed_at + 60))
        self.assertIn(
            b"<X-Amz-Expires>60</X-Amz-Expires><Expires>%s</Expires><ServerTime>"
            % expires.encode(),
            body,
        )

    def test_not_valid_yet(self) -> None:
        """A URL dated beyond the allowed skew ahead of the server's clock is refused."""
        future = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + 3600))
        status, _, body = self.get(_target(self.url, **{"X-Amz-Date": future}))
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code><Message>Request is not valid yet</Message>", body)


#: Bodies read into memory, and one over the gateway's 8 MiB mapped-body threshold.
BODY_SIZES = (100_000, 9 << 20)


class ExpectContinueTests(S3TestCase):
    """
    An upload sent with ``Expect: 100-continue`` is authorized on its head:
    a bad signature gets its 403 instead of ``100 Continue``.
    """

    def daemon(self) -> Daemon:
        return iam_daemon()

    def setUp(self) -> None:
        super().setUp()
        iam = keyed_client("iam", self.endpoint, "test", "test")
        user = f"user-{uuid.uuid4().hex[:12]}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        self.key, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.bucket = self.bucket_name()
        self.s3.create_bucket(Bucket=self.bucket)

    def signed_head(self, secret: str, body: bytes) -> bytes:
        request = AWSRequest(
            "PUT",
            f"{self.endpoint}/{self.bucket}/k",
            data=body,
            headers={"Expect": "100-continue"},
        )
        S3SigV4Auth(Credentials(self.key, secret), "s3", "us-east-1").add_auth(request)
        lines = [f"PUT /{self.bucket}/k HTTP/1.1", f"Host: 127.0.0.1:{self.daemon().port}"]
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def test_bad_signature_refused_before_body(self) -> None:
        """Small bodies and those the gateway would receive into a memory map alike."""
        for size in BODY_SIZES:
            body = b"x" * size
            with socket.create_connection(("127.0.0.1", self.daemon().port), timeout=10) as sock:
                sock.sendall(self.signed_head("not the secret", body))
                response = read_response(sock)
                assert response is not None
                self.assertEqual(response.status, 403)
                self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", response.body)
                self.assertEqual(response.header("Connection"), "close")
                self.assertEqual(sock.recv(100), b"")
            self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="k")

    def test_good_signature_continues(self) -> None:
        for size in BODY_SIZES:
            body = bytes([size % 251]) * size
            with socket.create_connection(("127.0.0.1", self.daemon().port), timeout=30) as sock:
                sock.sendall(self.signed_head(self.secret, body))
                interim = read_response(sock)
                assert interim is not None
                self.assertEqual(interim.status, 100)
                sock.sendall(body)
                final = read_response(sock)
                assert final is not None
                self.assertEqual(final.status, 200)
            got = self.s3.get_object(Bucket=self.bucket, Key="k")["Body"].read()
            self.assertEqual(got, body)

    def test_boto3_wrong_secret(self) -> None:
        """boto3 sends bodies over 1 MB with ``Expect: 100-continue``; the 403 reaches it."""
        wrong = keyed_client("s3", self.endpoint, self.key, "not the secret")
        error = self.assertClientError(
            wrong.put_object,
            "SignatureDoesNotMatch",
            403,
            Bucket=self.bucket,
            Key="big",
            Body=b"z" * (2 << 20),
        )
        self.assertEqual(error["AWSAccessKeyId"], self.key)
        right = keyed_client("s3", self.endpoint, self.key, self.secret)
        right.put_object(Bucket=self.bucket, Key="big", Body=b"z" * (2 << 20))
        self.assertEqual(right.head_object(Bucket=self.bucket, Key="big")["ContentLength"], 2 << 20)
