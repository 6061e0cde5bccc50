"""
The stream reader other services use, against a fake DynamoDB service:
the requests it makes (as the stream's account and region), shard
listings over several pages, and DynamoDB's errors as ``ServiceError``.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.dynamodb.streams import StreamReader, stream_scope
from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse

STREAM = "arn:aws:dynamodb:eu-west-1:111111111111:table/items/stream/2024-01-01T00:00:00.000"


class FakeDynamoDB:
    """Answers each request with the next of ``answers`` (status, document); records requests."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[str, str, str, Any]] = []

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        target = request.headers["x-amz-target"]
        body = json.loads(request.read_body())
        self.requests.append((context.account_id, context.region, target, body))
        status, document = self.answers.pop(0)
        return HttpResponse(status, [], json.dumps(document).encode())


class StreamReaderTests(SynchronousTestCase):
    def run_(self, coroutine: Any) -> Any:
        return self.successResultOf(Deferred.fromCoroutine(coroutine))

    def test_scope(self) -> None:
        self.assertEqual(stream_scope(STREAM), ("111111111111", "eu-west-1"))
        self.assertIsNone(stream_scope("arn:aws:sqs:us-east-1:111111111111:q"))

    def test_describe_pages_and_reads(self) -> None:
        dynamodb = FakeDynamoDB(
            (
                200,
                {"StreamDescription": {"Shards": [{"ShardId": "a"}], "LastEvaluatedShardId": "a"}},
            ),
            (200, {"StreamDescription": {"StreamStatus": "ENABLED", "Shards": [{"ShardId": "b"}]}}),
            (200, {"ShardIterator": "it-1"}),
            (200, {"Records": [{"eventID": "1"}], "NextShardIterator": "it-2"}),
        )
        reader = StreamReader(dynamodb, MemoryReactorClock())
        description = self.run_(reader.describe(STREAM))
        self.assertEqual(
            description, {"StreamStatus": "ENABLED", "Shards": [{"ShardId": "a"}, {"ShardId": "b"}]}
        )
        iterator = self.run_(reader.iterator(STREAM, "b", "AFTER_SEQUENCE_NUMBER", "42"))
        self.assertEqual(iterator, "it-1")
        records = self.run_(reader.records(STREAM, "it-1", 10))
        self.assertEqual(records, ([{"eventID": "1"}], "it-2"))
        prefix = "DynamoDBStreams_20120810."
        self.assertEqual(
            dynamodb.requests,
            [
                ("111111111111", "eu-west-1", prefix + "DescribeStream", {"StreamArn": STREAM}),
                (
                    "111111111111",
                    "eu-west-1",
                    prefix + "DescribeStream",
                    {"StreamArn": STREAM, "ExclusiveStartShardId": "a"},
                ),
                (
                    "111111111111",
                    "eu-west-1",
                    prefix + "GetShardIterator",
                    {
                        "StreamArn": STREAM,
                        "ShardId": "b",
                        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                        "SequenceNumber": "42",
                    },
                ),
                (
                    "111111111111",
                    "eu-west-1",
                    prefix + "GetRecords",
                    {"ShardIterator": "it-1", "Limit": 10},
                ),
            ],
        )

    def test_errors(self) -> None:
        missing = {
            "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            "message": "Requested resource not found: Stream: x not found",
        }
        reader = StreamReader(FakeDynamoDB((400, missing)), MemoryReactorClock())
        error = self.failureResultOf(
            Deferred.fromCoroutine(reader.describe(STREAM)), ServiceError
        ).value
        assert isinstance(error, ServiceError)
        self.assertEqual(
            (error.code, error.message, error.status),
            ("ResourceNotFoundException", missing["message"], 400),
        )
        bad = self.failureResultOf(
            Deferred.fromCoroutine(reader.describe("not-an-arn")), ServiceError
        ).value
        assert isinstance(bad, ServiceError)
        self.assertEqual(bad.code, "ValidationException")
