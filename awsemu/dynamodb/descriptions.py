"""
Table descriptions as AWS gives them. DynamoDB Local describes a table
(in C{CreateTable}, C{DescribeTable}, C{UpdateTable} and C{DeleteTable}
answers) with what its engine needs, and differs from AWS in what tools
read back:

- no C{TableId}: AWS gives each table a UUID; here it is derived from the
  table's ARN and creation time, so it is the same on every answer (and
  after a restart with C{--data-dir}) and new for a new table of the same name;
- C{ProvisionedThroughput} with C{LastIncreaseDateTime} and
  C{LastDecreaseDateTime} at the epoch: AWS leaves them out until the
  capacity has changed;
- an on-demand table's global secondary indexes without
  C{ProvisionedThroughput}: AWS gives them zero capacities, and Terraform's
  aws provider reads an index without it as one with an empty name;
- no C{SSEDescription}, C{TableClassSummary} or C{WarmThroughput}: it
  accepts C{SSESpecification}, C{TableClass} and C{WarmThroughput} on
  C{CreateTable} and forgets them, and answers an C{UpdateTable} of only
  those with "Nothing to update". awsemu keeps them in its table store
  (L{awsemu.dynamodb.tables}) and describes them;
- no C{Replicas}: global tables are awsemu's (L{awsemu.dynamodb.replicas}).

Only these four operations have their answers rewritten: item operations
never pass through here.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from awsemu.dynamodb.errors import client_error, index_actions
from awsemu.dynamodb.tables import Encryption, TableClass, TableRecord, Warm
from awsemu.gateway.context import RequestContext

DESCRIBED: Final = {
    "DynamoDB_20120810.CreateTable": "TableDescription",
    "DynamoDB_20120810.DescribeTable": "Table",
    "DynamoDB_20120810.UpdateTable": "TableDescription",
    "DynamoDB_20120810.DeleteTable": "TableDescription",
}
"""The operations whose answers describe a table, and the member that holds it."""

KEPT_HERE: Final = frozenset({"SSESpecification", "TableClass", "WarmThroughput", "ReplicaUpdates"})
"""C{UpdateTable} members awsemu carries out itself: DynamoDB Local ignores them."""

GLOBAL_TABLE_VERSION: Final = "2019.11.21"
"""The version of global tables awsemu makes (L{awsemu.dynamodb.replicas})."""

DEFAULT_WARM: Final = Warm(Read=12000, Write=4000)
"""
A new table's (and index's) warm throughput: "A new on-demand table starts
with a warm throughput of 12,000 read units per second and 4,000 write
units per second" (AWS, Understanding DynamoDB warm throughput in different
scenarios); a provisioned one's grows with its capacity.
"""

_TABLE_IDS: Final = uuid.UUID("6f1c2a8e-3b0d-5c47-9a51-2d8e7f4b0c93")
"""The namespace of the name-based UUIDs that serve as C{TableId}s."""

_NEVER: Final = 0
"""DynamoDB Local's C{LastIncreaseDateTime}/C{LastDecreaseDateTime} for a capacity never changed."""

_ZERO_CAPACITY: Final = {
    "NumberOfDecreasesToday": 0,
    "ReadCapacityUnits": 0,
    "WriteCapacityUnits": 0,
}
"""The C{ProvisionedThroughput} AWS describes an on-demand table's index with."""


def table_id(table_arn: str, created: float) -> str:
    """The C{TableId} of the table ``table_arn`` created at ``created``: the same every time."""
    return str(uuid.uuid5(_TABLE_IDS, f"{table_arn}@{created!r}"))


def requested_settings(
    document: dict[str, Any], context: RequestContext, now: float, *, updating: bool
) -> dict[str, Any]:
    """
    The settings a C{CreateTable} or C{UpdateTable} ``document`` gives, for
    L{TableStore.settle}: only those it names (None turns one off).
    """
    settings: dict[str, Any] = {}
    specification = document.get("SSESpecification")
    if isinstance(specification, dict) and "Enabled" in specification:
        settings["Encryption"] = (
            Encryption(KMSMasterKeyArn=kms_key_arn(specification.get("KMSMasterKeyId"), context))
            if specification["Enabled"]
            else None
        )
    table_class = document.get("TableClass")
    if isinstance(table_class, str):
        settings["TableClass"] = TableClass(
            TableClass=table_class, LastUpdateDateTime=now if updating else None
        )
    warm = _warm(document.get("WarmThroughput"))
    if warm is not None:
        settings["Warm"] = warm
    indexes = _index_warms(document)
    if indexes:
        settings["IndexWarm"] = indexes
    return settings


