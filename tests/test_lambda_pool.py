"""
The pool and invocation logic, driven by a fake executor and a fake
clock: warm reuse, scale-out, timeouts, crashes, init errors, idle
expiry, retirement, shutdown, and Event retries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs
from twisted.internet.defer import Deferred, succeed
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_.executors import EnvironmentSpec, Handle, Output
from awsemu.lambda_.executors.docker import ImageUnavailable
from awsemu.lambda_.invocations import EventQueue, Invocation, Outcome
from awsemu.lambda_.peers import Address
from awsemu.lambda_.pool import Blueprint, Environment, FunctionPool
from awsemu.lambda_.runtime_api import RuntimeHandler
from awsemu.protocol.errors import ServiceError


@attrs.define(eq=False)
class FakeHandle:
    ended: Deferred[str] = attrs.field(factory=Deferred)
    stopping: Deferred[None] | None = None
    flushes: list[Deferred[None]] = attrs.field(factory=list)
    peak: int | None = 40 * 1024 * 1024 - 5

    def flushed(self) -> Deferred[None]:
        self.flushes.append(Deferred())
        return self.flushes[-1]

    def flush(self) -> None:
        flushes, self.flushes = self.flushes, []
        for waiting in flushes:
            waiting.callback(None)

    def peak_memory(self) -> int | None:
        return self.peak

    def stop(self) -> Deferred[None]:
        if self.stopping is None:
            self.stopping = Deferred()
        return self.stopping

    def finish_stopping(self) -> None:
        assert self.stopping is not None
        self.stopping.callback(None)
        if not self.ended.called:
            self.ended.callback("signal: killed")


@attrs.define
class FakeExecutor:
    started: list[tuple[EnvironmentSpec, Output, FakeHandle]] = attrs.field(factory=list)
    asked: list[tuple[str, Address, Address]] = attrs.field(factory=list)
    fail: Exception | None = None
    name: str = "fake"
    runtime_interface: str = "127.0.0.1"

    def check(self, runtime: str | None, image: str | None) -> None:
        pass

    def start(self, spec: EnvironmentSpec, output: Output) -> Deferred[Handle]:
        if self.fail is not None:
            return Deferred.fromCoroutine(self._fail(self.fail))
        handle = FakeHandle()
        self.started.append((spec, output, handle))
        return succeed(handle)

    async def _fail(self, error: Exception) -> Handle:
        raise error

    def admits(self, environment_id: str, client: Address, server: Address) -> bool:
        self.asked.append((environment_id, client, server))
        return client[1] == 1

    def remove_orphans(self) -> Deferred[None]:
        return succeed(None)

    def close(self) -> Deferred[None]:
        return succeed(None)


@attrs.define
class FakeLogs:
    events: list[tuple[str, str, Sequence[tuple[int, str]]]] = attrs.field(factory=list)

    def put_events(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: Sequence[tuple[int, str]],
    ) -> None:
        self.events.append((group, stream, events))


def invocation(request_id: str = "r1") -> Invocation:
    return Invocation(request_id, b"{}", "arn", 0, "Root=1")


class PoolTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.executor = FakeExecutor()
        self.logs = FakeLogs()
        self.handlers: list[RuntimeHandler] = []

        def listen(handler: RuntimeHandler, interface: str) -> Any:
            self.handlers.append(handler)
            return self.clock.listenTCP(0, None, interface=interface)

        def make_spec(environment_id: str, runtime_api: str, stream: str) -> EnvironmentSpec:
            return EnvironmentSpec(environment_id, "f", {"AWS_LAMBDA_RUNTIME_API": runtime_api})

        blueprint = Blueprint(
            "000000000000", "us-east-1", "f", "$LATEST", 3, 128, "/aws/lambda/f", make_spec
        )
        self.pool = FunctionPool(
            blueprint, self.executor, self.clock, listen, self.logs, limit=2, keep_alive=600
        )

    def run_next(self, index: int = 0) -> Invocation:
        """The runtime of environment ``index`` polls ``/next`` and gets an invocation."""
        taken: list[Invocation] = []
        self.handlers[index].next_invocation().addCallback(taken.append)
        self.assertEqual(len(taken), 1)
        return taken[0]

    def outcome(self, result: Deferred[Outcome]) -> Outcome:
        """The outcome, once the environments' output has been handed over."""
        for _, _, handle in self.executor.started:
            handle.flush()
        return self.successResultOf(result)

    def test_warm_reuse(self) -> None:
        first = self.pool.invoke(invocation("r1"))
        self.assertEqual(self.run_next().request_id, "r1")
        self.executor.started[0][1](b"hello\n")
        self.assertTrue(self.handlers[0].respond("r1", b'"ok"'))
        outcome = self.outcome(first)
        self.assertEqual((outcome.payload, outcome.function_error), (b'"ok"', None))
        lines = outcome.log.splitlines()
        self.assertEqual(lines[0], "START RequestId: r1 Version: $LATEST")
        self.assertEqual(lines[1], "hello")
        self.assertEqual(lines[2], "END RequestId: r1")
        self.assertIn("Init Duration", lines[3])
        second = self.pool.invoke(invocation("r2"))
        self.assertEqual(self.run_next().request_id, "r2")
        self.assertTrue(self.handlers[0].respond("r2", b"2"))
        self.assertNotIn("Init Duration", self.outcome(second).log)
        self.assertEqual(len(self.executor.started), 1)
        self.assertEqual({group for group, _, _ in self.logs.events}, {"/aws/lambda/f"})

    def test_a_runtime_cannot_answer_another_invocation(self) -> None:
        self.pool.invoke(invocation("r1"))
        self.run_next()
        self.assertFalse(self.handlers[0].respond("other", b"x"))
        self.assertFalse(self.handlers[0].fail("other", b"x"))

    def test_the_executor_vets_runtime_api_connections(self) -> None:
        self.pool.invoke(invocation())
        environment_id = self.executor.started[0][0].environment_id
        server = ("127.0.0.1", 9000)
        self.assertTrue(self.handlers[0].admits(("127.0.0.1", 1), server))
        self.assertFalse(self.handlers[0].admits(("127.0.0.1", 2), server))
        self.assertEqual(
            self.executor.asked,
            [(environment_id, ("127.0.0.1", n), server) for n in (1, 2)],
        )

    def test_scale_out_is_bounded(self) -> None:
        results = [self.pool.invoke(invocation(f"r{i}")) for i in range(3)]
        self.assertEqual(len(self.executor.started), 2)
        self.assertEqual(self.pool.busy, 2)
        self.run_next(0)
        self.handlers[0].respond("r0", b"0")
        self.outcome(results[0])
        self.assertEqual(self.run_next(0).request_id, "r2")
        self.assertEqual(len(self.executor.started), 2)
        self.assertNoResult(results[2])

    def test_timeout_destroys_the_environment(self) -> None:
        result = self.pool.invoke(invocation())
        self.run_next()
        self.clock.advance(3)
        outcome = self.successResultOf(result)
        self.assertEqual(outcome.function_error, "Unhandled")
        self.assertEqual(
            json.loads(outcome.payload),
            {
                "errorType": "Sandbox.Timedout",
                "errorMessage": "RequestId: r1 Error: Task timed out after 3.00 seconds",
            },
        )
        self.assertIn("Task timed out after 3.00 seconds", outcome.log)
        handle = self.executor.started[0][2]
        self.assertIsNotNone(handle.stopping)
        self.pool.invoke(invocation("r2"))
        self.assertEqual(len(self.executor.started), 2)

    def test_initialisation_has_its_own_limit(self) -> None:
        result = self.pool.invoke(invocation())
        self.clock.advance(5)
        self.assertNoResult(result)
        self.run_next()
        self.clock.advance(2.9)
        self.assertNoResult(result)
        self.clock.advance(0.1)
        self.assertEqual(self.successResultOf(result).function_error, "Unhandled")

    def test_crash(self) -> None:
        result = self.pool.invoke(invocation())
        self.run_next()
        self.executor.started[0][2].ended.callback("exit status 3")
        document = json.loads(self.successResultOf(result).payload)
        self.assertEqual(document["errorType"], "Runtime.ExitError")
        self.assertEqual(
            document["errorMessage"],
            "RequestId: r1 Error: Runtime exited with error: exit status 3",
        )

    def test_init_error(self) -> None:
        result = self.pool.invoke(invocation())
        error = b'{"errorType": "Runtime.ImportModuleError", "errorMessage": "x"}'
        self.handlers[0].init_failed(error)
        outcome = self.successResultOf(result)
        self.assertEqual((outcome.payload, outcome.function_error), (error, "Unhandled"))
        self.assertIsNotNone(self.executor.started[0][2].stopping)

    def test_start_failure(self) -> None:
        self.executor.fail = OSError("no engine")
        failure = self.failureResultOf(self.pool.invoke(invocation()), ServiceError)
        self.assertEqual(failure.value.code, "ServiceException")
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(self.pool.busy, 0)

    def test_an_environment_that_cannot_run_fails_the_invocation(self) -> None:
        """Not a 500 that SDKs retry: 200, Unhandled, AWS's kind of error document."""
        self.executor.fail = ImageUnavailable("the image x cannot be pulled")
        outcome = self.successResultOf(self.pool.invoke(invocation()))
        self.assertEqual(outcome.function_error, "Unhandled")
        self.assertEqual(
            json.loads(outcome.payload),
            {
                "errorType": "Runtime.InvalidEntrypoint",
                "errorMessage": "RequestId: r1 Error: the image x cannot be pulled",
            },
        )
        self.assertIn("the image x cannot be pulled", outcome.log)
        self.assertEqual(len(self.flushLoggedErrors(ImageUnavailable)), 1)
        self.assertEqual(self.pool.busy, 0)

    def test_the_report_waits_for_output_written_before_the_answer(self) -> None:
        result = self.pool.invoke(invocation("r1"))
        output, handle = self.executor.started[0][1:]
        output(b"initialising\n")
        self.run_next()
        output(b"first ")
        self.handlers[0].respond("r1", b"1")
        self.clock.advance(1)
        self.assertNoResult(result)
        output(b"line\nsecond line\n")
        handle.flush()
        lines = self.successResultOf(result).log.splitlines()
        self.assertEqual(lines[0], "initialising")
        self.assertEqual(lines[1], "START RequestId: r1 Version: $LATEST")
        self.assertEqual(lines[2:4], ["first line", "second line"])
        self.assertEqual(lines[4], "END RequestId: r1")
        self.assertTrue(lines[5].startswith("REPORT RequestId: r1\t"), lines[5])
        written = [message for _, _, events in self.logs.events for _, message in events]
        self.assertEqual(written, lines)

    def test_output_between_invocations_is_in_no_tail(self) -> None:
        first = self.pool.invoke(invocation("r1"))
        self.run_next()
        self.handlers[0].respond("r1", b"1")
        self.outcome(first)
        self.executor.started[0][1](b"late\n")
        second = self.pool.invoke(invocation("r2"))
        self.run_next()
        self.handlers[0].respond("r2", b"2")
        log = self.outcome(second).log
        self.assertTrue(log.startswith("START RequestId: r2 "), log)
        self.assertNotIn("late", log)
        written = [message for _, _, events in self.logs.events for _, message in events]
        self.assertIn("late", written)

    def test_report_figures(self) -> None:
        """Duration runs from the hand-over to the answer; Init Duration to the first poll."""
        result = self.pool.invoke(invocation("r1"))
        self.clock.advance(0.12051)
        self.run_next()
        self.clock.advance(0.00235)
        self.handlers[0].respond("r1", b"1")
        self.clock.advance(0.5)
        report = self.outcome(result).log.splitlines()[-1]
        self.assertEqual(
            report,
            "REPORT RequestId: r1\tDuration: 2.35 ms\tBilled Duration: 3 ms\t"
            "Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 120.51 ms\t",
        )
        self.executor.started[0][2].peak = None
        second = self.pool.invoke(invocation("r2"))
        self.run_next()
        self.clock.advance(0.2)
        self.handlers[0].respond("r2", b"2")
        self.assertEqual(
            self.outcome(second).log.splitlines()[-1],
            "REPORT RequestId: r2\tDuration: 200.00 ms\tBilled Duration: 200 ms\t"
            "Memory Size: 128 MB\t",
        )
        # A fraction of a millisecond too small to show is not billed.
        third = self.pool.invoke(invocation("r3"))
        self.run_next()
        self.clock.advance(0.200004)
        self.handlers[0].respond("r3", b"3")
        self.assertIn(
            "\tDuration: 200.00 ms\tBilled Duration: 200 ms\t",
            self.outcome(third).log.splitlines()[-1],
        )

    def test_idle_environments_expire(self) -> None:
        result = self.pool.invoke(invocation())
        self.run_next()
        self.handlers[0].respond("r1", b"1")
        self.outcome(result)
        handle = self.executor.started[0][2]
        self.clock.advance(599)
        self.assertIsNone(handle.stopping)
        self.clock.advance(1)
        self.assertIsNotNone(handle.stopping)

    def test_retire(self) -> None:
        idle_result = self.pool.invoke(invocation("r1"))
        busy_result = self.pool.invoke(invocation("r2"))
        self.run_next(0)
        self.run_next(1)
        self.handlers[0].respond("r1", b"1")
        self.outcome(idle_result)
        self.pool.retire()
        idle, busy = (started[2] for started in self.executor.started)
        self.assertIsNotNone(idle.stopping)
        self.assertIsNone(busy.stopping)
        self.handlers[1].respond("r2", b"2")
        self.outcome(busy_result)
        self.assertIsNotNone(busy.stopping)

    def test_shutdown_waits_for_every_environment(self) -> None:
        result = self.pool.invoke(invocation("r1"))
        queued = [self.pool.invoke(invocation(f"q{i}")) for i in range(2)]
        self.run_next()
        done = self.pool.shutdown()
        for waiting in queued[1:]:
            self.failureResultOf(waiting, ServiceError)
        self.assertNoResult(done)
        for _, _, handle in self.executor.started:
            handle.finish_stopping()
        self.successResultOf(done)
        self.assertEqual(
            json.loads(self.successResultOf(result).payload)["errorType"], "Runtime.ExitError"
        )
        self.assertIsInstance(self.handlers[0], Environment)


class EventQueueTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.queue = EventQueue(self.clock, retry_delay=60)
        self.attempts = 0

    def invoke(self, error: str | None) -> Deferred[Outcome]:
        self.attempts += 1
        return succeed(Outcome(b"{}", error))

    def test_function_errors_are_retried_twice(self) -> None:
        self.queue.submit(lambda: self.invoke("Unhandled"), {})
        self.assertEqual(self.attempts, 1)
        self.clock.advance(60)
        self.clock.advance(60)
        self.clock.advance(600)
        self.assertEqual(self.attempts, 3)

    def test_success_is_not_retried(self) -> None:
        self.queue.submit(lambda: self.invoke(None), {})
        self.clock.advance(600)
        self.assertEqual(self.attempts, 1)

    def test_settings(self) -> None:
        self.queue.submit(lambda: self.invoke("Unhandled"), {"MaximumRetryAttempts": 1})
        self.clock.advance(600)
        self.assertEqual(self.attempts, 2)
        self.queue.submit(lambda: self.invoke("Unhandled"), {"MaximumEventAgeInSeconds": 60})
        self.clock.advance(600)
        self.assertEqual(self.attempts, 4)

    def test_stop_forgets_pending_retries(self) -> None:
        self.queue.submit(lambda: self.invoke("Unhandled"), {})
        self.queue.stop()
        self.clock.advance(600)
        self.assertEqual(self.attempts, 1)
