"""
Environments as local processes: a Python interpreter running
``awslambdaric`` (AWS's own runtime client) in the unpacked code, against
the environment's Runtime API, for machines without a Docker engine.

Only Python zip functions can run this way, and on the interpreter given
(whatever Python the function's runtime names); anything else is refused
with a clear error before an environment is started.

As in AWS's Python runtimes, boto3 is there without being packaged: the
daemon's Python has it (awsemu requires it). The function's code and its
layers come first on ``sys.path``, so a boto3 they hold is the one imported.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from typing import Any

import attrs
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ProcessDone, ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall, IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure

from awsemu.lambda_ import errors
from awsemu.lambda_.executors import EnvironmentSpec, Handle, Output


def exit_status(reason: Failure) -> str:
    """How a process ended, in the words of Lambda's ``Runtime.ExitError``."""
    value: Any = reason.value
    if isinstance(value, ProcessDone):
        return "exit status 0"
    if getattr(value, "signal", None) is not None:
        return f"signal: {signal.Signals(value.signal).name.removeprefix('SIG').lower()}"
    return f"exit status {value.exitCode}"


@attrs.define(eq=False)
class _RuntimeProcess(ProcessProtocol):
    """One runtime process: its output goes to ``output``, its end to ``ended``."""

    output: Output
    clock: IReactorTime
    grace: float
    ended: Deferred[str] = attrs.field(factory=Deferred)
    _gone: bool = False
    _waiters: list[Deferred[None]] = attrs.field(factory=list)
    _kill: IDelayedCall | None = None

    def outReceived(self, data: bytes) -> None:
        self.output(data)

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        if self._kill is not None and self._kill.active():
            self._kill.cancel()
        self._gone = True
        self.ended.callback(exit_status(reason))
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(None)

    def stop(self) -> Deferred[None]:
        """SIGTERM, then SIGKILL after ``grace`` seconds; fires once the process is reaped."""
        if self._gone:
            return succeed(None)
        if self._kill is None:
            self._signal("TERM")
            self._kill = self.clock.callLater(self.grace, self._signal, "KILL")
        waiter: Deferred[None] = Deferred()
        self._waiters.append(waiter)
        return waiter

    def _signal(self, name: str) -> None:
        try:
            self.transport.signalProcess(name)  # type: ignore[union-attr]
        except ProcessExitedAlready:
            pass


class _Reactor(IReactorProcess, IReactorTime):
    """A reactor that spawns processes and keeps time."""


@attrs.define
class ProcessExecutor:
    """See the module docstring. ``python`` is the interpreter with awslambdaric installed."""

    reactor: _Reactor
    python: str
    grace: float = 2.0
    name: str = "process"
    runtime_interface: str = "127.0.0.1"
    log_settle: float = 0.0

    def check(self, runtime: str | None, image: str | None) -> None:
        if image is not None or not (runtime or "").startswith("python"):
            raise errors.unsupported_runtime(runtime or "of an image function", self.name)
        if self.python == sys.executable and importlib.util.find_spec("awslambdaric") is None:
            raise errors.environment_failed(
                f"awslambdaric is not installed in the daemon's Python ({sys.executable}):"
                " pip install awslambdaric"
            )

    def start(self, spec: EnvironmentSpec, output: Output) -> Deferred[Handle]:
        assert spec.code is not None and spec.handler is not None
        path = [spec.code]
        if spec.layers is not None:
            python = os.path.join(spec.layers, "python")
            site = os.path.join(python, "lib", spec.runtime or "python3", "site-packages")
            path += [python, site]
        variables = {
            **spec.variables,
            "LAMBDA_TASK_ROOT": spec.code,
            "PYTHONPATH": os.pathsep.join(path),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        process = _RuntimeProcess(output, self.reactor, self.grace)
        self.reactor.spawnProcess(
            process,
            self.python,
            [self.python, "-m", "awslambdaric", spec.handler],
            env=variables,
            path=spec.code,
        )
        return succeed(process)

    def remove_orphans(self) -> Deferred[None]:
        """
        Nothing to do: a runtime process whose daemon died loses its Runtime
        API, and awslambdaric exits when its poll fails.
        """
        return succeed(None)

    def close(self) -> Deferred[None]:
        return succeed(None)
