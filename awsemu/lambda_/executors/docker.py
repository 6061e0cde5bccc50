"""
Environments as Docker containers of the runtime's image (by default AWS's
``public.ecr.aws/lambda/<runtime>`` images, whose entrypoint runs the
runtime client against ``AWS_LAMBDA_RUNTIME_API`` when it is set), with
the unpacked code mounted read-only at ``/var/task`` and layers at ``/opt``.

The Docker SDK blocks, so every call to it runs in the service's thread
pool; the reactor only sees Deferreds and output handed over with
``callFromThread``. Containers carry the label ``awsemu=lambda`` and their
daemon's identity, so a daemon that was killed leaves containers the next
one recognises as orphans and removes.

Each container runs as a uid of its own (``--lambda-user``'s range; AWS too
runs functions as an unprivileged user, and its images, like awsemu's, only
need ``/tmp`` writable and ``/var/task`` readable). With host networking
the container's sockets are the host's, so its Runtime API tells its
connections from anyone else's by the uid owning the connecting socket
(``peers``); with another network mode, by the container's address. One uid
for all (``--lambda-user`` a single user) only tells containers from other
users' processes, and ``root`` keeps the image's user and checks nothing.
"""

from __future__ import annotations

import io
import os
import random
import socket
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar, cast

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads, IReactorTime
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from awsemu.config import DEFAULT_LAMBDA_USER, Config, LambdaUser
from awsemu.lambda_ import peers
from awsemu.lambda_.executors import EnvironmentFailed, EnvironmentSpec, Handle, Output
from awsemu.lambda_.peers import Address

LABEL: Final = "awsemu"
OWNER_LABEL: Final = "awsemu.owner"
T = TypeVar("T")


#: Seconds an image that could not be pulled is taken to be still unavailable.
PULL_RETRY: Final = 30.0
#: The runtimes the start line says have an image or not (besides --lambda-image's).
KNOWN_RUNTIMES: Final = ("python3.10", "python3.11", "python3.12", "python3.13")


def _tar(directory: str) -> bytes:
    """``directory``'s content as a tar archive, for ``put_archive``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(directory, arcname=".")
    return buffer.getvalue()


class ImageUnavailable(EnvironmentFailed):
    """
    A function's image is neither on the engine nor pullable; the message
    says what to do. To the caller it is an environment whose entrypoint
    cannot run, which AWS reports as ``Runtime.InvalidEntrypoint``.
    """

    error_type = "Runtime.InvalidEntrypoint"


def default_image(runtime: str) -> str:
    """AWS's image of a runtime: ``python3.12`` → ``public.ecr.aws/lambda/python:3.12``."""
    if runtime.startswith("provided."):
        return f"public.ecr.aws/lambda/provided:{runtime.removeprefix('provided.')}"
    if runtime.startswith("nodejs"):
        return f"public.ecr.aws/lambda/nodejs:{runtime.removeprefix('nodejs').removesuffix('.x')}"
    return f"public.ecr.aws/lambda/python:{runtime.removeprefix('python')}"


def owner() -> str:
    """This daemon, as container labels name it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(label: str) -> bool:
    """Whether the daemon a container's owner label names still runs (on this host)."""
    host, _, pid = label.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@attrs.define(eq=False)
class _Identity:
    """What tells an environment's container apart: its uid, its network addresses."""

    uid: int | None
    addresses: frozenset[str] = frozenset()


#: Longest a response waits for the container's output to go quiet (a function still printing).
FLUSH_LIMIT: Final = 1.0

#: Where a container's peak memory is, by its id: cgroup v1 then v2, engine's cgroupfs or systemd.
CGROUP_PEAKS: Final = (
    "/sys/fs/cgroup/memory/docker/{}/memory.max_usage_in_bytes",
    "/sys/fs/cgroup/memory/system.slice/docker-{}.scope/memory.max_usage_in_bytes",
    "/sys/fs/cgroup/docker/{}/memory.peak",
    "/sys/fs/cgroup/system.slice/docker-{}.scope/memory.peak",
)


@attrs.define(eq=False)
class _Container:
    """
    A running environment's container: its end, how to remove it, and
    when its output last arrived (``heard``, on ``clock``).
    """

    executor: DockerExecutor
    container: Any
    clock: IReactorTime
    ended: Deferred[str] = attrs.field(factory=Deferred)
    _stopping: Deferred[None] | None = None
    heard: float = 0.0

    environment_id: str = ""

    def flushed(self) -> Deferred[None]:
        """
        See ``Handle.flushed``. A container's output travels through the
        engine (shim, daemon, attach stream, a thread), with no mark of
        where a response falls in it; so this waits until it has been quiet
        for the executor's ``log_settle`` (at most ``FLUSH_LIMIT``).
        Measured here, output written before the response last arrived
        0.2-4 ms after it for 200 lines, 13-30 ms for 5000 (200 KB).
        """

        async def quiet() -> None:
            settle = self.executor.log_settle
            limit = self.clock.seconds() + FLUSH_LIMIT
            wait = settle
            while wait > 0:
                await deferLater(self.clock, wait)
                now = self.clock.seconds()
                wait = min(self.heard + settle, limit) - now

        return Deferred.fromCoroutine(quiet())

    def peak_memory(self) -> int | None:
        """The container's cgroup's peak memory; None when it is not on this host's cgroups."""
        for path in CGROUP_PEAKS:
            try:
                with open(path.format(self.container.id)) as peak:
                    return int(peak.read())
            except (OSError, ValueError):
                continue
        return None

    def stop(self) -> Deferred[None]:
        if self._stopping is None:
            self._stopping = self.executor.blocking(self.container.remove, force=True)
            self._stopping.addBoth(self.executor.forget, self.environment_id)
        return self._stopping


