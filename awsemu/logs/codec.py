"""
CloudWatch Logs' wire details beyond the ``json`` protocol: AWS checks the
model's constraints (required members at any depth, lengths, ranges,
patterns, enums: ``awsemu.protocol.constraints``) on the service side and
reports every member that breaks one as ``InvalidParameterException``.
botocore's client checks only some of them (no maximums, no patterns), and
other clients none, so a name with a space or an event without a message
must be refused here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from awsemu.logs import errors
from awsemu.protocol import constraints
from awsemu.protocol.codec import JsonCodec, Params
from awsemu.protocol.http import HttpRequest
from awsemu.protocol.model import load_service_model

_REPORTED: Final[tuple[constraints.Kind, ...]] = ("min", "max", "enum", "pattern")
"""Logs reports one broken constraint of a member: the first in this order."""

_compiled: Final = constraints.compiled
"""How the codec reads the model's patterns (``tests.test_logs_codec`` checks it by this name)."""


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
    """
    What is wrong with ``value`` at ``path``: the first of its own broken
    constraints in ``_REPORTED``'s order, then its items' (at ``<path>.<n>.member``).
    """
    kind = shape.type_name
    if kind == "structure":
        yield from _structure_problems(path, shape, value)
        return
    found = constraints.broken(shape, value)
    if found:
        first = min(found, key=lambda broken: _REPORTED.index(broken.kind))
        yield f"{constraints.failed(path, value)} {first.text}"
    if kind == "list":
        for index, item in enumerate(value, 1):
            yield from _problems(f"{path}.{index}.member", shape.member, item)


def make_codec() -> LogsCodec:
    """The codec of the ``logs`` model."""
    return LogsCodec(load_service_model("logs"))
