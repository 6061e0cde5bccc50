"""
Running DynamoDB Local: one JVM, started with the daemon (or on first use),
restarted with a doubling back-off when it dies, and never left behind.

The L{Supervisor} is a Twisted service: C{startService} ends any JVM a
killed daemon orphaned and starts a new one; C{stopService} returns a
Deferred that fires only once the JVM has exited (SIGTERM, then SIGKILL).
Each JVM's pid is written to a pid file named after the daemon's own pid,
so a daemon finds the JVMs of daemons that died without stopping theirs,
and leaves alone those of daemons still running.

DynamoDB Local has no bind option: run by its own main, it listens on every
interface, where anyone who reaches the machine could use every account's
tables without going through the daemon. So it is run by a small launcher
of awsemu's (C{LoopbackLauncher.java}, beside this module), which binds its
server to 127.0.0.1 and halts the JVM once its standard input, a pipe from
the daemon, closes: even a daemon killed with SIGKILL leaves no JVM behind
(it exits a fraction of a second later). Java could compile that launcher
at every start (single-file source mode), but that costs seconds; the
supervisor compiles it once instead, into the cache directory, the first
time it runs a JVM with that launcher and that java (with java's own
compiler module, C{jdk.compiler}: a JRE has it, but no C{javac} command).

A JVM can also stop answering without exiting (a deadlock, a garbage
collector that never lets it run, SIGSTOP): every request would then wait
for the proxy's response timeout, forever. So once a JVM is ready, a
watchdog probes it every little while, and kills it after a few probes in
a row went unanswered; it is then restarted as if it had crashed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Final, Protocol

import attrs
from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.interfaces import IDelayedCall, IProcessTransport, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from awsemu.dynamodb import sharing
from awsemu.dynamodb.installer import JAR_NAME, DynamoDBLocal
from awsemu.dynamodb.sharing import ClassArchive
from awsemu.gateway.state import RUNNING, ServiceState

STARTUP_LINE: Final = b"Initializing DynamoDB Local"
"""What DynamoDB Local prints first once its options are parsed; it listens shortly after."""

OUTPUT_LINES_KEPT: Final = 20
"""Lines of the JVM's output kept to say why it died."""

LAUNCHER_SOURCE: Final = Path(__file__).with_name("LoopbackLauncher.java")
"""The Java program that runs DynamoDB Local on loopback only, for as long as the daemon lives."""
LAUNCHER_CLASS: Final = "LoopbackLauncher"
COMPILER: Final = "jdk.compiler/com.sun.tools.javac.Main"
"""javac, as a module that a Java runtime without the javac command may still hold."""


JIT_OPTIONS: Final = ("-XX:TieredStopAtLevel=1",)
"""
The JVM compiles with its quick compiler (C1) only. Measured on the
2-core machine under load (``bench/dynamodb.py`` and DynamoDB Local alone
with pairs of PutItem and GetItem): spawn to first ListTables 1.5-2.0 s
against 1.9-5.2 s with the optimising compiler, and less JVM CPU per
request over the first 12,000 requests (300-490 µs against 470-770 µs:
C2 compiles cost more than they gain for an emulator's traffic), at the
same latency.
"""


