"""
S3 benchmark: the daemon in its own process, real boto3 clients, and the
server's own CPU time from /proc around each run.

    python bench/s3.py [--data-dir DIR] [--profile FILE] [--only large]

Prints, per scenario, the median batch's wall-clock time and server CPU
time per call, the daemon's resident set before and after a 64 MiB object
is PUT and DELETEd (raw, and with boto3's defaults), and the machine's
load average before and after. ``--only`` runs the scenarios whose name
holds that text (the RSS rounds always run). With
``--profile``, the daemon runs under cProfile (twistd ``--profile``) and
the time is split between S3's own code, the generic gateway/protocol
layers, Twisted and the rest.
"""

from __future__ import annotations

import argparse
import http.client
import os
import pstats
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._daemon import (  # noqa: E402
    boto_client,
    cpu_seconds,
    free_port,
    raw_request,
    rss_mib,
    wait_until,
)

MIB = 1024 * 1024


#: Each measure is taken over this many batches; the median batch is printed.
BATCHES = 5


#: Only the scenarios whose label holds this text run (``--only``).
ONLY = [""]


def measure(pid: int, label: str, count: int, size: int, call: Callable[[], Any]) -> None:
    """
    Per call: the median over ``BATCHES`` batches of ``count`` calls (the
    server's CPU clock ticks every 10 ms, so a batch must be long enough).
    """
    if ONLY[0].lower() not in label.lower():
        return
    call()  # warm up: model loading, first allocation
    walls, cpus = [], []
    for _ in range(BATCHES):
        cpu_before, wall_before = cpu_seconds(pid), time.perf_counter()
        for _ in range(count):
            call()
        walls.append((time.perf_counter() - wall_before) / count)
        cpus.append((cpu_seconds(pid) - cpu_before) / count)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    line = f"{label:<34} wall {wall * 1000:8.2f} ms   server CPU {cpu * 1e6:9.0f} µs"
    if size:
        per_cpu = size / cpu / 1e6 if cpu else 0
        line += f"   {size / wall / 1e6:7.0f} MB/s wall   {per_cpu:7.0f} MB/s of server CPU"
    print(line, flush=True)


def resident(pid: int, port: int, s3: Any, big: bytes) -> None:
    """VmRSS before and after three rounds of PUT and DELETE of ``big``, raw and with boto3."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def raw(method: str, body: bytes = b"") -> None:
        connection.request(method, "/bench/rss", body=body)
        connection.getresponse().read()

    for label, put in (
        ("raw", lambda: raw("PUT", big)),
        ("boto3", lambda: s3.put_object(Bucket="bench", Key="rss", Body=big)),
    ):
        # A first small round loads what stays loaded anyway (models, awscrt).
        s3.put_object(Bucket="bench", Key="rss", Body=big[: 2 * MIB])
        raw("DELETE")
        before = rss_mib(pid)
        for _ in range(3):
            put()
            raw("DELETE")
        time.sleep(0.5)
        after = rss_mib(pid)
        print(
            f"RSS after PUT + DELETE 64 MiB, {label:<6} {before:6.1f} → {after:6.1f} MiB"
            f"   ({after - before:+.1f} MiB)",
            flush=True,
        )
    connection.close()


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def split_profile(path: str) -> None:
    """Cumulative-free (own) time by layer, from the daemon's cProfile dump."""
    stats = pstats.Stats(path)
    layers: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "/awsemu/s3/" in filename:
            layer = "awsemu.s3 (this service)"
        elif "/awsemu/" in filename:
            layer = "awsemu gateway + protocol"
        elif "/twisted/" in filename or "/klein/" in filename or "/werkzeug/" in filename:
            layer = "twisted + klein"
        elif "/botocore/" in filename:
            layer = "botocore (model)"
        else:
            layer = "stdlib + builtins"
        layers[layer] = layers.get(layer, 0.0) + own
    total = sum(layers.values())
    for layer, seconds in sorted(layers.items(), key=lambda item: -item[1]):
        print(f"  {layer:<28} {seconds:7.2f} s  {100 * seconds / total:5.1f} %")
    stats.sort_stats("tottime").print_stats(15)


@contextmanager
def s3_daemon(
    arguments: list[str], twistd_options: list[str]
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``twistd [twistd_options] -n awsemu`` on a free port; SIGINT at the end writes a profile."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from twisted.scripts.twistd import run; run()",
            "-n",
            "--pidfile=",
            *twistd_options,
            "awsemu",
            "--port",
            f"tcp:{port}:interface=127.0.0.1",
            *arguments,
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process, port
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    parser.add_argument("--profile")
    parser.add_argument("--small", type=int, default=400, help="1 KiB GETs per batch")
    parser.add_argument("--only", default="", help="run the scenarios whose name holds this")
    options = parser.parse_args()
    ONLY[0] = options.only
    arguments = ["--services", "s3"]
    if options.data_dir:
        arguments += ["--data-dir", options.data_dir]
    twistd_options = (
        [f"--profile={options.profile}", "--profiler=cprofile", "--savestats"]
        if options.profile
        else []
    )
    with s3_daemon(arguments, twistd_options) as (process, port):
        wait_until(
            time.monotonic() + 20,
            lambda: b"200" in raw_request(port, b"GET /_awsemu/health HTTP/1.0\r\n\r\n"),
        )
        s3 = boto_client(port, "s3", Config(retries={"max_attempts": 1}, read_timeout=120))
        print(load(), flush=True)
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="small", Body=os.urandom(1024))
        big = os.urandom(64 * MIB)
        resident(process.pid, port, s3, big)
        for index in range(1000):
            s3.put_object(Bucket="bench", Key=f"list/{index:04d}", Body=b"")
        measure(
            process.pid,
            "GetObject 1 KiB",
            options.small,
            0,
            lambda: s3.get_object(Bucket="bench", Key="small")["Body"].read(),
        )
        small = os.urandom(1024)
        measure(
            process.pid,
            "PutObject 1 KiB",
            options.small,
            0,
            lambda: s3.put_object(Bucket="bench", Key="small", Body=small),
        )
        measure(
            process.pid,
            "PutObject 64 MiB",
            3,
            len(big),
            lambda: s3.put_object(Bucket="bench", Key="big", Body=big),
        )
        measure(
            process.pid,
            "GetObject 64 MiB",
            3,
            len(big),
            lambda: s3.get_object(Bucket="bench", Key="big")["Body"].read(),
        )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def raw(method: str, target: str, body: bytes = b"") -> bytes:
            connection.request(method, target, body=body)
            return connection.getresponse().read()

        pid = process.pid
        measure(pid, "raw PutObject 64 MiB", 3, len(big), lambda: raw("PUT", "/bench/raw", big))
        measure(pid, "raw GetObject 64 MiB", 3, len(big), lambda: raw("GET", "/bench/raw"))
        measure(pid, "raw GetObject 1 KiB", options.small, 0, lambda: raw("GET", "/bench/small"))
        measure(
            process.pid,
            "raw HTTP ListObjectsV2 1000 keys",
            10,
            0,
            lambda: raw("GET", "/bench?list-type=2&prefix=list/"),
        )
        measure(
            process.pid,
            "ListObjectsV2 1000 keys",
            10,
            0,
            lambda: s3.list_objects_v2(Bucket="bench", Prefix="list/"),
        )
    print(load(), flush=True)
    if options.profile:
        split_profile(options.profile)


if __name__ == "__main__":
    main()
