"""
End to end: the real ``twistd -n awsemu`` process answering real boto3
clients, its options, and its shutdown.
"""

from __future__ import annotations

import logging
import signal
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from awsemu import __version__
from tests.daemon import ROOT, Daemon, free_port, twistd_exit
from tests.dynamodb_support import require_dynamodb_local


@contextmanager
def capture_warnings() -> Iterator[list[str]]:
    """Python warnings and botocore's logged warnings raised inside the block."""
    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("botocore")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield found
        found.extend(str(warning.message) for warning in caught)
    finally:
        logger.removeHandler(handler)


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
        self.assertEqual(
            error["Error"]["Message"],
            "The service iam is not enabled in this awsemu (enabled: sts).",
        )
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 501)
        # The daemon still serves.
        self.assertEqual(daemon.client("sts").get_caller_identity()["Account"], "000000000000")  # type: ignore[attr-defined]

    def test_services_not_emulated(self) -> None:
        """
        A client of a service awsemu does not emulate gets a ``NotImplemented``
        error saying so, in that service's own protocol (JSON, query, CBOR,
        EC2's), which botocore parses without a warning and does not retry.
        """
        daemon = Daemon(self, "--services", "sts,s3")
        calls: list[tuple[str, str, str, dict[str, Any]]] = [
            ("ssm", "SSM", "get_parameter", {"Name": "p"}),
            ("secretsmanager", "Secrets Manager", "get_secret_value", {"SecretId": "s"}),
            ("sqs", "SQS", "create_queue", {"QueueName": "q"}),
            ("sns", "SNS", "create_topic", {"Name": "t"}),
            ("kms", "KMS", "create_key", {}),
            ("kinesis", "Kinesis", "list_streams", {}),
            ("cloudformation", "CloudFormation", "list_stacks", {}),
            ("cloudwatch", "CloudWatch", "list_metrics", {}),
            ("ec2", "EC2", "describe_instances", {}),
        ]
        answers = []
        with capture_warnings() as warned:
            for service, _, method, params in calls:
                client: Any = daemon.client(service)
                with self.assertRaises(ClientError) as raised:
                    getattr(client, method)(**params)
                error = raised.exception.response
                answers.append(
                    (
                        service,
                        error["Error"]["Code"],
                        error["Error"]["Message"],
                        error["ResponseMetadata"]["HTTPStatusCode"],
                        error["ResponseMetadata"]["RetryAttempts"],
                    )
                )
        self.assertEqual(
            answers,
            [
                (
                    service,
                    "NotImplemented",
                    f"awsemu does not emulate {service_id} ({service}); it serves: s3, sts.",
                    501,
                    0,
                )
                for service, service_id, _, _ in calls
            ],
        )
        self.assertEqual(warned, [])

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
        status, output = twistd_exit(
            ["--port", f"tcp:{port}:interface=127.0.0.1"],
            {"AWSEMU_SERVICES": "nosuch"},
        )
        self.assertNotEqual(status, 0)
        self.assertIn("unknown service nosuch", output)

    def test_start_report(self) -> None:
        """
        Once every service has settled, one line says what runs; no pid
        file is left in the working directory.
        """
        daemon = Daemon(self, "--services", "s3,sts")
        boto = daemon.client("s3")
        boto.create_bucket(Bucket="report")  # type: ignore[attr-defined]
        daemon.stop()
        (line,) = [line for line in daemon.output.splitlines() if " ready in " in line]
        self.assertRegex(
            line,
            rf"\[awsemu\.daemon#info\] awsemu {__version__} ready in [0-9.]+s on"
            rf" tcp:{daemon.port}:interface=127\.0\.0\.1, state in memory only"
            r" \(--data-dir keeps it\); services: s3, sts$",
        )
        self.assertFalse((ROOT / "twistd.pid").exists())

    def test_no_factory_lines(self) -> None:
        """The connections to DynamoDB Local are not logged one by one."""
        require_dynamodb_local()
        daemon = Daemon(self, "--services", "dynamodb")
        dynamodb: Any = daemon.client("dynamodb")
        for _ in range(3):
            dynamodb.list_tables()
        daemon.stop()
        self.assertIn("dynamodb ListTables - 200", daemon.output)
        self.assertNotIn("factory", daemon.output)

    def test_port_in_use(self) -> None:
        """A port in use is one line naming the fix and a non-zero exit, no traceback."""
        daemon = Daemon(self, "--services", "sts")
        status, output = twistd_exit(["--port", f"tcp:{daemon.port}:interface=127.0.0.1"])
        self.assertEqual(status, 1)
        self.assertIn(
            f"awsemu: cannot listen on tcp:{daemon.port}:interface=127.0.0.1 (Address already"
            " in use): another awsemu or LocalStack may hold it; stop it or choose another --port",
            output,
        )
        self.assertNotIn("Traceback", output)

    def test_bad_option(self) -> None:
        """A bad option value is a one-line usage error and a non-zero exit, not a traceback."""
        status, output = twistd_exit(["--region", "nowhere"])
        self.assertNotEqual(status, 0)
        self.assertEqual(
            output,
            "twistd awsemu: --region: 'nowhere' is not an AWS region name such as us-east-1"
            " (see: twistd awsemu --help)\n",
        )