@attrs.frozen
class JvmCommand:
    """
    How to run DynamoDB Local: which java, which jar, where its tables live,
    and where the launcher that binds it to loopback is compiled to.
    """

    java: str
    dynamodb_local: DynamoDBLocal
    db_path: Path | None = None
    """The directory of its database files; None keeps everything in memory."""
    heap: str | None = None
    """The JVM's maximum heap (``-Xmx``), such as ``512m``; None leaves the JVM's default."""
    cache_dir: Path = attrs.field(kw_only=True)
    """Where the compiled launcher is kept (awsemu's cache directory)."""
    launcher_source: Path = attrs.field(default=LAUNCHER_SOURCE, kw_only=True)

    @property
    def launcher(self) -> Path:
        """
        The directory of the compiled launcher, named after a digest of its
        source and of the java that compiles it: a new awsemu or another
        java gets its own, compiled afresh.
        """
        digest = hashlib.sha256(self.launcher_source.read_bytes())
        digest.update(b"\0" + self.java.encode())
        return self.cache_dir / f"dynamodb-launcher-{digest.hexdigest()[:16]}"

    def compiled(self) -> bool:
        """Whether the launcher is compiled already."""
        return (self.launcher / f"{LAUNCHER_CLASS}.class").is_file()

    def needs_compiling(self) -> bool:
        """
        Whether the launcher must be compiled before a JVM can run: not once
        it is, nor when the class data sharing archive is made (its
        directory holds the launcher, compiled).
        """
        return not self.compiled() and self.class_archive.class_path() is None

    def compile_argv(self, directory: Path) -> list[str]:
        """The command line that compiles the launcher into ``directory``."""
        return [self.java, "-m", COMPILER, "-d", str(directory), str(self.launcher_source)]

    @property
    def class_archive(self) -> ClassArchive:
        """Where the class data sharing archive for this launcher, java and jar is, if made."""
        return ClassArchive.for_run(
            self.cache_dir, self.launcher_source, self.java, self.dynamodb_local.jar
        )

    def argv(self, port: int) -> list[str]:
        """
        The command line of a JVM listening on 127.0.0.1, ``port``: with the
        class data sharing archive if it is made, as DynamoDB Local comes if not.
        """
        archive = self.class_archive
        class_path = archive.class_path()
        if class_path is None:
            return self.jvm_argv(port, f"{self.launcher}{os.pathsep}{self.dynamodb_local.jar}")
        return self.jvm_argv(port, class_path, archive.options())

    def jvm_argv(self, port: int, class_path: str, options: Sequence[str] = ()) -> list[str]:
        """The command line of a JVM on ``port`` with this class path and these options."""
        storage = ["-inMemory"] if self.db_path is None else ["-dbPath", str(self.db_path)]
        return [
            self.java,
            *JIT_OPTIONS,
            *options,
            *([f"-Xmx{self.heap}"] if self.heap else []),
            f"-Djava.library.path={self.dynamodb_local.library_path}",
            "-cp",
            class_path,
            LAUNCHER_CLASS,
            "-port",
            str(port),
            "-disableTelemetry",
            *storage,
        ]

    def make_class_archive(self, port: int) -> None:
        """
        Make the class data sharing archive (see L{awsemu.dynamodb.sharing}),
        running DynamoDB Local on ``port``; blocks for a few seconds.
        """
        sharing.make(
            self.class_archive,
            self.dynamodb_local.jar,
            self.compile_argv,
            lambda class_path, options: self.jvm_argv(port, class_path, options),
            port,
        )


class DynamoDBLocalProtocol(ProcessProtocol):
    """
    One JVM's pipes (or those of the compiler of its launcher): C{started}
    fires when its startup line is seen, C{ended} when it has exited (with
    why, in words), and C{output} keeps its last lines for the log.
    """

    def __init__(self) -> None:
        self.started: Deferred[None] = Deferred()
        self.ended: Deferred[str] = Deferred()
        self.output: deque[str] = deque(maxlen=OUTPUT_LINES_KEPT)
        self._partial = {1: b"", 2: b""}

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        *lines, self._partial[childFD] = (self._partial.get(childFD, b"") + data).split(b"\n")
        for line in lines:
            if not self.started.called and line.startswith(STARTUP_LINE):
                self.started.callback(None)
            self.output.append(line.decode("utf-8", "replace").rstrip())

    def processEnded(self, reason: Failure) -> None:
        if not self.started.called:
            self.started.errback(reason)
        self.ended.callback(reason.getErrorMessage())


Spawn = Callable[[ProcessProtocol, str, Sequence[str], Mapping[str, str], str], IProcessTransport]
"""Starts a process: (protocol, executable, argv, environment, working directory)."""

