"""
``Event`` invocations on a fake clock with a fake invoker: retries, what
happens to an event whose function is deleted, and the invocation records
sent to destinations.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.gateway.context import RequestContext
from awsemu.lambda_.functions import Function, FunctionStore, Scope, Version, function_arn
from awsemu.lambda_.invocations import EventQueue, Invocation, Outcome
from awsemu.lambda_.provider import LambdaProvider

SCOPE = ("000000000000", "us-east-1")
CONTEXT = RequestContext("r", SCOPE[0], SCOPE[1], "lambda", None, 0.0)


class Recording:
    """An invoker that records each invocation by function and fails those of ``failing``."""

    def __init__(self, *failing: str) -> None:
        self.failing = failing
        self.calls: list[tuple[str, Any]] = []

    def invoke(
        self, scope: Scope, function: Function, version: Version, invocation: Invocation
    ) -> Deferred[Outcome]:
        try:
            payload = json.loads(invocation.payload)
        except ValueError:
            payload = invocation.payload.decode()
        self.calls.append((function.name, payload))
        if function.name in self.failing:
            return succeed(Outcome(b'{"errorMessage": "boom"}', "Unhandled"))
        return succeed(Outcome(b'"done"'))

    def retire(self, scope: Scope, name: str, version: str | None) -> None:
        pass


class EventTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.clock.advance(1_700_000_000)
        self.store = FunctionStore.open(None)
        for name in ("f", "g"):
            config = {"FunctionName": name, "Version": "$LATEST", "RevisionId": "r", "Timeout": 3}
            self.store.in_scope(SCOPE)[name] = Function(name, Version(config, None))

    def provider(self, invoker: Any) -> LambdaProvider:
        ids = iter(f"id-{n}" for n in range(100))
        return LambdaProvider(
            self.store,
            self.clock,
            invoker,
            EventQueue(self.clock, 1.0),
            "http://x",
            new_id=lambda: next(ids),
        )

    def send(self, provider: LambdaProvider, payload: bytes = b'{"n": 1}') -> None:
        accepted = Deferred.fromCoroutine(
            provider.invoke(
                CONTEXT, {"FunctionName": "f", "InvocationType": "Event", "Payload": payload}
            )
        )
        self.assertEqual(self.successResultOf(accepted), {"StatusCode": 202})

    def destinations(self, **config: Any) -> None:
        arn = function_arn(SCOPE, "g")
        self.store.in_scope(SCOPE)["f"].event_configs[""] = {
            "DestinationConfig": {key: {"Destination": arn} for key in config["to"]},
            **{key: value for key, value in config.items() if key != "to"},
        }

    def test_retry_after_the_function_is_deleted(self) -> None:
        """An event still queued when its function is deleted is dropped, not a crash."""
        invoker = Recording("f")
        self.send(self.provider(invoker))
        del self.store.in_scope(SCOPE)["f"]
        self.clock.advance(1)
        self.clock.advance(1)
        self.assertEqual(len(invoker.calls), 1)
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_on_failure(self) -> None:
        """After the last retry, the invocation record goes to the OnFailure function."""
        invoker = Recording("f")
        self.destinations(to=["OnFailure", "OnSuccess"], MaximumRetryAttempts=1)
        self.send(self.provider(invoker))
        self.clock.advance(1)
        self.assertEqual([name for name, _ in invoker.calls], ["f", "f", "g"])
        record = invoker.calls[-1][1]
        self.assertEqual(
            record,
            {
                "version": "1.0",
                "timestamp": "2023-11-14T22:13:21.000Z",
                "requestContext": {
                    "requestId": "id-0",
                    "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": 2,
                },
                "requestPayload": {"n": 1},
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "responsePayload": {"errorMessage": "boom"},
            },
        )

    def test_on_success(self) -> None:
        invoker = Recording()
        self.destinations(to=["OnSuccess"])
        self.send(self.provider(invoker), b"not json")
        ((_, first), (name, record)) = invoker.calls
        self.assertEqual(name, "g")
        self.assertEqual(record["requestContext"]["condition"], "Success")
        self.assertEqual(record["requestPayload"], "not json")
        self.assertEqual(record["responsePayload"], "done")
        self.assertNotIn("functionError", record["responseContext"])

    def test_event_age_exceeded(self) -> None:
        invoker = Recording("f")
        self.destinations(to=["OnFailure"], MaximumEventAgeInSeconds=60)
        provider = self.provider(invoker)
        provider.events.retry_delay = 100
        self.send(provider)
        name, record = invoker.calls[-1]
        self.assertEqual((name, record["requestContext"]["condition"]), ("g", "EventAgeExceeded"))

    def test_other_destinations_are_not_served(self) -> None:
        invoker = Recording()
        self.store.in_scope(SCOPE)["f"].event_configs[""] = {
            "DestinationConfig": {
                "OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:000000000000:q"}
            }
        }
        self.send(self.provider(invoker))
        self.assertEqual([name for name, _ in invoker.calls], ["f"])

    def test_throttled_events_wait(self) -> None:
        """
        A throttled event runs again after 1, 2, 4... seconds, not counting
        as a retry, until its function has concurrency again.
        """
        invoker = Recording()
        provider = self.provider(invoker)
        function = self.store.in_scope(SCOPE)["f"]
        function.reserved_concurrency = 0
        self.send(provider)
        self.clock.pump([1.0] * (1 + 2 + 4))
        self.assertEqual(invoker.calls, [])
        function.reserved_concurrency = None
        self.clock.pump([1.0] * 7)
        self.assertEqual(invoker.calls, [])
        self.clock.advance(1)
        self.assertEqual(invoker.calls, [("f", {"n": 1})])
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_throttled_past_the_maximum_age(self) -> None:
        invoker = Recording()
        provider = self.provider(invoker)
        function = self.store.in_scope(SCOPE)["f"]
        function.reserved_concurrency = 0
        function.event_configs[""] = {"MaximumEventAgeInSeconds": 60}
        self.send(provider)
        self.clock.pump([1.0] * 120)
        function.reserved_concurrency = None
        self.clock.pump([1.0] * 600)
        self.assertEqual(invoker.calls, [])
        self.assertEqual(self.clock.getDelayedCalls(), [])
