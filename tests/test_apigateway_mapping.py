"""
Gateway responses (control plane and the errors they customise) and the
integrations behind mapping templates (``AWS`` Lambda, ``HTTP``,
``MOCK``), over a memory store with fake functions and endpoints.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from awsemu.apigateway.responses import response_types
from awsemu.protocol.http import HttpResponse
from tests.test_apigateway import context
from tests.test_apigateway_dataplane import DataPlaneCase


class GatewayResponseTests(DataPlaneCase):
    def put(self, kind: str, **fields: Any) -> dict[str, Any]:
        return self.call(
            self.provider.put_gateway_response(
                context(), {**self.named, "responseType": kind, **fields}
            )
        )

    def test_control_plane(self) -> None:
        """Every type has AWS's default until customised; deleting restores it."""
        listed = self.call(self.provider.get_gateway_responses(context(), {**self.named}))
        self.assertEqual(len(listed["items"]), len(response_types()))
        self.assertNotIn("position", listed)
        missing = self.call(
            self.provider.get_gateway_response(
                context(), {**self.named, "responseType": "MISSING_AUTHENTICATION_TOKEN"}
            )
        )
        self.assertEqual(
            missing,
            {
                "responseType": "MISSING_AUTHENTICATION_TOKEN",
                "statusCode": "403",
                "responseParameters": {},
                "responseTemplates": {
                    "application/json": '{"message":$context.error.messageString}'
                },
                "defaultResponse": True,
            },
        )
        put = self.put("DEFAULT_4XX", responseParameters={"gatewayresponse.header.X-A": "'1'"})
        self.assertEqual(
            put,
            {
                "responseType": "DEFAULT_4XX",
                "responseParameters": {"gatewayresponse.header.X-A": "'1'"},
                "responseTemplates": {},
                "defaultResponse": False,
            },
        )
        patched = self.call(
            self.provider.update_gateway_response(
                context(),
                {
                    **self.named,
                    "responseType": "DEFAULT_4XX",
                    "patchOperations": [{"op": "replace", "path": "/statusCode", "value": "418"}],
                },
            )
        )
        self.assertEqual(patched["statusCode"], "418")
        self.assertEqual(
            self.error(
                self.provider.put_gateway_response(
                    context(), {**self.named, "responseType": "NOPE"}
                )
            ).code,
            "BadRequestException",
        )
        named = {**self.named, "responseType": "DEFAULT_4XX"}
        self.call(self.provider.delete_gateway_response(context(), named))
        self.assertIs(
            self.call(self.provider.get_gateway_response(context(), named))["defaultResponse"], True
        )
        self.assertEqual(
            self.error(self.provider.delete_gateway_response(context(), named)).code,
            "NotFoundException",
        )

    def test_openapi(self) -> None:
        """An import's ``x-amazon-apigateway-gateway-responses`` customise the API."""
        document = {
            "openapi": "3.0.1",
            "info": {"title": "with-responses"},
            "paths": {},
            "x-amazon-apigateway-gateway-responses": {
                "missing_authentication_token": {
                    "statusCode": 404,
                    "responseTemplates": {"application/json": '{"no": "route"}'},
                }
            },
        }
        api = self.call(
            self.provider.import_rest_api(context(), {"body": json.dumps(document).encode()})
        )
        self.assertEqual(
            self.call(
                self.provider.get_gateway_response(
                    context(),
                    {"restApiId": api["id"], "responseType": "MISSING_AUTHENTICATION_TOKEN"},
                )
            ),
            {
                "responseType": "MISSING_AUTHENTICATION_TOKEN",
                "statusCode": "404",
                "responseParameters": {},
                "responseTemplates": {"application/json": '{"no": "route"}'},
                "defaultResponse": False,
            },
        )

    def test_customised_errors(self) -> None:
        """
        A customised type changes its status, headers and body; DEFAULT_4XX
        covers the 4XX types not customised; nothing changes before a deployment.
        """
        self.method("pets", "GET")
        self.deploy()
        self.put(
            "MISSING_AUTHENTICATION_TOKEN",
            statusCode="404",
            responseParameters={
                "gatewayresponse.header.X-Why": "'no route'",
                "gatewayresponse.header.X-Origin": "method.request.header.Origin",
            },
            responseTemplates={
                "application/json": '{"error": $context.error.messageString, '
                '"type": "$context.error.responseType", "id": "$context.requestId"}'
            },
        )
        self.put("DEFAULT_4XX", responseTemplates={"application/json": '{"oops": true}'})
        url = f"/restapis/{self.rest['id']}/dev/_user_request_"
        self.assertAnswer(
            self.answered("GET", url + "/nope"), 403, {"message": "Missing Authentication Token"}
        )
        self.deploy()
        response = self.answered("GET", url + "/nope", headers=[("Origin", "http://a")])
        self.assertAnswer(
            response,
            404,
            {
                "error": "Missing Authentication Token",
                "type": "MISSING_AUTHENTICATION_TOKEN",
                "id": "rid-1",
            },
        )
        self.assertEqual(
            (
                response.header("X-Why"),
                response.header("X-Origin"),
                response.header("x-amzn-ErrorType"),
            ),
            ("no route", "http://a", "MissingAuthenticationTokenException"),
        )
        self.functions.answer({"errorMessage": "boom"}, error="Unhandled")
        # No DEFAULT_5XX: a 5XX keeps AWS's own answer.
        self.assertAnswer(
            self.answered("GET", url + "/pets"), 502, {"message": "Internal server error"}
        )


