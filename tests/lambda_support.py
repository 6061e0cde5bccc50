"""
What the Lambda tests share: real deployment packages, and real daemons
(one per executor and module run, started on first use, stopped at exit)
with real boto3 clients.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Mapping
from typing import Any

import attrs
import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from twisted.internet.defer import Deferred, succeed
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from awsemu.lambda_.functions import Function, Scope, Version
from awsemu.lambda_.invocations import Invocation, Outcome
from tests.daemon import ROOT, TWISTD, free_port

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
IMAGE = os.environ.get("AWSEMU_LAMBDA_IMAGE", "awsemu/lambda-python:3.11")
#: A role trust policy letting Lambda assume the role.
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
"""The image ci/lambda-image.sh builds, run for python runtimes in the Docker tests."""

APP = """
import json
import os
import sys
import time

import vendored


def echo(event, context):
    print("event", json.dumps(event))
    custom = context.client_context.custom if context.client_context else None
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(),
        "client_context": custom,
        "vendored": vendored.VALUE,
        "environment": dict(os.environ),
    }


def fail(event, context):
    raise ValueError("boom")


def sleep(event, context):
    time.sleep(event.get("seconds", 5))
    return os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]


def crash(event, context):
    sys.stdout.flush()
    os._exit(3)


def noop(event, context):
    return None


def big(event, context):
    return "x" * (7 * 1024 * 1024)
"""


def zipped(files: Mapping[str, str | bytes]) -> bytes:
    """A deployment package holding ``files``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


PACKAGE = zipped(
    {
        "app.py": APP,
        "vendored/__init__.py": "VALUE = 42\n",
        "broken.py": "import not_a_module\n",
    }
)
"""The test functions: a handler module with a vendored dependency, and one that cannot import."""


class LambdaDaemon:
    """``twistd -n awsemu`` serving Lambda, Logs and S3 with a data directory, logging to a file."""

    def __init__(self, *arguments: str) -> None:
        self.directory = tempfile.mkdtemp(prefix="awsemu-lambda-test-")
        # Functions may run as another user: they must reach their code.
        os.chmod(self.directory, 0o755)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.arguments = arguments
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LambdaDaemon:
        self.process = subprocess.Popen(
            [
                *TWISTD,
                "-n",
                "--pidfile=",
                f"--logfile={self.directory}/twistd.log",
                "awsemu",
                "--services",
                "lambda,logs,s3",
                "--data-dir",
                f"{self.directory}/data",
                "--port",
                f"tcp:{self.port}:interface=127.0.0.1",
                "--lambda-retry-delay",
                "0.2",
                *self.arguments,
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/_awsemu/health", timeout=2) as answer:
                    if b'"lambda": "running"' in answer.read():
                        return self
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"the daemon exited:\n{self.log()}")
            time.sleep(0.05)
        raise RuntimeError(f"Lambda did not start:\n{self.log()}")

    def log(self) -> str:
        try:
            with open(f"{self.directory}/twistd.log") as log:
                return log.read()
        except OSError:
            return ""

    def stop(self) -> int | None:
        """SIGTERM and wait (the daemon stops every environment first); the exit status."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        return None if process is None else process.returncode

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def client(self, service: str = "lambda", key_id: str = "test", **config: Any) -> Any:
        """A client of the daemon; a 12-digit ``key_id`` names the account it calls as."""
        return boto3.session.Session().client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key_id,
            aws_secret_access_key="test",
            config=BotoConfig(
                retries={"max_attempts": 1}, read_timeout=60, max_pool_connections=20, **config
            ),
        )


_shared: dict[tuple[str, ...], LambdaDaemon] = {}


def shared_daemon(*arguments: str) -> LambdaDaemon:
    """The daemon run with ``arguments``, started on first use and stopped at exit."""
    daemon = _shared.get(arguments)
    if daemon is None:
        daemon = _shared[arguments] = LambdaDaemon(*arguments).start()
        atexit.register(daemon.remove)
    return daemon


def docker_missing() -> str | None:
    """Why the Docker tests cannot run here (no engine, no image), or None if they can."""
    try:
        import docker

        client = docker.from_env()
        try:
            client.ping()
            client.images.get(IMAGE)
        finally:
            client.close()
    except Exception as e:
        return f"no Docker engine or no {IMAGE} image ({type(e).__name__}: {e})"
    return None


def require_docker() -> None:
    """Skip unless Docker can run; with ``AWSEMU_REQUIRE_DOCKER`` set, fail instead."""
    reason = docker_missing()
    if reason is None:
        return
    if os.environ.get("AWSEMU_REQUIRE_DOCKER"):
        raise AssertionError(f"AWSEMU_REQUIRE_DOCKER is set but {reason}")
    raise SkipTest(reason)


def labelled_containers() -> list[Any]:
    import docker

    client = docker.from_env()
    try:
        return list(client.containers.list(all=True, filters={"label": "awsemu"}))
    finally:
        client.close()


class LambdaTestCase(SynchronousTestCase):
    """A test against a shared daemon, with fresh function names."""

    arguments: tuple[str, ...] = ("--lambda-executor", "process")

    def setUp(self) -> None:
        self.daemon = shared_daemon(*self.arguments)
        self.client = self.daemon.client()

    def name(self) -> str:
        return f"f-{uuid.uuid4().hex[:12]}"

    def create(self, handler: str = "app.echo", **params: Any) -> str:
        name = params.pop("FunctionName", None) or self.name()
        self.client.create_function(
            FunctionName=name,
            Runtime=params.pop("Runtime", "python3.11"),
            Role=ROLE,
            Handler=handler,
            Code=params.pop("Code", {"ZipFile": PACKAGE}),
            **params,
        )
        return name

    def log_starts(self, name: str, expected: int) -> int:
        """How many invocations the function's log shows once it shows ``expected`` (or 10 s)."""
        logs = self.daemon.client("logs")

        def count() -> int:
            try:
                events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
            except ClientError:
                return 0
            return sum(event["message"].startswith("START ") for event in events)

        deadline = time.monotonic() + 10
        while count() < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        return count()


class DockerExecutor(SynchronousTestCase):
    """
    Put first among a test case's bases: its daemon runs functions in Docker
    with the test image, and its tests skip (or fail, under CI) without Docker.
    """

    arguments: tuple[str, ...] = (
        "--lambda-executor",
        "docker",
        "--lambda-image",
        f"python3.11={IMAGE}",
    )

    def setUp(self) -> None:
        require_docker()
        super().setUp()


@attrs.define
class Answering:
    """An invoker answering every invocation with ``payload``, recording the events."""

    payload: bytes
    function_error: str | None = None
    events: list[Any] = attrs.field(factory=list)

    def invoke(
        self, scope: Scope, function: Function, version: Version, invocation: Invocation
    ) -> Deferred[Outcome]:
        self.events.append(json.loads(invocation.payload))
        return succeed(Outcome(self.payload, self.function_error))

    def retire(self, scope: Scope, name: str, version: str | None) -> None:
        pass
