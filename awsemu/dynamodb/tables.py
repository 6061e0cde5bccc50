"""
What awsemu keeps about DynamoDB tables because DynamoDB Local does not:

- tags: DynamoDB Local answers C{TagResource}, C{UntagResource} and
  C{ListTagsOfResource} with C{UnknownOperationException} and ignores
  C{CreateTable}'s C{Tags};
- point-in-time recovery: it answers C{DescribeContinuousBackups} and
  C{UpdateContinuousBackups} the same way;
- the settings it accepts but leaves out of tables' descriptions
  (server-side encryption, table class, warm throughput: see
  L{awsemu.dynamodb.descriptions});
- contributor insights, Kinesis streaming destinations and resource
  policies, whose operations it lacks (L{awsemu.dynamodb.stored}).

Deployment tools (Terraform first) set both and read them back on every
plan to see whether anything drifted, so they must be kept.

Tables are named by their public ARN, which holds the account and the
region, so each (account, region) has its own records with no further
bookkeeping. The store only holds and checks: whether the table exists is
DynamoDB Local's to say, and the proxy asks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NotRequired, TypedDict

import attrs

from awsemu.dynamodb.tags import check_count
from awsemu.state.jsonfile import JsonFile


class Recovery(TypedDict):
    """A table's point-in-time recovery: on since ``Since`` (seconds), for ``Days`` days."""

    Since: float
    Days: int


class Encryption(TypedDict):
    """A table's server-side encryption with a KMS key (the only kind DynamoDB describes)."""

    KMSMasterKeyArn: str
    """
    Empty for the AWS managed key of a replica (see
    L{awsemu.dynamodb.descriptions.replica_settings}).
    """


class TableClass(TypedDict):
    """A table's class, and when an C{UpdateTable} last changed it (None: never)."""

    TableClass: str
    LastUpdateDateTime: float | None


class Warm(TypedDict):
    """The warm throughput a table was given, in read and write units per second."""

    Read: int
    Write: int


class Insights(TypedDict):
    """Contributor insights of a table or index: C{ENABLED} or C{DISABLED} since ``Since``."""

    Status: str
    Since: float
    Mode: NotRequired[str]


class Policy(TypedDict):
    """A table's resource policy (a JSON document) and its revision."""

    Policy: str
    RevisionId: str


class TableRecord(TypedDict):
    """What is kept of a table, with the creation time of the table it is kept for."""

    CreationDateTime: float
    Tags: dict[str, str]
    Recovery: NotRequired[Recovery]
    Encryption: NotRequired[Encryption]
    TableClass: NotRequired[TableClass]
    Warm: NotRequired[Warm]
    IndexWarm: NotRequired[dict[str, Warm]]
    """By global secondary index name, the warm throughput it was given."""
    Insights: NotRequired[dict[str, Insights]]
    """By index name, the table's own under the empty name."""
    Kinesis: NotRequired[list[dict[str, str]]]
    """Kinesis streaming destinations, as C{DescribeKinesisStreamingDestination} lists them."""
    Policy: NotRequired[Policy]
    Replicas: NotRequired[list[str]]
    """The regions of the table's global table, its own included."""


SETTINGS: tuple[str, ...] = (
    "Recovery",
    "Encryption",
    "TableClass",
    "Warm",
    "IndexWarm",
    "Insights",
    "Kinesis",
    "Policy",
    "Replicas",
)
"""The members of a L{TableRecord} that are kept while they are set, and dropped when None."""


@attrs.define
class TableStore:
    """
    The records of every table, by table ARN. ``file`` is None to keep them
    in memory only; otherwise every change rewrites it whole (records are
    few and change rarely, so atomic rewrites cost nothing that matters).

    Records are kept with the C{CreationDateTime} of their table (DynamoDB
    Local gives tables no C{TableId}), and belong to no other table of the
    same ARN: tables may go without a C{DeleteTable} (a DynamoDB Local kept
    in memory loses them all when it crashes and is restarted), and a new
    table of the same name must not find the old one's tags or settings.
    """

    tables: dict[str, TableRecord] = attrs.field(factory=dict)
    file: JsonFile | None = None

    @classmethod
    def open(cls, file: JsonFile) -> TableStore:
        """The store saved in ``file`` (empty if there is none yet), saving back there."""
        document: dict[str, Any] = file.load() or {}
        return cls(document.get("tables", {}), file)

    def save(self) -> None:
        """Write every table's record, if they are kept on disk."""
        if self.file is not None:
            self.file.save({"tables": self.tables})

    def tags(self, table_arn: str, created: float) -> dict[str, str]:
        """The tags (key → value) of the table ``table_arn`` created at ``created``."""
        return dict(self._record(table_arn, created)["Tags"])

    def tag(self, table_arn: str, created: float, tags: Mapping[str, str]) -> None:
        """
        Add ``tags`` to the table, replacing the values of keys it has;
        L{InvalidTags} (and no change) if it would have too many.
        """
        record = self._record(table_arn, created)
        merged = {**record["Tags"], **tags}
        check_count(merged)
        self._replace(table_arn, {**record, "Tags": merged})

    def untag(self, table_arn: str, created: float, keys: Iterable[str]) -> None:
        """Remove the tags with ``keys`` from the table; absent keys are ignored, as in AWS."""
        removed = set(keys)
        record = self._record(table_arn, created)
        tags = {key: value for key, value in record["Tags"].items() if key not in removed}
        self._replace(table_arn, {**record, "Tags": tags})

    def recovery(self, table_arn: str, created: float) -> Recovery | None:
        """The table's point-in-time recovery, None while it is off."""
        return self._record(table_arn, created).get("Recovery")

    def recover(self, table_arn: str, created: float, recovery: Recovery | None) -> None:
        """Turn the table's point-in-time recovery on as ``recovery`` says, or off (None)."""
        self.settle(table_arn, created, Recovery=recovery)

    def record(self, table_arn: str, created: float) -> TableRecord:
        """A copy of everything kept of the table (tags, settings)."""
        return self._record(table_arn, created)

    def settle(self, table_arn: str, created: float, **settings: Any) -> None:
        """
        Set the table's settings named in L{SETTINGS} to the values given
        (None: unset), leaving the others as they are.
        """
        record: dict[str, Any] = dict(self._record(table_arn, created))
        for name, value in settings.items():
            assert name in SETTINGS, name
            record.pop(name, None)
            if value is not None:
                record[name] = value
        self._replace(table_arn, TableRecord(**record))  # type: ignore[typeddict-item]

    def forget(self, table_arn: str) -> None:
        """Drop the record of ``table_arn``: the table was deleted."""
        if self.tables.pop(table_arn, None) is not None:
            self.save()

    def _record(self, table_arn: str, created: float) -> TableRecord:
        """A copy of the record of the table created at ``created`` (an empty one if none)."""
        kept = self.tables.get(table_arn)
        if kept is None or kept["CreationDateTime"] != created:
            return {"CreationDateTime": created, "Tags": {}}
        return TableRecord(**kept)

    def _replace(self, table_arn: str, record: TableRecord) -> None:
        """Keep ``record`` for the table, saving the store if that changes anything."""
        if not record["Tags"] and not any(name in record for name in SETTINGS):
            self.forget(table_arn)
        elif self.tables.get(table_arn) != record:
            self.tables[table_arn] = record
            self.save()