class LambdaMappingTests(DataPlaneCase):
    """A Lambda function behind templates (``AWS``), as the tutorials build it."""

    def setUp(self) -> None:
        super().setUp()
        self.pets = named = self.method(
            "pets",
            "POST",
            type="AWS",
            requestTemplates={
                "application/json": "{\"name\": $input.json('$.pet.name'), "
                '"id": "$input.params(\'id\')", "stage": "$context.stage", '
                '"color": "$stageVariables.color"}'
            },
        )
        self.call(
            self.provider.put_integration_response(
                context(),
                {
                    **named,
                    "statusCode": "200",
                    "responseTemplates": {
                        "application/json": '#set($p = $input.path(\'$\')){"got": "$p.name"}'
                    },
                    "responseParameters": {
                        "method.response.header.X-Id": "integration.response.body.id"
                    },
                },
            )
        )
        self.call(
            self.provider.put_integration_response(
                context(),
                {
                    **named,
                    "statusCode": "400",
                    "selectionPattern": "Invalid.*",
                    "responseTemplates": {
                        "application/json": '{"error": '
                        "\"$util.escapeJavaScript($input.path('$.errorMessage'))\"}"
                    },
                },
            )
        )
        self.deploy(variables={"color": "red"})
        self.url = f"/restapis/{self.rest['id']}/dev/_user_request_/pets?id=7"

    def post(self, body: bytes, **options: Any) -> HttpResponse:
        return self.answered("POST", self.url, body=body, **options)

    def test_request_and_response_templates(self) -> None:
        """The request template reshapes the body; the default response's template the answer."""
        self.functions.answer({"name": "Rex", "id": "p1"})
        response = self.post(
            b'{"pet": {"name": "Rex"}}', headers=[("Content-Type", "application/json")]
        )
        self.assertAnswer(response, 200, {"got": "Rex"})
        self.assertEqual(response.header("X-Id"), "p1")
        [(_, event)] = self.functions.events
        self.assertEqual(event, {"name": "Rex", "id": "7", "stage": "dev", "color": "red"})

    def test_error_selection(self) -> None:
        """A function error whose message matches a selection pattern: that response (400)."""
        self.functions.answer(
            {"errorMessage": 'Invalid "pet"', "errorType": "ValueError"}, error="Unhandled"
        )
        self.assertAnswer(self.post(b"{}"), 400, {"error": 'Invalid "pet"'})
        # An error no pattern matches gets the default response, as on AWS.
        self.functions.answer({"errorMessage": "boom"}, error="Unhandled")
        self.assertEqual(self.post(b"{}").status, 200)

    def test_asynchronous(self) -> None:
        """``X-Amz-Invocation-Type: 'Event'`` queues the invocation and answers at once."""
        self.call(
            self.provider.update_integration(
                context(),
                {
                    **self.pets,
                    "patchOperations": [
                        {
                            "op": "add",
                            "path": "/requestParameters/"
                            "integration.request.header.X-Amz-Invocation-Type",
                            "value": "'Event'",
                        }
                    ],
                },
            )
        )
        self.deploy()
        response = self.post(b'{"pet": {"name": "Rex"}}')
        self.assertAnswer(response, 200, {"got": ""})
        self.assertEqual(self.functions.events, [])
        self.assertEqual([event["name"] for _, event in self.functions.queued], ["Rex"])

    def test_passthrough(self) -> None:
        """No template for the media type: passed through, or 415 as the passthrough says."""
        self.functions.answer({"name": "x"})
        self.post(b'{"raw": 1}', headers=[("Content-Type", "text/plain")])
        [(_, event)] = self.functions.events
        self.assertEqual(event, {"raw": 1})
        self.call(
            self.provider.update_integration(
                context(),
                {
                    **self.pets,
                    "patchOperations": [
                        {"op": "replace", "path": "/passthroughBehavior", "value": "NEVER"}
                    ],
                },
            )
        )
        self.deploy()
        response = self.post(b"x", headers=[("Content-Type", "text/plain")])
        self.assertAnswer(response, 415, {"message": "Unsupported Media Type"})
        self.assertEqual(len(self.functions.events), 1)


