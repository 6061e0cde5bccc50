"""API Gateway (REST APIs, v1): the control plane."""

from __future__ import annotations

import os
from typing import Any

from awsemu.config import Config
from awsemu.gateway.services import ModelService
from awsemu.shared import SharedObjects


def make_service(config: Config, reactor: Any, shared: SharedObjects) -> ModelService:
    from awsemu.apigateway.provider import ApiGatewayProvider
    from awsemu.apigateway.store import open_store

    return ModelService("apigateway", ApiGatewayProvider(open_store(config), os.urandom))
