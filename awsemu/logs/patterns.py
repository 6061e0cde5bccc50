"""
Filter patterns for unstructured log events, as FilterLogEvents reads
them: ``ERROR Exception`` (every term), ``"exact phrase"``, ``?ERROR
?WARN`` (any of these), ``-DEBUG`` (none of these), ``%regex%``; the
empty pattern matches every event. Terms match anywhere in the message,
case-sensitively, as in AWS.

JSON (``{ $.level = "ERROR" }``) and space-delimited (``[ip, user, ...]``)
patterns are refused rather than misread: a silently wrong filter is worse
than an error.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from awsemu.logs import errors

_TERM: Final = re.compile(
    r'\s*(?P<prefix>[?-]?)(?:"(?P<phrase>(?:[^"\\]|\\.)*)"|%(?P<regex>[^%]+)%|(?P<word>[^\s"]+))'
)


@attrs.frozen
class FilterPattern:
    """
    A parsed pattern: every ``required`` term, no ``excluded`` term, and at
    least one ``optional`` term if there are any. Each term is a regular
    expression searched for in the message (plain terms are escaped).
    """

    required: tuple[re.Pattern[str], ...] = ()
    optional: tuple[re.Pattern[str], ...] = ()
    excluded: tuple[re.Pattern[str], ...] = ()

    def matches(self, message: str) -> bool:
        return (
            all(term.search(message) for term in self.required)
            and not any(term.search(message) for term in self.excluded)
            and (not self.optional or any(term.search(message) for term in self.optional))
        )


def parse_filter_pattern(text: str) -> FilterPattern:
    """The pattern ``text`` describes; ``InvalidParameterException`` if it is not one."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        raise errors.invalid_parameter(
            "awsemu supports only term filter patterns, not JSON or space-delimited ones."
        )
    groups: dict[str, list[re.Pattern[str]]] = {"": [], "?": [], "-": []}
    position = 0
    while position < len(stripped):
        match = _TERM.match(stripped, position)
        if match is None:
            raise errors.invalid_parameter(f"Invalid filter pattern: {text}")
        groups[match["prefix"]].append(_compile(match))
        position = match.end()
    return FilterPattern(tuple(groups[""]), tuple(groups["?"]), tuple(groups["-"]))


def _compile(term: re.Match[str]) -> re.Pattern[str]:
    if term["regex"] is not None:
        try:
            return re.compile(term["regex"])
        except re.error as e:
            raise errors.invalid_parameter(f"Invalid regular expression: {term['regex']}") from e
    if term["phrase"] is not None:
        return re.compile(re.escape(re.sub(r"\\(.)", r"\1", term["phrase"])))
    return re.compile(re.escape(term["word"]))
