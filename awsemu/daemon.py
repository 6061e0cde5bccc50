"""
The daemon's service tree: the enabled AWS services and the one port
they share, started and stopped in order by twistd; and the line that
tells, once every service has settled, what runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

import attrs
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService, MultiService, Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.filepath import FilePath

from awsemu import __version__
from awsemu.auth.keys import directory
from awsemu.auth.verify import authenticator
from awsemu.config import OPTIONS, Config
from awsemu.gateway.app import Gateway
from awsemu.gateway.context import ANONYMOUS_ACCOUNT, DEFAULT_ACCOUNT_ID, AccountForKey
from awsemu.gateway.server import BodyReaders, gateway_factory, no_readers
from awsemu.gateway.services import ServiceBackend
from awsemu.inithooks import InitHooks, init_dir
from awsemu.services import SERVICE_FACTORIES
from awsemu.shared import SharedObjects

#: How often the start report looks whether every service has settled.
SETTLE_POLL = 0.1
#: How long the start report waits for services still starting.
SETTLE_TIMEOUT = 300.0


class StartFailure(Exception):
    """The daemon cannot start; the message says why and what to do, on one line."""


def make_backend(name: str, shared: SharedObjects) -> ServiceBackend:
    """Build the service ``name``, importing its package only now."""
    module_name, _, factory = SERVICE_FACTORIES[name].partition(":")
    make = getattr(import_module(module_name), factory)
    backend: ServiceBackend = make(shared.config, shared.reactor, shared)
    return backend


def account_lookup(shared: SharedObjects) -> AccountForKey:
    """
    How the gateway finds the account of an access key awsemu knows: the
    ``--credentials`` file's, and IAM's and STS's when either is enabled.
    """
    return shared.assemble(directory).account_for_key


class PortService(StreamServerEndpointService):
    """
    The gateway's listening port, opened before any service starts (as
    root, under twistd's C{--uid}); a port that cannot be opened is a
    L{StartFailure} saying why, rather than Twisted's traceback.
    """

    _raiseSynchronously = True

    def __init__(self, description: str, factory: Factory, reactor: Any) -> None:
        super().__init__(serverFromString(reactor, description), factory)
        self.description = description

    def privilegedStartService(self) -> None:
        try:
            super().privilegedStartService()
        except CannotListenError as e:
            reason = e.socketError.strerror if isinstance(e.socketError, OSError) else e.socketError
            raise StartFailure(
                f"cannot listen on {self.description} ({reason}): another awsemu or"
                " LocalStack may hold it; stop it or choose another --port"
            ) from e
        except (OSError, OverflowError, ValueError) as e:
            raise StartFailure(f"cannot listen on {self.description} ({e}): fix --port") from e


def settings(config: Config) -> dict[str, object]:
    """Each option's value, by option name, as JSON shows it (paths as text)."""
    shown: dict[str, object] = {}
    for option in OPTIONS:
        value = getattr(config, option.attribute)
        if isinstance(value, FilePath):
            value = value.path
        elif isinstance(value, tuple):
            value = ["=".join(v) if isinstance(v, tuple) else v for v in value]
        elif not isinstance(value, str | int | float | bool | None):
            value = str(value)  # --lambda-user's range, as it is written
        shown[option.name] = value
    return shown


def describe_start(config: Config, backends: Mapping[str, ServiceBackend], seconds: float) -> str:
    """
    The start report: version, port, where state lives, and each service
    with its state and, where it has one, its ``summary()`` (Lambda's
    executor and images, the DynamoDB Local it runs or why none runs).
    """
    parts = []
    for name, backend in backends.items():
        state = backend.state()
        text = name if state.status == "running" else f"{name} ({state.status})"
        summary = getattr(backend, "summary", None)
        detail = summary() if summary is not None else state.reason
        parts.append(text if not detail else f"{text} [{detail}]")
    data = (
        "state in memory only (--data-dir keeps it)"
        if config.data_dir is None
        else f"state in {config.data_dir.path}"
    )
    line = (
        f"awsemu {__version__} ready in {seconds:.1f}s on {config.port}, {data};"
        f" services: {', '.join(parts)}"
    )
    if "lambda" in backends:
        images = ", ".join(f"{runtime}={image}" for runtime, image in config.lambda_image)
        line += (
            f"; Lambda images: {images or 'none given'}, other runtimes"
            " public.ecr.aws/lambda/* (--lambda-image RUNTIME=IMAGE overrides)"
        )
    return line


