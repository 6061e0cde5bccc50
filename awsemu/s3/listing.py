"""
Walking a bucket's sorted keys the way every S3 listing does: after a
marker, under a prefix, rolling keys up into common prefixes at the
delimiter, and stopping after ``max_keys`` entries (contents and common
prefixes alike count).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote_plus

import attrs

from awsemu.s3.store import Bucket


@attrs.define
class Page:
    """One page of a listing: keys, common prefixes, and where the next page starts."""

    keys: list[str] = attrs.Factory(list)
    prefixes: list[str] = attrs.Factory(list)
    truncated: bool = False
    last: str | None = None
    """The last key or common prefix on the page: the next page's marker."""


def walk(
    bucket: Bucket,
    *,
    prefix: str = "",
    delimiter: str = "",
    after: str = "",
    max_keys: int = 1000,
    listed: Callable[[str], bool] = lambda key: True,
) -> Page:
    """
    The page of keys strictly after ``after``; ``listed`` filters keys out
    (those whose current version is a delete marker, for object listings).
    A marker that is itself a common prefix skips every key under it.
    """
    page = Page()
    for key, rolled in _entries(bucket, prefix, delimiter, after, listed):
        if len(page.keys) + len(page.prefixes) == max_keys:
            # AWS answers MaxKeys=0 with an empty page that is not truncated.
            page.truncated = max_keys > 0
            break
        (page.prefixes if rolled else page.keys).append(key)
        page.last = key
    return page


def _entries(
    bucket: Bucket, prefix: str, delimiter: str, after: str, listed: Callable[[str], bool]
) -> Iterator[tuple[str, bool]]:
    """(key, False) and (common prefix, True) in order, after ``after``."""
    skip_under = after if delimiter and after.endswith(delimiter) else None
    current_prefix: str | None = None
    for key in bucket.keys_from(after, prefix):
        if key == after or (skip_under is not None and key.startswith(skip_under)):
            continue
        if current_prefix is not None and key.startswith(current_prefix):
            continue
        if not listed(key):
            continue
        if delimiter:
            index = key.find(delimiter, len(prefix))
            if index >= 0:
                current_prefix = key[: index + len(delimiter)]
                yield current_prefix, True
                continue
        yield key, False


def url_encode(value: str) -> str:
    """A listing value with ``encoding-type=url``, as botocore decodes it."""
    return quote_plus(value, safe="/")
