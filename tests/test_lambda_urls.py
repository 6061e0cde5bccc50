"""
Function URLs: their configuration through boto3, a real HTTP call of a
URL through the daemon, and the data plane's event and response mapping
in detail through the provider with a fake invoker.
"""

from __future__ import annotations

import http.client
import io
import json
from typing import Any

from botocore.exceptions import ClientError
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_.functions import Function, FunctionStore, Version
from awsemu.lambda_.invocations import EventQueue
from awsemu.lambda_.provider import LambdaProvider
from awsemu.protocol.http import Headers, HttpRequest
from tests.lambda_support import Answering, LambdaTestCase


class UrlConfigTests(LambdaTestCase):
    def test_lifecycle(self) -> None:
        name = self.create()
        created = self.client.create_function_url_config(FunctionName=name, AuthType="NONE")
        self.assertRegex(
            created["FunctionUrl"],
            rf"http://[a-z0-9]{{32}}\.lambda-url\.us-east-1\.localhost\.localstack\.cloud:"
            rf"{self.daemon.port}/",
        )
        self.assertNotIn("Cors", created)
        with self.assertRaises(ClientError) as raised:
            self.client.create_function_url_config(FunctionName=name, AuthType="NONE")
        self.assertEqual(raised.exception.response["Error"]["Code"], "ResourceConflictException")
        updated = self.client.update_function_url_config(
            FunctionName=name, AuthType="AWS_IAM", Cors={"AllowOrigins": ["*"]}
        )
        self.assertEqual(
            (updated["AuthType"], updated["Cors"]), ("AWS_IAM", {"AllowOrigins": ["*"]})
        )
        self.assertEqual(
            self.client.get_function_url_config(FunctionName=name)["FunctionUrl"],
            created["FunctionUrl"],
        )
        listed = self.client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
        self.assertEqual([c["FunctionUrl"] for c in listed], [created["FunctionUrl"]])
        self.client.delete_function_url_config(FunctionName=name)
        with self.assertRaises(ClientError) as raised:
            self.client.get_function_url_config(FunctionName=name)
        self.assertEqual(raised.exception.response["Error"]["Code"], "ResourceNotFoundException")


class UrlCallTests(LambdaTestCase):
    def test_call(self) -> None:
        """
        An HTTP request to the URL's host reaches the function with the
        payload 2.0 event, and its (plain JSON) result comes back as the body.
        """
        name = self.create()
        url = self.client.create_function_url_config(FunctionName=name, AuthType="NONE")
        official = url["FunctionUrl"].removeprefix("http://").rstrip("/")
        # The machine may have no DNS: the Host header names the URL.
        for host in (official, official.replace(".localstack.cloud", "")):
            connection = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=30)
            self.addCleanup(connection.close)
            connection.request("POST", "/items?size=2", body=b"hello", headers={"Host": host})
            response = connection.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.getheader("Content-Type"), "application/json")
            event = json.loads(response.read())["event"]
            self.assertEqual(event["version"], "2.0")
            self.assertEqual(event["rawPath"], "/items")
            self.assertEqual(event["rawQueryString"], "size=2")
            self.assertEqual(event["requestContext"]["http"]["method"], "POST")
            self.assertEqual(event["body"], "hello")


