"""
API Gateway's data plane over a memory store, with fake functions and a
fake clock: resource matching, the proxy event and response, AWS's error
answers, authorizers, MOCK and HTTP_PROXY integrations.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
import uuid
from base64 import b64encode
from typing import Any

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.apigateway.dataplane import DataPlane
from awsemu.apigateway.lambdas import Invoked, function_arn
from awsemu.apigateway.matching import match
from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from tests.apigateway_support import echo_server
from tests.lambda_support import ROLE, shared_daemon, zipped
from tests.test_apigateway import ACCOUNT, AUTHORIZER_URI, FUNCTION, ProviderCase, context

AUTHORIZER = FUNCTION.replace("function:app", "function:auth")
LAMBDA_PREFIX = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
NOW = 1767225600.0
"""2026-01-01T00:00:00Z."""


def anonymous(source_ip: str, user_agent: str) -> dict[str, Any]:
    """``requestContext.identity`` of a call without AWS credentials, as AWS documents it."""
    return {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "user": None,
        "sourceIp": source_ip,
        "userAgent": user_agent,
    }


def resource(path: str, *methods: str) -> dict[str, Any]:
    return {"id": path, "path": path, "resourceMethods": {m: {"httpMethod": m} for m in methods}}


class MatchingTests(SynchronousTestCase):
    def test_specificity(self) -> None:
        """A literal beats ``{param}``, which beats ``{proxy+}``, segment by segment."""
        resources = [
            resource("/", "GET"),
            resource("/{proxy+}", "ANY"),
            resource("/pets/{id}", "GET"),
            resource("/pets/mine", "GET"),
            resource("/{kind}/mine", "GET"),
        ]

        def found(method: str, path: str) -> tuple[str, dict[str, str]] | None:
            matched = match(resources, method, path)
            return None if matched is None else (matched.resource["path"], matched.path_parameters)

        self.assertEqual(found("GET", "/"), ("/", {}))
        self.assertIsNone(found("POST", "/"))
        self.assertEqual(found("GET", "/pets/mine"), ("/pets/mine", {}))
        self.assertEqual(found("GET", "/pets/7"), ("/pets/{id}", {"id": "7"}))
        self.assertEqual(found("GET", "/cats/mine"), ("/{kind}/mine", {"kind": "cats"}))
        self.assertEqual(found("GET", "/a%20b/c/d"), ("/{proxy+}", {"proxy": "a b/c/d"}))
        # Without the method there, a less specific resource that has it answers.
        self.assertEqual(found("DELETE", "/pets/7"), ("/{proxy+}", {"proxy": "pets/7"}))

    def test_any(self) -> None:
        """An explicit method beats ``ANY`` on the same resource."""
        resources = [resource("/x", "ANY", "GET")]
        got = match(resources, "GET", "/x")
        assert got is not None
        self.assertEqual(got.method, {"httpMethod": "GET"})
        post = match(resources, "POST", "/x")
        assert post is not None
        self.assertEqual(post.method, {"httpMethod": "ANY"})

    def test_function_arn(self) -> None:
        """The function a Lambda URI names, with stage variables filled in."""
        uri = AUTHORIZER_URI.replace("function:auth", "function:${stageVariables.fn}")
        self.assertEqual(function_arn(uri, {"fn": "auth"}), AUTHORIZER)
        self.assertIsNone(function_arn("http://example.com", {}))


@attrs.define
class FakeFunctions:
    """Functions answering what a test set, recording each event."""

    answers: dict[str, Invoked | Deferred[Invoked] | ServiceError] = attrs.Factory(dict)
    events: list[tuple[str, Any]] = attrs.Factory(list)
    queued: list[tuple[str, Any]] = attrs.Factory(list)

    async def invoke(
        self, context: RequestContext, function_arn: str, payload: bytes, asynchronous: bool = False
    ) -> Invoked:
        if asynchronous:
            self.queued.append((function_arn, json.loads(payload)))
            return Invoked(b"", None)
        self.events.append((function_arn, json.loads(payload)))
        answer = self.answers[function_arn]
        if isinstance(answer, ServiceError):
            raise answer
        if isinstance(answer, Deferred):
            return await answer
        return answer

    def answer(self, document: object, arn: str = FUNCTION, error: str | None = None) -> None:
        self.answers[arn] = Invoked(json.dumps(document).encode(), error)


@attrs.define
class FakeForwarder:
    sent: list[tuple[str, str, list[tuple[str, str]], bytes]] = attrs.Factory(list)

    async def forward(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpResponse:
        self.sent.append((method, url, headers, body))
        return HttpResponse(201, [("X-Upstream", "yes")], b"upstream")


class DataPlaneCase(ProviderCase):
    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        self.clock.advance(NOW)
        self.functions = FakeFunctions()
        self.forwarder = FakeForwarder()
        self.plane = DataPlane(
            self.store, self.functions, self.forwarder, self.clock, random.Random(1).randbytes
        )
        self.rest = self.api(binaryMediaTypes=["image/png"])
        self.named = {"restApiId": self.rest["id"]}

    def method(
        self, path_part: str | None, http_method: str = "ANY", **fields: Any
    ) -> dict[str, Any]:
        """A method on a new resource (the root if ``path_part`` is None) with ``fields``."""
        root = self.rest["rootResourceId"]
        target = root if path_part is None else self.resource(self.rest, root, path_part)["id"]
        named = {**self.named, "resourceId": target, "httpMethod": http_method}
        self.call(
            self.provider.put_method(
                context(), {**named, "authorizationType": "NONE", **fields.pop("method", {})}
            )
        )
        integration = {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": self.uri()}
        self.call(self.provider.put_integration(context(), {**named, **integration, **fields}))
        return named

    def uri(self, arn: str = FUNCTION) -> str:
        return f"{LAMBDA_PREFIX}{arn}/invocations"

    def deploy(self, **fields: Any) -> None:
        self.call(
            self.provider.create_deployment(context(), {**self.named, "stageName": "dev", **fields})
        )

    def request(
        self,
        method: str,
        uri: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        host: str = "localhost:4566",
    ) -> Deferred[HttpResponse]:
        request = HttpRequest.from_uri(
            method, uri, [("Host", host), *(headers or [])], body, host=host, remote="10.0.0.9"
        )
        call_context = RequestContext("rid-1", "000000000000", "us-east-1", "apigateway", None, NOW)
        return Deferred.fromCoroutine(self.plane.handle(call_context, request, self.rest["id"]))

    def answered(self, method: str, uri: str, **options: Any) -> HttpResponse:
        response: HttpResponse = self.successResultOf(self.request(method, uri, **options))
        return response

    def assertAnswer(self, response: HttpResponse, status: int, document: object) -> None:
        self.assertEqual(
            (response.status, json.loads(response.body)),  # type: ignore[arg-type]
            (status, document),
        )


class ProxyTests(DataPlaneCase):
    def test_event(self) -> None:
        """The payload 1.0 event, field for field."""
        self.method("{proxy+}")
        self.deploy(variables={"color": "blue"})
        self.functions.answer({"statusCode": 200, "body": "ok"})
        response = self.answered(
            "POST",
            f"/restapis/{self.rest['id']}/dev/_user_request_/a/b%20c?x=1&x=2&y=",
            headers=[
                ("User-Agent", "curl/8"),
                ("Content-Type", "text/plain"),
                ("Accept", "text/plain"),
                ("Accept", "text/html"),
            ],
            body=b"hello",
        )
        self.assertEqual((response.status, response.body), (200, b"ok"))
        [(arn, event)] = self.functions.events
        self.assertEqual(arn, FUNCTION)
        resource_id = event["requestContext"]["resourceId"]
        deployment_id = self.store.deployed_stage(self.rest["id"], "dev").stage["deploymentId"]  # type: ignore[union-attr]
        extended = response.header("x-amz-apigw-id")
        trace = event["headers"].get("X-Amzn-Trace-Id", "")
        self.assertRegex(trace, "^Root=1-6955b900-[0-9a-f]{24}$")
        self.assertEqual(
            event,
            {
                "resource": "/{proxy+}",
                "path": "/a/b c",
                "httpMethod": "POST",
                "headers": {
                    "Host": "localhost:4566",
                    "User-Agent": "curl/8",
                    "Content-Type": "text/plain",
                    "Accept": "text/html",
                    "X-Amzn-Trace-Id": trace,
                    "X-Forwarded-For": "10.0.0.9",
                    "X-Forwarded-Port": "4566",
                    "X-Forwarded-Proto": "http",
                },
                "multiValueHeaders": {
                    "Host": ["localhost:4566"],
                    "User-Agent": ["curl/8"],
                    "Content-Type": ["text/plain"],
                    "Accept": ["text/plain", "text/html"],
                    "X-Amzn-Trace-Id": [trace],
                    "X-Forwarded-For": ["10.0.0.9"],
                    "X-Forwarded-Port": ["4566"],
                    "X-Forwarded-Proto": ["http"],
                },
                "queryStringParameters": {"x": "2", "y": ""},
                "multiValueQueryStringParameters": {"x": ["1", "2"], "y": [""]},
                "pathParameters": {"proxy": "a/b c"},
                "stageVariables": {"color": "blue"},
                "requestContext": {
                    "accountId": ACCOUNT,
                    "apiId": self.rest["id"],
                    "deploymentId": deployment_id,
                    "domainName": "localhost:4566",
                    "domainPrefix": "localhost",
                    "extendedRequestId": extended,
                    "httpMethod": "POST",
                    "identity": anonymous("10.0.0.9", "curl/8"),
                    "path": "/dev/a/b%20c",
                    "protocol": "HTTP/1.1",
                    "requestId": "rid-1",
                    "requestTime": "01/Jan/2026:00:00:00 +0000",
                    "requestTimeEpoch": 1767225600000,
                    "resourceId": resource_id,
                    "resourcePath": "/{proxy+}",
                    "stage": "dev",
                },
                "body": "hello",
                "isBase64Encoded": False,
            },
        )
        self.assertEqual(response.header("x-amzn-RequestId"), "rid-1")
        self.assertEqual(len(extended or ""), 16)

    def test_binary_and_empty(self) -> None:
        """Bodies of a binary media type are base64; no body, no query: nulls."""
        self.method(None)
        self.deploy()
        self.functions.answer({"statusCode": 204})
        self.answered(
            "PUT",
            f"/_aws/execute-api/{self.rest['id']}/dev",
            headers=[("Content-Type", "image/png")],
            body=b"\x89PNG",
        )
        self.answered("GET", "/dev/", host=f"{self.rest['id']}.execute-api.localhost:4566")
        [(_, binary), (_, empty)] = self.functions.events
        self.assertEqual(
            (binary["body"], binary["isBase64Encoded"], binary["path"]),
            (b64encode(b"\x89PNG").decode(), True, "/"),
        )
        self.assertEqual(
            (empty["body"], empty["queryStringParameters"], empty["pathParameters"]),
            (None, None, None),
        )
        self.assertEqual(empty["stageVariables"], None)
        self.assertEqual(
            (empty["requestContext"]["domainName"], empty["requestContext"]["domainPrefix"]),
            (f"{self.rest['id']}.execute-api.localhost:4566", self.rest["id"]),
        )
        self.assertEqual(empty["requestContext"]["path"], "/dev/")

    def test_response(self) -> None:
        """Headers and multi-valued headers merge; base64 bodies are decoded."""
        self.method(None)
        self.deploy()
        self.functions.answer(
            {
                "statusCode": "201",
                "headers": {"Content-Type": "image/png", "X-One": 1},
                "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-One": ["1"]},
                "body": b64encode(b"\x89PNG\x00").decode(),
                "isBase64Encoded": True,
            }
        )
        response = self.answered("GET", f"/restapis/{self.rest['id']}/dev/_user_request_/")
        self.assertEqual((response.status, response.body), (201, b"\x89PNG\x00"))
        self.assertEqual(
            response.headers[:4],
            [
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
                ("X-One", "1"),
                ("Content-Type", "image/png"),
            ],
        )

    def test_default_content_type(self) -> None:
        """A response without a Content-Type is JSON, as AWS says."""
        self.method(None)
        self.deploy()
        self.functions.answer({"body": "{}"})
        response = self.answered("GET", f"/restapis/{self.rest['id']}/dev/_user_request_/")
        self.assertEqual(
            (response.status, response.header("content-type")), (200, "application/json")
        )


class ErrorTests(DataPlaneCase):
    def setUp(self) -> None:
        super().setUp()
        self.method("pets", "GET")
        self.deploy()
        self.url = f"/restapis/{self.rest['id']}/dev/_user_request_/pets"

    def test_no_route(self) -> None:
        """No resource or method: 403 Missing Authentication Token; no stage: 403 Forbidden."""
        missing = {"message": "Missing Authentication Token"}
        self.assertAnswer(self.answered("GET", self.url + "/1"), 403, missing)
        response = self.answered("POST", self.url)
        self.assertAnswer(response, 403, missing)
        self.assertEqual(response.header("x-amzn-ErrorType"), "MissingAuthenticationTokenException")
        forbidden = {"message": "Forbidden"}
        self.assertAnswer(self.answered("GET", self.url.replace("/dev/", "/prod/")), 403, forbidden)
        self.assertAnswer(
            self.answered("GET", self.url.replace(self.rest["id"], "nope")), 403, forbidden
        )

    def test_function_error(self) -> None:
        """A function error or a malformed answer: 502; no function: 500."""
        internal = {"message": "Internal server error"}
        self.functions.answer({"errorMessage": "boom"}, error="Unhandled")
        self.assertAnswer(self.answered("GET", self.url), 502, internal)
        for malformed in ({"statusCode": 200, "extra": 1}, [1], {"body": {"a": 1}}):
            self.functions.answer(malformed)
            self.assertAnswer(self.answered("GET", self.url), 502, internal)
        self.functions.answers[FUNCTION] = ServiceError("ResourceNotFoundException", "gone", 404)
        self.assertAnswer(self.answered("GET", self.url), 500, internal)

    def test_timeout(self) -> None:
        """Over the integration's timeout (29 s): 504, while the function runs on."""
        late: Deferred[Invoked] = Deferred()
        self.functions.answers[FUNCTION] = late
        answer = self.request("GET", self.url)
        self.clock.advance(28.9)
        self.assertNoResult(answer)
        self.clock.advance(0.2)
        self.assertAnswer(
            self.successResultOf(answer), 504, {"message": "Endpoint request timed out"}
        )
        late.callback(Invoked(b"{}", None))


class AuthorizerTests(DataPlaneCase):
    def authorizer(self, kind: str, source: str, **fields: Any) -> None:
        created = self.call(
            self.provider.create_authorizer(
                context(),
                {
                    **self.named,
                    "name": "auth",
                    "type": kind,
                    "authorizerUri": self.uri(AUTHORIZER),
                    "identitySource": source,
                    **fields,
                },
            )
        )
        self.method(
            "{proxy+}",
            method={"authorizationType": "CUSTOM", "authorizerId": created["id"]},
        )
        self.deploy()
        self.functions.answer({"statusCode": 200, "body": "in"})

    def policy(self, effect: str, resource: str = "*", **answer: Any) -> None:
        statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
        self.functions.answer(
            {"principalId": "me", "policyDocument": {"Statement": [statement]}, **answer},
            arn=AUTHORIZER,
        )

    def test_token(self) -> None:
        """A TOKEN authorizer's policy allows; its context reaches the function."""
        self.authorizer("TOKEN", "method.request.header.Authorization")
        url = f"/restapis/{self.rest['id']}/dev/_user_request_/x"
        self.assertAnswer(self.answered("GET", url), 401, {"message": "Unauthorized"})
        self.assertEqual(self.functions.events, [])
        arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{self.rest['id']}/dev/GET/x"
        self.policy("Allow", arn, context={"tenant": "t1", "admin": True, "n": 3})
        response = self.answered("GET", url, headers=[("Authorization", "Bearer abc")])
        self.assertEqual((response.status, response.body), (200, b"in"))
        (_, asked), (_, event) = self.functions.events
        self.assertEqual(
            asked, {"type": "TOKEN", "methodArn": arn, "authorizationToken": "Bearer abc"}
        )
        self.assertEqual(
            event["requestContext"]["authorizer"],
            {
                "tenant": "t1",
                "admin": "true",
                "n": "3",
                "principalId": "me",
                "integrationLatency": 0,
            },
        )

    def test_deny(self) -> None:
        """A Deny, a policy for another resource, or ``Unauthorized``: 403 and 401."""
        self.authorizer(
            "TOKEN", "method.request.header.Authorization", authorizerResultTtlInSeconds=0
        )
        url = f"/restapis/{self.rest['id']}/dev/_user_request_/x"
        auth = [("Authorization", "t")]
        denied = {"Message": "User is not authorized to access this resource"}
        self.policy("Deny")
        self.assertAnswer(
            self.answered("GET", url, headers=auth),
            403,
            {"Message": "User is not authorized to access this resource with an explicit deny"},
        )
        self.policy("Allow", "arn:aws:execute-api:us-east-1:1:other/*")
        self.assertAnswer(self.answered("GET", url, headers=auth), 403, denied)
        self.functions.answer({"errorMessage": "Unauthorized"}, arn=AUTHORIZER, error="Unhandled")
        self.assertAnswer(self.answered("GET", url, headers=auth), 401, {"message": "Unauthorized"})
        self.functions.answer({"errorMessage": "boom"}, arn=AUTHORIZER, error="Unhandled")
        self.assertAnswer(self.answered("GET", url, headers=auth), 500, {"message": None})

    def test_cache(self) -> None:
        """Answers are cached per token for the TTL, checked against each call's method."""
        self.authorizer("TOKEN", "method.request.header.Authorization")
        prefix = f"/restapis/{self.rest['id']}/dev/_user_request_"
        self.policy("Allow", f"arn:aws:execute-api:*:*:{self.rest['id']}/dev/GET/x")

        def status(path: str, token: str) -> int:
            return self.answered("GET", prefix + path, headers=[("Authorization", token)]).status

        self.assertEqual([status("/x", "a"), status("/x", "a"), status("/y", "a")], [200, 200, 403])
        self.assertEqual(status("/x", "b"), 200)
        self.clock.advance(301)
        self.assertEqual(status("/x", "a"), 200)
        asked = [event for arn, event in self.functions.events if arn == AUTHORIZER]
        self.assertEqual([event["authorizationToken"] for event in asked], ["a", "b", "a"])

    def test_request(self) -> None:
        """A REQUEST authorizer sees the request; every identity source must be there."""
        self.authorizer("REQUEST", "method.request.header.X-Key, method.request.querystring.k")
        url = f"/restapis/{self.rest['id']}/dev/_user_request_/x"
        self.policy("Allow")
        self.assertAnswer(
            self.answered("GET", url, headers=[("X-Key", "1")]), 401, {"message": "Unauthorized"}
        )
        self.assertEqual(self.answered("GET", url + "?k=2", headers=[("X-Key", "1")]).status, 200)
        (_, asked), _ = self.functions.events
        self.assertEqual(
            (asked["type"], asked["headers"]["X-Key"], asked["queryStringParameters"]),
            ("REQUEST", "1", {"k": "2"}),
        )
        self.assertEqual(asked["requestContext"]["resourcePath"], "/{proxy+}")


