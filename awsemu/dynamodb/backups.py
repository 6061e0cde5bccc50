"""
On-demand backups and restores, which DynamoDB Local lacks, made by
copying items through it:

- C{CreateBackup} scans the table (every page) and keeps its description
  and items in a L{BackupStore}: in memory, or one JSON file per backup
  under C{<data-dir>/dynamodb/backups/}, so backups outlive the daemon;
- C{RestoreTableFromBackup} creates the target table as the source was
  (keys, indexes, capacity; overrides applied), then writes the items back
  with C{BatchWriteItem}. As in AWS, streams, time to live, tags and
  point-in-time recovery are not restored;
- C{RestoreTableToPointInTime} does the same straight from the source
  table, whose history DynamoDB Local does not keep: whatever time in the
  recovery window is asked for, the items restored are the table's
  current ones.

Backups are done (C{AVAILABLE}) and restores finished by the time they
answer; AWS reports C{CREATING} and C{RestoreInProgress} for a while.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import attrs
from twisted.internet.interfaces import IReactorTime
from twisted.python.filepath import FilePath

from awsemu.dynamodb.descriptions import describe, requested_settings
from awsemu.dynamodb.errors import client_error
from awsemu.dynamodb.recovery import earliest_restorable
from awsemu.dynamodb.tables import TableStore
from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.state.jsonfile import JsonFile

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""A DynamoDB operation sent to DynamoDB Local in the caller's database: its answer or error."""

OPERATIONS: Final = frozenset(
    {
        "CreateBackup",
        "DescribeBackup",
        "ListBackups",
        "DeleteBackup",
        "RestoreTableFromBackup",
        "RestoreTableToPointInTime",
    }
)

BATCH_SIZE: Final = 25
"""Items per C{BatchWriteItem}, DynamoDB's limit."""


@attrs.define
class BackupStore:
    """Backups by ARN: description, items, and the file each is saved in (None: memory only)."""

    backups: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    directory: FilePath[str] | None = None

    @classmethod
    def open(cls, directory: FilePath[str]) -> BackupStore:
        """The backups saved in ``directory``, saving new ones there."""
        backups = {}
        if directory.isdir():
            for child in directory.globChildren("*.json"):
                backup = JsonFile(child).load()
                if backup is not None:
                    backups[backup["Details"]["BackupArn"]] = backup
        return cls(backups, directory)

    def add(self, backup: dict[str, Any]) -> None:
        arn = backup["Details"]["BackupArn"]
        self.backups[arn] = backup
        if self.directory is not None:
            JsonFile(self._file(arn)).save(backup)

    def remove(self, arn: str) -> None:
        del self.backups[arn]
        if self.directory is not None:
            self._file(arn).remove()

    def _file(self, arn: str) -> FilePath[str]:
        assert self.directory is not None
        return self.directory.child(Path(arn).name + ".json")


def backup_arn(table_arn: str, now: float) -> str:
    """A new backup's ARN, in AWS's form: C{<table ARN>/backup/<ms, 14 digits>-<8 hex>}."""
    return f"{table_arn}/backup/{int(now * 1000):014d}-{secrets.token_hex(4)}"


async def scan_all(call: Call, table_name: str) -> list[dict[str, Any]]:
    """Every item of the table, page after page."""
    items: list[dict[str, Any]] = []
    document: dict[str, Any] = {"TableName": table_name}
    while True:
        page = await call("Scan", document)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        document["ExclusiveStartKey"] = page["LastEvaluatedKey"]


async def write_all(call: Call, table_name: str, items: list[dict[str, Any]]) -> None:
    """Put ``items`` into the table, a batch at a time, until none is left unprocessed."""
    for start in range(0, len(items), BATCH_SIZE):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_SIZE]]
        pending: dict[str, Any] = {table_name: requests}
        while pending:
            answer = await call("BatchWriteItem", {"RequestItems": pending})
            pending = answer.get("UnprocessedItems") or {}


def _index_definition(index: dict[str, Any], provisioned: bool) -> dict[str, Any]:
    """An index of a table description, as C{CreateTable} takes it."""
    definition = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
    throughput = index.get("ProvisionedThroughput")
    if provisioned and throughput is not None:
        definition["ProvisionedThroughput"] = _capacity(throughput)
    return definition


