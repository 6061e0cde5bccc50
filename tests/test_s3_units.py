"""Unit tests of S3's pure parts: aws-chunked decoding, checksums, conditions, listing, store."""

from __future__ import annotations

import base64
import hashlib
import json
import mmap
import os
import re
import tempfile
import weakref
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest
from awsemu.protocol.segments import Piece, Segments
from awsemu.s3 import checksums, chunked, listing, post
from awsemu.s3.buckets import valid_bucket_name
from awsemu.s3.common import parse_copy_source
from awsemu.s3.conditions import Conditions, byte_range
from awsemu.s3.configs import CONFIGURATIONS, default_encryption
from awsemu.s3.postpolicy import Policy
from awsemu.s3.store import Bucket, MemoryBlobs, ObjectVersion, Store, new_id


def framed(*chunks: bytes, trailers: bytes = b"") -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    return body + b"0\r\n" + trailers + b"\r\n"


class ChunkedTests(SynchronousTestCase):
    def test_trailer_becomes_header(self) -> None:
        """The framing is removed, the checksum trailer becomes a header, aws-chunked is dropped."""
        crc = checksums.encode(zlib.crc32(b"hello world").to_bytes(4, "big"))
        request = HttpRequest.from_uri(
            "PUT",
            "/b/k",
            [
                ("Content-Encoding", "aws-chunked, gzip"),
                ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                ("x-amz-trailer", "x-amz-checksum-crc32"),
                ("x-amz-decoded-content-length", "11"),
            ],
            framed(b"hello ", b"world", trailers=f"x-amz-checksum-crc32:{crc}\r\n".encode()),
        )
        self.assertTrue(chunked.is_aws_chunked(request))
        decoded = chunked.decode_request(request)
        self.assertEqual(decoded.read_body(), b"hello world")
        self.assertEqual(decoded.headers["x-amz-checksum-crc32"], crc)
        self.assertEqual(decoded.headers["content-encoding"], "gzip")
        self.assertEqual(decoded.headers["content-length"], "11")
        self.assertNotIn("x-amz-trailer", decoded.headers)

    def test_malformed(self) -> None:
        """Truncated or mis-sized framing is IncompleteBody, as is a wrong decoded length."""
        for body in (b"5\r\nhel", b"zz\r\n", b"5\r\nhello", b"3\r\nhello\r\n0\r\n\r\n"):
            with self.assertRaises(ServiceError) as raised:
                chunked.decode_body(BytesIO(body), BytesIO())
            self.assertEqual(raised.exception.code, "IncompleteBody")
        request = HttpRequest.from_uri(
            "PUT",
            "/b/k",
            [
                ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                ("x-amz-decoded-content-length", "4"),
            ],
            framed(b"abc"),
        )
        self.assertRaises(ServiceError, chunked.decode_request, request)

    def test_pieces_decoded_uncopied(self) -> None:
        """A body kept as pieces decodes to views into them: the data is never copied."""
        framed_body = framed(b"hello ", b"world")
        first, second = framed_body[:7], framed_body[7:]
        request = HttpRequest.from_uri("PUT", "/b/k", [("Content-Encoding", "aws-chunked")])
        request.body = Segments([first, second])
        decoded = chunked.decode_request(request)
        assert isinstance(decoded.body, Segments)
        pieces = decoded.body.take()
        self.assertEqual(b"".join(pieces), b"hello world")
        self.assertEqual(
            [piece.obj for piece in pieces if isinstance(piece, memoryview)],
            [first, second, second],
        )


class MemoryBlobsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.blobs = MemoryBlobs()
        self.pieces: list[Piece] = [b"abc", memoryview(b"xdefg")[1:], b"hij"]

    def write(self, *pieces: Piece) -> tuple[str, checksums.BodyDigests]:
        digests = checksums.BodyDigests(("CRC32",))
        return self.successResultOf(self.blobs.write(Segments(pieces), digests)), digests

    def test_pieces_kept(self) -> None:
        """A body is stored as its pieces; the digests cover them all."""
        blob, digests = self.write(*self.pieces)
        self.assertEqual(digests.size, 10)
        self.assertEqual(digests.md5.digest(), hashlib.md5(b"abcdefghij").digest())
        crc = checksums.encode(zlib.crc32(b"abcdefghij").to_bytes(4, "big"))
        self.assertEqual(digests.checksums(), {"CRC32": crc})
        whole = self.blobs.read(blob, 0, 10)
        assert isinstance(whole, Segments)
        self.assertEqual(whole.take(), self.pieces)

    def test_ranges(self) -> None:
        """A range inside one piece reads as bytes; one across pieces as their views."""
        blob, _ = self.write(*self.pieces)
        self.assertEqual(self.blobs.read(blob, 4, 2), b"ef")
        self.assertEqual(self.blobs.read(blob, 0, 3), b"abc")
        across = self.blobs.read(blob, 2, 6)
        assert isinstance(across, Segments)
        self.assertEqual(across.read(), b"cdefgh")
        small = b"small"
        single, _ = self.write(small)
        self.assertIs(self.blobs.read(single, 0, 5), small)
        self.assertEqual(self.blobs.read(single, 1, 3), b"mal")

    def test_concat(self) -> None:
        """A completed upload shares its parts' pieces, and is digested whole."""
        first, _ = self.write(b"abc")
        second, _ = self.write(*self.pieces[1:])
        digests = checksums.BodyDigests()
        blob = self.successResultOf(self.blobs.concat([first, second], digests))
        self.assertEqual(digests.md5.digest(), hashlib.md5(b"abcdefghij").digest())
        whole = self.blobs.read(blob, 0, 10)
        assert isinstance(whole, Segments)
        self.assertEqual(whole.take(), self.pieces)
        self.blobs.delete(first)
        self.assertEqual(self.blobs.read(blob, 0, 3), b"abc")

    def test_deleted_body_let_go_after_the_answer(self) -> None:
        """With a clock, a deleted body's memory goes on the reactor's next turn, not during."""
        clock = Clock()
        blobs = MemoryBlobs(clock)
        mapped = mmap.mmap(-1, 4096)
        held = weakref.ref(mapped)
        blob = self.successResultOf(
            blobs.write(Segments([memoryview(mapped)[:10]]), checksums.BodyDigests())
        )
        del mapped
        blobs.delete(blob)
        self.assertIsNotNone(held())
        clock.advance(0)
        self.assertIsNone(held())


class ChecksumTests(SynchronousTestCase):
    def test_check_values(self) -> None:
        """The CRC catalogue's check values for "123456789"."""
        expected = {"CRC32": "cbf43926", "CRC32C": "e3069283", "CRC64NVME": "ae8b14860a799888"}
        for name, value in expected.items():
            digest = checksums.ALGORITHMS[name]()
            digest.update(b"1234")
            digest.update(b"56789")
            self.assertEqual(digest.digest().hex(), value)

    def test_composite(self) -> None:
        parts = [checksums.encode(zlib.crc32(p).to_bytes(4, "big")) for p in (b"a", b"b")]
        raw = b"".join(base64.b64decode(p) for p in parts)
        self.assertEqual(
            checksums.composite("CRC32", parts),
            checksums.encode(zlib.crc32(raw).to_bytes(4, "big")) + "-2",
        )


class ConditionTests(SynchronousTestCase):
    def test_ranges(self) -> None:
        self.assertEqual(byte_range("bytes=0-0", 10), (0, 1))
        self.assertEqual(byte_range("bytes=-20", 10), (0, 10))
        self.assertIsNone(byte_range("bytes=5-2", 10))
        self.assertIsNone(byte_range("items=0-1", 10))
        self.assertIsNone(byte_range(None, 10))
        for header in ("bytes=10-", "bytes=-0"):
            self.assertRaises(ServiceError, byte_range, header, 10)

    def test_whole_seconds(self) -> None:
        """Last-Modified has whole seconds, so a date in the same second is not "modified since"."""
        since = datetime.fromtimestamp(100, UTC)
        with self.assertRaises(ServiceError) as raised:
            Conditions(None, None, since, None).check('"e"', 100.7)
        self.assertEqual(raised.exception.status, 304)
        Conditions(None, None, since, None).check('"e"', 101.0)

    def test_copy_source_not_modified_fails(self) -> None:
        conditions = Conditions.of_copy_source({"CopySourceIfNoneMatch": '"e"'})
        with self.assertRaises(ServiceError) as raised:
            conditions.check('"e"', 0.0, not_modified_fails=True)
        self.assertEqual(
            (raised.exception.status, raised.exception.fields["Condition"]),
            (412, "x-amz-copy-source-If-None-Match"),
        )


