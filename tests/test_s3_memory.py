"""
Memory a large object took goes back to the system when it is deleted:
the daemon's resident set after a PUT and DELETE of 64 MiB (boto3's
defaults: aws-chunked with a CRC32 trailer) is back within 10 MiB of what
it was before (issue 20). A real daemon, so the allocator is the real one.
"""

# trial's assertions carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import os
import time
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
    def test_memory_returns_after_delete(self) -> None:
        daemon = Daemon(self, "--services", "s3")
        s3: Any = daemon.client("s3")
        s3.create_bucket(Bucket="memory")
        # Warm up what stays loaded anyway: models, awscrt, first buffers.
        s3.put_object(Bucket="memory", Key="warm", Body=os.urandom(2 * MIB))
        s3.get_object(Bucket="memory", Key="warm")["Body"].read()
        s3.delete_object(Bucket="memory", Key="warm")
        before = resident(daemon.process.pid)
        body = os.urandom(64 * MIB)
        s3.put_object(Bucket="memory", Key="big", Body=body)
        self.assertEqual(s3.get_object(Bucket="memory", Key="big")["Body"].read(), body)
        held = resident(daemon.process.pid)
        s3.delete_object(Bucket="memory", Key="big")
        # The object was held while stored; once deleted, its memory goes
        # back (polled: nothing here depends on how fast).
        self.assertGreater(held - before, 32 * MIB)
        deadline = time.monotonic() + 10
        after = resident(daemon.process.pid)
        while after - before > 10 * MIB and time.monotonic() < deadline:
            time.sleep(0.2)
            after = resident(daemon.process.pid)
        self.assertLessEqual(
            after - before, 10 * MIB, f"RSS {before / MIB:.0f} → {after / MIB:.0f} MiB"
        )
