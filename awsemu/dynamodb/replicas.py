"""
Global tables, version 2019.11.21, which DynamoDB Local lacks (it answers
an C{UpdateTable} of only C{ReplicaUpdates} with "Nothing to update"):

- C{ReplicaUpdates}' C{Create} makes the table in the other region of the
  same account (same keys, indexes and capacity, a C{NEW_AND_OLD_IMAGES}
  stream, its encryption and class: L{replica_settings}), copies its
  items there, and records the group (every member's region) in each
  member's record of the table store; C{Delete} deletes
  the replica and takes it out of the group. Descriptions then carry
  C{Replicas} and C{GlobalTableVersion}.
- L{Replication} keeps the members in sync through their streams, read
  with the daemon's stream reader (L{awsemu.dynamodb.streams}): every
  C{INSERT}/C{MODIFY} is put, every C{REMOVE} deleted, in the other
  members. A write it makes comes back in that member's own stream; it
  is recognised (keys and image) and not sent back.

Streams are read every L{POLL_INTERVAL} seconds from where the previous
read stopped. A daemon started on a data directory reads each member's
stream from its oldest record: what was written while no daemon ran is
replicated, and what an earlier daemon replicated already is put again,
which changes nothing. As in AWS, a member's stream must be
C{NEW_AND_OLD_IMAGES}, and the last write wins.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, Final

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from awsemu.dynamodb.backups import scan_all, table_definition, write_all
from awsemu.dynamodb.descriptions import replica_settings
from awsemu.dynamodb.errors import client_error
from awsemu.dynamodb.streams import StreamReader
from awsemu.dynamodb.tables import TableStore
from awsemu.gateway.context import RequestContext, internal_context
from awsemu.protocol.errors import ServiceError

POLL_INTERVAL: Final = 0.5
"""Seconds between two reads of every member's stream."""

