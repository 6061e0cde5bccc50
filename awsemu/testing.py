"""
awsemu for your own tests: one daemon for the whole test run, its state
forgotten before each test.

With pytest (``pip install awsemu pytest``), the plugin is loaded by its
entry point, or by name with ``pytest -p awsemu.testing``; a test asks for
the ``awsemu`` fixture::

    def test_upload(awsemu):
        s3 = boto3.client("s3")          # AWS_ENDPOINT_URL points at awsemu
        s3.create_bucket(Bucket="uploads")
        ...

With trial or unittest, a test case derives from ``AwsemuTestCase`` and
finds the daemon in ``self.awsemu``.

The daemon is a ``twistd -n awsemu`` subprocess on a free loopback port,
started on first use and stopped when the test process exits. A
subprocess, not a reactor in a thread of the test process: the tests keep
their own reactor (trial's, or none), a crashing test cannot take the
emulator with it, and Lambda, DynamoDB Local and their child processes
are reaped with it. Starting one costs about a second (most of it the
services' imports and DynamoDB Local's JVM); the reset before each test
takes milliseconds (``POST /_awsemu/reset``).

Each test runs with ``AWS_ENDPOINT_URL`` set to the daemon and test
credentials (``test``/``test``, ``us-east-1``), so SDKs and the AWS CLI
reach awsemu with no code change. The daemon takes its settings from the
``AWSEMU_*`` variables of the test process (``AWSEMU_SERVICES=s3,dynamodb``
starts fewer services; ``AWSEMU_LAMBDA_IMAGE`` names local images).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

#: The variables each test runs with: SDKs and the AWS CLI read them.
TEST_CREDENTIALS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
#: Variables that would send SDKs elsewhere (profiles, sessions), unset for each test.
_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
#: How long a daemon may take to settle (DynamoDB Local's JVM, a Docker engine).
START_TIMEOUT = 120.0
_READY = re.compile(r"\] awsemu \S+ ready in ")
_TWISTD = ("-c", "from twisted.scripts.twistd import run; run()")


class DaemonFailed(RuntimeError):
    """The daemon exited, or did not become ready; the message has its log."""


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@attrs.define
class AwsemuDaemon:
    """
    A running ``twistd -n awsemu`` on a loopback port.

    @ivar endpoint_url: Where clients reach it (``AWS_ENDPOINT_URL``).
    @ivar log: The file its log goes to, for a test that wants to look.
    """

    process: subprocess.Popen[bytes]
    endpoint_url: str
    log: Path

    @classmethod
    def start(cls, arguments: Sequence[str] = (), timeout: float = START_TIMEOUT) -> AwsemuDaemon:
        """
        Start a daemon with ``arguments`` (``twistd awsemu`` options) and
        return once every service has settled, as its start line says.
        """
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = Path(tempfile.mkstemp(prefix="awsemu-", suffix=".log")[1])
        # The source tree (or site-packages) holding awsemu also holds its
        # twistd plugin; a checkout run without installing needs it on the path.
        source = str(Path(__file__).resolve().parent.parent)
        path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    *_TWISTD,
                    "-n",
                    "awsemu",
                    "--port",
                    f"tcp:{port}:interface=127.0.0.1",
                    *arguments,
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": path},
                start_new_session=True,
            )
        daemon = cls(process, url, log)
        daemon._wait_ready(timeout)
        return daemon

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if _READY.search(text):
                return
            if self.process.poll() is not None:
                raise DaemonFailed(f"awsemu exited ({self.process.returncode}):\n{text}")
            time.sleep(0.02)
        self.stop()
        raise DaemonFailed(f"awsemu was not ready within {timeout:.0f}s:\n{self.output()}")

    def output(self) -> str:
        """Everything the daemon logged so far."""
        return self.log.read_text(errors="replace")

    def _call(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(self.endpoint_url + path, method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def reset(self, services: Sequence[str] = ()) -> None:
        """Forget the state of every service (or of ``services``)."""
        query = f"?service={','.join(services)}" if services else ""
        self._call("/_awsemu/reset" + query, "POST")

    def state(self) -> dict[str, Any]:
        """Every resource held, by account, region, service and kind."""
        document: dict[str, Any] = self._call("/_awsemu/state")["accounts"]
        return document

    def health(self) -> dict[str, Any]:
        """The health document: each service's state."""
        document: dict[str, Any] = self._call("/_awsemu/health")
        return document

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client of ``service`` for this daemon, with test credentials."""
        import boto3

        settings: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": TEST_CREDENTIALS["AWS_DEFAULT_REGION"],
            "aws_access_key_id": TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }
        return boto3.client(service, **{**settings, **kwargs})

    def environment(self) -> dict[str, str]:
        """The variables a test runs with: the endpoint and test credentials."""
        return {"AWS_ENDPOINT_URL": self.endpoint_url, **TEST_CREDENTIALS}

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (its services stop their processes and containers), then wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


_shared: list[AwsemuDaemon] = []


def shared_daemon() -> AwsemuDaemon:
    """This process's daemon: started on first use, stopped when the process exits."""
    if not _shared or _shared[0].process.poll() is not None:
        _shared[:] = [AwsemuDaemon.start()]
        atexit.register(_shared[0].stop)
    return _shared[0]


@contextmanager
def patched_environment(daemon: AwsemuDaemon) -> Iterator[None]:
    """Run what follows the ``yield`` with ``daemon.environment()``, then restore."""
    saved = {name: os.environ.get(name) for name in [*daemon.environment(), *_UNSET]}
    for name in _UNSET:
        os.environ.pop(name, None)
    os.environ.update(daemon.environment())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class AwsemuTestCase(unittest.TestCase):
    """
    A trial or unittest test case with ``self.awsemu``, the process's
    daemon, reset before each test and named by ``AWS_ENDPOINT_URL``
    (with test credentials) while the test runs.
    """

    awsemu: AwsemuDaemon

    def setUp(self) -> None:
        super().setUp()
        self.awsemu = shared_daemon()
        self.awsemu.reset()
        self.enterContext(patched_environment(self.awsemu))


try:
    import pytest
except ImportError:  # The trial/unittest helper needs no pytest.
    pass
else:

    @pytest.fixture(scope="session")
    def awsemu_daemon() -> Iterator[AwsemuDaemon]:
        """The test session's daemon, stopped when the session ends."""
        daemon = AwsemuDaemon.start()
        yield daemon
        daemon.stop()

    @pytest.fixture
    def awsemu(awsemu_daemon: AwsemuDaemon) -> Iterator[AwsemuDaemon]:
        """
        The session's daemon, its state reset, with ``AWS_ENDPOINT_URL``
        and test credentials set while the test runs.
        """
        awsemu_daemon.reset()
        with patched_environment(awsemu_daemon):
            yield awsemu_daemon
