"""
The floor under ``bench/s3.py``'s upload figures: the same 64 MiB PutObject
(boto3's defaults, and a raw Content-Length PUT) sent to two servers of
this machine's Python, each in its own process:

- a sink, which reads each body and answers 200 without looking at it:
  what this takes is the client's own cost; any server can only add to it;
- a minimal S3, which does only the work S3 must do for such an upload:
  receive the body into a private anonymous memory map with ``recv_into``,
  compute its MD5 (the ETag) and the checksum the request names (boto3:
  CRC32; S3's default CRC64NVME otherwise) in threads while it arrives,
  and answer with them. No routing, parsing, signature or store: what it
  takes is the floor of any server that answers this upload exactly.

With ``--daemon``, awsemu (serving S3 alone) is measured too, run from
this checkout or from each checkout named, in the same rounds: one batch
of each server in turn, ``--rounds`` times, so that load from elsewhere
falls on all of them alike. Each line gives the median call, the range
over all calls, and the server's CPU time per call.

    python bench/s3_floor.py [--rounds N] [--daemon [TREE ...]]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import mmap
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._daemon import (  # noqa: E402
    boto_client,
    cpu_seconds,
    free_port,
    raw_request,
    wait_until,
)

MIB = 1024 * 1024
#: Calls per batch; a round runs one batch against each server.
BATCH = 3
#: Each digest thread takes what arrived once this much more did.
STEP = MIB


def _head(connection: socket.socket, buffer: bytes) -> tuple[dict[bytes, bytes], bytes] | None:
    """The next request head's fields (lowercase names) and what followed it, or None at EOF."""
    while b"\r\n\r\n" not in buffer:
        data = connection.recv(65536)
        if not data:
            return None
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    fields = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(b":") for line in head.split(b"\r\n")[1:])
    }
    if fields.get(b"expect", b"").lower() == b"100-continue":
        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    return fields, rest


def _sink(connection: socket.socket) -> None:
    """Read requests with a Content-Length; answer each with 200 (and 100 when asked)."""
    buffer = b""
    with connection:
        while (request := _head(connection, buffer)) is not None:
            fields, buffer = request
            needed = int(fields.get(b"content-length", b"0")) - len(buffer)
            buffer = buffer[len(buffer) + needed :] if needed <= 0 else b""
            while needed > 0:
                data = connection.recv(min(needed, MIB))
                if not data:
                    return
                needed -= len(data)
            connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: "x"\r\n\r\n')


class _Arrival:
    """How much of a body arrived, for the threads that digest it as it does."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.received = 0
        self.changed = threading.Condition()

    def add(self, count: int) -> None:
        with self.changed:
            self.received += count
            self.changed.notify_all()

    def stretches(self, step: int) -> Iterator[tuple[int, int]]:
        """Each stretch ``(start, end)`` that arrived, once ``step`` more did (or all)."""
        done = 0
        while done < self.size:
            with self.changed:
                while self.received - done < step and self.received < self.size:
                    self.changed.wait()
                end = self.received
            yield done, end
            done = end


def _digest(view: memoryview, arrival: _Arrival, update: Callable[[memoryview], None]) -> None:
    for start, end in arrival.stretches(STEP):
        update(view[start:end])


def _crc(function: Callable[[Any, int], int]) -> tuple[Callable[[memoryview], None], Any]:
    """An update function for a CRC and where its value is kept."""
    value = [0]

    def update(data: memoryview) -> None:
        value[0] = function(data, value[0])

    return update, value


def _minimal(connection: socket.socket) -> None:
    """
    Receive each body into a map with ``recv_into`` while one thread per
    digest computes its MD5 and its checksum; answer with both.
    """
    from awscrt import checksums

    buffer = b""
    with connection:
        while (request := _head(connection, buffer)) is not None:
            fields, buffer = request
            size = int(fields.get(b"content-length", b"0"))
            named = fields.get(b"x-amz-sdk-checksum-algorithm", b"CRC64NVME").upper()
            crc, width = (zlib.crc32, 4) if named == b"CRC32" else (checksums.crc64nvme, 8)
            mapped = mmap.mmap(-1, max(size, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            view = memoryview(mapped)
            arrival = _Arrival(size)
            md5 = hashlib.md5()
            checksum, value = _crc(crc)
            digesters = [
                threading.Thread(target=_digest, args=(view, arrival, update))
                for update in (md5.update, checksum)
            ]
            for digester in digesters:
                digester.start()
            already = buffer[:size]
            view[: len(already)] = already
            buffer = buffer[len(already) :]
            arrival.add(len(already))
            while arrival.received < size:
                start = arrival.received
                received = connection.recv_into(view[start : min(size, start + MIB)])
                if not received:
                    return
                arrival.add(received)
            for digester in digesters:
                digester.join()
            encoded = base64.b64encode(value[0].to_bytes(width, "big"))
            connection.sendall(
                b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: "%s"\r\n'
                b"x-amz-checksum-%s: %s\r\n\r\n"
                % (md5.hexdigest().encode(), named.lower(), encoded)
            )
            view.release()
            mapped.close()


def serve(port: int, handler: Callable[[socket.socket], None]) -> None:
    with socket.create_server(("127.0.0.1", port)) as server:
        while True:
            connection, _ = server.accept()
            threading.Thread(target=handler, args=(connection,), daemon=True).start()


#: The servers ``--serve`` runs, by name.
SERVERS = {"sink": _sink, "minimal": _minimal}


@contextmanager
def server(name: str) -> Iterator[tuple[int, int]]:
    """One of ``SERVERS`` in its own process: its pid and port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", name, str(port)])
    try:
        wait_until(time.monotonic() + 10, lambda: listening(port))
        yield process.pid, port
    finally:
        process.kill()
        process.wait()


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port)).close()
    except OSError:
        return False
    return True


