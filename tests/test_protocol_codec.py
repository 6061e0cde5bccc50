"""
The codecs' exact wire shapes for errors and for bad input: what AWS
sends, byte for byte where AWS's format is fixed.
"""

from __future__ import annotations

import json

import attrs
from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.codec import codec_for
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse


def body(response: HttpResponse) -> bytes:
    """A rendered body: errors are always bytes, never a stream."""
    assert isinstance(response.body, bytes)
    return response.body


def request(method: str, uri: str, body: bytes = b"", **headers: str) -> HttpRequest:
    return HttpRequest.from_uri(
        method, uri, [(k.replace("_", "-"), v) for k, v in headers.items()], body
    )


class ErrorShapeTests(SynchronousTestCase):
    def test_rest_xml(self) -> None:
        """S3: ``<Error>`` with the extra fields, then RequestId and HostId; both ids as headers."""
        codec = codec_for("s3")
        error = ServiceError(
            "NoSuchKey", "The specified key does not exist.", 404, fields={"Key": "a&b"}
        )
        response = codec.serialize_error(error, None, "ABCDEF0123456789", host_id="aG9zdA==")
        self.assertEqual(response.status, 404)
        self.assertEqual(
            response.body,
            b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
            b"<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
            b"<RequestId>ABCDEF0123456789</RequestId><HostId>aG9zdA==</HostId></Error>",
        )
        self.assertEqual(response.header("x-amz-request-id"), "ABCDEF0123456789")
        self.assertEqual(response.header("x-amz-id-2"), "aG9zdA==")
        self.assertEqual(response.header("content-type"), "application/xml")

    def test_head_has_no_body(self) -> None:
        codec = codec_for("s3")
        response = codec.serialize_error(
            ServiceError("NoSuchBucket", "x", 404), None, "id", head=True
        )
        self.assertEqual((response.status, response.body), (404, b""))

    def test_rest_json_modeled(self) -> None:
        """Lambda's modeled errors carry ``Type`` and ``Message`` as its shapes name them."""
        codec = codec_for("lambda")
        error = ServiceError("ResourceNotFoundException", "Function not found: arn", 404)
        response = codec.serialize_error(error, None, "rid")
        self.assertEqual(response.header("x-amzn-ErrorType"), "ResourceNotFoundException")
        self.assertEqual(response.header("x-amzn-RequestId"), "rid")
        self.assertEqual(
            json.loads(body(response)),
            {"Type": "User", "Message": "Function not found: arn"},
        )

    def test_rest_json_plain(self) -> None:
        """API Gateway's errors have a lower-case ``message``."""
        codec = codec_for("apigateway")
        error = ServiceError("NotFoundException", "Invalid API identifier specified 0:x", 404)
        response = codec.serialize_error(error, None, "rid")
        self.assertEqual(
            json.loads(body(response)), {"message": "Invalid API identifier specified 0:x"}
        )

    def test_json(self) -> None:
        codec = codec_for("logs")
        error = ServiceError("ResourceNotFoundException", "The specified log group does not exist.")
        response = codec.serialize_error(error, None, "rid")
        self.assertEqual(response.header("content-type"), "application/x-amz-json-1.1")
        self.assertEqual(
            json.loads(body(response)),
            {
                "__type": "ResourceNotFoundException",
                "message": "The specified log group does not exist.",
            },
        )

    def test_query(self) -> None:
        codec = codec_for("iam")
        error = ServiceError("NoSuchEntity", "The role with name r cannot be found.", 404)
        response = codec.serialize_error(error, None, "rid")
        self.assertEqual(
            response.body,
            b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
            b"<Type>Sender</Type><Code>NoSuchEntity</Code>"
            b"<Message>The role with name r cannot be found.</Message></Error>"
            b"<RequestId>rid</RequestId></ErrorResponse>",
        )
        self.assertEqual(response.header("content-type"), "text/xml")

    def test_error_headers(self) -> None:
        """Every protocol sends an error's own headers, HEAD answers included, body unchanged."""
        error = ServiceError(
            "NoSuchKey",
            "The specified key does not exist.",
            404,
            fields={"Key": "k"},
            headers=[("x-amz-delete-marker", "true"), ("x-amz-version-id", "v1")],
        )
        plain = attrs.evolve(error, headers=())
        for service in ("s3", "lambda", "logs", "iam"):
            codec = codec_for(service)
            for head in (False, True):
                response = codec.serialize_error(error, None, "rid", head=head)
                expected = codec.serialize_error(plain, None, "rid", head=head)
                self.assertEqual(
                    (response.status, response.body, response.headers),
                    (
                        404,
                        expected.body,
                        [
                            *expected.headers,
                            ("x-amz-delete-marker", "true"),
                            ("x-amz-version-id", "v1"),
                        ],
                    ),
                    (service, head),
                )