def _capacity(throughput: dict[str, Any]) -> dict[str, Any]:
    return {key: throughput[key] for key in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _billing_mode(table: dict[str, Any]) -> str:
    return str(table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"))


def table_definition(
    table: dict[str, Any], target: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    """
    The C{CreateTable} of a table like the one ``table`` describes, named
    ``target``, with a restore request's ``overrides``.
    """
    billing = overrides.get("BillingModeOverride") or _billing_mode(table)
    provisioned = billing == "PROVISIONED"
    definition: dict[str, Any] = {
        "TableName": target,
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": table["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if provisioned:
        definition["ProvisionedThroughput"] = overrides.get(
            "ProvisionedThroughputOverride"
        ) or _capacity(table["ProvisionedThroughput"])
    for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        override = overrides.get(member[:-2] + "Override")
        if override is not None:
            indexes = override
        else:
            indexes = [
                _index_definition(index, provisioned and member.startswith("Global"))
                for index in table.get(member, ())
            ]
        if indexes:
            definition[member] = indexes
    return definition


def source_details(table: dict[str, Any], items: int, size: int) -> dict[str, Any]:
    """C{SourceTableDetails} and C{SourceTableFeatureDetails} of a backup of ``table``."""
    details = {
        "TableName": table["TableName"],
        "TableId": table["TableId"],
        "TableArn": table["TableArn"],
        "TableSizeBytes": size,
        "KeySchema": table["KeySchema"],
        "TableCreationDateTime": table["CreationDateTime"],
        "ProvisionedThroughput": _capacity(table["ProvisionedThroughput"]),
        "ItemCount": items,
        "BillingMode": _billing_mode(table),
    }
    features: dict[str, Any] = {}
    for member in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if table.get(member):
            features[member] = [
                {
                    key: index[key]
                    for key in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                    if key in index
                }
                for index in table[member]
            ]
            for index in features[member]:
                if "ProvisionedThroughput" in index:
                    index["ProvisionedThroughput"] = _capacity(index["ProvisionedThroughput"])
    if "StreamSpecification" in table:
        features["StreamDescription"] = table["StreamSpecification"]
    if "SSEDescription" in table:
        features["SSEDescription"] = table["SSEDescription"]
    return {"SourceTableDetails": details, "SourceTableFeatureDetails": features}


def summary(backup: dict[str, Any]) -> dict[str, Any]:
    """A backup's C{BackupSummary}, for C{ListBackups}."""
    source = backup["SourceTableDetails"]
    return {
        "TableName": source["TableName"],
        "TableId": source["TableId"],
        "TableArn": source["TableArn"],
        **backup["Details"],
    }


def description(backup: dict[str, Any]) -> dict[str, Any]:
    """A backup's C{BackupDescription}."""
    return {
        "BackupDetails": backup["Details"],
        "SourceTableDetails": backup["SourceTableDetails"],
        "SourceTableFeatureDetails": backup["SourceTableFeatureDetails"],
    }


def list_backups(store: BackupStore, arn_prefix: str, document: dict[str, Any]) -> dict[str, Any]:
    """C{ListBackups}' answer: the caller's backups, filtered and paged as asked."""
    name = document.get("TableName")
    lower = document.get("TimeRangeLowerBound")
    upper = document.get("TimeRangeUpperBound")
    kind = document.get("BackupType") or "USER"
    chosen = []
    for arn in sorted(store.backups):
        backup = store.backups[arn]
        created = backup["Details"]["BackupCreationDateTime"]
        if not arn.startswith(arn_prefix):
            continue
        if name is not None and backup["SourceTableDetails"]["TableName"] != name:
            continue
        if lower is not None and created < lower or upper is not None and created > upper:
            continue
        if kind not in ("ALL", backup["Details"]["BackupType"]):
            continue
        chosen.append(arn)
    start = document.get("ExclusiveStartBackupArn")
    if start in chosen:
        chosen = chosen[chosen.index(start) + 1 :]
    limit = document.get("Limit")
    answer: dict[str, Any] = {}
    if isinstance(limit, int) and 0 < limit < len(chosen):
        chosen = chosen[:limit]
        answer["LastEvaluatedBackupArn"] = chosen[-1]
    answer["BackupSummaries"] = [summary(store.backups[arn]) for arn in chosen]
    return answer


def backup_not_found(arn: Any) -> ServiceError:
    return client_error("BackupNotFoundException", f"Backup not found: {arn}")


def item_bytes(items: list[dict[str, Any]]) -> int:
    """An estimate of the items' size: their JSON's, as DynamoDB Local counts none."""
    return len(json.dumps(items, separators=(",", ":")))


_OVERRIDES: Final = (
    "BillingModeOverride",
    "ProvisionedThroughputOverride",
    "GlobalSecondaryIndexOverride",
    "LocalSecondaryIndexOverride",
)


def _code(error: ServiceError) -> str:
    return error.code.rpartition("#")[2]


def table_arn_prefix(context: RequestContext) -> str:
    """What the ARN of every table of ``context``'s account and region starts with."""
    return f"arn:aws:dynamodb:{context.region}:{context.account_id}:table/"


@attrs.define
class Backups:
    """
    The backup and restore operations, answered with DynamoDB Local's help
    (``call``) from ``store``; ``tables`` holds what is kept of tables
    (settings described, point-in-time recovery checked).
    """

    store: BackupStore
    tables: TableStore
    clock: IReactorTime

    async def answer(
        self, operation: str, context: RequestContext, call: Call, document: dict[str, Any]
    ) -> dict[str, Any]:
        """The answer to backup or restore ``operation``, or its L{ServiceError}."""
        prefix = table_arn_prefix(context)
        if operation == "CreateBackup":
            return await self._create(context, call, document)
        if operation == "ListBackups":
            return list_backups(self.store, prefix, document)
        if operation == "RestoreTableToPointInTime":
            return await self._restore_to_point_in_time(context, call, document)
        arn = document.get("BackupArn")
        if not isinstance(arn, str) or not arn.startswith(prefix) or arn not in self.store.backups:
            raise backup_not_found(arn)
        backup = self.store.backups[arn]
        if operation == "DescribeBackup":
            return {"BackupDescription": description(backup)}
        if operation == "DeleteBackup":
            self.store.remove(arn)
            deleted = description(backup)
            deleted["BackupDetails"] = {**deleted["BackupDetails"], "BackupStatus": "DELETED"}
            return {"BackupDescription": deleted}
        summary = {
            "SourceBackupArn": arn,
            "SourceTableArn": backup["SourceTableDetails"]["TableArn"],
        }
        return await self._restore(
            context, call, document, backup["Table"], backup["Items"], summary
        )

    async def _source(self, context: RequestContext, call: Call, name: Any) -> dict[str, Any]:
        """The description of the caller's table ``name``, as AWS gives it."""
        try:
            table: dict[str, Any] = (await call("DescribeTable", {"TableName": name}))["Table"]
        except ServiceError as e:
            if _code(e) == "ResourceNotFoundException":
                raise client_error("TableNotFoundException", f"Table not found: {name}") from e
            raise
        describe(table, self.tables.record(table["TableArn"], table["CreationDateTime"]))
        return table

    async def _create(
        self, context: RequestContext, call: Call, document: dict[str, Any]
    ) -> dict[str, Any]:
        name = document.get("BackupName")
        if not isinstance(name, str) or not name:
            raise client_error(
                "ValidationException",
                "1 validation error detected: Value null at 'backupName' failed to satisfy"
                " constraint: Member must not be null",
            )
        table = await self._source(context, call, document.get("TableName"))
        items = await scan_all(call, table["TableName"])
        now = self.clock.seconds()
        size = item_bytes(items)
        details = {
            "BackupArn": backup_arn(table["TableArn"], now),
            "BackupName": name,
            "BackupSizeBytes": size,
            "BackupStatus": "AVAILABLE",
            "BackupType": "USER",
            "BackupCreationDateTime": now,
        }
        backup = {"Details": details, **source_details(table, len(items), size)}
        self.store.add({**backup, "Table": table, "Items": items})
        return {"BackupDetails": details}

    async def _restore_to_point_in_time(
        self, context: RequestContext, call: Call, document: dict[str, Any]
    ) -> dict[str, Any]:
        # A table named by its ARN is checked to be the caller's by the
        # proxy (awsemu.dynamodb.names): another account's is refused.
        given = document.get("SourceTableName", document.get("SourceTableArn"))
        table = await self._source(context, call, given)
        name = table["TableName"]
        recovery = self.tables.recovery(table["TableArn"], table["CreationDateTime"])
        if recovery is None:
            raise client_error(
                "PointInTimeRecoveryUnavailableException",
                f"Point in time recovery is not enabled for table '{name}'",
            )
        now = self.clock.seconds()
        earliest = earliest_restorable(recovery, now)
        when = document.get("RestoreDateTime")
        if not document.get("UseLatestRestorableTime") and (
            not isinstance(when, (int, float)) or not earliest <= when <= now
        ):
            raise client_error(
                "InvalidRestoreTimeException",
                f"Restore time {when} is not within the restorable period of table '{name}'",
            )
        items = await scan_all(call, table["TableName"])
        summary = {"SourceTableArn": table["TableArn"]}
        return await self._restore(context, call, document, table, items, summary)

    async def _restore(
        self,
        context: RequestContext,
        call: Call,
        document: dict[str, Any],
        table: dict[str, Any],
        items: list[dict[str, Any]],
        summary: dict[str, Any],
    ) -> dict[str, Any]:
        """Create the target table like ``table``, put ``items`` in it: its description."""
        target = document.get("TargetTableName")
        overrides: dict[str, Any] = {key: document[key] for key in _OVERRIDES if key in document}
        try:
            await call("CreateTable", table_definition(table, str(target), overrides))
        except ServiceError as e:
            if _code(e) == "ResourceInUseException":
                raise client_error(
                    "TableAlreadyExistsException", f"Table already exists: {target}"
                ) from e
            raise
        await write_all(call, str(target), items)
        restored: dict[str, Any] = (await call("DescribeTable", {"TableName": target}))["Table"]
        arn, created = restored["TableArn"], restored["CreationDateTime"]
        sse = document.get("SSESpecificationOverride")
        if isinstance(sse, dict):
            settings = requested_settings(
                {"SSESpecification": sse}, context, self.clock.seconds(), updating=False
            )
            self.tables.settle(arn, created, **settings)
        describe(restored, self.tables.record(arn, created))
        restored["RestoreSummary"] = {
            **summary,
            "RestoreDateTime": self.clock.seconds(),
            "RestoreInProgress": False,
        }
        return {"TableDescription": restored}
