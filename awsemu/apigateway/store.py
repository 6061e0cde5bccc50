"""
API Gateway's state, per account and region, and the lookup the data
plane uses to serve a deployed stage.

Every record (``RestApi``, ``Resource`` with its ``resourceMethods``,
``Method`` with its ``methodIntegration``, ``Stage``, ``Authorizer``...)
is kept as a dict in the exact shape of botocore's output structure, with
timestamps in epoch seconds: the provider returns records as they are, and
the state is one JSON document, saved whole after each change when
``--data-dir`` is set.

A deployment stores a snapshot of the API's resources (methods and
integrations included) and authorizers, taken when it was created: as in
AWS, later changes reach callers only through a new deployment. The data
plane resolves a call with two dict lookups: ``deployed_stage(api id,
stage)`` → ``DeployedStage``, whose ``resources`` are that snapshot.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any, NotRequired, TypedDict

import attrs

from awsemu.config import Config
from awsemu.state.jsonfile import JsonFile

Record = dict[str, Any]


class Snapshot(TypedDict):
    """
    What a deployment froze: resources by id (with methods), authorizers
    by id, and the customised gateway responses by type (absent from
    snapshots saved before awsemu kept them).
    """

    resources: dict[str, Record]
    authorizers: dict[str, Record]
    gatewayResponses: NotRequired[dict[str, Record]]


class ApiState(TypedDict):
    api: Record
    resources: dict[str, Record]
    authorizers: dict[str, Record]
    deployments: dict[str, Record]
    snapshots: dict[str, Snapshot]
    stages: dict[str, Record]
    gatewayResponses: NotRequired[dict[str, Record]]


class Plans(TypedDict):
    """
    An account's usage plans and API keys in one region: ``keys`` are the
    ``ApiKey`` records (value included), ``planKeys`` each plan's key ids.
    """

    usagePlans: dict[str, Record]
    apiKeys: dict[str, Record]
    planKeys: dict[str, list[str]]


Usage = dict[str, dict[str, dict[str, int]]]
"""Calls made with API keys: by usage plan id, key id and UTC day (``2026-01-31``)."""


@attrs.frozen
class DeployedStage:
    """
    A stage as the data plane serves it.

    ``resources`` are the stage's deployment snapshot by resource id; each
    has ``path`` (``/pets/{id}``, ``/{proxy+}``) and ``resourceMethods``
    (``GET``, ``ANY``...) whose ``methodIntegration`` holds ``type``
    (``AWS_PROXY``, ``HTTP_PROXY``, ``MOCK``...), ``uri`` and
    ``httpMethod``; a method's ``authorizerId`` names one of
    ``authorizers``. ``stage`` is the Stage record (``variables``...).
    """

    account: str
    region: str
    api: Record
    stage: Record
    resources: Mapping[str, Record]
    authorizers: Mapping[str, Record]
    gateway_responses: Mapping[str, Record]
    plans: Plans
    usage: Usage
    """Calls counted against each plan's keys, by day, in the API's account and region."""


@attrs.define
class ApiGatewayStore:
    """
    Every REST API, by account, region and id, with an index from API id
    to where it lives (execute-api hosts name the API, not the account),
    and the usage plans and API keys of each account and region (kept in
    a file of their own). ``file`` is None to keep state in memory only.
    """

    apis: dict[str, dict[str, dict[str, ApiState]]] = attrs.field(factory=dict)
    file: JsonFile | None = None
    plans: dict[str, dict[str, Plans]] = attrs.field(factory=dict)
    plans_file: JsonFile | None = None
    _locations: dict[str, tuple[str, str]] = attrs.field(factory=dict, init=False)
    _usage: dict[tuple[str, str], Usage] = attrs.field(factory=dict, init=False)
    """Usage (GetUsage) is counted in memory only: saving it would cost each call a write."""

    def __attrs_post_init__(self) -> None:
        for account, regions in self.apis.items():
            for region, apis in regions.items():
                for api_id in apis:
                    self._locations[api_id] = (account, region)

    @classmethod
    def open(cls, file: JsonFile, plans_file: JsonFile) -> ApiGatewayStore:
        """The store saved in the files (empty if there are none yet), saving back there."""
        return cls(file.load() or {}, file, plans_file.load() or {}, plans_file)

    def save(self) -> None:
        """Write the whole state, if it is kept on disk; providers call it after each change."""
        if self.file is not None:
            self.file.save(self.apis)
        if self.plans_file is not None:
            self.plans_file.save(self.plans)

    def usage(self, account: str, region: str) -> Usage:
        """Calls counted against the usage plans of ``account`` in ``region``."""
        return self._usage.setdefault((account, region), {})

    def regional_plans(self, account: str, region: str) -> Plans:
        """The usage plans and API keys of ``account`` in ``region``."""
        regions = self.plans.setdefault(account, {})
        if region not in regions:
            regions[region] = {"usagePlans": {}, "apiKeys": {}, "planKeys": {}}
        return regions[region]

    def clear(self) -> None:
        """Forget every account's APIs."""
        self.apis.clear()
        self._locations.clear()
        self.save()

    def inventory(self) -> list[tuple[str, str, str, str]]:
        """Every REST API, and every deployed stage as ``<api-id>/<stage>``."""
        found = []
        for account, regions in self.apis.items():
            for region, apis in regions.items():
                for api_id, state in apis.items():
                    found.append((account, region, "restapis", api_id))
                    found += [(account, region, "stages", f"{api_id}/{s}") for s in state["stages"]]
        return found

    def region(self, account: str, region: str) -> dict[str, ApiState]:
        """The APIs of ``account`` in ``region``, by id."""
        return self.apis.setdefault(account, {}).setdefault(region, {})

    def add(self, account: str, region: str, state: ApiState) -> None:
        api_id = state["api"]["id"]
        self.region(account, region)[api_id] = state
        self._locations[api_id] = (account, region)

    def remove(self, account: str, region: str, api_id: str) -> None:
        del self.region(account, region)[api_id]
        del self._locations[api_id]

    @property
    def api_ids(self) -> Container[str]:
        """Every account's API ids: new ids avoid them all, as AWS's are unique."""
        return self._locations.keys()

    def deployed_stage(self, api_id: str, stage_name: str) -> DeployedStage | None:
        """The data plane's lookup: a stage of an API and its deployment snapshot, or None."""
        location = self._locations.get(api_id)
        if location is None:
            return None
        account, region = location
        state = self.apis[account][region][api_id]
        stage = state["stages"].get(stage_name)
        if stage is None:
            return None
        snapshot = state["snapshots"][stage["deploymentId"]]
        return DeployedStage(
            account,
            region,
            state["api"],
            stage,
            snapshot["resources"],
            snapshot["authorizers"],
            snapshot.get("gatewayResponses", {}),
            self.regional_plans(account, region),
            self.usage(account, region),
        )


def open_store(config: Config) -> ApiGatewayStore:
    """The daemon's store: in memory, or ``<data-dir>/apigateway/{state,plans}.json``."""
    if config.data_dir is None:
        return ApiGatewayStore()
    directory = config.data_dir.child("apigateway")
    return ApiGatewayStore.open(
        JsonFile(directory.child("state.json")), JsonFile(directory.child("plans.json"))
    )
