"""Tests for L{awsemu.cli}, the C{awsemu} command."""

from __future__ import annotations

import os
import sys
from io import StringIO
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu import __version__
from awsemu.cli import main
from tests.daemon import Daemon, free_port


class MainTests(SynchronousTestCase):
    """L{main} parses the command line and runs the command named."""

    def setUp(self) -> None:
        self.stdout = StringIO()
        self.stderr = StringIO()
        self.patch(sys, "stdout", self.stdout)
        self.patch(sys, "stderr", self.stderr)

    def test_version(self) -> None:
        """C{--version} prints the name and version and exits successfully."""
        e = self.assertRaises(SystemExit, main, ["--version"])
        self.assertEqual(e.code, 0)
        self.assertEqual(self.stdout.getvalue(), f"awsemu {__version__}\n")

    def test_unknown_command(self) -> None:
        """A command that does not exist is a usage error."""
        e = self.assertRaises(SystemExit, main, ["frobnicate"])
        self.assertEqual(e.code, 2)
        self.assertIn("invalid choice: 'frobnicate'", self.stderr.getvalue())

    def test_no_command(self) -> None:
        """Naming no command is a usage error."""
        e = self.assertRaises(SystemExit, main, [])
        self.assertEqual(e.code, 2)
        self.assertIn("required: COMMAND", self.stderr.getvalue())


class DaemonCommandTests(SynchronousTestCase):
    """C{awsemu status}, C{reset} and C{version} against a real daemon."""

    def run_cli(self, *argv: str) -> tuple[int, str, str]:
        out, err = StringIO(), StringIO()
        self.patch(sys, "stdout", out)
        self.patch(sys, "stderr", err)
        status = main(list(argv))
        return status, out.getvalue(), err.getvalue()

    def test_commands(self) -> None:
        """Status lists the services, reset forgets state, version names both versions."""
        daemon = Daemon(self, "--services", "s3,sts")
        s3: Any = daemon.client("s3")
        s3.create_bucket(Bucket="cli-bucket")
        status, out, _ = self.run_cli("status", "--endpoint-url", daemon.url)
        self.assertEqual(status, 0)
        lines = out.splitlines()
        self.assertRegex(
            lines[0], rf"^awsemu {__version__} at {daemon.url}, up \d+s, state in memory$"
        )
        self.assertEqual(lines[1:], ["  s3           running", "  sts          running"])
        self.patch(os, "environ", {**os.environ, "AWS_ENDPOINT_URL": daemon.url})
        status, out, _ = self.run_cli("reset", "--service", "s3")
        self.assertEqual(status, 0)
        self.assertRegex(out, r"^reset s3 in \d+ ms\n$")
        self.assertEqual(s3.list_buckets()["Buckets"], [])
        status, out, _ = self.run_cli("version")
        self.assertEqual(
            (status, out),
            (0, f"awsemu {__version__}\ndaemon at {daemon.url}: awsemu {__version__}\n"),
        )
        status, _, err = self.run_cli("reset", "--service", "lambda")
        self.assertEqual(status, 1)
        self.assertEqual(
            err, "awsemu: no service lambda keeps state here (services that do: s3, sts)\n"
        )

    def test_no_daemon(self) -> None:
        """Without a daemon, status fails with one line saying how to start one."""
        url = f"http://127.0.0.1:{free_port()}"
        status, out, err = self.run_cli("status", "--endpoint-url", url)
        self.assertEqual((status, out), (1, ""))
        self.assertTrue(err.startswith(f"awsemu: no awsemu answers at {url} ("), err)
        self.assertTrue(err.endswith("start one with `twistd -n awsemu`, or pass --endpoint-url\n"))
        self.assertEqual(
            self.run_cli("version", "--endpoint-url", url)[:2], (0, f"awsemu {__version__}\n")
        )