def _warm(given: object) -> Warm | None:
    """The warm throughput a C{WarmThroughput} member gives (a unit not given: none)."""
    if not isinstance(given, dict):
        return None
    return Warm(
        Read=int(given.get("ReadUnitsPerSecond") or 0),
        Write=int(given.get("WriteUnitsPerSecond") or 0),
    )


def _index_warms(document: dict[str, Any]) -> dict[str, Warm | None]:
    """
    The warm throughput a ``document`` gives global secondary indexes, by
    name: None for an index it deletes (see L{settled}).
    """
    warms: dict[str, Warm | None] = {}
    for kind, index in index_actions(document):
        name, warm = index.get("IndexName"), _warm(index.get("WarmThroughput"))
        if isinstance(name, str) and (kind == "Delete" or warm is not None):
            warms[name] = warm
    return warms


def settled(record: TableRecord, settings: dict[str, Any]) -> dict[str, Any]:
    """
    ``settings`` (L{requested_settings}) as the table ``record`` keeps
    settles them: warm throughput only ever increases, a table's and an
    index's alike, and what an index was given goes with it.
    """
    result = dict(settings)
    kept = record.get("Warm")
    if "Warm" in settings and kept is not None:
        result["Warm"] = _higher(kept, settings["Warm"])
    if "IndexWarm" in settings:
        indexes = dict(record.get("IndexWarm", {}))
        for name, warm in settings["IndexWarm"].items():
            if warm is None:
                indexes.pop(name, None)
            else:
                indexes[name] = _higher(indexes[name], warm) if name in indexes else warm
        result["IndexWarm"] = indexes or None
    return result


def _higher(kept: Warm, new: Warm) -> Warm:
    return Warm(Read=max(kept["Read"], new["Read"]), Write=max(kept["Write"], new["Write"]))


def forwarded_update(document: dict[str, Any]) -> dict[str, Any]:
    """
    An C{UpdateTable} ``document`` as DynamoDB Local takes it: without the
    members awsemu carries out (L{KEPT_HERE}), which it would ignore or
    answer with "Nothing to update", and without the index updates that
    only give warm throughput, which it fails on (a 500). ``document``
    itself if it has none of those.
    """
    given = document.get("GlobalSecondaryIndexUpdates")
    updates: list[Any] = given if isinstance(given, list) else []
    only_warm = [
        update
        for update in updates
        if isinstance(update, dict)
        and isinstance(update.get("Update"), dict)
        and update["Update"].keys() <= {"IndexName", "WarmThroughput"}
        and "WarmThroughput" in update["Update"]
    ]
    if not only_warm and not KEPT_HERE.intersection(document):
        return document
    rest = {key: value for key, value in document.items() if key not in KEPT_HERE}
    if only_warm:
        kept = [update for update in updates if update not in only_warm]
        if kept:
            rest["GlobalSecondaryIndexUpdates"] = kept
        else:
            del rest["GlobalSecondaryIndexUpdates"]
    return rest


def kms_key_arn(key: object, context: RequestContext) -> str:
    """
    The ARN of the KMS ``key`` a C{SSESpecification} (or a replica's
    C{Create}) names, as AWS describes it: the key's ARN, whether given by
    ARN, id or alias; without one, the AWS managed key of DynamoDB in the
    caller's account and region.
    """
    if isinstance(key, str) and key.startswith("arn:"):
        return key
    prefix = f"arn:aws:kms:{context.region}:{context.account_id}:"
    if isinstance(key, str) and key:
        return prefix + (key if key.startswith("alias/") else f"key/{key}")
    managed = uuid.uuid5(_TABLE_IDS, f"aws/dynamodb@{context.account_id}:{context.region}")
    return f"{prefix}key/{managed}"


