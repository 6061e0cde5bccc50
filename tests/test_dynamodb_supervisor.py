"""Tests for L{awsemu.dynamodb.supervisor}, on a fake clock with fake processes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import attrs
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from awsemu.dynamodb.installer import DynamoDBLocal
from awsemu.dynamodb.supervisor import (
    COMPILER,
    LAUNCHER_SOURCE,
    CannotRun,
    DynamoDBLocalProtocol,
    JvmCommand,
    PidFiles,
    Spawn,
    Supervisor,
    Unavailable,
)

DAEMON_PID = 4242


@attrs.define
class FakeProcess:
    """A spawned process: records the signals sent to it."""

    protocol: ProcessProtocol
    argv: Sequence[str]
    environment: Mapping[str, str]
    directory: str
    pid: int
    signals: list[str] = attrs.Factory(list)

    def signalProcess(self, name: str) -> None:
        self.signals.append(name)

    def print(self, line: bytes) -> None:
        self.protocol.childDataReceived(1, line + b"\n")

    def exit(self, code: int = 1) -> None:
        reason = ProcessDone(0) if code == 0 else ProcessTerminated(code)
        self.protocol.processEnded(Failure(reason))


@attrs.define
class FakeSpawner:
    processes: list[FakeProcess] = attrs.Factory(list)

    def __call__(
        self,
        protocol: ProcessProtocol,
        executable: str,
        argv: Sequence[str],
        environment: Mapping[str, str],
        directory: str,
    ) -> FakeProcess:
        process = FakeProcess(protocol, argv, environment, directory, 1000 + len(self.processes))
        self.processes.append(process)
        return process

    @property
    def last(self) -> FakeProcess:
        return self.processes[-1]


@attrs.define
class FakeProcessTable:
    """Processes by pid, with their command lines; killing one removes it."""

    running: dict[int, str] = attrs.Factory(dict)
    killed: list[int] = attrs.Factory(list)

    def alive(self, pid: int) -> bool:
        return pid in self.running

    def command_line(self, pid: int) -> str:
        return self.running.get(pid, "")

    def kill(self, pid: int) -> None:
        self.killed.append(pid)
        self.running.pop(pid, None)


class SupervisorCase(SynchronousTestCase):
    """A L{Supervisor} on a fake clock, spawning fake processes, with a scripted probe."""

    precompiled = True
    """Whether the launcher is compiled before the supervisor starts."""

    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.spawner = FakeSpawner()
        self.answers: list[bool | None] = []
        """The next probes' answers: None for a probe that hangs until cancelled."""
        self.probed: list[int] = []
        self.cancelled: list[int] = []
        self.directory = Path(self.mktemp())
        self.jar = self.directory / "ddb" / "DynamoDBLocal.jar"
        self.cache = self.directory / "cache"
        self.command = JvmCommand(
            "/usr/bin/java", DynamoDBLocal(self.jar), heap="256m", cache_dir=self.cache
        )

    def probe(self, port: int) -> Deferred[bool]:
        self.probed.append(port)
        answer = self.answers.pop(0) if self.answers else True
        if answer is None:
            return Deferred(lambda _: self.cancelled.append(port))
        return succeed(answer)

    def compile_launcher(self) -> None:
        """Have the launcher compiled already, as a daemon started earlier leaves it."""
        self.command.launcher.mkdir(parents=True)
        (self.command.launcher / "LoopbackLauncher.class").write_bytes(b"\xca\xfe\xba\xbe")

    def supervisor(self, **kwargs: object) -> Supervisor:
        """A supervisor of ``self.command``, its launcher compiled if ``precompiled``."""
        if self.precompiled:
            self.compile_launcher()
        ports = iter(range(9000, 9100))
        return Supervisor(
            command=self.command,
            clock=self.clock,
            spawn=cast(Spawn, self.spawner),
            probe=self.probe,
            pid_files=PidFiles(self.directory, FakeProcessTable()),
            environment={"PATH": "/usr/bin"},
            daemon_pid=DAEMON_PID,
            free_port=lambda: next(ports),
            **kwargs,  # type: ignore[arg-type]
        )

    def start_ready(self, supervisor: Supervisor) -> FakeProcess:
        supervisor.startService()
        self.spawner.last.print(b"Initializing DynamoDB Local with the following configuration:")
        return self.spawner.last

    def pid_file(self) -> Path:
        return self.directory / f"dynamodb-local.{DAEMON_PID}.pid"


