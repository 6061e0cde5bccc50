"""
The request conditions of S3 reads and writes: ``If-*`` preconditions in
AWS's precedence, ``x-amz-copy-source-if-*`` for copies, and ``Range``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

import attrs

from awsemu.s3 import errors

_RANGE: Final = re.compile(r"bytes=(\d*)-(\d*)")


def _etag_matches(condition: str, etag: str) -> bool:
    """Whether ``etag`` is one of the comma-separated (quoted or not) tags, or ``*``."""
    bare = etag.strip('"')
    return any(
        tag.strip() in ("*", bare) or tag.strip().strip('"') == bare for tag in condition.split(",")
    )


def _modified_since(last_modified: float, since: datetime) -> bool:
    """HTTP dates have whole seconds, so S3 compares at that precision."""
    return int(last_modified) > int(since.timestamp())


@attrs.frozen
class Conditions:
    """One request's four conditions; ``names`` are the headers they came from, for errors."""

    if_match: str | None
    if_none_match: str | None
    if_modified_since: datetime | None
    if_unmodified_since: datetime | None
    names: tuple[str, str, str, str] = (
        "If-Match",
        "If-None-Match",
        "If-Modified-Since",
        "If-Unmodified-Since",
    )

    @classmethod
    def of_read(cls, params: dict[str, Any]) -> Conditions:
        found = (
            params.get("IfMatch"),
            params.get("IfNoneMatch"),
            params.get("IfModifiedSince"),
            params.get("IfUnmodifiedSince"),
        )
        # Most reads are unconditional: they share one value, made once.
        return _UNCONDITIONAL if found == _NO_CONDITIONS else cls(*found)

    @classmethod
    def of_copy_source(cls, params: dict[str, Any]) -> Conditions:
        return cls(
            params.get("CopySourceIfMatch"),
            params.get("CopySourceIfNoneMatch"),
            params.get("CopySourceIfModifiedSince"),
            params.get("CopySourceIfUnmodifiedSince"),
            (
                "x-amz-copy-source-If-Match",
                "x-amz-copy-source-If-None-Match",
                "x-amz-copy-source-If-Modified-Since",
                "x-amz-copy-source-If-Unmodified-Since",
            ),
        )

    def check(self, etag: str, last_modified: float, *, not_modified_fails: bool = False) -> None:
        """
        Raise what S3 answers when a condition does not hold: 412 for
        ``If-Match``/``If-Unmodified-Since`` (the latter ignored when
        ``If-Match`` held), 304 for ``If-None-Match``/``If-Modified-Since``
        (the latter ignored when ``If-None-Match`` was given) — or 412 for
        those too, when ``not_modified_fails`` (copy sources).
        """
        match, none_match, modified_since, unmodified_since = self.names
        if self.if_match is not None:
            if not _etag_matches(self.if_match, etag):
                raise errors.precondition_failed(match)
        elif self.if_unmodified_since is not None and _modified_since(
            last_modified, self.if_unmodified_since
        ):
            raise errors.precondition_failed(unmodified_since)
        failed: str | None = None
        if self.if_none_match is not None:
            if _etag_matches(self.if_none_match, etag):
                failed = none_match
        elif self.if_modified_since is not None and not _modified_since(
            last_modified, self.if_modified_since
        ):
            failed = modified_since
        if failed is not None:
            raise (
                errors.precondition_failed(failed)
                if not_modified_fails
                else errors.not_modified(etag, last_modified)
            )


_NO_CONDITIONS: Final = (None, None, None, None)
_UNCONDITIONAL: Final = Conditions(*_NO_CONDITIONS)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """
    ``(start, length)`` selected by a ``Range`` header, or None for the
    whole object: S3 ignores a header it cannot parse, and answers 416
    ``InvalidRange`` for a well-formed range outside the object.
    """
    if header is None:
        return None
    found = _RANGE.fullmatch(header.strip())
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise errors.invalid_range(header, size)
        start = max(size - suffix, 0)
        return start, size - start
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        raise errors.invalid_range(header, size)
    return start, end - start + 1
