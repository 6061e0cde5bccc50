"""
How much the gateway adds to DynamoDB Local, and how soon DynamoDB answers.

Starts ``twistd -n awsemu --services dynamodb`` on a free port, times the
first successful ListTables from the moment the daemon process starts, then
sends the same GetItem and PutItem requests straight to the daemon's
DynamoDB Local, through the daemon, and through a bare relay, over one
keep-alive connection each, in rounds that alternate the three paths (so
a change in the machine's load falls on all of them), and prints:

- latency percentiles each way, and the p50 the gateway adds;
- the daemon's CPU time per proxied request (from ``/proc/<pid>/task/*/
  schedstat``, in nanoseconds, around each round), which is what the
  gateway costs the machine whatever the client;
- the same for a bare Twisted relay (``bench/_relay.py``, path "relay"):
  what two trips through the reactor cost on this machine, the floor
  under any Twisted proxy, whatever it does with the requests;
- the ratio of the two, round by round: its median and range (the
  target of issue #19 is a ratio of at most 2);
- the CPU time per request of the daemon's client half alone: its
  L{LoopbackPool}, run in this process against the same DynamoDB Local
  (socket I/O included, as the daemon pays it).

The client is a bare ``http.client`` connection sending pre-built requests
(boto3 would cost more client CPU than the server under test spends).

Usage: python bench/dynamodb.py [--requests N] [--rounds R]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # awsemu from this tree, when it is not installed.
TABLE = "Bench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """CPU time of all of ``pid``'s threads so far, in seconds (to the nanosecond)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # A thread that ended meanwhile.
    return total / 1e9


class Client:
    """One keep-alive connection sending DynamoDB requests as account 111111111111."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, operation: str, document: dict[str, object]) -> tuple[int, bytes]:
        body = json.dumps(document).encode()
        self.connection.request(
            "POST",
            "/",
            body,
            {
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=111111111111/20250101/us-east-1/"
                "dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            },
        )
        response = self.connection.getresponse()
        return response.status, response.read()


def latencies(client: Client, operation: str, document: dict[str, object], n: int) -> list[float]:
    """Seconds each of ``n`` calls took."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        status, body = client.call(operation, document)
        times.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"{operation} failed: {status} {body!r}")
    return times


def percentile(values: list[float], fraction: float) -> float:
    return sorted(values)[int(fraction * (len(values) - 1))]


def start_daemon(log: Path) -> tuple[subprocess.Popen[bytes], int, float]:
    """The daemon, its port, and seconds from its start to a successful ListTables."""
    port = free_port()
    started = time.perf_counter()
    daemon = subprocess.Popen(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "-n"]
        + ["--pidfile=", f"--logfile={log}", "awsemu", "--services", "dynamodb"]
        + ["--port", f"tcp:{port}:interface=127.0.0.1"],
        cwd=ROOT,
    )
    while True:
        try:
            if Client(port).call("ListTables", {})[0] == 200:
                return daemon, port, time.perf_counter() - started
        except OSError:
            pass
        if daemon.poll() is not None or time.perf_counter() - started > 60:
            raise RuntimeError(f"the daemon did not answer; see {log}")
        time.sleep(0.01)


def jvm_of(daemon_pid: int) -> tuple[int, int]:
    """The pid and port of the daemon's DynamoDB Local, from its pid file and command line."""
    from awsemu.dynamodb.installer import default_cache_dir

    pid = int((default_cache_dir(os.environ) / f"dynamodb-local.{daemon_pid}.pid").read_text())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return pid, int(argv[argv.index(b"-port") + 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per path and round")
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        daemon, port, first_answer = start_daemon(Path(directory) / "daemon.log")
        try:
            run(daemon, port, first_answer, arguments.requests, arguments.rounds)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)


def start_relay(jvm_port: int) -> tuple[subprocess.Popen[bytes], int]:
    """A running ``bench/_relay.py`` in front of DynamoDB Local, and its port."""
    port = free_port()
    relay = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_relay.py"), str(jvm_port), str(port)],
        stdout=subprocess.PIPE,
    )
    assert relay.stdout is not None
    if relay.stdout.readline() != b"ready\n":
        raise RuntimeError("the relay did not start")
    return relay, port


def run(
    daemon: subprocess.Popen[bytes], port: int, first_answer: float, n: int, rounds: int
) -> None:
    jvm_pid, jvm_port = jvm_of(daemon.pid)
    print(f"daemon start to first successful ListTables: {first_answer * 1000:.0f} ms")
    relay, relay_port = start_relay(jvm_port)
    try:
        compare(daemon.pid, port, jvm_pid, jvm_port, relay.pid, relay_port, n, rounds)
    finally:
        relay.kill()
        relay.wait()


