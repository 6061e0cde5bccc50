"""
A real ``twistd -n awsemu`` in a subprocess, for end-to-end tests with
real clients; stopped (and waited for) when the test ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from awsemu.testing import free_port as free_port

ROOT = Path(__file__).resolve().parent.parent
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def run_twistd(
    arguments: Sequence[str],
    environment: Mapping[str, str] | None = None,
    log_file: str | None = None,
) -> subprocess.Popen[str]:
    """
    Start ``twistd -n awsemu ARGUMENTS`` from the source tree; output is
    captured, or the log goes to ``log_file`` (for a daemon that logs more
    than a pipe holds).
    """
    logging = [] if log_file is None else [f"--logfile={log_file}"]
    return subprocess.Popen(
        [*TWISTD, "-n", *logging, "awsemu", *arguments],
        cwd=ROOT,
        env={**os.environ, **(environment or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def twistd_exit(
    arguments: Sequence[str], environment: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """Run ``twistd -n awsemu ARGUMENTS`` until it exits (within 30 s): its status and output."""
    process = run_twistd(arguments, environment)
    output, _ = process.communicate(timeout=30)
    return process.returncode, output


class Daemon:
    """A running daemon on a free loopback port."""

    output = ""

    def __init__(
        self, test: SynchronousTestCase, *arguments: str, log_file: str | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = run_twistd(
            ["--port", f"tcp:{self.port}:interface=127.0.0.1", *arguments], log_file=log_file
        )
        test.addCleanup(self.stop)
        self.wait_ready()

    def health(self) -> dict[str, object]:
        with urllib.request.urlopen(self.url + "/_awsemu/health", timeout=2) as response:
            document: dict[str, object] = json.load(response)
            return document

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read() if self.process.stdout else ""
                raise AssertionError(f"the daemon exited early:\n{output}")
            try:
                self.health()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the daemon did not start listening")

    def stop(self) -> int:
        """SIGTERM, as systemd does; the exit status (killed after 10 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout and not self.process.stdout.closed:
            self.output = self.process.stdout.read()
            self.process.stdout.close()
        return self.process.returncode

    def client(
        self,
        service: str,
        access_key_id: str = "test",
        region: str = "us-east-1",
        secret: str = "secret",
        token: str | None = None,
    ) -> object:
        """A boto3 client of this daemon; the secret matters for keys the daemon knows."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
        )
