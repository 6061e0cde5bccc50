"""STS: the caller's identity, which every SDK and deploy tool asks for first, and AssumeRole."""

from __future__ import annotations

import os
from typing import Any

from awsemu.config import Config
from awsemu.gateway.services import ModelService
from awsemu.shared import SharedObjects


def make_service(config: Config, reactor: Any, shared: SharedObjects) -> ModelService:
    from awsemu.iam import directory
    from awsemu.sts.provider import StsProvider

    return ModelService("sts", StsProvider(shared.obtain(directory), os.urandom))
