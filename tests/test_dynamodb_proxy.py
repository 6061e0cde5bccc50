"""Tests for L{awsemu.dynamodb.proxy}, against a fake DynamoDB Local (an in-memory client)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from io import BytesIO
from typing import Any, cast

import attrs
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.dynamodb.arns import LOCAL_ARN_PREFIX, arn_prefix, rewrite_arns, to_public
from awsemu.dynamodb.forwarding import local_authorization
from awsemu.dynamodb.loopback import RESPONSE_TIMEOUT, LoopbackPool, LoopbackResponse
from awsemu.dynamodb.proxy import READY_TIMEOUT, DynamoDBProxy, list_tables_probe
from awsemu.dynamodb.supervisor import Unavailable
from awsemu.dynamodb.tables import TableStore
from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import RUNNING, ServiceState
from awsemu.protocol.http import Headers, HttpRequest, HttpResponse
from tests.test_dynamodb_loopback import RecordingTransport

LOCAL = "arn:aws:dynamodb:ddblocal:000000000000:"
PUBLIC = "arn:aws:dynamodb:eu-west-1:111111111111:"
S = "S"


@attrs.define
class FakeDynamoDBLocal:
    """
    A client whose DynamoDB Local answers every request with the next canned
    response, as Jetty frames it, recording what it received.
    """

    received: list[tuple[dict[bytes, list[bytes]], bytes]] = attrs.Factory(list)
    requests: list[tuple[int, bytes, bytes]] = attrs.Factory(list)
    sent_headers: list[list[tuple[bytes, bytes]]] = attrs.Factory(list)
    responses: list[tuple[int, dict[str, str], bytes]] = attrs.Factory(list)

    async def request(
        self,
        port: int,
        method: bytes,
        target: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> LoopbackResponse:
        headers = list(headers)
        self.requests.append((port, method, target))
        self.sent_headers.append(headers)
        by_name: dict[bytes, list[bytes]] = {}
        for name, value in headers:
            by_name.setdefault(name.lower(), []).append(value)
        self.received.append((by_name, body))
        status, response_headers, response_body = self.responses.pop(0)
        jetty = [("Server", "Jetty(12.1.11)"), ("Date", "Sun, 22 Nov 2026 08:47:17 GMT")]
        jetty.append(("x-amzn-RequestId", "local"))
        framing = [("Content-Length", str(len(response_body))), ("Connection", "keep-alive")]
        lines = [*jetty, *response_headers.items(), *framing]
        head = "".join(f"{name}: {value}\r\n" for name, value in lines)
        return LoopbackResponse(status, head.encode(), response_body)


@attrs.define
class FakeSupervised:
    """Ready on a port, or never (a Deferred that waits until cancelled)."""

    port: int | None = 8000

    def state(self) -> ServiceState:
        return RUNNING if self.port else ServiceState("starting", "DynamoDB Local exited")

    def whenReady(self) -> Deferred[int]:
        return Deferred() if self.port is None else succeed(self.port)

    def ready_port(self) -> int | None:
        return self.port


class RefusingClient:
    """A client whose connections are refused: the JVM just died."""

    async def request(
        self,
        port: int,
        method: bytes,
        target: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> LoopbackResponse:
        raise ConnectionRefusedError()


def context() -> RequestContext:
    return RequestContext(
        request_id="req-1",
        account_id="111111111111",
        region="eu-west-1",
        service="dynamodb",
        access_key_id="111111111111",
        started=0.0,
    )


def dynamodb_request(target: str, document: dict[str, Any]) -> HttpRequest:
    return HttpRequest.from_uri(
        "POST",
        "/",
        [
            ("Host", "localhost:4566"),
            ("X-Amz-Target", target),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=111111111111/20250101/eu-west-1/..."),
            ("X-Amz-Security-Token", "token"),
            ("Accept-Encoding", "gzip"),
        ],
        json.dumps(document, separators=(",", ":")).encode(),
    )


def crc(body: bytes) -> str:
    return str(zlib.crc32(body))


class ProxyTests(SynchronousTestCase):
    """L{DynamoDBProxy.handle} forwards requests and rewrites what must be."""

    def setUp(self) -> None:
        self.local = FakeDynamoDBLocal()
        self.clock = MemoryReactorClock()
        self.supervised = FakeSupervised()
        self.proxy = DynamoDBProxy(self.supervised, self.local, self.clock, secret="5ec")

    def handle(self, request: HttpRequest) -> HttpResponse:
        return self.successResultOf(Deferred.fromCoroutine(self.proxy.handle(context(), request)))

    def answer(self, status: int, body: bytes, **headers: str) -> None:
        self.local.responses.append(
            (status, {"Content-Type": "application/x-amz-json-1.0", **headers}, body)
        )

    def assertDynamoDBError(
        self, response: HttpResponse, status: int, error: str, message: str
    ) -> None:
        """``response`` is DynamoDB's JSON error ``error`` with ``message``, at ``status``."""
        self.assertEqual(response.status, status)
        self.assertEqual(
            json.loads(response.body),  # type: ignore[arg-type]
            {"__type": f"com.amazonaws.dynamodb.v20120810#{error}", "message": message},
        )

    def test_forwarded(self) -> None:
        """
        The body and headers are passed on, except that the credential names
        the caller's account (after the secret) and region and hop-by-hop headers are dropped;
        the response comes back with the gateway's request id.
        """
        body = b'{"TableNames":["t"]}'
        self.answer(200, body, **{"x-amz-crc32": crc(body), "x-amzn-RequestId": "local"})
        response = self.handle(dynamodb_request("DynamoDB_20120810.ListTables", {}))
        headers, received = self.local.received[0]
        self.assertEqual(received, b"{}")
        self.assertEqual(headers[b"x-amz-target"], [b"DynamoDB_20120810.ListTables"])
        self.assertEqual(
            headers[b"authorization"],
            [
                b"AWS4-HMAC-SHA256 Credential=5ec111111111111/20120810/eu-west-1/dynamodb/"
                b"aws4_request, SignedHeaders=host, Signature=0"
            ],
        )
        self.assertNotIn(b"x-amz-security-token", headers)
        self.assertNotIn(b"host", headers)
        self.assertNotIn(b"accept-encoding", headers)
        self.assertEqual(self.local.requests, [(8000, b"POST", b"/")])
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, body)
        self.assertEqual(response.header("x-amz-crc32"), crc(body))
        self.assertEqual(response.header("x-amzn-RequestId"), "req-1")
        self.assertEqual(
            [name.lower() for name, _ in response.headers],
            ["x-amzn-requestid", "content-type", "x-amz-crc32"],
        )

    def test_headers_as_sent(self) -> None:
        """Headers are passed on spelled as sent, in order, repeated ones apart."""
        self.answer(200, b"{}")
        request = dynamodb_request("DynamoDB_20120810.ListTables", {})
        request.headers = Headers([*request.headers.as_sent(), ("X-Mine", "a"), ("x-mine", "b")])
        self.handle(request)
        self.assertEqual(
            self.local.sent_headers[0],
            [
                (b"X-Amz-Target", b"DynamoDB_20120810.ListTables"),
                (b"Content-Type", b"application/x-amz-json-1.0"),
                (b"X-Mine", b"a"),
                (b"x-mine", b"b"),
                (
                    b"Authorization",
                    local_authorization("111111111111", "eu-west-1", "5ec"),
                ),
            ],
        )

    def test_response_arns(self) -> None:
        """
        ARNs in responses get the caller's region and account, and a new
        checksum (here in an answer that is otherwise passed on as is).
        """
        local = json.dumps(
            {
                "TableDescription": {
                    "TableArn": LOCAL + "table/t",
                    "LatestStreamArn": LOCAL + "table/t/stream/1",
                    "GlobalSecondaryIndexes": [{"IndexArn": LOCAL + "table/t/index/g"}],
                }
            }
        ).encode()
        self.answer(200, local, **{"x-amz-crc32": crc(local)})
        response = self.handle(dynamodb_request("DynamoDB_20120810.ListGlobalTables", {}))
        expected = local.replace(LOCAL.encode(), PUBLIC.encode())
        self.assertEqual(response.body, expected)
        self.assertEqual(response.header("x-amz-crc32"), crc(expected))

    def test_method_and_path(self) -> None:
        """The method, path and query are those of the request."""
        self.answer(200, b"{}")
        request = dynamodb_request("DynamoDB_20120810.ListTables", {})
        request.method, request.path, request.query = "PUT", "/x/y", [("a", "b c")]
        self.assertEqual(self.handle(request).status, 200)
        self.assertEqual(self.local.requests, [(8000, b"PUT", b"/x/y?a=b+c")])

    def test_headers_local_refuses_dropped(self) -> None:
        """
        Headers DynamoDB Local's server answers with an HTML 400 (a name that
        is not a token, a control character, bytes that were not UTF-8) are
        not passed on; the others are.
        """
        self.answer(200, b"{}")
        request = dynamodb_request("DynamoDB_20120810.ListTables", {})
        for name, value in (
            ("X-F\xe9o", "a"),
            ("X(o)", "a"),
            ("X-Control", "a\x01b"),
            ("X-Bytes", "\udce9"),
            ("X-Kept", "caf\xe9"),
        ):
            request.headers = Headers([*request.headers.as_sent(), (name, value)])
        self.assertEqual(self.handle(request).status, 200)
        [sent] = self.local.sent_headers
        names = [name for name, _ in sent]
        self.assertIn(b"X-Kept", names)
        for dropped in (b"X-F\xc3\xa9o", b"X(o)", b"X-Control", b"X-Bytes"):
            self.assertNotIn(dropped, names)

    def test_no_target(self) -> None:
        """A request naming no operation is refused here: DynamoDB Local would fail with a 500."""
        request = dynamodb_request("", {})
        response = self.handle(request)
        self.assertEqual(response.status, 400)
        self.assertEqual(
            json.loads(cast(bytes, response.body)),
            {
                "__type": "com.amazonaws.dynamodb.v20120810#UnknownOperationException",
                "message": "An unknown operation was requested.",
            },
        )
        self.assertEqual(self.local.requests, [])

    def test_query_not_utf8(self) -> None:
        """A query that was not UTF-8 reaches DynamoDB Local as it came."""
        self.answer(200, b"{}")
        request = dynamodb_request("DynamoDB_20120810.ListTables", {})
        request.query = [("a", "\udcff")]
        self.assertEqual(self.handle(request).status, 200)
        self.assertEqual(self.local.requests, [(8000, b"POST", b"/?a=%FF")])

    def test_body_local_fails_on(self) -> None:
        """
        What DynamoDB Local answers 500 without checking (a body that is not a
        JSON object, a required member missing) is DynamoDB's 400; a sound
        request's 500 is passed on.
        """
        for body in (b"", b"\xaf\xc3*v", b"[" * 5000 + b"]" * 5000):
            self.answer(500, b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalFailure"}')
            request = dynamodb_request("DynamoDB_20120810.ListTables", {})
            request.body = BytesIO(body)
            response = self.handle(request)
            self.assertEqual(response.status, 400)
            self.assertEqual(
                json.loads(cast(bytes, response.body))["__type"],
                "com.amazonaws.dynamodb.v20120810#SerializationException",
            )
        self.answer(500, b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalFailure"}')
        missing = self.handle(dynamodb_request("DynamoDB_20120810.ExecuteStatement", {}))
        self.assertEqual(missing.status, 400)
        self.assertEqual(
            json.loads(cast(bytes, missing.body))["message"],
            "1 validation error detected: Value null at 'statement' failed to satisfy"
            " constraint: Member must not be null",
        )
        self.answer(500, b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalFailure"}')
        self.assertEqual(
            self.handle(dynamodb_request("DynamoDB_20120810.ListTables", {})).status, 500
        )

    def test_stream_record_region(self) -> None:
        """Stream records name the caller's region."""
        local = json.dumps(
            {
                "Records": [
                    {"awsRegion": "ddblocal", "dynamodb": {"NewImage": {"r": {S: "ddblocal"}}}}
                ]
            }
        ).encode()
        self.answer(200, local)
        response = self.handle(dynamodb_request("DynamoDBStreams_20120810.GetRecords", {}))
        self.assertEqual(
            json.loads(cast(bytes, response.body)),
            {
                "Records": [
                    {"awsRegion": "eu-west-1", "dynamodb": {"NewImage": {"r": {S: "ddblocal"}}}}
                ]
            },
        )

    def test_item_data_untouched(self) -> None:
        """Item data holding DynamoDB Local's ARN prefix is returned as it is."""
        body = json.dumps(
            {"Item": {"TableArn": {"S": LOCAL + "table/t"}, "k": {"L": [{"S": LOCAL}]}}}
        ).encode()
        self.answer(200, body, **{"x-amz-crc32": crc(body)})
        response = self.handle(dynamodb_request("DynamoDB_20120810.GetItem", {}))
        self.assertEqual((response.body, response.header("x-amz-crc32")), (body, crc(body)))

    def test_request_arns(self) -> None:
        """ARNs and shard iterators in requests are turned back into DynamoDB Local's."""
        self.answer(200, b"{}")
        self.answer(200, b"{}")
        self.handle(
            dynamodb_request(
                "DynamoDBStreams_20120810.DescribeStream",
                {"StreamArn": PUBLIC + "table/t/stream/1", "Policy": PUBLIC},
            )
        )
        self.handle(
            dynamodb_request(
                "DynamoDBStreams_20120810.GetRecords",
                {"ShardIterator": PUBLIC + "table/t/stream/1|1|x"},
            )
        )
        self.assertEqual(
            [json.loads(body) for _, body in self.local.received],
            [
                {"StreamArn": LOCAL + "table/t/stream/1", "Policy": PUBLIC},
                {"ShardIterator": LOCAL + "table/t/stream/1|001|x"},
            ],
        )

    def test_errors_unchanged(self) -> None:
        """
        DynamoDB Local's errors that AWS words alike pass through: status,
        type and message, byte for byte.
        """
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                "message": "The conditional request failed",
            }
        ).encode()
        self.answer(400, body)
        response = self.handle(dynamodb_request("DynamoDB_20120810.PutItem", {}))
        self.assertEqual((response.status, response.body), (400, body))
        self.assertIsNone(response.header("x-amz-crc32"))

    def test_error_message_arns(self) -> None:
        """
        The ARNs an error's messages quote are the caller's; an item the
        error carries is untouched; the body gets a new checksum.
        """
        item = {"message": {"S": LOCAL + "table/t"}}

        def error(prefix: str) -> dict[str, Any]:
            return {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": f'Stream: {prefix}table/t/stream/x "not" found',
                "CancellationReasons": [{"Code": "None", "Message": prefix, "Item": item}],
            }

        self.answer(400, json.dumps(error(LOCAL)).encode())
        response = self.handle(dynamodb_request("DynamoDB_20120810.DescribeStream", {}))
        self.assertEqual(response.status, 400)
        self.assertEqual(json.loads(cast(bytes, response.body)), error(PUBLIC))
        self.assertEqual(response.header("x-amz-crc32"), crc(cast(bytes, response.body)))

    def test_not_ready(self) -> None:
        """A request waits for DynamoDB Local, then gets a 503 DynamoDB would send."""
        self.supervised.port = None
        handled = Deferred.fromCoroutine(
            self.proxy.handle(context(), dynamodb_request("DynamoDB_20120810.ListTables", {}))
        )
        self.clock.advance(READY_TIMEOUT - 1)
        self.assertNoResult(handled)
        self.clock.advance(1)
        response = self.successResultOf(handled)
        self.assertDynamoDBError(
            response,
            503,
            "ServiceUnavailable",
            "DynamoDB Local is not ready: DynamoDB Local exited. Retry the request.",
        )

    def test_unavailable(self) -> None:
        """Without DynamoDB Local, requests fail at once with the fix."""
        self.proxy.supervised = Unavailable("DynamoDB Local is not installed: run `x`")
        response = self.handle(dynamodb_request("DynamoDB_20120810.ListTables", {}))
        self.assertDynamoDBError(
            response, 500, "InternalServerError", "DynamoDB Local is not installed: run `x`"
        )
        self.assertEqual(self.proxy.state().status, "error")

    def test_hung(self) -> None:
        """
        A DynamoDB Local that never answers gives, after the pool's timeout,
        the 500 botocore retries; the stuck connection is closed, and the
        next request is served on a new one.
        """
        self.proxy.client = LoopbackPool(self.clock, self.clock)
        transports: list[RecordingTransport] = []

        def handled_on_new_connection() -> Deferred[HttpResponse]:
            handled = Deferred.fromCoroutine(
                self.proxy.handle(context(), dynamodb_request("DynamoDB_20120810.ListTables", {}))
            )
            factory = self.clock.tcpClients[len(transports)][2]
            protocol = factory.buildProtocol(None)
            assert protocol is not None
            transports.append(RecordingTransport(protocol))
            protocol.makeConnection(transports[-1])
            return handled

        hung = handled_on_new_connection()
        self.clock.advance(RESPONSE_TIMEOUT - 1)
        self.assertNoResult(hung)
        self.clock.advance(1)
        response = self.successResultOf(hung)
        self.assertDynamoDBError(
            response,
            500,
            "InternalServerError",
            "DynamoDB Local did not answer within 60 seconds. Retry the request.",
        )
        self.assertTrue(transports[0].disconnecting)

        served = handled_on_new_connection()
        transports[1].protocol.dataReceived(
            b'HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{"TableNames":[]}'
        )
        self.assertEqual(self.successResultOf(served).body, b'{"TableNames":[]}')

    def test_connection_lost(self) -> None:
        """A JVM that dies under a request gives a 500 botocore retries."""
        self.proxy.client = RefusingClient()
        response = self.handle(dynamodb_request("DynamoDB_20120810.ListTables", {}))
        self.assertEqual(response.status, 500)
        self.assertIn(b"InternalServerError", cast(bytes, response.body))


def table(member: str = "Table") -> bytes:
    """DynamoDB Local's description of table C{t} in ``member``."""
    description = {"TableArn": LOCAL + "table/t", "TableName": "t", "CreationDateTime": 2.5}
    return json.dumps({member: description}).encode()


NOT_FOUND = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "Message": "Cannot do operations on a non-existent table",
    }
).encode()


