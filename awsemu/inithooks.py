"""
Init hooks: scripts the daemon runs at four moments of its life, laid
out as LocalStack lays out ``/etc/localstack/init``::

    <init-dir>/boot.d/      before any service starts (the port is open, nothing answers yet)
    <init-dir>/start.d/     as the services start
    <init-dir>/ready.d/     once every service has settled: create buckets, tables...
    <init-dir>/shutdown.d/  when the daemon stops, before its services do

The init directory is ``--init-dir``, or ``/etc/awsemu/init`` when it
exists. In each stage the scripts run one after the other, by name:
``*.sh`` with ``sh``, ``*.py`` with the daemon's Python, any other
executable file as it is; other files are skipped. A script runs with the
daemon's environment plus ``AWS_ENDPOINT_URL`` (the daemon) and test
credentials, so the AWS CLI and SDKs reach the daemon. Each line a script
writes is logged; each script's state (``PENDING``, ``RUNNING``,
``SUCCESSFUL``, ``ERROR``) is in the health document under ``init``. A
failing script is logged and the next one runs, as in LocalStack.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

#: Stages in the order they run, by directory name.
STAGES: Final = ("boot.d", "start.d", "ready.d", "shutdown.d")
#: Where hooks are looked for when no ``--init-dir`` is given.
DEFAULT_INIT_DIR: Final = Path("/etc/awsemu/init")
#: The credentials scripts run with (awsemu accepts any).
CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}

_log = Logger()


def init_dir(configured: str | None) -> Path | None:
    """The init directory: the one configured, else the default when it exists."""
    if configured is not None:
        return Path(configured)
    return DEFAULT_INIT_DIR if DEFAULT_INIT_DIR.is_dir() else None


def command(script: Path) -> list[str] | None:
    """How to run ``script``, or None for a file that is not a script."""
    if script.suffix == ".sh":
        return ["sh", str(script)]
    if script.suffix == ".py":
        return [sys.executable, str(script)]
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return None


@attrs.define
class Script:
    """One hook: its stage, its file, and how it went."""

    stage: str
    path: Path
    argv: list[str]
    state: str = "PENDING"

    def describe(self) -> dict[str, str]:
        """Its entry in the health document."""
        return {
            "stage": self.stage.removesuffix(".d").upper(),
            "name": self.path.name,
            "state": self.state,
        }

    def log_line(self, line: str) -> None:
        _log.info("init {stage}/{name}: {text}", stage=self.stage, name=self.path.name, text=line)

    def finished(self, status: int | None) -> None:
        self.state = "SUCCESSFUL" if status == 0 else "ERROR"
        if status != 0:
            _log.warn(
                "init {stage}/{name} failed (exit status {status})",
                stage=self.stage,
                name=self.path.name,
                status=status,
            )


class _Output(ProcessProtocol):
    """Logs a script's output line by line; ``ended`` fires with its exit status."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.pending = b""
        self.ended: Deferred[int | None] = Deferred()

    def outReceived(self, data: bytes) -> None:
        *lines, self.pending = (self.pending + data).split(b"\n")
        for line in lines:
            self.script.log_line(line.decode("utf-8", "replace"))

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        if self.pending:
            self.script.log_line(self.pending.decode("utf-8", "replace"))
        status = 0 if reason.check(ProcessDone) else getattr(reason.value, "exitCode", None)
        self.ended.callback(status)


@attrs.define(eq=False)
class InitHooks(Service):
    """
    Runs the hooks of ``directory`` (see the module docstring).
    ``when_ready`` gives a Deferred that fires once the daemon is ready;
    ``endpoint_url`` is the daemon's address, given to scripts. The
    daemon runs ``shutdown`` before it stops its services.
    """

    directory: Path
    reactor: Any
    endpoint_url: str
    when_ready: Callable[[], Deferred[None]]
    scripts: list[Script] = attrs.field(init=False)
    environment: dict[str, str] = attrs.field(init=False)
    _stages_run: set[str] = attrs.field(factory=set, init=False)

    @scripts.default
    def _find(self) -> list[Script]:
        found = []
        for stage in STAGES:
            folder = self.directory / stage
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                argv = command(path)
                if argv is not None:
                    found.append(Script(stage, path, argv))
        return found

    @environment.default
    def _environment(self) -> dict[str, str]:
        return {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint_url}

    def state(self) -> dict[str, Any]:
        """The ``init`` part of the health document."""
        completed = {
            stage.removesuffix(".d").upper(): all(
                s.state in ("SUCCESSFUL", "ERROR") for s in self.scripts if s.stage == stage
            )
            and self._reached(stage)
            for stage in STAGES
        }
        return {"completed": completed, "scripts": [s.describe() for s in self.scripts]}

    def _reached(self, stage: str) -> bool:
        return stage in self._stages_run

    def privilegedStartService(self) -> None:
        """Run ``boot.d``, before the reactor runs and before any service starts."""
        super().privilegedStartService()
        self._stages_run.add("boot.d")
        for script in self._stage("boot.d"):
            script.state = "RUNNING"
            done = subprocess.run(
                script.argv,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=False,
            )
            for line in done.stdout.decode("utf-8", "replace").splitlines():
                script.log_line(line)
            script.finished(done.returncode)

    def startService(self) -> None:
        super().startService()
        Deferred.fromCoroutine(self._start())

    async def _start(self) -> None:
        await self._run("start.d")
        await self.when_ready()
        await self._run("ready.d")

    def shutdown(self) -> Deferred[None]:
        """Run ``shutdown.d``: the daemon calls it before stopping any service."""
        return Deferred.fromCoroutine(self._run("shutdown.d"))

    def _stage(self, stage: str) -> list[Script]:
        return [s for s in self.scripts if s.stage == stage]

    async def _run(self, stage: str) -> None:
        self._stages_run.add(stage)
        for script in self._stage(stage):
            script.state = "RUNNING"
            output = _Output(script)
            self.reactor.spawnProcess(output, script.argv[0], script.argv, env=self.environment)
            script.finished(await output.ended)
