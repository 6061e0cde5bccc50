"""Running provider operations in SynchronousTestCase: over memory stores they finish at once."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.errors import ServiceError

Operation = Coroutine[Any, Any, dict[str, Any]]


class ProviderTestCase(SynchronousTestCase):
    def call(self, operation: Operation) -> dict[str, Any]:
        """The operation's output; the test fails if it raised."""
        result: dict[str, Any] = self.successResultOf(Deferred.fromCoroutine(operation))
        return result

    def error(self, operation: Operation) -> ServiceError:
        """The AWS error the operation raised; the test fails if it succeeded."""
        error: ServiceError = self.failureResultOf(
            Deferred.fromCoroutine(operation), ServiceError
        ).value
        return error

    def assertError(
        self, operation: Operation, code: str, message: str, status: int | None = None
    ) -> None:
        """The operation raised ``code`` with ``message`` (and ``status``, if given)."""
        error = self.error(operation)
        self.assertEqual((error.code, error.message), (code, message))
        if status is not None:
            self.assertEqual(error.status, status)
