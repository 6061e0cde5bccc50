"""
A reader of DynamoDB Streams for other parts of the daemon: Lambda's
event source mappings today, global tables' replication later.

It asks the daemon's own DynamoDB service (``DynamoDBProxy.handle``), in
the process, as the stream's account and region would: the request takes
the path of any SDK's ``DynamoDBStreams_20120810`` call (account and
region isolation, ARNs and ``awsRegion`` made public) without a socket
or a signature. Errors come back as ``ServiceError`` with DynamoDB's code
and message (``ResourceNotFoundException`` for a stream that does not
exist, ``ExpiredIteratorException``...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from io import BytesIO
from typing import Any, Final, Protocol

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext, internal_context
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import Headers, HttpRequest, HttpResponse

STREAM_ARN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:dynamodb:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"table/(?P<table>[a-zA-Z0-9_.-]+)/stream/(?P<label>.+)"
)

Document = dict[str, Any]


class DynamoDBHandler(Protocol):
    """What serves DynamoDB requests: ``DynamoDBProxy``."""

    def handle(self, context: RequestContext, request: HttpRequest) -> Awaitable[HttpResponse]: ...


def stream_scope(arn: str) -> tuple[str, str] | None:
    """The account and region of a stream ARN; None if ``arn`` is not one."""
    found = STREAM_ARN.fullmatch(arn)
    return None if found is None else (found.group("account"), found.group("region"))


@attrs.frozen
class StreamReader:
    """Stream operations through ``dynamodb``, as the account and region of each stream."""

    dynamodb: DynamoDBHandler
    clock: IReactorTime

    async def call(self, scope: tuple[str, str], operation: str, document: Document) -> Document:
        account_id, region = scope
        context = internal_context(
            "awsemu-stream-reader", account_id, region, "dynamodb", self.clock.seconds()
        )
        request = HttpRequest(
            "POST",
            "/",
            headers=Headers(
                [
                    ("X-Amz-Target", f"DynamoDBStreams_20120810.{operation}"),
                    ("Content-Type", "application/x-amz-json-1.0"),
                ]
            ),
            body=BytesIO(json.dumps(document).encode()),
        )
        response = await self.dynamodb.handle(context, request)
        body = response.body if isinstance(response.body, bytes) else response.body.read()
        answer: Document = json.loads(body or b"{}")
        if response.status >= 400:
            code = str(answer.get("__type", "InternalServerError")).rpartition("#")[2]
            message = answer.get("message") or answer.get("Message") or ""
            raise ServiceError(code, message, response.status)
        return answer

    async def describe(self, arn: str) -> Document:
        """``StreamDescription`` of the stream ``arn`` (all its shards)."""
        scope = _scope(arn)
        description: Document = {}
        shards: list[Document] = []
        request: Document = {"StreamArn": arn}
        while True:
            answer = (await self.call(scope, "DescribeStream", request))["StreamDescription"]
            description = answer
            shards.extend(answer.get("Shards", []))
            last = answer.get("LastEvaluatedShardId")
            if not last:
                break
            request = {"StreamArn": arn, "ExclusiveStartShardId": last}
        return {**description, "Shards": shards}

    async def iterator(
        self, arn: str, shard_id: str, kind: str, sequence_number: str | None = None
    ) -> str:
        """A shard iterator: ``TRIM_HORIZON``, ``LATEST``, ``AFTER_SEQUENCE_NUMBER``..."""
        request: Document = {"StreamArn": arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence_number is not None:
            request["SequenceNumber"] = sequence_number
        answer = await self.call(_scope(arn), "GetShardIterator", request)
        return str(answer["ShardIterator"])

    async def records(
        self, arn: str, iterator: str, limit: int
    ) -> tuple[list[Document], str | None]:
        """Up to ``limit`` records from ``iterator``, and the next iterator (None: shard closed)."""
        answer = await self.call(
            _scope(arn), "GetRecords", {"ShardIterator": iterator, "Limit": limit}
        )
        return list(answer.get("Records", [])), answer.get("NextShardIterator")


def _scope(arn: str) -> tuple[str, str]:
    scope = stream_scope(arn)
    if scope is None:
        raise ServiceError("ValidationException", f"Invalid StreamArn: {arn}", 400)
    return scope
