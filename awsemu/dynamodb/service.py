"""
The DynamoDB service: DynamoDB and DynamoDB Streams, served by a
supervised DynamoDB Local JVM behind the gateway (see
L{awsemu.dynamodb.proxy} for what the proxy changes on the way,
L{awsemu.dynamodb.jvm} for how the JVM is run, and
L{awsemu.dynamodb.supervisor} for how it is kept running).
"""

from __future__ import annotations

from typing import Any

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred

from awsemu.config import Config
from awsemu.dynamodb.backups import BackupStore
from awsemu.dynamodb.exports import ExportStore
from awsemu.dynamodb.fastpath import ItemFastPath
from awsemu.dynamodb.jvm import jvm_supervisor, loopback_pool
from awsemu.dynamodb.keys import kept_secret, new_secret
from awsemu.dynamodb.loopback import LoopbackPool
from awsemu.dynamodb.proxy import DynamoDBProxy
from awsemu.dynamodb.supervisor import Supervisor
from awsemu.dynamodb.tables import TableStore
from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import Resource, ServiceState
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.shared import SharedObjects


class ProxyCalls:
    """The calls the gateway makes of a DynamoDB backend, answered by its ``proxy``."""

    proxy: DynamoDBProxy

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        return await self.proxy.handle(context, request)

    def error_response(
        self, context: RequestContext, request: HttpRequest, error: ServiceError
    ) -> HttpResponse:
        return self.proxy.error_response(context, request, error)


@attrs.define(eq=False)
class DynamoDBService(ProxyCalls, Service):
    """
    The DynamoDB backend the gateway calls, and the service that owns what
    it runs on: the JVM's supervisor (if DynamoDB Local can run) and the
    connection pool to it, both ended when the daemon stops.
    """

    proxy: DynamoDBProxy
    supervisor: Supervisor | None
    pool: LoopbackPool
    name: str = "dynamodb"
    fast_path: ItemFastPath = attrs.field(init=False)
    """The item operations' path through the gateway (L{awsemu.dynamodb.fastpath})."""

    def __attrs_post_init__(self) -> None:
        self.fast_path = ItemFastPath(self.proxy, self.pool)

    def state(self) -> ServiceState:
        return self.proxy.state()

    async def reset(self) -> None:
        self._known_databases()
        await self.proxy.reset()

    async def inventory(self) -> list[Resource]:
        self._known_databases()
        return await self.proxy.inventory()

    def _known_databases(self) -> None:
        """
        Add the databases DynamoDB Local keeps under ``--data-dir``
        (``<secret><account>_<region>.db``) to those requests reached since start.
        """
        command = None if self.supervisor is None else self.supervisor.command
        if command is None or command.db_path is None or not command.db_path.is_dir():
            return
        for path in command.db_path.glob(f"{self.proxy.secret}*_*.db"):
            key, _, region = path.stem.partition("_")
            self.proxy.scopes.add((key.removeprefix(self.proxy.secret), region))

    def details(self) -> dict[str, object]:
        """For the health document: the DynamoDB Local run, if one can run."""
        command = None if self.supervisor is None else self.supervisor.command
        return {"dynamodb_local": None if command is None else str(command.dynamodb_local.jar)}

    def summary(self) -> str:
        """For the start report: the DynamoDB Local run, or why none runs."""
        if self.supervisor is None:
            return self.state().reason or "DynamoDB Local cannot run"
        return f"DynamoDB Local {self.supervisor.command.dynamodb_local.jar}"

    def whenReady(self) -> Deferred[int]:
        """Fires with DynamoDB Local's port once it answers."""
        return self.proxy.supervised.whenReady()

    def startService(self) -> None:
        super().startService()
        if self.supervisor is not None:
            self.supervisor.startService()
        self.proxy.replication.start()

    def stopService(self) -> Deferred[None]:
        super().stopService()
        self.proxy.replication.stop()
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        await self.pool.close()
        if self.supervisor is not None:
            await self.supervisor.stopService()


def table_store(config: Config) -> TableStore:
    """
    What the daemon keeps of tables: in memory, or in
    ``<data-dir>/dynamodb/tables.json`` (``tags.json`` before it held more than tags).
    """
    if config.data_dir is None:
        return TableStore()
    from awsemu.state.jsonfile import JsonFile

    directory = config.data_dir.child("dynamodb")
    path, earlier = directory.child("tables.json"), directory.child("tags.json")
    if earlier.exists() and not path.exists():
        earlier.moveTo(path)
    return TableStore.open(JsonFile(path))


def backup_store(config: Config) -> BackupStore:
    """Where backups are kept: in memory, or in ``<data-dir>/dynamodb/backups/``."""
    if config.data_dir is None:
        return BackupStore()
    return BackupStore.open(config.data_dir.child("dynamodb").child("backups"))


def export_store(config: Config) -> ExportStore:
    """Where exports and imports are kept: in memory, or ``<data-dir>/dynamodb/exports.json``."""
    if config.data_dir is None:
        return ExportStore()
    from awsemu.state.jsonfile import JsonFile

    return ExportStore.open(JsonFile(config.data_dir.child("dynamodb").child("exports.json")))


def secret(config: Config) -> str:
    """
    What begins DynamoDB Local's access keys: this daemon's own, or the one
    kept in ``<data-dir>/dynamodb`` (see L{awsemu.dynamodb.keys}).
    """
    if config.data_dir is None:
        return new_secret()
    return kept_secret(config.data_dir.child("dynamodb"))


def make_service(config: Config, reactor: Any, shared: SharedObjects) -> DynamoDBService:
    """The DynamoDB backend of a daemon configured by ``config``."""
    return shared.assemble(dynamodb_service)


def dynamodb_service(shared: SharedObjects) -> DynamoDBService:
    """
    The daemon's one DynamoDB service: made once, since Lambda's event
    source mappings read streams through its proxy too.
    """
    config, reactor = shared.config, shared.reactor
    pool = shared.obtain(loopback_pool)
    supervised = shared.assemble(jvm_supervisor)
    proxy = DynamoDBProxy(
        supervised,
        pool,
        reactor,
        table_store(config),
        backup_store(config),
        export_store(config),
        secret=secret(config),
    )
    if "s3" in config.services:
        # Tables are exported to S3 and imported from it through S3's provider.
        from awsemu import s3

        proxy.s3 = shared.assemble(s3.core).provider
    return DynamoDBService(proxy, supervised if isinstance(supervised, Supervisor) else None, pool)
