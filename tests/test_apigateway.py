"""API Gateway's control plane: the provider over a memory store, then the real daemon."""

from __future__ import annotations

import json
import os
import random
from typing import Any

from botocore.exceptions import ClientError
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from awsemu.apigateway.provider import ApiGatewayProvider
from awsemu.apigateway.store import ApiGatewayStore
from awsemu.gateway.context import RequestContext
from awsemu.state.jsonfile import JsonFile
from tests.daemon import Daemon
from tests.provider_support import ProviderTestCase

ACCOUNT = "111111111111"
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:app"
LAMBDA_URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION}/invocations"
AUTHORIZER_URI = LAMBDA_URI.replace("function:app", "function:auth")

OPENAPI: dict[str, Any] = {
    "openapi": "3.0.1",
    "info": {"title": "petstore", "version": "1.0", "description": "pets"},
    "x-amazon-apigateway-binary-media-types": ["image/png"],
    "paths": {
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True}],
            "get": {
                "operationId": "getPet",
                "parameters": [{"name": "verbose", "in": "query"}],
                "responses": {"200": {"description": "ok", "headers": {"X-Pet": {}}}},
                "security": [{"tokenAuth": []}],
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "httpMethod": "POST",
                    "uri": LAMBDA_URI,
                    "passthroughBehavior": "when_no_match",
                },
            },
        },
        "/{proxy+}": {
            "x-amazon-apigateway-any-method": {
                "x-amazon-apigateway-integration": {
                    "type": "http_proxy",
                    "httpMethod": "ANY",
                    "uri": "http://example.com/{proxy}",
                    "requestParameters": {
                        "integration.request.path.proxy": "method.request.path.proxy"
                    },
                }
            }
        },
        "/health": {
            "options": {
                "x-amazon-apigateway-integration": {
                    "type": "mock",
                    "requestTemplates": {"application/json": '{"statusCode": 200}'},
                    "responses": {"default": {"statusCode": "200"}},
                }
            }
        },
    },
    "components": {
        "securitySchemes": {
            "tokenAuth": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {
                    "type": "token",
                    "authorizerUri": AUTHORIZER_URI,
                    "authorizerResultTtlInSeconds": 60,
                },
            }
        }
    },
}

SWAGGER_YAML = b"""
swagger: "2.0"
info:
  title: renamed
paths:
  /items:
    post:
      security:
        - sigv4: []
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: URI
securityDefinitions:
  sigv4:
    type: apiKey
    name: Authorization
    in: header
    x-amazon-apigateway-authtype: awsSigv4
""".replace(b"URI", LAMBDA_URI.encode())


def context(account: str = ACCOUNT, region: str = "us-east-1") -> RequestContext:
    return RequestContext("req", account, region, "apigateway", None, 1000.0)


class ProviderCase(ProviderTestCase):
    def setUp(self) -> None:
        self.store = ApiGatewayStore()
        self.provider = ApiGatewayProvider(self.store, random.Random(0).randbytes)

    def api(self, **fields: Any) -> dict[str, Any]:
        return self.call(self.provider.create_rest_api(context(), {"name": "api", **fields}))

    def resource(self, api: dict[str, Any], parent: str, part: str) -> dict[str, Any]:
        return self.call(
            self.provider.create_resource(
                context(), {"restApiId": api["id"], "parentId": parent, "pathPart": part}
            )
        )

    def lambda_method(self, api: dict[str, Any], resource_id: str, method: str = "ANY") -> None:
        named = {"restApiId": api["id"], "resourceId": resource_id, "httpMethod": method}
        self.call(self.provider.put_method(context(), {**named, "authorizationType": "NONE"}))
        self.call(
            self.provider.put_integration(
                context(),
                {**named, "type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": LAMBDA_URI},
            )
        )


