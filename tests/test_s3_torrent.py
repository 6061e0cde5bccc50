"""GetObjectTorrent (see s3/torrent), through boto3 and the daemon."""

from __future__ import annotations

import hashlib

from twisted.trial.unittest import SynchronousTestCase

from awsemu.s3 import torrent
from tests.s3support import S3TestCase


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
