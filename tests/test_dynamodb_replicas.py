"""
Global tables, version 2019.11.21 (L{awsemu.dynamodb.replicas}), through
boto3, the daemon and its JVM: replicas made in other regions of the
account and kept in sync both ways through the tables' streams.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import DynamoDBDaemon, require_dynamodb_local, shared_daemon

ACCOUNT = "141414141414"
HOME, AWAY = "eu-west-1", "us-east-2"
TABLE = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}


def eventually(check: Any, timeout: float = 10) -> Any:
    """What ``check`` returns once it is truthy, within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


class GlobalTableTests(SynchronousTestCase):
    def setUp(self) -> None:
        daemon = shared_daemon()
        self.home = daemon.client("dynamodb", ACCOUNT, HOME)
        self.away = daemon.client("dynamodb", ACCOUNT, AWAY)

    def item(self, client: Any, key: str) -> Any:
        return client.get_item(TableName="Global", Key={"id": {"S": key}}).get("Item")

    def test_replicas(self) -> None:
        self.home.create_table(TableName="Global", **TABLE)
        self.addCleanup(self.home.delete_table, TableName="Global")
        self.home.put_item(TableName="Global", Item={"id": {"S": "before"}})
        updated = self.home.update_table(
            TableName="Global", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}]
        )["TableDescription"]
        self.assertEqual(updated["GlobalTableVersion"], "2019.11.21")
        self.assertEqual(updated["Replicas"], [{"RegionName": AWAY, "ReplicaStatus": "ACTIVE"}])
        away = self.away.describe_table(TableName="Global")["Table"]
        self.assertEqual(away["Replicas"], [{"RegionName": HOME, "ReplicaStatus": "ACTIVE"}])
        self.assertEqual(self.item(self.away, "before"), {"id": {"S": "before"}})
        # Both ways, and deletes too.
        self.home.put_item(TableName="Global", Item={"id": {"S": "a"}, "n": {"N": "1"}})
        self.assertEqual(
            eventually(lambda: self.item(self.away, "a")), {"id": {"S": "a"}, "n": {"N": "1"}}
        )
        self.away.put_item(TableName="Global", Item={"id": {"S": "b"}})
        self.assertEqual(eventually(lambda: self.item(self.home, "b")), {"id": {"S": "b"}})
        self.away.delete_item(TableName="Global", Key={"id": {"S": "a"}})
        self.assertTrue(eventually(lambda: self.item(self.home, "a") is None))
        # Nothing bounces back and forth: the tables settle with the same items.
        time.sleep(1.5)
        scans = [
            sorted(item["id"]["S"] for item in client.scan(TableName="Global")["Items"])
            for client in (self.home, self.away)
        ]
        self.assertEqual(scans, [["b", "before"], ["b", "before"]])
        self.home.update_table(
            TableName="Global", ReplicaUpdates=[{"Delete": {"RegionName": AWAY}}]
        )
        self.assertNotIn("Replicas", self.home.describe_table(TableName="Global")["Table"])
        with self.assertRaises(ClientError) as gone:
            self.away.describe_table(TableName="Global")
        self.assertEqual(gone.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_member_deleted(self) -> None:
        """A member deleted leaves the others a group without it (here, no group)."""
        self.home.create_table(TableName="Pair", **TABLE)
        self.home.update_table(TableName="Pair", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
        self.addCleanup(self.away.delete_table, TableName="Pair")
        deleted = self.home.delete_table(TableName="Pair")["TableDescription"]
        self.assertEqual(deleted["Replicas"], [{"RegionName": AWAY, "ReplicaStatus": "ACTIVE"}])
        away = self.away.describe_table(TableName="Pair")["Table"]
        self.assertNotIn("Replicas", away)
        self.assertNotIn("GlobalTableVersion", away)

    def test_stream_required(self) -> None:
        self.home.create_table(
            TableName="Unstreamed", **{**TABLE, "StreamSpecification": {"StreamEnabled": False}}
        )
        self.addCleanup(self.home.delete_table, TableName="Unstreamed")
        with self.assertRaises(ClientError) as refused:
            self.home.update_table(
                TableName="Unstreamed", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}]
            )
        self.assertEqual(refused.exception.response["Error"]["Code"], "ValidationException")
        self.assertEqual(self.away.list_tables()["TableNames"], [])

    def replicated(self, name: str, create: dict[str, Any]) -> dict[str, Any]:
        """The description of the replica of ``name`` ``create`` makes (gone after the test)."""
        self.home.update_table(
            TableName=name, ReplicaUpdates=[{"Create": {"RegionName": AWAY, **create}}]
        )
        self.addCleanup(
            self.home.update_table,
            TableName=name,
            ReplicaUpdates=[{"Delete": {"RegionName": AWAY}}],
        )
        described: dict[str, Any] = self.away.describe_table(TableName=name)["Table"]
        return described

    def test_settings_replicated(self) -> None:
        """
        A replica is encrypted as its table is, with the AWS managed key of
        its own region (left unnamed: L{awsemu.dynamodb.descriptions.replica_settings}), and has its
        table's class.
        """
        self.home.create_table(
            TableName="Encrypted",
            SSESpecification={"Enabled": True},
            TableClass="STANDARD_INFREQUENT_ACCESS",
            **TABLE,
        )
        self.addCleanup(self.home.delete_table, TableName="Encrypted")
        replica = self.replicated("Encrypted", {})
        self.assertEqual(replica["SSEDescription"], {"Status": "ENABLED", "SSEType": "KMS"})
        self.assertEqual(replica["TableClassSummary"], {"TableClass": "STANDARD_INFREQUENT_ACCESS"})
        home = self.home.describe_table(TableName="Encrypted")["Table"]["SSEDescription"]
        self.assertTrue(home["KMSMasterKeyArn"].startswith(f"arn:aws:kms:{HOME}:{ACCOUNT}:key/"))

    def test_own_key(self) -> None:
        """
        A table encrypted with a key of the account's needs a key named for
        its replica, as AWS refuses otherwise; the replica may have its own class.
        """
        self.home.create_table(
            TableName="OwnKey", SSESpecification={"Enabled": True, "KMSMasterKeyId": "k-1"}, **TABLE
        )
        self.addCleanup(self.home.delete_table, TableName="OwnKey")
        with self.assertRaises(ClientError) as refused:
            self.home.update_table(
                TableName="OwnKey", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}]
            )
        self.assertEqual(
            refused.exception.response["Error"],
            {
                "Code": "ValidationException",
                "Message": "One or more parameter values were invalid:"
                " KMSMasterKeyId must be specified for each replica.",
            },
        )
        self.assertEqual(self.away.list_tables()["TableNames"], [])
        self.assertNotIn("Replicas", self.home.describe_table(TableName="OwnKey")["Table"])
        replica = self.replicated(
            "OwnKey", {"KMSMasterKeyId": "alias/away", "TableClassOverride": "STANDARD"}
        )
        self.assertEqual(
            replica["SSEDescription"],
            {
                "Status": "ENABLED",
                "SSEType": "KMS",
                "KMSMasterKeyArn": f"arn:aws:kms:{AWAY}:{ACCOUNT}:alias/away",
            },
        )
        self.assertEqual(replica["TableClassSummary"], {"TableClass": "STANDARD"})
        self.assertNotIn("TableClassSummary", self.home.describe_table(TableName="OwnKey")["Table"])


