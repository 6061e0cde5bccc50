"""
What the DynamoDB integration tests share: finding DynamoDB Local and java
(skipping, or failing when CI requires them), a real daemon serving
DynamoDB in a subprocess whose JVM can be found and killed, and a census of
the sockets a process and its descendants listen on.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Any, NamedTuple

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from awsemu.dynamodb.forwarding import local_authorization
from awsemu.dynamodb.installer import INSTALL_COMMAND, default_cache_dir, find_dynamodb_local
from awsemu.dynamodb.messages import JSON_CONTENT_TYPE
from awsemu.gateway.context import DEFAULT_ACCOUNT_ID
from tests.daemon import ROOT, TWISTD, free_port

REQUIRED_VARIABLE = "AWSEMU_REQUIRE_DYNAMODB"

LIST_TABLES = [
    (b"X-Amz-Target", b"DynamoDB_20120810.ListTables"),
    (b"Content-Type", JSON_CONTENT_TYPE.encode()),
    (b"Authorization", local_authorization(DEFAULT_ACCOUNT_ID, "us-east-1", "")),
]
"""The headers of a ListTables request sent straight to DynamoDB Local (body ``{}``)."""


def require_dynamodb_local() -> None:
    """
    Skip unless DynamoDB Local and java are installed, or fail when
    C{AWSEMU_REQUIRE_DYNAMODB} is set (CI sets it: there, the tests must run).
    """
    missing = []
    if find_dynamodb_local(default_cache_dir(os.environ)) is None:
        missing.append(f"DynamoDB Local (run `{INSTALL_COMMAND}`)")
    if shutil.which("java") is None:
        missing.append("java")
    if not missing:
        return
    why = "not installed: " + ", ".join(missing)
    if os.environ.get(REQUIRED_VARIABLE):
        raise AssertionError(f"{REQUIRED_VARIABLE} is set but {why}")
    raise SkipTest(why)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (zombies count as exited)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rpartition(")")[2].split()[0] != "Z"


def kill_if_alive(pid: int) -> None:
    """SIGKILL ``pid`` unless it has exited: what a test left running (or stopped) ends."""
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (children, their children...)."""
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue  # It exited meanwhile.
        if stat:
            children[int(stat.rpartition(")")[2].split()[1])].append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children[tree[-1]])
    return tree


class Listener(NamedTuple):
    """A socket that accepts connections or datagrams: who holds it, and where it listens."""

    pid: int
    table: str
    """Its table in /proc/net: tcp, tcp6, udp or udp6."""
    address: IPv4Address | IPv6Address
    port: int

    @property
    def loopback(self) -> bool:
        """Whether only this machine can reach it (IPv4-mapped 127.0.0.0/8 counts)."""
        mapped = self.address.ipv4_mapped if isinstance(self.address, IPv6Address) else None
        return self.address.is_loopback or (mapped is not None and mapped.is_loopback)


LISTENING_STATES = {"tcp": "0A", "tcp6": "0A", "udp": "07", "udp6": "07"}
"""TCP_LISTEN, and TCP_CLOSE, which is how /proc/net shows a UDP socket with no peer."""


def _sockets(pid: int, table: str) -> Iterator[tuple[IPv4Address | IPv6Address, int, str, int]]:
    """Address, port, state and inode of each socket in ``pid``'s /proc/net ``table``."""
    for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
        fields = line.split()
        host, port = fields[1].split(":")
        raw = bytes.fromhex(host)
        # The kernel prints each 32-bit word of the address as a number, in host byte order.
        if sys.byteorder == "little":
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
        yield ip_address(raw), int(port, 16), fields[3], int(fields[9])


def _descriptor_targets(pid: int) -> Iterator[str]:
    """What the open file descriptors of ``pid`` name (``socket:[<inode>]`` for a socket)."""
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return  # It exited meanwhile.
    for descriptor in descriptors:
        try:
            yield os.readlink(descriptor)
        except OSError:
            continue  # Closed as it was read.


def listeners(pid: int) -> list[Listener]:
    """
    Every listening TCP socket and every UDP socket without a peer held by
    ``pid`` or its descendants, found by the inodes of their open sockets.
    """
    owners = {}
    for member in descendants(pid):
        for link in _descriptor_targets(member):
            if link.startswith("socket:["):
                owners[int(link[len("socket:[") : -1])] = member
    return [
        Listener(owners[inode], table, address, port)
        for table, listening in LISTENING_STATES.items()
        for address, port, state, inode in _sockets(pid, table)
        if state == listening and inode in owners
    ]


