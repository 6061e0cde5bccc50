"""
The one exception type providers raise: an AWS error with its code,
message, HTTP status and any extra fields the service puts in it.

The protocol layer renders it in the exact error shape of the service's
protocol, so providers never build error documents themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs


@attrs.define(auto_exc=True, eq=False)
class ServiceError(Exception):
    """
    An AWS error.

    ``fields`` are extra members AWS sends with this error, by their wire
    name: S3's ``BucketName``, ``Key``, ``ArgumentName``...; a modeled error
    shape's members for the JSON protocols. ``sender_fault`` picks
    ``Sender``/``Receiver`` in the query protocol's ``<Type>``. ``headers``
    are (name, value) pairs sent with the error whatever the protocol: AWS
    puts facts there that clients read even without a body (a HEAD's
    answer), such as S3's ``x-amz-delete-marker``.
    """

    code: str
    message: str
    status: int = 400
    sender_fault: bool = True
    fields: Mapping[str, object] = attrs.field(factory=dict)
    headers: Sequence[tuple[str, str]] = ()

    def __str__(self) -> str:
        return f"{self.code} ({self.status}): {self.message}"


def not_implemented(service: str, operation: str) -> ServiceError:
    """The error for an operation the model knows but awsemu does not serve yet."""
    return ServiceError(
        "NotImplemented",
        f"The operation {operation} of {service} is not implemented by awsemu.",
        status=501,
        sender_fault=False,
    )


def internal_failure(protocol: str) -> ServiceError:
    """The error AWS gives for a failure on its side, in this protocol's words."""
    if protocol == "rest-xml":
        return ServiceError(
            "InternalError",
            "We encountered an internal error. Please try again.",
            status=500,
            sender_fault=False,
        )
    return ServiceError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        status=500,
        sender_fault=False,
    )
