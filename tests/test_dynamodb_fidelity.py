"""
End to end, one difference at a time: the same request sent by boto3
straight to DynamoDB Local ("raw") and through the daemon (to the same
JVM, in another account's database), with DynamoDB Local's answer
asserted as it is and awsemu's as AWS documents it. When a test here
starts failing on its raw half, DynamoDB Local has changed and the
correction may no longer be needed.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import DynamoDBDaemon, require_dynamodb_local, shared_daemon

REGION = "ap-south-1"
RAW_ACCOUNT = "777777777770"
ACCOUNT = "777777777771"

_KEY = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
}
_INDEX = {
    "IndexName": "byG",
    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "KEYS_ONLY"},
}
DEFINITIONS = [
    {"AttributeName": "id", "AttributeType": "S"},
    {"AttributeName": "g", "AttributeType": "S"},
]
ON_DEMAND = {
    **_KEY,
    "AttributeDefinitions": DEFINITIONS,
    "BillingMode": "PAY_PER_REQUEST",
    "GlobalSecondaryIndexes": [_INDEX],
}
PROVISIONED = {**_KEY, "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 1}}
DEFAULT_WARM = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"}


class FidelityTests(SynchronousTestCase):
    """awsemu answers as AWS does where DynamoDB Local answers otherwise."""

    def setUp(self) -> None:
        daemon = self.daemon = shared_daemon()
        # No client-side validation: some requests here are ones AWS refuses.
        url = daemon.jvm_url()
        self.raw = daemon.client("dynamodb", RAW_ACCOUNT, REGION, url, validate=False)
        self.ours = daemon.client("dynamodb", ACCOUNT, REGION, validate=False)

    def both(self, operation: str, **params: Any) -> tuple[Any, Any]:
        """``operation`` asked of DynamoDB Local and of the daemon: what each answered or raised."""
        answers = []
        for client in (self.raw, self.ours):
            try:
                answers.append(getattr(client, operation)(**params))
            except ClientError as e:
                answers.append(e.response["Error"])
        return answers[0], answers[1]

    def table(self, name: str, **definition: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Create table ``name`` both ways; the two C{TableDescription}s."""
        self.addCleanup(self.both, "delete_table", TableName=name)
        raw, ours = self.both("create_table", TableName=name, **definition)
        return raw["TableDescription"], ours["TableDescription"]

    def test_table_id(self) -> None:
        """AWS gives every table a UUID, the same on each answer and new for a new table."""
        raw, ours = self.table("Ids", **PROVISIONED)
        self.assertNotIn("TableId", raw)
        uuid.UUID(ours["TableId"])
        described = self.ours.describe_table(TableName="Ids")["Table"]
        self.assertEqual(described["TableId"], ours["TableId"])
        deleted = self.ours.delete_table(TableName="Ids")["TableDescription"]
        self.assertEqual(deleted["TableId"], ours["TableId"])
        again = self.ours.create_table(TableName="Ids", **PROVISIONED)["TableDescription"]
        self.assertNotEqual(again["TableId"], ours["TableId"])

    def test_throughput(self) -> None:
        """
        AWS omits the dates of capacity changes that never happened
        (DynamoDB Local says the epoch), and describes warm throughput.
        """
        raw, ours = self.table("Capacity", **PROVISIONED)
        self.assertEqual(raw["ProvisionedThroughput"]["LastIncreaseDateTime"].year, 1970)
        self.assertNotIn("WarmThroughput", raw)
        self.assertEqual(
            ours["ProvisionedThroughput"],
            {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 2, "WriteCapacityUnits": 1},
        )
        self.assertEqual(ours["WarmThroughput"], DEFAULT_WARM)

    def test_on_demand_index(self) -> None:
        """An on-demand table's index has zero capacities in AWS; none in DynamoDB Local."""
        raw, ours = self.table("OnDemand", **ON_DEMAND)
        self.assertNotIn("ProvisionedThroughput", raw["GlobalSecondaryIndexes"][0])
        [index] = ours["GlobalSecondaryIndexes"]
        self.assertEqual(index["IndexName"], "byG")
        self.assertEqual(
            index["ProvisionedThroughput"],
            {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        )
        self.assertEqual(index["WarmThroughput"], DEFAULT_WARM)
        self.assertEqual(ours["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")

    def test_created_settings(self) -> None:
        """Encryption, table class and warm throughput, forgotten by DynamoDB Local, are kept."""
        raw, ours = self.table(
            "Settings",
            **PROVISIONED,
            SSESpecification={"Enabled": True, "SSEType": "KMS"},
            TableClass="STANDARD_INFREQUENT_ACCESS",
            WarmThroughput={"ReadUnitsPerSecond": 13000, "WriteUnitsPerSecond": 5000},
        )
        for member in ("SSEDescription", "TableClassSummary", "WarmThroughput"):
            self.assertNotIn(member, raw)
        described = self.ours.describe_table(TableName="Settings")["Table"]
        sse = described["SSEDescription"]
        self.assertEqual((sse["Status"], sse["SSEType"]), ("ENABLED", "KMS"))
        self.assertTrue(
            sse["KMSMasterKeyArn"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"), sse
        )
        self.assertEqual(
            described["TableClassSummary"], {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
        )
        self.assertEqual(
            described["WarmThroughput"],
            {"ReadUnitsPerSecond": 13000, "WriteUnitsPerSecond": 5000, "Status": "ACTIVE"},
        )
        self.assertEqual(ours["SSEDescription"], sse)

    def test_update_settings(self) -> None:
        """
        An C{UpdateTable} of only encryption, class or warm throughput:
        DynamoDB Local answers "Nothing to update", AWS makes the change.
        """
        self.table("Updated", **PROVISIONED)
        raw, ours = self.both(
            "update_table",
            TableName="Updated",
            SSESpecification={"Enabled": True},
            TableClass="STANDARD_INFREQUENT_ACCESS",
        )
        self.assertEqual(raw, {"Code": "ValidationException", "Message": "Nothing to update"})
        described = ours["TableDescription"]
        self.assertEqual(described["SSEDescription"]["Status"], "ENABLED")
        self.assertEqual(described["TableClassSummary"]["TableClass"], "STANDARD_INFREQUENT_ACCESS")
        self.assertIn("LastUpdateDateTime", described["TableClassSummary"])
        # With a change DynamoDB Local makes, both are made.
        both = self.ours.update_table(
            TableName="Updated",
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 1},
            WarmThroughput={"ReadUnitsPerSecond": 14000},
        )["TableDescription"]
        self.assertEqual(both["ProvisionedThroughput"]["ReadCapacityUnits"], 3)
        self.assertEqual(both["WarmThroughput"]["ReadUnitsPerSecond"], 14000)
        self.assertEqual(both["SSEDescription"], described["SSEDescription"])

    def test_deletion_protection(self) -> None:
        """DynamoDB Local enforces deletion protection as AWS does: passed on unchanged."""
        self.table("Protected", **PROVISIONED, DeletionProtectionEnabled=True)
        raw, ours = self.both("delete_table", TableName="Protected")
        self.assertEqual(raw, ours)
        self.assertEqual(
            ours["Message"],
            "Resource cannot be deleted as it is currently protected against deletion."
            " Disable deletion protection first.",
        )
        self.both("update_table", TableName="Protected", DeletionProtectionEnabled=False)

    def test_table_errors(self) -> None:
        """Existing and missing tables are named in AWS's messages."""
        self.table("Existing", **PROVISIONED)
        raw, ours = self.both("create_table", TableName="Existing", **PROVISIONED)
        self.assertEqual(raw["Message"], "Cannot create preexisting table")
        self.assertEqual(
            ours, {"Code": "ResourceInUseException", "Message": "Table already exists: Existing"}
        )
        ttl = {"Enabled": True, "AttributeName": "expires"}
        for operation, more in [
            ("describe_table", {}),
            ("delete_table", {}),
            ("describe_time_to_live", {}),
            ("update_time_to_live", {"TimeToLiveSpecification": ttl}),
        ]:
            raw, ours = self.both(operation, TableName="Nowhere", **more)
            self.assertEqual(raw["Message"], "Cannot do operations on a non-existent table")
            self.assertEqual(
                ours,
                {
                    "Code": "ResourceNotFoundException",
                    "Message": "Requested resource not found: Table: Nowhere not found",
                },
            )

    def test_item_operations_on_missing_table(self) -> None:
        """
        An item operation on a missing table gets AWS's message, which does
        not name the table (DynamoDB Local's says the same for every operation).
        """
        key = {"id": {"S": "a"}}
        calls: list[tuple[str, dict[str, Any]]] = [
            ("get_item", {"TableName": "Nowhere", "Key": key}),
            ("put_item", {"TableName": "Nowhere", "Item": key}),
            ("update_item", {"TableName": "Nowhere", "Key": key}),
            ("delete_item", {"TableName": "Nowhere", "Key": key}),
            (
                "query",
                {
                    "TableName": "Nowhere",
                    "KeyConditionExpression": "id = :i",
                    "ExpressionAttributeValues": {":i": {"S": "a"}},
                },
            ),
            ("scan", {"TableName": "Nowhere"}),
            ("batch_get_item", {"RequestItems": {"Nowhere": {"Keys": [key]}}}),
            ("batch_write_item", {"RequestItems": {"Nowhere": [{"PutRequest": {"Item": key}}]}}),
            (
                "transact_get_items",
                {"TransactItems": [{"Get": {"TableName": "Nowhere", "Key": key}}]},
            ),
            (
                "transact_write_items",
                {"TransactItems": [{"Put": {"TableName": "Nowhere", "Item": key}}]},
            ),
        ]
        for operation, parameters in calls:
            raw, ours = self.both(operation, **parameters)
            self.assertEqual(
                raw,
                {
                    "Code": "ResourceNotFoundException",
                    "Message": "Cannot do operations on a non-existent table",
                },
                operation,
            )
            self.assertEqual(
                ours,
                {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"},
                operation,
            )

    def test_batch_write_keys(self) -> None:
        """A batch write whose key does not match the schema: AWS's one message for it."""
        self.table("Batch", **PROVISIONED)
        for item in ({"other": {"S": "x"}}, {"id": {"N": "1"}}):
            raw, ours = self.both(
                "batch_write_item", RequestItems={"Batch": [{"PutRequest": {"Item": item}}]}
            )
            self.assertEqual(raw["Code"], "ValidationException")
            self.assertNotEqual(raw["Message"], ours["Message"])
            self.assertEqual(
                ours,
                {
                    "Code": "ValidationException",
                    "Message": "The provided key element does not match the schema",
                },
            )

    def test_on_demand_with_capacity(self) -> None:
        """DynamoDB Local makes an on-demand table given capacities; AWS refuses it."""
        self.addCleanup(self.both, "delete_table", TableName="Both")
        raw, ours = self.both(
            "create_table", TableName="Both", **{**PROVISIONED, "BillingMode": "PAY_PER_REQUEST"}
        )
        self.assertEqual(raw["TableDescription"]["TableStatus"], "ACTIVE")
        self.assertEqual(ours["Code"], "ValidationException")
        self.assertEqual(
            ours["Message"],
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor"
            " WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        )
        self.assertEqual(self.ours.list_tables()["TableNames"].count("Both"), 0)

    def test_on_demand_index_with_capacity(self) -> None:
        """The same for an index of an on-demand table: AWS names the index."""
        self.addCleanup(self.both, "delete_table", TableName="Both")
        index = {**_INDEX, "ProvisionedThroughput": PROVISIONED["ProvisionedThroughput"]}
        raw, ours = self.both(
            "create_table", TableName="Both", **{**ON_DEMAND, "GlobalSecondaryIndexes": [index]}
        )
        self.assertEqual(raw["TableDescription"]["TableStatus"], "ACTIVE")
        self.assertEqual(
            ours,
            {
                "Code": "ValidationException",
                "Message": "One or more parameter values were invalid: ProvisionedThroughput"
                " should not be specified for index: byG when BillingMode is PAY_PER_REQUEST",
            },
        )
        self.assertEqual(self.ours.list_tables()["TableNames"].count("Both"), 0)

    def test_update_on_demand_with_capacity(self) -> None:
        """
        Capacities given to a table that is on demand, or becomes so, in an
        C{UpdateTable}, or to an index it creates: DynamoDB Local takes
        them, AWS refuses them; the table stays as it was.
        """
        self.table("Updated", **ON_DEMAND)
        capacity = PROVISIONED["ProvisionedThroughput"]
        created = {
            "Create": {
                **_INDEX,
                "IndexName": "second",
                "ProvisionedThroughput": capacity,
            }
        }
        invalid = "One or more parameter values were invalid: Neither ReadCapacityUnits nor"
        updates: list[tuple[dict[str, Any], str]] = [
            (
                {"ProvisionedThroughput": capacity},
                f"{invalid} WriteCapacityUnits can be specified when BillingMode is"
                " PAY_PER_REQUEST",
            ),
            (
                {"AttributeDefinitions": DEFINITIONS, "GlobalSecondaryIndexUpdates": [created]},
                f"{invalid} WriteCapacityUnits can be specified for index: second when"
                " BillingMode is PAY_PER_REQUEST",
            ),
        ]
        for update, message in updates:
            raw, ours = self.both("update_table", TableName="Updated", **update)
            self.assertIn("TableDescription", raw)
            self.assertEqual(ours, {"Code": "ValidationException", "Message": message})
        self.assertEqual(
            self.ours.describe_table(TableName="Updated")["Table"]["BillingModeSummary"][
                "BillingMode"
            ],
            "PAY_PER_REQUEST",
        )
        # A provisioned table made on demand in the same request is refused too.
        self.table("Provisioned", **PROVISIONED)
        raw, ours = self.both(
            "update_table",
            TableName="Provisioned",
            BillingMode="PAY_PER_REQUEST",
            ProvisionedThroughput=capacity,
        )
        self.assertEqual(ours["Code"], "ValidationException")

    def test_index_warm_throughput(self) -> None:
        """
        An index's warm throughput, given when the index is made or later:
        DynamoDB Local forgets it, and fails (a 500) on an index update that
        only gives it; AWS describes it, and it only ever increases.
        """
        warm = {"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000}
        index = {**_INDEX, "WarmThroughput": warm}
        raw, ours = self.table("Warmed", **{**ON_DEMAND, "GlobalSecondaryIndexes": [index]})
        self.assertNotIn("WarmThroughput", raw["GlobalSecondaryIndexes"][0])
        self.assertEqual(
            ours["GlobalSecondaryIndexes"][0]["WarmThroughput"], {**warm, "Status": "ACTIVE"}
        )
        more = {"Update": {"IndexName": "byG", "WarmThroughput": {"ReadUnitsPerSecond": 20000}}}
        raw, ours = self.both(
            "update_table", TableName="Warmed", GlobalSecondaryIndexUpdates=[more]
        )
        self.assertEqual(raw["Code"], "InternalFailure")
        self.assertEqual(
            ours["TableDescription"]["GlobalSecondaryIndexes"][0]["WarmThroughput"],
            {"ReadUnitsPerSecond": 20000, "WriteUnitsPerSecond": 5000, "Status": "ACTIVE"},
        )
        described = self.ours.describe_table(TableName="Warmed")["Table"]
        self.assertEqual(
            described["GlobalSecondaryIndexes"][0]["WarmThroughput"]["ReadUnitsPerSecond"], 20000
        )
        # An index deleted takes its warm throughput with it.
        self.ours.update_table(
            TableName="Warmed", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byG"}}]
        )
        deadline = time.monotonic() + 30
        while "GlobalSecondaryIndexes" in self.ours.describe_table(TableName="Warmed")["Table"]:
            self.assertLess(time.monotonic(), deadline, "the index was not deleted")
            time.sleep(0.1)
        again = self.ours.update_table(
            TableName="Warmed",
            AttributeDefinitions=DEFINITIONS,
            GlobalSecondaryIndexUpdates=[{"Create": _INDEX}],
        )["TableDescription"]
        self.assertEqual(
            again["GlobalSecondaryIndexes"][0]["WarmThroughput"],
            {**DEFAULT_WARM, "Status": "CREATING"},
        )

    def test_describe_limits(self) -> None:
        """
        DynamoDB Local answers C{DescribeLimits} with AWS's default quotas,
        passed on as they are: 40,000 read and write capacity units per
        table, 80,000 per account ("Read/write capacity mode and
        throughput", AWS's DynamoDB developer guide, Service quotas).
        """
        raw, ours = self.both("describe_limits")
        for answer in (raw, ours):
            answer.pop("ResponseMetadata")
            self.assertEqual(
                answer,
                {
                    "AccountMaxReadCapacityUnits": 80000,
                    "AccountMaxWriteCapacityUnits": 80000,
                    "TableMaxReadCapacityUnits": 40000,
                    "TableMaxWriteCapacityUnits": 40000,
                },
            )

    def test_billing_mode_summary(self) -> None:
        """
        C{BillingModeSummary} is described as AWS describes it, which is as
        DynamoDB Local does: not for a table never on demand ("You may need
        to switch to on-demand mode at least once in order to return a
        BillingModeSummary response", AWS's API reference of the type), and
        with the time on-demand mode was last set once it was.
        """
        raw, ours = self.table("Provisioned", **PROVISIONED)
        self.assertNotIn("BillingModeSummary", raw)
        self.assertNotIn("BillingModeSummary", ours)
        raw, ours = self.table("OnDemand", **ON_DEMAND)
        for table in (raw, ours):
            self.assertEqual(
                table["BillingModeSummary"],
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "LastUpdateToPayPerRequestDateTime": table["CreationDateTime"],
                },
            )
        capacity = PROVISIONED["ProvisionedThroughput"]
        index = {"Update": {"IndexName": "byG", "ProvisionedThroughput": capacity}}
        switched = self.ours.update_table(
            TableName="OnDemand",
            BillingMode="PROVISIONED",
            ProvisionedThroughput=capacity,
            GlobalSecondaryIndexUpdates=[index],
        )["TableDescription"]
        self.assertEqual(
            switched["BillingModeSummary"],
            {
                "BillingMode": "PROVISIONED",
                "LastUpdateToPayPerRequestDateTime": ours["CreationDateTime"],
            },
        )

    def test_provisioned_index_without_capacities(self) -> None:
        """A provisioned table's index given no capacities: AWS names the index."""
        self.addCleanup(self.both, "delete_table", TableName="Both")
        definition = {**PROVISIONED, "AttributeDefinitions": DEFINITIONS}
        raw, ours = self.both(
            "create_table", TableName="Both", GlobalSecondaryIndexes=[_INDEX], **definition
        )
        self.assertEqual(
            raw["Message"], "No provisioned throughput specified for the global secondary index"
        )
        self.assertEqual(
            ours,
            {
                "Code": "ValidationException",
                "Message": "One or more parameter values were invalid:"
                " ProvisionedThroughput is not specified for index: byG",
            },
        )

    def test_provisioned_without_index_capacities(self) -> None:
        """
        An on-demand table made provisioned without capacities for its
        index: DynamoDB Local fails (a 500), AWS refuses it; with them, both
        make it provisioned.
        """
        self.table("Switched", **ON_DEMAND)
        capacity = PROVISIONED["ProvisionedThroughput"]
        switch = {"BillingMode": "PROVISIONED", "ProvisionedThroughput": capacity}
        raw, ours = self.both("update_table", TableName="Switched", **switch)
        self.assertEqual(raw["Code"], "InternalFailure")
        self.assertEqual(
            ours,
            {
                "Code": "ValidationException",
                "Message": "One or more parameter values were invalid:"
                " ProvisionedThroughput is not specified for index: byG",
            },
        )
        index = {"Update": {"IndexName": "byG", "ProvisionedThroughput": capacity}}
        raw, ours = self.both(
            "update_table", TableName="Switched", GlobalSecondaryIndexUpdates=[index], **switch
        )
        for answer in (raw, ours):
            self.assertEqual(
                answer["TableDescription"]["BillingModeSummary"]["BillingMode"], "PROVISIONED"
            )
            self.assertEqual(
                answer["TableDescription"]["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"][
                    "ReadCapacityUnits"
                ],
                2,
            )

    def test_empty_parameters(self) -> None:
        """An empty C{Parameters} list: DynamoDB Local runs the statement, AWS refuses it."""
        self.table("Statements", **PROVISIONED)
        raw, ours = self.both(
            "execute_statement", Statement='SELECT * FROM "Statements"', Parameters=[]
        )
        self.assertEqual(raw["Items"], [])
        self.assertEqual(
            ours,
            {
                "Code": "ValidationException",
                "Message": "1 validation error detected: Value '[]' at 'parameters' failed to"
                " satisfy constraint: Member must have length greater than or equal to 1",
            },
        )

    def test_table_arns(self) -> None:
        """
        Tables named by ARN: DynamoDB Local refuses them in transactions, AWS
        takes them everywhere and answers with them where it names the table.
        """
        self.table("ByArn", **PROVISIONED)
        arn = self.ours.describe_table(TableName="ByArn")["Table"]["TableArn"]
        local_arn = "arn:aws:dynamodb:ddblocal:000000000000:table/ByArn"
        put = {"Put": {"Item": {"id": {"S": "a"}}}}
        with self.assertRaises(ClientError) as refused:
            self.raw.transact_get_items(
                TransactItems=[{"Get": {"TableName": local_arn, "Key": {"id": {"S": "a"}}}}]
            )
        self.assertEqual(refused.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.ours.transact_write_items(TransactItems=[{"Put": {**put["Put"], "TableName": arn}}])
        got = self.ours.transact_get_items(
            TransactItems=[{"Get": {"TableName": arn, "Key": {"id": {"S": "a"}}}}],
            ReturnConsumedCapacity="TOTAL",
        )
        self.assertEqual(got["Responses"], [{"Item": {"id": {"S": "a"}}}])
        self.assertEqual(got["ConsumedCapacity"][0]["TableName"], arn)
        batch = self.ours.batch_get_item(RequestItems={arn: {"Keys": [{"id": {"S": "a"}}]}})
        self.assertEqual(batch["Responses"], {arn: [{"id": {"S": "a"}}]})
        written = self.ours.batch_write_item(
            RequestItems={arn: [{"PutRequest": {"Item": {"id": {"S": "b"}}}}]},
            ReturnConsumedCapacity="TOTAL",
        )
        self.assertEqual(written["ConsumedCapacity"][0]["TableName"], arn)
        query = self.ours.query(
            TableName=arn,
            KeyConditionExpression="id = :b",
            ExpressionAttributeValues={":b": {"S": "b"}},
        )
        self.assertEqual(query["Items"], [{"id": {"S": "b"}}])
        got = self.ours.get_item(
            TableName=arn, Key={"id": {"S": "b"}}, ReturnConsumedCapacity="TOTAL"
        )
        self.assertEqual(got["Item"], {"id": {"S": "b"}})
        self.assertEqual(got["ConsumedCapacity"]["TableName"], arn)
        other = arn.replace(f":{ACCOUNT}:", ":123456789012:")
        with self.assertRaises(ClientError) as denied:
            self.ours.get_item(TableName=other, Key={"id": {"S": "a"}})
        self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDeniedException")

    def test_shard_iterators(self) -> None:
        """Shard iterators in AWS's form (C{<stream ARN>|1|...}), read back as DynamoDB Local's."""
        tables = self.table("Iterated", **PROVISIONED, StreamSpecification=STREAM)
        iterators = []
        for (account, url), client, table in zip(
            ((RAW_ACCOUNT, self.daemon.jvm_url()), (ACCOUNT, None)),
            (self.raw, self.ours),
            tables,
            strict=True,
        ):
            client.put_item(TableName="Iterated", Item={"id": {"S": "a"}})
            streams = self.daemon.client("dynamodbstreams", account, REGION, url)
            iterators.append(first_iterator(streams, table["LatestStreamArn"]))
            records = streams.get_records(ShardIterator=iterators[-1])
            self.assertEqual(len(records["Records"]), 1)
            self.assertTrue(records["NextShardIterator"].startswith(table["LatestStreamArn"] + "|"))
        self.assertIn("|001|", iterators[0])
        self.assertTrue(iterators[1].startswith(tables[1]["LatestStreamArn"] + "|1|"), iterators[1])


STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def first_iterator(streams: Any, arn: str) -> str:
    """A C{TRIM_HORIZON} iterator of the stream's first shard."""
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator: str = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return iterator


class StreamPersistenceTests(SynchronousTestCase):
    def test_restart(self) -> None:
        """With a data directory, a table's stream and its records outlive the daemon."""
        require_dynamodb_local()
        data = Path(self.mktemp()).absolute()
        log = Path(self.mktemp() + ".log").absolute()

        def start() -> tuple[Any, Any]:
            daemon = DynamoDBDaemon(log, "--services", "dynamodb", data_dir=data)
            self.addCleanup(daemon.stop)
            daemon.wait_running()
            self.daemon = daemon
            return (
                daemon.client("dynamodb", ACCOUNT, REGION),
                daemon.client("dynamodbstreams", ACCOUNT, REGION),
            )

        dynamodb, _ = start()
        table = dynamodb.create_table(
            TableName="Streamed", **PROVISIONED, StreamSpecification=STREAM
        )["TableDescription"]
        dynamodb.put_item(TableName="Streamed", Item={"id": {"S": "a"}})
        self.daemon.stop()
        dynamodb, streams = start()
        arn = table["LatestStreamArn"]
        self.assertEqual(
            dynamodb.describe_table(TableName="Streamed")["Table"]["LatestStreamArn"], arn
        )
        self.assertEqual(
            [stream["StreamArn"] for stream in streams.list_streams()["Streams"]], [arn]
        )
        [record] = streams.get_records(ShardIterator=first_iterator(streams, arn))["Records"]
        self.assertEqual(
            (record["eventName"], record["awsRegion"], record["dynamodb"]["Keys"]),
            ("INSERT", REGION, {"id": {"S": "a"}}),
        )