class StoreAnsweredCase(SynchronousTestCase):
    """A proxy answering some operations from its table store, with a fake DynamoDB Local."""

    def setUp(self) -> None:
        self.local = FakeDynamoDBLocal()
        self.tables = TableStore()
        self.clock = MemoryReactorClock()
        self.proxy = DynamoDBProxy(
            FakeSupervised(), self.local, self.clock, self.tables, secret="5ec"
        )

    def handle(self, target: str, document: dict[str, Any]) -> HttpResponse:
        request = dynamodb_request("DynamoDB_20120810." + target, document)
        return self.successResultOf(Deferred.fromCoroutine(self.proxy.handle(context(), request)))

    def answer(self, status: int, body: bytes) -> None:
        self.local.responses.append((status, {"Content-Type": "application/x-amz-json-1.0"}, body))

    def assertError(self, response: HttpResponse, status: int, code: str, message: str) -> None:
        self.assertEqual(response.status, status)
        self.assertEqual(
            json.loads(cast(bytes, response.body)),
            {"__type": "com.amazonaws.dynamodb.v20120810#" + code, "message": message},
        )


class TaggingTests(StoreAnsweredCase):
    """
    The tagging operations are answered by the proxy from its table store,
    after a C{DescribeTable} forwarded to DynamoDB Local.
    """

    def test_tag_list_untag(self) -> None:
        """
        Tags are added, listed by key and removed; each request asks DynamoDB
        Local whether the table exists, in the caller's database, by name.
        """
        arn = PUBLIC + "table/t"
        for _ in range(3):
            self.answer(200, table())
        tags = [{"Key": "team", "Value": "a"}, {"Key": "cost", "Value": ""}]
        tagged = self.handle("TagResource", {"ResourceArn": arn, "Tags": tags})
        self.assertEqual((tagged.status, tagged.body), (200, b"{}"))
        self.assertEqual(
            [(name.lower(), value) for name, value in tagged.headers],
            [
                ("x-amzn-requestid", "req-1"),
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-crc32", crc(b"{}")),
            ],
        )
        listed = self.handle("ListTagsOfResource", {"ResourceArn": arn})
        self.assertEqual(
            json.loads(cast(bytes, listed.body)),
            {"Tags": [{"Key": "cost", "Value": ""}, {"Key": "team", "Value": "a"}]},
        )
        self.assertEqual(listed.header("x-amz-crc32"), crc(cast(bytes, listed.body)))
        self.handle("UntagResource", {"ResourceArn": arn, "TagKeys": ["team", "absent"]})
        self.assertEqual(self.tables.tags(arn, 2.5), {"cost": ""})
        headers, body = self.local.received[0]
        self.assertEqual(headers[b"x-amz-target"], [b"DynamoDB_20120810.DescribeTable"])
        self.assertTrue(
            headers[b"authorization"][0].startswith(b"AWS4-HMAC-SHA256 Credential=5ec111111111111/")
        )
        self.assertEqual(json.loads(body), {"TableName": "t"})

    def test_other_table(self) -> None:
        """
        Tags of an earlier table of the same name (gone without a
        C{DeleteTable}, as when an in-memory DynamoDB Local restarts) are not
        the new table's.
        """
        arn = PUBLIC + "table/t"
        self.tables.tag(arn, 1.5, {"old": "yes"})
        self.answer(200, table())
        listed = self.handle("ListTagsOfResource", {"ResourceArn": arn})
        self.assertEqual(json.loads(cast(bytes, listed.body)), {"Tags": []})
        self.answer(200, table())
        self.handle("TagResource", {"ResourceArn": arn, "Tags": [{"Key": "new", "Value": ""}]})
        self.assertEqual(self.tables.tables, {arn: {"CreationDateTime": 2.5, "Tags": {"new": ""}}})

    def test_invalid_tag_keys(self) -> None:
        """C{TagKeys} must be a list of strings."""
        self.answer(200, table())
        response = self.handle("UntagResource", {"ResourceArn": PUBLIC + "table/t"})
        self.assertEqual(response.status, 400)
        self.assertIn(b"#ValidationException", cast(bytes, response.body))

    def test_missing_table(self) -> None:
        """A table DynamoDB Local does not know is AWS's C{ResourceNotFoundException}."""
        self.answer(400, NOT_FOUND)
        response = self.handle("ListTagsOfResource", {"ResourceArn": PUBLIC + "table/gone"})
        self.assertError(
            response,
            400,
            "ResourceNotFoundException",
            f"Requested resource not found: ResourceArn: {PUBLIC}table/gone not found",
        )

    def test_describe_failed(self) -> None:
        """Any other answer of DynamoDB Local to the C{DescribeTable} is passed on."""
        self.answer(500, b'{"__type":"x#InternalFailure"}')
        response = self.handle("ListTagsOfResource", {"ResourceArn": PUBLIC + "table/t"})
        self.assertEqual((response.status, response.body), (500, b'{"__type":"x#InternalFailure"}'))

    def test_not_a_table(self) -> None:
        """
        Only tables of the caller's region can be tagged; another account's
        are denied; nothing is asked of DynamoDB Local.
        """
        for arn in (
            PUBLIC + "table/t/index/i",
            PUBLIC + "table/t/stream/2020-01-01T00:00:00.000",
            PUBLIC + "backup/b",
            "arn:aws:dynamodb:us-east-1:111111111111:table/t",
            "arn:aws:s3:::bucket",
            "table/t",
            None,
        ):
            response = self.handle("TagResource", {"ResourceArn": arn, "Tags": []})
            self.assertEqual(response.status, 400, arn)
            self.assertIn(b"#ValidationException", cast(bytes, response.body))
        self.assertError(
            self.handle("UntagResource", {"ResourceArn": "arn:aws:dynamodb:eu-west-1:2:table/t"}),
            400,
            "AccessDeniedException",
            "User: arn:aws:iam::111111111111:root is not authorized to perform:"
            " dynamodb:UntagResource on resource: arn:aws:dynamodb:eu-west-1:2:table/t",
        )
        self.assertEqual(self.local.received, [])

    def test_invalid_tags(self) -> None:
        """Tags DynamoDB refuses are a C{ValidationException}, and change nothing."""
        arn = PUBLIC + "table/t"
        self.answer(200, table())
        response = self.handle(
            "TagResource", {"ResourceArn": arn, "Tags": [{"Key": "aws:x", "Value": ""}]}
        )
        self.assertError(
            response,
            400,
            "ValidationException",
            "Tag keys starting with 'aws:' are reserved: aws:x",
        )
        self.assertEqual(self.tables.tables, {})

    def test_not_json(self) -> None:
        """A tagging request that is not a JSON object is a C{SerializationException}."""
        request = dynamodb_request("DynamoDB_20120810.TagResource", {})
        request.body = BytesIO(b"[")
        response = self.successResultOf(
            Deferred.fromCoroutine(self.proxy.handle(context(), request))
        )
        self.assertError(
            response, 400, "SerializationException", "The request body is not a JSON object"
        )

    def test_create_and_delete_table(self) -> None:
        """
        C{CreateTable}'s tags are kept once DynamoDB Local made the table,
        under its public ARN, and dropped once it deleted it.
        """
        arn = PUBLIC + "table/t"
        self.answer(200, table("TableDescription"))
        created = self.handle(
            "CreateTable", {"TableName": "t", "Tags": [{"Key": "team", "Value": "a"}]}
        )
        self.assertEqual(created.status, 200)
        self.assertEqual(self.tables.tags(arn, 2.5), {"team": "a"})
        self.answer(400, b'{"__type":"x#ResourceInUseException"}')
        again = self.handle("CreateTable", {"TableName": "t", "Tags": [{"Key": "b", "Value": ""}]})
        self.assertEqual(again.status, 400)
        self.assertEqual(self.tables.tags(arn, 2.5), {"team": "a"})
        self.answer(200, table("TableDescription"))
        self.assertEqual(self.handle("DeleteTable", {"TableName": "t"}).status, 200)
        self.assertEqual(self.tables.tables, {})

    def test_create_table_invalid_tags(self) -> None:
        """A C{CreateTable} with tags DynamoDB refuses makes no table."""
        tags = [{"Key": str(n), "Value": ""} for n in range(51)]
        response = self.handle("CreateTable", {"TableName": "t", "Tags": tags})
        self.assertError(
            response,
            400,
            "ValidationException",
            "The number of tags on the resource would exceed the limit of 50",
        )
        self.assertEqual(self.local.received, [])


