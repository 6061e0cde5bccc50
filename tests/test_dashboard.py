"""
The dashboard's pages over real in-memory S3 and fake Lambda, Logs and
DynamoDB backends, driven through the gateway's resource on a fake clock.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from http.cookies import SimpleCookie
from io import BytesIO
from types import SimpleNamespace
from typing import Any

from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.auth.verify import accept_all
from awsemu.gateway.app import Gateway
from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import ModelService, ServiceBackend
from awsemu.iam.provider import IamProvider
from awsemu.iam.store import IamStore
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.s3.provider import S3Provider
from awsemu.s3.store import MemoryBlobs, Store

ROOT = "http://localhost/_awsemu/"
DEFAULT = RequestContext("id", "000000000000", "us-east-1", "s3", None, 0.0)


class FakeLambda:
    """A function ``echo`` that answers its payload, and says so in its log."""

    invoked: list[bytes]

    def __init__(self) -> None:
        self.invoked = []
        # As the FunctionStore holds them: by (account, region), then name.
        self.store = SimpleNamespace(functions={("000000000000", "us-east-1"): {"echo": None}})

    async def get_function(self, context: RequestContext, params: Mapping[str, Any]) -> Any:
        if params["FunctionName"] != "echo":
            raise ServiceError("ResourceNotFoundException", "Function not found: x", 404)
        return {"Configuration": {"FunctionName": "echo", "Runtime": "python3.12"}}

    async def list_versions_by_function(self, context: RequestContext, params: Any) -> Any:
        return {"Versions": [{"Version": "$LATEST"}, {"Version": "1"}]}

    async def list_aliases(self, context: RequestContext, params: Any) -> Any:
        return {"Aliases": [{"Name": "live", "FunctionVersion": "1"}]}

    async def get_function_url_config(self, context: RequestContext, params: Any) -> Any:
        raise ServiceError("ResourceNotFoundException", "no URL", 404)

    async def invoke(self, context: RequestContext, params: Mapping[str, Any]) -> Any:
        self.invoked.append(params["Payload"])
        log = b"START RequestId: 1 Version: $LATEST\nsaid <b>hi</b>\n"
        return {
            "StatusCode": 200,
            "Payload": params["Payload"],
            "FunctionError": "Unhandled",
            "LogResult": base64.b64encode(log).decode(),
        }


class FakeLogs:
    """A log group of two invocations of ``echo``."""

    async def describe_log_groups(self, context: RequestContext, params: Any) -> Any:
        return {"logGroups": [{"logGroupName": "/aws/lambda/echo"}]}

    async def filter_log_events(self, context: RequestContext, params: Mapping[str, Any]) -> Any:
        lines = [
            "START RequestId: aaaa-1 Version: $LATEST\n",
            "first\n",
            "END RequestId: aaaa-1\nREPORT RequestId: aaaa-1\tDuration: 12.50 ms\t\n",
            "START RequestId: bbbb-2 Version: $LATEST\n",
            "second\n",
            "END RequestId: bbbb-2\n"
            "REPORT RequestId: bbbb-2\tDuration: 3.00 ms\tStatus: timeout\t\n",
        ]
        since = params.get("startTime", 0)
        events = [
            {"eventId": str(n), "timestamp": 1000 * n, "logStreamName": "s", "message": line}
            for n, line in enumerate(lines)
            if 1000 * n >= since
        ]
        return {"events": events}


class FakeDynamoDB:
    """A DynamoDB backend answering from a dict of items, as DynamoDB Local would."""

    name = "dynamodb"

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {"a": {"pk": {"S": "a"}}}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def state(self) -> Any:
        return ModelService("x", object()).state()

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        operation = (request.headers.get("x-amz-target") or "").partition(".")[2]
        body = json.loads(request.body.read())
        self.calls.append((operation, body))
        answer: dict[str, Any]
        if operation == "DescribeTable" and body["TableName"] != "things":
            status, answer = (
                400,
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                    "message": "Cannot do operations on a non-existent table",
                },
            )
        else:
            status, answer = 200, self._answer(operation, body)
        return HttpResponse(status, [], json.dumps(answer).encode())

    def _answer(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        if operation == "ListTables":
            return {"TableNames": ["things"]}
        if operation == "DescribeTable":
            return {
                "Table": {
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "ItemCount": len(self.items),
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "by-n",
                            "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
                        }
                    ],
                }
            }
        if operation == "PutItem":
            self.items[body["Item"]["pk"]["S"]] = body["Item"]
            return {}
        if operation == "DeleteItem":
            del self.items[body["Key"]["pk"]["S"]]
            return {}
        return {"Items": list(self.items.values()), "LastEvaluatedKey": {"pk": {"S": "z"}}}

    def error_response(self, context: Any, request: Any, error: Any) -> HttpResponse:
        raise AssertionError("not used")


class DashboardTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_800_000_000)
        self.s3 = S3Provider(Store(MemoryBlobs()), self.clock)
        self.lambda_ = FakeLambda()
        self.dynamodb = FakeDynamoDB()
        backends: dict[str, ServiceBackend] = {
            "s3": ModelService("s3", self.s3, stored=self.s3.store),
            "lambda": ModelService("lambda", self.lambda_),
            "logs": ModelService("logs", FakeLogs()),
            "dynamodb": self.dynamodb,
        }
        self.gateway = Gateway(backends, "us-east-1", self.clock, authenticate=accept_all)
        self.http: Any = StubTreq(self.gateway.resource())

    def s3_call(self, operation: str, context: RequestContext = DEFAULT, **params: Any) -> Any:
        return self.successResultOf(
            Deferred.fromCoroutine(getattr(self.s3, operation)(context, params))
        )

    def get(self, path: str, **kwargs: Any) -> tuple[int, str, Any]:
        response = self.successResultOf(self.http.get(ROOT + path, allow_redirects=False, **kwargs))
        body = self.successResultOf(response.content())
        return response.code, body.decode(), response

    def post(self, path: str, **kwargs: Any) -> tuple[int, str, Any]:
        response = self.successResultOf(
            self.http.post(ROOT + path, allow_redirects=False, **kwargs)
        )
        body = self.successResultOf(response.content())
        return response.code, body.decode(), response


class OverviewTests(DashboardTestCase):
    def test_overview(self) -> None:
        """Services with their health, counts in the chosen scope, the last requests."""
        self.s3_call("create_bucket", Bucket="one")
        request = HttpRequest.from_uri("GET", "/one?list-type=2", [("Host", "localhost")])
        self.successResultOf(Deferred.fromCoroutine(self.gateway.respond(request)))
        self.clock.advance(3723)
        status, page, _ = self.get("")
        self.assertEqual(status, 200)
        self.assertIn("<dt>Up for</dt><dd>1h 2m 3s</dd>", page)
        self.assertIn("<td>s3</td><td>running</td>", page)
        self.assertIn("<td>S3 buckets</td><td>1</td>", page)
        self.assertIn("<td>DynamoDB tables</td><td>1</td>", page)
        self.assertIn("<td>ListObjectsV2</td><td>one</td><td>200</td>", page)
        status, document, _ = self.get("requests.json")
        calls = json.loads(document)
        self.assertEqual(
            [(c["service"], c["operation"], c["status"]) for c in calls],
            [("s3", "ListObjectsV2", 200)],
        )

    def test_scope(self) -> None:
        """The selector offers every account holding something; the cookie picks one."""
        other = RequestContext("id", "222222222222", "eu-west-1", "s3", None, 0.0)
        self.s3_call(
            "create_bucket",
            other,
            Bucket="theirs",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        self.s3_call("create_bucket", Bucket="ours")
        _, page, _ = self.get("s3")
        self.assertIn('<option value="222222222222/eu-west-1">', page)
        self.assertIn("ours", page)
        self.assertNotIn(">theirs<", page)
        status, _, response = self.get("scope?scope=222222222222/eu-west-1&back=/_awsemu/s3")
        self.assertEqual(
            (status, response.headers.getRawHeaders("location")), (302, ["/_awsemu/s3"])
        )
        _, page, _ = self.get("s3", cookies={"awsemu_scope": "222222222222/eu-west-1"})
        self.assertIn(">theirs<", page)
        self.assertNotIn(">ours<", page)

    def test_static(self) -> None:
        status, css, response = self.get("static/dashboard.css")
        self.assertEqual(status, 200)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"), ["text/css; charset=utf-8"]
        )
        self.assertIn("table", css)
        self.assertEqual(self.get("static/..%2F__init__.py")[0], 404)

    def test_not_served(self) -> None:
        status, page, _ = self.get("iam")
        self.assertEqual(status, 404)
        self.assertIn("does not serve iam", page)


class S3Tests(DashboardTestCase):
    def test_buckets_paginate(self) -> None:
        """A page shows 100 buckets and links the next page."""
        for n in range(130):
            self.s3_call("create_bucket", Bucket=f"bucket-{n:03}")
        _, page, _ = self.get("s3")
        self.assertEqual(len(re.findall(r'href="/_awsemu/s3/bucket-', page)), 100)
        following = re.search(r'<p class="more"><a href="/_awsemu/(s3\?token=[^"]+)"', page)
        assert following is not None
        _, page, _ = self.get(following.group(1).replace("&amp;", "&"))
        self.assertEqual(len(re.findall(r'href="/_awsemu/s3/bucket-', page)), 30)
        self.assertIn("bucket-129", page)

    def test_objects(self) -> None:
        """Prefixes navigate; an object shows its metadata, tags and versions; markup is escaped."""
        self.s3_call("create_bucket", Bucket="bkt")
        self.s3_call(
            "put_object",
            Bucket="bkt",
            Key="dir/<i>.txt",
            Body=BytesIO(b"12345"),
            Metadata={"color": "red"},
            Tagging="team=web",
        )
        _, page, _ = self.get("s3/bkt")
        self.assertIn('href="/_awsemu/s3/bkt?prefix=dir%2F">dir/</a>', page)
        self.assertNotIn("<i>", page)
        _, page, _ = self.get("s3/bkt?prefix=dir/")
        self.assertIn(
            "&lt;i&gt;.txt</a></td><td>5</td><td>&quot;827ccb0eea8a706c4c34a16891f84e7b&quot;", page
        )
        _, page, _ = self.get("s3/bkt/object?key=dir/%3Ci%3E.txt")
        self.assertIn("<td>color</td><td>red</td>", page)
        self.assertIn("<td>team</td><td>web</td>", page)
        self.assertIn("<td>null</td>", page)

    def test_upload_download_delete(self) -> None:
        self.s3_call("create_bucket", Bucket="bkt")
        form = (
            b'--XX\r\nContent-Disposition: form-data; name="prefix"\r\n\r\nin/\r\n'
            b'--XX\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n"
        )
        status, _, response = self.post(
            "s3/bkt/upload",
            data=form,
            headers={"Content-Type": "multipart/form-data; boundary=XX"},
        )
        self.assertEqual(
            (status, response.headers.getRawHeaders("location")),
            (302, ["/_awsemu/s3/bkt?prefix=in%2F"]),
        )
        status, body, response = self.get("s3/bkt/download?key=in/notes.txt")
        self.assertEqual((status, body), (200, "hello"))
        self.assertEqual(
            response.headers.getRawHeaders("content-disposition"),
            ["attachment; filename*=UTF-8''notes.txt"],
        )
        status, _, _ = self.post("s3/bkt/delete", data={"key": "in/notes.txt"})
        self.assertEqual(status, 302)
        status, page, _ = self.get("s3/bkt/download?key=in/notes.txt")
        self.assertEqual(status, 404)
        self.assertIn("NoSuchKey", page)


class DynamoDBTests(DashboardTestCase):
    def test_items(self) -> None:
        """Scan with a filter, the next page's key, put and delete through the service."""
        _, page, _ = self.get("dynamodb")
        self.assertIn('href="/_awsemu/dynamodb/things"', page)
        _, page, _ = self.get(
            'dynamodb/things?expression=pk+%3D+%3Av&values={"%3Av"%3A{"S"%3A"a"}}'
        )
        self.assertEqual(
            self.dynamodb.calls[-1],
            (
                "Scan",
                {
                    "TableName": "things",
                    "Limit": 25,
                    "FilterExpression": "pk = :v",
                    "ExpressionAttributeValues": {":v": {"S": "a"}},
                },
            ),
        )
        self.assertIn("<td>by-n</td><td>GlobalSecondaryIndexes</td><td>n (HASH)</td>", page)
        self.assertIn("start=%7B%22pk%22%3A+%7B%22S%22%3A+%22z%22%7D%7D", page)
        _, page, _ = self.post(
            "dynamodb/things", data={"action": "put", "item": '{"pk": {"S": "b"}}'}
        )
        self.assertIn("Item saved.", page)
        self.assertIn("b", self.dynamodb.items)
        _, page, _ = self.post(
            "dynamodb/things", data={"action": "delete", "item": '{"pk": {"S": "a"}}'}
        )
        self.assertIn("Item deleted.", page)
        self.assertEqual(list(self.dynamodb.items), ["b"])
        _, page, _ = self.post("dynamodb/things", data={"action": "put", "item": "{nope"})
        self.assertIn("The item is not JSON", page)

    def test_attribute_names(self) -> None:
        """A query's names go with it; a field that is not JSON is a 400 saying so."""
        self.get('dynamodb/things?mode=query&expression=%23k+%3D+%3Av&names={"%23k"%3A"pk"}')
        operation, body = self.dynamodb.calls[-1]
        self.assertEqual(
            (operation, body["KeyConditionExpression"], body["ExpressionAttributeNames"]),
            ("Query", "#k = :v", {"#k": "pk"}),
        )
        status, page, _ = self.get("dynamodb/things?values=%7Bnope")
        self.assertEqual(status, 400)
        self.assertIn("The values field is not JSON", page)

    def test_missing_table(self) -> None:
        status, page, _ = self.get("dynamodb/gone")
        self.assertEqual(status, 400)
        self.assertIn("Cannot do operations on a non-existent table", page)


