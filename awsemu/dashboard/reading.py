"""
How the dashboard asks the services: their providers' methods, called
in-process with a request context for the chosen account and region (as
the gateway calls them for an AWS request), and DynamoDB's requests sent
through its proxy to DynamoDB Local.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import ServiceBackend
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest

Document = dict[str, Any]

_DYNAMODB_TARGET = "DynamoDB_20120810."


class NotServed(Exception):
    """The daemon does not serve the service a page needs."""


@attrs.frozen
class Scope:
    """The account and region a page shows."""

    account_id: str
    region: str


@attrs.define
class Services:
    """The enabled services of one daemon, as the dashboard reads them."""

    backends: Mapping[str, ServiceBackend]
    clock: IReactorTime

    def served(self, service: str) -> bool:
        return service in self.backends

    def context(self, scope: Scope, service: str, operation: str) -> RequestContext:
        context = RequestContext(
            request_id=os.urandom(16).hex(),
            account_id=scope.account_id,
            region=scope.region,
            service=service,
            access_key_id=None,
            started=self.clock.seconds(),
        )
        context.operation = operation
        return context

    def provider(self, service: str) -> Any:
        """
        The provider of ``service``: every model-driven backend is a
        ``ModelService`` or holds one as ``model``.
        """
        backend = self.backends.get(service)
        if backend is None:
            raise NotServed(service)
        model: Any = getattr(backend, "model", backend)
        return model.provider

    async def call(self, scope: Scope, service: str, operation: str, params: Document) -> Any:
        """
        ``operation`` (``ListBuckets``) of ``service``, as the gateway calls
        it: the provider's method of that name in Python's spelling, with
        the operation in the context (providers check parameters by it).
        """
        from botocore import xform_name

        method = getattr(self.provider(service), xform_name(operation))
        return await method(self.context(scope, service, operation), params)

    async def dynamodb(self, scope: Scope, operation: str, body: Document) -> Document:
        """A DynamoDB call (``Scan``) through the service's proxy; its error as a ServiceError."""
        backend = self.backends.get("dynamodb")
        if backend is None:
            raise NotServed("dynamodb")
        request = HttpRequest.from_uri(
            "POST",
            "/",
            [
                ("Host", "dynamodb"),
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", _DYNAMODB_TARGET + operation),
            ],
            json.dumps(body).encode(),
        )
        response = await backend.handle(self.context(scope, "dynamodb", operation), request)
        raw = response.body if isinstance(response.body, bytes) else response.body.read()
        document: Document = json.loads(raw or b"{}")
        if response.status >= 400:
            code = str(document.get("__type", "Error")).rpartition("#")[2]
            message = document.get("message") or document.get("Message") or ""
            raise ServiceError(code, str(message), response.status)
        return document