class SupervisorTests(SupervisorCase):
    """L{Supervisor} starts, watches, restarts and stops the JVM."""

    def test_spawn(self) -> None:
        """
        Starting the service runs the launcher on the jar's classes, from
        the jar's directory, on a free port.
        """
        supervisor = self.supervisor()
        supervisor.startService()
        process = self.spawner.last
        self.assertEqual(
            process.argv,
            [
                "/usr/bin/java",
                "-XX:TieredStopAtLevel=1",
                "-Xmx256m",
                f"-Djava.library.path={self.jar.parent / 'DynamoDBLocal_lib'}",
                "-cp",
                f"{self.command.launcher}:{self.jar}",
                "LoopbackLauncher",
                "-port",
                "9000",
                "-disableTelemetry",
                "-inMemory",
            ],
        )
        self.assertEqual(process.directory, str(self.jar.parent))
        self.assertEqual(process.environment, {"PATH": "/usr/bin"})
        self.assertEqual(self.pid_file().read_text(), "1000\n")
        self.assertEqual(supervisor.state().status, "starting")

    def test_db_path(self) -> None:
        """With a database directory, the JVM keeps its tables there, and it is created."""
        db_path = self.directory / "data" / "dynamodb"
        command = attrs.evolve(self.command, db_path=db_path)
        self.assertEqual(command.argv(1)[-2:], ["-dbPath", str(db_path)])
        supervisor = attrs.evolve(self.supervisor(), command=command)
        supervisor.startService()
        self.assertTrue(db_path.is_dir())

    def test_ready_after_startup_line_and_probe(self) -> None:
        """
        Requests waiting for readiness are answered once the startup line
        was printed and a probe succeeded, which is retried until it does.
        """
        supervisor = self.supervisor()
        supervisor.startService()
        waiting = supervisor.whenReady()
        self.assertEqual(self.probed, [])
        self.answers = [False, False]
        self.spawner.last.print(b"Initializing DynamoDB Local with the following configuration:")
        self.assertEqual(self.probed, [9000])
        self.assertNoResult(waiting)
        self.clock.advance(supervisor.probe_interval)
        self.clock.advance(supervisor.probe_interval)
        self.assertEqual(self.successResultOf(waiting), 9000)
        self.assertEqual(self.successResultOf(supervisor.whenReady()), 9000)
        self.assertEqual(supervisor.state().status, "running")

    def test_partial_lines(self) -> None:
        """The startup line is recognised even when it arrives in pieces."""
        protocol = DynamoDBLocalProtocol()
        protocol.childDataReceived(1, b"Initializing Dyn")
        self.assertNoResult(protocol.started)
        protocol.childDataReceived(1, b"amoDB Local with\nPort: 1\n")
        self.successResultOf(protocol.started)
        self.assertEqual(list(protocol.output), ["Initializing DynamoDB Local with", "Port: 1"])

    def test_restart_with_back_off(self) -> None:
        """A JVM that dies is restarted after a delay that doubles each time it dies again."""
        supervisor = self.supervisor()
        self.start_ready(supervisor)
        self.spawner.last.exit(137)
        state = supervisor.state()
        self.assertEqual(state.status, "error")
        self.assertIn("exit code 137", state.reason or "")
        self.assertFalse(self.pid_file().exists())
        waiting = supervisor.whenReady()
        delays = []
        for _ in range(8):
            spawned = len(self.spawner.processes)
            elapsed = 0.0
            while len(self.spawner.processes) == spawned:
                self.clock.advance(0.25)
                elapsed += 0.25
            delays.append(elapsed)
            self.assertEqual(supervisor.state().status, "starting")
            self.spawner.last.exit(1)
        self.assertEqual(delays, [0.5, 1, 2, 4, 8, 16, 30, 30])
        self.assertNoResult(waiting)
        self.clock.advance(30)
        self.spawner.last.print(b"Initializing DynamoDB Local")
        self.assertEqual(self.successResultOf(waiting), 9009)

    def test_stable_run_resets_back_off(self) -> None:
        """A JVM that ran long enough before dying is restarted after the initial delay."""
        supervisor = self.supervisor()
        self.start_ready(supervisor).exit(1)
        self.clock.advance(0.5)
        self.spawner.last.exit(1)
        self.clock.advance(1)
        self.clock.advance(supervisor.stable_after)
        self.spawner.last.exit(1)
        self.clock.advance(0.5)
        self.assertEqual(len(self.spawner.processes), 4)

    def test_hung_start_killed(self) -> None:
        """A JVM that does not answer within the start timeout is killed (then restarted)."""
        supervisor = self.supervisor()
        supervisor.startService()
        self.clock.advance(supervisor.start_timeout)
        self.assertEqual(self.spawner.last.signals, ["KILL"])
        self.assertIn("did not answer", supervisor.state().reason or "")

    def test_stop(self) -> None:
        """Stopping sends SIGTERM and fires only once the JVM has exited."""
        supervisor = self.supervisor()
        process = self.start_ready(supervisor)
        stopped = supervisor.stopService()
        self.assertEqual(process.signals, ["TERM"])
        self.assertNoResult(stopped)
        process.exit(0)
        self.successResultOf(stopped)
        self.assertFalse(self.pid_file().exists())
        self.clock.advance(100)
        self.assertEqual(len(self.spawner.processes), 1)
        self.assertEqual(process.signals, ["TERM"])

    def test_stop_timeout(self) -> None:
        """A JVM that ignores SIGTERM gets SIGKILL after the stop timeout."""
        supervisor = self.supervisor()
        process = self.start_ready(supervisor)
        stopped = supervisor.stopService()
        self.clock.advance(supervisor.stop_timeout)
        self.assertEqual(process.signals, ["TERM", "KILL"])
        self.assertNoResult(stopped)
        process.exit(137)
        self.successResultOf(stopped)

    def test_stop_while_restarting(self) -> None:
        """Stopping during a back-off cancels the restart and fails those waiting."""
        supervisor = self.supervisor()
        self.start_ready(supervisor).exit(1)
        waiting = supervisor.whenReady()
        self.successResultOf(supervisor.stopService())
        self.failureResultOf(waiting)
        self.clock.advance(100)
        self.assertEqual(len(self.spawner.processes), 1)

    def test_lazy(self) -> None:
        """A lazy supervisor starts the JVM only when first asked for it."""
        supervisor = self.supervisor(lazy=True)
        supervisor.startService()
        self.assertEqual(self.spawner.processes, [])
        self.assertEqual(supervisor.state().status, "available")
        waiting = supervisor.whenReady()
        self.assertEqual(len(self.spawner.processes), 1)
        self.spawner.last.print(b"Initializing DynamoDB Local")
        self.assertEqual(self.successResultOf(waiting), 9000)

    def test_cancelled_waiter_forgotten(self) -> None:
        """A request that stops waiting (it timed out) is not answered later."""
        supervisor = self.supervisor()
        supervisor.startService()
        waiting = supervisor.whenReady()
        waiting.cancel()
        self.failureResultOf(waiting)
        self.spawner.last.print(b"Initializing DynamoDB Local")
        self.assertEqual(supervisor.state().status, "running")

    def test_orphans_ended_at_start(self) -> None:
        """Starting kills the JVM of a daemon that died without stopping it."""
        supervisor = self.supervisor()
        table = supervisor.pid_files.processes
        assert isinstance(table, FakeProcessTable)
        table.running[77] = "java -jar /x/DynamoDBLocal.jar -port 1"
        supervisor.pid_files.write(12, 77)
        supervisor.startService()
        self.assertEqual(table.killed, [77])
        self.assertEqual(self.pid_file().read_text(), "1000\n")
        self.assertFalse((self.directory / "dynamodb-local.12.pid").exists())


