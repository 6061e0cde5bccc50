"""
Point-in-time recovery as DynamoDB describes it: the settings awsemu keeps
for C{UpdateContinuousBackups} (L{awsemu.dynamodb.tables}), the window of
restorable times they give, and their validation. Restores to a point in
time are in L{awsemu.dynamodb.backups}.
"""

from __future__ import annotations

from typing import Any, Final

from awsemu.dynamodb.errors import client_error
from awsemu.dynamodb.tables import Recovery
from awsemu.protocol.errors import ServiceError

MAX_RECOVERY_DAYS: Final = 35
"""How far back point-in-time recovery reaches, in days, at most and by default."""

RESTORABLE_LAG: Final = 300.0
"""Seconds the latest restorable time trails the present, as AWS's typically does."""


def earliest_restorable(recovery: Recovery, now: float) -> float:
    """The earliest time a table with ``recovery`` can be restored to."""
    return max(recovery["Since"], now - recovery["Days"] * 86400)


def recovery_description(recovery: Recovery | None, now: float) -> dict[str, Any]:
    """A C{PointInTimeRecoveryDescription} of ``recovery`` (None: off)."""
    if recovery is None:
        return {"PointInTimeRecoveryStatus": "DISABLED"}
    earliest = earliest_restorable(recovery, now)
    return {
        "PointInTimeRecoveryStatus": "ENABLED",
        "RecoveryPeriodInDays": recovery["Days"],
        "EarliestRestorableDateTime": earliest,
        "LatestRestorableDateTime": max(earliest, now - RESTORABLE_LAG),
    }


def recovery_specification(document: dict[str, Any]) -> tuple[bool, int]:
    """
    Whether an C{UpdateContinuousBackups} turns point-in-time recovery on,
    and for how many days, or DynamoDB's C{ValidationException}.
    """
    member = "pointInTimeRecoverySpecification"
    specification = document.get("PointInTimeRecoverySpecification")
    if not isinstance(specification, dict):
        raise _validation_error(f"Value null at '{member}' failed to satisfy constraint")
    enabled = specification.get("PointInTimeRecoveryEnabled")
    if not isinstance(enabled, bool):
        raise _validation_error(
            f"Value null at '{member}.pointInTimeRecoveryEnabled' failed to satisfy constraint"
        )
    days = specification.get("RecoveryPeriodInDays", MAX_RECOVERY_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_RECOVERY_DAYS:
        raise client_error(
            "ValidationException",
            f"1 validation error detected: Value '{days}' at '{member}.recoveryPeriodInDays'"
            f" failed to satisfy constraint: Member must have value between 1 and"
            f" {MAX_RECOVERY_DAYS}",
        )
    return enabled, days


def _validation_error(problem: str) -> ServiceError:
    """DynamoDB's C{ValidationException} for a required member left out."""
    return client_error(
        "ValidationException", f"1 validation error detected: {problem}: Member must not be null"
    )