Call = Callable[[RequestContext, str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""A DynamoDB operation sent to DynamoDB Local in a context's database: answer, or error."""

_STREAM: Final = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def _in_region(context: RequestContext, region: str) -> RequestContext:
    return attrs.evolve(context, region=region)


def _parts(table_arn: str) -> tuple[str, str, str]:
    """The region, account and name of a table ARN."""
    _, _, _, region, account, resource = table_arn.split(":", 5)
    return region, account, resource.partition("/")[2]


def _fingerprint(keys: Any, image: Any) -> str:
    return json.dumps([keys, image], sort_keys=True, separators=(",", ":"))


@attrs.define
class Replication:
    """
    The global tables of the daemon: their creation (L{update}) and their
    replication, through ``call`` (DynamoDB Local, in any region's
    database) and ``reader`` (their streams).
    """

    call: Call
    reader: StreamReader
    tables: TableStore
    clock: IReactorTime
    interval: float = POLL_INTERVAL
    _iterators: dict[str, dict[str, str | None]] = attrs.field(factory=dict, init=False)
    """By stream ARN, each shard's next iterator (None: the shard is closed)."""
    _echoes: dict[str, Counter[str]] = attrs.field(factory=dict, init=False)
    """By table ARN, the writes replication made there, still to come back in its stream."""
    _loop: LoopingCall | None = attrs.field(default=None, init=False)
    _log: Logger = attrs.field(factory=Logger, init=False)

    def start(self) -> None:
        """Read the members' streams, every ``interval`` seconds, while there are any."""
        if self._loop is None and self._members():
            self._loop = LoopingCall(lambda: Deferred.fromCoroutine(self._poll()))
            self._loop.clock = self.clock
            self._loop.start(self.interval, now=False)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

    def _members(self) -> list[tuple[str, float, list[str]]]:
        """Every member table: its ARN, creation time and the regions of its group."""
        return [
            (arn, record["CreationDateTime"], record["Replicas"])
            for arn, record in sorted(self.tables.tables.items())
            if record.get("Replicas")
        ]

    async def update(self, context: RequestContext, table: dict[str, Any], updates: Any) -> None:
        """Carry out an C{UpdateTable}'s C{ReplicaUpdates} for the caller's ``table``."""
        if not isinstance(updates, list):
            raise client_error("ValidationException", "ReplicaUpdates must be a list")
        arn, created = table["TableArn"], table["CreationDateTime"]
        region, _, name = _parts(arn)
        regions = list(self.tables.record(arn, created).get("Replicas") or [region])
        for update in updates:
            create = update.get("Create") if isinstance(update, dict) else None
            delete = update.get("Delete") if isinstance(update, dict) else None
            if isinstance(create, dict):
                target = create.get("RegionName")
                if not isinstance(target, str) or target in regions:
                    raise client_error(
                        "ValidationException",
                        f"Failed to create a the new replica of table with name: '{name}'"
                        f" because one or more replicas already existed as tables.",
                    )
                await self._create(context, table, create)
                regions.append(target)
            elif isinstance(delete, dict) and delete.get("RegionName") in regions:
                target = delete["RegionName"]
                await self.call(_in_region(context, target), "DeleteTable", {"TableName": name})
                self.tables.forget(arn.replace(f":{region}:", f":{target}:", 1))
                regions.remove(target)
            else:
                raise client_error("ValidationException", f"Invalid replica update: {update}")
        await self.regroup(context, name, sorted(regions))
        self.start()

    async def _create(
        self, context: RequestContext, table: dict[str, Any], create: dict[str, Any]
    ) -> None:
        """
        Make the replica of ``table`` that ``create`` asks for, with its
        items and settings (L{replica_settings}), and start reading both.
        """
        if table.get("StreamSpecification") != _STREAM:
            raise client_error(
                "ValidationException",
                "Table must have DynamoDB Streams enabled with NEW_AND_OLD_IMAGES to add replicas",
            )
        name = table["TableName"]
        there = _in_region(context, create["RegionName"])
        record = self.tables.record(table["TableArn"], table["CreationDateTime"])
        settings = replica_settings(record, create, context, there)
        definition = {**table_definition(table, name, {}), "StreamSpecification": _STREAM}
        try:
            await self.call(there, "CreateTable", definition)
        except ServiceError as e:
            if e.code.endswith("#ResourceInUseException"):
                raise client_error(
                    "ValidationException",
                    f"Failed to create a the new replica of table with name: '{name}' because"
                    " one or more replicas already existed as tables.",
                ) from e
            raise
        await self._follow(context, table["LatestStreamArn"])
        items = await scan_all(lambda op, doc: self.call(context, op, doc), name)
        await write_all(lambda op, doc: self.call(there, op, doc), name, items)
        replica = (await self.call(there, "DescribeTable", {"TableName": name}))["Table"]
        self.tables.settle(replica["TableArn"], replica["CreationDateTime"], **settings)
        await self._follow(there, replica["LatestStreamArn"])

    async def _follow(
        self, context: RequestContext, stream_arn: str, position: str = "LATEST"
    ) -> None:
        """Read ``stream_arn`` from ``position`` on, if it is not read yet."""
        if stream_arn in self._iterators:
            return
        shards = (await self.reader.describe(stream_arn))["Shards"]
        self._iterators[stream_arn] = {
            shard["ShardId"]: await self.reader.iterator(stream_arn, shard["ShardId"], position)
            for shard in shards
            if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {})
        }

    async def regroup(self, context: RequestContext, name: str, regions: list[str]) -> None:
        """Record ``regions`` as the group of every member of table ``name``."""
        for region in regions:
            there = _in_region(context, region)
            table = (await self.call(there, "DescribeTable", {"TableName": name}))["Table"]
            group = regions if len(regions) > 1 else None
            self.tables.settle(table["TableArn"], table["CreationDateTime"], Replicas=group)

    async def _poll(self) -> None:
        """Replicate what every member's stream has had since the last poll."""
        for arn, _created, regions in self._members():
            try:
                await self._replicate(arn, regions)
            except Exception as e:
                self._log.warn("Replicating {table} failed: {e}", table=arn, e=e)

    async def _replicate(self, arn: str, regions: list[str]) -> None:
        region, account, name = _parts(arn)
        context = internal_context(
            "awsemu-replication", account, region, "dynamodb", self.clock.seconds()
        )
        table = (await self.call(context, "DescribeTable", {"TableName": name}))["Table"]
        stream = table.get("LatestStreamArn")
        if stream is None:
            return
        # A member this daemon has not read yet was made by an earlier one:
        # its stream is read from its oldest record, so that nothing written
        # since the start (before this first poll) is missed. Records the
        # earlier daemon replicated already are put again, in order, which
        # leaves every member as it was.
        await self._follow(context, stream, "TRIM_HORIZON")
        shards = self._iterators[stream]
        for shard in (await self.reader.describe(stream))["Shards"]:
            if shard["ShardId"] not in shards:
                shards[shard["ShardId"]] = await self.reader.iterator(
                    stream, shard["ShardId"], "TRIM_HORIZON"
                )
        echoes = self._echoes.setdefault(arn, Counter())
        for shard_id, iterator in list(shards.items()):
            if iterator is None:
                continue
            records, shards[shard_id] = await self.reader.records(stream, iterator, 1000)
            for record in records:
                change = record["dynamodb"]
                image = change.get("NewImage") if record["eventName"] != "REMOVE" else None
                fingerprint = _fingerprint(change["Keys"], image)
                if echoes[fingerprint] > 0:
                    echoes[fingerprint] -= 1
                    continue
                for other in regions:
                    if other != region:
                        await self._apply(context, other, name, change["Keys"], image)

    async def _apply(
        self, context: RequestContext, region: str, name: str, keys: Any, image: Any
    ) -> None:
        """Put ``image`` (or delete the item of ``keys``) in the member of ``region``."""
        there = _in_region(context, region)
        arn = f"arn:aws:dynamodb:{region}:{context.account_id}:table/{name}"
        self._echoes.setdefault(arn, Counter())[_fingerprint(keys, image)] += 1
        if image is None:
            await self.call(there, "DeleteItem", {"TableName": name, "Key": keys})
        else:
            await self.call(there, "PutItem", {"TableName": name, "Item": image})