class EarlyStartTests(SupervisorCase):
    """L{Supervisor.start_early} runs the JVM before the service starts, which keeps it."""

    def test_kept(self) -> None:
        """
        The JVM runs, orphans ended and its pid file written, before the
        service starts; starting the service keeps it, and stopping ends it.
        """
        supervisor = self.supervisor()
        table = supervisor.pid_files.processes
        assert isinstance(table, FakeProcessTable)
        table.running[77] = "java -jar /x/DynamoDBLocal.jar -port 1"
        supervisor.pid_files.write(12, 77)
        supervisor.start_early()
        self.assertEqual(table.killed, [77])
        self.assertEqual(len(self.spawner.processes), 1)
        self.assertEqual(self.pid_file().read_text(), "1000\n")
        supervisor.startService()
        self.assertEqual(len(self.spawner.processes), 1)
        self.assertEqual(table.killed, [77])  # Its own pid file is no orphan's.
        self.assertEqual(self.pid_file().read_text(), "1000\n")
        self.spawner.last.print(b"Initializing DynamoDB Local")
        self.assertEqual(self.successResultOf(supervisor.whenReady()), 9000)
        stopped = supervisor.stopService()
        self.assertEqual(self.spawner.last.signals, ["TERM"])
        self.spawner.last.exit(0)
        self.successResultOf(stopped)
        self.assertFalse(self.pid_file().exists())

    def test_ended_before_start(self) -> None:
        """A JVM that ended before the service started is not restarted until it starts."""
        supervisor = self.supervisor()
        supervisor.start_early()
        self.spawner.last.exit(1)
        self.assertFalse(self.pid_file().exists())
        self.clock.advance(60)
        self.assertEqual(len(self.spawner.processes), 1)
        supervisor.startService()
        self.assertEqual(len(self.spawner.processes), 2)
        self.assertEqual(self.pid_file().read_text(), "1001\n")

    def test_lazy(self) -> None:
        """A lazy supervisor ends orphans early but starts no JVM before it is asked."""
        supervisor = self.supervisor(lazy=True)
        supervisor.start_early()
        supervisor.startService()
        self.assertEqual(self.spawner.processes, [])


