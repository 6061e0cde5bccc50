"""
Tests for L{awsemu.reply}: a layer's L{Passing} reply does its step and
passes the outcome on, whatever the step does.
"""

from __future__ import annotations

import attrs
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from awsemu.reply import Passing, Reply


@attrs.define(eq=False)
class Doubling(Passing[int, str]):
    """Doubles a result; answers a failure with the failure's message."""

    reply: Reply[str]

    def step(self, result: int) -> str:
        if result < 0:
            raise ValueError("negative")
        return str(result * 2)

    def failed(self, fail: Failure) -> str:
        return f"failed: {fail.getErrorMessage()}"


class PassingTests(SynchronousTestCase):
    """What a L{Passing} gives the reply it was given."""

    def passed(self, call: str, value: object) -> Deferred[str]:
        reply: Deferred[str] = Deferred()
        getattr(Doubling(reply), call)(value)
        return reply

    def test_result(self) -> None:
        """A result goes on as the step turns it."""
        self.assertEqual(self.successResultOf(self.passed("callback", 21)), "42")

    def test_failure(self) -> None:
        """A failure from below goes on as the layer's own result for it."""
        passed = self.passed("errback", Failure(RuntimeError("no answer")))
        self.assertEqual(self.successResultOf(passed), "failed: no answer")

    def test_step_raises(self) -> None:
        """A step that raises passes its failure on, rather than raising to the caller."""
        failure = self.failureResultOf(self.passed("callback", -1), ValueError)
        self.assertEqual(failure.getErrorMessage(), "negative")