class OtherIntegrationTests(DataPlaneCase):
    def test_mock(self) -> None:
        """MOCK answers from the integration response the request template picks."""
        named = self.method(
            "health",
            "GET",
            type="MOCK",
            requestTemplates={"application/json": '{"statusCode": 200}'},
        )
        self.call(
            self.provider.put_integration_response(
                context(),
                {
                    **named,
                    "statusCode": "200",
                    "responseTemplates": {"application/json": '{"ok": true}'},
                    "responseParameters": {"method.response.header.X-Mock": "'yes'"},
                },
            )
        )
        self.deploy()
        response = self.answered("GET", f"/restapis/{self.rest['id']}/dev/_user_request_/health")
        self.assertAnswer(response, 200, {"ok": True})
        self.assertEqual(response.header("X-Mock"), "yes")

    def test_http_proxy(self) -> None:
        """HTTP_PROXY sends the call on, path parameters and query filled in."""
        self.method(
            "{proxy+}",
            type="HTTP_PROXY",
            integrationHttpMethod="ANY",
            uri="http://127.0.0.1:9/up/{proxy}",
            requestParameters={"integration.request.path.proxy": "method.request.path.proxy"},
        )
        self.deploy()
        response = self.answered(
            "PATCH",
            f"/restapis/{self.rest['id']}/dev/_user_request_/a/b?q=1",
            headers=[("X-Mine", "1"), ("X-Mine", "2")],
            body=b"data",
        )
        self.assertEqual((response.status, response.body), (201, b"upstream"))
        [(method, url, headers, body)] = self.forwarder.sent
        self.assertEqual(
            (method, url, headers, body),
            ("PATCH", "http://127.0.0.1:9/up/a/b?q=1", [("X-Mine", "1"), ("X-Mine", "2")], b"data"),
        )


