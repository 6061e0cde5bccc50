"""
Tags of DynamoDB tables, kept by awsemu because DynamoDB Local has none:
it answers C{TagResource}, C{UntagResource} and C{ListTagsOfResource}
with C{UnknownOperationException} and ignores C{CreateTable}'s C{Tags},
while deployment tools (Terraform first) tag every table and read the
tags back to see whether anything drifted.

Tables are named by their public ARN, which holds the account and the
region, so each (account, region) has its own tags with no further
bookkeeping. The store only holds and checks tags: whether the table
exists is DynamoDB Local's to say, and the proxy asks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, TypedDict

import attrs

from awsemu.state.jsonfile import JsonFile

MAX_KEY_LENGTH: Final = 128
MAX_VALUE_LENGTH: Final = 256
MAX_TAGS: Final = 50
"""DynamoDB's limits: characters of a key and of a value, and tags per table."""

RESERVED_PREFIX: Final = "aws:"
"""Keys AWS keeps for the tags it sets itself; users may not set them."""


class InvalidTags(ValueError):
    """Tags DynamoDB would refuse; the message says why, for a C{ValidationException}."""


def parse_tags(tags: Any) -> dict[str, str]:
    """
    The key → value mapping of a request's C{Tags} list (a later duplicate
    key wins, as in DynamoDB), or L{InvalidTags} if any tag breaks DynamoDB's rules.
    """
    if not isinstance(tags, list):
        raise InvalidTags(
            "1 validation error detected: Value null at 'tags' failed to satisfy"
            " constraint: Member must not be null"
        )
    parsed: dict[str, str] = {}
    for tag in tags:
        key = tag.get("Key") if isinstance(tag, dict) else None
        value = tag.get("Value") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidTags("Each tag must have a string Key and Value")
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise InvalidTags(
                f"1 validation error detected: Value '{key}' at 'tags.member.key' failed to"
                f" satisfy constraint: Member must have length between 1 and {MAX_KEY_LENGTH}"
            )
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidTags(
                f"1 validation error detected: Value at 'tags.member.value' of tag '{key}'"
                " failed to satisfy constraint: Member must have length less than or equal"
                f" to {MAX_VALUE_LENGTH}"
            )
        if key.lower().startswith(RESERVED_PREFIX):
            raise InvalidTags(f"Tag keys starting with '{RESERVED_PREFIX}' are reserved: {key}")
        parsed[key] = value
    _check_count(parsed)
    return parsed


def _check_count(tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidTags(
            f"The number of tags on the resource would exceed the limit of {MAX_TAGS}"
        )


class TableTags(TypedDict):
    """A table's tags, with the creation time of the table they were given to."""

    CreationDateTime: float
    Tags: dict[str, str]


@attrs.define
class TagStore:
    """
    The tags of every table, by table ARN. ``file`` is None to keep them in
    memory only; otherwise every change rewrites it whole (tags are few and
    change rarely, so atomic rewrites cost nothing that matters).

    Tags are kept with the C{CreationDateTime} of their table (DynamoDB
    Local gives tables no C{TableId}), and belong to no other table of the
    same ARN: tables may go without a C{DeleteTable} (a DynamoDB Local kept
    in memory loses them all when it crashes and is restarted), and a new
    table of the same name must not find the old one's tags.
    """

    tables: dict[str, TableTags] = attrs.field(factory=dict)
    file: JsonFile | None = None

    @classmethod
    def open(cls, file: JsonFile) -> TagStore:
        """The store saved in ``file`` (empty if there is none yet), saving back there."""
        document: dict[str, Any] = file.load() or {}
        return cls(document.get("tables", {}), file)

    def save(self) -> None:
        """Write every table's tags, if they are kept on disk."""
        if self.file is not None:
            self.file.save({"tables": self.tables})

    def tags(self, table_arn: str, created: float) -> dict[str, str]:
        """The tags (key → value) of the table ``table_arn`` created at ``created``."""
        kept = self.tables.get(table_arn)
        if kept is None or kept["CreationDateTime"] != created:
            return {}
        return dict(kept["Tags"])

    def tag(self, table_arn: str, created: float, tags: Mapping[str, str]) -> None:
        """
        Add ``tags`` to the table, replacing the values of keys it has;
        L{InvalidTags} (and no change) if it would have too many.
        """
        merged = {**self.tags(table_arn, created), **tags}
        _check_count(merged)
        self._replace(table_arn, created, merged)

    def untag(self, table_arn: str, created: float, keys: Iterable[str]) -> None:
        """Remove the tags with ``keys`` from the table; absent keys are ignored, as in AWS."""
        removed = set(keys)
        tags = self.tags(table_arn, created)
        self._replace(
            table_arn, created, {key: value for key, value in tags.items() if key not in removed}
        )

    def forget(self, table_arn: str) -> None:
        """Drop every tag of ``table_arn``: the table was deleted."""
        if self.tables.pop(table_arn, None) is not None:
            self.save()

    def _replace(self, table_arn: str, created: float, tags: dict[str, str]) -> None:
        """Give the table ``tags``, saving the store if that changes anything."""
        if not tags:
            self.forget(table_arn)
        elif self.tables.get(table_arn) != {"CreationDateTime": created, "Tags": tags}:
            self.tables[table_arn] = {"CreationDateTime": created, "Tags": tags}
            self.save()
