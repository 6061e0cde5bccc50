"""
What the gateway needs of a service, and the one implementation every
model-driven service shares: find the operation, parse it, run the
provider's method, render the result or the error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol, runtime_checkable

import attrs
from twisted.logger import Logger

from awsemu.gateway.context import RequestContext
from awsemu.gateway.state import RUNNING as RUNNING
from awsemu.gateway.state import ServiceState as ServiceState
from awsemu.protocol.codec import Codec, codec_for
from awsemu.protocol.errors import ServiceError, internal_failure, not_implemented
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.reply import Reply

Params = dict[str, Any]
ProviderMethod = Callable[[RequestContext, Params], Awaitable[Mapping[str, Any]]]
Authorize = Callable[[RequestContext, str, Params], None]
"""A provider's ``authorize(context, operation_name, params)``: raises to refuse a call."""


@runtime_checkable
class ServiceBackend(Protocol):
    """A service the gateway can hand requests to."""

    @property
    def name(self) -> str: ...

    def state(self) -> ServiceState: ...

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse: ...

    def error_response(
        self, context: RequestContext, request: HttpRequest, error: ServiceError
    ) -> HttpResponse:
        """``error`` in this service's protocol, for failures outside ``handle``."""


Resource = tuple[str, str, str, str]
"""One resource a service holds: account, region (``global`` for IAM), kind, name."""


class Store(Protocol):
    """A store a ``ModelService`` serves, as the reset and state endpoints see it."""

    def clear(self) -> None:
        """Forget everything of every account (on disk too, under ``--data-dir``)."""

    def inventory(self) -> list[Resource]:
        """Every resource held, of every account and region."""


@runtime_checkable
class StatefulBackend(Protocol):
    """A backend whose state the daemon's reset and state endpoints reach."""

    async def reset(self) -> None:
        """Forget every resource of every account, as a fresh daemon would have none."""

    async def inventory(self) -> list[Resource]:
        """Every resource held, of every account and region."""


@runtime_checkable
class DataPlaneBackend(ServiceBackend, Protocol):
    """
    A service that also answers calls of its users' own endpoints: Lambda
    function URLs, deployed API Gateway stages. ``resource_id`` is what the
    routing table found (the URL id, the REST API id).
    """

    async def handle_data_plane(
        self, context: RequestContext, request: HttpRequest, resource_id: str
    ) -> HttpResponse: ...


@runtime_checkable
class HeadCheckingBackend(ServiceBackend, Protocol):
    """
    A service that can refuse a call by its head alone, before its body is
    read: S3 checks a signature before it answers ``Expect: 100-continue``.
    """

    def refuse_head(
        self, context: Callable[[], RequestContext], request: HttpRequest
    ) -> HttpResponse | None:
        """
        The refusal of ``request`` (whose body is not read yet), or None;
        ``context`` makes the request's context, which only a refusal needs.
        """


class FastPath(Protocol):
    """
    A backend's answer to its hottest requests in plain callbacks (see
    L{awsemu.reply}), without the generic path's coroutines (DynamoDB's
    item operations, see ``awsemu.dynamodb.fastpath``). A backend offers
    one as its ``fast_path`` attribute; the gateway still routes,
    authenticates and logs the requests it takes.
    """

    def takes(self, request: HttpRequest) -> bool:
        """Whether ``request`` (routed to this backend) is answered here."""

    def answer(
        self, context: RequestContext, request: HttpRequest, reply: Reply[HttpResponse]
    ) -> None:
        """Give ``reply`` the answer to a request ``takes`` took, as the backend's ``handle``."""


#: The parameters that name what a call is about, most telling first, each
#: with the parameters that narrow it and the separator between them.
_RESOURCE_PARAMETERS: Final = (
    ("Bucket", ("Key",), "/"),
    ("FunctionName", ("Qualifier",), ":"),
    ("TableName", (), "/"),
    ("restApiId", ("stageName", "resourceId"), "/"),
    ("logGroupName", ("logStreamName",), "/"),
    ("LayerName", ("VersionNumber",), ":"),
    ("RoleName", ("PolicyName",), "/"),
    ("UserName", ("PolicyName",), "/"),
    ("PolicyArn", (), "/"),
    ("RoleArn", (), "/"),
)