class GlobalTablePersistenceTests(SynchronousTestCase):
    def test_restart(self) -> None:
        """With a data directory, a global table is still one, and kept in sync, after a restart."""
        require_dynamodb_local()
        data = Path(self.mktemp()).absolute()
        log = Path(self.mktemp() + ".log").absolute()

        def start() -> tuple[DynamoDBDaemon, Any, Any]:
            daemon = DynamoDBDaemon(log, "--services", "dynamodb", data_dir=data)
            self.addCleanup(daemon.stop)
            daemon.wait_running()
            return (
                daemon,
                daemon.client("dynamodb", ACCOUNT, HOME),
                daemon.client("dynamodb", ACCOUNT, AWAY),
            )

        first, home, _ = start()
        home.create_table(TableName="Global", **TABLE)
        home.update_table(TableName="Global", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
        first.stop()
        _, home, away = start()
        self.assertEqual(
            home.describe_table(TableName="Global")["Table"]["Replicas"],
            [{"RegionName": AWAY, "ReplicaStatus": "ACTIVE"}],
        )
        home.put_item(TableName="Global", Item={"id": {"S": "after"}})
        found = eventually(
            lambda: away.get_item(TableName="Global", Key={"id": {"S": "after"}}).get("Item")
        )
        self.assertEqual(found, {"id": {"S": "after"}})