class ProbeTests(SynchronousTestCase):
    def test_probe(self) -> None:
        """The probe is a ListTables that must succeed."""
        local = FakeDynamoDBLocal()
        probe = list_tables_probe(local)
        local.responses = [(200, {}, b"{}"), (500, {}, b"{}")]
        self.assertTrue(self.successResultOf(probe(8000)))
        self.assertFalse(self.successResultOf(probe(8000)))
        self.assertEqual(local.received[0][0][b"x-amz-target"], [b"DynamoDB_20120810.ListTables"])


class RewriteTests(SynchronousTestCase):
    """L{rewrite_arns} changes ARN members only."""

    @given(st.text())
    def test_item_strings_untouched(self, text: str) -> None:
        """No item attribute's text, whatever it holds, is ever changed."""
        for value in (text, LOCAL + text, f'","TableArn":"{LOCAL}', '","awsRegion":"ddblocal'):
            body = json.dumps({"Item": {"TableArn": {"S": value}, value: {"S": value}}}).encode()
            self.assertEqual(to_public(body, "eu-west-1", "111111111111"), body)
            public = arn_prefix("eu-west-1", "111111111111")
            self.assertEqual(
                rewrite_arns(body.replace(LOCAL_ARN_PREFIX, public), public, b"x"),
                body.replace(LOCAL_ARN_PREFIX, public),
            )

    def test_spaces(self) -> None:
        """JSON with spaces around the colon is rewritten too."""
        self.assertEqual(
            rewrite_arns(b'{"StreamArn" : "' + LOCAL_ARN_PREFIX + b'x"}', LOCAL_ARN_PREFIX, b"P:"),
            b'{"StreamArn" : "P:x"}',
        )


