"""
Units of the fidelity layer: table descriptions (L{awsemu.dynamodb.descriptions})
and errors (L{awsemu.dynamodb.errors}) put as AWS gives them, with a fake
DynamoDB Local answering what the real one answers. The same differences
are checked end to end against the real one in
C{tests.test_dynamodb_fidelity}.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

from awsemu.dynamodb.descriptions import table_id
from tests.test_dynamodb_proxy import LOCAL, NOT_FOUND, PUBLIC, StoreAnsweredCase, crc

EPOCH_THROUGHPUT = {
    "LastIncreaseDateTime": 0,
    "LastDecreaseDateTime": 0,
    "NumberOfDecreasesToday": 0,
    "ReadCapacityUnits": 0,
    "WriteCapacityUnits": 0,
}
"""How DynamoDB Local describes an on-demand table's capacity."""


def local_table(**more: Any) -> dict[str, Any]:
    """DynamoDB Local's description of the on-demand table C{t}, with an index."""
    return {
        "TableName": "t",
        "TableStatus": "ACTIVE",
        "CreationDateTime": 2.5,
        "ProvisionedThroughput": dict(EPOCH_THROUGHPUT),
        "TableArn": LOCAL + "table/t",
        "BillingModeSummary": {
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": 2.5,
        },
        "GlobalSecondaryIndexes": [
            {"IndexName": "byG", "IndexStatus": "ACTIVE", "IndexArn": LOCAL + "table/t/index/byG"}
        ],
        "DeletionProtectionEnabled": False,
        **more,
    }


