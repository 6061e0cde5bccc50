"""
CloudWatch Logs: log groups, streams and events, in memory or under
``--data-dir``.

Other services (Lambda) write logs with ``LogStore.put_events`` on the
store this service serves, so that DescribeLogStreams and GetLogEvents show
them: both obtain it from the daemon's shared objects with ``open_store``.
When the daemon does not serve ``logs`` the store is still kept, under
``--data-dir`` on disk, so the logs are there once ``logs`` is served.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IReactorTime

from awsemu.config import Config
from awsemu.gateway.services import ModelService
from awsemu.logs.store import LogStore
from awsemu.shared import SharedObjects


def open_store(config: Config, clock: IReactorTime) -> LogStore:
    """
    The daemon's log store: ``<data-dir>/logs/logs.sqlite``, or in memory
    without a data directory. ``clock`` (the reactor) gives creation and
    ingestion times.
    """
    if config.data_dir is None:
        return LogStore.open(None, clock)
    root = config.data_dir.child("logs")
    if not root.isdir():
        root.makedirs()
    return LogStore.open(root.child("logs.sqlite"), clock)


def make_service(config: Config, reactor: Any, shared: SharedObjects) -> ModelService:
    """The CloudWatch Logs backend, serving the daemon's log store."""
    from awsemu.logs.codec import make_codec
    from awsemu.logs.provider import LogsProvider

    store = shared.obtain(open_store)
    provider = LogsProvider(store, reactor)
    return ModelService("logs", provider, codec_factory=lambda name: make_codec(), stored=store)