class NewIdTests(SynchronousTestCase):
    def test_ids(self) -> None:
        """Ids are 32 hex digits, none repeated, also across threads drawing at once."""
        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(lambda _: new_id(), range(20_000)))
        self.assertEqual(len(set(ids)), len(ids))
        self.assertTrue(all(re.fullmatch("[0-9a-f]{32}", made) for made in ids))

    def test_forked_child(self) -> None:
        """A forked child does not make the ids its parent is about to make."""
        new_id()
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            os.write(write, new_id().encode())
            os._exit(0)
        os.waitpid(child, 0)
        os.close(write)
        self.addCleanup(os.close, read)
        self.assertNotEqual(os.read(read, 64).decode(), new_id())


class ListingWalkTests(SynchronousTestCase):
    def bucket(self, *keys: str) -> Bucket:
        store = Store(MemoryBlobs())
        bucket = Bucket("b", "000000000000", "us-east-1", 0.0)
        store.add_bucket(bucket)
        for key in keys:
            store.put_version(bucket, ObjectVersion(key, "null", 0.0, "000000000000"))
        return bucket

    def test_marker_on_common_prefix(self) -> None:
        """Resuming after a common prefix skips every key under it."""
        bucket = self.bucket("a/1", "a/2", "b")
        first = listing.walk(bucket, delimiter="/", max_keys=1)
        self.assertEqual((first.prefixes, first.truncated, first.last), (["a/"], True, "a/"))
        second = listing.walk(bucket, delimiter="/", after="a/", max_keys=1)
        self.assertEqual((second.keys, second.truncated), (["b"], False))

    def test_replacing_keeps_one_null_version(self) -> None:
        bucket = self.bucket("k", "k")
        self.assertEqual(len(bucket.versions["k"]), 1)
        self.assertEqual(bucket.keys, ["k"])


class RulesTests(SynchronousTestCase):
    def test_bucket_names(self) -> None:
        for name in ("abc", "my.bucket-1", "a" * 63):
            self.assertTrue(valid_bucket_name(name), name)
        for name in (
            "ab",
            "a" * 64,
            "A-b",
            "a_b",
            "a..b",
            "a.-b",
            "1.2.3.4",
            "xn--a",
            "b-s3alias",
            "-ab",
        ):
            self.assertFalse(valid_bucket_name(name), name)

    def test_copy_source(self) -> None:
        self.assertEqual(parse_copy_source("/b/a%20key%2Bx?versionId=v1"), ("b", "a key+x", "v1"))
        self.assertEqual(parse_copy_source("b/dir/k"), ("b", "dir/k", None))
        self.assertRaises(ServiceError, parse_copy_source, "only-bucket")

    def test_configurations_match_the_model(self) -> None:
        """Each row's operations and members exist in botocore's model as the table says."""
        from awsemu.s3.codec import make_codec

        model = make_codec().service_model
        for row in CONFIGURATIONS:
            put = model.operation_model(row.put)
            self.assertEqual(put.input_shape.serialization.get("payload"), row.member, row.name)
            get = model.operation_model(row.get)
            self.assertEqual(get.output_shape.serialization.get("payload"), row.payload, row.name)
            if row.delete is not None:
                model.operation_model(row.delete)


class SpooledBodyTests(SynchronousTestCase):
    def test_file_kept_in_blocks(self) -> None:
        """A body the server spooled to a file is kept as a few large pieces, not many small."""
        blobs = MemoryBlobs()
        with tempfile.TemporaryFile() as spooled:
            spooled.write(b"s" * (3 * 1024 * 1024 + 5))
            spooled.seek(0)
            blob = self.successResultOf(blobs.write(spooled, checksums.BodyDigests()))
        body = blobs.read(blob, 0, 3 * 1024 * 1024 + 5)
        assert isinstance(body, Segments)
        self.assertEqual(len(body.take()), 4)


class DefaultEncryptionTests(SynchronousTestCase):
    def test_stored_documents(self) -> None:
        """A write's default encryption comes from the bucket's rule, or is SSE-S3."""
        kms = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"}
        rule = {"Rules": [{"ApplyServerSideEncryptionByDefault": kms}]}
        self.assertEqual(default_encryption({"encryption": rule}), kms)
        self.assertEqual(default_encryption({})["SSEAlgorithm"], "AES256")

    def test_broken_documents(self) -> None:
        """A document stored before documents were checked does not fail later writes."""
        documents: list[Any] = [
            {},
            {"Rules": []},
            {"Rules": [{}]},
            {"Rules": "x"},
            "x",
            {"Rules": [1]},
        ]
        for broken in documents:
            self.assertEqual(
                default_encryption({"encryption": broken}), {"SSEAlgorithm": "AES256"}, broken
            )


