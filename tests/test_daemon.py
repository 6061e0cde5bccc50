"""
End to end: the real ``twistd -n awsemu`` process answering real boto3
clients, its options, and its shutdown.
"""

from __future__ import annotations

import signal
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from awsemu import __version__
from tests.daemon import Daemon, free_port, run_twistd


class DaemonTests(SynchronousTestCase):
    def test_caller_identity(self) -> None:
        """
        STS GetCallerIdentity through boto3: a 12-digit access key is the
        account, any other key is the default account.
        """
        daemon = Daemon(self, "--services", "sts")
        sts: Any = daemon.client("sts", access_key_id="123456789012")
        identity = sts.get_caller_identity()
        self.assertEqual(identity["Account"], "123456789012")
        self.assertEqual(identity["UserId"], "123456789012")
        self.assertEqual(identity["Arn"], "arn:aws:iam::123456789012:root")
        self.assertRegex(identity["ResponseMetadata"]["RequestId"], "^[0-9a-f-]{36}$")
        other: Any = daemon.client("sts", access_key_id="AKIAIOSFODNN7EXAMPLE")
        self.assertEqual(other.get_caller_identity()["Account"], "000000000000")
        self.assertEqual(
            daemon.health(),
            {"services": {"sts": "running"}, "edition": "awsemu", "version": __version__},
        )

    def test_service_not_enabled(self) -> None:
        """A client of a service that is not enabled gets an AWS error botocore parses."""
        daemon = Daemon(self, "--services", "sts")
        iam: Any = daemon.client("iam")
        with self.assertRaises(ClientError) as raised:
            iam.list_roles()
        error = raised.exception.response
        self.assertEqual(error["Error"]["Code"], "NotImplemented")
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 501)
        # The daemon still serves.
        self.assertEqual(daemon.client("sts").get_caller_identity()["Account"], "000000000000")  # type: ignore[attr-defined]

    def test_sigterm(self) -> None:
        """
        SIGTERM stops every service and the reactor cleanly; twistd then
        exits by that signal, which systemd counts as a clean stop.
        """
        daemon = Daemon(self, "--services", "sts")
        self.assertEqual(daemon.stop(), -signal.SIGTERM)
        self.assertIn("Received SIGTERM, shutting down.", daemon.output)
        self.assertIn("Main loop terminated.", daemon.output)
        self.assertNotIn("Traceback", daemon.output)

    def test_environment(self) -> None:
        """``AWSEMU_*`` variables stand in for options left out."""
        port = free_port()
        process = run_twistd(
            ["--port", f"tcp:{port}:interface=127.0.0.1"],
            {"AWSEMU_SERVICES": "nosuch"},
        )
        output, _ = process.communicate(timeout=30)
        self.assertNotEqual(process.returncode, 0)
        self.assertIn("unknown service nosuch", output)

    def test_bad_option(self) -> None:
        """A bad option value is a one-line usage error and a non-zero exit, not a traceback."""
        process = run_twistd(["--region", "nowhere"])
        output, _ = process.communicate(timeout=30)
        self.assertNotEqual(process.returncode, 0)
        self.assertIn("'nowhere' is not an AWS region name", output)
        self.assertNotIn("Traceback", output)
