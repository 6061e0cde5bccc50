"""
Environments as local processes, for machines without a Docker engine, in
the unpacked code against the environment's Runtime API:

- Python functions: a Python interpreter running ``awslambdaric`` (AWS's
  own runtime client), on the interpreter given (whatever Python the
  function's runtime names);
- Node.js functions: ``node`` running AWS's ``aws-lambda-ric`` npm package
  (``awsemu install lambda-node-ric``; see ``node_ric``), whatever Node.js
  version the runtime names;
- custom runtimes (``provided.al2023``, ``provided.al2``): the package's
  ``bootstrap`` executable, as AWS runs it.

Anything else (image functions, Java, .NET, Ruby) is refused with a clear
error before an environment is started.

Isolation. Each environment starts in a session of its own, through a small
bootstrap (``_BOOTSTRAP``, run by the same interpreter in isolated mode, so
nothing of the function's is imported before it) that calls ``setsid``,
drops to the function's uid when the daemon is root (``--lambda-user``: by
default a uid of its own per environment, from a range no account uses),
enters the code directory and only then execs awslambdaric. Stopping an
environment (idle expiry, timeout, daemon shutdown) sends SIGTERM to the
runtime, then SIGKILL to every process of the environment once the runtime
is gone or after ``grace`` seconds: every process of its uid (nothing it
starts can escape that), or of its session when it has no uid of its own.
The environment counts as gone when its runtime has been reaped, not when
every holder of its output pipes closed them: a child that kept stdout open
can delay nothing. The same process lists tell the environment's Runtime
API connections from anyone else's (``peers``).

As in AWS's Python runtimes, boto3 is there without being packaged: the
daemon's Python has it (awsemu requires it). The function's code and its
layers come first on ``sys.path``, so a boto3 they hold is the one imported.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import random
import shutil
import signal
import struct
import sys
import termios
from typing import Any, Final

import attrs
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ProcessDone, ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall, IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from awsemu.config import DEFAULT_LAMBDA_USER, LambdaUser
from awsemu.lambda_ import errors, node_ric, peers
from awsemu.lambda_.executors import EnvironmentSpec, Handle, Output
from awsemu.lambda_.node_ric import INSTALL_COMMAND, NodeRic
from awsemu.lambda_.peers import Address

CUSTOM_RUNTIMES: Final = ("provided.al2023", "provided.al2")
JS_CLIENT: Final = os.path.join(os.path.dirname(__file__), "runtime_client.cjs")
"""Stands in for ``aws-lambda-ric``'s native client where it was not built (``node_ric``)."""

_BOOTSTRAP: Final = """\
import os, sys
uid, directory, *command = sys.argv[1:]
os.setsid()
if uid:
    os.setgroups([])
    os.setgid(int(uid))
    os.setuid(int(uid))
try:
    os.chdir(directory)
    os.execv(command[0], command)
except OSError as error:
    sys.stderr.write(f"awsemu: uid {os.getuid()} cannot run the runtime: {error}\\n")
    sys.exit(126)
"""
"""Runs in the new process: its own session, the function's uid, then the runtime."""

