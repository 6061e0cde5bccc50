"""
The changes one REST API goes through — resources, methods, integrations,
authorizers, deployments — shared by the provider's operations and the
OpenAPI importer, so an imported API is built exactly as one made call by
call.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from awsemu.apigateway.errors import bad_request, conflict, invalid_identifier, not_found
from awsemu.apigateway.store import ApiState, Record
from awsemu.gateway.context import Random
from awsemu.state.ids import short_id

_PATH_PART: Final = re.compile(r"[A-Za-z0-9._:~@$-]+|\{[A-Za-z0-9._-]+\+?\}")

METHOD_FIELDS: Final = (
    "authorizationType",
    "authorizerId",
    "apiKeyRequired",
    "operationName",
    "requestParameters",
    "requestModels",
    "requestValidatorId",
    "authorizationScopes",
)
"""PutMethod's members that the Method record keeps as given."""

INTEGRATION_FIELDS: Final = (
    "type",
    "uri",
    "connectionType",
    "connectionId",
    "credentials",
    "requestParameters",
    "requestTemplates",
    "passthroughBehavior",
    "cacheNamespace",
    "cacheKeyParameters",
    "contentHandling",
    "timeoutInMillis",
    "tlsConfig",
)
"""PutIntegration's members that the Integration record keeps as given (besides httpMethod)."""

AUTHORIZATION_TYPES: Final = frozenset({"NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"})
INTEGRATION_TYPES: Final = frozenset({"AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"})
AUTHORIZER_TYPES: Final = frozenset({"TOKEN", "REQUEST", "COGNITO_USER_POOLS"})
DEFAULT_TIMEOUT_MS: Final = 29000
DEFAULT_AUTHORIZER_TTL: Final = 300


def given(params: Mapping[str, Any], names: Iterable[str]) -> Record:
    """The members of ``params`` among ``names`` that the caller gave."""
    return {name: params[name] for name in names if name in params}


def new_api_state(api_id: str, root_id: str, fields: Record, now: float) -> ApiState:
    """A new API: its record and its root resource ``/``."""
    api: Record = {
        "id": api_id,
        "createdDate": now,
        "apiKeySource": "HEADER",
        "endpointConfiguration": {"types": ["EDGE"]},
        "disableExecuteApiEndpoint": False,
        "rootResourceId": root_id,
        **fields,
    }
    return {
        "api": api,
        "resources": {root_id: {"id": root_id, "path": "/", "resourceMethods": {}}},
        "authorizers": {},
        "deployments": {},
        "snapshots": {},
        "stages": {},
        "gatewayResponses": {},
    }


