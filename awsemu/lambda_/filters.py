"""
Event filtering for event source mappings (``FilterCriteria``): a record
is delivered when it matches any of the mapping's patterns, written in
EventBridge's pattern language.

A pattern is a JSON object whose keys are the record's; a nested object
descends into the record, a list lists what the value may be: a literal
(equal to the value, or to one element of a list value), or a rule:
``{"prefix": "..."}``, ``{"suffix": "..."}``, ``{"exists": true|false}``,
``{"anything-but": [...]}``, ``{"numeric": [">", 0, "<=", 5]}``,
``{"equals-ignore-case": "..."}``.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

_MISSING: Final = object()

_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _numeric(value: Any, conditions: list[Any]) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=False)
    return all(_COMPARISONS[op](value, bound) for op, bound in pairs)


def _rule(rule: Mapping[str, Any], value: Any) -> bool:
    (kind, argument), *_ = rule.items()
    if kind == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    candidates = _values(value)
    if kind == "prefix":
        return any(isinstance(v, str) and v.startswith(argument) for v in candidates)
    if kind == "suffix":
        return any(isinstance(v, str) and v.endswith(argument) for v in candidates)
    if kind == "equals-ignore-case":
        return any(isinstance(v, str) and v.lower() == argument.lower() for v in candidates)
    if kind == "anything-but":
        excluded = _values(argument)
        return all(v not in excluded for v in candidates)
    if kind == "numeric":
        return any(_numeric(v, argument) for v in candidates)
    return False


def _allowed(allowed: list[Any], value: Any) -> bool:
    for entry in allowed:
        if isinstance(entry, dict):
            if _rule(entry, value):
                return True
        elif value is not _MISSING and entry in _values(value):
            return True
    return False


def matches(pattern: Mapping[str, Any], record: Any) -> bool:
    """Whether ``record`` matches ``pattern`` (a parsed pattern object)."""
    for key, expected in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not _allowed(expected, value):
                return False
        elif value != expected:
            return False
    return True


def selected(criteria: Mapping[str, Any] | None, records: Iterable[Any]) -> list[Any]:
    """The records any filter of ``criteria`` (``FilterCriteria``) lets through; all if none."""
    patterns = [json.loads(entry["Pattern"]) for entry in (criteria or {}).get("Filters") or ()]
    if not patterns:
        return list(records)
    return [record for record in records if any(matches(p, record) for p in patterns)]