SETTLE: Final = 0.2
"""Seconds the runtime's last output may take to arrive once it has exited."""
FLUSH_LIMIT: Final = 1.0
"""Longest a response waits for the output written before it to be read."""
"""Seconds the runtime's last output may take to arrive once it has exited."""


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
    """
    One environment's processes: the runtime, whose output goes to
    ``output`` and whose end to ``ended``, and whatever it started (see the
    module docstring). ``uid`` is the uid it runs as (None: the daemon's),
    ``own_uid`` whether no other environment shares it.
    """

    output: Output
    clock: IReactorTime
    grace: float
    uid: int | None = None
    own_uid: bool = False
    ended: Deferred[str] = attrs.field(factory=Deferred)
    gone: Deferred[None] = attrs.field(factory=Deferred)
    pid: int = 0
    _status: str | None = None
    _finished: bool = False
    _stopping: bool = False
    _settle: IDelayedCall | None = None
    _kill: IDelayedCall | None = None

    def connectionMade(self) -> None:
        self.pid = self.transport.pid  # type: ignore[union-attr]

    def outReceived(self, data: bytes) -> None:
        self.output(data)

    errReceived = outReceived

    def processExited(self, reason: Failure) -> None:
        self._status = exit_status(reason)
        self._settle = self.clock.callLater(SETTLE, self._finish)

    def processEnded(self, reason: Failure) -> None:
        self._status = self._status or exit_status(reason)
        self._finish()

    def flushed(self) -> Deferred[None]:
        """
        See ``Handle.flushed``. What the runtime wrote before it answered is
        in its pipes by the time the answer arrives; the reactor reads a
        pipe a chunk at a time, so this looks every millisecond until the
        kernel holds nothing unread in either (``FIONREAD``), no guessing at
        a quiet period; at most ``FLUSH_LIMIT`` (a reader that stalls).
        Measured here: drained at the first look (no wait) to the third
        for 200 lines, at the fifth to seventh for 5000 (200 KB).
        """
        done: Deferred[None] = Deferred()
        limit = self.clock.seconds() + FLUSH_LIMIT

        def check() -> None:
            drained = not any(map(_unread, self._pipes()))
            if self._finished or drained or self.clock.seconds() >= limit:
                done.callback(None)
            else:
                self.clock.callLater(0.001, check)

        check()
        return done

    def _pipes(self) -> list[int]:
        """The descriptors of the runtime's stdout and stderr, while they are read."""
        pipes = getattr(self.transport, "pipes", {})
        return [pipes[fd].fileno() for fd in (1, 2) if fd in pipes]

    def peak_memory(self) -> int | None:
        """The runtime's peak resident memory (``VmHWM``), read from ``/proc``."""
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def members(self) -> list[int]:
        """The environment's live processes (see the module docstring)."""
        if self.uid is not None and self.own_uid:
            return peers.uid_members(self.uid)
        return peers.session_members(self.pid)

    def admits(self, client: Address, server: Address) -> bool:
        """See ``Executor.admits``; the runtime itself is asked first, then its session."""
        owner = peers.socket_owner(client, server)
        if owner is None or (self.uid is not None and owner.uid != self.uid):
            return False
        if self.own_uid or peers.holds_socket(self.pid, owner.inode):
            return True
        return any(peers.holds_socket(pid, owner.inode) for pid in self.members())

    def _finish(self) -> None:
        """The runtime is gone: its end is known; if stopping, nothing of it stays."""
        if self._finished:
            return
        self._finished = True
        for call in (self._settle, self._kill):
            if call is not None and call.active():
                call.cancel()
        # Children may hold the output pipes: stop reading them.
        self.transport.loseConnection()  # type: ignore[union-attr]
        assert self._status is not None
        self.ended.callback(self._status)
        if self._stopping:
            self._end_all()

    def _end_all(self) -> None:
        peers.kill_all(self.members)
        if not self.gone.called:
            self.gone.callback(None)

    def stop(self) -> Deferred[None]:
        """
        SIGTERM to the runtime, then SIGKILL to every process of the
        environment once the runtime is gone or ``grace`` seconds passed;
        fires once the runtime is reaped and the rest killed.
        """
        waiter: Deferred[None] = Deferred()
        self.gone.addBoth(waiter.callback)
        if self._stopping:
            return waiter
        self._stopping = True
        if self._finished:
            self._end_all()
        else:
            self._signal("TERM")
            self._kill = self.clock.callLater(self.grace, self._kill_all)
        return waiter

    def _kill_all(self) -> None:
        self._signal("KILL")
        peers.kill_all(self.members)

    def _signal(self, name: str) -> None:
        try:
            self.transport.signalProcess(name)  # type: ignore[union-attr]
        except ProcessExitedAlready:
            pass


