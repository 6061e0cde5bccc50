"""
``Event`` invocations on a fake clock with a fake invoker: retries, what
happens to an event whose function is deleted, and the invocation records
sent to destinations.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from awsemu.gateway.context import RequestContext
from awsemu.lambda_.functions import Function, FunctionStore, Scope, Version, function_arn
from awsemu.lambda_.invocations import EventQueue, Invocation, Outcome
from awsemu.lambda_.invoker import Environments
from awsemu.lambda_.provider import LambdaProvider
from awsemu.protocol.errors import ServiceError
from tests.lambda_support import LambdaTestCase, zipped

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

    def test_throttled_past_the_maximum_age_to_on_failure(self) -> None:
        """
        The record of an event that never ran: ``EventAgeExceeded``, every
        attempt counted (0, 1, 3, 7, 15 and 31 s), Invoke's throttle status,
        no response payload.
        """
        invoker = Recording()
        provider = self.provider(invoker)
        self.store.in_scope(SCOPE)["f"].reserved_concurrency = 0
        self.destinations(to=["OnFailure"], MaximumEventAgeInSeconds=60)
        self.send(provider)
        self.clock.pump([1.0] * 30)
        self.assertEqual(invoker.calls, [])
        self.clock.advance(1)
        ((name, record),) = invoker.calls
        self.assertEqual(name, "g")
        self.assertEqual(
            {key: value for key, value in record.items() if key != "timestamp"},
            {
                "version": "1.0",
                "requestContext": {
                    "requestId": "id-0",
                    "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
                    "condition": "EventAgeExceeded",
                    "approximateInvokeCount": 6,
                },
                "requestPayload": {"n": 1},
                "responseContext": {"statusCode": 429, "executedVersion": "$LATEST"},
            },
        )

    def test_ran_then_throttled_past_the_maximum_age(self) -> None:
        """An event that failed, then was throttled until too old, sends its last outcome."""
        invoker = Recording("f")
        provider = self.provider(invoker)
        function = self.store.in_scope(SCOPE)["f"]
        self.destinations(to=["OnFailure"], MaximumEventAgeInSeconds=60)
        self.send(provider)
        function.reserved_concurrency = 0
        self.clock.pump([1.0] * 62)
        ((_, _), (name, record)) = invoker.calls
        self.assertEqual(name, "g")
        self.assertEqual(record["requestContext"]["condition"], "EventAgeExceeded")
        self.assertEqual(record["responsePayload"], {"errorMessage": "boom"})
        self.assertEqual(record["responseContext"]["functionError"], "Unhandled")


class QueuedEventTests(LambdaTestCase):
    """Events still queued when their function changes, through a real daemon."""

    def new_log(self, since: int) -> str:
        return self.daemon.log()[since:]

    def test_the_retry_of_an_updated_function_runs_its_new_code(self) -> None:
        since = len(self.daemon.log())
        name = self.create("app.fail")
        answer = self.client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
        self.assertEqual(answer["StatusCode"], 202)
        fixed = "def fail(event, context):\n    print('fixed')\n    return 'ok'\n"
        self.client.update_function_code(FunctionName=name, ZipFile=zipped({"app.py": fixed}))
        # The first attempt ran the old code (then a retry the new) or the new one.
        self.assertIn(self.log_starts(name, 2), (1, 2))
        logs = self.daemon.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")
        self.assertIn("fixed", [event["message"] for event in logs["events"]])
        self.assertNotIn("Traceback", self.new_log(since))

    def test_a_deleted_functions_retries_are_dropped(self) -> None:
        since = len(self.daemon.log())
        name = self.create("app.fail")
        self.client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
        # The first attempt is under way; its retries would come 0.2 s apart.
        self.client.delete_function(FunctionName=name)
        time.sleep(1.5)
        self.assertLessEqual(self.log_starts(name, 1), 1)
        self.assertNotIn("Traceback", self.new_log(since))
        self.assertEqual(self.client.list_functions()["ResponseMetadata"]["HTTPStatusCode"], 200)


class SameThread:
    """A thread pool that runs its work at once, in the calling thread."""

    def callInThreadWithCallback(self, on_result: Any, work: Any) -> None:
        try:
            result = work()
        except Exception:
            on_result(False, Failure())
        else:
            on_result(True, result)


@implementer(IReactorFromThreads)
class ThreadlessReactor(MemoryReactorClock):
    def callFromThread(self, callable: Callable[..., Any], *args: object, **kwargs: object) -> None:
        callable(*args, **kwargs)


class DeletedCodeTests(SynchronousTestCase):
    def test_an_invocation_whose_code_is_gone(self) -> None:
        """A function deleted (its package with it) as an invocation starts: not found."""
        reactor = ThreadlessReactor()
        store = FunctionStore.open(None)
        arn = function_arn(SCOPE, "f")
        config = {"FunctionName": "f", "FunctionArn": arn, "Runtime": "python3.12"}
        version = Version({**config, "Version": "$LATEST", "RevisionId": "r"}, "gone")
        environments = Environments(
            reactor,
            reactor,
            lambda *_: None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            store,
            SameThread(),  # type: ignore[arg-type]
            Path(self.mktemp()),
            "http://x",
            1,
            1.0,
        )
        environments.use(Checked())  # type: ignore[arg-type]
        invocation = Invocation("id", b"{}", arn, 0, "t")
        failure = self.failureResultOf(
            environments.invoke(SCOPE, Function("f", version), version, invocation), ServiceError
        )
        self.assertEqual(
            (failure.value.code, failure.value.message),
            ("ResourceNotFoundException", f"Function not found: {arn}"),
        )


class Checked:
    """An executor that accepts every runtime (and is never asked to start one here)."""

    def check(self, runtime: str | None, image: str | None) -> None:
        pass
