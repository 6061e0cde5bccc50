"""
Browser POST uploads whose policy or form S3 refuses, ``${filename}`` in
keys, and checksum fields, over real sockets against a running daemon.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

from tests.s3support import S3TestCase, raw

#: A SigV4 form's signing fields; the key ``test`` is not checked, so any signature does.
_SIGNED = {
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": "test/20260101/us-east-1/s3/aws4_request",
    "x-amz-date": "20260101T000000Z",
    "x-amz-signature": "0" * 64,
}


def encoded_policy(document: Any) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def later() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))


def form(fields: dict[str, str], content: bytes, filename: str | None) -> tuple[bytes, str]:
    """A multipart form of ``fields`` then the file part (named ``filename``, or not named)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    named = "" if filename is None else f'; filename="{filename}"'
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"{named}\r\n\r\n'.encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class PostPolicyTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()

    def post(
        self, fields: dict[str, str], content: bytes = b"hello", filename: str | None = "f.txt"
    ) -> tuple[int, dict[str, str], bytes]:
        body, content_type = form(fields, content, filename)
        return raw(self.endpoint, "POST", f"/{self.bucket}", body, {"Content-Type": content_type})

    def conditions(self, *extra: Any) -> list[Any]:
        return [{"bucket": self.bucket}, *extra, *({k: v} for k, v in _SIGNED.items())]

    def signed(self, key: str, policy: Any, **fields: str) -> dict[str, str]:
        return {"key": key, **fields, "policy": encoded_policy(policy), **_SIGNED}

    def assertRefused(self, fields: dict[str, str], code: str, message: str) -> bytes:
        status, _, body = self.post(fields)
        self.assertEqual(status, 403 if code == "AccessDenied" else 400, body)
        self.assertIn(f"<Code>{code}</Code><Message>{message}</Message>".encode(), body)
        self.assertClientError(self.s3.head_object, "404", 404, Bucket=self.bucket, Key="k")
        return body

    def test_malformed_policies(self) -> None:
        """Each is S3's 400 InvalidPolicyDocument, and nothing is stored."""
        conditions = self.conditions({"key": "k"})
        for document, message in (
            ({"expiration": later()}, "Policy missing conditions."),
            ({"conditions": conditions}, "Policy missing expiration."),
            (
                {"expiration": "2099-01-01 00:00:00", "conditions": conditions},
                "Invalid 'expiration' value: '2099-01-01 00:00:00'",
            ),
            (
                {"expiration": "2099-01-01T00:00:00+02:00", "conditions": conditions},
                "Invalid 'expiration' value: '2099-01-01T00:00:00+02:00'",
            ),
            (
                {"expiration": later(), "conditions": {"key": "k"}},
                "Invalid 'conditions' value: must be a List.",
            ),
            (
                {"expiration": later(), "conditions": [*conditions, 7]},
                "Invalid condition test: must be a List or Object.",
            ),
            (
                {"expiration": later(), "conditions": [*conditions, ["content-length-range", 1]]},
                "Invalid content-length-range: wrong number of arguments.",
            ),
            (
                {"expiration": later(), "conditions": [*conditions, {"acl": "a", "key": "k"}]},
                "Invalid Simple-Condition: Simple-Conditions must have exactly one property "
                "specified.",
            ),
            (
                {"Expiration": later(), "Conditions": conditions},
                "Unexpected: 'expiration'",
            ),
        ):
            self.assertRefused(
                self.signed("k", document), "InvalidPolicyDocument", f"Invalid Policy: {message}"
            )
        bad = {**self.signed("k", {}), "policy": "not base64!"}
        self.assertRefused(bad, "InvalidPolicyDocument", "Invalid Policy: invalid Base64 encoding.")
        not_json = {**self.signed("k", {}), "policy": base64.b64encode(b"{oops").decode()}
        self.assertRefused(not_json, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")

    def test_missing_signature(self) -> None:
        """A signed form missing a signing field is a 400 naming it; with no fields, anonymous."""
        policy = {"expiration": later(), "conditions": self.conditions({"key": "k"})}
        fields = self.signed("k", policy)
        for dropped, named in (
            ("x-amz-signature", "X-Amz-Signature"),
            ("x-amz-date", "X-Amz-Date"),
        ):
            body = self.assertRefused(
                {k: v for k, v in fields.items() if k != dropped},
                "InvalidArgument",
                f"Bucket POST must contain a field named '{named}'.  If it is specified, "
                "please check the order of the fields.",
            )
            self.assertIn(
                f"<ArgumentName>{named}</ArgumentName><ArgumentValue></ArgumentValue>".encode(),
                body,
            )
        sigv2 = {"key": "k", "policy": fields["policy"], "AWSAccessKeyId": "test"}
        self.assertRefused(
            sigv2,
            "InvalidArgument",
            "Bucket POST must contain a field named 'Signature'.  If it is specified, "
            "please check the order of the fields.",
        )
        # The missing signature is reported before the failing key condition.
        self.assertRefused(
            {**{k: v for k, v in fields.items() if k != "x-amz-signature"}, "key": "other"},
            "InvalidArgument",
            "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, "
            "please check the order of the fields.",
        )

    def test_filename_before_conditions(self) -> None:
        """``${filename}`` is replaced before ``starts-with`` sees the key."""
        policy = {
            "expiration": later(),
            "conditions": self.conditions(["starts-with", "$key", "uploads/report."]),
        }
        fields = self.signed("uploads/${filename}", policy)
        status, _, body = self.post(fields, filename="report.pdf")
        self.assertEqual(status, 204, body)
        got = self.s3.get_object(Bucket=self.bucket, Key="uploads/report.pdf")
        self.assertEqual(got["Body"].read(), b"hello")
        status, _, body = self.post(fields, filename="other.pdf")
        self.assertEqual(status, 403)
        self.assertIn(
            b"Invalid according to Policy: Policy Condition failed: "
            b'["starts-with", "$key", "uploads/report."]',
            body,
        )

    def test_filename_without_name(self) -> None:
        """A file part naming no file leaves ``${filename}`` in the key, as S3 does."""
        policy = {
            "expiration": later(),
            "conditions": self.conditions(["starts-with", "$key", "raw-"]),
        }
        status, _, body = self.post(self.signed("raw-${filename}", policy), filename=None)
        self.assertEqual(status, 204, body)
        self.assertEqual(
            self.s3.get_object(Bucket=self.bucket, Key="raw-${filename}")["Body"].read(), b"hello"
        )

    def test_checksum_fields(self) -> None:
        """An ``x-amz-checksum-*`` field needs no condition and is verified against the file."""
        policy = {"expiration": later(), "conditions": self.conditions({"key": "k"})}
        digest = base64.b64encode(hashlib.sha256(b"hello").digest()).decode()
        fields = self.signed("k", policy, **{"x-amz-checksum-sha256": digest})
        status, _, body = self.post(fields)
        self.assertEqual(status, 204, body)
        head = self.s3.head_object(Bucket=self.bucket, Key="k", ChecksumMode="ENABLED")
        self.assertEqual(head["ChecksumSHA256"], digest)
        self.s3.delete_object(Bucket=self.bucket, Key="k")
        wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        self.assertRefused(
            {**fields, "x-amz-checksum-sha256": wrong},
            "BadDigest",
            "The sha256 you specified did not match the calculated checksum.",
        )
        self.assertRefused(
            {**fields, "x-amz-checksum-sha256": "sailorjerry"},
            "InvalidRequest",
            "Value for x-amz-checksum-sha256 header is invalid.",
        )

    def tagging_fields(self, document: str) -> dict[str, str]:
        """boto3's signed form for key ``k`` with a ``tagging`` field (the policy names it)."""
        presigned = self.s3.generate_presigned_post(
            self.bucket, "k", Fields={"tagging": document}, Conditions=[{"tagging": document}]
        )
        fields: dict[str, str] = presigned["fields"]
        return fields

    def test_tagging_field(self) -> None:
        """
        A ``tagging`` field's XML ``Tagging`` document tags the object (S3
        API reference, POST Object), checked as PutObjectTagging's tags are.
        """
        document = (
            "<Tagging><TagSet><Tag><Key>team</Key><Value>a b+c</Value></Tag>"
            "<Tag><Key>empty</Key><Value></Value></Tag></TagSet></Tagging>"
        )
        status, _, body = self.post(self.tagging_fields(document))
        self.assertEqual(status, 204, body)
        self.assertEqual(
            self.s3.get_object_tagging(Bucket=self.bucket, Key="k")["TagSet"],
            [{"Key": "team", "Value": "a b+c"}, {"Key": "empty", "Value": ""}],
        )
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="k")["TagCount"], 2)

    def test_bad_tagging_field(self) -> None:
        """Malformed XML is ``MalformedXML``; tags past S3's limits get PutObjectTagging's."""
        self.s3.delete_object(Bucket=self.bucket, Key="k")
        malformed = (
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
        )
        for document in ("<Tagging><TagSet>", "team=a", "<Other/>", "<Tagging/>"):
            self.assertRefused(self.tagging_fields(document), *malformed)
        eleven = "".join(f"<Tag><Key>k{n}</Key><Value>v</Value></Tag>" for n in range(11))
        self.assertRefused(
            self.tagging_fields(f"<Tagging><TagSet>{eleven}</TagSet></Tagging>"),
            "BadRequest",
            "Object tags cannot be greater than 10",
        )
        twice = "<Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag>"
        self.assertRefused(
            self.tagging_fields(f"<Tagging><TagSet>{twice}</TagSet></Tagging>"),
            "InvalidTag",
            "Cannot provide multiple Tags with the same key",
        )
        reserved = "<Tag><Key>aws:x</Key><Value>1</Value></Tag>"
        self.assertRefused(
            self.tagging_fields(f"<Tagging><TagSet>{reserved}</TagSet></Tagging>"),
            "InvalidTag",
            "Your TagKey cannot be prefixed with aws:",
        )