def _unread(fd: int) -> int:
    """How many bytes a pipe holds unread; 0 once it is closed."""
    try:
        answer = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    except OSError:
        return 0
    found: int = struct.unpack("i", answer)[0]
    return found


def reachable(program: str) -> bool:
    """
    Whether users other than its owner can run ``program``: every directory
    on its way is searchable, through its links (a virtualenv's ``python``)
    and to what they point at.
    """
    found = shutil.which(program) or program
    return all(_searchable(path) for path in {os.path.abspath(found), os.path.realpath(found)})


def _searchable(path: str) -> bool:
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        if path == os.path.dirname(path):
            return True
        path = os.path.dirname(path)


class _Reactor(IReactorProcess, IReactorTime):
    """A reactor that spawns processes and keeps time."""


@attrs.define
class ProcessExecutor:
    """
    See the module docstring. ``python`` is the interpreter with awslambdaric
    installed; ``node_ric`` the installed ``aws-lambda-ric`` (None: Node.js
    functions are refused) and ``node`` the Node.js that runs it; ``user``
    whom functions run as when ``root`` (the daemon runs as root).
    """

    reactor: _Reactor
    python: str
    user: LambdaUser = DEFAULT_LAMBDA_USER
    node_ric: NodeRic | None = None
    node: str | None = attrs.field(factory=lambda: shutil.which("node"))
    grace: float = 2.0
    name: str = "process"
    runtime_interface: str = "127.0.0.1"
    root: bool = attrs.field(factory=lambda: os.geteuid() == 0)
    chance: random.Random = attrs.field(factory=random.SystemRandom)
    _running: dict[str, _RuntimeProcess] = attrs.field(factory=dict)
    _drop: bool = attrs.field(init=False, default=False)
    _drop_node: bool = attrs.field(init=False, default=False)
    _log: Logger = attrs.field(factory=Logger)

    def __attrs_post_init__(self) -> None:
        """
        Drop privileges when root, unless asked not to, or unless no other
        user can run ``python`` (a Python installed under ``/root``): then
        functions run as root, and the log says why. The same for Node.js
        functions and ``node`` or the installed ``aws-lambda-ric`` (in a
        cache directory under ``/root``).
        """
        if not self.root or self.user.first == 0:
            return
        self._drop = reachable(self.python)
        if not self._drop:
            self._log.warn(
                "Lambda functions run as root: uid {uid} cannot reach {python}; install a"
                " Python others can run and pass it as --lambda-python, or --lambda-user root",
                uid=str(self.user),
                python=self.python,
            )
        if self.node is None or self.node_ric is None:
            return
        needed = [self.node, str(self.node_ric.directory)]
        if not self.node_ric.native:
            needed.append(os.path.dirname(JS_CLIENT))
        self._drop_node = self._drop and all(map(reachable, needed))
        if self._drop and not self._drop_node:
            self._log.warn(
                "Node.js functions run as root: uid {uid} cannot reach {ric}; install it in a"
                " --cache-dir others can search, or pass --lambda-user root",
                uid=str(self.user),
                ric=str(self.node_ric.directory),
            )

    @property
    def node_client(self) -> str:
        """What runs Node.js functions, for the health answer and the start line."""
        return node_ric.describe(self.node_ric)

    def check(self, runtime: str | None, image: str | None) -> None:
        if image is None and runtime in CUSTOM_RUNTIMES:
            return
        if image is None and (runtime or "").startswith("nodejs"):
            if self.node is None:
                raise errors.environment_failed("Node.js (node) is not on the daemon's PATH")
            if self.node_ric is None:
                raise errors.environment_failed(
                    f"AWS's Node.js runtime client is not installed: run {INSTALL_COMMAND}"
                )
            return
        if image is not None or not (runtime or "").startswith("python"):
            raise errors.unsupported_runtime(runtime or "of an image function", self.name)
        if self.python == sys.executable and importlib.util.find_spec("awslambdaric") is None:
            raise errors.environment_failed(
                f"awslambdaric is not installed in the daemon's Python ({sys.executable}):"
                " pip install awslambdaric"
            )

    def _runtime(self, spec: EnvironmentSpec) -> tuple[list[str], dict[str, str]]:
        """The runtime's command and the variables it needs beyond the function's."""
        assert spec.code is not None and spec.handler is not None
        runtime = spec.runtime or ""
        if runtime in CUSTOM_RUNTIMES:
            # The package's bootstrap, else a layer's (/var/task/bootstrap, /opt/bootstrap).
            bootstrap = os.path.join(spec.code, "bootstrap")
            if spec.layers is not None and not os.path.lexists(bootstrap):
                bootstrap = os.path.join(spec.layers, "bootstrap")
            return [bootstrap], {}
        if runtime.startswith("nodejs"):
            assert self.node is not None and self.node_ric is not None
            # AWS's images: /opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:...:/var/task
            modules = [spec.code]
            if spec.layers is not None:
                nodejs = os.path.join(spec.layers, "nodejs")
                version = "node" + runtime.removeprefix("nodejs").removesuffix(".x")
                modules[:0] = [
                    os.path.join(nodejs, version, "node_modules"),
                    f"{nodejs}/node_modules",
                ]
            preload = [] if self.node_ric.native else ["--require", JS_CLIENT]
            command = [self.node, *preload, str(self.node_ric.entry_point), spec.handler]
            return command, {"NODE_PATH": os.pathsep.join(modules)}
        path = [spec.code]
        if spec.layers is not None:
            python = os.path.join(spec.layers, "python")
            site = os.path.join(python, "lib", runtime or "python3", "site-packages")
            path += [python, site]
        return [self.python, "-m", "awslambdaric", spec.handler], {
            "PYTHONPATH": os.pathsep.join(path)
        }

    def start(self, spec: EnvironmentSpec, output: Output) -> Deferred[Handle]:
        assert spec.code is not None and spec.handler is not None
        runtime, extra = self._runtime(spec)
        variables = {
            **spec.variables,
            **extra,
            "LAMBDA_TASK_ROOT": spec.code,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        uid = self._uid(spec.runtime)
        unreachable = [d for d in (spec.code, spec.layers) if d is not None and not reachable(d)]
        if uid is not None and unreachable:
            return fail(
                errors.environment_failed(
                    f"the function's uid {uid} cannot reach {unreachable[0]}: let other users"
                    " search its directories (chmod o+x), or run functions as root"
                    " (--lambda-user root)"
                )
            )
        own = uid is not None and self.user.per_environment
        process = _RuntimeProcess(output, self.reactor, self.grace, uid, own)
        self.reactor.spawnProcess(
            process,
            self.python,
            [self.python, "-I", "-S", "-c", _BOOTSTRAP, str(uid or ""), spec.code, *runtime],
            env=variables,
        )
        self._running[spec.environment_id] = process
        process.gone.addCallback(lambda _: self._running.pop(spec.environment_id, None))
        return succeed(process)

    def _uid(self, runtime: str | None) -> int | None:
        """The uid of a new environment: None to keep the daemon's."""
        node = (runtime or "").startswith("nodejs")
        if not (self._drop_node if node else self._drop):
            return None
        uid = peers.pick_uid(
            self.user,
            lambda uid: any(p.uid == uid for p in self._running.values()) or peers.uid_in_use(uid),
            self.chance,
        )
        return uid

    def admits(self, environment_id: str, client: Address, server: Address) -> bool:
        process = self._running.get(environment_id)
        return process is not None and process.admits(client, server)

    def remove_orphans(self) -> Deferred[None]:
        """
        Nothing to do: a runtime process whose daemon died loses its Runtime
        API, and awslambdaric exits when its poll fails.
        """
        return succeed(None)

    def close(self) -> Deferred[None]:
        return succeed(None)
