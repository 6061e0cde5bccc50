"""
The daemon's service tree: the enabled AWS services and the one port
they share, started and stopped in order by twistd.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from twisted.application import strports
from twisted.application.service import IService, MultiService
from twisted.web.server import Site

from awsemu.config import Config
from awsemu.gateway.app import Gateway, GatewayRequest
from awsemu.gateway.context import AccountForKey, no_known_keys
from awsemu.gateway.services import ServiceBackend
from awsemu.services import SERVICE_FACTORIES
from awsemu.shared import SharedObjects


class GatewaySite(Site):
    """
    The gateway's HTTP factory. The gateway writes one log line per request
    itself, with the service and operation, so the access log is not kept,
    and a failure never shows a traceback to the client. Request bodies are
    left to the services: Twisted's own form parsing would cost every POST
    a MIME parse and would read a whole multipart upload into memory.
    """

    displayTracebacks = False

    def log(self, request: Any) -> None:
        """No access log: see the class docstring."""


def gateway_site(gateway: Gateway, reactor: Any) -> GatewaySite:
    """The HTTP factory that serves ``gateway``."""
    return GatewaySite(
        gateway.resource(),
        requestFactory=GatewayRequest,
        reactor=reactor,
        parsePOSTFormSubmission=False,
    )


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
    site = gateway_site(gateway, reactor)
    strports.service(config.port, site, reactor=reactor).setServiceParent(root)
    return root
