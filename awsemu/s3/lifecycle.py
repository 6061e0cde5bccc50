"""
What S3 refuses in a lifecycle configuration beyond its schema: kept apart
from the table of stored sub-resources (``configs``), which calls it on Put.

The infrequent-access classes take objects only once they are 30 days old
(S3 user guide, "Transitioning objects using Amazon S3 Lifecycle",
constraints: "Amazon S3 doesn't support transitioning objects to S3
Standard-IA or S3 One Zone-IA storage classes for objects less than 30 days
old"); a rule that moves them sooner is refused with AWS's 400
``InvalidArgument`` and its message, for 0 days as for 29.
"""

from __future__ import annotations

from typing import Any, Final

from awsemu.protocol.errors import ServiceError

MINIMUM_DAYS: Final = {"STANDARD_IA": 30, "ONEZONE_IA": 30}
"""By storage class, the least ``Days`` a current version's transition to it may name."""


def check(document: Any) -> None:
    """Refuse a ``LifecycleConfiguration`` document as AWS does (after its schema passed)."""
    for rule in document.get("Rules") or ():
        for transition in rule.get("Transitions") or ():
            storage_class = transition.get("StorageClass")
            minimum = MINIMUM_DAYS.get(storage_class)
            days = transition.get("Days")
            if minimum is not None and isinstance(days, int) and days < minimum:
                raise ServiceError(
                    "InvalidArgument",
                    f"'Days' in Transition action must be greater than or equal to {minimum}"
                    f" for storageClass '{storage_class}'",
                )
