"""
Event source mappings: filter patterns, the poller on a fake clock with a
fake stream, and through boto3 against a real daemon serving DynamoDB
and Lambda, from the control plane's shapes and errors to a DynamoDB
write that reaches a function through its table's stream.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import attrs
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_ import errors
from awsemu.lambda_.filters import matches, selected
from awsemu.lambda_.functions import Document, FunctionStore, Scope
from awsemu.lambda_.invocations import Outcome
from awsemu.lambda_.pollers import MappingPoller
from awsemu.protocol.errors import ServiceError
from tests.dynamodb_support import DynamoDBDaemon, require_dynamodb_local, wait_for
from tests.lambda_support import ROLE, zipped

SCOPE = ("000000000000", "us-east-1")
STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:f"


def record(number: int, name: str = "INSERT") -> Document:
    return {
        "eventID": str(number),
        "eventName": name,
        "dynamodb": {"Keys": {"id": {"S": str(number)}}, "SequenceNumber": str(number)},
    }


class FilterTests(SynchronousTestCase):
    def test_patterns(self) -> None:
        item = {
            "eventName": "INSERT",
            "dynamodb": {"NewImage": {"kind": {"S": "order-7"}, "total": {"N": "12"}}},
        }
        cases: list[tuple[dict[str, Any], bool]] = [
            ({"eventName": ["INSERT"]}, True),
            ({"eventName": ["MODIFY", "REMOVE"]}, False),
            ({"dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "order-"}]}}}}, True),
            ({"dynamodb": {"NewImage": {"kind": {"S": [{"suffix": "-8"}]}}}}, False),
            ({"dynamodb": {"NewImage": {"missing": [{"exists": False}]}}}, True),
            ({"dynamodb": {"NewImage": {"kind": [{"exists": True}]}}}, True),
            ({"eventName": [{"anything-but": ["REMOVE"]}]}, True),
            ({"eventName": [{"equals-ignore-case": "insert"}]}, True),
            ({"dynamodb": {"NewImage": {"kind": "order-7"}}}, False),
        ]
        self.assertEqual([(p, matches(p, item)) for p, _ in cases], cases)
        criteria = {"Filters": [{"Pattern": json.dumps({"eventName": ["REMOVE"]})}]}
        records = [record(1), record(2, "REMOVE")]
        self.assertEqual(selected(criteria, records), [records[1]])
        self.assertEqual(selected(None, records), records)


@attrs.define
class FakeStream:
    """
    One shard of ``items``; iterators are positions (``TRIM_HORIZON`` 0,
    ``LATEST`` the end); ``missing``: the stream is not found.
    """

    items: list[Document] = attrs.field(factory=list)
    kinds: list[str] = attrs.field(factory=list)
    missing: bool = False
    listings: int = 0

    async def describe(self, arn: str) -> Document:
        self.listings += 1
        if self.missing:
            raise ServiceError("ResourceNotFoundException", "Requested resource not found", 400)
        return {"StreamArn": arn, "Shards": [{"ShardId": "shard-1"}]}

    async def iterator(
        self, arn: str, shard_id: str, kind: str, sequence_number: str | None = None
    ) -> str:
        self.kinds.append(kind)
        return "0" if kind == "TRIM_HORIZON" else str(len(self.items))

    async def records(
        self, arn: str, iterator: str, limit: int
    ) -> tuple[list[Document], str | None]:
        start = int(iterator)
        chosen = self.items[start : start + limit]
        return chosen, str(start + len(chosen))


@attrs.define
class Deliveries:
    """
    Records each delivered batch; is throttled while ``throttled`` says so,
    fails while ``failing`` says so, then answers ``answers`` in turn (then
    ``null``).
    """

    throttled: int = 0
    failing: int = 0
    batches: list[list[str]] = attrs.field(factory=list)
    answers: list[Any] = attrs.field(factory=list)

    def __call__(self, scope: Scope, arn: str, payload: bytes) -> Deferred[Outcome]:
        records = json.loads(payload)["Records"]
        self.batches.append([r["eventID"] for r in records])
        assert all(r["eventSourceARN"] == STREAM for r in records)
        if self.throttled:
            self.throttled -= 1
            return fail(errors.throttled("ReservedFunctionConcurrentInvocationLimitExceeded"))
        if self.failing:
            self.failing -= 1
            return succeed(Outcome(b"{}", "Unhandled"))
        answer = self.answers.pop(0) if self.answers else None
        return succeed(Outcome(json.dumps(answer).encode()))


class PollerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.store = FunctionStore.open(None)
        self.stream = FakeStream([record(n) for n in range(5)])
        self.deliveries = Deliveries()
        self.poller = MappingPoller(self.store, self.clock, self.deliveries, self.stream)
        self.poller.startService()
        self.addCleanup(self.poller.stopService)

    def add(self, **settings: Any) -> Document:
        mapping = {
            "UUID": "u",
            "EventSourceArn": STREAM,
            "FunctionArn": FUNCTION,
            "State": "Creating",
            "_Enabled": True,
            "BatchSize": 2,
            "StartingPosition": "TRIM_HORIZON",
            "MaximumRetryAttempts": -1,
            **settings,
        }
        self.store.mappings[SCOPE] = {"u": mapping}
        return mapping

    def test_states_settle(self) -> None:
        mapping = self.add(_Enabled=False)
        self.clock.advance(0.25)
        self.assertEqual(mapping["State"], "Disabled")
        self.assertEqual(self.deliveries.batches, [])
        mapping["State"], mapping["_Enabled"] = "Enabling", True
        self.clock.advance(0.25)
        self.assertEqual(mapping["State"], "Enabled")
        mapping["State"] = "Deleting"
        self.clock.advance(0.25)
        self.assertEqual(self.store.mappings[SCOPE], {})

    def test_batches_in_order(self) -> None:
        mapping = self.add()
        for _ in range(4):
            self.clock.advance(0.25)
        self.assertEqual(self.deliveries.batches, [["0", "1"], ["2", "3"], ["4"]])
        self.assertEqual(mapping["LastProcessingResult"], "OK")
        self.assertEqual(self.stream.listings, 1)
        self.clock.advance(10)
        self.assertEqual(self.stream.listings, 2)
        self.stream.items.append(record(5))
        self.clock.advance(0.25)
        self.assertEqual(self.deliveries.batches[-1], ["5"])

    def test_latest_and_filters(self) -> None:
        self.add(
            StartingPosition="LATEST",
            FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["REMOVE"]})}]},
        )
        self.clock.advance(0.25)
        self.stream.items.extend([record(5), record(6, "REMOVE")])
        self.clock.advance(0.25)
        self.clock.advance(0.25)
        self.assertEqual(self.stream.kinds, ["LATEST"])
        self.assertEqual(self.deliveries.batches, [["6"]])

    def test_retries_then_skips(self) -> None:
        mapping = self.add(MaximumRetryAttempts=1)
        self.deliveries.failing = 2
        self.clock.advance(0.25)
        self.assertEqual(mapping["LastProcessingResult"], "PROBLEM: Function call failed")
        for _ in range(3):
            self.clock.advance(0.25)
        self.assertEqual(self.deliveries.batches, [["0", "1"], ["0", "1"], ["2", "3"], ["4"]])

    def test_throttles_are_retried_without_counting(self) -> None:
        """
        A throttled batch is tried again at each poll, whole, however many
        times: throttles are no function errors.
        """
        mapping = self.add(MaximumRetryAttempts=0, BisectBatchOnFunctionError=True)
        self.deliveries.throttled = 3
        for _ in range(6):
            self.clock.advance(0.25)
        self.assertEqual(
            self.deliveries.batches,
            [["0", "1"], ["0", "1"], ["0", "1"], ["0", "1"], ["2", "3"], ["4"]],
        )
        self.assertEqual(mapping["LastProcessingResult"], "OK")

    def test_bisect(self) -> None:
        self.add(BisectBatchOnFunctionError=True, BatchSize=4)
        self.deliveries.failing = 1
        for _ in range(4):
            self.clock.advance(0.25)
        self.assertEqual(
            self.deliveries.batches, [["0", "1", "2", "3"], ["0", "1"], ["2", "3"], ["4"]]
        )

    def test_partial_batch_failures(self) -> None:
        """With ReportBatchItemFailures, delivery resumes at the first failed record."""
        self.add(BatchSize=3, FunctionResponseTypes=["ReportBatchItemFailures"])
        self.deliveries.answers = [
            {"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "1"}]},
            {"batchItemFailures": [{"itemIdentifier": "nope"}]},
            {"batchItemFailures": []},
        ]
        for _ in range(4):
            self.clock.advance(0.25)
        self.assertEqual(
            self.deliveries.batches, [["0", "1", "2"], ["1", "2"], ["1", "2"], ["3", "4"]]
        )

    def test_old_records_are_skipped(self) -> None:
        self.add(MaximumRecordAgeInSeconds=60)
        now = self.clock.seconds()
        self.stream.items[0]["dynamodb"]["ApproximateCreationDateTime"] = now - 120
        self.stream.items[1]["dynamodb"]["ApproximateCreationDateTime"] = now
        self.clock.advance(0.25)
        self.assertEqual(self.deliveries.batches, [["1"]])

    def test_unreadable_stream_rests(self) -> None:
        """A stream that cannot be read is tried again after a rest, from the start position."""
        self.add()
        self.stream.missing = True
        self.clock.advance(0.25)
        self.stream.missing = False
        self.clock.advance(0.25)
        self.assertEqual(self.deliveries.batches, [])
        self.clock.advance(30)
        self.assertEqual(self.deliveries.batches, [["0", "1"]])

    def test_stop(self) -> None:
        self.add()
        self.successResultOf(self.poller.stopService())
        self.clock.advance(5)
        self.assertEqual(self.deliveries.batches, [])
        self.assertEqual(self.clock.getDelayedCalls(), [])


HANDLER = """
import json
import shutil