DAY = 86400.0


class ContinuousBackupsTests(StoreAnsweredCase):
    """
    C{DescribeContinuousBackups} and C{UpdateContinuousBackups} are answered
    by the proxy from its table store, after a C{DescribeTable} forwarded to
    DynamoDB Local.
    """

    def backups(self, target: str, document: dict[str, Any]) -> dict[str, Any]:
        """The C{PointInTimeRecoveryDescription} of a successful answer to ``target``."""
        self.answer(200, table())
        response = self.handle(target, document)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("x-amz-crc32"), crc(cast(bytes, response.body)))
        description = json.loads(cast(bytes, response.body))["ContinuousBackupsDescription"]
        self.assertEqual(description["ContinuousBackupsStatus"], "ENABLED")
        recovery: dict[str, Any] = description["PointInTimeRecoveryDescription"]
        return recovery

    def update(self, **specification: Any) -> dict[str, Any]:
        return self.backups(
            "UpdateContinuousBackups",
            {"TableName": "t", "PointInTimeRecoverySpecification": specification},
        )

    def test_enable_disable(self) -> None:
        """
        Recovery starts off; turned on, it reaches back to when it was first
        turned on (at most its period), and the latest restorable time
        trails the present by five minutes; turned off, it is forgotten.
        """
        self.clock.advance(100 * DAY)
        off = {"PointInTimeRecoveryStatus": "DISABLED"}
        self.assertEqual(self.backups("DescribeContinuousBackups", {"TableName": "t"}), off)
        self.assertEqual(json.loads(self.local.received[0][1]), {"TableName": "t"})
        on = self.update(PointInTimeRecoveryEnabled=True, RecoveryPeriodInDays=2)
        self.assertEqual(
            on,
            {
                "PointInTimeRecoveryStatus": "ENABLED",
                "RecoveryPeriodInDays": 2,
                "EarliestRestorableDateTime": 100 * DAY,
                "LatestRestorableDateTime": 100 * DAY,
            },
        )
        self.clock.advance(DAY)
        on = self.update(PointInTimeRecoveryEnabled=True, RecoveryPeriodInDays=2)
        self.assertEqual(on["EarliestRestorableDateTime"], 100 * DAY)
        self.assertEqual(on["LatestRestorableDateTime"], 101 * DAY - 300)
        self.clock.advance(2 * DAY)
        on = self.backups("DescribeContinuousBackups", {"TableName": "t"})
        self.assertEqual(on["EarliestRestorableDateTime"], 101 * DAY)
        kept = self.tables.recovery(PUBLIC + "table/t", 2.5)
        self.assertEqual(kept, {"Since": 100 * DAY, "Days": 2})
        self.assertEqual(self.update(PointInTimeRecoveryEnabled=False), off)
        self.assertEqual(self.tables.tables, {})

    def test_missing_table(self) -> None:
        """A table DynamoDB Local does not know is AWS's C{TableNotFoundException}."""
        for target, document in (
            ("DescribeContinuousBackups", {"TableName": "gone"}),
            (
                "UpdateContinuousBackups",
                {
                    "TableName": "gone",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
            ),
        ):
            self.answer(400, NOT_FOUND)
            response = self.handle(target, document)
            self.assertError(response, 400, "TableNotFoundException", "Table not found: gone")

    def test_invalid_specification(self) -> None:
        """A specification left out, or a period out of 1 to 35 days, changes nothing."""
        for specification in (
            None,
            {},
            {"PointInTimeRecoveryEnabled": "yes"},
            {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 0},
            {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36},
            {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": True},
        ):
            self.answer(200, table())
            response = self.handle(
                "UpdateContinuousBackups",
                {"TableName": "t", "PointInTimeRecoverySpecification": specification},
            )
            self.assertEqual(response.status, 400, specification)
            self.assertIn(b"#ValidationException", cast(bytes, response.body))
        self.assertEqual(self.tables.tables, {})