def listening_on(port: int) -> bool:
    """Whether any process of this network namespace listens on TCP ``port``."""
    return any(
        found == port and state == LISTENING_STATES[table]
        for table in ("tcp", "tcp6")
        for _, found, state, _ in _sockets(os.getpid(), table)
    )


def _stop_with_parent() -> None:
    """
    In the daemon's process before it runs: have Linux send it SIGTERM when
    the test run dies, even if killed, so it never outlives the run (and
    stops its JVM as any SIGTERM makes it do).
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class DynamoDBDaemon:
    """
    ``twistd -n awsemu --services dynamodb`` on a free loopback port, its
    output in a file (a pipe would fill up and block it). ``state_dir`` is
    where it keeps DynamoDB Local's pid file: its data directory's
    ``dynamodb`` folder, or the cache directory.
    """

    def __init__(self, log: Path, *arguments: str, data_dir: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.state_dir = (
            default_cache_dir(os.environ) if data_dir is None else data_dir / "dynamodb"
        )
        options = [] if data_dir is None else ["--data-dir", str(data_dir)]
        with log.open("a") as output:
            self.process = subprocess.Popen(
                [*TWISTD, "-n", "--pidfile=", "--logfile=-", "awsemu"]
                + ["--port", f"tcp:{self.port}:interface=127.0.0.1", *options, *arguments],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=_stop_with_parent,
            )

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/_awsemu/health", timeout=2) as response:
            document: dict[str, Any] = json.load(response)
            return document

    def status(self) -> str | None:
        try:
            status: str = self.health()["services"]["dynamodb"]
        except OSError:
            return None
        return status

    def wait_running(self, timeout: float = 60) -> None:
        def running() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the daemon exited:\n{self.log.read_text()}")
            return self.status() == "running"

        wait_for(running, timeout, "DynamoDB Local to run")

    def jvm_pid(self) -> int:
        """The pid of the daemon's JVM, from its pid file."""
        return int((self.state_dir / f"dynamodb-local.{self.process.pid}.pid").read_text())

    def jvm_url(self) -> str:
        """Where the daemon's DynamoDB Local listens, from its command line."""
        argv = Path(f"/proc/{self.jvm_pid()}/cmdline").read_bytes().split(b"\0")
        return f"http://127.0.0.1:{int(argv[argv.index(b'-port') + 1])}"

    def client(
        self,
        service: str,
        account: str,
        region: str,
        url: str | None = None,
        attempts: int = 1,
        validate: bool = True,
    ) -> Any:
        """
        A boto3 client of the daemon (or ``url``) that tries each request
        ``attempts`` times, and checks requests against the model if ``validate``.
        """
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=url or self.url,
            region_name=region,
            aws_access_key_id=account,
            aws_secret_access_key="secret",
            config=Config(
                retries={"mode": "standard", "total_max_attempts": attempts},
                parameter_validation=validate,
            ),
        )

    def stop(self) -> None:
        """SIGTERM, and wait for the daemon (and so its JVM) to be gone."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: the daemon cannot stop its JVM."""
        self.process.kill()
        self.process.wait()


def restartable_daemon(case: SynchronousTestCase, data: Path) -> Callable[[], DynamoDBDaemon]:
    """
    A function that starts, at each call, a daemon serving DynamoDB with its
    state in *data*, stopped when *case* ends: a test stops one and starts
    the next to see what outlives a restart.
    """
    require_dynamodb_local()
    log = Path(case.mktemp() + ".log").absolute()

    def start() -> DynamoDBDaemon:
        daemon = DynamoDBDaemon(log, "--services", "dynamodb", data_dir=data)
        case.addCleanup(daemon.stop)
        daemon.wait_running()
        return daemon

    return start


@functools.cache
def shared_daemon() -> DynamoDBDaemon:
    """
    One daemon (and JVM) for the tests that only need one running, started
    on first use and stopped when the test run ends: trial has no per-class
    fixtures, and a JVM per test would cost seconds each.
    """
    require_dynamodb_local()
    daemon = DynamoDBDaemon(Path("shared-dynamodb-daemon.log").absolute(), "--services", "dynamodb")
    atexit.register(daemon.stop)
    daemon.wait_running()
    return daemon