@contextmanager
def daemon(tree: str) -> Iterator[tuple[int, int]]:
    """``twistd -n awsemu`` serving S3 alone, run from the checkout ``tree``."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "-n"]
        + ["--pidfile=", "--logfile=/dev/null", "awsemu", "--services", "s3"]
        + ["--port", f"tcp:{port}:interface=127.0.0.1"],
        cwd=tree,
    )
    try:
        wait_until(
            time.monotonic() + 20,
            lambda: b"200" in raw_request(port, b"GET /_awsemu/health HTTP/1.0\r\n\r\n"),
        )
        yield process.pid, port
    finally:
        process.terminate()
        process.wait(60)


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--daemon",
        nargs="*",
        metavar="TREE",
        help="measure awsemu too, run from each checkout (none named: this one)",
    )
    options = parser.parse_args()
    big = os.urandom(64 * MIB)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    trees = options.daemon if options.daemon else [here] if options.daemon is not None else []
    with ExitStack() as stack:
        servers = {name: stack.enter_context(server(name)) for name in SERVERS}
        for tree in trees:
            name = os.path.basename(os.path.abspath(tree)) if len(trees) > 1 else "awsemu"
            servers[name] = stack.enter_context(daemon(tree))
        calls: dict[tuple[str, str], Callable[[], object]] = {}
        for name, (_, port) in servers.items():
            s3 = boto_client(port, "s3", Config(retries={"max_attempts": 1}, read_timeout=120))
            if name not in SERVERS:
                s3.create_bucket(Bucket="bench")
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

            def raw(connection: http.client.HTTPConnection = connection) -> None:
                connection.request("PUT", "/bench/raw", body=big)
                connection.getresponse().read()

            calls[("PutObject 64 MiB", name)] = lambda s3=s3: s3.put_object(
                Bucket="bench", Key="big", Body=big
            )
            calls[("raw PutObject 64 MiB", name)] = raw
        print(load(), flush=True)
        walls: dict[tuple[str, str], list[float]] = {key: [] for key in calls}
        cpus: dict[tuple[str, str], list[float]] = {key: [] for key in calls}
        for call in calls.values():
            call()  # warm up
        for _ in range(options.rounds):
            for (label, name), call in calls.items():
                pid = servers[name][0]
                for _ in range(BATCH):
                    cpu, wall = cpu_seconds(pid), time.perf_counter()
                    call()
                    walls[(label, name)].append(time.perf_counter() - wall)
                    cpus[(label, name)].append(cpu_seconds(pid) - cpu)
        for (label, name), times in sorted(walls.items(), key=lambda item: item[0][0]):
            wall = statistics.median(times)
            print(
                f"{label:<22} {name:<8} wall {wall * 1000:6.1f} ms"
                f" ({min(times) * 1000:.0f}–{max(times) * 1000:.0f})"
                f"  {len(big) / wall / 1e6:5.0f} MB/s"
                f"   server CPU {sum(cpus[(label, name)]) / len(times) * 1000:4.0f} ms",
                flush=True,
            )
        print(load(), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[3]), SERVERS[sys.argv[2]])
    else:
        main()
