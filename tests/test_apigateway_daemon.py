"""
API Gateway's second round through the real daemon, boto3 and plain
HTTP: API keys and usage plans, a customised gateway response, a Lambda
function behind mapping templates, an HTTP integration with a template,
and the Lambda proxy event compared with the one AWS documents.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
import warnings
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.apigateway_support import echo_server
from tests.lambda_support import ROLE, LambdaDaemon, shared_daemon, zipped
from tests.test_apigateway_dataplane import LAMBDA_PREFIX, anonymous

FUNCTIONS = """
import json


def echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}


def adopt(event, context):
    if not event["name"]:
        raise ValueError("Invalid pet: no name")
    return {"id": "p-" + event["name"], "pet": event}
"""


def call(
    daemon: LambdaDaemon,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], Any]:
    """A plain HTTP call: status, headers, and the JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), json.loads(answer.read())
    finally:
        connection.close()


class ApiGatewayDaemonTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.daemon = shared_daemon(
            "--lambda-executor", "process", "--services", "lambda,logs,apigateway"
        )
        self.apigateway = self.daemon.client("apigateway")
        api = self.apigateway.create_rest_api(name=f"round2-{uuid.uuid4().hex[:6]}")
        self.api_id, self.root = api["id"], api["rootResourceId"]
        self.addCleanup(self.apigateway.delete_rest_api, restApiId=self.api_id)

    def function(self, handler: str) -> str:
        arn: str = self.daemon.client().create_function(
            FunctionName=f"gw-{handler}-{uuid.uuid4().hex[:8]}",
            Runtime="python3.11",
            Role=ROLE,
            Handler=f"app.{handler}",
            Code={"ZipFile": zipped({"app.py": FUNCTIONS})},
        )["FunctionArn"]
        return f"{LAMBDA_PREFIX}{arn}/invocations"

    def method(
        self, part: str, http_method: str, integration: dict[str, Any], **fields: Any
    ) -> dict[str, str]:
        resource = self.apigateway.create_resource(
            restApiId=self.api_id, parentId=self.root, pathPart=part
        )
        named = {"restApiId": self.api_id, "resourceId": resource["id"], "httpMethod": http_method}
        self.apigateway.put_method(**named, authorizationType="NONE", **fields)
        self.apigateway.put_integration(**named, **integration)
        return named

    def path(self, rest: str) -> str:
        return f"/restapis/{self.api_id}/dev/_user_request_/{rest}"

    def test_api_keys_and_gateway_responses(self) -> None:
        """
        A method that needs a key: 403 without one (its body and a header
        customised), 200 with a key of a plan bound to the stage, then the
        plan's throttle and quota answer 429.
        """
        self.method("health", "GET", {"type": "MOCK"}, apiKeyRequired=True)
        self.apigateway.put_integration_response(
            restApiId=self.api_id,
            resourceId=self.apigateway.get_resources(restApiId=self.api_id)["items"][-1]["id"],
            httpMethod="GET",
            statusCode="200",
            responseTemplates={"application/json": '{"healthy": true}'},
        )
        self.apigateway.put_gateway_response(
            restApiId=self.api_id,
            responseType="INVALID_API_KEY",
            statusCode="403",
            responseParameters={"gatewayresponse.header.X-Reason": "'key'"},
            responseTemplates={
                "application/json": '{"error": $context.error.messageString, '
                '"hint": "send x-api-key"}'
            },
        )
        self.apigateway.create_deployment(restApiId=self.api_id, stageName="dev")
        plan = self.apigateway.create_usage_plan(
            name="basic",
            apiStages=[{"apiId": self.api_id, "stage": "dev"}],
            throttle={"burstLimit": 2, "rateLimit": 0.01},
            quota={"limit": 3, "period": "DAY"},
        )
        self.addCleanup(self.apigateway.delete_usage_plan, usagePlanId=plan["id"])
        key = self.apigateway.create_api_key(name="k", enabled=True)
        self.addCleanup(self.apigateway.delete_api_key, apiKey=key["id"])
        self.apigateway.create_usage_plan_key(
            usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY"
        )
        self.assertIn(plan["id"], [p["id"] for p in self.apigateway.get_usage_plans()["items"]])
        self.assertEqual(
            self.apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"],
            [{"id": key["id"], "type": "API_KEY", "value": key["value"], "name": "k"}],
        )

        status, headers, body = call(self.daemon, "GET", self.path("health"))
        self.assertEqual(
            (status, body, headers.get("X-Reason")),
            (403, {"error": "Forbidden", "hint": "send x-api-key"}, "key"),
        )
        with_key = {"x-api-key": key["value"]}
        answers = [call(self.daemon, "GET", self.path("health"), with_key) for _ in range(3)]
        self.assertEqual(
            [(status, body) for status, _, body in answers],
            [
                (200, {"healthy": True}),
                (200, {"healthy": True}),
                (429, {"message": "Too Many Requests"}),
            ],
        )
        self.apigateway.update_usage_plan(
            usagePlanId=plan["id"],
            patchOperations=[{"op": "replace", "path": "/throttle/rateLimit", "value": "1000"}],
        )
        answers = [call(self.daemon, "GET", self.path("health"), with_key) for _ in range(2)]
        self.assertEqual(
            [(status, body) for status, _, body in answers],
            [(200, {"healthy": True}), (429, {"message": "Limit Exceeded"})],
        )
        today = time.strftime("%Y-%m-%d", time.gmtime())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            usage = self.apigateway.get_usage(
                usagePlanId=plan["id"], startDate=today, endDate=today
            )
        self.assertEqual(usage["items"], {key["id"]: [[3, 0]]})

    def test_lambda_mapping_templates(self) -> None:
        """
        A Lambda function without proxy: the request template reshapes the
        body, the response template the answer, and a selection pattern maps
        the function's error to a 400.
        """
        named = self.method(
            "pets",
            "POST",
            {
                "type": "AWS",
                "integrationHttpMethod": "POST",
                "uri": self.function("adopt"),
                "requestTemplates": {
                    "application/json": '{"name": '
                    "\"$util.escapeJavaScript($input.path('$.pet.name'))\", "
                    '"owner": "$input.params(\'owner\')"}'
                },
            },
        )
        self.apigateway.put_method_response(**named, statusCode="200")
        self.apigateway.put_method_response(**named, statusCode="400")
        self.apigateway.put_integration_response(
            **named,
            statusCode="200",
            responseTemplates={
                "application/json": '{"adopted": "$input.path(\'$.id\')", '
                '"by": "$input.path(\'$.pet.owner\')"}'
            },
        )
        self.apigateway.put_integration_response(
            **named,
            statusCode="400",
            selectionPattern="Invalid pet.*",
            responseTemplates={
                "application/json": '{"error": "$input.path(\'$.errorMessage\')", '
                '"type": "$input.path(\'$.errorType\')"}'
            },
        )
        self.apigateway.create_deployment(restApiId=self.api_id, stageName="dev")
        headers = {"Content-Type": "application/json"}
        self.assertEqual(
            call(
                self.daemon,
                "POST",
                self.path("pets?owner=ann"),
                headers,
                b'{"pet": {"name": "Rex"}}',
            )[::2],
            (200, {"adopted": "p-Rex", "by": "ann"}),
        )
        self.assertEqual(
            call(self.daemon, "POST", self.path("pets"), headers, b'{"pet": {"name": ""}}')[::2],
            (400, {"error": "Invalid pet: no name", "type": "ValueError"}),
        )

    def test_http_mapping_template(self) -> None:
        """An HTTP integration: mapped path and header, a templated body, a templated answer."""
        port = echo_server(self)
        named = self.method(
            "{item}",
            "GET",
            {
                "type": "HTTP",
                "integrationHttpMethod": "POST",
                "uri": f"http://127.0.0.1:{port}/store/{{id}}",
                "requestParameters": {
                    "integration.request.path.id": "method.request.path.item",
                    "integration.request.header.X-Stage": "context.stage",
                },
                "requestTemplates": {
                    "application/json": '{"query": "$input.params(\'q\')", '
                    '"agent": "$context.identity.userAgent"}'
                },
            },
            requestParameters={"method.request.path.item": True},
        )
        self.apigateway.put_integration_response(
            **named,
            statusCode="200",
            responseTemplates={
                "application/json": "#set($r = $input.path('$'))"
                "#set($sent = $util.parseJson($r.body))"
                '{"seen": "$r.method $r.path", "q": "$sent.query", "agent": "$sent.agent", '
                '"stage": "$r.headers.get(\'X-Stage\')"}'
            },
        )
        self.apigateway.create_deployment(restApiId=self.api_id, stageName="dev")
        status, _, body = call(self.daemon, "GET", self.path("42?q=tea"), {"User-Agent": "t/1"})
        self.assertEqual(
            (status, body),
            (200, {"seen": "POST /store/42", "q": "tea", "agent": "t/1", "stage": "dev"}),
        )

    def test_throttled_function(self) -> None:
        """
        A proxy integration whose function is throttled answers 500
        ``Internal server error``: API Gateway maps Lambda's 429 to a 500 by
        design (AWS's "How do I troubleshoot 500 errors for API Gateway
        endpoints that integrate with Lambda?" names throttling as a cause).
        """
        uri = self.function("echo")
        named = self.method(
            "busy", "GET", {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": uri}
        )
        self.daemon.client().put_function_concurrency(
            FunctionName=uri.removeprefix(LAMBDA_PREFIX).removesuffix("/invocations"),
            ReservedConcurrentExecutions=0,
        )
        self.apigateway.create_deployment(restApiId=named["restApiId"], stageName="dev")
        status, headers, body = call(self.daemon, "GET", self.path("busy"))
        self.assertEqual(
            (status, headers.get("x-amzn-ErrorType"), body),
            (500, "InternalServerErrorException", {"message": "Internal server error"}),
        )

    def test_proxy_event(self) -> None:
        """
        The Lambda proxy event, field by field as AWS documents it
        (set-up-lambda-proxy-integrations.html), for a call on the API's own
        host and a non-default port, with an ``Authorization`` header and a
        trailing slash.
        """
        named = self.method(
            "{proxy+}",
            "ANY",
            {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": self.function("echo")},
        )
        deployment = self.apigateway.create_deployment(
            restApiId=self.api_id, stageName="dev", variables={"stageVariableName": "v"}
        )
        host = f"{self.api_id}.execute-api.localhost.localstack.cloud:{self.daemon.port}"
        sent = {
            "Host": host,
            "Authorization": "Bearer token",
            "Content-Type": "application/json",
            "headerName": "headerValue",
            "User-Agent": "PostmanRuntime/2.4.5",
            "Connection": "keep-alive",
        }
        status, _, event = call(
            self.daemon,
            "POST",
            "/dev/hello/world/?name=me&multivalueName=you&multivalueName=me",
            sent,
            b'{\r\n\t"a": 1\r\n}',
        )
        self.assertEqual(status, 200)
        context = event["requestContext"]
        trace = event["headers"]["X-Amzn-Trace-Id"]
        self.assertRegex(trace, r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
        expected_headers = {
            "Host": host,
            "Authorization": "Bearer token",
            "Content-Type": "application/json",
            "headerName": "headerValue",
            "User-Agent": "PostmanRuntime/2.4.5",
            "Content-Length": "13",
            "Accept-Encoding": "identity",  # http.client adds it
            "X-Amzn-Trace-Id": trace,
            "X-Forwarded-For": "127.0.0.1",
            "X-Forwarded-Port": str(self.daemon.port),
            "X-Forwarded-Proto": "http",
        }
        self.assertEqual(
            event,
            {
                "resource": "/{proxy+}",
                "path": "/hello/world/",
                "httpMethod": "POST",
                "headers": expected_headers,
                "multiValueHeaders": {name: [value] for name, value in expected_headers.items()},
                "queryStringParameters": {"name": "me", "multivalueName": "me"},
                "multiValueQueryStringParameters": {
                    "name": ["me"],
                    "multivalueName": ["you", "me"],
                },
                "pathParameters": {"proxy": "hello/world"},
                "stageVariables": {"stageVariableName": "v"},
                "requestContext": {
                    "accountId": "000000000000",
                    "apiId": self.api_id,
                    "deploymentId": deployment["id"],
                    "domainName": host,
                    "domainPrefix": self.api_id,
                    "extendedRequestId": context["extendedRequestId"],
                    "httpMethod": "POST",
                    "identity": anonymous("127.0.0.1", "PostmanRuntime/2.4.5"),
                    "path": "/dev/hello/world/",
                    "protocol": "HTTP/1.1",
                    "requestId": context["requestId"],
                    "requestTime": context["requestTime"],
                    "requestTimeEpoch": context["requestTimeEpoch"],
                    "resourceId": named["resourceId"],
                    "resourcePath": "/{proxy+}",
                    "stage": "dev",
                },
                "body": '{\r\n\t"a": 1\r\n}',
                "isBase64Encoded": False,
            },
        )
        self.assertRegex(
            context["requestTime"], r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$"
        )
        self.assertRegex(context["extendedRequestId"], r"^[A-Za-z0-9+/=]{16}$")

    def test_botocore_parses_cleanly(self) -> None:
        """The new operations' answers parse without a warning (test suites' clean-up calls)."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            self.apigateway.get_usage_plans()
            self.apigateway.get_api_keys(includeValues=True)
            responses = self.apigateway.get_gateway_responses(restApiId=self.api_id)["items"]
        self.assertIn(
            {
                "responseType": "THROTTLED",
                "statusCode": "429",
                "responseParameters": {},
                "responseTemplates": {
                    "application/json": '{"message":$context.error.messageString}'
                },
                "defaultResponse": True,
            },
            responses,
        )
        self.assertTrue(all(re.fullmatch("[A-Z0-9_]+", r["responseType"]) for r in responses))
