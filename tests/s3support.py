"""
What the S3 integration tests share: a real daemon in its own process on
a free loopback port (one per test module run, started on first use), and
real boto3 clients talking to it.
"""

from __future__ import annotations

import atexit
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import boto3
from botocore.client import BaseClient
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from awsemu.testing import free_port

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The repository, whose ``twisted/plugins`` holds the ``awsemu`` twistd plugin."""


@attrs.define
class Daemon:
    """``twistd -n awsemu --services s3`` as a child process."""

    arguments: Sequence[str] = ()
    port: int = attrs.Factory(free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Daemon:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from twisted.scripts.twistd import run; run()",
                "-n",
                "--pidfile=",
                "--logfile=/dev/null",
                "awsemu",
                "--services",
                "s3",
                "--port",
                f"tcp:{self.port}:interface=127.0.0.1",
                *self.arguments,
            ],
            stdin=subprocess.DEVNULL,
            cwd=_ROOT,
            env={**os.environ, "PYTHONPATH": _ROOT},
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the daemon did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, sig)
            self.process.wait(10)
        self.process = None


_shared: Daemon | None = None


def shared_daemon() -> Daemon:
    """The in-memory daemon every S3 test class shares."""
    global _shared
    if _shared is None:
        _shared = Daemon().start()
        atexit.register(_shared.stop)
    return _shared


def client(
    endpoint: str, *, region: str = "us-east-1", access_key: str = "test", **config: Any
) -> BaseClient:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=BotoConfig(
            retries={"max_attempts": 1}, read_timeout=15, connect_timeout=5, **config
        ),
    )


def enable_acls(s3: BaseClient, bucket: str, ownership: str = "ObjectWriter") -> None:
    """
    Turn ACLs back on for ``bucket``, as a user must on AWS since April 2023
    (new buckets have Object Ownership ``BucketOwnerEnforced``).
    """
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]}
    )


def kms_by_default(s3: BaseClient, bucket: str, key_id: str) -> None:
    """Make SSE-KMS with ``key_id`` and an S3 Bucket Key ``bucket``'s default encryption."""
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_id,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )


def allow_public(s3: BaseClient, bucket: str) -> None:
    """
    Let ``bucket`` take public ACLs and policies and honour them: remove its
    Block Public Access, on by default for new buckets since April 2023.
    """
    s3.delete_public_access_block(Bucket=bucket)


def raw(
    endpoint: str,
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One unsigned HTTP request: status, headers (lowercased names) and body."""
    connection = http.client.HTTPConnection(endpoint.removeprefix("http://"), timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


class S3TestCase(SynchronousTestCase):
    """A test against the shared daemon, with a fresh bucket name per use."""

    def daemon(self) -> Daemon:
        return shared_daemon()

    def setUp(self) -> None:
        self.endpoint = self.daemon().endpoint
        self.s3 = client(self.endpoint)

    def bucket_name(self) -> str:
        return f"test-{uuid.uuid4().hex[:20]}"

    def new_bucket(self, **params: Any) -> str:
        name = self.bucket_name()
        self.s3.create_bucket(Bucket=name, **params)
        return name

    def assertClientError(
        self, call: Callable[..., Any], code: str, status: int, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """``call(*args, **kwargs)`` fails with ``code`` and ``status``; the error document."""
        with self.assertRaises(ClientError) as raised:
            call(*args, **kwargs)
        response = raised.exception.response
        self.assertEqual(
            (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]),
            (code, status),
        )
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        self.assertIn("x-amz-request-id", headers)
        self.assertIn("x-amz-id-2", headers)
        error: dict[str, Any] = response["Error"]
        return error


class TwoAccountsTestCase(S3TestCase):
    """
    A fresh bucket of account ``owner_account`` holding ``objects``, with a
    client of it (``owner``) and of ``other_account`` (``other``).
    """

    owner_account = "111111111111"
    other_account = "222222222222"
    objects: dict[str, bytes] = {}

    def setUp(self) -> None:
        super().setUp()
        self.owner = client(self.endpoint, access_key=self.owner_account)
        self.other = client(self.endpoint, access_key=self.other_account)
        self.bucket = self.bucket_name()
        self.owner.create_bucket(Bucket=self.bucket)
        for key, body in self.objects.items():
            self.owner.put_object(Bucket=self.bucket, Key=key, Body=body)
