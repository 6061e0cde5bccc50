"""
Execution environments and the pools that keep them warm.

A pool serves one revision of one function version. An invocation goes to
an idle environment if there is one, else to a new one while the pool is
under its bound, else it waits for the first environment to come free.
An environment runs one invocation at a time; it is stopped after
``keep_alive`` seconds idle, after a timeout or a crash, and when the
function changes (its pool is retired: idle environments stop at once,
busy ones after their invocation).

Everything here runs on the reactor and is timed by the injected clock, so
the tests drive it with ``Clock``/``MemoryReactorClock`` and a fake
executor.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, cast

import attrs
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, DeferredList, maybeDeferred, succeed
from twisted.internet.interfaces import IDelayedCall, IListeningPort, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from awsemu.lambda_ import errors, invocations, runtime_api
from awsemu.lambda_.executors import EnvironmentFailed, EnvironmentSpec, Executor, Handle
from awsemu.lambda_.invocations import UNHANDLED, Invocation, Outcome
from awsemu.lambda_.peers import Address

INIT_LIMIT = 10.0
"""Seconds AWS lets a runtime initialise before it gives up on the environment."""


class LogWriter(Protocol):
    """Where environments' logs go: CloudWatch Logs' ``LogStore.put_events``."""

    def put_events(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: Sequence[tuple[int, str]],
    ) -> None: ...


Listen = Callable[[runtime_api.RuntimeHandler, str], IListeningPort]
"""Serves a Runtime API to a handler on an interface: ``runtime_api.listen`` on a reactor."""


@attrs.frozen
class Blueprint:
    """
    One function version as its environments need it. ``make_spec``
    builds an environment's spec from its id, its Runtime API address and
    its log stream.
    """

    account_id: str
    region: str
    function_name: str
    version: str
    timeout: int
    memory_mb: int
    log_group: str
    make_spec: Callable[[str, str, str], EnvironmentSpec]


@attrs.define(eq=False)
class _Running:
    """An invocation handed to an environment, until it has an outcome."""

    invocation: Invocation
    result: Deferred[Outcome]
    started: float
    log: list[str]
    taken: float | None = None
    """When the runtime took it from ``/next``: its Duration runs from then."""
    answered: float | None = None
    """When the runtime answered it (``/response``, ``/error``), or it failed."""
    timer: IDelayedCall | None = None
    finishing: bool = False

    def duration_ms(self) -> float:
        """Lambda's Duration: from the hand-over to the answer (or the request, if never taken)."""
        assert self.answered is not None
        return (self.answered - (self.started if self.taken is None else self.taken)) * 1000


