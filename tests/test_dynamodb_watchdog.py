"""
The supervisor's watchdog against a real DynamoDB Local: a JVM that stops
answering (here, SIGSTOP) is killed and replaced. A L{Supervisor} of its
own, on the real reactor, with short intervals that the daemon does not
offer as options.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from awsemu.dynamodb.installer import default_cache_dir, find_dynamodb_local
from awsemu.dynamodb.loopback import LoopbackPool
from awsemu.dynamodb.proxy import list_tables_probe
from awsemu.dynamodb.supervisor import JvmCommand, PidFiles, Supervisor
from tests.dynamodb_support import LIST_TABLES, kill_if_alive, pid_alive, require_dynamodb_local


class WatchdogTests(TestCase):
    """A hung JVM is found out within seconds when the watchdog's intervals are short."""

    timeout = 60

    def setUp(self) -> None:
        require_dynamodb_local()
        dynamodb_local = find_dynamodb_local(default_cache_dir(os.environ))
        assert dynamodb_local is not None
        self.directory = Path(self.mktemp()).absolute()
        self.pool = LoopbackPool(reactor, reactor)
        self.supervisor = Supervisor(
            command=JvmCommand(
                "java", dynamodb_local, heap="256m", cache_dir=default_cache_dir(os.environ)
            ),
            clock=reactor,
            spawn=reactor.spawnProcess,
            probe=list_tables_probe(self.pool),
            pid_files=PidFiles(self.directory),
            environment=dict(os.environ),
            initial_delay=0.1,
            stop_timeout=5,
            live_interval=0.5,
            live_timeout=0.5,
            live_failures=2,
        )
        self.stopped: list[int] = []
        # Run last: whatever happened, no JVM outlives the test, stopped or not.
        self.addCleanup(self.kill_stopped)
        self.addCleanup(self.pool.close)
        self.addCleanup(self.supervisor.stopService)

    def kill_stopped(self) -> None:
        for pid in self.stopped:
            kill_if_alive(pid)

    def jvm_pid(self) -> int | None:
        """The current JVM's pid, from its pid file (None between JVMs)."""
        try:
            return int((self.directory / f"dynamodb-local.{os.getpid()}.pid").read_text())
        except (OSError, ValueError):
            return None

    async def test_stopped_jvm_replaced(self) -> None:
        """
        A JVM that stops answering is killed, and a new one answers
        ListTables within seconds.
        """
        self.supervisor.startService()
        await self.supervisor.whenReady()
        first = self.jvm_pid()
        assert first is not None
        os.kill(first, signal.SIGSTOP)
        self.stopped.append(first)

        deadline = time.monotonic() + 10
        while self.jvm_pid() in (first, None) or self.supervisor.state().status != "running":
            self.assertLess(time.monotonic(), deadline, "no new JVM within 10 s")
            await deferLater(reactor, 0.1)

        self.assertFalse(pid_alive(first))
        port = await self.supervisor.whenReady()
        response = await self.pool.request(port, b"POST", b"/", LIST_TABLES, b"{}")
        self.assertEqual(response.status, 200)
        self.assertEqual(json.loads(response.body), {"TableNames": []})
