"""
The daemon's service tree: the enabled AWS services and the one port
they share, started and stopped in order by twistd.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from twisted.application import strports
from twisted.application.service import IService, MultiService

from awsemu.config import Config
from awsemu.gateway.app import Gateway
from awsemu.gateway.context import AccountForKey, no_known_keys
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
    How the gateway finds the account of an access key IAM or STS issued:
    through their shared store, when either service is enabled.
    """
    if not {"iam", "sts"} & set(shared.config.services):
        return no_known_keys
    from awsemu.iam import directory

    return shared.obtain(directory).account_for_key


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
    gateway = Gateway(backends, config.region, reactor, account_for_key=account_lookup(shared))
    factory = gateway_factory(gateway, reactor, idle_timeout=config.idle_timeout)
    strports.service(config.port, factory, reactor=reactor).setServiceParent(root)
    return root
