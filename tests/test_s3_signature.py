"""
S3's signature checks against AWS's worked examples: "Signature
Calculations for the Authorization Header" (a single chunk, and a payload
in multiple chunks, with and without trailing headers) and "Authenticating
Requests: Using Query Parameters", all signed with AWS's documented example
secret on 24 May 2013.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.trial.unittest import SynchronousTestCase

from awsemu.auth import sigv4
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest
from awsemu.s3 import authorization, errors

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20130524T000000Z"
NOW = sigv4.amz_timestamp(AMZ_DATE)
EMPTY = sigv4.EMPTY_SHA256
HOST = "examplebucket.s3.amazonaws.com"

SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
TRAILER_CHUNK_SIGNATURES = (
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
)
TRAILER = (
    b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
    b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
)


def known(access_key_id: str, token: str | None) -> str | None:
    return SECRET if access_key_id == KEY_ID else None


def authorization_header(signed: str, signature_value: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20130524/us-east-1/s3/aws4_request,"
        f"SignedHeaders={signed},Signature={signature_value}"
    )


def virtual_hosted(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    signed: str,
    signature_value: str,
    body: bytes = b"",
) -> HttpRequest:
    """A request to ``examplebucket``'s host, made path-style as the gateway passes it on."""
    request = HttpRequest.from_uri(
        method,
        "/examplebucket" + target,
        [
            ("Host", HOST),
            ("x-amz-date", AMZ_DATE),
            *headers,
            ("Authorization", authorization_header(signed, signature_value)),
        ],
        body,
    )
    return request


def check(request: HttpRequest, now: float = NOW) -> HttpRequest:
    """``request`` authenticated and its body read, as the S3 service does."""
    payload = authorization.authenticate(request, now, known, "examplebucket")
    return payload.read(request)


def chunked_body(signatures: Sequence[str], trailer: bytes = b"", data: bytes = b"a") -> bytes:
    """AWS's example body: 65,536 then 1,024 bytes of ``a``, then the empty chunk."""
    body = b""
    for size, chunk_signature in zip((65536, 1024, 0), signatures, strict=True):
        body += f"{size:x};chunk-signature={chunk_signature}\r\n".encode() + data * size
        body += b"\r\n" if size else b""
    return body + trailer + b"\r\n"