@attrs.define(eq=False)
class Environment:
    """
    One execution environment: its Runtime API, its runtime (through the
    executor's handle) and the invocation in flight. It is the Runtime
    API's handler (see ``runtime_api.RuntimeHandler``).
    """

    pool: FunctionPool
    id: str
    created: float
    stream: str
    port: IListeningPort | None = None
    handle: Handle | None = None
    current: _Running | None = None
    init_ms: float | None = None
    cold: bool = True
    stopping: bool = False
    starting: bool = True
    _waiting: Deferred[Invocation] | None = None
    _partial: str = ""
    _idle_timer: IDelayedCall | None = None
    _gone: Deferred[None] | None = None
    _after_start: Deferred[None] | None = None

    # What the pool does

    def assign(self, running: _Running) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self.current = running
        # Until the runtime takes the invocation, it is still initialising:
        # AWS gives that its own limit, apart from the function's timeout.
        running.timer = self.pool.clock.callLater(INIT_LIMIT, self._time_out)
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._take(running)
            waiting.callback(running.invocation)

    def _take(self, running: _Running) -> None:
        """
        The runtime has the invocation: its ``START`` line is written (after
        what the runtime printed initialising) and its timeout runs from now.
        """
        running.taken = self.pool.clock.seconds()
        start = invocations.start_line(running.invocation.request_id, self.pool.blueprint.version)
        running.log.append(start)
        self._write_log(start)
        if running.timer is not None:
            running.timer.cancel()
        running.timer = self.pool.clock.callLater(self.pool.blueprint.timeout, self._time_out)

    def idle(self, keep_alive: float) -> None:
        self._idle_timer = self.pool.clock.callLater(keep_alive, self._expire)

    def _expire(self) -> None:
        self._idle_timer = None
        self.pool.forget(self)
        self.destroy()

    def destroy(self) -> Deferred[None]:
        """Stop the environment; fires once its runtime is gone (after it started, if starting)."""
        if self._gone is not None:
            return self._gone
        self.stopping = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._waiting is not None:
            self._waiting.cancel()
        port, self.port = self.port, None
        waits: list[Deferred[Any]] = []
        if port is not None:
            waits.append(Deferred.fromCoroutine(_stopped(port)))
        if self.handle is not None:
            waits.append(self.handle.stop())
        elif self.starting:
            self._after_start = Deferred()
            waits.append(self._after_start)
        self._gone = DeferredList(waits, consumeErrors=True).addCallback(lambda _: None)
        return self._gone

    def started(self, handle: Handle) -> None:
        self.starting = False
        self.handle = handle
        handle.ended.addCallback(self._ended)
        if self._after_start is not None:
            handle.stop().chainDeferred(self._after_start)

    def not_started(self) -> None:
        self.starting = False
        if self._after_start is not None:
            self._after_start.callback(None)

    # The Runtime API's calls

    def admits(self, client: Address, server: Address) -> bool:
        return self.pool.executor.admits(self.id, client, server)

    def next_invocation(self) -> Deferred[Invocation]:
        if self.init_ms is None:
            self.init_ms = (self.pool.clock.seconds() - self.created) * 1000
        running = self.current
        if running is not None and running.taken is None:
            self._take(running)
            return succeed(running.invocation)

        def hung_up(_: Deferred[Invocation]) -> None:
            self._waiting = None

        self._waiting = Deferred(hung_up)
        return self._waiting

    def _is_current(self, request_id: str) -> bool:
        running = self.current
        return running is not None and running.invocation.request_id == request_id

    def respond(self, request_id: str, payload: bytes) -> bool:
        if not self._is_current(request_id):
            return False
        self._finish(Outcome(payload))
        return True

    def fail(self, request_id: str, payload: bytes) -> bool:
        if not self._is_current(request_id):
            return False
        self._finish(Outcome(payload, UNHANDLED))
        return True

    def too_large(self, request_id: str) -> bool:
        if not self._is_current(request_id):
            return False
        self._finish(Outcome(invocations.response_too_large(), UNHANDLED))
        return True

    def init_failed(self, payload: bytes) -> None:
        """AWS fails the invocation with the runtime's error and discards the environment."""
        self.stopping = True
        if self.current is not None:
            self._finish(Outcome(payload, UNHANDLED), status="error")

    # Output and endings

    def output(self, data: bytes) -> None:
        """
        The runtime's output: in the log of the invocation in flight, if any
        (output between invocations goes to the log stream alone: it is no
        invocation's, and never appears in the next one's tail).
        """
        text = self._partial + data.decode("utf-8", "replace")
        lines = text.split("\n")
        self._partial = lines.pop()
        if not lines:
            return
        complete = [line + "\n" for line in lines]
        if self.current is not None:
            self.current.log.extend(complete)
        self._write_log(*complete)

    def _write_log(self, *lines: str) -> None:
        blueprint = self.pool.blueprint
        now = int(self.pool.clock.seconds() * 1000)
        self.pool.logs.put_events(
            blueprint.account_id,
            blueprint.region,
            blueprint.log_group,
            self.stream,
            [(now, line.rstrip("\n")) for line in lines],
        )

    def _time_out(self) -> None:
        running = self.current
        if running is None:
            return
        running.timer = None
        request_id = running.invocation.request_id
        timeout = self.pool.blueprint.timeout
        note = f"{self._timestamp()} {request_id} Task timed out after {timeout:.2f} seconds\n"
        running.log.append(note)
        self._write_log(note)
        self.stopping = True
        self._finish(Outcome(invocations.timed_out(request_id, timeout), UNHANDLED), "timeout")

    def _timestamp(self) -> str:
        now = self.pool.clock.seconds()
        return (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        )

    def _ended(self, status: str) -> None:
        self.stopping = True
        running = self.current
        if running is not None and not running.finishing:
            payload = invocations.exited(running.invocation.request_id, status)
            self._finish(Outcome(payload, UNHANDLED), "error", settle=False)
        elif running is None:
            self.pool.forget(self)
            self.destroy()

    def _finish(self, outcome: Outcome, status: str = "", settle: bool = True) -> None:
        """
        End the invocation in flight: its Duration ends now. Unless the
        environment is already broken, what the runtime printed before it
        answered may still be on its way (it travels apart from the answer),
        so ``END`` and ``REPORT`` wait until the executor has handed it over.
        """
        running = self.current
        assert running is not None
        if running.finishing:
            return
        running.finishing = True
        running.answered = self.pool.clock.seconds()
        if running.timer is not None:
            running.timer.cancel()
            running.timer = None
        if settle and not self.stopping and self.handle is not None:
            self.handle.flushed().addBoth(lambda _: self._report(running, outcome, status))
        else:
            self._report(running, outcome, status)

    def _report(self, running: _Running, outcome: Outcome, status: str) -> None:
        blueprint = self.pool.blueprint
        request_id = running.invocation.request_id
        peak = None if self.handle is None else self.handle.peak_memory()
        lines = invocations.end_lines(
            request_id,
            running.duration_ms(),
            blueprint.memory_mb,
            None if peak is None else -(-peak // (1024 * 1024)),
            self.init_ms if self.cold else None,
            status,
        )
        running.log.append(lines)
        self._write_log(*lines.splitlines(keepends=True))
        self.cold = False
        self.current = None
        running.result.callback(attrs.evolve(outcome, log="".join(running.log)))
        self.pool.released(self)


async def _stopped(port: IListeningPort) -> None:
    """``stopListening`` returns a Deferred or None: wait for either."""
    await maybeDeferred(port.stopListening)


@attrs.define(eq=False)
class FunctionPool:
    """The environments of one function version (see the module docstring)."""

    blueprint: Blueprint
    executor: Executor
    clock: IReactorTime
    listen: Listen
    logs: LogWriter
    limit: int
    keep_alive: float
    retired: bool = False
    _environments: set[Environment] = attrs.field(factory=set)
    _idle: list[Environment] = attrs.field(factory=list)
    _queue: deque[_Running] = attrs.field(factory=deque)
    _log: Logger = attrs.field(factory=Logger)

    @property
    def busy(self) -> int:
        return len(self._environments) - len(self._idle)

    def __iter__(self) -> Iterator[Environment]:
        return iter(self._environments)

    def invoke(self, invocation: Invocation) -> Deferred[Outcome]:
        running = _Running(invocation, Deferred(), self.clock.seconds(), [])
        if self._idle:
            self._idle.pop().assign(running)
        elif len(self._environments) < self.limit:
            self._spawn(running)
        else:
            self._queue.append(running)
        return running.result

    def _spawn(self, running: _Running) -> None:
        """Start a new environment for ``running``."""
        now = self.clock.seconds()
        environment_id = uuid.uuid4().hex
        day = time.strftime("%Y/%m/%d", time.gmtime(now))
        stream = f"{day}/[{self.blueprint.version}]{environment_id}"
        environment = Environment(self, environment_id, now, stream)
        self._environments.add(environment)
        environment.port = self.listen(environment, self.executor.runtime_interface)
        address = cast(IPv4Address, environment.port.getHost())
        spec = self.blueprint.make_spec(environment_id, f"{address.host}:{address.port}", stream)
        environment.assign(running)
        started = self.executor.start(spec, environment.output)
        started.addCallbacks(environment.started, self._not_started, errbackArgs=(environment,))

    def _not_started(self, reason: Failure, environment: Environment) -> None:
        self._log.failure("an execution environment did not start", reason)
        environment.not_started()
        self.forget(environment)
        environment.destroy()
        running = environment.current
        environment.current = None
        if running is not None:
            if running.timer is not None:
                running.timer.cancel()
            if isinstance(reason.value, EnvironmentFailed):
                running.result.callback(self._failed_environment(running, reason.value))
            else:
                running.result.errback(errors.environment_failed(reason.getErrorMessage()))
        self._dispatch_queue()

    def _failed_environment(self, running: _Running, reason: EnvironmentFailed) -> Outcome:
        """
        An environment that cannot run the function (``EnvironmentFailed``)
        fails the invocation as AWS fails one whose environment could not
        start its runtime: 200 with ``X-Amz-Function-Error: Unhandled`` and a
        ``Runtime.*`` error document naming the request ("Troubleshoot
        invocation issues in Lambda": ``Runtime.InvalidEntrypoint``,
        ``Runtime.ExitError``). That is a final answer, which SDKs do not
        retry; any other failure is the service's own (500, which they retry).
        """
        request_id = running.invocation.request_id
        message = f"RequestId: {request_id} Error: {reason}"
        log = (
            f"{invocations.start_line(request_id, self.blueprint.version)}{message}\n"
            f"END RequestId: {request_id}\n"
        )
        return Outcome(invocations.error_document(reason.error_type, message), UNHANDLED, log)

    def forget(self, environment: Environment) -> None:
        self._environments.discard(environment)
        if environment in self._idle:
            self._idle.remove(environment)

    def released(self, environment: Environment) -> None:
        """``environment`` finished an invocation: give it the next one, or let it idle."""
        if environment.stopping:
            self.forget(environment)
            environment.destroy()
            self._dispatch_queue()
        elif self._queue:
            environment.assign(self._queue.popleft())
        elif self.retired:
            self.forget(environment)
            environment.destroy()
        else:
            self._idle.append(environment)
            environment.idle(self.keep_alive)

    def _dispatch_queue(self) -> None:
        while self._queue and len(self._environments) < self.limit:
            self._spawn(self._queue.popleft())

    def retire(self) -> None:
        """The function changed: stop idle environments now, busy ones when they finish."""
        self.retired = True
        for environment in list(self._idle):
            self.forget(environment)
            environment.destroy()

    def shutdown(self) -> Deferred[Any]:
        """Stop every environment; fires when all are gone. Waiting invocations fail."""
        self.retired = True
        while self._queue:
            self._queue.popleft().result.errback(
                errors.environment_failed("the daemon is stopping")
            )
        environments = list(self._environments)
        self._environments.clear()
        self._idle.clear()
        return DeferredList([e.destroy() for e in environments], consumeErrors=True)