class HttpAndMockTests(DataPlaneCase):
    def responses(
        self, named: dict[str, Any], patterns: dict[str, str | None], template: Callable[[str], str]
    ) -> None:
        """Integration responses by status, with their selection patterns and templates."""
        for status, pattern in patterns.items():
            fields = {"selectionPattern": pattern} if pattern else {}
            self.call(
                self.provider.put_integration_response(
                    context(),
                    {
                        **named,
                        "statusCode": status,
                        "responseTemplates": {"application/json": template(status)},
                        **fields,
                    },
                )
            )

    def test_http(self) -> None:
        """HTTP: mapped parameters and a templated body go out; the status selects the response."""
        named = self.method(
            "{id}",
            "GET",
            type="HTTP",
            integrationHttpMethod="POST",
            uri="http://127.0.0.1:9/items/{item}",
            requestParameters={
                "integration.request.path.item": "method.request.path.id",
                "integration.request.querystring.v": "'2'",
                "integration.request.header.X-Stage": "context.stage",
            },
            requestTemplates={
                "application/json": "#set($context.requestOverride.header.X-Over = 'o')"
                '{"q": "$input.params(\'q\')"}'
            },
        )
        self.responses(named, {"200": None, "404": "201"}, lambda _: '{"up": "$input.body"}')
        self.deploy()
        response = self.answered(
            "GET",
            f"/restapis/{self.rest['id']}/dev/_user_request_/a%20b?q=x",
            headers=[("X-Not", "1")],
        )
        [(method, url, headers, body)] = self.forwarder.sent
        self.assertEqual(
            (method, url, headers, json.loads(body)),
            (
                "POST",
                "http://127.0.0.1:9/items/a%20b?v=2",
                [("X-Stage", "dev"), ("X-Over", "o"), ("Content-Type", "application/json")],
                {"q": "x"},
            ),
        )
        # The fake endpoint answers 201, which the pattern maps to 404.
        self.assertAnswer(response, 404, {"up": "upstream"})

    def test_mock(self) -> None:
        """MOCK: the rendered request template's statusCode selects the response."""
        named = self.method(
            "mock",
            "GET",
            type="MOCK",
            requestTemplates={
                "application/json": '#if($input.params(\'fail\') == "1"){"statusCode": 500}'
                '#else{"statusCode": 200}#end'
            },
        )
        self.responses(
            named, {"200": None, "503": "5\\d\\d"}, lambda status: f'{{"status": {status}}}'
        )
        self.deploy()
        url = f"/restapis/{self.rest['id']}/dev/_user_request_/mock"
        self.assertAnswer(self.answered("GET", url), 200, {"status": 200})
        self.assertAnswer(self.answered("GET", url + "?fail=1"), 503, {"status": 503})