class RestApiTests(ProviderCase):
    def test_create(self) -> None:
        """An API gets a 10-character id, a root resource and AWS's defaults."""
        api = self.api(binaryMediaTypes=["image/png"], tags={"team": "a"})
        self.assertRegex(api["id"], "^[a-z0-9]{10}$")
        self.assertEqual(api["endpointConfiguration"], {"types": ["EDGE"]})
        self.assertEqual((api["binaryMediaTypes"], api["tags"]), (["image/png"], {"team": "a"}))
        resources = self.call(self.provider.get_resources(context(), {"restApiId": api["id"]}))
        self.assertEqual(resources["items"], [{"id": api["rootResourceId"], "path": "/"}])

    def test_per_account_and_region(self) -> None:
        """An API is invisible from other accounts and regions, with AWS's message."""
        api = self.api()
        for elsewhere in (context("222222222222"), context(region="eu-west-1")):
            self.assertError(
                self.provider.get_rest_api(elsewhere, {"restApiId": api["id"]}),
                "NotFoundException",
                f"Invalid API identifier specified {elsewhere.account_id}:{api['id']}",
                404,
            )

    def test_patch(self) -> None:
        """UpdateRestApi applies patch operations, with values typed by the model."""
        api = self.api(binaryMediaTypes=["image/png"])
        patched = self.call(
            self.provider.update_rest_api(
                context(),
                {
                    "restApiId": api["id"],
                    "patchOperations": [
                        {"op": "replace", "path": "/description", "value": "new"},
                        {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"},
                        {"op": "remove", "path": "/binaryMediaTypes/image~1png"},
                        {
                            "op": "replace",
                            "path": "/endpointConfiguration/types/EDGE",
                            "value": "REGIONAL",
                        },
                        {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"},
                    ],
                },
            )
        )
        self.assertEqual(patched["description"], "new")
        self.assertEqual(patched["binaryMediaTypes"], ["image/jpeg"])
        self.assertEqual(patched["endpointConfiguration"], {"types": ["REGIONAL"]})
        self.assertIs(patched["disableExecuteApiEndpoint"], True)
        error = self.error(
            self.provider.update_rest_api(
                context(),
                {
                    "restApiId": api["id"],
                    "patchOperations": [
                        {"op": "replace", "path": "/description", "value": "lost"},
                        {"op": "replace", "path": "/id", "value": "x"},
                    ],
                },
            )
        )
        self.assertEqual(error.code, "BadRequestException")
        got = self.call(self.provider.get_rest_api(context(), {"restApiId": api["id"]}))
        self.assertEqual(got["description"], "new")

    def test_tags(self) -> None:
        """APIs and stages are tagged by ARN, as Terraform does after creating them."""
        api = self.api(tags={"a": "1"})
        arn = f"arn:aws:apigateway:us-east-1::/restapis/{api['id']}"
        self.call(self.provider.tag_resource(context(), {"resourceArn": arn, "tags": {"b": "2"}}))
        self.call(self.provider.untag_resource(context(), {"resourceArn": arn, "tagKeys": ["a"]}))
        self.assertEqual(
            self.call(self.provider.get_tags(context(), {"resourceArn": arn})), {"tags": {"b": "2"}}
        )
        self.assertEqual(
            self.error(
                self.provider.get_tags(context(), {"resourceArn": arn + "/stages/nope"})
            ).message,
            "Invalid Stage identifier specified",
        )

    def test_pages(self) -> None:
        for _ in range(3):
            self.api()
        first = self.call(self.provider.get_rest_apis(context(), {"limit": 2}))
        self.assertEqual((len(first["items"]), first["position"]), (2, "2"))
        rest = self.call(self.provider.get_rest_apis(context(), {"limit": 2, "position": "2"}))
        self.assertEqual((len(rest["items"]), "position" in rest), (1, False))


class ResourceTests(ProviderCase):
    def test_tree(self) -> None:
        """Paths nest; variables and greedy variables follow AWS's rules."""
        api = self.api()
        root = api["rootResourceId"]
        pets = self.resource(api, root, "pets")
        pet = self.resource(api, pets["id"], "{petId}")
        self.assertEqual(pet["path"], "/pets/{petId}")
        proxy = self.resource(api, root, "{proxy+}")
        self.assertEqual(proxy["path"], "/{proxy+}")
        self.assertError(
            self.provider.create_resource(
                context(), {"restApiId": api["id"], "parentId": root, "pathPart": "pets"}
            ),
            "ConflictException",
            "Another resource with the same parent already has this name: pets",
            409,
        )
        self.assertEqual(
            self.error(
                self.provider.create_resource(
                    context(), {"restApiId": api["id"], "parentId": pets["id"], "pathPart": "{id}"}
                )
            ).code,
            "BadRequestException",
        )
        self.assertEqual(
            self.error(
                self.provider.create_resource(
                    context(), {"restApiId": api["id"], "parentId": proxy["id"], "pathPart": "x"}
                )
            ).code,
            "BadRequestException",
        )
        self.assertError(
            self.provider.get_resource(context(), {"restApiId": api["id"], "resourceId": "nope"}),
            "NotFoundException",
            "Invalid Resource identifier specified",
            404,
        )

    def test_rename_and_delete(self) -> None:
        """Renaming re-paths the subtree; deleting removes it."""
        api = self.api()
        pets = self.resource(api, api["rootResourceId"], "pets")
        pet = self.resource(api, pets["id"], "{petId}")
        self.call(
            self.provider.update_resource(
                context(),
                {
                    "restApiId": api["id"],
                    "resourceId": pets["id"],
                    "patchOperations": [{"op": "replace", "path": "/pathPart", "value": "animals"}],
                },
            )
        )
        got = self.call(
            self.provider.get_resource(context(), {"restApiId": api["id"], "resourceId": pet["id"]})
        )
        self.assertEqual(got["path"], "/animals/{petId}")
        self.call(
            self.provider.delete_resource(
                context(), {"restApiId": api["id"], "resourceId": pets["id"]}
            )
        )
        items = self.call(self.provider.get_resources(context(), {"restApiId": api["id"]}))["items"]
        self.assertEqual([r["path"] for r in items], ["/"])

    def test_methods(self) -> None:
        """Methods, integrations and their responses; ``embed=methods`` shows them in full."""
        api = self.api()
        root = api["rootResourceId"]
        named = {"restApiId": api["id"], "resourceId": root, "httpMethod": "GET"}
        method = self.call(
            self.provider.put_method(
                context(),
                {
                    **named,
                    "authorizationType": "AWS_IAM",
                    "requestParameters": {"method.request.querystring.q": False},
                },
            )
        )
        self.assertEqual(method["apiKeyRequired"], False)
        self.assertError(
            self.provider.put_method(context(), {**named, "authorizationType": "NONE"}),
            "ConflictException",
            "Method already exists for this resource",
            409,
        )
        self.assertError(
            self.provider.get_integration(context(), named),
            "NotFoundException",
            "No integration defined for method",
            404,
        )
        self.call(self.provider.put_integration(context(), {**named, "type": "MOCK"}))
        self.call(self.provider.put_method_response(context(), {**named, "statusCode": "200"}))
        self.call(
            self.provider.put_integration_response(
                context(), {**named, "statusCode": "200", "selectionPattern": ""}
            )
        )
        embedded = self.call(
            self.provider.get_resource(
                context(), {"restApiId": api["id"], "resourceId": root, "embed": ["methods"]}
            )
        )["resourceMethods"]["GET"]
        self.assertEqual(embedded["methodResponses"], {"200": {"statusCode": "200"}})
        self.assertEqual(embedded["methodIntegration"]["type"], "MOCK")
        self.assertEqual(
            embedded["methodIntegration"]["integrationResponses"],
            {"200": {"statusCode": "200", "selectionPattern": ""}},
        )
        plain = self.call(
            self.provider.get_resource(context(), {"restApiId": api["id"], "resourceId": root})
        )
        self.assertEqual(plain["resourceMethods"], {"GET": {}})
        self.call(self.provider.delete_method(context(), named))
        self.assertError(
            self.provider.get_method(context(), named),
            "NotFoundException",
            "Invalid Method identifier specified",
            404,
        )

    def test_integration_checks(self) -> None:
        api = self.api()
        named = {"restApiId": api["id"], "resourceId": api["rootResourceId"], "httpMethod": "GET"}
        self.call(self.provider.put_method(context(), {**named, "authorizationType": "NONE"}))
        self.assertEqual(
            self.error(
                self.provider.put_integration(
                    context(), {**named, "type": "AWS_PROXY", "integrationHttpMethod": "POST"}
                )
            ).message,
            "Invalid integration URI specified",
        )

    def test_authorizers(self) -> None:
        """A Lambda authorizer protects CUSTOM methods and cannot go while one uses it."""
        api = self.api()
        authorizer = self.call(
            self.provider.create_authorizer(
                context(),
                {
                    "restApiId": api["id"],
                    "name": "auth",
                    "type": "REQUEST",
                    "authorizerUri": AUTHORIZER_URI,
                    "identitySource": "method.request.header.Authorization",
                },
            )
        )
        self.assertEqual(authorizer["authorizerResultTtlInSeconds"], 300)
        named = {"restApiId": api["id"], "resourceId": api["rootResourceId"], "httpMethod": "GET"}
        self.assertEqual(
            self.error(
                self.provider.put_method(context(), {**named, "authorizationType": "CUSTOM"})
            ).message,
            "Invalid authorizer ID specified",
        )
        self.call(
            self.provider.put_method(
                context(),
                {**named, "authorizationType": "CUSTOM", "authorizerId": authorizer["id"]},
            )
        )
        by_id = {"restApiId": api["id"], "authorizerId": authorizer["id"]}
        self.assertEqual(
            self.error(self.provider.delete_authorizer(context(), by_id)).code, "ConflictException"
        )
        self.call(self.provider.delete_method(context(), named))
        self.call(self.provider.delete_authorizer(context(), by_id))
        self.assertEqual(
            self.call(self.provider.get_authorizers(context(), {"restApiId": api["id"]}))["items"],
            [],
        )


class DeploymentTests(ProviderCase):
    def test_snapshot(self) -> None:
        """
        A stage serves the deployment's snapshot: changes after it are not
        visible to the data plane until a new deployment.
        """
        api = self.api()
        proxy = self.resource(api, api["rootResourceId"], "{proxy+}")
        self.lambda_method(api, proxy["id"])
        by_api = {"restApiId": api["id"]}
        self.assertIsNone(self.store.deployed_stage(api["id"], "dev"))
        first = self.call(
            self.provider.create_deployment(
                context(), {**by_api, "stageName": "dev", "variables": {"alias": "live"}}
            )
        )
        self.lambda_method(api, api["rootResourceId"], "GET")
        deployed = self.store.deployed_stage(api["id"], "dev")
        assert deployed is not None
        self.assertEqual((deployed.account, deployed.region), (ACCOUNT, "us-east-1"))
        self.assertEqual(deployed.stage["variables"], {"alias": "live"})
        paths = {r["path"]: r["resourceMethods"] for r in deployed.resources.values()}
        self.assertEqual(paths["/{proxy+}"]["ANY"]["methodIntegration"]["uri"], LAMBDA_URI)
        self.assertEqual(paths["/"], {})

        second = self.call(
            self.provider.create_deployment(context(), {**by_api, "stageName": "dev"})
        )
        deployed = self.store.deployed_stage(api["id"], "dev")
        assert deployed is not None
        self.assertEqual(deployed.stage["deploymentId"], second["id"])
        self.assertIn(
            "GET", {r["path"]: r["resourceMethods"] for r in deployed.resources.values()}["/"]
        )
        summary = self.call(
            self.provider.get_deployment(
                context(), {**by_api, "deploymentId": first["id"], "embed": ["apiSummary"]}
            )
        )["apiSummary"]
        self.assertEqual(
            summary, {"/{proxy+}": {"ANY": {"authorizationType": "NONE", "apiKeyRequired": False}}}
        )
        self.call(
            self.provider.delete_deployment(context(), {**by_api, "deploymentId": first["id"]})
        )
        self.assertEqual(
            self.error(
                self.provider.delete_deployment(context(), {**by_api, "deploymentId": second["id"]})
            ).message,
            "Active stages pointing to this deployment must be moved or deleted",
        )

    def test_empty_stage_name(self) -> None:
        """
        ``stageName: ""`` (Terraform sends it) creates no stage, as on AWS,
        so the deployment can be deleted.
        """
        api = self.api()
        self.lambda_method(api, api["rootResourceId"])
        by_api = {"restApiId": api["id"]}
        deployment = self.call(
            self.provider.create_deployment(context(), {**by_api, "stageName": ""})
        )
        self.assertEqual(self.call(self.provider.get_stages(context(), by_api))["item"], [])
        self.call(
            self.provider.delete_deployment(context(), {**by_api, "deploymentId": deployment["id"]})
        )

    def test_no_methods(self) -> None:
        api = self.api()
        self.assertError(
            self.provider.create_deployment(context(), {"restApiId": api["id"]}),
            "BadRequestException",
            "The REST API doesn't contain any methods",
            400,
        )

    def test_stages(self) -> None:
        """Stages are created once, patched (variables), listed and deleted."""
        api = self.api()
        self.lambda_method(api, api["rootResourceId"])
        by_api = {"restApiId": api["id"]}
        deployment = self.call(self.provider.create_deployment(context(), by_api))
        named = {**by_api, "stageName": "prod"}
        self.call(
            self.provider.create_stage(context(), {**named, "deploymentId": deployment["id"]})
        )
        self.assertError(
            self.provider.create_stage(context(), {**named, "deploymentId": deployment["id"]}),
            "ConflictException",
            "Stage already exists",
            409,
        )
        stage = self.call(
            self.provider.update_stage(
                context(),
                {
                    **named,
                    "patchOperations": [{"op": "replace", "path": "/variables/fn", "value": "app"}],
                },
            )
        )
        self.assertEqual(stage["variables"], {"fn": "app"})
        self.assertEqual(
            self.error(
                self.provider.update_stage(
                    context(),
                    {
                        **named,
                        "patchOperations": [
                            {"op": "replace", "path": "/deploymentId", "value": "nope"}
                        ],
                    },
                )
            ).message,
            "Invalid Deployment identifier specified",
        )
        settings = self.call(
            self.provider.update_stage(
                context(),
                {
                    **named,
                    "patchOperations": [
                        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
                        {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
                        {"op": "replace", "path": "/~1pets/GET/throttling/rateLimit", "value": "5"},
                    ],
                },
            )
        )["methodSettings"]
        self.assertEqual(
            settings,
            {
                "*/*": {"loggingLevel": "INFO", "metricsEnabled": True},
                "pets/GET": {"throttlingRateLimit": 5.0},
            },
        )
        stages = self.call(self.provider.get_stages(context(), by_api))["item"]
        self.assertEqual([s["deploymentId"] for s in stages], [deployment["id"]])
        self.call(self.provider.delete_stage(context(), named))
        self.assertError(
            self.provider.get_stage(context(), named),
            "NotFoundException",
            "Invalid Stage identifier specified",
            404,
        )


class ImportTests(ProviderCase):
    def test_openapi3(self) -> None:
        """An OpenAPI 3 document with API Gateway's extensions becomes the API it describes."""
        api = self.call(
            self.provider.import_rest_api(context(), {"body": json.dumps(OPENAPI).encode()})
        )
        self.assertEqual(
            (api["name"], api["description"], api["binaryMediaTypes"]),
            ("petstore", "pets", ["image/png"]),
        )
        items = self.call(
            self.provider.get_resources(context(), {"restApiId": api["id"], "embed": ["methods"]})
        )["items"]
        by_path = {r["path"]: r.get("resourceMethods", {}) for r in items}
        self.assertEqual(set(by_path), {"/", "/pets", "/pets/{petId}", "/{proxy+}", "/health"})
        get = by_path["/pets/{petId}"]["GET"]
        authorizer = self.call(self.provider.get_authorizers(context(), {"restApiId": api["id"]}))[
            "items"
        ][0]
        self.assertEqual(
            (get["authorizationType"], get["authorizerId"], get["operationName"]),
            ("CUSTOM", authorizer["id"], "getPet"),
        )
        self.assertEqual(
            get["requestParameters"],
            {"method.request.path.petId": True, "method.request.querystring.verbose": False},
        )
        self.assertEqual(
            get["methodResponses"],
            {
                "200": {
                    "statusCode": "200",
                    "responseParameters": {"method.response.header.X-Pet": False},
                }
            },
        )
        self.assertEqual(
            (get["methodIntegration"]["type"], get["methodIntegration"]["passthroughBehavior"]),
            ("AWS_PROXY", "WHEN_NO_MATCH"),
        )
        self.assertEqual(
            (
                authorizer["type"],
                authorizer["identitySource"],
                authorizer["authorizerResultTtlInSeconds"],
            ),
            ("TOKEN", "method.request.header.Authorization", 60),
        )
        self.assertEqual(by_path["/{proxy+}"]["ANY"]["methodIntegration"]["type"], "HTTP_PROXY")
        mock = by_path["/health"]["OPTIONS"]["methodIntegration"]
        self.assertEqual(mock["integrationResponses"], {"200": {"statusCode": "200"}})

    def test_endpoint_types(self) -> None:
        """ImportRestApi's ``endpointConfigurationTypes`` parameter sets the endpoint type."""
        api = self.call(
            self.provider.import_rest_api(
                context(),
                {
                    "body": json.dumps(OPENAPI).encode(),
                    "parameters": {"endpointConfigurationTypes": "REGIONAL"},
                },
            )
        )
        self.assertEqual(api["endpointConfiguration"], {"types": ["REGIONAL"]})

    def test_put_overwrite_yaml(self) -> None:
        """PutRestApi in overwrite mode replaces everything with a Swagger 2 (YAML) document."""
        api = self.call(
            self.provider.import_rest_api(context(), {"body": json.dumps(OPENAPI).encode()})
        )
        put = self.call(
            self.provider.put_rest_api(
                context(), {"restApiId": api["id"], "mode": "overwrite", "body": SWAGGER_YAML}
            )
        )
        self.assertEqual(put["name"], "renamed")
        items = self.call(
            self.provider.get_resources(context(), {"restApiId": api["id"], "embed": ["methods"]})
        )["items"]
        self.assertEqual({r["path"] for r in items}, {"/", "/items"})
        post = next(r for r in items if r["path"] == "/items")["resourceMethods"]["POST"]
        self.assertEqual(post["authorizationType"], "AWS_IAM")

    def test_put_merge(self) -> None:
        """PutRestApi's default mode merges: existing paths stay."""
        api = self.api()
        self.resource(api, api["rootResourceId"], "kept")
        self.call(
            self.provider.put_rest_api(context(), {"restApiId": api["id"], "body": SWAGGER_YAML})
        )
        items = self.call(self.provider.get_resources(context(), {"restApiId": api["id"]}))["items"]
        self.assertEqual({r["path"] for r in items}, {"/", "/kept", "/items"})

    def test_not_openapi(self) -> None:
        self.assertEqual(
            self.error(self.provider.import_rest_api(context(), {"body": b'{"a": 1}'})).code,
            "BadRequestException",
        )


class PersistenceTests(ProviderCase):
    def test_reopen(self) -> None:
        """APIs, deployments and the data plane's index survive reopening the file."""
        directory = FilePath(self.mktemp()).child("apigateway")
        file, plans = (
            JsonFile(directory.child("state.json")),
            JsonFile(directory.child("plans.json")),
        )
        self.store = ApiGatewayStore.open(file, plans)
        self.provider = ApiGatewayProvider(self.store, random.Random(0).randbytes)
        api = self.api()
        self.lambda_method(api, api["rootResourceId"])
        self.call(
            self.provider.create_deployment(context(), {"restApiId": api["id"], "stageName": "dev"})
        )
        reopened = ApiGatewayStore.open(file, plans)
        self.assertEqual(reopened.apis, self.store.apis)
        self.assertEqual(
            reopened.deployed_stage(api["id"], "dev"), self.store.deployed_stage(api["id"], "dev")
        )


class ApiGatewayEndToEndTests(SynchronousTestCase):
    def test_lambda_proxy_api(self) -> None:
        """
        What a deploy script does, through boto3 and the real daemon: a
        ``{proxy+}`` resource with a Lambda proxy integration, deployed to a
        stage, an import, AWS's errors; all of it survives a restart.
        """
        data_dir = os.path.abspath(self.mktemp())
        daemon = Daemon(self, "--services", "apigateway", "--data-dir", data_dir)
        client: Any = daemon.client("apigateway", access_key_id=ACCOUNT)
        api = client.create_rest_api(name="app", endpointConfiguration={"types": ["REGIONAL"]})
        proxy = client.create_resource(
            restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}"
        )
        client.put_method(
            restApiId=api["id"], resourceId=proxy["id"], httpMethod="ANY", authorizationType="NONE"
        )
        client.put_integration(
            restApiId=api["id"],
            resourceId=proxy["id"],
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=LAMBDA_URI,
        )
        client.create_deployment(restApiId=api["id"], stageName="dev")
        client.update_stage(
            restApiId=api["id"],
            stageName="dev",
            patchOperations=[{"op": "replace", "path": "/variables/color", "value": "blue"}],
        )
        imported = client.import_rest_api(body=json.dumps(OPENAPI).encode())
        with self.assertRaises(ClientError) as raised:
            client.get_rest_api(restApiId="missing000")
        self.assertEqual(
            raised.exception.response["Error"],
            {
                "Code": "NotFoundException",
                "Message": f"Invalid API identifier specified {ACCOUNT}:missing000",
            },
        )
        daemon.stop()

        again = Daemon(self, "--services", "apigateway", "--data-dir", data_dir)
        client = again.client("apigateway", access_key_id=ACCOUNT)
        self.assertEqual(
            sorted(a["name"] for a in client.get_rest_apis()["items"]), ["app", "petstore"]
        )
        integration = client.get_integration(
            restApiId=api["id"], resourceId=proxy["id"], httpMethod="ANY"
        )
        self.assertEqual((integration["type"], integration["uri"]), ("AWS_PROXY", LAMBDA_URI))
        self.assertEqual(
            client.get_stage(restApiId=api["id"], stageName="dev")["variables"], {"color": "blue"}
        )
        paths = {r["path"] for r in client.get_resources(restApiId=imported["id"])["items"]}
        self.assertIn("/pets/{petId}", paths)