class LambdaTests(DashboardTestCase):
    def test_invoke(self) -> None:
        """The form's payload goes to Invoke; result, error and log tail are shown escaped."""
        status, page, _ = self.post("lambda/echo", data={"payload": '{"a": 1}'})
        self.assertEqual(status, 200)
        self.assertEqual(self.lambda_.invoked, [b'{"a": 1}'])
        self.assertIn('<pre id="payload">{&quot;a&quot;: 1}</pre>', page)
        self.assertIn("<dd>Unhandled</dd>", page)
        self.assertIn("said &lt;b&gt;hi&lt;/b&gt;", page)
        self.assertIn("<td>live</td><td>1</td>", page)

    def test_recent_invocations(self) -> None:
        """Read from the log group: newest first, with duration, status and lines."""
        _, page, _ = self.get("lambda/echo")
        rows = re.findall(r"<tr><td>(\w+-\d)</td><td>(\w+)</td><td>([0-9.]+)</td>", page)
        self.assertEqual(rows, [("bbbb-2", "timeout", "3.00"), ("aaaa-1", "ok", "12.50")])
        self.assertIn("first", page)

    def test_unknown_function(self) -> None:
        status, page, _ = self.get("lambda/nope")
        self.assertEqual(status, 404)
        self.assertIn("Function not found", page)


