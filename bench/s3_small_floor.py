"""
The floor under ``bench/s3.py``'s small-request figures: boto3's
GetObject and PutObject of 1 KiB, as ``bench/s3.py`` sends them, to a
minimal server built the way the daemon's is (``floor_server``: the same
Twisted reactor, a protocol that finds a head's end and its
``Content-Length`` in one pass, ``100 Continue`` sent at once with
``write_now``, the body read, one fixed and valid S3 answer written at
once), measured as ``bench/s3.py`` measures the daemon: server CPU from
``/proc`` over ``N`` calls, the median of 5 batches. What it takes is what
sockets and the reactor alone cost here; the daemon's figure minus it is
the daemon's own Python work.

    python bench/s3_small_floor.py [--small N]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import subprocess
import sys
import time
import zlib

from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._daemon import boto_client, free_port, wait_until  # noqa: E402
from bench.s3 import load, measure  # noqa: E402
from bench.s3_floor import listening  # noqa: E402


def s3_answers(body: bytes) -> tuple[bytes, bytes]:
    """
    The heads of S3's answers to a GetObject (with ``body``, whose checksum
    boto3 verifies) and to a PutObject of ``body``, with the headers S3
    sends (and the daemon does); ``Date`` is added per answer.
    """
    etag = b'"%s"' % hashlib.md5(body).hexdigest().encode()
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big"))
    ids = b"x-amz-request-id: 0795A3E48557E926\r\nx-amz-id-2: " + base64.b64encode(bytes(57))
    common = (
        b"\r\nETag: %s\r\nx-amz-checksum-crc32: %s\r\nx-amz-checksum-type: FULL_OBJECT"
        b"\r\nx-amz-server-side-encryption: AES256\r\n" % (etag, crc)
    )
    get = (
        b"HTTP/1.1 200 OK\r\n" + ids + b"\r\naccept-ranges: bytes"
        b"\r\nLast-Modified: Thu, 03 Dec 2026 09:00:00 GMT\r\nContent-Length: %d"
        b"\r\nContent-Type: binary/octet-stream" % len(body) + common
    )
    put = b"HTTP/1.1 200 OK\r\n" + ids + common + b"Content-Length: 0\r\n"
    return get, put


def floor_server(port: int, body: bytes) -> None:
    """
    Serve ``s3_answers(body)`` on ``port``: a GET gets the object, any
    other request (once its body is read) the PutObject answer.
    """
    from twisted.internet import reactor
    from twisted.internet.protocol import Factory, Protocol
    from twisted.web.http import datetimeToString

    from awsemu.transport import write_now

    get_head, put_head = s3_answers(body)
    get, put = (get_head, body), (put_head, b"")
    dated = [0, b""]

    def answer(template: tuple[bytes, bytes]) -> bytes:
        now = int(time.time())
        if dated[0] != now:
            dated[:] = [now, b"Date: %s\r\n\r\n" % datetimeToString(now)]
        return template[0] + dated[1] + template[1]

    class Floor(Protocol):
        buffer = b""
        #: Body bytes still to come, and the answer to write once they have.
        remaining = 0
        template = put

        def dataReceived(self, data: bytes) -> None:
            if self.remaining:
                taken = min(len(data), self.remaining)
                self.remaining -= taken
                if self.remaining:
                    return
                write_now(self.transport, answer(self.template))
                data = data[taken:]
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
                head, self.buffer = self.buffer[:end].lower(), self.buffer[end + 4 :]
                field = head.partition(b"\r\ncontent-length:")[2].partition(b"\r")[0]
                length = int(field or 0)
                template = get if head.startswith(b"get ") else put
                if length <= len(self.buffer):
                    self.buffer = self.buffer[length:]
                    write_now(self.transport, answer(template))
                    continue
                self.remaining, self.template = length - len(self.buffer), template
                self.buffer = b""
                if b"\r\nexpect: 100-continue" in head:
                    write_now(self.transport, b"HTTP/1.1 100 Continue\r\n\r\n")
                return

    reactor.listenTCP(port, Factory.forProtocol(Floor), interface="127.0.0.1")
    reactor.run()


def small_floor(count: int) -> None:
    """boto3's GetObject and PutObject of 1 KiB to ``floor_server``, measured as ``s3.py`` does."""
    port = free_port()
    small = os.urandom(1024)
    process = subprocess.Popen([sys.executable, __file__, "--floor", str(port), small.hex()])
    try:
        wait_until(time.monotonic() + 20, lambda: listening(port))
        s3 = boto_client(port, "s3", Config(retries={"max_attempts": 1}))
        print(load(), flush=True)
        measure(
            process.pid,
            "GetObject 1 KiB, floor server",
            count,
            0,
            lambda: s3.get_object(Bucket="bench", Key="small")["Body"].read(),
        )
        measure(
            process.pid,
            "PutObject 1 KiB, floor server",
            count,
            0,
            lambda: s3.put_object(Bucket="bench", Key="small", Body=small),
        )
        print(load(), flush=True)
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=800, help="1 KiB calls per batch")
    small_floor(parser.parse_args().small)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor"]:
        floor_server(int(sys.argv[2]), bytes.fromhex(sys.argv[3]))
    else:
        main()