class PidFilesTests(SynchronousTestCase):
    """L{PidFiles.end_orphans} kills only what is orphaned and is DynamoDB Local."""

    def setUp(self) -> None:
        self.table = FakeProcessTable()
        self.pid_files = PidFiles(Path(self.mktemp()), self.table)

    def test_owner_alive(self) -> None:
        """The JVM of a daemon still running is left alone."""
        self.table.running.update({12: "twistd", 77: "java -jar DynamoDBLocal.jar"})
        self.pid_files.write(12, 77)
        self.assertEqual(self.pid_files.end_orphans(DAEMON_PID), [])
        self.assertEqual(self.table.killed, [])

    def test_pid_reused(self) -> None:
        """A pid now used by some other program is not killed, and its file is forgotten."""
        self.table.running[77] = "vim"
        self.pid_files.write(12, 77)
        self.assertEqual(self.pid_files.end_orphans(DAEMON_PID), [])
        self.assertEqual(list(self.pid_files.directory.iterdir()), [])

    def test_launched(self) -> None:
        """A JVM started by the launcher is recognised by its class path."""
        self.table.running[77] = (
            "java -cp /c/dynamodb-launcher-0:/x/DynamoDBLocal.jar LoopbackLauncher -port 1"
        )
        self.pid_files.write(12, 77)
        self.assertEqual(self.pid_files.end_orphans(DAEMON_PID), [77])

    def test_own_pid(self) -> None:
        """A file named for this daemon's pid is a previous daemon's (pids are reused)."""
        self.table.running.update({DAEMON_PID: "twistd", 77: "java -jar DynamoDBLocal.jar"})
        self.pid_files.write(DAEMON_PID, 77)
        self.assertEqual(self.pid_files.end_orphans(DAEMON_PID), [77])

    def test_no_directory(self) -> None:
        """Nothing to do before any pid file was written."""
        self.assertEqual(self.pid_files.end_orphans(DAEMON_PID), [])