class UrlDataPlaneTests(SynchronousTestCase):
    def call(
        self, answer: Answering, request: HttpRequest, cors: dict[str, Any] | None = None
    ) -> Any:
        clock = MemoryReactorClock()
        store = FunctionStore.open(None)
        config = {"FunctionName": "f", "Version": "$LATEST", "RevisionId": "r", "Timeout": 3}
        function = Function("f", Version(config, None))
        function.url_configs[""] = {"_UrlId": "abc", "Cors": cors or {}}
        store.in_scope(("000000000000", "us-east-1"))["f"] = function
        provider = LambdaProvider(store, clock, answer, EventQueue(clock), "http://127.0.0.1:4566")
        return self.successResultOf(Deferred.fromCoroutine(provider.invoke_url(request, "abc")))

    def request(self, body: bytes = b"", content_type: str = "text/plain") -> HttpRequest:
        headers = Headers([("Content-Type", content_type), ("Cookie", "a=1; b=2")])
        return HttpRequest.from_uri(
            "POST", "/path/x?q=1&q=2", headers, io.BytesIO(body), host="abc.lambda-url.localhost"
        )

    def test_event_and_mapped_response(self) -> None:
        answer = Answering(
            json.dumps(
                {
                    "statusCode": 201,
                    "headers": {"Content-Type": "text/plain", "X-A": "b"},
                    "cookies": ["c=3"],
                    "body": "created",
                }
            ).encode()
        )
        response = self.call(answer, self.request(b"hello"))
        self.assertEqual((response.status, response.body), (201, b"created"))
        self.assertIn(("X-A", "b"), response.headers)
        self.assertIn(("Set-Cookie", "c=3"), response.headers)
        event = answer.events[0]
        self.assertEqual(
            (event["version"], event["rawPath"], event["rawQueryString"]),
            ("2.0", "/path/x", "q=1&q=2"),
        )
        self.assertEqual(event["queryStringParameters"], {"q": "1,2"})
        self.assertEqual(event["cookies"], ["a=1", "b=2"])
        self.assertEqual((event["body"], event["isBase64Encoded"]), ("hello", False))
        self.assertEqual(event["requestContext"]["http"]["method"], "POST")

    def test_binary_body_and_inferred_response(self) -> None:
        answer = Answering(b'{"plain": true}')
        response = self.call(answer, self.request(b"\x00\x01", "application/octet-stream"))
        self.assertEqual((response.status, response.body), (200, b'{"plain": true}'))
        self.assertEqual(
            (answer.events[0]["body"], answer.events[0]["isBase64Encoded"]), ("AAE=", True)
        )

    def test_structured_body(self) -> None:
        """A body that is no string is sent as JSON, not as Python's repr."""
        answer = Answering(json.dumps({"statusCode": 201, "body": {"ok": True, "n": [1]}}).encode())
        response = self.call(answer, self.request())
        self.assertEqual(response.status, 201)
        self.assertEqual(json.loads(response.body), {"ok": True, "n": [1]})

    def test_function_error(self) -> None:
        response = self.call(Answering(b"{}", "Unhandled"), self.request())
        self.assertEqual(response.status, 502)

    def cors_request(self, method: str, **headers: str) -> HttpRequest:
        pairs = [(name.replace("_", "-"), value) for name, value in headers.items()]
        return HttpRequest.from_uri(method, "/", Headers(pairs), io.BytesIO(), host="abc")

    CORS = {
        "AllowOrigins": ["https://app.example"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["x-token"],
        "ExposeHeaders": ["x-total"],
        "AllowCredentials": True,
        "MaxAge": 60,
    }

    def test_cors_preflight(self) -> None:
        """With CORS configured, Lambda answers preflights itself, without the function."""
        answer = Answering(b"{}")
        allowed = self.call(
            answer,
            self.cors_request(
                "OPTIONS", Origin="https://app.example", Access_Control_Request_Method="POST"
            ),
            self.CORS,
        )
        self.assertEqual(allowed.status, 200)
        self.assertEqual(
            dict(allowed.headers),
            {
                "Access-Control-Allow-Origin": "https://app.example",
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Expose-Headers": "x-total",
                "Access-Control-Allow-Methods": "GET,POST",
                "Access-Control-Allow-Headers": "x-token",
                "Access-Control-Max-Age": "60",
            },
        )
        refused = self.call(
            answer,
            self.cors_request(
                "OPTIONS", Origin="https://evil.example", Access_Control_Request_Method="POST"
            ),
            self.CORS,
        )
        self.assertEqual((refused.status, refused.headers), (200, []))
        self.assertEqual(answer.events, [])

    def test_cors_headers(self) -> None:
        """A call from an allowed origin gets the CORS headers; another origin gets none."""
        allowed = self.call(
            Answering(b"{}"), self.cors_request("GET", Origin="https://app.example"), self.CORS
        )
        self.assertIn(("Access-Control-Allow-Origin", "https://app.example"), allowed.headers)
        other = self.call(
            Answering(b"{}"), self.cors_request("GET", Origin="https://evil.example"), self.CORS
        )
        self.assertFalse(any(name.startswith("Access-Control") for name, _ in other.headers))

    def test_options_without_cors(self) -> None:
        """Without a CORS configuration an OPTIONS request reaches the function."""
        answer = Answering(b"{}")
        self.call(
            answer,
            self.cors_request("OPTIONS", Origin="https://a", Access_Control_Request_Method="GET"),
        )
        self.assertEqual(len(answer.events), 1)