@attrs.define
class DockerExecutor:
    """
    See the module docstring. ``threads`` runs the Docker calls;
    ``streams`` follows containers' output, a thread for each container's
    life, so that warm containers never starve the calls that start new ones.
    ``images`` overrides the default image per runtime; with a network mode
    other than ``host`` the Runtime API listens on every interface and
    containers reach it through ``host.docker.internal``.
    """

    reactor: IReactorFromThreads
    threads: ThreadPool
    streams: ThreadPool
    client: Any
    images: Mapping[str, str]
    network: str = "host"
    user: LambdaUser = DEFAULT_LAMBDA_USER
    identity: str = attrs.field(factory=owner)
    name: str = "docker"
    log_settle: float = 0.05
    """Seconds of quiet after which a container's output is taken to have all arrived."""
    chance: random.Random = attrs.field(factory=random.SystemRandom)
    _log: Logger = attrs.field(factory=Logger)
    _identities: dict[str, _Identity] = attrs.field(factory=dict)
    _unavailable: dict[str, tuple[float, str]] = attrs.field(factory=dict)
    copy_code: bool = attrs.field(factory=lambda: os.path.exists("/.dockerenv"))
    """
    Copy code and layers into each container rather than mount them: when
    awsemu itself runs in a container, function containers are its
    siblings on the host's engine, where its paths mean nothing.
    """

    @property
    def runtime_interface(self) -> str:
        return "127.0.0.1" if self.network == "host" else "0.0.0.0"

    def blocking(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """``call`` in the thread pool, its result back on the reactor."""
        return deferToThreadPool(self.reactor, self.threads, call, *args, **kwargs)

    def check(self, runtime: str | None, image: str | None) -> None:
        """Every runtime has an image; a missing one is reported when it is run."""

    def image(self, spec: EnvironmentSpec) -> str:
        if spec.image is not None:
            return spec.image
        assert spec.runtime is not None
        return self.images.get(spec.runtime) or default_image(spec.runtime)

    def _variables(self, spec: EnvironmentSpec) -> dict[str, str]:
        variables = {**spec.variables, "LAMBDA_TASK_ROOT": "/var/task"}
        if self.network != "host":
            for name in ("AWS_LAMBDA_RUNTIME_API", "AWS_ENDPOINT_URL"):
                variables[name] = variables[name].replace("127.0.0.1", "host.docker.internal")
        return variables

    def _uid(self) -> int | None:
        """A new container's uid; None keeps the image's user."""
        if self.user.first == 0:
            return None
        taken = {identity.uid for identity in self._identities.values()}
        return peers.pick_uid(
            self.user, lambda uid: uid in taken or peers.uid_in_use(uid), self.chance
        )

    def admits(self, environment_id: str, client: Address, server: Address) -> bool:
        identity = self._identities.get(environment_id)
        if identity is None:
            return False
        if self.network != "host":
            return client[0] in identity.addresses
        if identity.uid is None:
            return True
        owner = peers.socket_owner(client, server)
        return owner is not None and owner.uid == identity.uid

    def forget(self, result: T, environment_id: str) -> T:
        """The environment is gone: its identity no longer admits anyone."""
        self._identities.pop(environment_id, None)
        return result

    def _have_image(self, image: str) -> None:
        """
        Make sure the engine has ``image``, pulling it if need be (blocking).
        An image that cannot be had raises ``ImageUnavailable`` saying what
        to do; the failure is remembered for ``PULL_RETRY`` seconds, so the
        next invocations (an ``Event``'s retries, a caller trying again) are
        answered at once rather than by another pull that times out.
        """
        import docker.errors

        failed = self._unavailable.get(image)
        if failed is not None and time.monotonic() - failed[0] < PULL_RETRY:
            raise ImageUnavailable(failed[1])
        try:
            self.client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        try:
            self.client.images.pull(image)
        except docker.errors.APIError as e:
            message = (
                f"the image {image} is not on this Docker engine and cannot be pulled"
                f" ({e.explanation or e}): pull or build it, or run another image with"
                " --lambda-image RUNTIME=IMAGE"
            )
            self._unavailable[image] = (time.monotonic(), message)
            raise ImageUnavailable(message) from e

    def runtimes_with_images(self) -> Deferred[list[str]]:
        """The runtimes whose image (``--lambda-image``'s or AWS's) the engine has."""

        def present() -> list[str]:
            found = []
            for runtime in sorted({*KNOWN_RUNTIMES, *self.images}):
                try:
                    self.client.images.get(self.images.get(runtime) or default_image(runtime))
                except Exception:  # Not found, or the engine did not answer: no image.
                    continue
                found.append(runtime)
            return found

        return self.blocking(present)

    def _run(self, spec: EnvironmentSpec, uid: int | None) -> Any:
        """Create and start the container, then read its addresses (blocking)."""
        self._have_image(self.image(spec))
        places = ((spec.code, "/var/task"), (spec.layers, "/opt"))
        mounts = [(path, target) for path, target in places if path is not None]
        volumes = {}
        if not self.copy_code:
            volumes = {path: {"bind": target, "mode": "ro"} for path, target in mounts}
        options: dict[str, Any] = {}
        if spec.entry_point:
            options["entrypoint"] = list(spec.entry_point)
        if spec.working_directory:
            options["working_dir"] = spec.working_directory
        if self.network != "host":
            options["extra_hosts"] = {"host.docker.internal": "host-gateway"}
        if uid is not None:
            options["user"] = f"{uid}:{uid}"
        command = list(spec.command) if spec.image is not None else [spec.handler]
        container = self.client.containers.create(
            self.image(spec),
            command or None,
            environment=self._variables(spec),
            volumes=volumes,
            network_mode=self.network,
            labels={
                LABEL: "lambda",
                OWNER_LABEL: self.identity,
                "awsemu.function": spec.function_name,
                "awsemu.environment": spec.environment_id,
            },
            name=f"awsemu-lambda-{spec.environment_id[:12]}",
            **options,
        )
        if self.copy_code:
            for path, target in mounts:
                container.put_archive(target, _tar(path))
        container.start()
        if self.network != "host":
            container.reload()
        return container

    def _addresses(self, container: Any) -> frozenset[str]:
        networks = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
        return frozenset(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))

    def start(self, spec: EnvironmentSpec, output: Output) -> Deferred[Handle]:
        async def start() -> Handle:
            try:
                container = await self.blocking(self._run, spec, identity.uid)
            except BaseException:
                self.forget(None, spec.environment_id)
                raise
            identity.addresses = self._addresses(container)
            handle = _Container(self, container, clock, environment_id=spec.environment_id)

            def received(chunk: bytes) -> None:
                handle.heard = clock.seconds()
                output(chunk)

            following = deferToThreadPool(
                self.reactor, self.streams, self._follow, container, received
            )
            following.addErrback(self._lost).addCallback(handle.ended.callback)
            return handle

        clock = cast(IReactorTime, self.reactor)
        identity = self._identities[spec.environment_id] = _Identity(self._uid())
        return Deferred.fromCoroutine(start())

    def _follow(self, container: Any, output: Output) -> str:
        """Hand the container's output to the reactor until it ends; how it ended (blocking)."""
        from docker.errors import APIError, NotFound

        try:
            for chunk in container.attach(stdout=True, stderr=True, stream=True, logs=True):
                self.reactor.callFromThread(output, chunk)
            status = container.wait()["StatusCode"]
        except (NotFound, APIError):
            return "signal: killed"
        return f"exit status {status}"

    def _lost(self, reason: Failure) -> str:
        """The container's output stream broke: take the environment for dead."""
        self._log.failure("lost a Lambda container", reason)
        return "signal: killed"

    def _orphans(self) -> Iterable[Any]:
        found = self.client.containers.list(all=True, filters={"label": LABEL})
        return [c for c in found if not _alive(c.labels.get(OWNER_LABEL, ""))]

    def remove_orphans(self) -> Deferred[None]:
        def remove() -> None:
            for container in self._orphans():
                container.remove(force=True)

        return self.blocking(remove)

    def close(self) -> Deferred[None]:
        """Close the client, then stop the stream threads (joined in a worker thread)."""

        def close() -> None:
            self.client.close()
            self.streams.stop()

        return self.blocking(close)


async def connect(config: Config, reactor: Any, threads: ThreadPool) -> DockerExecutor:
    """
    A Docker executor, if an engine answers (``DOCKER_HOST`` or the local
    socket); raises otherwise.
    """
    import docker

    def client() -> Any:
        found = docker.from_env()
        found.ping()
        return found

    found = await deferToThreadPool(reactor, threads, client)
    streams = ThreadPool(minthreads=0, maxthreads=1024, name="awsemu-lambda-docker-output")
    streams.start()
    return DockerExecutor(
        reactor,
        threads,
        streams,
        found,
        dict(config.lambda_image),
        config.lambda_network,
        config.lambda_user,
    )
