"""
An environment's invocations belong to it alone, and stopping it ends
everything it started: a stealer process against each executor while an
invocation is in flight, functions that leave children behind at daemon
shutdown, and the mechanisms (``awsemu.lambda_.peers``) on their own.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from awsemu.config import DEFAULT_LAMBDA_USER, LambdaUser
from awsemu.lambda_ import peers
from awsemu.lambda_.executors.process import reachable
from tests.lambda_support import (
    DockerExecutor,
    LambdaDaemon,
    LambdaTestCase,
    labelled_containers,
    zipped,
)

CODE = """
import os
import subprocess
import time


def wait(event, context):
    time.sleep(event["seconds"])
    return "real"


def spawn(event, context):
    inside = subprocess.Popen(["sleep", "300"])
    detached = subprocess.Popen(["sleep", "301"], start_new_session=True)
    time.sleep(event.get("sleep", 0))
    return {
        "uid": os.getuid(),
        "pid": os.getpid(),
        "sid": os.getsid(0),
        "children": [inside.pid, detached.pid],
    }
"""

STEALER = """
import http.client
import json
from collections.abc import Callable
import sys

host, port, request_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
prefix = "/2018-06-01/runtime"
answers = []
for method, path, body in [
    ("GET", f"{prefix}/invocation/next", None),
    ("POST", f"{prefix}/invocation/{request_id}/response", b'"forged"'),
    ("POST", f"{prefix}/invocation/{request_id}/error", b"{}"),
]:
    connection = http.client.HTTPConnection(host, port, timeout=5)
    connection.request(method, path, body)
    response = connection.getresponse()
    answers.append([path, response.status, json.loads(response.read())])
    connection.close()
print(json.dumps(answers))
"""
"""Another local process: takes the next invocation, answers and fails the one in flight."""


def runtime_files() -> dict[str, bytes]:
    """awslambdaric and what it imports, from the daemon's Python, to ship in a package."""
    site = Path(sysconfig.get_paths()["purelib"])
    files = {}
    for top in ["awslambdaric", "simplejson", "snapshot_restore_py.py", "runtime_client.*.so"]:
        for path in site.glob(top):
            found = path.rglob("*.py") if path.is_dir() else [path]
            for each in found:
                files[str(each.relative_to(site))] = each.read_bytes()
    return files


FUNCTION_PYTHON = "AWSEMU_TEST_FUNCTION_PYTHON"
"""
A Python with awslambdaric that unprivileged uids can run, for functions
(``.ci/run`` makes one): the daemon's own Python may live where only its
user can reach it (pyenv's under ``/root``).
"""


