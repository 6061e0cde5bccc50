"""GetObjectTorrent (see s3/torrent), through boto3 and the daemon."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from io import BytesIO
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.gateway.context import internal_context
from awsemu.s3 import torrent
from awsemu.s3.provider import S3Provider
from awsemu.s3.store import MemoryBlobs, Store
from tests.s3support import Daemon, S3TestCase


def expected_metainfo(bucket: str, key: str, body: bytes) -> bytes:
    """S3's torrent of ``body`` at ``bucket``/``key``, built here from BEP 3's rules."""
    pieces = b"".join(
        hashlib.sha1(body[start : start + 256 * 1024]).digest()
        for start in range(0, len(body), 256 * 1024)
    )
    name = key.rpartition("/")[2].encode()
    return (
        b"d8:announce42:http://torrent.amazonaws.com:6969/announce4:infod6:lengthi%de"
        b"4:name%d:%s12:piece lengthi262144e6:pieces%d:%s"
        b"12:x-amz-bucket%d:%s9:x-amz-key%d:%see"
    ) % (
        len(body),
        len(name),
        name,
        len(pieces),
        pieces,
        len(bucket),
        bucket.encode(),
        len(key),
        key.encode(),
    )


class TorrentTests(S3TestCase):
    def test_metainfo(self) -> None:
        """The torrent names S3's tracker, the bucket and key, and hashes 256 KiB pieces."""
        bucket = self.new_bucket()
        body = bytes(range(256)) * 1025  # one full piece and 256 bytes more
        self.s3.put_object(Bucket=bucket, Key="dir/file.bin", Body=body)
        got = self.s3.get_object_torrent(Bucket=bucket, Key="dir/file.bin")["Body"].read()
        pieces = (
            hashlib.sha1(body[: 256 * 1024]).digest() + hashlib.sha1(body[256 * 1024 :]).digest()
        )
        expected = (
            b"d8:announce42:http://torrent.amazonaws.com:6969/announce4:infod6:lengthi262400e"
            b"4:name8:file.bin12:piece lengthi262144e6:pieces40:"
            + pieces
            + b"12:x-amz-bucket"
            + f"{len(bucket)}:{bucket}".encode()
            + b"9:x-amz-key12:dir/file.binee"
        )
        self.assertEqual(got, expected)

    def test_refusals(self) -> None:
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="DEEP_ARCHIVE")
        self.assertClientError(
            self.s3.get_object_torrent, "InvalidObjectState", 403, Bucket=bucket, Key="cold"
        )
        self.assertClientError(
            self.s3.get_object_torrent, "NoSuchKey", 404, Bucket=bucket, Key="missing"
        )


class DiskTorrentTests(S3TestCase):
    """Under ``--data-dir`` bodies are files, hashed in S3's disk thread pool: same torrent."""

    def setUp(self) -> None:
        self.running = Daemon(["--data-dir", os.path.abspath(self.mktemp())]).start()
        self.addCleanup(lambda: self.running.stop())
        super().setUp()

    def daemon(self) -> Daemon:
        return self.running

    def test_large_body(self) -> None:
        bucket = self.new_bucket()
        body = os.urandom(3 * 1024 * 1024 + 17)
        self.s3.put_object(Bucket=bucket, Key="big.bin", Body=body)
        got = self.s3.get_object_torrent(Bucket=bucket, Key="big.bin")["Body"].read()
        self.assertEqual(got, expected_metainfo(bucket, "big.bin", body))
        self.s3.put_object(Bucket=bucket, Key="empty", Body=b"")
        got = self.s3.get_object_torrent(Bucket=bucket, Key="empty")["Body"].read()
        self.assertEqual(got, expected_metainfo(bucket, "empty", b""))


class OffloadTests(SynchronousTestCase):
    def test_hashing_is_offloaded(self) -> None:
        """The provider's ``offload`` reads and hashes the body; the answer waits for it."""
        waiting: list[tuple[Callable[[], bytes], Deferred[bytes]]] = []

        def offload(work: Callable[[], bytes]) -> Deferred[bytes]:
            done: Deferred[bytes] = Deferred()
            waiting.append((work, done))
            return done

        provider = S3Provider(Store(MemoryBlobs()), Clock(), offload=offload)
        context = internal_context("r", "000000000000", "us-east-1", "s3", 0.0)

        def call(operation: str, **params: Any) -> Deferred[Any]:
            return Deferred.fromCoroutine(getattr(provider, operation)(context, params))

        body = b"x" * (300 * 1024)
        self.successResultOf(call("create_bucket", Bucket="bkt"))
        self.successResultOf(call("put_object", Bucket="bkt", Key="k", Body=BytesIO(body)))
        answer = call("get_object_torrent", Bucket="bkt", Key="k")
        self.assertNoResult(answer)
        [(work, done)] = waiting
        done.callback(work())
        self.assertEqual(self.successResultOf(answer)["Body"], expected_metainfo("bkt", "k", body))


class BencodeTests(SynchronousTestCase):
    def test_bep3_examples(self) -> None:
        """BEP 3's own examples."""
        self.assertEqual(torrent.bencode("spam"), b"4:spam")
        self.assertEqual(torrent.bencode(-3), b"i-3e")
        self.assertEqual(torrent.bencode(["spam", "eggs"]), b"l4:spam4:eggse")
        self.assertEqual(torrent.bencode({"spam": ["a", "b"]}), b"d4:spaml1:a1:bee")
        self.assertEqual(
            torrent.bencode({"spam": "eggs", "cow": "moo"}), b"d3:cow3:moo4:spam4:eggse"
        )
