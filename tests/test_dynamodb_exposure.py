"""
Nothing the daemon runs for DynamoDB can be reached from another machine,
and nothing outlives the daemon: a census of the sockets the daemon and
its descendants listen on (read from /proc) finds only loopback ones, and a
daemon killed with SIGKILL leaves no DynamoDB Local listening behind.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.request
from pathlib import Path

from twisted.internet import reactor
from twisted.trial.unittest import SynchronousTestCase, TestCase

from awsemu.dynamodb.installer import DynamoDBLocal, default_cache_dir, find_dynamodb_local
from awsemu.dynamodb.keys import SECRET_FILE
from awsemu.dynamodb.loopback import LoopbackPool
from awsemu.dynamodb.proxy import list_tables_probe
from awsemu.dynamodb.supervisor import LAUNCHER_CLASS, JvmCommand, PidFiles, Supervisor
from tests.daemon import free_port
from tests.dynamodb_support import (
    LIST_TABLES,
    DynamoDBDaemon,
    Listener,
    descendants,
    listeners,
    listening_on,
    pid_alive,
    require_dynamodb_local,
    wait_for,
)

ACCOUNT = "111111111111"
REGION = "eu-west-1"


def installed() -> DynamoDBLocal:
    require_dynamodb_local()
    dynamodb_local = find_dynamodb_local(default_cache_dir(os.environ))
    assert dynamodb_local is not None
    return dynamodb_local


def exposed(found: list[Listener]) -> list[Listener]:
    return [listener for listener in found if not listener.loopback]


class DaemonTests(SynchronousTestCase):
    """A real daemon, with every service, and its real DynamoDB Local."""

    def setUp(self) -> None:
        require_dynamodb_local()
        self.data = Path(self.mktemp()).absolute()

    def daemon(self, *arguments: str) -> DynamoDBDaemon:
        daemon = DynamoDBDaemon(
            Path(self.mktemp() + ".log").absolute(), *arguments, data_dir=self.data
        )
        self.addCleanup(daemon.stop)
        daemon.wait_running()
        return daemon

    def test_listeners_loopback_only(self) -> None:
        """
        The daemon listens on its configured port, DynamoDB Local (its
        child) on its own port, and every socket that any process of the
        daemon's tree listens on, TCP or UDP, IPv4 or IPv6, is a loopback one.
        """
        daemon = self.daemon()
        jvm = daemon.jvm_pid()
        jvm_port = int(daemon.jvm_url().rpartition(":")[2])
        self.assertIn(jvm, descendants(daemon.process.pid))

        found = listeners(daemon.process.pid)
        self.assertEqual(exposed(found), [])
        self.assertIn((daemon.process.pid, daemon.port), {(f.pid, f.port) for f in found})
        self.assertEqual({f.port for f in found if f.pid == jvm}, {jvm_port})

    def test_direct_connection_sees_no_account(self) -> None:
        """
        A local user who connects to DynamoDB Local directly, with an
        account id as access key, sees an empty database, not that
        account's tables; the daemon still sees them, and so does the next
        daemon on the same data directory (its state lists them, and no
        other database), whose secret is kept private; the databases of a
        data directory from before the secret are renamed to it.
        """
        daemon = self.daemon("--services", "dynamodb")
        client = daemon.client("dynamodb", ACCOUNT, REGION)
        client.create_table(
            TableName="Private",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="Private", Item={"id": {"S": "secret"}})
        direct = daemon.client("dynamodb", ACCOUNT, REGION, url=daemon.jvm_url())
        self.assertEqual(direct.list_tables()["TableNames"], [])
        self.assertEqual(client.list_tables()["TableNames"], ["Private"])
        daemon.stop()

        secret = self.data / "dynamodb" / SECRET_FILE
        self.assertEqual(stat.S_IMODE(secret.stat().st_mode), 0o600)
        key = secret.read_text()
        self.assertTrue((self.data / "dynamodb" / f"{key}{ACCOUNT}_{REGION}.db").is_file())
        restarted = self.daemon("--services", "dynamodb")
        with urllib.request.urlopen(restarted.url + "/_awsemu/state", timeout=10) as response:
            self.assertEqual(
                json.load(response)["accounts"],
                {ACCOUNT: {REGION: {"dynamodb": {"tables": ["Private"]}}}},
            )
        again = restarted.client("dynamodb", ACCOUNT, REGION)
        self.assertEqual(again.list_tables()["TableNames"], ["Private"])
        self.assertEqual(again.scan(TableName="Private")["Items"], [{"id": {"S": "secret"}}])
        restarted.stop()

        # A data directory from before the secret: its databases are the account's still.
        databases = self.data / "dynamodb"
        (databases / f"{key}{ACCOUNT}_{REGION}.db").replace(databases / f"{ACCOUNT}_{REGION}.db")
        secret.unlink()
        upgraded = self.daemon("--services", "dynamodb").client("dynamodb", ACCOUNT, REGION)
        self.assertEqual(upgraded.list_tables()["TableNames"], ["Private"])
        self.assertNotEqual(secret.read_text(), key)

    def test_jvm_ends_with_killed_daemon(self) -> None:
        """
        When the daemon is killed with SIGKILL (it cannot stop its JVM),
        DynamoDB Local exits within seconds and its port is free: no table
        is left reachable until the next start.
        """
        daemon = self.daemon("--services", "dynamodb")
        jvm = daemon.jvm_pid()
        jvm_port = int(daemon.jvm_url().rpartition(":")[2])
        self.assertTrue(listening_on(jvm_port))

        daemon.kill()
        wait_for(lambda: not pid_alive(jvm), 5, "DynamoDB Local to exit after its daemon")
        self.assertFalse(listening_on(jvm_port))


class LauncherTests(TestCase):
    """The launcher, compiled by a L{Supervisor} with an empty cache, and run by hand."""

    timeout = 120

    def setUp(self) -> None:
        self.dynamodb_local = installed()
        self.cache = Path(self.mktemp()).absolute()
        self.command = JvmCommand("java", self.dynamodb_local, heap="256m", cache_dir=self.cache)

    async def test_compiled_and_bound(self) -> None:
        """
        With no launcher compiled yet, the supervisor compiles one, and the
        JVM it runs answers ListTables while listening on loopback only.
        """
        pool = LoopbackPool(reactor, reactor)
        supervisor = Supervisor(
            command=self.command,
            clock=reactor,
            spawn=reactor.spawnProcess,
            probe=list_tables_probe(pool),
            pid_files=PidFiles(self.cache),
            environment=dict(os.environ),
        )
        self.addCleanup(pool.close)
        self.addCleanup(supervisor.stopService)
        self.assertFalse(self.command.compiled())
        supervisor.startService()
        port = await supervisor.whenReady()
        self.assertTrue(self.command.compiled())
        self.assertEqual(
            [path.name for path in self.cache.iterdir() if path.is_dir()],
            [self.command.launcher.name],
        )

        jvm = int((self.cache / f"dynamodb-local.{os.getpid()}.pid").read_text())
        found = listeners(jvm)
        self.assertEqual(exposed(found), [])
        self.assertEqual({(f.pid, f.port) for f in found}, {(jvm, port)})
        response = await pool.request(port, b"POST", b"/", LIST_TABLES, b"{}")
        self.assertEqual((response.status, json.loads(response.body)), (200, {"TableNames": []}))

    def test_fails_closed(self) -> None:
        """
        Given something that is not a DynamoDB Local it can bind to
        loopback, the launcher exits with an error rather than run it.
        """
        subprocess.run(self.command.compile_argv(self.command.launcher), check=True)
        port = free_port()
        errors = Path(self.mktemp())
        # Its standard input stays open, as its daemon's does while it lives.
        with errors.open("w") as output:
            launcher = subprocess.Popen(
                [
                    self.command.java,
                    "-cp",
                    f"{self.command.launcher}{os.pathsep}{self.cache}",
                    LAUNCHER_CLASS,
                    "-port",
                    str(port),
                    "-inMemory",
                ],
                stdin=subprocess.PIPE,
                stderr=output,
            )
        self.addCleanup(launcher.kill)
        assert launcher.stdin is not None
        self.addCleanup(launcher.stdin.close)
        self.assertEqual(launcher.wait(60), 1, errors.read_text())
        self.assertIn("cannot be bound to 127.0.0.1", errors.read_text())