def compare(
    daemon_pid: int,
    port: int,
    jvm_pid: int,
    jvm_port: int,
    relay_pid: int,
    relay_port: int,
    n: int,
    rounds: int,
) -> None:
    """Print the table of the module docstring."""
    proxied, direct = Client(port), Client(jvm_port)
    for client in (proxied, direct):
        client.call(
            "CreateTable",
            {
                "TableName": TABLE,
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
    item = {"k": {"S": "key"}, "v": {"S": "x" * 100}, "n": {"N": "42"}}
    operations: dict[str, dict[str, object]] = {
        "PutItem": {"TableName": TABLE, "Item": item},
        "GetItem": {"TableName": TABLE, "Key": {"k": {"S": "key"}}},
    }
    print(f"{n} requests per path and round, {rounds} rounds, one keep-alive connection each")
    print(
        f"{'operation':10} {'path':8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}"
        f" {'proxy CPU/req µs':>18} {'JVM CPU/req µs':>15}"
    )
    paths = (
        ("direct", direct, daemon_pid),
        ("gateway", proxied, daemon_pid),
        ("relay", Client(relay_port), relay_pid),
    )
    for operation, document in operations.items():
        # Every path is warmed up before any is timed, so none is timed cold.
        # DynamoDB Local's own CPU keeps falling for a while as its JIT
        # compiles: its column is for reference, not a comparison of paths.
        for _, client, _ in paths:
            latencies(client, operation, document, min(n, 1000))
        times: dict[str, list[float]] = {path: [] for path, _, _ in paths}
        proxy_cpu: dict[str, list[float]] = {path: [] for path, _, _ in paths}
        jvm_cpu: dict[str, list[float]] = {path: [] for path, _, _ in paths}
        for _ in range(rounds):
            for path, client, proxy_pid in paths:
                proxy_before, jvm_before = cpu_seconds(proxy_pid), cpu_seconds(jvm_pid)
                times[path] += latencies(client, operation, document, n)
                proxy_cpu[path].append((cpu_seconds(proxy_pid) - proxy_before) / n)
                jvm_cpu[path].append((cpu_seconds(jvm_pid) - jvm_before) / n)
        for path, _, _ in paths:
            print(
                f"{operation:10} {path:8} {statistics.median(times[path]) * 1000:8.3f}"
                f" {percentile(times[path], 0.9) * 1000:8.3f}"
                f" {percentile(times[path], 0.99) * 1000:8.3f}"
                f" {statistics.median(proxy_cpu[path]) * 1e6:18.0f}"
                f" {statistics.median(jvm_cpu[path]) * 1e6:15.0f}"
            )
        added = statistics.median(times["gateway"]) - statistics.median(times["direct"])
        print(f"{operation:10} added p50: {added * 1000:.3f} ms")
        pairs = zip(proxy_cpu["gateway"], proxy_cpu["relay"], strict=True)
        ratios = sorted(gateway / relay for gateway, relay in pairs)
        print(
            f"{operation:10} proxy CPU / relay CPU: {statistics.median(ratios):.2f}"
            f" (rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)})"
        )
    for operation, cpu in client_cpu(jvm_port, operations, n).items():
        print(f"{operation:10} loopback client alone: {cpu * 1e6:.0f} µs CPU/request")


def client_cpu(jvm_port: int, operations: dict[str, dict[str, object]], n: int) -> dict[str, float]:
    """CPU seconds per request of a L{LoopbackPool} in this process, for each operation."""
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

    from awsemu.dynamodb.forwarding import local_authorization
    from awsemu.dynamodb.loopback import LoopbackPool

    pool = LoopbackPool(reactor, reactor)
    results: dict[str, float] = {}

    async def measure() -> None:
        for operation, document in operations.items():
            headers = [
                (b"X-Amz-Target", f"DynamoDB_20120810.{operation}".encode()),
                (b"Content-Type", b"application/x-amz-json-1.0"),
                (b"Authorization", local_authorization("111111111111", "us-east-1", "")),
            ]
            body = json.dumps(document).encode()
            for count, timed in ((min(n, 500), False), (n, True)):  # warm-up, then timed
                started = time.process_time()
                for _ in range(count):
                    response = await pool.request(jvm_port, b"POST", b"/", headers, body)
                    if response.status != 200:
                        raise RuntimeError(f"{operation} failed: {response}")
                if timed:
                    results[operation] = (time.process_time() - started) / n
        await pool.close()

    failures: list[Failure] = []
    measured = Deferred.fromCoroutine(measure())
    measured.addErrback(failures.append)
    measured.addBoth(lambda _: reactor.stop())
    reactor.run()
    if failures:
        failures[0].raiseException()
    return results


if __name__ == "__main__":
    main()