FUNCTIONS = """
import json
import time


def echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}


def slow(event, context):
    time.sleep(1)
    return {"statusCode": 200}


def authorize(event, context):
    if event["authorizationToken"] != "good":
        raise Exception("Unauthorized")
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
    return {
        "principalId": "alice",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {"tenant": "t1"},
    }
"""


class DaemonTests(SynchronousTestCase):
    def test_deployed_api(self) -> None:
        """
        Through the real daemon and boto3: a Lambda proxy behind a TOKEN
        authorizer, a timeout, MOCK and HTTP_PROXY integrations, each way of
        addressing a stage.
        """
        daemon = shared_daemon(
            "--lambda-executor", "process", "--services", "lambda,logs,apigateway"
        )
        functions, apigateway = daemon.client(), daemon.client("apigateway")
        arns = {}
        for handler in ("echo", "slow", "authorize"):
            arns[handler] = functions.create_function(
                FunctionName=f"dp-{handler}-{uuid.uuid4().hex[:8]}",
                Runtime="python3.11",
                Role=ROLE,
                Handler=f"app.{handler}",
                Code={"ZipFile": zipped({"app.py": FUNCTIONS})},
            )["FunctionArn"]
        port = echo_server(self)

        api = apigateway.create_rest_api(name="dp")
        api_id, root = api["id"], api["rootResourceId"]
        authorizer = apigateway.create_authorizer(
            restApiId=api_id,
            name="token",
            type="TOKEN",
            authorizerUri=f"{LAMBDA_PREFIX}{arns['authorize']}/invocations",
            identitySource="method.request.header.Authorization",
        )

        def method(part: str, integration: dict[str, Any], **fields: Any) -> str:
            resource = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart=part)
            named = {"restApiId": api_id, "resourceId": resource["id"], "httpMethod": "GET"}
            apigateway.put_method(**named, **{"authorizationType": "NONE", **fields})
            apigateway.put_integration(**named, **integration)
            resource_id: str = resource["id"]
            return resource_id

        def proxy(name: str, **fields: Any) -> dict[str, Any]:
            uri = f"{LAMBDA_PREFIX}{arns[name]}/invocations"
            return {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": uri, **fields}

        method("private", proxy("echo"), authorizationType="CUSTOM", authorizerId=authorizer["id"])
        method("slow", proxy("slow", timeoutInMillis=300))
        mocked = method(
            "health",
            {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        )
        apigateway.put_method_response(
            restApiId=api_id, resourceId=mocked, httpMethod="GET", statusCode="200"
        )
        apigateway.put_integration_response(
            restApiId=api_id,
            resourceId=mocked,
            httpMethod="GET",
            statusCode="200",
            responseTemplates={"application/json": '{"healthy": true}'},
        )
        method(
            "{proxy+}",
            {
                "type": "HTTP_PROXY",
                "integrationHttpMethod": "GET",
                "uri": f"http://127.0.0.1:{port}/up/{{proxy}}",
                "requestParameters": {
                    "integration.request.path.proxy": "method.request.path.proxy"
                },
            },
            requestParameters={"method.request.path.proxy": True},
        )
        apigateway.create_deployment(restApiId=api_id, stageName="dev")

        def get(url: str, **headers: str) -> tuple[int, Any]:
            request = urllib.request.Request(daemon.url + url, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return answer.status, json.loads(answer.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        status, event = get(f"/restapis/{api_id}/dev/_user_request_/private", Authorization="good")
        self.assertEqual(status, 200)
        self.assertEqual(
            (
                event["requestContext"]["authorizer"]["tenant"],
                event["requestContext"]["authorizer"]["principalId"],
            ),
            ("t1", "alice"),
        )
        self.assertEqual(
            get(f"/restapis/{api_id}/dev/_user_request_/private", Authorization="bad"),
            (401, {"message": "Unauthorized"}),
        )
        self.assertEqual(
            get(f"/_aws/execute-api/{api_id}/dev/slow"),
            (504, {"message": "Endpoint request timed out"}),
        )
        self.assertEqual(
            get("/dev/health", Host=f"{api_id}.execute-api.localhost:4566"),
            (200, {"healthy": True}),
        )
        status, echoed = get(f"/_aws/execute-api/{api_id}/dev/a/b?q=1", **{"X-Mine": "m"})
        received = {name.lower(): value for name, value in echoed["headers"].items()}
        self.assertEqual(
            (status, echoed["method"], echoed["path"], received["x-mine"]),
            (200, "GET", "/up/a/b?q=1", "m"),
        )
        self.assertEqual(
            get(f"/restapis/{api_id}/dev/_user_request_/"),
            (403, {"message": "Missing Authentication Token"}),
        )
