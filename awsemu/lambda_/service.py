"""
The Lambda backend the gateway talks to: the model-driven API
(``ModelService`` over ``LambdaProvider``), the ``Code.Location``
downloads, and the lifetime of everything Lambda owns outside the reactor:
execution environments, the poller of event source mappings, the thread
pool that unpacks code and drives the Docker SDK, and the scratch
directory packages are unpacked in.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import RUNNING, ModelService, Resource, ServiceState
from awsemu.lambda_.code import CODE_PATH
from awsemu.lambda_.executors import Executor
from awsemu.lambda_.invocations import EventQueue
from awsemu.lambda_.invoker import Environments
from awsemu.lambda_.pollers import MappingPoller
from awsemu.lambda_.provider import LambdaProvider
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse

ChooseExecutor = Callable[[], Awaitable[Executor]]


@attrs.define(slots=False, eq=False)
class LambdaService(Service):
    """
    See the module docstring. ``choose_executor`` runs at start (it may ask
    a Docker engine); ``scratch`` is removed at stop when it is a temporary
    directory (None: it is a cache under ``--data-dir``, kept).
    """

    model: ModelService
    provider: LambdaProvider
    environments: Environments
    poller: MappingPoller
    events: EventQueue
    threads: ThreadPool
    choose_executor: ChooseExecutor
    scratch: Path | None = None
    name: str = "lambda"
    _state: ServiceState = ServiceState("starting")
    _executor: Executor | None = None
    _runtimes_with_images: list[str] | None = None
    """Which runtimes' images the Docker engine has (None: not Docker)."""
    _log: Logger = attrs.field(factory=Logger)

    def state(self) -> ServiceState:
        return self._state

    async def reset(self) -> None:
        """Stop every execution environment, then forget every function and layer."""
        await self.environments.shutdown()
        self.environments.store.clear()

    async def inventory(self) -> list[Resource]:
        return self.environments.store.inventory()

    def details(self) -> dict[str, object]:
        """
        For the health document: the executor, the runtimes whose image is
        here, and (the process executor) what runs Node.js functions.
        """
        found: dict[str, object] = {
            "executor": None if self._executor is None else self._executor.name,
            "runtimes_with_images": self._runtimes_with_images,
        }
        node = getattr(self._executor, "node_client", None)
        if node is not None:
            found["node_runtime_client"] = node
        return found

    def summary(self) -> str:
        """For the start report: the executor chosen, or why none could be."""
        if self._executor is None:
            return self._state.reason or "no executor yet"
        found = self._runtimes_with_images
        images = "" if found is None else f", images here for: {', '.join(found) or 'none'}"
        node = getattr(self._executor, "node_client", None)
        client = "" if node is None else f", Node.js runtime client: {node}"
        return f"executor {self._executor.name}{images}{client}"

    def startService(self) -> None:
        super().startService()
        self.threads.start()
        Deferred.fromCoroutine(self._start())

    async def _start(self) -> None:
        try:
            executor = await self.choose_executor()
            await executor.remove_orphans()
        except Exception as e:
            self._log.failure("Lambda cannot run functions")
            self._state = ServiceState("error", f"Lambda cannot run functions: {e}")
            return
        self._executor = executor
        self.environments.use(executor)
        self.poller.startService()
        runtimes_with_images = getattr(executor, "runtimes_with_images", None)
        if runtimes_with_images is not None:
            self._runtimes_with_images = await runtimes_with_images()
        self._state = RUNNING

    def stopService(self) -> Deferred[None]:
        super().stopService()
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        # Polls under way end when their invocations do, as environments stop.
        polls = self.poller.stopService() if self.poller.running else None
        self.events.stop()
        await self.environments.shutdown()
        if polls is not None:
            await polls
        if self._executor is not None:
            await self._executor.close()
        scratch = self.scratch
        if scratch is not None:
            await deferToThreadPool(
                self.environments.reactor, self.threads, shutil.rmtree, scratch, True
            )
        self.threads.stop()

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.path.startswith(CODE_PATH):
            package = self.provider.package(request.path)
            if package is not None:
                return HttpResponse(200, [("Content-Type", "application/zip")], package)
            return self.error_response(
                context,
                request,
                ServiceError("AccessDenied", "The code package does not exist.", 403),
            )
        return await self.model.handle(context, request)

    async def handle_data_plane(
        self, context: RequestContext, request: HttpRequest, resource_id: str
    ) -> HttpResponse:
        """
        A function URL call (the gateway's data-plane route for
        ``<url-id>.lambda-url.<region>.localhost[.localstack.cloud]``).
        """
        return await self.provider.invoke_url(request, resource_id)

    def error_response(
        self, context: RequestContext, request: HttpRequest, error: ServiceError
    ) -> HttpResponse:
        return self.model.error_response(context, request, error)
