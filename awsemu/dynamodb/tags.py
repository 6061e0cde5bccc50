"""
DynamoDB's rules for tags, which awsemu checks itself since it keeps
tables' tags (L{awsemu.dynamodb.tables}): DynamoDB Local has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

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
    check_count(parsed)
    return parsed


def check_count(tags: Mapping[str, str]) -> None:
    """L{InvalidTags} if a table would have more tags than DynamoDB allows."""
    if len(tags) > MAX_TAGS:
        raise InvalidTags(
            f"The number of tags on the resource would exceed the limit of {MAX_TAGS}"
        )
