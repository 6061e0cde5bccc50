"""
The API Gateway backend the gateway talks to: the control plane
(``ModelService`` over ``ApiGatewayProvider``) and the calls of deployed
stages (``DataPlane``).
"""

from __future__ import annotations

import attrs

from awsemu.apigateway.dataplane import DataPlane
from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import RUNNING, ModelService, Resource, ServiceState
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse


@attrs.define
class ApiGatewayService:
    """See the module docstring."""

    model: ModelService
    data_plane: DataPlane
    name: str = "apigateway"

    def state(self) -> ServiceState:
        return RUNNING

    async def reset(self) -> None:
        await self.model.reset()

    async def inventory(self) -> list[Resource]:
        return await self.model.inventory()

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        return await self.model.handle(context, request)

    async def handle_data_plane(
        self, context: RequestContext, request: HttpRequest, resource_id: str
    ) -> HttpResponse:
        """A call of a deployed stage of the REST API ``resource_id``."""
        return await self.data_plane.handle(context, request, resource_id)

    def error_response(
        self, context: RequestContext, request: HttpRequest, error: ServiceError
    ) -> HttpResponse:
        return self.model.error_response(context, request, error)
