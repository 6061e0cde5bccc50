"""
Memory a large object took goes back to the system when it is deleted:
the daemon's resident set after a PUT and DELETE of 64 MiB (with boto3's
defaults: aws-chunked with a CRC32 trailer; and as a plain Content-Length
PUT) is back within 10 MiB of what it was before (issue 20). A real
daemon, so the allocator is the real one.
"""

# trial's assertions carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.daemon import Daemon

MIB = 1024 * 1024


def resident(pid: int) -> int:
    """VmRSS of ``pid``, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


class LargeObjectMemoryTests(SynchronousTestCase):
    #: boto3's S3 client (untyped).
    api: Any

    def setUp(self) -> None:
        self.daemon = Daemon(self, "--services", "s3")
        self.api = self.daemon.client("s3")
        self.api.create_bucket(Bucket="memory")
        # Warm up what stays loaded anyway: models, awscrt, first buffers.
        self.api.put_object(Bucket="memory", Key="warm", Body=os.urandom(2 * MIB))
        self.api.get_object(Bucket="memory", Key="warm")["Body"].read()
        self.api.delete_object(Bucket="memory", Key="warm")

    def assertGivenBack(self, put: Callable[[bytes], None]) -> None:
        """After ``put`` of 64 MiB, a GET and a DELETE, the RSS is back within 10 MiB."""
        pid = self.daemon.process.pid
        before = resident(pid)
        body = os.urandom(64 * MIB)
        put(body)
        self.assertEqual(self.api.get_object(Bucket="memory", Key="big")["Body"].read(), body)
        held = resident(pid)
        self.api.delete_object(Bucket="memory", Key="big")
        # The object was held while stored; once deleted, its memory goes back.
        self.assertGreater(held - before, 32 * MIB)
        self.assertBackTo(before)

    def assertBackTo(self, before: int) -> None:
        """The RSS comes back within 10 MiB of ``before`` (polled: nothing depends on how fast)."""
        pid = self.daemon.process.pid
        deadline = time.monotonic() + 10
        after = resident(pid)
        while after - before > 10 * MIB and time.monotonic() < deadline:
            time.sleep(0.2)
            after = resident(pid)
        self.assertLessEqual(
            after - before, 10 * MIB, f"RSS {before / MIB:.0f} → {after / MIB:.0f} MiB"
        )

    def test_boto3_defaults(self) -> None:
        self.assertGivenBack(
            lambda body: self.api.put_object(Bucket="memory", Key="big", Body=body)
        )

    def test_content_length_put(self) -> None:
        def put(body: bytes) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=60)
            try:
                connection.request("PUT", "/memory/big", body=body)
                self.assertEqual(connection.getresponse().status, 200)
            finally:
                connection.close()

        self.assertGivenBack(put)

    def test_abandoned_upload(self) -> None:
        """A client that leaves halfway through 64 MiB leaves no memory behind, nor an object."""
        before = resident(self.daemon.process.pid)
        with socket.create_connection(("127.0.0.1", self.daemon.port)) as connection:
            connection.sendall(b"PUT /memory/big HTTP/1.1\r\nHost: h\r\n")
            connection.sendall(b"Content-Length: %d\r\n\r\n" % (64 * MIB))
            connection.sendall(os.urandom(32 * MIB))
        self.assertBackTo(before)
        self.assertEqual(self.api.list_objects_v2(Bucket="memory")["KeyCount"], 0)