class LogsTests(DashboardTestCase):
    def test_tail(self) -> None:
        """The events from ``since`` on but those the page has, answered at once."""
        _, document, _ = self.get("logs/tail.json?name=/aws/lambda/echo&since=4000&seen=4")
        events = json.loads(document)
        self.assertEqual([e["id"] for e in events], ["5"])
        self.assertTrue(events[0]["message"].startswith("END RequestId: bbbb-2\n"))

    def test_tail_waits(self) -> None:
        """With nothing new, the answer waits for events, then is empty after 20 s."""
        pending = self.http.get(ROOT + "logs/tail.json?name=g&since=5000&seen=5")
        self.clock.advance(19.9)
        self.http.flush()
        self.assertNoResult(pending)
        self.clock.advance(0.25)
        self.http.flush()
        response = self.successResultOf(pending)
        self.assertEqual(self.successResultOf(response.content()), b"[]")


class IamTests(DashboardTestCase):
    def test_users_paginate_without_secrets(self) -> None:
        """Users and their key ids, 50 a page; no secret key on any page."""
        iam = IamProvider(IamStore(), os.urandom)
        self.gateway.backends = {**self.gateway.backends, "iam": ModelService("iam", iam)}
        self.http = StubTreq(self.gateway.resource())
        context = RequestContext("id", "000000000000", "us-east-1", "iam", None, 0.0)
        secrets = []
        for n in range(60):
            name = f"user-{n:02}"
            self.successResultOf(
                Deferred.fromCoroutine(iam.create_user(context, {"UserName": name}))
            )
            created = self.successResultOf(
                Deferred.fromCoroutine(iam.create_access_key(context, {"UserName": name}))
            )
            secrets.append(created["AccessKey"]["SecretAccessKey"])
        _, page, _ = self.get("iam")
        self.assertEqual(len(re.findall(r"<td>user-\d\d</td><td>arn:", page)), 50)
        self.assertEqual(len(re.findall(r"<td>user-\d\d</td><td>AKIA", page)), 50)
        following = re.search(r'<p class="more"><a href="/_awsemu/(iam\?users=[^"]+)"', page)
        assert following is not None
        _, second, _ = self.get(following.group(1))
        self.assertEqual(len(re.findall(r"<td>user-\d\d</td><td>arn:", second)), 10)
        self.assertIn("user-59", second)
        for secret in secrets:
            self.assertNotIn(secret, page + second)


