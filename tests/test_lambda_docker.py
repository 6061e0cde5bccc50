"""
The Docker executor with a fake Docker client, its calls run at once
instead of in threads: the uid each container runs as, and which Runtime
API connections it admits, with host networking and without.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import attrs
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import DEFAULT_LAMBDA_USER, LambdaUser
from awsemu.lambda_ import peers
from awsemu.lambda_.executors import EnvironmentSpec, Handle
from awsemu.lambda_.executors.docker import DockerExecutor, _Container


class Immediately:
    """A thread pool and reactor that run everything at once, on the caller's stack."""

    def callInThreadWithCallback(
        self, on_result: Callable[[bool, Any], None], call: Callable[..., Any], *a: Any, **k: Any
    ) -> None:
        try:
            result = call(*a, **k)
        except BaseException:
            on_result(False, Failure())
        else:
            on_result(True, result)

    def callFromThread(self, call: Callable[..., Any], *a: Any, **k: Any) -> None:
        call(*a, **k)


@attrs.define
class FakeContainer:
    attrs: dict[str, Any] = attrs.field(factory=dict)
    removed: bool = False
    started: bool = False

    def start(self) -> None:
        self.started = True

    def reload(self) -> None:
        self.attrs = {"NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.5"}}}}

    def attach(self, **options: Any) -> list[bytes]:
        return []

    def wait(self) -> dict[str, int]:
        return {"StatusCode": 0}

    def remove(self, force: bool) -> None:
        self.removed = True


@attrs.define
class FakeContainers:
    runs: list[dict[str, Any]] = attrs.field(factory=list)

    def create(self, image: str, command: Any, **options: Any) -> FakeContainer:
        self.runs.append(options)
        return FakeContainer()


class FakeImages:
    """An engine that has every image."""

    def get(self, image: str) -> object:
        return object()


@attrs.define
class FakeClient:
    containers: FakeContainers = attrs.field(factory=FakeContainers)
    images: FakeImages = attrs.field(factory=FakeImages)


SPEC = EnvironmentSpec(
    "env-1",
    "f",
    {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
    runtime="python3.11",
    handler="app.handler",
    code="/code",
)
CLIENT, SERVER = ("127.0.0.1", 40000), ("127.0.0.1", 9)


class DockerIdentityTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.owner: peers.SocketOwner | None = None
        self.patch(peers, "socket_owner", lambda client, server: self.owner)
        self.patch(peers, "uid_in_use", lambda uid: False)
        self.client = FakeClient()

    def start(self, **options: Any) -> tuple[DockerExecutor, Handle]:
        now: Any = Immediately()
        executor = DockerExecutor(
            now, now, now, self.client, {}, chance=random.Random(1), copy_code=False, **options
        )
        handle = self.successResultOf(executor.start(SPEC, lambda data: None))
        return executor, handle

    def test_each_container_runs_as_its_own_uid(self) -> None:
        executor, handle = self.start()
        user = self.client.containers.runs[0]["user"]
        uid, _, gid = user.partition(":")
        self.assertEqual(uid, gid)
        self.assertTrue(DEFAULT_LAMBDA_USER.first <= int(uid) <= DEFAULT_LAMBDA_USER.last)
        self.owner = peers.SocketOwner(int(uid), 1)
        self.assertTrue(executor.admits("env-1", CLIENT, SERVER))
        self.assertFalse(executor.admits("env-2", CLIENT, SERVER))
        self.owner = peers.SocketOwner(0, 1)
        self.assertFalse(executor.admits("env-1", CLIENT, SERVER))
        self.owner = None
        self.assertFalse(executor.admits("env-1", CLIENT, SERVER))
        self.owner = peers.SocketOwner(int(uid), 1)
        self.successResultOf(handle.stop())
        self.assertFalse(executor.admits("env-1", CLIENT, SERVER))

    def test_other_networks_admit_the_containers_address(self) -> None:
        executor, _ = self.start(network="bridge")
        self.assertTrue(executor.admits("env-1", ("172.17.0.5", 40000), ("0.0.0.0", 9)))
        self.assertFalse(executor.admits("env-1", ("172.17.0.6", 40000), ("0.0.0.0", 9)))

    def test_root_keeps_the_images_user_and_checks_nothing(self) -> None:
        executor, _ = self.start(user=LambdaUser(0, 0))
        self.assertNotIn("user", self.client.containers.runs[0])
        self.assertTrue(executor.admits("env-1", CLIENT, SERVER))


class DockerOutputTests(SynchronousTestCase):
    """When a container's output counts as all arrived, on a fake clock."""

    def setUp(self) -> None:
        now: Any = Immediately()
        self.clock = Clock()
        executor = DockerExecutor(now, now, now, FakeClient(), {}, log_settle=0.05)
        self.handle = _Container(executor, FakeContainer(), self.clock)

    def test_flushed_once_output_has_been_quiet(self) -> None:
        done = self.handle.flushed()
        self.clock.advance(0.04)
        self.handle.heard = self.clock.seconds()
        self.clock.advance(0.01)
        self.assertNoResult(done)
        self.clock.advance(0.039)
        self.assertNoResult(done)
        self.clock.advance(0.001)
        self.successResultOf(done)

    def test_flushed_without_output(self) -> None:
        done = self.handle.flushed()
        self.clock.advance(0.049)
        self.assertNoResult(done)
        self.clock.advance(0.001)
        self.successResultOf(done)

    def test_endless_output_is_waited_for_a_second_at_most(self) -> None:
        done = self.handle.flushed()
        for _ in range(99):
            self.clock.advance(0.01)
            self.handle.heard = self.clock.seconds()
        self.assertNoResult(done)
        self.clock.advance(0.01)
        self.successResultOf(done)
