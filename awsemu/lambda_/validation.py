"""
The checks AWS makes on a Lambda request before any operation runs, on
the constraints botocore's model gives its members (lengths, ranges,
patterns, enumerations, at any depth), with AWS's ``ValidationException``
messages: ``1 validation error detected: Value '...' at 'functionName'
failed to satisfy constraint: ...``, or ``2 validation errors detected:
...; ...`` when several members break theirs.

The constraints and their wording are ``awsemu.protocol.constraints``'s;
Lambda's validator, as recorded from AWS in published error reports and
emulators' AWS-validated snapshots, reports every broken constraint and:

- a member's path is its name with a lower-case first letter, nested
  members joined by dots (``ephemeralStorage.size``, ``kMSKeyArn``);
- values are quoted as Java prints them (lists ``[a, b]``, maps
  ``{k=v}``); a sensitive member's value is left out (``Value at
  'environment.variables'``);
- a list whose items break their constraints is one error naming every
  constraint of its items: ``Member must satisfy constraint: [Member must
  satisfy enum value set: [x86_64, arm64], Member must not be null]``;
  a map's keys likewise: ``Map keys must satisfy constraint: [...]``.

Two exceptions are AWS's own: ``CreateFunction`` takes a plain name of 64
characters at most, and ``Runtime`` is checked by the service
(``InvalidParameterValueException``, in the provider), not here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Final

import attrs

from awsemu.gateway.context import RequestContext
from awsemu.lambda_.functions import Document
from awsemu.protocol import constraints
from awsemu.protocol.errors import ServiceError

NAME_LENGTH: Final = 64
"""The longest plain function name ``CreateFunction`` accepts."""

SERVICE_CHECKED: Final = frozenset({"Runtime"})
"""Shapes whose constraints Lambda's service checks, with its own error."""

Operation = Callable[[RequestContext, dict[str, Any]], Coroutine[Any, Any, Document]]


@functools.cache
def _input(operation: str) -> Any:
    from awsemu.protocol.model import load_service_model

    model = load_service_model("lambda")
    if operation not in model.operation_names:
        return None
    return model.operation_model(operation).input_shape


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _broken(shape: Any, value: Any) -> list[str]:
    """The constraints ``value`` breaks, of its shape's own (not its items')."""
    if shape.name in SERVICE_CHECKED:
        return []
    # Patterns with Java's Unicode classes (tag keys') are left unchecked,
    # as Lambda's validator has always left them; Logs checks them.
    return [found.text for found in constraints.broken(shape, value, java_classes=False)]


def _problems(shape: Any, value: Any, path: str) -> Iterator[str]:
    """What is wrong with ``value`` at ``path``, in AWS's words, one text per error."""
    failed = constraints.failed(path, value, bool(shape.metadata.get("sensitive")))
    for broken in _broken(shape, value):
        yield f"{failed} {broken}"
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                yield from _problems(member, value[name], f"{path}.{_camel(name)}".lstrip("."))
    elif kind == "list" and isinstance(value, list):
        if any(_broken(shape.member, item) for item in value):
            inner = ", ".join([*constraints.rules(shape.member), "Member must not be null"])
            yield f"{failed} Member must satisfy constraint: [{inner}]"
    elif kind == "map" and isinstance(value, dict):
        if any(_broken(shape.key, key) for key in value):
            inner = ", ".join(constraints.rules(shape.key))
            yield f"{failed} Map keys must satisfy constraint: [{inner}]"


def problems(operation: str, params: dict[str, Any]) -> list[str]:
    """What is wrong with a request's members (``params``, as parsed), in AWS's words."""
    shape = _input(operation)
    if shape is None:
        return []
    found = list(_problems(shape, params, ""))
    name = params.get("FunctionName")
    if operation == "CreateFunction" and isinstance(name, str) and ":" not in name:
        if len(name) > NAME_LENGTH:
            found.append(
                f"Value '{name}' at 'functionName' failed to satisfy constraint: Member must"
                f" have length less than or equal to {NAME_LENGTH}"
            )
    return found


_CAP: Final = re.compile(r"returns a maximum of (\d+) items in each response")


@functools.cache
def page_cap(operation: str) -> int | None:
    """
    The most items one page of a list operation holds whatever ``MaxItems``
    asks, where the model's documentation gives it ("``ListFunctions``
    returns a maximum of 50 items in each response, even if you set the
    number higher").
    """
    shape = _input(operation)
    member = None if shape is None else shape.members.get("MaxItems")
    found = None if member is None else _CAP.search(member.documentation)
    return None if found is None else int(found.group(1))


def check(operation: str, params: dict[str, Any]) -> None:
    """AWS's ``ValidationException`` if the request breaks its members' constraints."""
    found = problems(operation, params)
    if found:
        raise ServiceError("ValidationException", constraints.detected(found), 400)


@attrs.frozen
class Validated:
    """
    A provider as the API calls it: each operation's request is checked
    (``check``) before the provider's method runs, and list operations get
    at most the page size their documentation gives (``page_cap``). Calls from inside the
    daemon (API Gateway's integrations) use the provider itself.
    """

    provider: object

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.provider, name)
        if name.startswith("_") or not callable(method):
            return method

        async def checked(context: RequestContext, params: dict[str, Any]) -> Document:
            operation = context.operation or ""
            check(operation, params)
            cap = page_cap(operation)
            if cap is not None:
                params = {**params, "MaxItems": min(params.get("MaxItems", cap), cap)}
            result: Document = await method(context, params)
            return result

        return checked
