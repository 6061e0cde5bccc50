"""
The process executor on a fake reactor: how it starts a runtime (its own
session, the function's uid), how it stops one (SIGTERM, then SIGKILL to
everything of the environment), and which connections it admits.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from twisted.internet.error import ProcessDone, ProcessExitedAlready, ProcessTerminated
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import DEFAULT_LAMBDA_USER, LambdaUser
from awsemu.lambda_ import peers
from awsemu.lambda_.executors import EnvironmentSpec
from awsemu.lambda_.executors.process import (
    JS_CLIENT,
    SETTLE,
    ProcessExecutor,
    _RuntimeProcess,
    reachable,
)
from awsemu.lambda_.node_ric import ENTRY_POINT, NATIVE_CLIENT, NodeRic
from awsemu.protocol.errors import ServiceError

REACHABLE_PYTHON = "/bin/sh"
"""Stands for a Python others can run: the executor only checks that it is reachable."""


@attrs.define
class FakeTransport:
    pid: int
    signals: list[str] = attrs.field(factory=list)
    exited: bool = False
    lost: bool = False
    pipes: dict[int, Any] = attrs.field(factory=dict)

    def signalProcess(self, name: str) -> None:
        if self.exited:
            raise ProcessExitedAlready()
        self.signals.append(name)

    def loseConnection(self) -> None:
        self.lost = True


class FakeReactor(MemoryReactorClock):
    def __init__(self) -> None:
        super().__init__()
        self.spawned: list[tuple[Any, str, list[str], dict[str, str]]] = []

    def spawnProcess(self, protocol: Any, executable: str, args: list[str], env: Any) -> Any:
        transport = FakeTransport(1000 + len(self.spawned))
        protocol.makeConnection(transport)
        self.spawned.append((protocol, executable, args, env))
        return transport


SPEC = EnvironmentSpec(
    "env-1",
    "f",
    {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"},
    runtime="python3.11",
    handler="app.handler",
    code="/tmp",
)


class Starting(SynchronousTestCase):
    """Starts one environment on a fake reactor; what was spawned, and with what variables."""

    def start(
        self, spec: EnvironmentSpec = SPEC, **options: Any
    ) -> tuple[list[str], dict[str, str]]:
        reactor = FakeReactor()
        executor = ProcessExecutor(reactor, chance=random.Random(1), **options)  # type: ignore[arg-type]
        executor.start(spec, lambda data: None)
        ((_, executable, args, env),) = reactor.spawned
        self.assertEqual(executable, options["python"])
        return args, env


class StartTests(Starting):
    def test_a_root_daemon_gives_each_environment_a_uid(self) -> None:
        args, env = self.start(python=REACHABLE_PYTHON, root=True)
        self.assertEqual(args[:4], [REACHABLE_PYTHON, "-I", "-S", "-c"])
        uid, directory, *runtime = args[5:]
        self.assertTrue(DEFAULT_LAMBDA_USER.first <= int(uid) <= DEFAULT_LAMBDA_USER.last)
        self.assertEqual(directory, "/tmp")
        self.assertEqual(runtime, [REACHABLE_PYTHON, "-m", "awslambdaric", "app.handler"])
        self.assertEqual(env["PYTHONPATH"], "/tmp")
        self.assertIn("os.setsid()", args[4])

    def test_code_the_uid_cannot_reach_is_refused(self) -> None:
        reactor = FakeReactor()
        executor = ProcessExecutor(reactor, REACHABLE_PYTHON, root=True)  # type: ignore[arg-type]
        spec = attrs.evolve(SPEC, code="/nonexistent/code")
        failure = self.failureResultOf(executor.start(spec, lambda data: None), ServiceError)
        self.assertIn("cannot reach /nonexistent/code", failure.value.message)
        self.assertEqual(reactor.spawned, [])

    def test_a_single_user(self) -> None:
        args, _ = self.start(python=REACHABLE_PYTHON, root=True, user=LambdaUser(65534, 65534))
        self.assertEqual(args[5], "65534")

    def test_other_daemons_keep_their_uid(self) -> None:
        cases: list[dict[str, Any]] = [
            {"root": False},
            {"root": True, "user": LambdaUser(0, 0)},
            {"root": True, "python": "/nonexistent/python"},
        ]
        for options in cases:
            args, _ = self.start(**{"python": REACHABLE_PYTHON, **options})
            self.assertEqual(args[5], "")


def installed_ric(testcase: SynchronousTestCase, native: bool = False) -> NodeRic:
    """An ``aws-lambda-ric`` unpacked in a directory others can search."""
    directory = Path(tempfile.mkdtemp())
    testcase.addCleanup(shutil.rmtree, directory)
    directory.chmod(0o755)
    for name in [ENTRY_POINT, *([NATIVE_CLIENT] if native else [])]:
        (directory / name).parent.mkdir(exist_ok=True)
        (directory / name).write_text("")
    return NodeRic(directory)


NODE_SPEC = attrs.evolve(SPEC, runtime="nodejs20.x", handler="index.handler", layers="/opt")


class RuntimesTests(Starting):
    """What runs for each runtime; every one starts through the same bootstrap."""

    def test_a_custom_runtime_runs_its_bootstrap(self) -> None:
        spec = attrs.evolve(SPEC, runtime="provided.al2023", handler="function.handler")
        args, env = self.start(spec, python=REACHABLE_PYTHON, root=False)
        self.assertEqual(args[5:], ["", "/tmp", "/tmp/bootstrap"])
        self.assertEqual(env["LAMBDA_TASK_ROOT"], "/tmp")
        self.assertEqual(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9")
        self.assertNotIn("PYTHONPATH", env)

    def test_a_layer_may_hold_the_bootstrap(self) -> None:
        layers = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, layers)
        spec = attrs.evolve(SPEC, runtime="provided.al2", code=layers, layers="/opt")
        args, _ = self.start(spec, python=REACHABLE_PYTHON, root=False)
        self.assertEqual(args[7:], ["/opt/bootstrap"])

    def test_node_runs_the_client_with_awsemus_js_client(self) -> None:
        ric = installed_ric(self)
        args, env = self.start(
            NODE_SPEC, python=REACHABLE_PYTHON, root=False, node_ric=ric, node="/usr/bin/node"
        )
        entry = str(ric.entry_point)
        self.assertEqual(
            args[7:], ["/usr/bin/node", "--require", JS_CLIENT, entry, "index.handler"]
        )
        self.assertTrue(os.path.isfile(JS_CLIENT))
        self.assertEqual(
            env["NODE_PATH"], "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/tmp"
        )

    def test_node_with_the_native_client_preloads_nothing(self) -> None:
        ric = installed_ric(self, native=True)
        args, _ = self.start(
            NODE_SPEC, python=REACHABLE_PYTHON, root=False, node_ric=ric, node="/usr/bin/node"
        )
        self.assertEqual(args[7:], ["/usr/bin/node", str(ric.entry_point), "index.handler"])

    def test_node_drops_to_a_uid_only_if_it_reaches_the_client(self) -> None:
        ric = installed_ric(self)
        options = {"python": REACHABLE_PYTHON, "root": True, "node": REACHABLE_PYTHON}
        args, _ = self.start(NODE_SPEC, node_ric=ric, **options)
        self.assertNotEqual(args[5], "")
        args, _ = self.start(NODE_SPEC, node_ric=NodeRic(Path("/nonexistent")), **options)
        self.assertEqual(args[5], "")

    def test_check(self) -> None:
        """Node.js needs the installed client; images and other languages are refused."""
        executor = ProcessExecutor(FakeReactor(), REACHABLE_PYTHON, node="/usr/bin/node")  # type: ignore[arg-type]
        executor.check("provided.al2", None)
        error = self.assertRaises(ServiceError, executor.check, "nodejs20.x", None)
        self.assertIn("run awsemu install lambda-node-ric", error.message)
        executor.node_ric = installed_ric(self)
        executor.check("nodejs22.x", None)
        for runtime, image in [("java21", None), ("ruby3.3", None), (None, "some/image")]:
            error = self.assertRaises(ServiceError, executor.check, runtime, image)
            self.assertEqual(error.code, "InvalidRuntimeException")


class ReachableTests(SynchronousTestCase):
    def test_every_directory_on_the_way_counts(self) -> None:
        """A link to a Python (a virtualenv's) is only as reachable as its own directory."""
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        link = os.path.join(directory, "python")
        os.symlink(shutil.which("sh") or "/bin/sh", link)
        os.chmod(directory, 0o755)
        self.assertTrue(reachable(link))
        os.chmod(directory, 0o700)
        self.assertFalse(reachable(link))
        self.assertFalse(reachable(os.path.join(directory, "missing")))


class RuntimeProcessTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.output: list[bytes] = []
        self.members: list[int] = [1000, 1001]
        self.killed: list[list[int]] = []

        def kill_all(members: Callable[[], list[int]]) -> list[int]:
            self.killed.append(members())
            self.members = []
            return []

        self.patch(peers, "session_members", lambda sid: list(self.members))
        self.patch(peers, "uid_members", lambda uid: [uid])
        self.patch(peers, "kill_all", kill_all)
        self.process = _RuntimeProcess(self.output.append, self.clock, grace=2.0)
        self.transport = FakeTransport(1000)
        self.process.makeConnection(self.transport)
        self.ended: list[str] = []
        self.process.ended.addCallback(self.ended.append)

    def exit(self, reason: Exception) -> None:
        self.transport.exited = True
        self.process.processExited(Failure(reason))

    def test_stop_terms_then_kills_the_whole_environment(self) -> None:
        stopped = self.process.stop()
        self.assertEqual(self.transport.signals, ["TERM"])
        self.clock.advance(1.9)
        self.assertEqual(self.killed, [])
        self.clock.advance(0.1)
        self.assertEqual(self.transport.signals, ["TERM", "KILL"])
        self.assertEqual(self.killed, [[1000, 1001]])
        self.assertNoResult(stopped)
        self.exit(ProcessTerminated(signal=9))
        self.clock.advance(SETTLE)
        self.assertEqual(len(self.ended), 1)
        self.assertTrue(self.ended[0].startswith("signal: "), self.ended)
        self.successResultOf(stopped)

    def test_what_outlives_the_runtime_is_killed_at_once(self) -> None:
        stopped = self.process.stop()
        self.exit(ProcessTerminated(signal=15))
        self.process.processEnded(Failure(ProcessTerminated(signal=15)))
        self.assertEqual(self.killed, [[1000, 1001]])
        self.assertEqual(len(self.ended), 1)
        self.successResultOf(stopped)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_the_end_does_not_wait_for_pipes_children_hold(self) -> None:
        self.exit(ProcessDone(0))
        self.assertEqual(self.ended, [])
        self.clock.advance(SETTLE)
        self.assertEqual(self.ended, ["exit status 0"])
        self.assertTrue(self.transport.lost)
        self.assertEqual(self.killed, [])
        self.successResultOf(self.process.stop())
        self.assertEqual(self.killed, [[1000, 1001]])
        self.assertEqual(self.transport.signals, [])

    def test_a_uid_of_its_own_lists_the_environment(self) -> None:
        self.process.uid, self.process.own_uid = 5000, True
        self.assertEqual(self.process.members(), [5000])
        self.process.own_uid = False
        self.assertEqual(self.process.members(), [1000, 1001])


class AdmitsTests(SynchronousTestCase):
    """Which connections an environment's processes account for."""

    def setUp(self) -> None:
        self.owner: peers.SocketOwner | None = peers.SocketOwner(5000, 77)
        self.holders = {1001}
        self.patch(peers, "socket_owner", lambda client, server: self.owner)
        self.patch(peers, "holds_socket", lambda pid, inode: inode == 77 and pid in self.holders)
        self.patch(peers, "session_members", lambda sid: [1000, 1001])
        self.process = _RuntimeProcess(lambda data: None, MemoryReactorClock(), 2.0)
        self.process.pid = 1000

    def admits(self) -> bool:
        return self.process.admits(("127.0.0.1", 5), ("127.0.0.1", 9))

    def test_by_uid(self) -> None:
        self.process.uid, self.process.own_uid = 5000, True
        self.holders = set()
        self.assertTrue(self.admits())
        self.process.uid = 5001
        self.assertFalse(self.admits())

    def test_by_session(self) -> None:
        self.assertTrue(self.admits())
        self.holders = {1000}
        self.assertTrue(self.admits())
        self.holders = {4242}
        self.assertFalse(self.admits())

    def test_a_shared_uid_still_needs_the_session(self) -> None:
        self.process.uid = 5000
        self.holders = {4242}
        self.assertFalse(self.admits())
        self.owner = peers.SocketOwner(0, 77)
        self.holders = {1000}
        self.assertFalse(self.admits())

    def test_a_closed_socket(self) -> None:
        self.owner = None
        self.assertFalse(self.admits())


@attrs.define
class FakePipe:
    fd: int

    def fileno(self) -> int:
        return self.fd


class FlushTests(SynchronousTestCase):
    """What the runtime wrote counts as handed over once its pipes hold nothing unread."""

    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.process = _RuntimeProcess(lambda data: None, self.clock, 2.0)
        self.read_end, self.write_end = os.pipe()
        self.addCleanup(os.close, self.read_end)
        self.addCleanup(os.close, self.write_end)
        transport = FakeTransport(os.getpid())
        transport.pipes[1] = FakePipe(self.read_end)
        self.process.makeConnection(transport)

    def test_flushed_once_the_pipes_are_read(self) -> None:
        os.write(self.write_end, b"still in the pipe\n")
        done = self.process.flushed()
        self.clock.advance(0.5)
        self.assertNoResult(done)
        os.read(self.read_end, 100)
        self.clock.advance(0.001)
        self.successResultOf(done)

    def test_a_stalled_pipe_is_waited_for_a_second_at_most(self) -> None:
        os.write(self.write_end, b"never read\n")
        done = self.process.flushed()
        self.clock.pump([0.001] * 999)
        self.assertNoResult(done)
        self.clock.pump([0.001] * 2)
        self.successResultOf(done)

    def test_empty_pipes_are_flushed_at_once(self) -> None:
        self.successResultOf(self.process.flushed())

    def test_peak_memory_is_the_runtimes_high_water_mark(self) -> None:
        peak = self.process.peak_memory()
        assert peak is not None
        self.assertTrue(1024 * 1024 < peak < 64 * 1024 * 1024 * 1024, peak)
        self.process.pid = 2**22 + 1
        self.assertIsNone(self.process.peak_memory())