class BadInputTests(SynchronousTestCase):
    def assertError(self, service: str, incoming: HttpRequest, code: str, status: int = 400) -> str:
        codec = codec_for(service)
        with self.assertRaises(ServiceError) as raised:
            codec.parse_request(codec.find_operation(incoming), incoming)
        self.assertEqual((raised.exception.code, raised.exception.status), (code, status))
        return str(raised.exception.message)

    def test_json_malformed(self) -> None:
        self.assertError(
            "logs",
            request("POST", "/", b"{not json", X_Amz_Target="Logs_20140328.CreateLogGroup"),
            "SerializationException",
        )

    def test_json_wrong_type(self) -> None:
        message = self.assertError(
            "logs",
            request(
                "POST", "/", b'{"logGroupName": 5}', X_Amz_Target="Logs_20140328.CreateLogGroup"
            ),
            "SerializationException",
        )
        self.assertIn("expected string", message)

    def test_json_missing_member(self) -> None:
        """A missing required member is AWS's validation message, with the wire name."""
        message = self.assertError(
            "logs",
            request("POST", "/", b"{}", X_Amz_Target="Logs_20140328.CreateLogGroup"),
            "ValidationException",
        )
        self.assertEqual(
            message,
            "1 validation error detected: Value null at 'logGroupName' failed to satisfy "
            "constraint: Member must not be null",
        )

    def test_json_unknown_target(self) -> None:
        codec = codec_for("logs")
        with self.assertRaises(ServiceError) as raised:
            codec.find_operation(request("POST", "/", b"{}", X_Amz_Target="Logs_20140328.Nope"))
        self.assertEqual(raised.exception.code, "UnknownOperationException")

    def test_query_missing_member(self) -> None:
        self.assertError(
            "iam",
            request(
                "POST",
                "/",
                b"Action=GetRole&Version=2010-05-08",
                Content_Type="application/x-www-form-urlencoded",
            ),
            "ValidationError",
        )

    def test_query_bad_integer(self) -> None:
        self.assertError(
            "iam",
            request("GET", "/?Action=ListRoles&Version=2010-05-08&MaxItems=many"),
            "InvalidParameterValue",
        )

    def test_rest_xml_malformed(self) -> None:
        self.assertError(
            "s3",
            request("PUT", "/bucket?tagging", b"<Tagging><TagSet>"),
            "MalformedXML",
        )

    def test_rest_json_malformed(self) -> None:
        self.assertError(
            "lambda",
            request("POST", "/2015-03-31/functions", b"[1,"),
            "SerializationException",
        )

    def test_rest_no_route(self) -> None:
        """S3 answers a method no operation takes with 405 MethodNotAllowed."""
        codec = codec_for("s3")
        with self.assertRaises(ServiceError) as raised:
            codec.find_operation(request("PATCH", "/bucket/key"))
        self.assertEqual(
            (raised.exception.code, raised.exception.status), ("MethodNotAllowed", 405)
        )
        self.assertEqual(raised.exception.fields, {"Method": "PATCH", "ResourceType": "OBJECT"})

    def test_rest_json_no_route(self) -> None:
        codec = codec_for("lambda")
        with self.assertRaises(ServiceError) as raised:
            codec.find_operation(request("GET", "/2015-03-31/nothing/here"))
        self.assertEqual(
            (raised.exception.code, raised.exception.status), ("UnknownOperationException", 404)
        )


class LazyModelTests(SynchronousTestCase):
    def test_once(self) -> None:
        """A service's codec, and so its model, is built once."""
        self.assertIs(codec_for("sts"), codec_for("sts"))
        self.assertIs(codec_for("sts").service_model, codec_for("sts").service_model)


class HeaderBoundErrorMemberTests(SynchronousTestCase):
    def test_retry_after(self) -> None:
        """An error member the model binds to a header is sent as that header, not in the body."""
        codec = codec_for("lambda")
        error = ServiceError(
            "TooManyRequestsException", "Rate exceeded", 429, fields={"retryAfterSeconds": "3"}
        )
        response = codec.serialize_error(error, None, "rid")
        self.assertEqual(response.header("Retry-After"), "3")
        self.assertNotIn(b"retryAfterSeconds", body(response))


class EventStreamTests(SynchronousTestCase):
    def test_s3_select(self) -> None:
        """An event-stream payload is framed so botocore yields the same events, in order."""
        from tests.protocol_strategies import parse_response

        codec = codec_for("s3")
        operation = codec.service_model.operation_model("SelectObjectContent")
        events = [
            {"Records": {"Payload": b"a,b\n"}},
            {"Stats": {"Details": {"BytesScanned": 10, "BytesReturned": 4}}},
            {"End": {}},
        ]
        response = codec.serialize_response(operation, {"Payload": events}, "rid")
        self.assertEqual(response.header("Content-Type"), "application/vnd.amazon.eventstream")
        parsed = parse_response(operation, response)
        self.assertEqual(list(parsed["Payload"]), events)

    def test_json_initial_response(self) -> None:
        """In the ``json`` protocol the stream opens with the ``initial-response`` event."""
        from tests.protocol_strategies import parse_response

        codec = codec_for("logs")
        operation = codec.service_model.operation_model("StartLiveTail")
        events = [{"sessionStart": {"sessionId": "s", "logGroupIdentifiers": ["g"]}}]
        response = codec.serialize_response(operation, {"responseStream": events}, "rid")
        parsed = parse_response(operation, response)
        self.assertEqual(list(parsed["responseStream"]), events)