def resource_of(params: Mapping[str, Any]) -> str | None:
    """
    What a parsed call is about, for its log line: ``bucket/key``,
    ``function:qualifier``, ``api-id/stage``, a table, a log group...;
    None for calls about no one resource (``ListBuckets``).
    """
    for name, narrowing, separator in _RESOURCE_PARAMETERS:
        value = params.get(name)
        if value is not None:
            parts = [str(value)]
            parts.extend(str(params[n]) for n in narrowing if params.get(n) is not None)
            return separator.join(parts)
    return None


def _method_name(operation_name: str) -> str:
    """``GetCallerIdentity`` → ``get_caller_identity``: providers use Python names."""
    from botocore import xform_name

    return str(xform_name(operation_name))


@attrs.define
class ModelService:
    """
    A service whose wire format botocore's model describes. Its provider
    is any object with ``async def <snake_case_operation>(context, params)``
    methods returning the operation's output; an operation without a method
    answers AWS's ``NotImplemented`` in the service's own protocol. A
    provider that decides who may call what has an ``authorize`` method
    (see ``Authorize``), run once the request is parsed, before the
    operation's method.
    """

    name: str
    provider: object
    model_name: str | None = None
    codec_factory: Callable[[str], Codec] = codec_for
    stored: Store | None = None
    """The service's state (its store), for the daemon's reset and state endpoints."""
    _log: Logger = attrs.field(factory=Logger, init=False)
    _methods: dict[str, ProviderMethod | None] = attrs.field(factory=dict, init=False)
    _codec: Codec | None = attrs.field(default=None, init=False)
    _authorize: Authorize | None = attrs.field(init=False)

    @_authorize.default
    def _provider_authorize(self) -> Authorize | None:
        found: Authorize | None = getattr(self.provider, "authorize", None)
        return found

    @property
    def codec(self) -> Codec:
        """The service's codec, built (and its model loaded) on the first request."""
        if self._codec is None:
            self._codec = self.codec_factory(self.model_name or self.name)
        return self._codec

    def state(self) -> ServiceState:
        return RUNNING

    async def reset(self) -> None:
        if self.stored is not None:
            self.stored.clear()

    async def inventory(self) -> list[Resource]:
        return [] if self.stored is None else self.stored.inventory()

    def _method(self, operation_name: str) -> ProviderMethod | None:
        try:
            return self._methods[operation_name]
        except KeyError:
            method = getattr(self.provider, _method_name(operation_name), None)
            self._methods[operation_name] = method
            return method

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        codec = self.codec
        operation = None
        try:
            operation = codec.find_operation(request)
            context.operation = operation.name
            method = self._method(operation.name)
            if method is None:
                raise not_implemented(self.name, operation.name)
            params = codec.parse_request(operation, request)
            context.resource = resource_of(params)
            if self._authorize is not None:
                self._authorize(context, operation.name, params)
            output = await method(context, params)
            return codec.serialize_response(
                operation, output, context.request_id, host_id=context.host_id or ""
            )
        except ServiceError as error:
            return self._render_error(codec, context, request, operation, error)
        except Exception:
            self._log.failure(
                "{service}.{operation} failed", service=self.name, operation=context.operation
            )
            return self._render_error(
                codec, context, request, operation, internal_failure(codec.protocol)
            )

    def error_response(
        self, context: RequestContext, request: HttpRequest, error: ServiceError
    ) -> HttpResponse:
        return self._render_error(self.codec, context, request, None, error)

    def _render_error(
        self,
        codec: Codec,
        context: RequestContext,
        request: HttpRequest,
        operation: Any,
        error: ServiceError,
    ) -> HttpResponse:
        return codec.serialize_error(
            error,
            operation,
            context.request_id,
            head=request.method == "HEAD",
            host_id=context.host_id or "",
        )
