"""
IAM: roles, policies, users and access keys, enough for deploy scripts.

IAM, STS and the gateway's account lookup share one ``IamStore``: IAM
creates users' keys, STS issues role sessions, and the gateway maps either
kind of key id to its account. ``make_service`` only receives the config and
the reactor, so each asks the daemon's shared objects for the one
``directory`` builds.
"""

from __future__ import annotations

import os
from typing import Any

from awsemu.config import Config
from awsemu.gateway.services import ModelService
from awsemu.iam.store import IamStore
from awsemu.shared import SharedObjects


def directory(config: Config, reactor: Any) -> IamStore:
    """The daemon's IAM store: in memory, or ``<data-dir>/iam/state.json``."""
    if config.data_dir is None:
        return IamStore()
    from awsemu.state.jsonfile import JsonFile

    return IamStore.open(JsonFile(config.data_dir.child("iam").child("state.json")))


def make_service(config: Config, reactor: Any, shared: SharedObjects) -> ModelService:
    from awsemu.iam.provider import IamProvider

    store = shared.obtain(directory)
    return ModelService("iam", IamProvider(store, os.urandom), stored=store)
