"""
CloudWatch Logs' errors, with AWS's exact codes and messages, in one place
so the store and the provider never spell one out.
"""

from __future__ import annotations

from awsemu.protocol import constraints
from awsemu.protocol.errors import ServiceError


def group_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "The specified log group does not exist.")


def stream_not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "The specified log stream does not exist.")


def group_exists() -> ServiceError:
    return ServiceError("ResourceAlreadyExistsException", "The specified log group already exists.")


def stream_exists() -> ServiceError:
    return ServiceError(
        "ResourceAlreadyExistsException", "The specified log stream already exists."
    )


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def validation(problems: list[str]) -> ServiceError:
    """
    AWS's message for parameters that break the model's constraints, e.g.
    ``1 validation error detected: Value 'a b' at 'logGroupName' failed to
    satisfy constraint: Member must satisfy regular expression pattern: ...``.
    """
    return invalid_parameter(constraints.detected(problems))


def constraint(name: str, value: object, rule: str) -> str:
    """One problem of a ``validation`` error: ``value`` of member ``name`` breaks ``rule``."""
    return f"{constraints.failed(name, value)} Member must {rule}"


def invalid_token() -> ServiceError:
    return invalid_parameter("The specified nextToken is invalid.")