def other_users_python() -> str | None:
    """
    A Python that an unprivileged uid can run: ``AWSEMU_TEST_FUNCTION_PYTHON``
    (which must be one), else the daemon's own, else the system's of the
    daemon's version (functions then bring awslambdaric).
    """
    given = os.environ.get(FUNCTION_PYTHON)
    if given:
        if not reachable(given):
            raise AssertionError(f"{FUNCTION_PYTHON}={given} cannot be run by other users")
        return given
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for python in (sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if os.path.exists(python) and reachable(python):
            return python
    return None


def has_runtime_client(python: str) -> bool:
    """Whether ``python`` imports awslambdaric by itself."""
    check = [python, "-c", "import awslambdaric"]
    return subprocess.run(check, capture_output=True).returncode == 0


def dropping_daemon_arguments() -> tuple[str, ...]:
    """A process-executor daemon whose functions run as uids of their own; skips if it cannot."""
    if os.geteuid() != 0:
        raise SkipTest("only a daemon running as root gives functions uids of their own")
    python = other_users_python()
    if python is None:
        raise SkipTest("no Python here that an unprivileged user can run")
    return ("--lambda-executor", "process", "--lambda-python", python)


def package(python: str | None = None) -> bytes:
    """The test functions, with awslambdaric when ``python`` is not the daemon's."""
    brought = python in (None, sys.executable) or has_runtime_client(python)
    extra = {} if brought else runtime_files()
    return zipped({"iso.py": CODE, **extra})


def runtime_api_of(name: str) -> tuple[str, int]:
    """The Runtime API address of ``name``'s environment, from its runtime's environment."""
    wanted = f"AWS_LAMBDA_FUNCTION_NAME={name}".encode()
    for pid in os.listdir("/proc"):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in environ:
            for item in environ:
                if item.startswith(b"AWS_LAMBDA_RUNTIME_API="):
                    host, _, port = item.split(b"=", 1)[1].decode().rpartition(":")
                    return host, int(port)
    raise AssertionError(f"no environment of {name} runs")


class StealerTests(LambdaTestCase):
    """A process that is not the environment cannot receive, answer or fail its invocations."""

    def setUp(self) -> None:
        super().setUp()
        self.package = package()

    def invoke(self, name: str, event: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.client.invoke(
            FunctionName=name, Payload=json.dumps(event).encode()
        )
        response["body"] = json.loads(response["Payload"].read())
        return response

    def starts(self, name: str) -> list[str]:
        logs = self.daemon.client("logs")
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        return [e["message"].split()[2] for e in events if e["message"].startswith("START ")]

    def runtime_api(self, name: str) -> tuple[str, int]:
        return runtime_api_of(name)

    def test_a_stealer_is_refused_and_the_invocation_unaffected(self) -> None:
        name = self.create("iso.wait", Code={"ZipFile": self.package}, Timeout=30)
        self.assertEqual(self.invoke(name, {"seconds": 0})["body"], "real")
        warm = self.starts(name)
        host, port = self.runtime_api(name)
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(self.invoke, name, {"seconds": 3})
            deadline = time.monotonic() + 10
            while len(self.starts(name)) == len(warm) and time.monotonic() < deadline:
                time.sleep(0.05)
            (request_id,) = set(self.starts(name)) - set(warm)
            stolen = subprocess.run(
                [sys.executable, "-c", STEALER, host, str(port), request_id],
                capture_output=True,
                check=True,
                timeout=30,
            )
            response = running.result(30)
        self.assertEqual((response["StatusCode"], response["body"]), (200, "real"))
        self.assertNotIn("FunctionError", response)
        for path, status, document in json.loads(stolen.stdout):
            self.assertEqual((path, status), (path, 403))
            self.assertEqual(document["errorType"], "AccessDeniedException")
        self.assertIn("Refused a connection from 127.0.0.1:", self.daemon.log())
        # The environment still serves its next invocation.
        self.assertEqual(self.invoke(name, {"seconds": 0})["body"], "real")


class ProcessStealerTests(StealerTests):
    """Functions run as the daemon's user (or root): the socket must be the environment's."""

    arguments = ("--lambda-executor", "process", "--lambda-user", "root")


class DroppedProcessStealerTests(StealerTests):
    """Functions run as uids of their own: the socket's uid tells the environment."""

    def setUp(self) -> None:
        self.arguments = dropping_daemon_arguments()
        super().setUp()
        self.package = package(self.arguments[-1])


class DockerStealerTests(DockerExecutor, StealerTests):
    def runtime_api(self, name: str) -> tuple[str, int]:
        (container,) = [c for c in labelled_containers() if c.labels.get("awsemu.function") == name]
        container_uid(container)
        for item in container.attrs["Config"]["Env"]:
            if item.startswith("AWS_LAMBDA_RUNTIME_API="):
                host, _, port = item.split("=", 1)[1].rpartition(":")
                return host, int(port)
        raise AssertionError("no AWS_LAMBDA_RUNTIME_API")


def container_uid(container: Any) -> str:
    """The uid a container runs as, which must be in the default range."""
    uid = container.attrs["Config"]["User"].split(":")[0]
    assert DEFAULT_LAMBDA_USER.first <= int(uid) <= DEFAULT_LAMBDA_USER.last, uid
    return str(uid)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


class ShutdownTests(SynchronousTestCase):
    """SIGTERM stops the daemon promptly, whatever its functions left running."""

    def start(self, *arguments: str) -> LambdaDaemon:
        daemon = LambdaDaemon(*arguments).start()
        self.addCleanup(daemon.remove)
        return daemon

    def spawn(self, daemon: LambdaDaemon, python: str | None = None) -> dict[str, Any]:
        client = daemon.client()
        client.create_function(
            FunctionName="spawner",
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="iso.spawn",
            Code={"ZipFile": package(python)},
            Timeout=1,
        )
        response = client.invoke(FunctionName="spawner")
        body: dict[str, Any] = json.loads(response["Payload"].read())
        self.assertNotIn("FunctionError", response, body)
        for pid in body["children"]:
            self.addCleanup(_kill, pid)
        return body

    def stop(self, daemon: LambdaDaemon) -> float:
        """SIGTERM; how long the daemon took to shut down (twistd exits by the signal)."""
        started = time.monotonic()
        self.assertIn(daemon.stop(), (0, -signal.SIGTERM))
        self.assertIn("Server Shut Down.", daemon.log())
        return time.monotonic() - started

    def test_every_descendant_ends_with_the_daemon(self) -> None:
        arguments = dropping_daemon_arguments()
        daemon = self.start(*arguments)
        body = self.spawn(daemon, arguments[-1])
        self.assertTrue(DEFAULT_LAMBDA_USER.first <= body["uid"] <= DEFAULT_LAMBDA_USER.last)
        self.assertEqual(body["sid"], body["pid"])
        self.assertTrue(all(alive(pid) for pid in body["children"]))
        self.assertLess(self.stop(daemon), 10)
        self.assertEqual(peers.uid_members(body["uid"]), [])
        self.assertFalse(any(alive(pid) for pid in body["children"]))

    def test_a_timeout_ends_every_descendant(self) -> None:
        arguments = dropping_daemon_arguments()
        daemon = self.start(*arguments)
        body = self.spawn(daemon, arguments[-1])
        response = daemon.client().invoke(FunctionName="spawner", Payload=b'{"sleep": 5}')
        self.assertEqual(response["FunctionError"], "Unhandled")
        deadline = time.monotonic() + 5
        while peers.uid_members(body["uid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(peers.uid_members(body["uid"]), [])
        self.assertFalse(any(alive(pid) for pid in body["children"]))

    def test_children_do_not_hold_the_daemon_up(self) -> None:
        daemon = self.start("--lambda-executor", "process", "--lambda-user", "root")
        body = self.spawn(daemon)
        inside, detached = body["children"]
        self.assertEqual(body["sid"], body["pid"])
        self.assertLess(self.stop(daemon), 10)
        self.assertFalse(alive(inside))
        self.assertEqual(peers.session_members(body["sid"]), [])
        # Without a uid of its own, a child that left the session is out of
        # reach (see awsemu.lambda_.peers); it held the output pipes, and
        # still did not keep the daemon up.
        del detached


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class PeerTests(SynchronousTestCase):
    """The mechanisms, on real sockets and processes."""

    def connection(self) -> tuple[socket.socket, socket.socket]:
        server = socket.socket()
        self.addCleanup(server.close)
        server.bind(("127.0.0.1", 0))
        server.listen()
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        self.addCleanup(client.close)
        self.addCleanup(accepted.close)
        return client, server

    def test_the_client_socket_is_found_both_ways(self) -> None:
        client, server = self.connection()
        expected = peers.SocketOwner(os.geteuid(), os.fstat(client.fileno()).st_ino)
        address, listening = client.getsockname(), server.getsockname()
        self.assertEqual(peers.socket_owner(address, listening), expected)
        self.assertEqual(peers.listed_owner(address, listening), expected)
        self.assertIsNone(peers.socket_owner(address, ("127.0.0.1", 1)))
        self.assertIsNone(peers.listed_owner(address, ("127.0.0.1", 1)))

    def test_which_process_holds_a_socket(self) -> None:
        client, _ = self.connection()
        inode = os.fstat(client.fileno()).st_ino
        self.assertTrue(peers.holds_socket(os.getpid(), inode))
        other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        self.addCleanup(other.wait)
        self.addCleanup(other.kill)
        self.assertFalse(peers.holds_socket(other.pid, inode))

    def test_a_session_is_listed_and_killed_whole(self) -> None:
        leader = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import subprocess, time; subprocess.Popen(['sleep', '30']); time.sleep(30)",
            ],
            start_new_session=True,
        )
        self.addCleanup(leader.wait)
        deadline = time.monotonic() + 10
        while len(peers.session_members(leader.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        members = peers.session_members(leader.pid)
        self.assertEqual(len(members), 2)
        self.assertIn(leader.pid, members)
        self.assertNotIn(os.getpid(), members)
        self.assertKilled(lambda: peers.session_members(leader.pid))
        self.assertEqual(leader.wait(5), -signal.SIGKILL)

    def assertKilled(self, members: Callable[[], list[int]]) -> None:
        """
        ``kill_all`` kills every member; a SIGKILLed process may still be
        listed for a moment (the signal is delivered asynchronously), so
        the list is read again until it empties.
        """
        peers.kill_all(members)
        deadline = time.monotonic() + 5
        while members() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(members(), [])

    def test_a_uid_is_listed_and_killed_whole(self) -> None:
        if os.geteuid() != 0:
            raise SkipTest("only root runs processes as other uids")
        uid = DEFAULT_LAMBDA_USER.last
        process = subprocess.Popen(
            ["sleep", "30"], user=uid, group=uid, extra_groups=[], start_new_session=True
        )
        self.addCleanup(process.wait)
        self.assertEqual(peers.uid_members(uid), [process.pid])
        self.assertTrue(peers.uid_in_use(uid))
        self.assertKilled(lambda: peers.uid_members(uid))
        self.assertEqual(process.wait(5), -signal.SIGKILL)
        self.assertFalse(peers.uid_in_use(uid))

    def test_uids_are_picked_apart(self) -> None:
        chance = random.Random(1)
        self.assertEqual(peers.pick_uid(LambdaUser(65534, 65534), lambda _: True, chance), 65534)
        picked = {peers.pick_uid(LambdaUser(10, 13), lambda uid: uid != 12, chance)}
        self.assertEqual(picked, {12})
        with self.assertRaises(OSError):
            peers.pick_uid(LambdaUser(10, 13), lambda _: True, chance)