def replica_settings(
    record: TableRecord, create: dict[str, Any], context: RequestContext, there: RequestContext
) -> dict[str, Any]:
    """
    The settings (for L{TableStore.settle}) of the replica a C{ReplicaUpdates}
    ``create`` makes in ``there``'s region of the table ``record`` keeps,
    in ``context``'s. Its class is the table's unless C{TableClassOverride}
    says otherwise. It is encrypted as the table is: with the AWS managed
    key of its own region, or the key C{KMSMasterKeyId} names; a table
    encrypted with a key of its owner's needs one named for each replica
    ("each regional replica of your global table requires an in-region
    customer managed key", AWS's announcement of customer managed keys for
    global tables, 2020-11). AWS's words for a replica without one are
    quoted in hashicorp/terraform-provider-aws#17422 and #28010.

    The AWS managed key of a replica is kept unnamed (an empty ARN, which
    L{describe} leaves out): Terraform's aws provider asks KMS, which
    awsemu does not serve, for that key (C{clearReplicaDefaultKeys}) to
    leave it out of its state, and with it named would plan to replace
    the replica on every run.
    """
    settings: dict[str, Any] = {}
    key = create.get("KMSMasterKeyId")
    encryption = record.get("Encryption")
    if isinstance(key, str) and key:
        settings["Encryption"] = Encryption(KMSMasterKeyArn=kms_key_arn(key, there))
    elif encryption is not None:
        if encryption["KMSMasterKeyArn"] not in ("", kms_key_arn(None, context)):
            raise client_error(
                "ValidationException",
                "One or more parameter values were invalid:"
                " KMSMasterKeyId must be specified for each replica.",
            )
        settings["Encryption"] = Encryption(KMSMasterKeyArn="")
    table_class = create.get("TableClassOverride")
    kept_class = record.get("TableClass")
    if not isinstance(table_class, str) and kept_class is not None:
        table_class = kept_class["TableClass"]
    if isinstance(table_class, str):
        settings["TableClass"] = TableClass(TableClass=table_class, LastUpdateDateTime=None)
    return settings


def describe(table: dict[str, Any], record: TableRecord) -> None:
    """Make DynamoDB Local's description of a table AWS's, with what ``record`` keeps of it."""
    table["TableId"] = table_id(table["TableArn"], table["CreationDateTime"])
    on_demand = table.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST"
    warm = record.get("Warm", DEFAULT_WARM)
    _describe_throughput(table, table.get("TableStatus", "ACTIVE"), warm)
    for index in table.get("GlobalSecondaryIndexes", ()):
        if on_demand:
            index.setdefault("ProvisionedThroughput", dict(_ZERO_CAPACITY))
        warm = record.get("IndexWarm", {}).get(index["IndexName"], DEFAULT_WARM)
        _describe_throughput(index, index.get("IndexStatus", "ACTIVE"), warm)
    encryption = record.get("Encryption")
    if encryption is not None:
        table["SSEDescription"] = {"Status": "ENABLED", "SSEType": "KMS"}
        if encryption["KMSMasterKeyArn"]:
            table["SSEDescription"]["KMSMasterKeyArn"] = encryption["KMSMasterKeyArn"]
    regions = record.get("Replicas")
    if regions:
        own = table["TableArn"].split(":")[3]
        table["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
        table["Replicas"] = [
            {"RegionName": region, "ReplicaStatus": "ACTIVE"} for region in regions if region != own
        ]
    table_class = record.get("TableClass")
    if table_class is not None:
        summary: dict[str, Any] = {"TableClass": table_class["TableClass"]}
        if table_class["LastUpdateDateTime"] is not None:
            summary["LastUpdateDateTime"] = table_class["LastUpdateDateTime"]
        table["TableClassSummary"] = summary


def _describe_throughput(described: dict[str, Any], status: str, warm: Warm) -> None:
    """
    A table's or index's C{ProvisionedThroughput} without the dates of
    changes that never happened, and its C{WarmThroughput}: at least
    ``warm``, and at least its provisioned capacity.
    """
    throughput = described.get("ProvisionedThroughput")
    read = write = 0
    if throughput is not None:
        for member in ("LastIncreaseDateTime", "LastDecreaseDateTime"):
            if throughput.get(member) == _NEVER:
                del throughput[member]
        throughput.setdefault("NumberOfDecreasesToday", 0)
        read, write = (
            throughput.get("ReadCapacityUnits", 0),
            throughput.get("WriteCapacityUnits", 0),
        )
    described["WarmThroughput"] = {
        "ReadUnitsPerSecond": max(warm["Read"], DEFAULT_WARM["Read"], read),
        "WriteUnitsPerSecond": max(warm["Write"], DEFAULT_WARM["Write"], write),
        "Status": status,
    }
