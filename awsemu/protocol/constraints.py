"""
AWS's request validator, shared by the services that check a request's
members against the constraints of botocore's model on the service side
(Lambda's ``ValidationException``, CloudWatch Logs'
``InvalidParameterException``): which of a member's own constraints
(length or value bounds, enumeration, pattern) its value breaks, in AWS's
words, and the message that sums them up: ``2 validation errors detected:
Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must
satisfy regular expression pattern: ...; ...``.

What differs between services stays with them: how a member's path is
spelled (``ephemeralStorage.size``, ``logEvents.1.member.message``), how
lists and maps are walked, whether every broken constraint is reported
or the first, and the error code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, Final, Literal

import attrs

Kind = Literal["pattern", "enum", "max", "min"]

_JAVA_CLASSES: Final = {r"\p{L}": r"\w", r"\p{N}": r"\w", r"\p{Z}": r"\s"}
r"""
The Unicode classes of the model's (Java) patterns that Python's ``re``
lacks, by the nearest class it has: slightly more lenient (``\w`` also
takes ``_``, ``\s`` also tabs), never stricter than AWS.
"""

_NUMBERS: Final = frozenset({"integer", "long", "double", "float"})


@cache
def compiled(pattern: str | None, java_classes: bool = True) -> re.Pattern[str] | None:
    """
    The model's (Java) pattern in Python, its Unicode classes read as
    ``_JAVA_CLASSES`` says unless ``java_classes`` is False; None if there
    is none or ``re`` cannot read it.
    """
    if pattern is None:
        return None
    for java, python in _JAVA_CLASSES.items() if java_classes else ():
        pattern = pattern.replace(java, python)
    try:
        return re.compile(pattern)
    except re.error:
        return None


def shown(value: Any) -> str:
    """A value as AWS's (Java) validator prints it: ``[a, b]``, ``{k=v}``, ``true``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return f"[{', '.join(map(shown, value))}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={shown(v)}" for k, v in value.items()) + "}"
    return str(value)


def bounds(shape: Any) -> tuple[str, int | None, int | None]:
    """What the shape's ``min``/``max`` bound (``value`` or ``length``), and the bounds."""
    rules = shape.metadata
    what = "value" if shape.type_name in _NUMBERS else "length"
    return what, rules.get("min"), rules.get("max")


@attrs.frozen
class Broken:
    """One constraint a value breaks: which (``kind``), and AWS's text of it."""

    kind: Kind
    text: str


def rules(shape: Any) -> list[str]:
    """Every constraint of a shape, in AWS's order (for list items' and map keys' summaries)."""
    what, low, high = bounds(shape)
    found = []
    if high is not None:
        found.append(f"Member must have {what} less than or equal to {high}")
    if low is not None:
        found.append(f"Member must have {what} greater than or equal to {low}")
    if "pattern" in shape.metadata:
        found.append(f"Member must satisfy regular expression pattern: {shape.metadata['pattern']}")
    if shape.enum:
        found.append(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
    return found


def broken(shape: Any, value: Any, java_classes: bool = True) -> list[Broken]:
    """
    The constraints of its own shape ``value`` breaks (not its items'):
    pattern, enumeration, then maximum and minimum. Without
    ``java_classes``, patterns with Java's Unicode classes are not checked.
    """
    found = []
    if shape.type_name == "string" and isinstance(value, str):
        pattern = shape.metadata.get("pattern")
        regex = compiled(pattern, java_classes)
        if regex is not None and regex.fullmatch(value) is None:
            found.append(
                Broken("pattern", f"Member must satisfy regular expression pattern: {pattern}")
            )
        if shape.enum and value not in shape.enum:
            found.append(
                Broken("enum", f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
            )
    what, low, high = bounds(shape)
    size = value if what == "value" else len(value) if hasattr(value, "__len__") else None
    if isinstance(size, (int, float)) and not isinstance(size, bool):
        if high is not None and size > high:
            found.append(Broken("max", f"Member must have {what} less than or equal to {high}"))
        if low is not None and size < low:
            found.append(Broken("min", f"Member must have {what} greater than or equal to {low}"))
    return found


def failed(path: str, value: Any, sensitive: bool = False) -> str:
    """
    The start of one problem's text: ``Value '<value>' at '<path>' failed
    to satisfy constraint:`` (a sensitive member's value left out).
    """
    what = "Value at" if sensitive else f"Value '{shown(value)}' at"
    return f"{what} '{path}' failed to satisfy constraint:"


def detected(problems: Sequence[str]) -> str:
    """AWS's message for a request's problems: ``N validation error(s) detected: a; b``."""
    count = len(problems)
    return f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(problems)}"
