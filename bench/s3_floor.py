"""
The floor under ``bench/s3.py``'s upload figures: the same 64 MiB PutObject
(boto3's defaults, and a raw Content-Length PUT) sent to a sink that reads
each body and answers 200 without looking at it. What this takes is the
client's own cost on this machine; the daemon can only add to it.

    python bench/s3_floor.py
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._daemon import boto_client, cpu_seconds, free_port  # noqa: E402

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


def main() -> None:
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


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sink"]:
        sink(int(sys.argv[2]))
    else:
        main()
