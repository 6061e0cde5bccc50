"""
C{CreateTable}, C{DescribeTable}, C{UpdateTable} and C{DeleteTable}:
the four forwarded operations whose requests the proxy reads and whose
answers it rewrites (L{awsemu.dynamodb.descriptions}). What DynamoDB Local
forgets of a table (tags, settings) is kept in the table store, what it
would take and AWS refuses is refused before it is forwarded
(L{awsemu.dynamodb.errors}), and C{ReplicaUpdates} are carried out by
L{Replication}.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Final, cast

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.dynamodb.descriptions import (
    DESCRIBED,
    describe,
    forwarded_update,
    requested_settings,
    settled,
)
from awsemu.dynamodb.errors import (
    capacity_indexes,
    capacity_refusal,
    index_actions,
    index_capacity_missing,
    reword,
)
from awsemu.dynamodb.messages import describe_table, json_document, with_body
from awsemu.dynamodb.replicas import Replication
from awsemu.dynamodb.tables import TableStore
from awsemu.dynamodb.tags import parse_tags
from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse

_CREATE_TABLE: Final = "DynamoDB_20120810.CreateTable"
_UPDATE_TABLE: Final = "DynamoDB_20120810.UpdateTable"
_DELETE_TABLE: Final = "DynamoDB_20120810.DeleteTable"

Forward = Callable[[RequestContext, HttpRequest, bytes], Awaitable[HttpResponse]]
"""A request with a body sent to DynamoDB Local in the caller's database: its answer."""

Call = Callable[[RequestContext, str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""An operation of the proxy's own sent to DynamoDB Local: its answer, or its error."""


@attrs.frozen
class TableOperations:
    """
    The table operations, sent to DynamoDB Local with ``forward`` and
    ``call``, with what is kept of tables in ``tables`` and global tables
    made by ``replication``.
    """

    forward: Forward
    call: Call
    tables: TableStore
    replication: Replication
    clock: IReactorTime

    async def answer(
        self, context: RequestContext, target: str, request: HttpRequest, body: bytes
    ) -> HttpResponse:
        """
        Forward a C{CreateTable}, C{DescribeTable}, C{UpdateTable} or
        C{DeleteTable}; keep what DynamoDB Local ignores of it (tags,
        settings), and answer with the table described as AWS describes it.
        Tags and settings it would refuse are refused before any change.
        """
        document = json_document(body)
        name = document.get("TableName")
        updating = target == _UPDATE_TABLE
        if target == _CREATE_TABLE or updating:
            await self._check_capacities(context, document, updating)
        tags = document.get("Tags") if target == _CREATE_TABLE else None
        parsed = {} if tags is None else parse_tags(tags)
        settings = (
            requested_settings(document, context, self.clock.seconds(), updating=updating)
            if updating or target == _CREATE_TABLE
            else {}
        )
        member = DESCRIBED[target]
        rest = forwarded_update(document) if updating else document
        if rest is not document:
            if rest.keys() <= {"TableName"}:
                request, member = describe_table(name), "Table"
                body = request.read_body()
            else:
                body = json.dumps(rest).encode()
        response = await self.forward(context, request, body)
        if response.status != 200:
            return with_body(response, reword(target, cast(bytes, response.body), name))
        table = json.loads(cast(bytes, response.body))[member]
        arn, created = table["TableArn"], table["CreationDateTime"]
        if parsed:
            self.tables.tag(arn, created, parsed)
        if settings:
            self.tables.settle(arn, created, **settled(self.tables.record(arn, created), settings))
        if updating and "ReplicaUpdates" in document:
            await self.replication.update(context, table, document["ReplicaUpdates"])
        record = self.tables.record(arn, created)
        describe(table, record)
        if target == _DELETE_TABLE:
            self.tables.forget(arn)
            if record.get("Replicas"):
                others = [r for r in record["Replicas"] if r != context.region]
                await self.replication.regroup(context, table["TableName"], others)
        answer = json.dumps({DESCRIBED[target]: table}, separators=(",", ":")).encode()
        return with_body(response, answer)

    async def _check_capacities(
        self, context: RequestContext, document: dict[str, Any], updating: bool
    ) -> None:
        """
        Refuse a C{CreateTable} or C{UpdateTable} (``updating``) ``document``
        as AWS does (L{capacity_refusal}, L{index_capacity_missing}) if it
        gives capacities to a table on demand once it is carried out (as the
        document says, or, for an update that does not say, as the table
        is), or makes a provisioned table, or an on-demand table
        provisioned, without giving each of its indexes capacities. A table
        DynamoDB Local does not find is left to its answer.
        """
        mode = document.get("BillingMode")
        given = "ProvisionedThroughput" in document or bool(capacity_indexes(document))
        if not updating and mode == "PAY_PER_REQUEST":
            refused = capacity_refusal(document, True)
        elif not updating:
            refused = next(
                (
                    index_capacity_missing(index["IndexName"])
                    for _, index in index_actions(document)
                    if isinstance(index.get("IndexName"), str)
                    and "ProvisionedThroughput" not in index
                ),
                None,
            )
        elif not (given or mode == "PROVISIONED"):
            return
        else:
            try:
                described = await self.call(
                    context, "DescribeTable", {"TableName": document.get("TableName")}
                )
            except ServiceError:
                return
            table = described["Table"]
            current = table.get("BillingModeSummary", {}).get("BillingMode")
            refused = None
            if (mode or current) == "PAY_PER_REQUEST":
                refused = capacity_refusal(document, False)
            elif mode == "PROVISIONED" and current == "PAY_PER_REQUEST":
                updated = set(capacity_indexes(document))
                for index in table.get("GlobalSecondaryIndexes", ()):
                    if index["IndexName"] not in updated:
                        refused = index_capacity_missing(index["IndexName"])
                        break
        if refused is not None:
            raise refused
