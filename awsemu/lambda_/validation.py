"""
The checks AWS makes on a Lambda request before any operation runs, on
the constraints botocore's model gives its members, with AWS's
``ValidationException`` messages ("1 validation error detected: Value
'...' at 'functionName' failed to satisfy constraint: ...").

Only ``FunctionName`` is checked this way: it is the member every tool
sends, and its constraints (pattern and length) differ by operation
(``CreateFunction`` takes a plain name of 64 characters at most). Other
members keep the checks (and the error codes) their operations make.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine
from typing import Any, Final

import attrs

from awsemu.gateway.context import RequestContext
from awsemu.lambda_.functions import Document
from awsemu.protocol.errors import ServiceError

NAME_LENGTH: Final = 64
"""The longest plain function name ``CreateFunction`` accepts."""

Operation = Callable[[RequestContext, dict[str, Any]], Coroutine[Any, Any, Document]]


@functools.cache
def _constraints(operation: str) -> tuple[str, int] | None:
    """The pattern and maximum length of an operation's ``FunctionName``, if it has one."""
    from awsemu.protocol.model import load_service_model

    members = load_service_model("lambda").operation_model(operation).input_shape.members
    if "FunctionName" not in members:
        return None
    metadata = members["FunctionName"].metadata
    return metadata["pattern"], metadata["max"]


def function_name_problems(operation: str, text: str) -> list[str]:
    """What is wrong with ``text`` as the ``FunctionName`` of ``operation``, in AWS's words."""
    constraints = _constraints(operation)
    if constraints is None:
        return []
    pattern, limit = constraints
    if operation == "CreateFunction" and ":" not in text:
        limit = NAME_LENGTH
    problems = []
    if re.fullmatch(pattern, text) is None:
        problems.append(f"Member must satisfy regular expression pattern: {pattern}")
    if len(text) > limit:
        problems.append(f"Member must have length less than or equal to {limit}")
    return [
        f"Value '{text}' at 'functionName' failed to satisfy constraint: {problem}"
        for problem in problems
    ]


def check(operation: str, params: dict[str, Any]) -> None:
    """AWS's ``ValidationException`` if the request's ``FunctionName`` breaks its constraints."""
    text = params.get("FunctionName")
    if not isinstance(text, str):
        return
    problems = function_name_problems(operation, text)
    if problems:
        count = len(problems)
        detected = f"{count} validation error{'s' if count > 1 else ''} detected"
        raise ServiceError("ValidationException", f"{detected}: {'; '.join(problems)}", 400)


@attrs.frozen
class Validated:
    """
    A provider as the API calls it: each operation's request is checked
    (``check``) before the provider's method runs. Calls from inside the
    daemon (API Gateway's integrations) use the provider itself.
    """

    provider: object

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.provider, name)
        if name.startswith("_") or not callable(method):
            return method

        async def checked(context: RequestContext, params: dict[str, Any]) -> Document:
            check(context.operation or "", params)
            result: Document = await method(context, params)
            return result

        return checked
