"""
The floors under ``bench/s3.py``'s figures.

Large uploads: the same 64 MiB PutObject (boto3's defaults, and a raw
Content-Length PUT) sent to a sink that reads each body and answers 200
without looking at it. What this takes is the client's own cost on this
machine; the daemon can only add to it.

Small requests (``--small N``): boto3's GetObject and PutObject of 1 KiB,
as ``bench/s3.py`` sends them, to a minimal server built the way the
daemon's is (``floor_server``: the same Twisted reactor, a protocol that
finds a head's end and its ``Content-Length`` in one pass, ``100
Continue`` sent at once with ``write_now``, the body read, one fixed and
valid S3 answer written at once), measured as ``bench/s3.py`` measures the
daemon: server CPU from ``/proc`` over ``N`` calls, the median of 5
batches. What it takes is what sockets and the reactor alone cost here;
the daemon's figure minus it is the daemon's own Python work.

    python bench/s3_floor.py [--small N] [--only TEXT]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable

from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._daemon import boto_client, cpu_seconds, free_port, wait_until  # noqa: E402
from bench.s3 import ONLY, load, measure  # noqa: E402

MIB = 1024 * 1024
RUNS = 5


def _serve(connection: socket.socket) -> None:
    """Read requests with a Content-Length; answer each with 200 (and 100 when asked)."""
    buffer = b""
    with connection:
        while True:
            while b"\r\n\r\n" not in buffer:
                data = connection.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            fields = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
            }
            if fields.get(b"expect", b"").lower() == b"100-continue":
                connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            needed = int(fields.get(b"content-length", b"0")) - len(buffer)
            buffer = buffer[len(buffer) + needed :] if needed <= 0 else b""
            while needed > 0:
                data = connection.recv(min(needed, MIB))
                if not data:
                    return
                needed -= len(data)
            connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: "x"\r\n\r\n')


def sink(port: int) -> None:
    with socket.create_server(("127.0.0.1", port)) as server:
        while True:
            connection, _ = server.accept()
            threading.Thread(target=_serve, args=(connection,), daemon=True).start()


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


def _listening(port: int) -> bool:
    socket.create_connection(("127.0.0.1", port)).close()
    return True


def small_floor(count: int) -> None:
    """boto3's GetObject and PutObject of 1 KiB to ``floor_server``, measured as ``s3.py`` does."""
    port = free_port()
    small = os.urandom(1024)
    process = subprocess.Popen([sys.executable, __file__, "--floor", str(port), small.hex()])
    try:
        wait_until(time.monotonic() + 20, lambda: _listening(port))
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


def large_floor() -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--sink", str(port)])
    try:
        time.sleep(0.5)
        s3 = boto_client(port, "s3", Config(retries={"max_attempts": 1}))
        big = os.urandom(64 * MIB)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def raw() -> None:
            connection.request("PUT", "/bench/raw", body=big)
            connection.getresponse().read()

        calls: dict[str, Callable[[], object]] = {
            "PutObject 64 MiB to a sink": lambda: s3.put_object(Bucket="b", Key="k", Body=big),
            "raw PutObject 64 MiB to a sink": raw,
        }
        print("load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()), flush=True)
        for label, call in calls.items():
            call()
            walls, cpus = [], []
            for _ in range(RUNS):
                cpu, wall = cpu_seconds(process.pid), time.perf_counter()
                call()
                walls.append(time.perf_counter() - wall)
                cpus.append(cpu_seconds(process.pid) - cpu)
            wall = statistics.median(walls)
            print(
                f"{label:<32} wall {wall * 1000:7.1f} ms  {len(big) / wall / 1e6:6.0f} MB/s"
                f"   sink CPU {statistics.median(cpus) * 1000:5.0f} ms",
                flush=True,
            )
        print("load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()), flush=True)
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=0, help="1 KiB calls per batch (0: none)")
    parser.add_argument("--only", default="", help="run the scenarios whose name holds this")
    options = parser.parse_args()
    ONLY[0] = options.only
    if options.small:
        small_floor(options.small)
    if options.only.lower() in "putobject 64 mib to a sink":
        large_floor()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sink"]:
        sink(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--floor"]:
        floor_server(int(sys.argv[2]), bytes.fromhex(sys.argv[3]))
    else:
        main()