def handler(event, context):
    print("records", json.dumps(event))
"""


class MappingDaemonTests(SynchronousTestCase):
    """The control plane and a real delivery, with DynamoDB Local and the process executor."""

    def setUp(self) -> None:
        require_dynamodb_local()
        self.directory = Path(tempfile.mkdtemp(prefix="awsemu-mappings-"))
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.daemon = DynamoDBDaemon(
            self.directory / "awsemu.log",
            "--services",
            "dynamodb,lambda,logs",
            "--lambda-executor",
            "process",
        )
        self.addCleanup(self.daemon.stop)
        self.daemon.wait_running()
        self.lambda_ = self.daemon.client("lambda", "000000000000", "us-east-1")
        self.dynamodb = self.daemon.client("dynamodb", "000000000000", "us-east-1")
        self.name = f"f-{uuid.uuid4().hex[:8]}"
        self.lambda_.create_function(
            FunctionName=self.name,
            Runtime="python3.11",
            Role=ROLE,
            Handler="index.handler",
            Code={"ZipFile": zipped({"index.py": HANDLER})},
        )
        table = self.dynamodb.create_table(
            TableName="items",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.stream = table["TableDescription"]["LatestStreamArn"]

    def error(self, **params: Any) -> tuple[str, str]:
        with self.assertRaises(ClientError) as raised:
            self.lambda_.create_event_source_mapping(**params)
        error = raised.exception.response["Error"]
        return error["Code"], error["Message"]

    def test_errors(self) -> None:
        by_function = {"FunctionName": self.name}
        self.assertEqual(
            self.error(EventSourceArn=self.stream, **by_function),
            (
                "InvalidParameterValueException",
                "1 validation error detected: Value null at 'startingPosition' failed to"
                " satisfy constraint: Member must not be null.",
            ),
        )
        self.assertEqual(
            self.error(EventSourceArn=self.stream, StartingPosition="AT_TIMESTAMP", **by_function),
            (
                "InvalidParameterValueException",
                f"Unsupported starting position for arn type: {self.stream}",
            ),
        )
        missing = self.stream.replace("table/items/", "table/nothing/")
        self.assertEqual(
            self.error(EventSourceArn=missing, StartingPosition="LATEST", **by_function),
            ("InvalidParameterValueException", f"Stream not found: {missing}"),
        )
        queue = "arn:aws:sqs:us-east-1:000000000000:q"
        self.assertEqual(
            self.error(EventSourceArn=queue, **by_function)[1],
            "Error occurred while ReceiveMessage. SQS Error Code:"
            " AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue"
            " does not exist for this wsdl version.",
        )
        self.assertEqual(
            self.error(EventSourceArn=self.stream, StartingPosition="LATEST", FunctionName="no"),
            ("InvalidParameterValueException", "Function does not exist"),
        )
        unchecked = boto3.client(
            "lambda",
            endpoint_url=self.daemon.url,
            region_name="us-east-1",
            aws_access_key_id="000000000000",
            aws_secret_access_key="secret",
            config=Config(parameter_validation=False),
        )
        with self.assertRaises(ClientError) as raised:
            unchecked.create_event_source_mapping(
                EventSourceArn=self.stream, StartingPosition="LATEST", BatchSize=0, **by_function
            )
        self.assertEqual(
            raised.exception.response["Error"],
            {
                "Code": "ValidationException",
                "Message": "1 validation error detected: Value '0' at 'batchSize' failed to"
                " satisfy constraint: Member must have value greater than or equal to 1",
            },
        )
        self.assertEqual(
            self.error(
                EventSourceArn=self.stream,
                StartingPosition="LATEST",
                FilterCriteria={"Filters": [{"Pattern": "[1]"}]},
                **by_function,
            ),
            ("InvalidParameterValueException", "Invalid filter pattern definition."),
        )
        with self.assertRaises(ClientError) as raised:
            self.lambda_.get_event_source_mapping(UUID=str(uuid.uuid4()))
        self.assertEqual(raised.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_lifecycle_and_delivery(self) -> None:
        created = self.lambda_.create_event_source_mapping(
            EventSourceArn=self.stream,
            FunctionName=self.name,
            StartingPosition="TRIM_HORIZON",
            Tags={"team": "a"},
        )
        self.assertEqual(created["ResponseMetadata"]["HTTPStatusCode"], 202)
        expected = {
            "BatchSize": 100,
            "MaximumBatchingWindowInSeconds": 0,
            "ParallelizationFactor": 1,
            "StartingPosition": "TRIM_HORIZON",
            "State": "Creating",
            "StateTransitionReason": "User action",
            "LastProcessingResult": "No records processed",
            "DestinationConfig": {"OnFailure": {}},
            "MaximumRecordAgeInSeconds": -1,
            "BisectBatchOnFunctionError": False,
            "MaximumRetryAttempts": -1,
            "TumblingWindowInSeconds": 0,
            "FunctionResponseTypes": [],
            "EventSourceArn": self.stream,
            "FunctionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{self.name}",
        }
        self.assertEqual({key: created[key] for key in expected}, expected)
        uuid_ = created["UUID"]
        self.assertEqual(
            created["EventSourceMappingArn"],
            f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{uuid_}",
        )
        self.assertEqual(
            self.lambda_.list_tags(Resource=created["EventSourceMappingArn"])["Tags"],
            {"team": "a"},
        )
        self.assertEqual(
            self.error(
                EventSourceArn=self.stream, StartingPosition="LATEST", FunctionName=self.name
            )[0],
            "ResourceConflictException",
        )

        def state() -> str:
            return str(self.lambda_.get_event_source_mapping(UUID=uuid_)["State"])

        wait_for(lambda: state() == "Enabled", 10, "the mapping to be enabled")
        listed = self.lambda_.list_event_source_mappings(FunctionName=self.name)
        self.assertEqual([m["UUID"] for m in listed["EventSourceMappings"]], [uuid_])

        self.dynamodb.put_item(TableName="items", Item={"id": {"S": "a"}, "n": {"N": "1"}})
        logs = self.daemon.client("logs", "000000000000", "us-east-1")
        found: list[Any] = []

        def delivered() -> bool:
            try:
                events = logs.filter_log_events(
                    logGroupName=f"/aws/lambda/{self.name}", filterPattern="records"
                )["events"]
            except ClientError:
                return False
            found[:] = [json.loads(e["message"].split(" ", 1)[1]) for e in events]
            return bool(found)

        wait_for(delivered, 30, "the record to reach the function")
        (event,) = found
        (item,) = event["Records"]
        self.assertEqual(
            {key: item[key] for key in ("eventName", "eventSource", "awsRegion", "eventSourceARN")},
            {
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "eventSourceARN": self.stream,
            },
        )
        self.assertEqual(item["dynamodb"]["Keys"], {"id": {"S": "a"}})
        self.assertEqual(item["dynamodb"]["NewImage"], {"id": {"S": "a"}, "n": {"N": "1"}})
        self.assertEqual(item["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES")
        self.assertIn("SequenceNumber", item["dynamodb"])

        updated = self.lambda_.update_event_source_mapping(UUID=uuid_, Enabled=False)
        self.assertEqual(updated["State"], "Disabling")
        wait_for(lambda: state() == "Disabled", 10, "the mapping to be disabled")
        self.assertEqual(
            self.lambda_.update_event_source_mapping(UUID=uuid_, BatchSize=5)["State"],
            "Updating",
        )
        deleted = self.lambda_.delete_event_source_mapping(UUID=uuid_)
        self.assertEqual(deleted["State"], "Deleting")

        def gone() -> bool:
            return not self.lambda_.list_event_source_mappings()["EventSourceMappings"]

        wait_for(gone, 10, "the mapping to be deleted")

    def test_throttled_batches_wait(self) -> None:
        """
        With no concurrency left (a reservation of 0) the batch waits, even
        with ``MaximumRetryAttempts`` 0, and reaches the function once the
        reservation is gone.
        """
        self.lambda_.put_function_concurrency(
            FunctionName=self.name, ReservedConcurrentExecutions=0
        )
        created = self.lambda_.create_event_source_mapping(
            EventSourceArn=self.stream,
            FunctionName=self.name,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=0,
        )
        uuid_ = created["UUID"]

        def state() -> str:
            return str(self.lambda_.get_event_source_mapping(UUID=uuid_)["State"])

        wait_for(lambda: state() == "Enabled", 10, "the mapping to be enabled")
        self.dynamodb.put_item(TableName="items", Item={"id": {"S": "a"}})
        logs = self.daemon.client("logs", "000000000000", "us-east-1")

        def delivered() -> bool:
            try:
                events = logs.filter_log_events(
                    logGroupName=f"/aws/lambda/{self.name}", filterPattern="records"
                )["events"]
            except ClientError:
                return False
            return bool(events)

        # Several polls (four a second) are throttled meanwhile.
        time.sleep(2)
        self.assertFalse(delivered())
        self.lambda_.delete_function_concurrency(FunctionName=self.name)
        wait_for(delivered, 30, "the record to reach the function")
