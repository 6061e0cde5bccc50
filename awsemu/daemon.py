"""
The daemon's service tree: the enabled AWS services and the one port
they share, started and stopped in order by twistd.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from twisted.application import strports
from twisted.application.service import IService, MultiService

from awsemu.auth.keys import directory
from awsemu.auth.verify import authenticator
from awsemu.config import Config
from awsemu.gateway.app import Gateway
from awsemu.gateway.context import ANONYMOUS_ACCOUNT, DEFAULT_ACCOUNT_ID, AccountForKey
from awsemu.gateway.server import gateway_factory
from awsemu.gateway.services import ServiceBackend
from awsemu.services import SERVICE_FACTORIES
from awsemu.shared import SharedObjects


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


def make_root_service(config: Config, reactor: Any) -> MultiService:
    """
    The tree twistd runs. Services that own processes or containers are
    children, so they start before the port opens and stop after it closes
    (a MultiService stops its children in reverse order).
    """
    root = MultiService()
    shared = SharedObjects(config, reactor)
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
    )
    factory = gateway_factory(gateway, reactor, idle_timeout=config.idle_timeout)
    strports.service(config.port, factory, reactor=reactor).setServiceParent(root)
    return root
