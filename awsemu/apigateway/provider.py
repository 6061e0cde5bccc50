"""
API Gateway's REST API control plane: APIs, resources, methods,
integrations and their responses, authorizers, deployments, stages, and
OpenAPI imports; gateway responses (``responses``), usage plans and API
keys (``usageplans``) join them in ``ApiGatewayProvider``. APIs live per
account and region; records are returned in AWS's shapes as the store
keeps them (see ``awsemu.apigateway.store``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

import attrs

from awsemu.apigateway import openapi
from awsemu.apigateway.api import (
    INTEGRATION_FIELDS,
    METHOD_FIELDS,
    RestApi,
    check_integration,
    given,
    new_api_state,
)
from awsemu.apigateway.base import Output, page
from awsemu.apigateway.errors import bad_request, conflict, not_found
from awsemu.apigateway.responses import GatewayResponseOperations
from awsemu.apigateway.store import ApiState, Record
from awsemu.apigateway.usageplans import UsagePlanOperations
from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import Params
from awsemu.state.ids import short_id
from awsemu.state.jsonfile import saving

API_FIELDS: Final = (
    "name",
    "description",
    "version",
    "binaryMediaTypes",
    "minimumCompressionSize",
    "apiKeySource",
    "endpointConfiguration",
    "policy",
    "tags",
    "disableExecuteApiEndpoint",
)
STAGE_FIELDS: Final = (
    "description",
    "cacheClusterEnabled",
    "cacheClusterSize",
    "variables",
    "documentationVersion",
    "canarySettings",
    "tracingEnabled",
    "tags",
)
AUTHORIZER_FIELDS: Final = (
    "name",
    "type",
    "providerARNs",
    "authType",
    "authorizerUri",
    "authorizerCredentials",
    "identitySource",
    "identityValidationExpression",
    "authorizerResultTtlInSeconds",
)
METHOD_RESPONSE_FIELDS: Final = ("responseParameters", "responseModels")
INTEGRATION_RESPONSE_FIELDS: Final = (
    "selectionPattern",
    "responseParameters",
    "responseTemplates",
    "contentHandling",
)

PATCHABLE: Final[Mapping[str, frozenset[str]]] = {
    "RestApi": frozenset(API_FIELDS) - {"tags"},
    "Resource": frozenset({"parentId", "pathPart"}),
    "Method": frozenset(METHOD_FIELDS),
    "Integration": frozenset(INTEGRATION_FIELDS) | {"httpMethod"},
    "Stage": frozenset(STAGE_FIELDS) - {"tags"} | {"deploymentId", "methodSettings"},
    "Authorizer": frozenset(AUTHORIZER_FIELDS) - {"type"},
}
"""The members each Update operation may patch, by record shape."""


_TAGGABLE_ARN: Final = re.compile(
    r"arn:aws:apigateway:(?P<region>[^:]+)::"
    r"(?:/restapis/(?P<api>[^/]+)(?:/stages/(?P<stage>[^/]+))?"
    r"|/usageplans/(?P<plan>[^/]+)|/apikeys/(?P<key>[^/]+))"
)


def _resource_output(resource: Record, embed: list[str]) -> Record:
    """A Resource; its methods in full only with ``embed=methods``, else just their names."""
    output = {key: value for key, value in resource.items() if key != "resourceMethods"}
    methods = resource["resourceMethods"]
    if methods:
        output["resourceMethods"] = (
            methods if "methods" in embed else {name: {} for name in methods}
        )
    return output


def _check_name(record: Record) -> None:
    if not record.get("name"):
        raise bad_request("The name must not be empty")


@attrs.frozen
class _Responses:
    """Method responses and integration responses are kept and served alike."""

    owner: Callable[[RestApi, str, str], Record]
    key: str
    fields: tuple[str, ...]


_RESPONSES: Final[Mapping[str, _Responses]] = {
    "method": _Responses(RestApi.method, "methodResponses", METHOD_RESPONSE_FIELDS),
    "integration": _Responses(
        RestApi.integration, "integrationResponses", INTEGRATION_RESPONSE_FIELDS
    ),
}


class ApiGatewayProvider(GatewayResponseOperations, UsagePlanOperations):
    """See the module docstring; gateway responses, usage plans and keys live apart."""

    # APIs

    def _new_api(self, context: RequestContext, fields: Record) -> RestApi:
        api_id = short_id(self.random, self.store.api_ids)
        state = new_api_state(api_id, short_id(self.random), fields, context.started)
        self.store.add(context.account_id, context.region, state)
        return RestApi(state, self.random, context.started)

    @saving
    async def create_rest_api(self, context: RequestContext, params: Params) -> Output:
        if "cloneFrom" in params:
            raise bad_request("cloneFrom is not supported by awsemu")
        return self._new_api(context, given(params, API_FIELDS)).state["api"]

    async def get_rest_api(self, context: RequestContext, params: Params) -> Output:
        return self._api(context, params).state["api"]

    async def get_rest_apis(self, context: RequestContext, params: Params) -> Output:
        apis = self.store.region(context.account_id, context.region).values()
        return page([state["api"] for state in apis], params)

    @saving
    async def update_rest_api(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params).state["api"]
        self._patch(api, "RestApi", params, PATCHABLE["RestApi"], _check_name)
        return api

    @saving
    async def delete_rest_api(self, context: RequestContext, params: Params) -> Output:
        self._api(context, params)
        self.store.remove(context.account_id, context.region, params["restApiId"])
        return {}

    @saving
    async def import_rest_api(self, context: RequestContext, params: Params) -> Output:
        document = openapi.parse_document(params["body"])
        fields = openapi.api_fields(document)
        types = params.get("parameters", {}).get("endpointConfigurationTypes")
        if types is not None:
            fields["endpointConfiguration"] = {"types": types.split(",")}
        api = self._new_api(context, fields)
        openapi.build(api, document)
        return api.state["api"]

    @saving
    async def put_rest_api(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        document = openapi.parse_document(params["body"])
        mode = params.get("mode", "merge")
        if mode not in ("merge", "overwrite"):
            raise bad_request(f"Invalid mode specified: {mode}")
        state: ApiState = api.state
        if mode == "overwrite":
            root_id = state["api"]["rootResourceId"]
            state["resources"] = {root_id: {"id": root_id, "path": "/", "resourceMethods": {}}}
            state["authorizers"] = {}
            state["gatewayResponses"] = {}
            state["api"].update(openapi.api_fields(document))
        openapi.build(api, document)
        return state["api"]

    # Tags

    def _tagged(self, context: RequestContext, params: Params) -> Record:
        """
        The API, stage, usage plan or API key an ARN names
        (``arn:aws:apigateway:<region>::/restapis/<id>[/stages/<name>]``,
        ``::/usageplans/<id>``, ``::/apikeys/<id>``).
        """
        found = _TAGGABLE_ARN.fullmatch(params["resourceArn"])
        if found is None or found["region"] != context.region:
            raise not_found(f"Invalid resource identifier specified {params['resourceArn']}")
        if found["plan"] is not None:
            return self._plan(context, found["plan"])
        if found["key"] is not None:
            return self._key(context, found["key"])
        api = self._api(context, {"restApiId": found["api"]})
        return api.state["api"] if found["stage"] is None else api.stage(found["stage"])

    @saving
    async def tag_resource(self, context: RequestContext, params: Params) -> Output:
        self._tagged(context, params).setdefault("tags", {}).update(params["tags"])
        return {}

    @saving
    async def untag_resource(self, context: RequestContext, params: Params) -> Output:
        tags = self._tagged(context, params).get("tags", {})
        for key in params["tagKeys"]:
            tags.pop(key, None)
        return {}

    async def get_tags(self, context: RequestContext, params: Params) -> Output:
        return {"tags": self._tagged(context, params).get("tags", {})}

    # Resources

    async def get_resources(self, context: RequestContext, params: Params) -> Output:
        resources = self._api(context, params).state["resources"].values()
        embed = params.get("embed", [])
        return page([_resource_output(r, embed) for r in resources], params)

    async def get_resource(self, context: RequestContext, params: Params) -> Output:
        resource = self._api(context, params).resource(params["resourceId"])
        return _resource_output(resource, params.get("embed", []))

    @saving
    async def create_resource(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        return _resource_output(api.add_resource(params["parentId"], params["pathPart"]), [])

    @saving
    async def update_resource(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        resource = api.resource(params["resourceId"])
        if "parentId" not in resource:
            raise bad_request("Cannot modify the root resource")
        self._patch(resource, "Resource", params, PATCHABLE["Resource"], api.check_resource_move)
        api.repath()
        return _resource_output(resource, [])

    @saving
    async def delete_resource(self, context: RequestContext, params: Params) -> Output:
        self._api(context, params).delete_resource(params["resourceId"])
        return {}

    # Methods

    @saving
    async def put_method(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        return api.put_method(
            params["resourceId"], params["httpMethod"], given(params, METHOD_FIELDS)
        )

    async def get_method(self, context: RequestContext, params: Params) -> Output:
        return self._api(context, params).method(params["resourceId"], params["httpMethod"])

    @saving
    async def update_method(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        method = api.method(params["resourceId"], params["httpMethod"])
        self._patch(method, "Method", params, PATCHABLE["Method"], api.check_method)
        return method

    @saving
    async def delete_method(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        api.method(params["resourceId"], params["httpMethod"])
        del api.resource(params["resourceId"])["resourceMethods"][params["httpMethod"]]
        return {}

    # Integrations

    @saving
    async def put_integration(self, context: RequestContext, params: Params) -> Output:
        fields = given(params, INTEGRATION_FIELDS)
        if "integrationHttpMethod" in params:
            fields["httpMethod"] = params["integrationHttpMethod"]
        api = self._api(context, params)
        return api.put_integration(params["resourceId"], params["httpMethod"], fields)

    async def get_integration(self, context: RequestContext, params: Params) -> Output:
        return self._api(context, params).integration(params["resourceId"], params["httpMethod"])

    @saving
    async def update_integration(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        integration = api.integration(params["resourceId"], params["httpMethod"])
        self._patch(integration, "Integration", params, PATCHABLE["Integration"], check_integration)
        return integration

    @saving
    async def delete_integration(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        api.integration(params["resourceId"], params["httpMethod"])
        del api.method(params["resourceId"], params["httpMethod"])["methodIntegration"]
        return {}

    # Method and integration responses

    def _responses(self, context: RequestContext, params: Params, kind: str) -> dict[str, Record]:
        table = _RESPONSES[kind]
        owner = table.owner(self._api(context, params), params["resourceId"], params["httpMethod"])
        responses: dict[str, Record] = owner.setdefault(table.key, {})
        return responses

    def _response(self, context: RequestContext, params: Params, kind: str) -> Record:
        try:
            return self._responses(context, params, kind)[params["statusCode"]]
        except KeyError:
            raise not_found("Invalid Response status code specified") from None

    def _put_response(self, context: RequestContext, params: Params, kind: str) -> Record:
        record = {"statusCode": params["statusCode"], **given(params, _RESPONSES[kind].fields)}
        self._responses(context, params, kind)[params["statusCode"]] = record
        return record

    def _delete_response(self, context: RequestContext, params: Params, kind: str) -> Output:
        self._response(context, params, kind)
        del self._responses(context, params, kind)[params["statusCode"]]
        return {}

    @saving
    async def put_method_response(self, context: RequestContext, params: Params) -> Output:
        return self._put_response(context, params, "method")

    async def get_method_response(self, context: RequestContext, params: Params) -> Output:
        return self._response(context, params, "method")

    @saving
    async def delete_method_response(self, context: RequestContext, params: Params) -> Output:
        return self._delete_response(context, params, "method")

    @saving
    async def put_integration_response(self, context: RequestContext, params: Params) -> Output:
        return self._put_response(context, params, "integration")

    async def get_integration_response(self, context: RequestContext, params: Params) -> Output:
        return self._response(context, params, "integration")

    @saving
    async def delete_integration_response(self, context: RequestContext, params: Params) -> Output:
        return self._delete_response(context, params, "integration")

    # Authorizers

    @saving
    async def create_authorizer(self, context: RequestContext, params: Params) -> Output:
        return self._api(context, params).add_authorizer(given(params, AUTHORIZER_FIELDS))

    async def get_authorizer(self, context: RequestContext, params: Params) -> Output:
        return self._api(context, params).authorizer(params["authorizerId"])

    async def get_authorizers(self, context: RequestContext, params: Params) -> Output:
        authorizers = self._api(context, params).state["authorizers"].values()
        return page(list(authorizers), params)

    @saving
    async def update_authorizer(self, context: RequestContext, params: Params) -> Output:
        authorizer = self._api(context, params).authorizer(params["authorizerId"])
        self._patch(authorizer, "Authorizer", params, PATCHABLE["Authorizer"], _check_name)
        return authorizer

    @saving
    async def delete_authorizer(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        authorizer_id = params["authorizerId"]
        api.authorizer(authorizer_id)
        for resource in api.state["resources"].values():
            for method in resource["resourceMethods"].values():
                if method.get("authorizerId") == authorizer_id:
                    raise conflict(
                        f"Cannot delete authorizer '{authorizer_id}', is referenced in method: "
                        f"{method['httpMethod']}{resource['path']}"
                    )
        del api.state["authorizers"][authorizer_id]
        return {}

    # Deployments and stages

    @saving
    async def create_deployment(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        deployment = api.deploy(params.get("description"))
        name = params.get("stageName")
        # An empty name (Terraform's aws_api_gateway_deployment sends one)
        # creates no stage, as on AWS.
        if name:
            fields = given(params, ("variables", "tracingEnabled", "cacheClusterEnabled"))
            if "stageDescription" in params:
                fields["description"] = params["stageDescription"]
            existing = api.state["stages"].get(name)
            if existing is None:
                api.put_stage(name, deployment["id"], fields)
            else:
                existing.update(fields, deploymentId=deployment["id"], lastUpdatedDate=api.now)
        return deployment

    async def get_deployment(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        deployment = api.deployment(params["deploymentId"])
        if "apiSummary" in params.get("embed", []):
            return {**deployment, "apiSummary": api.api_summary(deployment["id"])}
        return deployment

    async def get_deployments(self, context: RequestContext, params: Params) -> Output:
        return page(list(self._api(context, params).state["deployments"].values()), params)

    @saving
    async def delete_deployment(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        deployment_id = api.deployment(params["deploymentId"])["id"]
        if any(stage["deploymentId"] == deployment_id for stage in api.state["stages"].values()):
            raise bad_request("Active stages pointing to this deployment must be moved or deleted")
        del api.state["deployments"][deployment_id]
        del api.state["snapshots"][deployment_id]
        return {}

    @saving
    async def create_stage(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        name = params["stageName"]
        if name in api.state["stages"]:
            raise conflict("Stage already exists")
        return api.put_stage(name, params["deploymentId"], given(params, STAGE_FIELDS))

    async def get_stage(self, context: RequestContext, params: Params) -> Output:
        return self._api(context, params).stage(params["stageName"])

    async def get_stages(self, context: RequestContext, params: Params) -> Output:
        stages = self._api(context, params).state["stages"].values()
        wanted = params.get("deploymentId")
        return {"item": [s for s in stages if wanted in (None, s["deploymentId"])]}

    @saving
    async def update_stage(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        stage = api.stage(params["stageName"])
        self._patch(
            stage,
            "Stage",
            params,
            PATCHABLE["Stage"],
            lambda patched: api.deployment(patched["deploymentId"]),
        )
        stage["lastUpdatedDate"] = api.now
        return stage

    @saving
    async def delete_stage(self, context: RequestContext, params: Params) -> Output:
        api = self._api(context, params)
        api.stage(params["stageName"])
        del api.state["stages"][params["stageName"]]
        return {}
