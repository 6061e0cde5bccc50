"""
Shared by the benchmarks: start the daemon as its own process on a free
loopback port, and read its CPU time and memory from /proc.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def boto_client(port: int, service: str, config: Any = None) -> Any:
    """A boto3 client for ``service`` of the daemon on ``port``, with test credentials."""
    import boto3  # here, so that benchmarks not using it do not pay for its import

    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )


@contextmanager
def daemon(
    arguments: Sequence[str] = (), port: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A running ``twistd -n awsemu`` on ``127.0.0.1:<port>``, stopped on exit."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from twisted.scripts.twistd import run; run()",
            "-n",
            "--pidfile=",
            "awsemu",
            "--port",
            f"tcp:{port}:interface=127.0.0.1",
            *arguments,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process, port
    finally:
        process.terminate()
        process.wait(10)


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid``, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def raw_request(port: int, request: bytes, timeout: float = 1.0) -> bytes:
    """Send one HTTP/1.0 request and return the whole answer (no client library)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def wait_until(deadline: float, attempt: Callable[[], bool]) -> float:
    """Call ``attempt`` until it returns truthy; the time.monotonic() it first did."""
    while time.monotonic() < deadline:
        try:
            if attempt():
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.005)
    raise TimeoutError("the daemon did not answer")


def wait_running(port: int, service: str) -> None:
    """Wait until the daemon's health says ``service`` is running."""
    marker = f'"{service}": "running"'.encode()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_awsemu/health") as answer:
                if marker in answer.read():
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{service} did not start")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