@attrs.define
class RestApi:
    """One API's state, changed by the rules API Gateway applies; ``now`` stamps new records."""

    state: ApiState
    random: Random
    now: float

    def new_id(self, taken: Mapping[str, object]) -> str:
        return short_id(self.random, taken)

    # Resources

    def resource(self, resource_id: str) -> Record:
        try:
            return self.state["resources"][resource_id]
        except KeyError:
            raise invalid_identifier("Resource") from None

    def child(self, parent_id: str, path_part: str) -> Record | None:
        for resource in self.state["resources"].values():
            if resource.get("parentId") == parent_id and resource.get("pathPart") == path_part:
                return resource
        return None

    def add_resource(self, parent_id: str, path_part: str) -> Record:
        parent = self.resource(parent_id)
        self._check_path_part(parent, path_part, None)
        resource_id = self.new_id(self.state["resources"])
        resource: Record = {
            "id": resource_id,
            "parentId": parent_id,
            "pathPart": path_part,
            "path": _join(parent["path"], path_part),
            "resourceMethods": {},
        }
        self.state["resources"][resource_id] = resource
        return resource

    def _check_path_part(self, parent: Record, path_part: str, moving: str | None) -> None:
        """AWS's rules for a path part under ``parent``; ``moving`` is a resource being renamed."""
        if not _PATH_PART.fullmatch(path_part):
            raise bad_request(
                "Resource's path part only allow a-zA-Z0-9._- and curly braces at the "
                "beginning and the end and an optional plus sign before the closing brace."
            )
        if parent.get("pathPart", "").endswith("+}"):
            raise bad_request(
                f"Cannot create a child of a resource with a greedy path variable: "
                f"{parent['pathPart']}"
            )
        for sibling in self.state["resources"].values():
            if sibling.get("parentId") != parent["id"] or sibling["id"] == moving:
                continue
            if sibling["pathPart"] == path_part:
                raise conflict(
                    f"Another resource with the same parent already has this name: {path_part}"
                )
            if path_part.startswith("{") and sibling["pathPart"].startswith("{"):
                raise bad_request(
                    f"A sibling ({sibling['id']}) of this resource already has a variable "
                    "path part -- only one is allowed"
                )

    def check_resource_move(self, resource: Record) -> None:
        """Validate a patched resource (new ``parentId`` or ``pathPart``); ``repath`` follows."""
        parent = self.resource(resource["parentId"])
        self._check_path_part(parent, resource["pathPart"], resource["id"])
        ancestor: Record | None = parent
        while ancestor is not None:
            if ancestor["id"] == resource["id"]:
                raise bad_request("A resource cannot be moved under itself or its descendants")
            ancestor = self.state["resources"].get(ancestor.get("parentId", ""))

    def repath(self) -> None:
        """Recompute every resource's ``path`` after a resource moved or was renamed."""
        resources = self.state["resources"]

        def path(resource: Record) -> str:
            if "parentId" not in resource:
                return "/"
            return _join(path(resources[resource["parentId"]]), resource["pathPart"])

        for resource in resources.values():
            resource["path"] = path(resource)

    def delete_resource(self, resource_id: str) -> None:
        resource = self.resource(resource_id)
        if "parentId" not in resource:
            raise bad_request("Cannot delete root resource")
        doomed = {resource_id}
        grew = True
        while grew:
            children = {
                r["id"] for r in self.state["resources"].values() if r.get("parentId") in doomed
            }
            grew = not children <= doomed
            doomed |= children
        for gone in doomed:
            del self.state["resources"][gone]

    def ensure_path(self, path: str) -> Record:
        """The resource at ``path``, creating missing ones on the way (imports)."""
        resource = self.state["resources"][self.state["api"]["rootResourceId"]]
        for part in filter(None, path.split("/")):
            resource = self.child(resource["id"], part) or self.add_resource(resource["id"], part)
        return resource

    # Methods and integrations

    def method(self, resource_id: str, http_method: str) -> Record:
        try:
            method: Record = self.resource(resource_id)["resourceMethods"][http_method]
        except KeyError:
            raise invalid_identifier("Method") from None
        return method

    def put_method(self, resource_id: str, http_method: str, fields: Record) -> Record:
        resource = self.resource(resource_id)
        if http_method in resource["resourceMethods"]:
            raise conflict("Method already exists for this resource")
        self._check_authorization(fields)
        method: Record = {"httpMethod": http_method, "apiKeyRequired": False, **fields}
        resource["resourceMethods"][http_method] = method
        return method

    def _check_authorization(self, fields: Mapping[str, Any]) -> None:
        kind = fields.get("authorizationType", "NONE")
        if kind not in AUTHORIZATION_TYPES:
            raise bad_request(f"Invalid authorization type specified: {kind}")
        if kind in ("CUSTOM", "COGNITO_USER_POOLS") and (
            fields.get("authorizerId") not in self.state["authorizers"]
        ):
            raise bad_request("Invalid authorizer ID specified")

    def check_method(self, method: Record) -> None:
        """Validate a patched method."""
        self._check_authorization(method)

    def put_integration(self, resource_id: str, http_method: str, fields: Record) -> Record:
        method = self.method(resource_id, http_method)
        integration: Record = {
            "passthroughBehavior": "WHEN_NO_MATCH",
            "timeoutInMillis": DEFAULT_TIMEOUT_MS,
            "cacheNamespace": resource_id,
            "cacheKeyParameters": [],
            **fields,
        }
        check_integration(integration)
        method["methodIntegration"] = integration
        return integration

    def integration(self, resource_id: str, http_method: str) -> Record:
        method = self.method(resource_id, http_method)
        if "methodIntegration" not in method:
            raise not_found("No integration defined for method")
        integration: Record = method["methodIntegration"]
        return integration

    # Authorizers

    def add_authorizer(self, fields: Record) -> Record:
        kind = fields.get("type")
        if kind not in AUTHORIZER_TYPES:
            raise bad_request(f"Invalid authorizer type specified: {kind}")
        if kind != "COGNITO_USER_POOLS" and not fields.get("authorizerUri"):
            raise bad_request("Authorizer URI must be specified for TOKEN and REQUEST authorizers")
        authorizer_id = self.new_id(self.state["authorizers"])
        authorizer: Record = {
            "id": authorizer_id,
            "authorizerResultTtlInSeconds": DEFAULT_AUTHORIZER_TTL,
            **fields,
        }
        self.state["authorizers"][authorizer_id] = authorizer
        return authorizer

    def authorizer(self, authorizer_id: str) -> Record:
        try:
            return self.state["authorizers"][authorizer_id]
        except KeyError:
            raise invalid_identifier("Authorizer") from None

    # Deployments and stages

    def deploy(self, description: str | None) -> Record:
        """Snapshot the API as it is now; stages serve snapshots, never the live API."""
        resources = self.state["resources"]
        if not any(resource["resourceMethods"] for resource in resources.values()):
            raise bad_request("The REST API doesn't contain any methods")
        deployment_id = self.new_id(self.state["deployments"])
        deployment: Record = {"id": deployment_id, "createdDate": self.now}
        if description is not None:
            deployment["description"] = description
        self.state["deployments"][deployment_id] = deployment
        self.state["snapshots"][deployment_id] = {
            "resources": copy.deepcopy(resources),
            "authorizers": copy.deepcopy(self.state["authorizers"]),
            "gatewayResponses": copy.deepcopy(self.state.get("gatewayResponses", {})),
        }
        return deployment

    def deployment(self, deployment_id: str) -> Record:
        try:
            return self.state["deployments"][deployment_id]
        except KeyError:
            raise invalid_identifier("Deployment") from None

    def api_summary(self, deployment_id: str) -> dict[str, dict[str, Record]]:
        """GetDeployment's ``apiSummary``: each path's methods as deployed."""
        resources = self.state["snapshots"][deployment_id]["resources"].values()
        return {
            resource["path"]: {
                name: {
                    "authorizationType": method.get("authorizationType", "NONE"),
                    "apiKeyRequired": method.get("apiKeyRequired", False),
                }
                for name, method in resource["resourceMethods"].items()
            }
            for resource in resources
            if resource["resourceMethods"]
        }

    def put_stage(self, name: str, deployment_id: str, fields: Record) -> Record:
        self.deployment(deployment_id)
        stage: Record = {
            "stageName": name,
            "deploymentId": deployment_id,
            "cacheClusterEnabled": False,
            "cacheClusterStatus": "NOT_AVAILABLE",
            "tracingEnabled": False,
            "methodSettings": {},
            "createdDate": self.now,
            "lastUpdatedDate": self.now,
            **fields,
        }
        self.state["stages"][name] = stage
        return stage

    def stage(self, name: str) -> Record:
        try:
            return self.state["stages"][name]
        except KeyError:
            raise invalid_identifier("Stage") from None


def check_integration(integration: Mapping[str, Any]) -> None:
    """The checks PutIntegration and UpdateIntegration share."""
    kind = integration.get("type")
    if kind not in INTEGRATION_TYPES:
        raise bad_request(f"Invalid integration type specified: {kind}")
    if kind == "MOCK":
        return
    if not integration.get("httpMethod"):
        raise bad_request("Enumeration value for HttpMethod must be non-empty")
    if not integration.get("uri"):
        raise bad_request("Invalid integration URI specified")
    if kind == "AWS_PROXY" and ":lambda:path/" not in integration["uri"]:
        raise bad_request(
            "Integrations of type 'AWS_PROXY' currently only supports Lambda function "
            "and Firehose stream invocations."
        )


def _join(parent_path: str, path_part: str) -> str:
    return f"{parent_path.rstrip('/')}/{path_part}"
