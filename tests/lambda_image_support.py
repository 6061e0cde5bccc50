"""
What the Lambda image smoke test and its benchmark share: a minimal Lambda
Runtime API on 127.0.0.1 that hands out queued invocations, and containers
of awsemu's Lambda image run through the docker SDK.

The stub is not awsemu's Runtime API: it exists so that the image (built by
``ci/lambda-image.sh``) is proven to work against the protocol before, and
independently of, the Lambda service.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import attrs
from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred, DeferredQueue, maybeDeferred
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.protocols.policies import WrappingFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

IMAGE = os.environ.get("AWSEMU_LAMBDA_IMAGE", "awsemu/lambda-python:3.11")
REQUIRED_VARIABLE = "AWSEMU_REQUIRE_DOCKER"
BUILD_HINT = "run ci/docker-engine.sh and ci/lambda-image.sh"
# Every container the tests start carries it, so leftovers can be found
# (`docker ps -a --filter label=awsemu=test`) and removed.
TEST_LABEL = {"awsemu": "test"}
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:smoke"
PREFIX = b"/2018-06-01/runtime/"


@attrs.define
class Invocation:
    """One event for the function, and where its outcome arrives."""

    payload: bytes
    timeout: float = 30.0
    request_id: str = attrs.Factory(lambda: str(uuid.uuid4()))
    # Fires with the body the runtime posts to /response, or fails with
    # FunctionError when it posts to /error.
    outcome: Deferred[bytes] = attrs.Factory(Deferred)


class FunctionError(Exception):
    """The runtime reported an error (``/error`` or ``/init/error``); args: the path, the body."""


def _ignore_cancelled(failure: Failure) -> None:
    failure.trap(CancelledError)


class RuntimeAPI(Resource):
    """
    The Runtime API as awslambdaric uses it. ``GET .../invocation/next``
    waits for a queued L{Invocation} (a runtime long-polls it between
    invocations) and answers with the headers AWS sends; awslambdaric
    4.2.2 crashes without ``Content-Type``.
    """

    isLeaf = True

    def __init__(self, clock: IReactorTime) -> None:
        super().__init__()
        self._clock = clock
        self._queue: DeferredQueue[Invocation] = DeferredQueue()
        self._running: dict[str, Invocation] = {}
        # Outcomes not known yet, all failed by an /init/error.
        self._unfinished: list[Deferred[bytes]] = []
        # Fires with the time of the first GET .../next: the runtime is up.
        self.first_next: Deferred[float] = Deferred()

    def invoke(self, invocation: Invocation) -> Deferred[bytes]:
        """Queue ``invocation``; its outcome."""
        self._queue.put(invocation)
        self._unfinished.append(invocation.outcome)
        return invocation.outcome

    def render_GET(self, request: Request) -> int | bytes:
        if request.path != PREFIX + b"invocation/next":
            request.setResponseCode(404)
            return b""
        if not self.first_next.called:
            self.first_next.callback(self._clock.seconds())
        waiting = self._queue.get()
        waiting.addCallback(self._send, request)
        # A runtime that goes away while waiting must not take an event.
        request.notifyFinish().addErrback(lambda _: waiting.cancel())
        waiting.addErrback(_ignore_cancelled)
        return NOT_DONE_YET

    def _send(self, invocation: Invocation, request: Request) -> None:
        self._running[invocation.request_id] = invocation
        deadline_ms = int((self._clock.seconds() + invocation.timeout) * 1000)
        for name, value in [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
            ("Lambda-Runtime-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
        ]:
            request.setHeader(name, value)
        request.write(invocation.payload)
        request.finish()

    def render_POST(self, request: Request) -> bytes:
        body = request.content.read() if request.content is not None else b""
        parts = request.path.removeprefix(PREFIX).decode().split("/")
        if parts == ["init", "error"]:
            outcomes, self._unfinished = self._unfinished, []
            for outcome in outcomes:
                if not outcome.called:
                    outcome.errback(FunctionError(request.path.decode(), body))
        elif len(parts) == 3 and parts[0] == "invocation" and parts[1] in self._running:
            invocation = self._running.pop(parts[1])
            if parts[2] == "response":
                invocation.outcome.callback(body)
            else:
                invocation.outcome.errback(FunctionError(request.path.decode(), body))
        else:
            request.setResponseCode(404)
            return b""
        request.setResponseCode(202)
        return b'{"status":"OK"}'


@attrs.define
class RuntimeServer:
    """L{RuntimeAPI} listening on a free loopback port, its connections tracked to close them."""

    api: RuntimeAPI
    connections: WrappingFactory
    port: IListeningPort

    @classmethod
    def listen(cls) -> RuntimeServer:
        api = RuntimeAPI(reactor)
        connections = WrappingFactory(Site(api))
        # WrappingFactory's protocol type is not the one listenTCP's stubs expect.
        port = reactor.listenTCP(0, connections, interface="127.0.0.1")  # type: ignore[arg-type]
        return cls(api, connections, port)

    @property
    def address(self) -> str:
        """The value of ``AWS_LAMBDA_RUNTIME_API`` for containers with host networking."""
        address = self.port.getHost()
        assert isinstance(address, IPv4Address)
        return f"127.0.0.1:{address.port}"

    async def close(self) -> None:
        """
        Stop listening, drop the connections left (a runtime's last long
        poll), and wait until they are gone, so the reactor is clean.
        """
        await maybeDeferred(self.port.stopListening)
        for protocol in list(self.connections.protocols):
            protocol.transport.abortConnection()
        deadline = reactor.seconds() + 5
        while self.connections.protocols and reactor.seconds() < deadline:
            await deferLater(reactor, 0.01)


async def docker_client() -> Any:
    """
    A docker SDK client of a running engine that has L{IMAGE}. Skips the test
    without them, or fails when C{AWSEMU_REQUIRE_DOCKER} is set (CI sets
    it: there, these tests must run).
    """
    import docker

    def connect() -> Any:
        client = docker.from_env()
        try:
            client.images.get(IMAGE)
        except BaseException:
            client.close()
            raise
        return client

    try:
        return await deferToThread(connect)
    except docker.errors.ImageNotFound:
        why = f"no image {IMAGE} ({BUILD_HINT})"
    except docker.errors.DockerException as error:
        why = f"no Docker engine: {error} ({BUILD_HINT})"
    if os.environ.get(REQUIRED_VARIABLE):
        raise AssertionError(f"{REQUIRED_VARIABLE} is set but there is {why}")
    raise SkipTest(f"there is {why}")


def create_container(
    client: Any, task_root: Path, environment: dict[str, str], handler: str = "handler.handle"
) -> Any:
    """
    Create (not start) a container of L{IMAGE} the way awsemu runs functions:
    host networking, so it reaches the Runtime API on 127.0.0.1; the code
    read-only at /var/task; the handler as the command. Blocking: call it
    in a thread.
    """
    return client.containers.create(
        IMAGE,
        [handler],
        network_mode="host",
        environment=environment,
        volumes={str(task_root.absolute()): {"bind": "/var/task", "mode": "ro"}},
        labels=TEST_LABEL,
    )


def write_handler(directory: Path, source: str) -> Path:
    """A function's code directory holding ``handler.py``."""
    directory.mkdir(parents=True)
    (directory / "handler.py").write_text(source)
    return directory
