"""
Reading an object's body while it arrives (``chunked.BodyDigester``): fed
the received body in any steps, it finds what decoding finds, and the
store takes its digests only when they cover what was asked.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import mmap
import os
import weakref
import zlib
from typing import BinaryIO

from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest
from awsemu.protocol.segments import ReadBody, Segments
from awsemu.s3 import checksums, chunked
from awsemu.s3.store import MemoryBlobs

DATA = os.urandom(300_000)
CRC32 = checksums.encode(zlib.crc32(DATA).to_bytes(4, "big"))
CHUNKS = [DATA[at : at + 65536] for at in range(0, len(DATA), 65536)]
FRAMED = (
    b"".join(b"%x;chunk-signature=s%d\r\n%s\r\n" % (len(c), i, c) for i, c in enumerate(CHUNKS))
    + b"0;chunk-signature=end\r\nx-amz-checksum-crc32:"
    + CRC32.encode()
    + b"\r\n\r\n"
)
HEADERS = [
    ("Content-Encoding", "aws-chunked"),
    ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    ("x-amz-decoded-content-length", str(len(DATA))),
    ("x-amz-trailer", "x-amz-checksum-crc32"),
]


def arrive(
    body: bytes, reader: chunked.BodyDigester, step: int, lagging: bool = False
) -> memoryview:
    """
    ``body`` received into a map ``step`` bytes at a time, each lane of
    ``reader`` shown each stretch; ``lagging``: the second lane only the
    whole body, at its end (lanes run at their own pace).
    """
    view = memoryview(mmap.mmap(-1, len(body)))
    first, second = reader.lanes()
    start = 0
    while start < len(body):
        end = min(start + step, len(body))
        view[start:end] = body[start:end]
        first(view, end)
        if not lagging:
            second(view, end)
        start = end
    if lagging:
        second(view, len(body))
    return view


class BodyDigesterTests(SynchronousTestCase):
    def request(self, body: bytes | BinaryIO) -> HttpRequest:
        return HttpRequest.from_uri("PUT", "/b/k", HEADERS, body)

    def test_reader_for_object_uploads_only(self) -> None:
        """PUTs signed for S3 (or not signed), naming the checksums they send."""
        reader = chunked.body_reader(self.request(FRAMED))
        assert reader is not None
        self.assertEqual((reader.chunked, reader.digests.algorithms), (True, ("CRC32",)))
        plain = chunked.body_reader(HttpRequest.from_uri("PUT", "/b/k", [], b""))
        assert plain is not None
        self.assertEqual((plain.chunked, plain.digests.algorithms), (False, ("CRC64NVME",)))
        lambda_ = [("Authorization", "AWS4-HMAC-SHA256 Credential=k/d/r/lambda/aws4_request")]
        for request in (
            HttpRequest.from_uri("PUT", "/2015-03-31/functions/f/code", lambda_, b""),
            HttpRequest.from_uri("POST", "/b", [], b""),
            HttpRequest.from_uri("PUT", "/b/k", [("x-amz-copy-source", "/b/o")], b""),
        ):
            self.assertIsNone(chunked.body_reader(request))

    def test_same_as_decoding(self) -> None:
        """In any steps, the decoded request is the one decoding the whole body gives."""
        expected = chunked.decode_request(self.request(FRAMED))
        for step, lagging in itertools.product((1000, 65536, 100_003, len(FRAMED)), (False, True)):
            reader = chunked.body_reader(self.request(FRAMED))
            assert reader is not None
            view = arrive(FRAMED, reader, step, lagging)
            self.assertFalse(reader.failed)
            self.assertEqual(reader.digests.checksums(), {"CRC32": CRC32})
            decoded = chunked.decode_request(self.request(ReadBody([view], reader)))
            # Decoded from what the reader found, not decoded again.
            assert isinstance(decoded.body, ReadBody)
            self.assertIs(decoded.body.reader, reader)
            self.assertEqual(list(decoded.headers.items()), list(expected.headers.items()))
            self.assertEqual(decoded.body.read(), DATA)
            self.assertEqual(reader.digests.md5.digest(), hashlib.md5(DATA).digest())

    def test_store_takes_covering_digests(self) -> None:
        """The store takes the reader's digests when they cover the write's, else computes."""
        blobs = MemoryBlobs()
        for algorithms in (("CRC32",), (), ("SHA256",)):
            reader = chunked.body_reader(self.request(FRAMED))
            assert reader is not None
            view = arrive(FRAMED, reader, 70_000)
            decoded = chunked.decode_request(self.request(ReadBody([view], reader)))
            digests = checksums.BodyDigests(algorithms)
            blob = self.successResultOf(blobs.write(decoded.body, digests))
            self.assertEqual(digests.md5.digest(), hashlib.md5(DATA).digest())
            self.assertEqual(digests.size, len(DATA))
            # Taken from the reader unless it lacks an algorithm.
            self.assertEqual(digests.md5 is reader.digests.md5, algorithms != ("SHA256",))
            if algorithms == ("SHA256",):
                self.assertEqual(
                    digests.checksums(), {"SHA256": checksums.encode(hashlib.sha256(DATA).digest())}
                )
            else:
                self.assertEqual(digests.checksums(), {"CRC32": CRC32} if algorithms else {})
            whole = blobs.read(blob, 0, len(DATA))
            assert isinstance(whole, Segments)
            self.assertEqual(whole.read(), DATA)

    def test_unreadable_left_to_decoding(self) -> None:
        """A body the reader cannot follow is decoded the ordinary way, which fails it."""
        broken = FRAMED.replace(b"10000;", b"10001;", 1)
        reader = chunked.body_reader(self.request(broken))
        assert reader is not None
        view = arrive(broken, reader, 65536)
        self.assertTrue(reader.failed)
        with self.assertRaises(ServiceError) as raised:
            chunked.decode_request(self.request(ReadBody([view], reader)))
        self.assertEqual(raised.exception.code, "IncompleteBody")

    def test_plain_body_lanes(self) -> None:
        """A body sent with a Content-Length: one lane its MD5 and pieces, the other its CRC."""
        for lagging in (False, True):
            reader = chunked.BodyDigester(checksums.BodyDigests(("CRC32",)), chunked=False)
            view = arrive(DATA, reader, 65536, lagging)
            self.assertEqual(b"".join(reader.pieces), DATA)
            self.assertEqual(bytes(view), DATA)
            self.assertEqual(reader.digests.md5.digest(), hashlib.md5(DATA).digest())
            self.assertEqual(reader.digests.size, len(DATA))
            self.assertEqual(reader.digests.checksums(), {"CRC32": CRC32})

    def test_signed_chunk_hashes(self) -> None:
        """For a signed stream, the checksum lane hashes each chunk, the last empty one too."""
        for lagging in (False, True):
            reader = chunked.BodyDigester(
                checksums.BodyDigests(("CRC32",)), chunked=True, signed=True
            )
            arrive(FRAMED, reader, 100_003, lagging)
            expected = [
                (hashlib.sha256(chunk).hexdigest(), b"chunk-signature=s%d" % index)
                for index, chunk in enumerate(CHUNKS)
            ]
            expected.append((hashlib.sha256().hexdigest(), b"chunk-signature=end"))
            self.assertEqual(reader.chunks, expected)
            self.assertEqual(reader.digests.md5.digest(), hashlib.md5(DATA).digest())

    def test_freed_without_collector(self) -> None:
        """
        A reader is no reference cycle: dropped, it and the body it holds go
        at once, not when the garbage collector next runs (an idle daemon
        may not run it for long).
        """
        gc.disable()
        self.addCleanup(gc.enable)
        reader = chunked.body_reader(self.request(FRAMED))
        assert reader is not None
        view = arrive(FRAMED, reader, 65536)
        mapped = weakref.ref(view.obj)
        del view, reader
        self.assertIsNone(mapped())
