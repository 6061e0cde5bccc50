"""
On-demand backups and restores (L{awsemu.dynamodb.backups}), through
boto3, the daemon and its JVM; and backups outliving a restart with a
data directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import restartable_daemon, shared_daemon

REGION = "ca-central-1"
ACCOUNT = "999999999991"
TABLE = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
        {"AttributeName": "g", "AttributeType": "S"},
    ],
    "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 2},
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "byG",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        }
    ],
}
ITEMS = 60
"""More than two C{BatchWriteItem}s' worth, with items big enough to need several scan pages."""


def fill(client: Any, name: str) -> None:
    filler = "x" * 30_000
    for n in range(ITEMS):
        item = {"pk": {"S": f"p{n % 7}"}, "sk": {"N": str(n)}, "g": {"S": "g"}}
        client.put_item(TableName=name, Item={**item, "blob": {"S": filler}})


def items_of(client: Any, name: str) -> list[dict[str, Any]]:
    paginator = client.get_paginator("scan")
    items = [item for page in paginator.paginate(TableName=name) for item in page["Items"]]
    return sorted(items, key=lambda item: int(item["sk"]["N"]))


class BackupTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.client = shared_daemon().client("dynamodb", ACCOUNT, REGION)

    def create(self, name: str, **more: Any) -> dict[str, Any]:
        table: dict[str, Any] = self.client.create_table(TableName=name, **TABLE, **more)[
            "TableDescription"
        ]
        self.addCleanup(self.client.delete_table, TableName=name)
        return table

    def test_backup_restore(self) -> None:
        table = self.create("Source")
        fill(self.client, "Source")
        details = self.client.create_backup(TableName="Source", BackupName="nightly")[
            "BackupDetails"
        ]
        arn = details["BackupArn"]
        self.assertRegex(arn, rf"^{table['TableArn']}/backup/\d{{14}}-[0-9a-f]{{8}}$")
        self.assertEqual(
            (details["BackupName"], details["BackupStatus"], details["BackupType"]),
            ("nightly", "AVAILABLE", "USER"),
        )
        # Changes after the backup are not in it.
        self.client.delete_item(TableName="Source", Key={"pk": {"S": "p0"}, "sk": {"N": "0"}})
        described = self.client.describe_backup(BackupArn=arn)["BackupDescription"]
        source = described["SourceTableDetails"]
        self.assertEqual(
            (source["TableName"], source["TableId"], source["ItemCount"], source["BillingMode"]),
            ("Source", table["TableId"], ITEMS, "PROVISIONED"),
        )
        self.assertEqual(
            source["ProvisionedThroughput"], {"ReadCapacityUnits": 3, "WriteCapacityUnits": 2}
        )
        [index] = described["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"]
        self.assertEqual(index["IndexName"], "byG")
        summaries = self.client.list_backups(TableName="Source")["BackupSummaries"]
        self.assertEqual([summary["BackupArn"] for summary in summaries], [arn])
        self.assertEqual(summaries[0]["TableArn"], table["TableArn"])
        self.addCleanup(self.client.delete_table, TableName="Restored")
        restored = self.client.restore_table_from_backup(
            TargetTableName="Restored", BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST"
        )["TableDescription"]
        self.assertEqual(restored["RestoreSummary"]["SourceBackupArn"], arn)
        self.assertEqual(restored["RestoreSummary"]["SourceTableArn"], table["TableArn"])
        self.assertFalse(restored["RestoreSummary"]["RestoreInProgress"])
        self.assertEqual(restored["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(restored["KeySchema"], table["KeySchema"])
        self.assertEqual(restored["GlobalSecondaryIndexes"][0]["IndexName"], "byG")
        copied = items_of(self.client, "Restored")
        self.assertEqual(len(copied), ITEMS)
        self.assertEqual(copied[0]["sk"], {"N": "0"})
        with self.assertRaises(ClientError) as again:
            self.client.restore_table_from_backup(TargetTableName="Restored", BackupArn=arn)
        self.assertEqual(
            again.exception.response["Error"],
            {"Code": "TableAlreadyExistsException", "Message": "Table already exists: Restored"},
        )
        deleted = self.client.delete_backup(BackupArn=arn)["BackupDescription"]
        self.assertEqual(deleted["BackupDetails"]["BackupStatus"], "DELETED")
        with self.assertRaises(ClientError) as gone:
            self.client.describe_backup(BackupArn=arn)
        self.assertEqual(
            gone.exception.response["Error"],
            {"Code": "BackupNotFoundException", "Message": f"Backup not found: {arn}"},
        )
        self.assertEqual(self.client.list_backups(TableName="Source")["BackupSummaries"], [])

    def test_list_filters_and_pages(self) -> None:
        """ListBackups by table, time and type, a page at a time."""
        self.create("Listed")
        arns = []
        for n in range(3):
            details = self.client.create_backup(TableName="Listed", BackupName=f"backup{n}")
            arns.append(details["BackupDetails"]["BackupArn"])
            self.addCleanup(self.client.delete_backup, BackupArn=arns[-1])
        first = self.client.list_backups(TableName="Listed", Limit=2)
        self.assertEqual(len(first["BackupSummaries"]), 2)
        rest = self.client.list_backups(
            TableName="Listed", ExclusiveStartBackupArn=first["LastEvaluatedBackupArn"]
        )
        self.assertNotIn("LastEvaluatedBackupArn", rest)
        listed = [b["BackupArn"] for b in first["BackupSummaries"] + rest["BackupSummaries"]]
        self.assertEqual(sorted(listed), sorted(arns))
        created = min(
            b["BackupCreationDateTime"] for b in first["BackupSummaries"] + rest["BackupSummaries"]
        )
        for filters, count in [
            ({"TimeRangeUpperBound": created.timestamp() - 60}, 0),
            ({"TimeRangeLowerBound": created.timestamp() - 60}, 3),
            ({"BackupType": "SYSTEM"}, 0),
            ({"BackupType": "ALL"}, 3),
        ]:
            found = self.client.list_backups(TableName="Listed", **filters)["BackupSummaries"]
            self.assertEqual(len(found), count, filters)
        self.assertEqual(self.client.list_backups(TableName="Unlisted")["BackupSummaries"], [])

    def test_missing_table(self) -> None:
        with self.assertRaises(ClientError) as raised:
            self.client.create_backup(TableName="Nowhere", BackupName="bak")
        self.assertEqual(
            raised.exception.response["Error"],
            {"Code": "TableNotFoundException", "Message": "Table not found: Nowhere"},
        )

    def test_other_accounts_backups(self) -> None:
        """Each account lists and finds only its own backups."""
        self.create("Mine")
        arn = self.client.create_backup(TableName="Mine", BackupName="bak")["BackupDetails"][
            "BackupArn"
        ]
        self.addCleanup(self.client.delete_backup, BackupArn=arn)
        other = shared_daemon().client("dynamodb", "999999999992", REGION)
        self.assertEqual(other.list_backups()["BackupSummaries"], [])
        with self.assertRaises(ClientError) as raised:
            other.describe_backup(BackupArn=arn)
        self.assertEqual(raised.exception.response["Error"]["Code"], "BackupNotFoundException")

    def test_point_in_time(self) -> None:
        """
        A restore to a point in time needs recovery on; it copies the items
        the table has now (DynamoDB Local keeps no history).
        """
        self.create("Recovered")
        self.client.put_item(
            TableName="Recovered", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "g": {"S": "g"}}
        )
        with self.assertRaises(ClientError) as off:
            self.client.restore_table_to_point_in_time(
                SourceTableName="Recovered", TargetTableName="Copy", UseLatestRestorableTime=True
            )
        self.assertEqual(
            off.exception.response["Error"],
            {
                "Code": "PointInTimeRecoveryUnavailableException",
                "Message": "Point in time recovery is not enabled for table 'Recovered'",
            },
        )
        self.client.update_continuous_backups(
            TableName="Recovered",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        with self.assertRaises(ClientError) as early:
            self.client.restore_table_to_point_in_time(
                SourceTableName="Recovered", TargetTableName="Copy", RestoreDateTime=1.0
            )
        self.assertEqual(early.exception.response["Error"]["Code"], "InvalidRestoreTimeException")
        self.assertNotIn("Copy", self.client.list_tables()["TableNames"])
        self.addCleanup(self.client.delete_table, TableName="Copy")
        restored = self.client.restore_table_to_point_in_time(
            SourceTableName="Recovered", TargetTableName="Copy", UseLatestRestorableTime=True
        )["TableDescription"]
        self.assertEqual(restored["TableName"], "Copy")
        self.assertTrue(restored["RestoreSummary"]["SourceTableArn"].endswith("table/Recovered"))
        self.assertEqual(len(items_of(self.client, "Copy")), 1)

    def test_point_in_time_by_arn(self) -> None:
        """
        A source table named by ARN: the caller's is restored; another
        account's is refused as AWS refuses it, and another region's is not
        found, though the caller has a table of that name here.
        """
        self.create("ByArn")
        self.client.update_continuous_backups(
            TableName="ByArn",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        arn = self.client.describe_table(TableName="ByArn")["Table"]["TableArn"]
        self.addCleanup(self.client.delete_table, TableName="ByArnCopy")
        restored = self.client.restore_table_to_point_in_time(
            SourceTableArn=arn, TargetTableName="ByArnCopy", UseLatestRestorableTime=True
        )["TableDescription"]
        self.assertEqual(restored["RestoreSummary"]["SourceTableArn"], arn)
        others = [
            (
                arn.replace(ACCOUNT, "999999999992"),
                "AccessDeniedException",
                f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform:"
                " dynamodb:RestoreTableToPointInTime on resource:"
                f" {arn.replace(ACCOUNT, '999999999992')} because no resource-based policy"
                " allows the dynamodb:RestoreTableToPointInTime action",
            ),
            (
                arn.replace(REGION, "eu-west-3"),
                "TableNotFoundException",
                f"Table not found: {arn.replace(REGION, 'eu-west-3')}",
            ),
        ]
        for other, code, message in others:
            with self.assertRaises(ClientError) as refused:
                self.client.restore_table_to_point_in_time(
                    SourceTableArn=other, TargetTableName="Stolen", UseLatestRestorableTime=True
                )
            error = refused.exception.response["Error"]
            self.assertEqual(error, {"Code": code, "Message": message})
        self.assertNotIn("Stolen", self.client.list_tables()["TableNames"])


class BackupPersistenceTests(SynchronousTestCase):
    def test_restart(self) -> None:
        """With a data directory, a backup outlives the daemon, and restores after."""
        data = Path(self.mktemp()).absolute()
        start = restartable_daemon(self, data)

        first = start()
        client = first.client("dynamodb", ACCOUNT, REGION)
        client.create_table(TableName="Kept", **TABLE)
        client.put_item(TableName="Kept", Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
        arn = client.create_backup(TableName="Kept", BackupName="bak")["BackupDetails"]["BackupArn"]
        first.stop()
        client = start().client("dynamodb", ACCOUNT, REGION)
        self.assertEqual(
            [summary["BackupArn"] for summary in client.list_backups()["BackupSummaries"]], [arn]
        )
        client.restore_table_from_backup(TargetTableName="Again", BackupArn=arn)
        self.assertEqual(items_of(client, "Again"), [{"pk": {"S": "a"}, "sk": {"N": "1"}}])
