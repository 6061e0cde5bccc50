"""API Gateway (REST APIs, v1): the control plane and deployed stages' data plane."""

from __future__ import annotations

import os
from typing import Any

from awsemu.apigateway.service import ApiGatewayService
from awsemu.config import Config
from awsemu.shared import SharedObjects


def make_service(config: Config, reactor: Any, shared: SharedObjects) -> ApiGatewayService:
    """
    The API Gateway backend. Lambda integrations and authorizers invoke
    functions through Lambda's provider, when Lambda is served (the Lambda
    service runs the environments).
    """
    from awsemu.apigateway.dataplane import DataPlane
    from awsemu.apigateway.forwarding import treq_forwarder
    from awsemu.apigateway.lambdas import Functions, LambdaFunctions
    from awsemu.apigateway.provider import ApiGatewayProvider
    from awsemu.apigateway.store import open_store
    from awsemu.gateway.services import ModelService

    store = open_store(config)
    functions: Functions | None = None
    if "lambda" in config.services:
        from awsemu import lambda_

        functions = LambdaFunctions(shared.assemble(lambda_.core).provider)
    data_plane = DataPlane(store, functions, treq_forwarder(reactor), reactor, os.urandom)
    return ApiGatewayService(
        ModelService("apigateway", ApiGatewayProvider(store, os.urandom), stored=store), data_plane
    )