Probe = Callable[[int], Awaitable[bool]]
"""Whether DynamoDB Local on a port answers requests (a ListTables that succeeds)."""


def free_loopback_port() -> int:
    """A TCP port free on the loopback interface right now, for the next JVM to take."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Processes(Protocol):
    """The processes of the machine, as the orphan search needs them."""

    def alive(self, pid: int) -> bool: ...

    def command_line(self, pid: int) -> str: ...

    def kill(self, pid: int) -> None: ...


@attrs.frozen
class ProcessTable:
    """The operating system's processes."""

    def alive(self, pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def command_line(self, pid: int) -> str:
        try:
            return (
                Path(f"/proc/{pid}/cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
            )
        except OSError:
            return ""

    def kill(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@attrs.frozen
class PidFiles:
    """
    ``dynamodb-local.<daemon pid>.pid`` files in ``directory``, each holding
    the pid of the JVM that daemon runs.
    """

    directory: Path
    processes: Processes = ProcessTable()

    def write(self, daemon_pid: int, jvm_pid: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._path(daemon_pid).write_text(f"{jvm_pid}\n")

    def remove(self, daemon_pid: int) -> None:
        self._path(daemon_pid).unlink(missing_ok=True)

    def _path(self, daemon_pid: int) -> Path:
        return self.directory / f"dynamodb-local.{daemon_pid}.pid"

    def end_orphans(self, daemon_pid: int) -> list[int]:
        """
        Kill the JVMs of daemons that are gone (or whose pid this daemon now
        has), when the pid still names a DynamoDB Local, and forget their
        pid files; return the pids killed.
        """
        killed = []
        for path in self.directory.glob("dynamodb-local.*.pid"):
            owner = path.name.split(".")[1]
            if owner.isdigit() and int(owner) != daemon_pid and self.processes.alive(int(owner)):
                continue
            text = path.read_text().strip()
            if text.isdigit() and JAR_NAME in self.processes.command_line(int(text)):
                self.processes.kill(int(text))
                killed.append(int(text))
            path.unlink(missing_ok=True)
        return killed


class Supervised(Protocol):
    """What the proxy needs of whatever runs DynamoDB Local."""

    def state(self) -> ServiceState: ...

    def whenReady(self) -> Deferred[int]:
        """Fires with the port DynamoDB Local answers on, once it does."""

    def ready_port(self) -> int | None:
        """The port DynamoDB Local answers on, if it does now (None: ask L{whenReady})."""


class CannotRun(Exception):
    """DynamoDB Local cannot run here; the message says how to fix that, on one line."""


@attrs.define
class Unavailable:
    """DynamoDB Local cannot run here (no jar, no java): ``reason`` says how to fix it."""

    reason: str

    def state(self) -> ServiceState:
        return ServiceState("error", self.reason)

    def whenReady(self) -> Deferred[int]:
        return fail(CannotRun(self.reason))

    def ready_port(self) -> None:
        return None


@attrs.define(eq=False)
class Supervisor(Service):
    """
    Keeps one DynamoDB Local JVM running while the service runs.

    ``lazy`` delays the first JVM until something asks for it through
    L{whenReady}. A JVM that exits is restarted after ``initial_delay``
    seconds, doubling up to ``max_delay`` while it keeps dying; a JVM that
    ran for ``stable_after`` seconds before dying starts the count afresh.

    A ready JVM is probed every ``live_interval`` seconds (from the start of
    one probe to the next); a probe that has not succeeded after
    ``live_timeout`` seconds is cancelled and failed, and ``live_failures``
    failed probes in a row get the JVM killed, and so restarted. With the
    defaults, a JVM that hangs is killed 30 to 40 seconds later: soon enough
    that requests stop piling up behind it, late enough that a long garbage
    collection or a burst of load does not cost the tables of an in-memory
    JVM.
    """

    command: JvmCommand
    clock: IReactorTime
    spawn: Spawn
    probe: Probe
    pid_files: PidFiles
    environment: Mapping[str, str]
    daemon_pid: int = attrs.field(factory=os.getpid)
    free_port: Callable[[], int] = free_loopback_port
    lazy: bool = False
    initial_delay: float = 0.5
    max_delay: float = 30.0
    stable_after: float = 60.0
    start_timeout: float = 60.0
    probe_interval: float = 0.02
    stop_timeout: float = 10.0
    live_interval: float = 10.0
    live_timeout: float = 10.0
    live_failures: int = 3
    name: str = "dynamodb-local"

    _log: Logger = attrs.field(factory=Logger, init=False)
    _process: IProcessTransport | None = attrs.field(default=None, init=False)
    _protocol: DynamoDBLocalProtocol | None = attrs.field(default=None, init=False)
    _pid: int | None = attrs.field(default=None, init=False)
    _spawned_at: float = attrs.field(default=0.0, init=False)
    _port: int | None = attrs.field(default=None, init=False)
    _waiters: list[Deferred[int]] = attrs.field(factory=list, init=False)
    _delay: float = attrs.field(
        default=attrs.Factory(lambda self: self.initial_delay, takes_self=True), init=False
    )
    _restart: IDelayedCall | None = attrs.field(default=None, init=False)
    _hung: IDelayedCall | None = attrs.field(default=None, init=False)
    _problem: str | None = attrs.field(default=None, init=False)
    _killed_because: str | None = attrs.field(default=None, init=False)
    """Why the supervisor killed the current JVM, if it did: its exit is then no surprise."""
    _watchdog: Deferred[None] | None = attrs.field(default=None, init=False)
    _early: bool = attrs.field(default=False, init=False)
    """Whether L{start_early} ran: orphans are ended, a JVM started, before L{startService}."""

    def state(self) -> ServiceState:
        if self._port is not None:
            return RUNNING
        if self._restart is not None:
            return ServiceState("error", self._problem)
        if self._process is None and self.lazy and self.running:
            return ServiceState("available", "DynamoDB Local starts on the first request")
        return ServiceState("starting", self._problem)

    def startService(self) -> None:
        super().startService()
        if not self._early:
            self._end_orphans()
        if not self.lazy and self._process is None and self._restart is None:
            self._spawn()

    def start_early(self) -> None:
        """
        Start the JVM now, before the service starts, so that DynamoDB Local
        starts while the daemon loads the rest of itself (``twistd awsemu``
        does this before it imports the gateway). L{startService} then keeps
        this JVM, or starts another if it has ended meanwhile. Should the
        service never start (the daemon fails to), the JVM ends with the
        daemon's process, as the launcher watches its standard input, and
        the next daemon removes its pid file.
        """
        self._early = True
        self._end_orphans()
        if not self.lazy:
            self._spawn()

    def _end_orphans(self) -> None:
        for pid in self.pid_files.end_orphans(self.daemon_pid):
            self._log.warn(
                "Killed DynamoDB Local (pid {pid}) orphaned by a previous daemon", pid=pid
            )

    def ready_port(self) -> int | None:
        return self._port

    def whenReady(self) -> Deferred[int]:
        if self._port is not None:
            return succeed(self._port)
        waiter: Deferred[int] = Deferred(self._waiters.remove)
        self._waiters.append(waiter)
        if self.running and self._process is None and self._restart is None:
            self._spawn()
        return waiter

    def stopService(self) -> Deferred[None]:
        super().stopService()
        self._stop_watching()
        for call in (self._restart, self._hung):
            if call is not None and call.active():
                call.cancel()
        self._restart = None
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.errback(CancelledError("DynamoDB Local is stopping"))
        return Deferred.fromCoroutine(self._stop_process())

    async def _stop_process(self) -> None:
        process, protocol = self._process, self._protocol
        if process is None or protocol is None:
            return
        process.signalProcess("TERM")
        kill = self.clock.callLater(self.stop_timeout, process.signalProcess, "KILL")
        await protocol.ended
        self._log.info("Stopped DynamoDB Local (pid {pid})", pid=self._pid)
        if kill.active():
            kill.cancel()
        else:
            self._log.warn(
                "DynamoDB Local ignored SIGTERM for {timeout}s: killed", timeout=self.stop_timeout
            )

    def _spawn(self) -> None:
        if self.command.needs_compiling():
            self._compile()
        else:
            self._run_jvm()

    def _start(self, argv: Sequence[str], directory: Path) -> DynamoDBLocalProtocol:
        """
        Start ``argv`` in ``directory`` as the current process, killed if it
        hangs. Its standard input is a pipe from the daemon (what spawning
        gives by default), which the launcher watches to end with the daemon.
        """
        protocol = DynamoDBLocalProtocol()
        self._restart, self._killed_because = None, None
        self._protocol = protocol
        self._spawned_at = self.clock.seconds()
        self._process = self.spawn(protocol, argv[0], argv, self.environment, str(directory))
        self._pid = self._process.pid
        self._hung = self.clock.callLater(self.start_timeout, self._kill_hung, protocol)
        return protocol

    def _compile(self) -> None:
        """
        Compile the launcher into a directory of this daemon's, moved into
        place once complete (so daemons starting together do not trip on
        each other's half-written files), then start the JVM; a failure
        counts as a JVM that died, and the next attempt compiles again.
        """
        staging = self.command.launcher.with_name(
            f"{self.command.launcher.name}.{self.daemon_pid}.partial"
        )
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        protocol = self._start(self.command.compile_argv(staging), staging.parent)
        protocol.started.addErrback(lambda _: None)  # A compiler prints no startup line.
        self._log.info(
            "Compiling the DynamoDB Local launcher into {directory} (pid {pid})",
            directory=self.command.launcher,
            pid=self._pid,
        )
        protocol.ended.addCallback(self._compiled, protocol, staging)

    def _compiled(self, reason: str, protocol: DynamoDBLocalProtocol, staging: Path) -> None:
        if (staging / f"{LAUNCHER_CLASS}.class").is_file():
            try:
                staging.rename(self.command.launcher)
            except OSError:
                pass  # Another daemon's copy got there first: it is as good.
        shutil.rmtree(staging, ignore_errors=True)
        if self.running and self.command.compiled():
            if self._hung is not None and self._hung.active():
                self._hung.cancel()
            self._run_jvm()
        else:
            self._ended(f"Compiling the DynamoDB Local launcher failed ({reason})", protocol)

    def _run_jvm(self) -> None:
        port = self.free_port()
        if self.command.db_path is not None:
            self.command.db_path.mkdir(parents=True, exist_ok=True)
        protocol = self._start(self.command.argv(port), self.command.dynamodb_local.directory)
        pid = self._pid
        if pid is not None:
            self.pid_files.write(self.daemon_pid, pid)
        self._log.info("Started DynamoDB Local (pid {pid}) on port {port}", pid=pid, port=port)
        protocol.ended.addCallback(
            lambda reason: self._ended(f"DynamoDB Local exited ({reason})", protocol)
        )
        ready = Deferred.fromCoroutine(self._become_ready(protocol, port))
        ready.addErrback(lambda _: None)  # It ended before it was ready: _ended restarts it.

    async def _become_ready(self, protocol: DynamoDBLocalProtocol, port: int) -> None:
        await protocol.started
        while not protocol.ended.called and not await self.probe(port):
            await deferLater(self.clock, self.probe_interval)
        if protocol is not self._protocol or protocol.ended.called:
            return
        if self._hung is not None and self._hung.active():
            self._hung.cancel()
        self._port, self._problem = port, None
        self._log.info("DynamoDB Local is ready on port {port}", port=port)
        self._watchdog = Deferred.fromCoroutine(self._watch(protocol, port))
        self._watchdog.addErrback(lambda failure: failure.trap(CancelledError))
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(port)

    async def _watch(self, protocol: DynamoDBLocalProtocol, port: int) -> None:
        """
        Probe the ready JVM of ``protocol`` until it ends, and kill it once
        ``live_failures`` probes in a row failed. The count lives here, so
        it is this JVM's alone; after each wait the JVM must still be the
        current one and the service running, so a probe that outlives its
        JVM (or the service) counts for nothing, and no probe follows it.
        """
        failures, wait = 0, self.live_interval
        while failures < self.live_failures:
            await deferLater(self.clock, wait)
            started = self.clock.seconds()
            if not self._watching(protocol):
                return
            answered = await self._answers(port)
            if not self._watching(protocol):
                return
            failures = 0 if answered else failures + 1
            if failures:
                self._log.warn(
                    "DynamoDB Local (pid {pid}) failed a probe, or did not answer it within"
                    " {timeout}s ({failures} of {allowed} in a row)",
                    pid=self._pid,
                    timeout=self.live_timeout,
                    failures=failures,
                    allowed=self.live_failures,
                )
            wait = max(0.0, started + self.live_interval - self.clock.seconds())
        self._kill(
            f"DynamoDB Local stopped answering: {failures} probes in a row failed"
            f" or got no answer within {self.live_timeout:g}s"
        )

    def _watching(self, protocol: DynamoDBLocalProtocol) -> bool:
        """Whether the watchdog of ``protocol``'s JVM should go on: it is current and wanted."""
        return bool(self.running) and protocol is self._protocol and self._port is not None

    async def _answers(self, port: int) -> bool:
        """
        Whether a probe of ``port`` succeeds within ``live_timeout``. One
        that does not is cancelled: the pool then closes its connection, on
        which a late answer would pass for the next request's.
        """
        probe = Deferred.fromCoroutine(self._ask(port))
        probe.addTimeout(self.live_timeout, self.clock)
        try:
            return await probe
        except Exception:  # The timeout, a refused connection: all mean no answer.
            return False

    async def _ask(self, port: int) -> bool:
        """The probe's answer, through a Deferred that cancelling reaches the probe by."""
        return await self.probe(port)

    def _stop_watching(self) -> None:
        """Cancel the watchdog's wait, or its probe in flight."""
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.cancel()

    def _kill_hung(self, protocol: DynamoDBLocalProtocol) -> None:
        if protocol is self._protocol:
            self._kill(f"DynamoDB Local did not answer within {self.start_timeout:g}s of starting")

    def _kill(self, problem: str) -> None:
        """
        SIGKILL the current JVM, which cannot be trusted to act on SIGTERM;
        from now on requests wait for the next JVM rather than go to this
        one, and _ended restarts it as it does a crashed one.
        """
        if self._process is None:
            return
        self._problem = self._killed_because = problem
        self._port = None
        self._log.error("{problem}: killing it (pid {pid})", problem=problem, pid=self._pid)
        self._process.signalProcess("KILL")

    def _ended(self, what: str, protocol: DynamoDBLocalProtocol) -> None:
        """The current process ended, as ``what`` says: restart the JVM after a back-off."""
        pid = self._pid
        self._process, self._protocol, self._port = None, None, None
        self.pid_files.remove(self.daemon_pid)
        self._stop_watching()
        if self._hung is not None and self._hung.active():
            self._hung.cancel()
        if not self.running:
            return
        if self.clock.seconds() - self._spawned_at >= self.stable_after:
            self._delay = self.initial_delay
        delay, self._delay = self._delay, min(self._delay * 2, self.max_delay)
        why = self._killed_because or what
        self._problem = f"{why}; restarting in {delay:g}s"
        self._log.error(
            "{what} (pid {pid}); restarting in {delay}s. Its last output:\n{output}",
            what=what,
            pid=pid,
            delay=delay,
            output="\n".join(protocol.output),
        )
        self._restart = self.clock.callLater(delay, self._spawn)
