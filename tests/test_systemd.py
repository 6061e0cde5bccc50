"""
The systemd units shipped in ``contrib/systemd``: checked by
``systemd-analyze verify``, and the service's own command line run under
``systemd-socket-activate``, which passes it the socket as systemd would.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.daemon import ROOT, TWISTD, free_port, twistd_exit

UNITS = ROOT / "contrib" / "systemd"


REQUIRED_VARIABLE = "AWSEMU_REQUIRE_SYSTEMD"


def tool(name: str) -> str:
    """
    A systemd tool's path; skipped without it (``apt-get install systemd``),
    or failed when ``AWSEMU_REQUIRE_SYSTEMD`` is set (CI sets it).
    """
    found = shutil.which(name)
    if found is None:
        reason = f"{name} is not installed (apt-get install systemd)"
        if os.environ.get(REQUIRED_VARIABLE):
            raise AssertionError(f"{REQUIRED_VARIABLE} is set but {reason}")
        raise SkipTest(reason)
    return found


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


def exec_start() -> list[str]:
    """The service's command line, as systemd splits it."""
    text = unit("awsemu.service")["Service"]["ExecStart"]
    return shlex.split(text.replace("\\\n", " "))


def runnable(argv: list[str], state: Path) -> list[str]:
    """
    ``argv`` run from this source tree: this Python instead of the
    installed twistd, and a temporary directory for ``/var/lib``,
    ``/var/cache`` and ``/etc``.
    """
    plugin = argv.index("awsemu")
    rest = [
        argument.replace("/var/lib/awsemu", str(state / "lib"))
        .replace("/var/cache/awsemu", str(state / "cache"))
        .replace("/etc/awsemu", str(state / "etc"))
        for argument in argv[plugin + 1 :]
    ]
    return [*TWISTD, *argv[1:plugin], "awsemu", *rest]


class UnitTests(SynchronousTestCase):
    def test_verify(self) -> None:
        """``systemd-analyze verify`` finds nothing wrong with either unit."""
        analyze = tool("systemd-analyze")
        directory = Path(self.mktemp())
        directory.mkdir()
        twistd = shutil.which("twistd") or sys.executable
        service = (UNITS / "awsemu.service").read_text()
        # verify checks that the command exists; twistd is elsewhere here.
        (directory / "awsemu.service").write_text(
            service.replace("/usr/local/bin/twistd", os.path.realpath(twistd))
        )
        shutil.copy(UNITS / "awsemu.socket", directory)
        done = subprocess.run(
            [
                analyze,
                "verify",
                str(directory / "awsemu.socket"),
                str(directory / "awsemu.service"),
            ],
            capture_output=True,
            text=True,
        )
        self.assertEqual((done.returncode, done.stdout + done.stderr), (0, ""))

    def test_settings(self) -> None:
        """The service runs as its own account, hardened, restarted on failure."""
        service = unit("awsemu.service")["Service"]
        for name, value in [
            ("User", "awsemu"),
            ("Group", "awsemu"),
            ("StateDirectory", "awsemu"),
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("ProtectHome", "yes"),
            ("PrivateTmp", "yes"),
            ("Restart", "on-failure"),
        ]:
            self.assertEqual(service[name], value, name)
        argv = exec_start()
        self.assertEqual(argv[argv.index("--auth") + 1], "enforce")
        self.assertEqual(argv[argv.index("--credentials") + 1], "/etc/awsemu/credentials")
        self.assertEqual(service["StateDirectoryMode"], "0700")
        self.assertEqual(argv[argv.index("--port") + 1], "systemd:domain=INET:name=awsemu")
        self.assertEqual(unit("awsemu.socket")["Socket"]["FileDescriptorName"], "awsemu")


class SocketActivationTests(SynchronousTestCase):
    def test_first_connection(self) -> None:
        """
        Under ``systemd-socket-activate`` (the socket passed by name, the
        daemon started by the first connection), the unit's command line
        answers that first connection.
        """
        activate = tool("systemd-socket-activate")
        state = Path(self.mktemp()).resolve()
        (state / "etc").mkdir(parents=True)
        (state / "etc" / "credentials").write_text(
            "[team]\naws_access_key_id = AKIATEAM\naws_secret_access_key = secret\n"
        )
        port = free_port()
        process = subprocess.Popen(
            [
                activate,
                "--listen",
                f"127.0.0.1:{port}",
                "--fdname=awsemu",
                "-E",
                "AWSEMU_SERVICES=sts",
                *runnable(exec_start(), state),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.addCleanup(self.stop, process)
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_awsemu/health", timeout=30
                ) as response:
                    self.assertEqual(response.status, 200)
                    self.assertIn(b'"sts": "running"', response.read())
                    break
            except urllib.error.URLError as e:
                # systemd-socket-activate has not bound the port yet.
                self.assertIsInstance(e.reason, ConnectionRefusedError)
                self.assertLess(time.monotonic(), deadline, process.stdout)
                time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_awsemu/info") as response:
            config = json.load(response)["config"]
        self.assertEqual(
            (config["port"], config["data-dir"], config["cache-dir"]),
            ("systemd:domain=INET:name=awsemu", str(state / "lib"), str(state / "cache")),
        )

    def stop(self, process: subprocess.Popen[str]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def test_no_socket(self) -> None:
        """Started without the socket, the daemon says so in one line, not with IndexError."""
        status, output = twistd_exit(["--port", "systemd:domain=INET:name=awsemu"])
        self.assertEqual(status, 1)
        self.assertEqual(
            output,
            "twistd awsemu: --port: 'systemd:domain=INET:name=awsemu': systemd passed no"
            " socket (LISTEN_FDS is not set for this process); start awsemu from its .socket"
            " unit (or systemd-socket-activate), or listen on a port with --port 4566"
            " (see: twistd awsemu --help)\n",
        )
