"""
Lambda: functions, versions, aliases and layers (the control plane), and
their invocation in execution environments run as containers (Docker) or
as local Python processes, each served its own Runtime API.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import attrs
from twisted.python.threadpool import ThreadPool

from awsemu.config import Config
from awsemu.lambda_.executors import Executor
from awsemu.lambda_.invocations import EventQueue
from awsemu.lambda_.invoker import Environments
from awsemu.lambda_.pollers import MappingPoller
from awsemu.lambda_.provider import LambdaProvider
from awsemu.lambda_.service import LambdaService
from awsemu.shared import SharedObjects

_TCP_PORT = re.compile(r"tcp:(?:port=)?([0-9]+)(?::.*?interface=([^:]+))?")


def endpoint_url(config: Config) -> str:
    """
    The daemon's address as functions reach it (``AWS_ENDPOINT_URL``): the
    interface and port it listens on, loopback when it listens on all.
    """
    found = _TCP_PORT.match(config.port)
    if found is None:
        return "http://127.0.0.1:4566"
    host = found.group(2) or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{found.group(1)}"


async def choose_executor(config: Config, reactor: Any, threads: Any) -> Executor:
    """
    The executor ``--lambda-executor`` asks for; ``auto`` is Docker when an
    engine answers, else local processes.
    """
    from awsemu.dynamodb.installer import default_cache_dir
    from awsemu.lambda_.executors.process import ProcessExecutor
    from awsemu.lambda_.node_ric import find_node_ric

    if config.lambda_executor != "process":
        from awsemu.lambda_.executors.docker import connect

        try:
            return await connect(config, reactor, threads)
        except Exception:
            if config.lambda_executor == "docker":
                raise
    cache_dir = Path(config.cache_dir.path) if config.cache_dir else default_cache_dir(os.environ)
    node_ric = find_node_ric(cache_dir)
    return ProcessExecutor(reactor, config.lambda_python, config.lambda_user, node_ric)


@attrs.frozen
class LambdaCore:
    """
    What Lambda is made of, shared by the services that use it: API Gateway
    invokes functions through ``provider`` (Lambda's API), while the
    ``LambdaService`` owns the lifetime of the rest (``poller`` runs the
    event source mappings). Under ``--data-dir`` functions are kept in
    ``<data-dir>/lambda``; code is unpacked in ``scratch``, a temporary
    directory removed when the daemon stops (the data directory is private
    to the daemon's user, while functions may run as uids of their own).
    """

    provider: LambdaProvider
    environments: Environments
    poller: MappingPoller
    events: EventQueue
    threads: ThreadPool
    scratch: Path


def core(shared: SharedObjects) -> LambdaCore:
    """
    Lambda's core for the daemon of ``shared``. Function logs go to the
    daemon's log store (CloudWatch Logs serves it); when S3 is served,
    ``S3Bucket``/``S3Key`` code is read through S3's provider, and S3's
    event notifications invoke functions through this one.
    """
    from awsemu.auth.keys import directory
    from awsemu.lambda_.functions import FunctionStore
    from awsemu.lambda_.runtime_api import listen
    from awsemu.logs import open_store

    config, reactor = shared.config, shared.reactor
    threads = ThreadPool(minthreads=0, maxthreads=8, name="awsemu-lambda")
    store = FunctionStore.open(None if config.data_dir is None else config.data_dir.child("lambda"))
    # Unpacked code is a cache of the stored packages, kept outside the
    # private data directory so that functions running as other uids reach it.
    scratch = Path(tempfile.gettempdir()) / f"awsemu-lambda-{os.getpid()}-{id(store)}"
    url = endpoint_url(config)
    environments = Environments(
        reactor,
        reactor,
        functools.partial(listen, reactor),
        shared.obtain(open_store),
        store,
        threads,
        scratch,
        url,
        config.lambda_max_environments,
        config.lambda_keep_alive,
        shared.assemble(directory).function_credentials,
    )
    events = EventQueue(reactor, config.lambda_retry_delay)
    provider = LambdaProvider(store, reactor, environments, events, url)
    if "s3" in config.services:
        from awsemu import s3
        from awsemu.lambda_.s3code import S3CodeSource
        from awsemu.lambda_.s3events import S3Notifications

        s3_core = shared.assemble(s3.core)
        provider.code_source = S3CodeSource(s3_core.provider)
        s3_core.notifier.functions = S3Notifications(provider, reactor)
    streams = None
    if "dynamodb" in config.services:
        from awsemu.dynamodb.service import dynamodb_service
        from awsemu.dynamodb.streams import StreamReader

        streams = StreamReader(shared.assemble(dynamodb_service).proxy, reactor)
    provider.streams = streams
    poller = MappingPoller(store, reactor, provider.deliver, streams)
    return LambdaCore(provider, environments, poller, events, threads, scratch)


def make_service(config: Config, reactor: Any, shared: SharedObjects) -> LambdaService:
    """The Lambda backend over the daemon's shared Lambda core."""
    from awsemu.gateway.services import ModelService
    from awsemu.lambda_.validation import Validated

    lambda_ = shared.assemble(core)
    return LambdaService(
        ModelService("lambda", Validated(lambda_.provider)),
        lambda_.provider,
        lambda_.environments,
        lambda_.poller,
        lambda_.events,
        lambda_.threads,
        lambda: choose_executor(config, reactor, lambda_.threads),
        lambda_.scratch,
    )