class DescriptionTests(StoreAnsweredCase):
    """Table descriptions are rewritten as AWS gives them, in the four table operations."""

    def described(self, target: str, document: dict[str, Any], member: str) -> dict[str, Any]:
        """The table described in awsemu's answer to ``target`` (asserting its checksum)."""
        response = self.handle(target, document)
        self.assertEqual(response.status, 200, response.body)
        body = cast(bytes, response.body)
        self.assertEqual(response.header("x-amz-crc32"), crc(body))
        answer: dict[str, Any] = json.loads(body)
        self.assertEqual(list(answer), [member])
        return cast(dict[str, Any], answer[member])

    def test_aws_description(self) -> None:
        """
        A table gets a C{TableId}, no capacity change dates that never
        happened, warm throughput, and its on-demand index zero capacities.
        """
        self.answer(200, json.dumps({"Table": local_table()}).encode())
        table = self.described("DescribeTable", {"TableName": "t"}, "Table")
        self.assertEqual(table["TableId"], table_id(PUBLIC + "table/t", 2.5))
        self.assertEqual(uuid.UUID(table["TableId"]).version, 5)
        self.assertEqual(
            table["ProvisionedThroughput"],
            {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        )
        warm = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"}
        self.assertEqual(table["WarmThroughput"], warm)
        [index] = table["GlobalSecondaryIndexes"]
        self.assertEqual(
            index["ProvisionedThroughput"],
            {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        )
        self.assertEqual(index["WarmThroughput"], warm)
        self.assertNotIn("SSEDescription", table)
        self.assertNotIn("TableClassSummary", table)

    def test_table_ids(self) -> None:
        """The same table has the same id; a new table of the same name, another."""
        self.assertEqual(table_id("arn:x", 2.5), table_id("arn:x", 2.5))
        self.assertNotEqual(table_id("arn:x", 2.5), table_id("arn:x", 3.5))
        self.assertNotEqual(table_id("arn:x", 2.5), table_id("arn:y", 2.5))

    def test_changed_capacity(self) -> None:
        """Dates of capacity changes that did happen are kept, and warm throughput follows."""
        throughput = {
            "LastIncreaseDateTime": 7.0,
            "LastDecreaseDateTime": 0,
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": 20000,
            "WriteCapacityUnits": 5,
        }
        self.answer(
            200, json.dumps({"Table": local_table(ProvisionedThroughput=throughput)}).encode()
        )
        table = self.described("DescribeTable", {"TableName": "t"}, "Table")
        self.assertEqual(table["ProvisionedThroughput"]["LastIncreaseDateTime"], 7.0)
        self.assertNotIn("LastDecreaseDateTime", table["ProvisionedThroughput"])
        self.assertEqual(table["WarmThroughput"]["ReadUnitsPerSecond"], 20000)

    def test_create_settings(self) -> None:
        """
        C{CreateTable}'s encryption, table class and warm throughput, which
        DynamoDB Local forgets, are described in its answer and later ones.
        """
        self.answer(200, json.dumps({"TableDescription": local_table()}).encode())
        created = self.described(
            "CreateTable",
            {
                "TableName": "t",
                "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "k1"},
                "TableClass": "STANDARD_INFREQUENT_ACCESS",
                "WarmThroughput": {"ReadUnitsPerSecond": 15000},
            },
            "TableDescription",
        )
        self.assertEqual(
            created["SSEDescription"],
            {
                "Status": "ENABLED",
                "SSEType": "KMS",
                "KMSMasterKeyArn": "arn:aws:kms:eu-west-1:111111111111:key/k1",
            },
        )
        self.assertEqual(created["TableClassSummary"], {"TableClass": "STANDARD_INFREQUENT_ACCESS"})
        self.assertEqual(created["WarmThroughput"]["ReadUnitsPerSecond"], 15000)
        self.answer(200, json.dumps({"Table": local_table()}).encode())
        described = self.described("DescribeTable", {"TableName": "t"}, "Table")
        for member in ("SSEDescription", "TableClassSummary", "WarmThroughput"):
            self.assertEqual(described[member], created[member])

    def test_update_kept_settings_only(self) -> None:
        """
        An C{UpdateTable} of only what awsemu keeps is not forwarded (DynamoDB
        Local would answer "Nothing to update"): it is answered from a
        C{DescribeTable}, with the new settings.
        """
        self.clock.advance(100)
        self.answer(200, json.dumps({"Table": local_table()}).encode())
        updated = self.described(
            "UpdateTable",
            {
                "TableName": "t",
                "SSESpecification": {"Enabled": True},
                "TableClass": "STANDARD",
                "WarmThroughput": {"WriteUnitsPerSecond": 9000},
            },
            "TableDescription",
        )
        [(_, sent)] = self.local.received
        self.assertEqual(json.loads(sent), {"TableName": "t"})
        self.assertTrue(
            updated["SSEDescription"]["KMSMasterKeyArn"].startswith(
                "arn:aws:kms:eu-west-1:111111111111:key/"
            )
        )
        self.assertEqual(
            updated["TableClassSummary"], {"TableClass": "STANDARD", "LastUpdateDateTime": 100}
        )
        self.assertEqual(
            updated["WarmThroughput"],
            {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 9000, "Status": "ACTIVE"},
        )
        # Turning encryption off (back to an AWS owned key) drops its description.
        self.answer(200, json.dumps({"TableDescription": local_table()}).encode())
        off = self.described(
            "UpdateTable",
            {"TableName": "t", "SSESpecification": {"Enabled": False}, "BillingMode": "X"},
            "TableDescription",
        )
        self.assertEqual(
            json.loads(self.local.received[1][1]), {"TableName": "t", "BillingMode": "X"}
        )
        self.assertNotIn("SSEDescription", off)
        self.assertEqual(off["WarmThroughput"]["WriteUnitsPerSecond"], 9000)

    def test_delete(self) -> None:
        """C{DeleteTable}'s answer describes the table as it was; its record is then dropped."""
        self.answer(200, json.dumps({"TableDescription": local_table()}).encode())
        self.described(
            "CreateTable", {"TableName": "t", "TableClass": "STANDARD"}, "TableDescription"
        )
        self.answer(200, json.dumps({"TableDescription": local_table()}).encode())
        deleted = self.described("DeleteTable", {"TableName": "t"}, "TableDescription")
        self.assertEqual(deleted["TableClassSummary"], {"TableClass": "STANDARD"})
        self.assertEqual(self.tables.tables, {})


class ErrorTests(StoreAnsweredCase):
    """DynamoDB Local's errors worded as AWS words them, and requests AWS refuses."""

    def test_missing_table(self) -> None:
        for target in ("DescribeTable", "DeleteTable"):
            self.answer(400, NOT_FOUND)
            response = self.handle(target, {"TableName": "gone"})
            self.assertEqual(response.header("x-amz-crc32"), crc(cast(bytes, response.body)))
            self.assertEqual(
                json.loads(cast(bytes, response.body))["Message"],
                "Requested resource not found: Table: gone not found",
            )

    def test_existing_table(self) -> None:
        self.answer(
            400,
            b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceInUseException",'
            b'"Message":"Cannot create preexisting table"}',
        )
        response = self.handle("CreateTable", {"TableName": "t"})
        self.assertEqual(
            json.loads(cast(bytes, response.body))["Message"], "Table already exists: t"
        )

    def test_batch_write_keys(self) -> None:
        for local in (
            "One of the required keys was not given a value",
            "One or more parameter values were invalid: Type mismatch for key",
        ):
            body = json.dumps(
                {"__type": "com.amazon.coral.validate#ValidationException", "Message": local}
            ).encode()
            self.answer(400, body)
            response = self.handle("BatchWriteItem", {"RequestItems": {}})
            self.assertEqual(
                json.loads(cast(bytes, response.body)),
                {
                    "__type": "com.amazon.coral.validate#ValidationException",
                    "Message": "The provided key element does not match the schema",
                },
            )

    def test_other_errors_unchanged(self) -> None:
        """An error of a reworded operation that is not in the table passes on byte for byte."""
        body = b'{"__type":"x#ValidationException","Message":"Something else"}'
        self.answer(400, body)
        self.assertEqual(self.handle("BatchWriteItem", {}).body, body)

    def test_on_demand_with_capacity(self) -> None:
        response = self.handle(
            "CreateTable",
            {
                "TableName": "t",
                "BillingMode": "PAY_PER_REQUEST",
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            },
        )
        self.assertError(
            response,
            400,
            "ValidationException",
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor"
            " WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        )
        self.assertEqual(self.local.received, [])

    def test_empty_parameters(self) -> None:
        response = self.handle(
            "ExecuteStatement", {"Statement": 'SELECT * FROM "t"', "Parameters": []}
        )
        self.assertError(
            response,
            400,
            "ValidationException",
            "1 validation error detected: Value '[]' at 'parameters' failed to satisfy"
            " constraint: Member must have length greater than or equal to 1",
        )
        # A parameter's map named "Parameters" is item data, not the member.
        self.answer(200, b'{"Items":[]}')
        document = {"Statement": "?", "Parameters": [{"M": {"Parameters": {"L": []}}}]}
        self.assertEqual(self.handle("ExecuteStatement", document).status, 200)