def chunked_request(body: bytes, trailer: bool = False) -> HttpRequest:
    """The PUT of ``chunkObject.txt`` from AWS's chunked-upload examples (path-style)."""
    headers = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", AMZ_DATE),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", str(len(body))),
    ]
    if trailer:
        headers += [
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
            ("x-amz-trailer", "x-amz-checksum-crc32c"),
        ]
        signed = (
            "content-encoding;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer"
        )
        seed = TRAILER_SEED
    else:
        headers.append(("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
        signed = (
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-decoded-content-length;x-amz-storage-class"
        )
        seed = SEED
    headers.append(("Authorization", authorization_header(signed, seed)))
    return HttpRequest.from_uri("PUT", "/examplebucket/chunkObject.txt", headers, body)


class SingleChunkExampleTests(SynchronousTestCase):
    """AWS's single-chunk examples, as virtual-hosted requests."""

    def get_object(self, signature_value: str) -> HttpRequest:
        return virtual_hosted(
            "GET",
            "/test.txt",
            [("Range", "bytes=0-9"), ("x-amz-content-sha256", EMPTY)],
            "host;range;x-amz-content-sha256;x-amz-date",
            signature_value,
        )

    def test_canonical_request(self) -> None:
        canonical = sigv4.canonical_request(
            "GET",
            "/test.txt",
            [],
            self.get_object("").headers,
            ["host", "range", "x-amz-content-sha256", "x-amz-date"],
            EMPTY,
        )
        self.assertEqual(
            canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            f"x-amz-content-sha256:{EMPTY}\nx-amz-date:20130524T000000Z\n\n"
            f"host;range;x-amz-content-sha256;x-amz-date\n{EMPTY}",
        )

    def test_get_object(self) -> None:
        check(self.get_object("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))

    def test_put_object(self) -> None:
        """The key ``test$file.text`` is signed encoded, whether or not the client sent it so."""
        digest = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        for path in ("/test%24file.text", "/test$file.text"):
            request = virtual_hosted(
                "PUT",
                path,
                [
                    ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                    ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                    ("x-amz-content-sha256", digest),
                ],
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
                b"Welcome to Amazon S3.",
            )
            self.assertEqual(check(request).read_body(), b"Welcome to Amazon S3.")

    def test_bucket_queries(self) -> None:
        for target, signature_value in [
            ("/?lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
            (
                "/?max-keys=2&prefix=J",
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ),
        ]:
            request = virtual_hosted(
                "GET",
                target,
                [("x-amz-content-sha256", EMPTY)],
                "host;x-amz-content-sha256;x-amz-date",
                signature_value,
            )
            check(request)

    def test_presigned_url(self) -> None:
        request = HttpRequest.from_uri(
            "GET",
            "/examplebucket/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential={KEY_ID}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
            [("Host", HOST)],
        )
        check(request)
        request.path = "/examplebucket/other.txt"
        with self.assertRaises(ServiceError) as raised:
            check(request)
        self.assertEqual(raised.exception.code, "SignatureDoesNotMatch")

    def test_mismatch_details(self) -> None:
        """A wrong signature fails with the strings AWS signed, as text and bytes."""
        with self.assertRaises(ServiceError) as raised:
            check(self.get_object("0" * 64))
        error = raised.exception
        self.assertEqual((error.code, error.status), ("SignatureDoesNotMatch", 403))
        self.assertEqual(
            error.message,
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
        self.assertEqual(
            list(error.fields),
            [
                "AWSAccessKeyId",
                "StringToSign",
                "SignatureProvided",
                "StringToSignBytes",
                "CanonicalRequest",
                "CanonicalRequestBytes",
            ],
        )
        self.assertEqual(error.fields["AWSAccessKeyId"], KEY_ID)
        self.assertEqual(error.fields["SignatureProvided"], "0" * 64)
        self.assertEqual(
            error.fields["StringToSign"],
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
        )
        self.assertTrue(str(error.fields["StringToSignBytes"]).startswith("41 57 53 34 2d"))
        self.assertTrue(str(error.fields["CanonicalRequest"]).startswith("GET\n/test.txt\n"))
        self.assertTrue(str(error.fields["CanonicalRequestBytes"]).startswith("47 45 54 0a"))

    def test_unknown_key_is_not_checked(self) -> None:
        request = self.get_object("0" * 64)
        payload = authorization.authenticate(request, NOW, lambda key, token: None, "examplebucket")
        self.assertEqual(payload, authorization.UNCHECKED)

    def test_malformed_head(self) -> None:
        """A known key's request must name a full scope and its payload's hash."""
        request = self.get_object("0" * 64)
        for name, value, code in [
            (
                "authorization",
                f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20130524, Signature=0",
                "AuthorizationHeaderMalformed",
            ),
            ("x-amz-content-sha256", "", "InvalidRequest"),
            ("x-amz-content-sha256", "NOT-A-HASH", "InvalidArgument"),
        ]:
            headers = [(k, v) for k, v in request.headers.as_sent() if k.lower() != name]
            if value:
                headers.append((name, value))
            with self.assertRaises(ServiceError) as raised:
                check(HttpRequest.from_uri("GET", request.path, headers))
            self.assertEqual(raised.exception.code, code)

    def test_clock_skew(self) -> None:
        """Fifteen minutes either way are allowed; more is ``RequestTimeTooSkewed``."""
        valid = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        for offset in (-errors.MAX_CLOCK_SKEW, errors.MAX_CLOCK_SKEW):
            check(self.get_object(valid), NOW + offset)
        with self.assertRaises(ServiceError) as raised:
            check(self.get_object(valid), NOW + errors.MAX_CLOCK_SKEW + 1)
        self.assertEqual(
            (raised.exception.code, raised.exception.status), ("RequestTimeTooSkewed", 403)
        )
        self.assertEqual(
            raised.exception.fields,
            {
                "RequestTime": AMZ_DATE,
                "ServerTime": "2013-05-24T00:15:01Z",
                "MaxAllowedSkewMilliseconds": 900000,
            },
        )

    def test_body_digest(self) -> None:
        """A body that is not what ``x-amz-content-sha256`` announced is refused."""
        digest = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        request = virtual_hosted(
            "PUT",
            "/test%24file.text",
            [
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", digest),
            ],
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            b"Welcome to Amazon S4.",
        )
        with self.assertRaises(ServiceError) as raised:
            check(request)
        self.assertEqual(raised.exception.code, "XAmzContentSHA256Mismatch")
        self.assertEqual(
            raised.exception.fields,
            {
                "ClientComputedContentSHA256": digest,
                "S3ComputedContentSHA256": sigv4.sha256_hex(b"Welcome to Amazon S4."),
            },
        )


class ChunkedExampleTests(SynchronousTestCase):
    """AWS's chunked-upload examples: 66,560 bytes in chunks of 64 KiB, 1 KiB and 0."""

    def test_signed_chunks(self) -> None:
        body = chunked_body(CHUNK_SIGNATURES)
        self.assertEqual(len(body), 66824)
        decoded = check(chunked_request(body))
        self.assertEqual(decoded.read_body(), b"a" * 66560)

    def test_signed_trailer(self) -> None:
        decoded = check(chunked_request(chunked_body(TRAILER_CHUNK_SIGNATURES, TRAILER), True))
        self.assertEqual(decoded.read_body(), b"a" * 66560)
        self.assertEqual(decoded.headers["x-amz-checksum-crc32c"], "sOO8/Q==")

    def assertSignatureFails(self, request: HttpRequest) -> ServiceError:
        with self.assertRaises(ServiceError) as raised:
            check(request)
        error: ServiceError = raised.exception
        self.assertEqual(error.code, "SignatureDoesNotMatch")
        return error

    def test_tampered_chunk(self) -> None:
        error = self.assertSignatureFails(
            chunked_request(chunked_body(CHUNK_SIGNATURES, data=b"b"))
        )
        self.assertTrue(str(error.fields["StringToSign"]).startswith("AWS4-HMAC-SHA256-PAYLOAD\n"))
        self.assertEqual(error.fields["SignatureProvided"], CHUNK_SIGNATURES[0])

    def test_reordered_chunks(self) -> None:
        """Each chunk's signature chains from the previous one: swapping them fails."""
        swapped = (CHUNK_SIGNATURES[1], CHUNK_SIGNATURES[0], CHUNK_SIGNATURES[2])
        self.assertSignatureFails(chunked_request(chunked_body(swapped)))

    def test_tampered_trailer(self) -> None:
        trailer = TRAILER.replace(b"sOO8/Q==", b"AAAAAA==")
        error = self.assertSignatureFails(
            chunked_request(chunked_body(TRAILER_CHUNK_SIGNATURES, trailer), True)
        )
        self.assertTrue(str(error.fields["StringToSign"]).startswith("AWS4-HMAC-SHA256-TRAILER\n"))

    def test_unsigned_chunks(self) -> None:
        """A signed stream whose chunks carry no signature fails."""
        body = b"5\r\nhello\r\n0\r\n\r\n"
        self.assertSignatureFails(chunked_request(body))
