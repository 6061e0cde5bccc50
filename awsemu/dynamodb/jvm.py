"""
How the daemon runs DynamoDB Local: the command (which jar, which java),
the one connection pool to it, and its supervisor, each made once per
daemon.

This module stays light to import: ``twistd awsemu`` builds the supervisor
and starts DynamoDB Local (L{start_early}) before it imports the gateway
and the DynamoDB proxy, so that the JVM's start, the longest part of the
daemon's, overlaps the rest of the daemon's.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred

from awsemu.config import Config
from awsemu.dynamodb.installer import INSTALL_COMMAND, default_cache_dir, find_dynamodb_local
from awsemu.dynamodb.loopback import LoopbackPool
from awsemu.dynamodb.supervisor import JvmCommand, PidFiles, Probe, Supervisor, Unavailable
from awsemu.shared import SharedObjects


def jvm_command(config: Config, cache_dir: Path) -> JvmCommand | Unavailable:
    """How to run DynamoDB Local as ``config`` says, or why it cannot run and the fix."""
    location = Path(config.dynamodb_local.path) if config.dynamodb_local else cache_dir
    dynamodb_local = find_dynamodb_local(location)
    if dynamodb_local is None:
        if config.dynamodb_local:
            return Unavailable(f"No DynamoDB Local at {location}: fix --dynamodb-local")
        return Unavailable(
            f"DynamoDB Local is not installed: run `{INSTALL_COMMAND}`, then restart awsemu"
        )
    java = shutil.which(config.java)
    if java is None:
        return Unavailable(
            f"Java ({config.java}) is not installed: install a Java 17 runtime"
            " (apt-get install openjdk-17-jre-headless) or pass --java PATH"
        )
    db_path = None if config.data_dir is None else Path(config.data_dir.path) / "dynamodb"
    return JvmCommand(java, dynamodb_local, db_path, config.dynamodb_heap, cache_dir=cache_dir)


def loopback_pool(config: Config, reactor: Any) -> LoopbackPool:
    """The daemon's connections to DynamoDB Local, for its supervisor's probes and the proxy."""
    return LoopbackPool(reactor, reactor)


def list_tables(pool: LoopbackPool) -> Probe:
    """
    The proxy's readiness probe (L{awsemu.dynamodb.proxy.list_tables_probe}),
    whose module is imported at the first probe: the supervisor is made
    before the proxy's modules are loaded, and probes only once the JVM has
    printed its startup line, long after they are.
    """

    def probe(port: int) -> Deferred[bool]:
        from awsemu.dynamodb.proxy import list_tables_probe

        return list_tables_probe(pool)(port)

    return probe


def jvm_supervisor(shared: SharedObjects) -> Supervisor | Unavailable:
    """The daemon's one DynamoDB Local supervisor, or why DynamoDB Local cannot run."""
    config, reactor = shared.config, shared.reactor
    cache_dir = Path(config.cache_dir.path) if config.cache_dir else default_cache_dir(os.environ)
    command = jvm_command(config, cache_dir)
    if isinstance(command, Unavailable):
        return command
    return Supervisor(
        command=command,
        clock=reactor,
        spawn=reactor.spawnProcess,
        probe=list_tables(shared.obtain(loopback_pool)),
        pid_files=PidFiles(command.db_path or cache_dir),
        environment=dict(os.environ),
        lazy=config.dynamodb_start == "lazy",
    )


def start_early(shared: SharedObjects) -> None:
    """
    Start the daemon's DynamoDB Local now, if it is to start with the
    daemon (not ``--dynamodb-start lazy``) and can run (see
    L{Supervisor.start_early}); the DynamoDB service, made later, keeps the
    same supervisor. For daemons that serve DynamoDB.
    """
    if shared.config.dynamodb_start == "lazy":
        return
    found = shared.assemble(jvm_supervisor)
    if isinstance(found, Supervisor):
        found.start_early()
