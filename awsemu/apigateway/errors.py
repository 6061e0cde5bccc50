"""API Gateway's errors, with AWS's codes, statuses and words, and the data plane's."""

from __future__ import annotations

from awsemu.protocol.errors import ServiceError


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFoundException", message, status=404)


def bad_request(message: str) -> ServiceError:
    return ServiceError("BadRequestException", message)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, status=409)


def invalid_identifier(kind: str) -> ServiceError:
    """``Invalid Resource identifier specified`` and its siblings."""
    return not_found(f"Invalid {kind} identifier specified")


class CallFailed(Exception):
    """
    A call of a deployed stage ends in one of the data plane's own errors;
    ``kind`` names it (``dataplane.FAILURES``).
    """

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind
