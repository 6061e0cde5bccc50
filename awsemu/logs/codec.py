"""
CloudWatch Logs' wire details beyond the ``json`` protocol: AWS checks the
model's constraints (required members at any depth, lengths, ranges,
patterns, enums) on the service side and reports every broken one as
``InvalidParameterException``. botocore's client checks only some of them
(no maximums, no patterns), and other clients none, so a name with a space
or an event without a message must be refused here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any, Final

from awsemu.logs import errors
from awsemu.protocol.codec import JsonCodec, Params
from awsemu.protocol.http import HttpRequest
from awsemu.protocol.model import load_service_model


class LogsCodec(JsonCodec):
    """The ``json`` codec, checking parameters against the model's constraints."""

    missing_parameter_code = "InvalidParameterException"

    def parse_request(self, operation: Any, request: HttpRequest) -> Params:
        params = super().parse_request(operation, request)
        problems = list(_structure_problems("", operation.input_shape, params))
        if problems:
            raise errors.validation(problems)
        return params


def _structure_problems(path: str, shape: Any, value: dict[str, Any]) -> Iterator[str]:
    """What is wrong with a structure at ``path`` (``""`` for the input), in AWS's words."""
    for name, member in shape.members.items():
        where = f"{path}.{name}" if path else name
        if name in value:
            yield from _problems(where, member, value[name])
        elif name in shape.required_members:
            yield f"Value null at '{where}' failed to satisfy constraint: Member must not be null"


def _problems(path: str, shape: Any, value: Any) -> Iterator[str]:
    """What is wrong with ``value`` at ``path``; list items are at ``<path>.<n>.member``."""
    kind = shape.type_name
    if kind == "structure":
        yield from _structure_problems(path, shape, value)
        return
    problem = _scalar_problem(path, shape, value)
    if problem is not None:
        yield problem
    if kind == "list":
        for index, item in enumerate(value, 1):
            yield from _problems(f"{path}.{index}.member", shape.member, item)


def _scalar_problem(path: str, shape: Any, value: Any) -> str | None:
    """The first of ``value``'s own constraints it breaks (size, enum, pattern), if any."""
    rules = shape.metadata
    kind = shape.type_name
    if kind in ("string", "list", "map"):
        size, what = len(value), "length"
    elif kind in ("integer", "long"):
        size, what = value, "value"
    else:
        return None
    shown = _show(value)
    if "min" in rules and size < rules["min"]:
        return errors.constraint(
            path, shown, f"have {what} greater than or equal to {rules['min']}"
        )
    if "max" in rules and size > rules["max"]:
        return errors.constraint(path, shown, f"have {what} less than or equal to {rules['max']}")
    if kind != "string":
        return None
    if "enum" in rules and value not in rules["enum"]:
        return errors.constraint(
            path, shown, f"satisfy enum value set: [{', '.join(rules['enum'])}]"
        )
    pattern = _compiled(rules.get("pattern"))
    if pattern is not None and not pattern.fullmatch(value):
        return errors.constraint(
            path, shown, f"satisfy regular expression pattern: {rules['pattern']}"
        )
    return None


def _show(value: Any) -> str:
    """A value as AWS quotes it in a constraint message (lists as ``[a, b]``)."""
    if isinstance(value, list):
        return f"[{', '.join(map(str, value))}]"
    return str(value)


_JAVA_CLASSES: Final = {r"\p{L}": r"\w", r"\p{N}": r"\w", r"\p{Z}": r"\s"}
r"""
The Unicode classes of the model's (Java) patterns that Python's ``re``
lacks, by the nearest class it has: slightly more lenient (``\w`` also
takes ``_``, ``\s`` also tabs), never stricter than AWS.
"""


@cache
def _compiled(pattern: str | None) -> re.Pattern[str] | None:
    """The model's pattern in Python; None if there is none or ``re`` cannot read it."""
    if pattern is None:
        return None
    for java, python in _JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    try:
        return re.compile(pattern)
    except re.error:
        return None


def make_codec() -> LogsCodec:
    """The codec of the ``logs`` model."""
    return LogsCodec(load_service_model("logs"))