class UnavailableTests(SynchronousTestCase):
    def test_reports_fix(self) -> None:
        """The health says how to fix it, and requests fail at once with the fix."""
        unavailable = Unavailable("run `awsemu install dynamodb-local`")
        self.assertEqual(unavailable.state().status, "error")
        self.assertEqual(unavailable.state().reason, "run `awsemu install dynamodb-local`")
        failure = self.failureResultOf(unavailable.whenReady(), CannotRun)
        self.assertEqual(str(failure.value), "run `awsemu install dynamodb-local`")


class WatchdogTests(SupervisorCase):
    """
    L{Supervisor} probes a ready JVM every C{live_interval} seconds and
    kills one that stopped answering, which is then restarted. (The fake
    clock runs what falls due during an C{advance} at its end time, so the
    tests advance in steps no longer than the watchdog's.)
    """

    def watched(self, **kwargs: object) -> Supervisor:
        return self.supervisor(live_interval=10, live_timeout=5, live_failures=3, **kwargs)

    def test_hung_jvm_killed_and_restarted(self) -> None:
        """
        Probes that get no answer within the timeout are cancelled; the
        third in a row gets the JVM killed, after which requests wait for
        its successor, and the health says why, as for a crash.
        """
        supervisor = self.watched()
        process = self.start_ready(supervisor)
        self.assertEqual(self.probed, [9000])  # Its readiness.
        self.answers = [None, None, None]
        self.clock.advance(10)
        self.assertEqual(self.probed, [9000, 9000])
        self.clock.advance(4.5)
        self.assertEqual(self.cancelled, [])
        self.clock.advance(0.5)
        self.assertEqual(self.cancelled, [9000])
        self.clock.advance(5)  # The next probe starts 10 s after the last one did.
        self.assertEqual(self.probed, [9000] * 3)
        self.clock.pump([5, 5])
        self.assertEqual(process.signals, [])
        self.assertEqual(supervisor.state().status, "running")
        self.clock.advance(5)
        self.assertEqual(self.cancelled, [9000] * 3)
        self.assertEqual(process.signals, ["KILL"])
        state = supervisor.state()
        self.assertEqual(state.status, "starting")
        self.assertIn("stopped answering: 3 probes in a row", state.reason or "")
        waiting = supervisor.whenReady()
        self.assertNoResult(waiting)

        process.exit(137)
        state = supervisor.state()
        self.assertEqual(state.status, "error")
        self.assertIn("stopped answering", state.reason or "")
        self.assertIn("restarting in 0.5s", state.reason or "")
        self.assertFalse(self.pid_file().exists())
        self.clock.advance(0.5)
        self.spawner.last.print(b"Initializing DynamoDB Local")
        self.assertEqual(self.successResultOf(waiting), 9001)
        self.assertEqual(supervisor.state().status, "running")

    def test_failed_probe_counts(self) -> None:
        """A probe that fails at once (a refused connection, an error status) is a failure too."""
        supervisor = self.watched()
        process = self.start_ready(supervisor)
        self.answers = [False, False, False]
        self.clock.pump([10] * 3)
        self.assertEqual(process.signals, ["KILL"])

    def test_success_resets_count(self) -> None:
        """A probe that succeeds starts the count of failures afresh."""
        supervisor = self.watched()
        process = self.start_ready(supervisor)
        self.answers = [None, False, True, None, None, True, False, None]
        self.clock.pump([5] * 20)
        self.assertEqual(len(self.probed), 1 + 10)
        self.assertEqual(process.signals, [])
        self.answers = [None, None, None]
        self.clock.pump([5] * 6)
        self.assertEqual(process.signals, [])
        self.clock.advance(5)
        self.assertEqual(process.signals, ["KILL"])

    def test_stop_cancels_probe(self) -> None:
        """Stopping cancels the probe in flight and leaves no timer behind."""
        supervisor = self.watched()
        process = self.start_ready(supervisor)
        self.answers = [None]
        self.clock.advance(10)
        stopped = supervisor.stopService()
        self.assertEqual(self.cancelled, [9000])
        process.exit(0)
        self.successResultOf(stopped)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(process.signals, ["TERM"])

    def test_stop_between_probes(self) -> None:
        """Stopping while waiting for the next probe cancels it: no probe follows."""
        supervisor = self.watched()
        process = self.start_ready(supervisor)
        self.clock.advance(15)
        stopped = supervisor.stopService()
        process.exit(0)
        self.successResultOf(stopped)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(100)
        self.assertEqual(self.probed, [9000, 9000])

    def test_slow_stop_not_probed(self) -> None:
        """A JVM slow to act on SIGTERM is not probed, let alone killed, by the watchdog."""
        supervisor = self.watched(stop_timeout=60)
        process = self.start_ready(supervisor)
        self.answers = [False] * 10
        stopped = supervisor.stopService()
        self.clock.pump([5] * 10)
        self.assertEqual(self.probed, [9000])
        self.assertEqual(process.signals, ["TERM"])
        process.exit(0)
        self.successResultOf(stopped)

    def test_probe_of_old_jvm(self) -> None:
        """
        Failures of a JVM that crashed do not count for its successor, and
        a probe in flight when it ended is cancelled and never followed.
        """
        supervisor = self.watched()
        first = self.start_ready(supervisor)
        self.answers = [None, None, None]
        self.clock.pump([5] * 6)
        self.assertEqual(self.probed, [9000] * 4)  # Two failed, one in flight.
        first.exit(1)
        self.assertEqual(self.cancelled, [9000] * 3)
        self.clock.advance(0.5)
        self.spawner.last.print(b"Initializing DynamoDB Local")
        self.assertEqual(self.probed, [9000] * 4 + [9001])
        self.answers = [None, None]
        self.clock.pump([5] * 8)
        self.assertEqual(self.probed, [9000] * 4 + [9001] * 5)
        self.assertEqual(first.signals, [])
        self.assertEqual(self.spawner.last.signals, [])
        self.assertEqual(supervisor.state().status, "running")