_ONE_PROPERTY = "Simple-Conditions must have exactly one property specified."


class PostPolicyConditionTests(SynchronousTestCase):
    """
    A malformed policy is S3's 400 InvalidPolicyDocument; a condition S3
    cannot apply fails the policy (403), never the server.
    """

    def check(self, conditions: Any, size: int = 5) -> None:
        policy = {"expiration": "2100-01-01T00:00:00Z", "conditions": conditions}
        encoded = base64.b64encode(json.dumps(policy).encode()).decode()
        Policy.parse(encoded).check({"key": "k"}, "b", "k", size, 0, frozenset())

    def assertRefused(self, conditions: Any, code: str, message: str) -> None:
        with self.assertRaises(ServiceError) as raised:
            self.check(conditions)
        status = 403 if code == "AccessDenied" else 400
        self.assertEqual(
            (raised.exception.code, raised.exception.status, raised.exception.message),
            (code, status, message),
            conditions,
        )

    def test_unreadable_bounds(self) -> None:
        for condition in (
            ["content-length-range", "a", "10"],
            ["content-length-range", 1, None],
            ["content-length-range", True, 10],
            ["content-length-range", -1, 10],
        ):
            self.assertRefused(
                [condition, {"key": "k"}],
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
            )

    def test_malformed_conditions(self) -> None:
        for conditions, message in (
            (
                [["content-length-range", 1]],
                "Invalid content-length-range: wrong number of arguments.",
            ),
            ([["eq", "$key"]], "Invalid eq: wrong number of arguments."),
            ([["content-length-range", 0, 512.0]], "Invalid JSON."),
            ([["eq", "$key", 5]], "Invalid JSON."),
            ([[]], "Invalid Condition: missing operation identifier."),
            ([["matches", "$key", "k"]], "Invalid Condition: unknown operation 'matches'."),
            (["key"], "Invalid condition test: must be a List or Object."),
            ([{}], "Invalid Simple-Condition: " + _ONE_PROPERTY),
            ([{"key": 5}], "Invalid Simple-Condition: value must be a string."),
            ({"key": "k"}, "Invalid 'conditions' value: must be a List."),
        ):
            self.assertRefused(conditions, "InvalidPolicyDocument", f"Invalid Policy: {message}")

    def test_bounds_as_text(self) -> None:
        """Bounds written as strings of digits are numbers, as S3 reads them."""
        self.check([["content-length-range", "1", "10"], {"key": "k"}])
        with self.assertRaises(ServiceError) as raised:
            self.check([["content-length-range", "1", "4"], {"key": "k"}])
        self.assertEqual(raised.exception.code, "EntityTooLarge")


class BrowserFormTests(SynchronousTestCase):
    """The multipart form of a browser upload, parsed as a stream."""

    def form_request(self, body: bytes) -> HttpRequest:
        content_type = "multipart/form-data; boundary=XX"
        return HttpRequest.from_uri("POST", "/bucket", [("Content-Type", content_type)], body)

    def part(self, name: str, value: bytes, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        return f"--XX\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"

    def test_large_file_is_spooled(self) -> None:
        """A file part past the spool limit is on disk, not in memory; later fields are ignored."""
        size = post.SPOOL_LIMIT * 2
        body = (
            self.part("Key", b"k")
            + self.part("file", b"z" * size, "big.bin")
            + self.part("ignored", b"x")
            + b"--XX--\r\n"
        )
        form = post.parse_form(self.form_request(body))
        self.assertEqual((form.fields, form.size, form.filename), ({"key": "k"}, size, "big.bin"))
        self.assertNotIsInstance(form.content, BytesIO)
        self.assertEqual(form.content.read(), b"z" * size)

    def test_malformed(self) -> None:
        with self.assertRaises(ServiceError) as raised:
            post.parse_form(self.form_request(b"--XX\r\nno headers end"))
        self.assertEqual(raised.exception.code, "MalformedPOSTRequest")

    def test_no_file(self) -> None:
        with self.assertRaises(ServiceError) as raised:
            post.parse_form(self.form_request(self.part("key", b"k") + b"--XX--\r\n"))
        self.assertEqual(raised.exception.code, "InvalidArgument")