@attrs.define(eq=False)
class StartReport(Service):
    """
    Waits, once started, for every service to leave ``starting`` (or for
    ``SETTLE_TIMEOUT``), then logs ``describe_start``'s one line.
    ``whenReady()`` fires then, for what waits on the whole daemon (init
    hooks' ``ready.d``).
    """

    config: Config
    backends: Mapping[str, ServiceBackend]
    clock: IReactorTime
    started: float = attrs.field(factory=time.monotonic)
    _waiting: list[Deferred[None]] = attrs.field(factory=list)
    _ready: bool = False
    _call: Any = None
    _log: Logger = attrs.field(factory=Logger)

    def startService(self) -> None:
        super().startService()
        self._look(self.clock.seconds() + SETTLE_TIMEOUT)

    def stopService(self) -> None:
        super().stopService()
        if self._call is not None and self._call.active():
            self._call.cancel()

    def _look(self, deadline: float) -> None:
        self._call = None
        settled = all(b.state().status != "starting" for b in self.backends.values())
        if not settled and self.clock.seconds() < deadline:
            self._call = self.clock.callLater(SETTLE_POLL, self._look, deadline)
            return
        line = describe_start(self.config, self.backends, time.monotonic() - self.started)
        self._log.info("{line}", line=line)
        self._ready = True
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(None)

    def whenReady(self) -> Deferred[None]:
        """Fires once every service has settled and the report is logged."""
        if self._ready:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._waiting.append(d)
        return d


def make_root_service(config: Config, reactor: Any, shared: SharedObjects | None = None) -> Daemon:
    """
    The tree twistd runs. Services that own processes or containers are
    children, so they start before the port opens and stop after it closes
    (a MultiService stops its children in reverse order). ``shared`` holds
    what was made before (DynamoDB Local's supervisor, see
    L{awsemu.tap.makeService}), or is new.
    """
    root = Daemon()
    shared = SharedObjects(config, reactor) if shared is None else shared
    backends = {}
    for name in config.services:
        backend = make_backend(name, shared)
        backends[name] = backend
        if IService.providedBy(backend):
            IService(backend).setServiceParent(root)
    gateway = Gateway(
        backends,
        config.region,
        reactor,
        account_for_key=account_lookup(shared),
        authenticate=authenticator(shared.assemble(directory), reactor),
        unsigned_s3_account=ANONYMOUS_ACCOUNT if config.auth == "enforce" else DEFAULT_ACCOUNT_ID,
        settings=settings(config),
    )
    factory = gateway_factory(
        gateway, reactor, idle_timeout=config.idle_timeout, body_readers=body_readers(config)
    )
    PortService(config.port, factory, reactor).setServiceParent(root)
    report = StartReport(config, backends, reactor)
    report.setServiceParent(root)
    hooks_dir = init_dir(None if config.init_dir is None else config.init_dir.path)
    if hooks_dir is not None:
        from awsemu.lambda_ import endpoint_url

        hooks = InitHooks(hooks_dir, reactor, endpoint_url(config), report.whenReady)
        hooks.setServiceParent(root)
        gateway.init_state = hooks.state
        root.before_stop = hooks.shutdown
    return root


def body_readers(config: Config) -> BodyReaders:
    """S3 reads large uploads while they arrive (``awsemu.s3.chunked.BodyDigester``)."""
    if "s3" not in config.services:
        return no_readers
    from awsemu.s3.chunked import body_reader

    return body_reader


class Daemon(MultiService):
    """
    The daemon's root service: its children, and ``before_stop`` (the init
    hooks' ``shutdown.d``), run to its end before any child stops.
    """

    before_stop: Callable[[], Deferred[None]] | None = None

    def stopService(self) -> Deferred[None]:
        before = self.before_stop
        if before is None:
            return super().stopService()  # type: ignore[no-any-return]
        return before().addBoth(lambda _: super(Daemon, self).stopService())