class LauncherTests(SupervisorCase):
    """
    L{Supervisor} compiles the launcher that binds DynamoDB Local to
    loopback the first time it runs it with a given java, then runs it
    compiled.
    """

    precompiled = False

    def staging(self) -> Path:
        return self.cache / f"{self.command.launcher.name}.{DAEMON_PID}.partial"

    def compiler_writes_class(self, into: Path) -> None:
        into.mkdir(parents=True, exist_ok=True)
        (into / "LoopbackLauncher.class").write_bytes(b"\xca\xfe\xba\xbe")

    def test_compiled_first(self) -> None:
        """
        Without a compiled launcher, java's compiler module compiles it into
        a directory of this daemon's, which is moved into place; only then
        does the JVM start, from the compiled launcher.
        """
        supervisor = self.supervisor()
        supervisor.startService()
        compiler = self.spawner.last
        self.assertEqual(
            compiler.argv,
            ["/usr/bin/java", "-m", COMPILER, "-d", str(self.staging()), str(LAUNCHER_SOURCE)],
        )
        self.assertEqual(compiler.directory, str(self.cache))
        self.assertFalse(self.pid_file().exists())
        self.assertEqual(supervisor.state().status, "starting")
        waiting = supervisor.whenReady()
        self.assertEqual(len(self.spawner.processes), 1)

        self.compiler_writes_class(self.staging())
        compiler.exit(0)
        self.assertTrue(self.command.compiled())
        self.assertFalse(self.staging().exists())
        jvm = self.spawner.last
        self.assertEqual(len(self.spawner.processes), 2)
        self.assertEqual(jvm.argv, self.command.argv(9000))
        self.assertEqual(self.pid_file().read_text(), f"{jvm.pid}\n")
        jvm.print(b"Initializing DynamoDB Local")
        self.assertEqual(self.successResultOf(waiting), 9000)

    def test_started_early(self) -> None:
        """
        A launcher still compiling when the service starts (the compiler
        started by L{Supervisor.start_early}) is compiled once, then run.
        """
        supervisor = self.supervisor()
        supervisor.start_early()
        compiler = self.spawner.last
        supervisor.startService()
        self.assertEqual(self.spawner.processes, [compiler])
        self.compiler_writes_class(self.staging())
        compiler.exit(0)
        self.assertEqual(len(self.spawner.processes), 2)
        self.assertEqual(self.spawner.last.argv, self.command.argv(9000))

    def test_class_archive(self) -> None:
        """With the class data sharing archive made, the launcher in it runs: none is compiled."""
        archive = self.command.class_archive
        archive.directory.mkdir(parents=True)
        archive.archive.write_bytes(b"archive")
        (archive.directory / "class-path").write_text(f"{archive.directory}/launcher.jar")
        self.supervisor().startService()
        self.assertEqual(len(self.spawner.processes), 1)
        self.assertEqual(self.spawner.last.argv, self.command.argv(9000))
        self.assertIn(f"{archive.directory}/launcher.jar", self.spawner.last.argv)

    def test_compiled_once(self) -> None:
        """A JVM that restarts, or the next daemon's, runs the launcher compiled before."""
        supervisor = self.supervisor()
        supervisor.startService()
        self.compiler_writes_class(self.staging())
        self.spawner.last.exit(0)
        self.spawner.last.exit(1)
        self.clock.advance(supervisor.initial_delay)
        self.assertEqual(self.spawner.last.argv, self.command.argv(9001))
        self.assertEqual(len(self.spawner.processes), 3)

    def test_digest(self) -> None:
        """Another java or another launcher source is compiled apart."""
        other_source = self.directory / "Other.java"
        self.directory.mkdir(parents=True, exist_ok=True)
        other_source.write_text("class Other {}")
        launchers = {
            self.command.launcher,
            attrs.evolve(self.command, java="/opt/java21/bin/java").launcher,
            attrs.evolve(self.command, launcher_source=other_source).launcher,
            attrs.evolve(self.command, heap="1g").launcher,
        }
        self.assertEqual(len(launchers), 3)
        self.assertEqual({launcher.parent for launcher in launchers}, {self.cache})

    def test_compile_fails(self) -> None:
        """
        A compiler that fails is reported in the health as a JVM that died
        would be, and tried again after the back-off; its directory is
        removed.
        """
        supervisor = self.supervisor()
        supervisor.startService()
        self.spawner.last.print(b"error: module not found: jdk.compiler")
        self.spawner.last.exit(1)
        state = supervisor.state()
        self.assertEqual(state.status, "error")
        self.assertIn("Compiling the DynamoDB Local launcher failed", state.reason or "")
        self.assertIn("exit code 1", state.reason or "")
        self.assertIn("restarting in 0.5s", state.reason or "")
        self.assertFalse(self.staging().exists())
        self.clock.advance(0.5)
        self.assertEqual(len(self.spawner.processes), 2)
        self.assertEqual(self.spawner.last.argv[1:3], ["-m", COMPILER])

    def test_compiled_meanwhile(self) -> None:
        """
        When another daemon's launcher got into place first, this daemon's
        copy is dropped and the JVM runs the other.
        """
        supervisor = self.supervisor()
        supervisor.startService()
        self.compile_launcher()
        self.compiler_writes_class(self.staging())
        (self.staging() / "Mine.class").write_bytes(b"")
        self.spawner.last.exit(0)
        self.assertFalse(self.staging().exists())
        self.assertFalse((self.command.launcher / "Mine.class").exists())
        self.assertEqual(self.spawner.last.argv, self.command.argv(9000))

    def test_stop_while_compiling(self) -> None:
        """Stopping ends the compiler, fires once it has exited, and starts no JVM."""
        supervisor = self.supervisor()
        supervisor.startService()
        compiler = self.spawner.last
        stopped = supervisor.stopService()
        self.assertEqual(compiler.signals, ["TERM"])
        self.assertNoResult(stopped)
        self.compiler_writes_class(self.staging())
        compiler.exit(0)
        self.successResultOf(stopped)
        self.clock.advance(100)
        self.assertEqual(self.spawner.processes, [compiler])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_hung_compiler_killed(self) -> None:
        """A compiler that does not finish within the start timeout is killed, then run again."""
        supervisor = self.supervisor()
        supervisor.startService()
        self.clock.advance(supervisor.start_timeout)
        self.assertEqual(self.spawner.last.signals, ["KILL"])
        self.spawner.last.exit(137)
        self.assertIn("did not answer within 60s", supervisor.state().reason or "")
        self.clock.advance(supervisor.initial_delay)
        self.assertEqual(self.spawner.last.argv[1:3], ["-m", COMPILER])
