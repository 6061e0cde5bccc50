"""
End to end: the daemon's DynamoDB Local through crashes, daemon kills and
restarts, and without DynamoDB Local at all.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import (
    DynamoDBDaemon,
    kill_if_alive,
    pid_alive,
    require_dynamodb_local,
    wait_for,
)

ACCOUNT = "111111111111"
REGION = "eu-west-1"


def put(client: Any, n: int) -> None:
    client.put_item(TableName="Acked", Item={"id": {"N": str(n)}, "payload": {"S": "x" * n}})


def stored(client: Any) -> set[int]:
    pages = client.get_paginator("scan").paginate(TableName="Acked", ConsistentRead=True)
    return {int(item["id"]["N"]) for page in pages for item in page["Items"]}


class RecoveryTests(SynchronousTestCase):
    """With a data directory, nothing acknowledged is lost when the JVM or the daemon dies."""

    def setUp(self) -> None:
        require_dynamodb_local()
        self.data = Path(self.mktemp()).absolute()
        self.log = Path(self.mktemp() + ".log").absolute()

    def daemon(self) -> DynamoDBDaemon:
        daemon = DynamoDBDaemon(self.log, "--services", "dynamodb", data_dir=self.data)
        self.addCleanup(daemon.stop)
        daemon.wait_running()
        return daemon

    def test_jvm_and_daemon_killed(self) -> None:
        """
        A JVM killed mid-run is restarted, requests sent meanwhile wait for
        it, and every acknowledged write survives; a JVM orphaned by a
        killed daemon (one too hung to end itself) is ended by the next
        daemon, which has all the data.
        """
        daemon = self.daemon()
        client = daemon.client("dynamodb", ACCOUNT, REGION)
        client.create_table(
            TableName="Acked",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in range(50):
            put(client, n)

        first_jvm = daemon.jvm_pid()
        os.kill(first_jvm, signal.SIGKILL)
        wait_for(lambda: daemon.status() != "running", 10, "the health to notice the crash")
        # botocore retries the 500 a request racing the crash may get.
        patient = daemon.client("dynamodb", ACCOUNT, REGION, attempts=5)
        acknowledged = set(range(50))
        for n in range(50, 60):
            put(patient, n)
            acknowledged.add(n)
        self.assertEqual(daemon.status(), "running")
        self.assertNotEqual(daemon.jvm_pid(), first_jvm)
        self.assertEqual(stored(client), acknowledged)
        self.assertIn("DynamoDB Local (pid", daemon.log.read_text())

        # A JVM ends by itself once its daemon is gone, unless it cannot
        # run: stopped, it is left for the next daemon to end.
        second_jvm = daemon.jvm_pid()
        os.kill(second_jvm, signal.SIGSTOP)
        self.addCleanup(kill_if_alive, second_jvm)
        daemon.kill()
        self.assertTrue(pid_alive(second_jvm))
        successor = self.daemon()
        self.assertFalse(pid_alive(second_jvm))
        self.assertEqual(stored(successor.client("dynamodb", ACCOUNT, REGION)), acknowledged)
        third_jvm = successor.jvm_pid()
        successor.stop()
        self.assertFalse(pid_alive(third_jvm))
        self.assertEqual(list(self.data.joinpath("dynamodb").glob("*.pid")), [])


class MissingTests(SynchronousTestCase):
    """Without DynamoDB Local, DynamoDB reports the fix and the other services keep working."""

    def test_missing_jar(self) -> None:
        missing = Path(self.mktemp()).absolute()
        daemon = DynamoDBDaemon(
            Path(self.mktemp() + ".log").absolute(),
            "--services",
            "dynamodb,sts",
            "--dynamodb-local",
            str(missing),
        )
        self.addCleanup(daemon.stop)
        wait_for(lambda: daemon.status() is not None, 30, "the daemon to listen")
        health = daemon.health()
        fix = f"No DynamoDB Local at {missing}: fix --dynamodb-local"
        self.assertEqual(health["services"], {"dynamodb": "error", "sts": "running"})
        self.assertEqual(health["reasons"], {"dynamodb": fix})
        with self.assertRaises(ClientError) as raised:
            daemon.client("dynamodb", ACCOUNT, REGION).list_tables()
        error = raised.exception.response
        self.assertEqual(error["Error"], {"Code": "InternalServerError", "Message": fix})
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 500)
        sts = daemon.client("sts", ACCOUNT, REGION)
        self.assertEqual(sts.get_caller_identity()["Account"], ACCOUNT)