class AccessTests(DashboardTestCase):
    """Under a gateway that refuses unsigned calls (``--auth enforce``)."""

    def setUp(self) -> None:
        super().setUp()

        def authenticate(context: RequestContext, request: HttpRequest) -> ServiceError | None:
            good = "Credential=AKIDGOOD/" in (request.headers.get("authorization") or "")
            return None if good else ServiceError("InvalidClientTokenId", "no", 403)

        self.gateway.authenticate = authenticate
        self.http: Any = StubTreq(self.gateway.resource())

    def test_sign_in(self) -> None:
        status, _, response = self.get("s3")
        self.assertEqual(
            (status, response.headers.getRawHeaders("location")), (302, ["/_awsemu/login"])
        )
        self.assertEqual(self.get("requests.json")[0], 403)
        status, page, _ = self.post(
            "login", data={"access_key_id": "AKIDBAD", "secret_access_key": "s"}
        )
        self.assertEqual(status, 403)
        self.assertIn("not one awsemu knows", page)
        status, _, response = self.post(
            "login", data={"access_key_id": "AKIDGOOD", "secret_access_key": "s"}
        )
        self.assertEqual(status, 302)
        cookie = SimpleCookie(response.headers.getRawHeaders("set-cookie")[0])
        session = cookie["awsemu_dashboard"]
        self.assertEqual(
            (session["httponly"], session["samesite"], session["path"]),
            (True, "strict", "/_awsemu/"),
        )
        self.assertEqual(self.get("s3", cookies={"awsemu_dashboard": session.value})[0], 200)
        self.clock.advance(13 * 3600)
        self.assertEqual(self.get("s3", cookies={"awsemu_dashboard": session.value})[0], 302)
