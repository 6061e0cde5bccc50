"""
The acceptance test of ``awsemu.protocol``: every operation of every
emulated service, round-tripped through botocore itself.

* Requests: botocore's serializer builds the request from generated
  parameters; the codec must route it to the operation and parse the
  parameters back.
* Responses: the codec serializes a generated output; botocore's parser
  must read the same output back, without warnings.
* Errors: every modeled error of the service, serialized by the codec,
  must reach botocore's parser with its code, message and fields.

Each service has its own test case so that a failure names the service;
each test runs every operation and reports all the failing operations,
each with the minimal example Hypothesis found.
"""

# trial's assertions carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from botocore.model import OperationModel, Shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from awsemu.gateway.context import new_context
from awsemu.gateway.services import ModelService
from awsemu.protocol.codec import Codec, codec_for
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest
from tests.protocol_strategies import (
    Wire,
    body_bytes,
    body_text,
    error_code,
    error_status,
    input_params,
    message_member,
    normalize,
    output_params,
    params_for,
    parse_response,
    shown,
    wire_names,
    wire_request,
)

REQUEST_ID = "req-id"

#: About 600 operations in two directions must fit in a minute on two
#: cores; a handful of examples per operation still covers every member
#: (optional members are drawn independently) over the runs.
EXAMPLES = 10

_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)


class RoundTripFailure(AssertionError):
    """A value that did not survive the trip, with everything needed to reproduce it."""


@contextmanager
def _blame(context: str) -> Iterator[None]:
    """Turn whatever the codec or botocore raises into a failure that shows its input."""
    try:
        yield
    except RoundTripFailure:
        raise
    except Exception as e:
        raise RoundTripFailure(f"{e!r} {context}") from e


def _described(request: HttpRequest) -> str:
    """A request as it went over the wire, body included, for failure messages."""
    return shown(
        (request.method, request.path, request.query, dict(request.headers), request.read_body())
    )


def _wire(operation: OperationModel, *, request: bool) -> Wire:
    return Wire(operation.metadata["protocol"], request=request)


def check_request(codec: Codec, operation: OperationModel, params: dict[str, Any]) -> None:
    """botocore's request for ``params`` routes to ``operation`` and parses back to ``params``."""
    request = wire_request(operation, params)
    expected_route = codec.shadowed.get(operation.name, operation.name)
    with _blame(f"for {shown(params)}\nrequest: {_described(request)}"):
        found = codec.find_operation(request).name
        parsed = codec.parse_request(operation, request)
    if found != expected_route:
        raise RoundTripFailure(f"routed to {found}: {_described(request)}")
    wire = _wire(operation, request=True)
    expected = normalize(params, operation.input_shape, wire, operation)
    got = normalize(parsed, operation.input_shape, wire, operation)
    if got != expected:
        raise RoundTripFailure(
            f"sent {shown(params)}\nparsed {shown(got)}\nrequest: {_described(request)}"
        )


def check_response(codec: Codec, operation: OperationModel, output: dict[str, Any]) -> None:
    """The codec's response for ``output`` reads back as ``output`` in botocore."""
    with _blame(f"serializing {shown(output)}"):
        response = codec.serialize_response(operation, output, REQUEST_ID)
    head = operation.http.get("method") == "HEAD"
    with _blame(f"for {shown(output)}\nresponse: {shown(response)}"):
        parsed = parse_response(operation, response, head=head)
    parsed.pop("ResponseMetadata", None)
    wire = _wire(operation, request=False)
    expected = normalize(output, operation.output_shape, wire, operation)
    got = normalize(parsed, operation.output_shape, wire, operation)
    if got != expected:
        raise RoundTripFailure(
            f"returned {shown(output)}\nparsed {shown(parsed)}\nresponse: {shown(response)}"
        )


def check_error(
    codec: Codec,
    shape: Shape,
    operation: OperationModel,
    members_and_message: tuple[dict[str, Any], str],
) -> None:
    """
    A modeled error reaches botocore as it does from AWS: the generic error
    parse finds its code and message, and the modeled parse (which the
    client does next, for the error's shape) finds its other members.
    """
    members, message = members_and_message
    message_name = message_member(shape)
    # The message travels as the error's message, not as one of its fields.
    fields = {name: value for name, value in members.items() if name != message_name}
    code = error_code(shape)
    error = ServiceError(
        code,
        message,
        status=error_status(shape),
        sender_fault=bool(shape.metadata.get("error", {}).get("senderFault", False)),
        fields=wire_names(shape, fields),
    )
    with _blame(f"serializing {error!r}"):
        response = codec.serialize_error(error, operation, REQUEST_ID)
    with _blame(f"for {error!r}\nresponse: {shown(response)}"):
        parsed = parse_response(operation, response)
        modeled = parse_response(operation, response, shape)
    details = f"{error!r}\nresponse: {shown(response)}\nparsed: {shown(parsed)}"
    if (parsed["Error"].get("Code"), parsed["Error"].get("Message")) != (code, message):
        raise RoundTripFailure(f"code or message lost: {details}")
    if codec.service_model.shape_for_error_code(code).name != shape.name:
        raise RoundTripFailure(f"botocore maps {code} to another shape")
    wire = _wire(operation, request=False)
    expected = normalize(fields, shape, wire)
    got = normalize(modeled, shape, wire)
    # The codec may add members AWS always sends (Lambda's Type: User or
    # Service); every member the provider gave must come through as given.
    if {name: got.get(name) for name in expected} != expected:
        raise RoundTripFailure(f"fields lost: {details}\nmodeled: {shown(modeled)}")


def check_head_error(codec: Codec, shape: Shape, operation: OperationModel) -> None:
    """A HEAD request's error has no body; botocore falls back on the status and headers."""
    error = ServiceError(error_code(shape), "gone", status=error_status(shape))
    response = codec.serialize_error(error, operation, REQUEST_ID, head=True)
    if response.body:
        raise RoundTripFailure(f"a HEAD error has a body: {shown(response)}")
    parsed = parse_response(operation, response, head=True)
    expected = {"Code": str(error.status), "RequestId": REQUEST_ID}
    got = {"Code": parsed["Error"]["Code"], "RequestId": parsed["ResponseMetadata"]["RequestId"]}
    if got != expected:
        raise RoundTripFailure(f"{got} != {expected}: {shown(response)}")


def check_not_implemented(
    service: ModelService, operation: OperationModel, params: dict[str, Any]
) -> None:
    """
    An operation the service's provider has no method for answers
    ``NotImplemented`` (501) in the service's protocol, as botocore reads it.
    """
    request = wire_request(operation, params)
    context = new_context(request, service.name, "us-east-1", 0.0)
    answered: list[Any] = []
    Deferred.fromCoroutine(service.handle(context, request)).addBoth(answered.append)
    (response,) = answered
    head = operation.http.get("method") == "HEAD"
    with _blame(f"response: {shown(response)}"):
        parsed = parse_response(operation, response, head=head)
    # An operation that shares its wire signature with another is routed to that one.
    routed = service.codec.shadowed.get(operation.name, operation.name)
    expected = (
        # A HEAD's error has no body: botocore reads the status and its reason.
        ("501", "Not Implemented")
        if head
        else (
            "NotImplemented",
            f"The operation {routed} of {service.name} is not implemented by awsemu.",
        )
    )
    status = parsed["ResponseMetadata"]["HTTPStatusCode"]
    if (status, parsed["Error"]["Code"], parsed["Error"].get("Message")) != (501, *expected):
        raise RoundTripFailure(f"{operation.name}: {shown(parsed)}")


Case = tuple[str, st.SearchStrategy[Any], Callable[[Any], None]]


def _trip(
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    examples: int = EXAMPLES,
) -> None:
    @settings(_SETTINGS, max_examples=examples)
    @given(strategy)
    def trip(value: Any) -> None:
        check(value)

    trip()


class _RoundTripTests:
    """The round trips for one service; subclasses name it."""

    service: ClassVar[str]
    #: An operation without required output members, to probe request ids with.
    probe: ClassVar[str]

    def _each(self, cases: Iterable[Case], examples: int = EXAMPLES) -> None:
        """
        Run every case (a name, a strategy and a check of its values), then
        fail once, with every failing case's name and minimal example.
        """
        failures = []
        for name, strategy, check in cases:
            try:
                _trip(strategy, check, examples)
            except RoundTripFailure as e:
                failures.append(f"{name}: {e}")
        if failures:
            raise RoundTripFailure(f"{len(failures)} failing:\n\n" + "\n\n".join(failures))

    def _codec(self) -> Codec:
        return codec_for(self.service)

    def _operation(self, name: str) -> OperationModel:
        operation: OperationModel = self._codec().service_model.operation_model(name)
        return operation

    def _operations(self) -> Iterator[OperationModel]:
        for name in self._codec().service_model.operation_names:
            yield self._operation(name)

    def test_requests(self) -> None:
        """Every operation's requests route to it and parse back to their parameters."""
        codec = self._codec()
        self._each(
            (op.name, input_params(op), functools.partial(check_request, codec, op))
            for op in self._operations()
        )

    def test_responses(self) -> None:
        """
        Every operation's outputs read back unchanged in botocore, event
        streams (S3 SelectObjectContent, Lambda InvokeWithResponseStream,
        Logs StartLiveTail and GetLogObject) read event by event.
        """
        codec = self._codec()
        self._each(
            (op.name, output_params(op), functools.partial(check_response, codec, op))
            for op in self._operations()
        )

    def test_errors(self) -> None:
        """Every modeled error reaches botocore with its code, message and fields."""
        codec = self._codec()
        for_error: dict[str, OperationModel] = {}
        for op in self._operations():
            for shape in op.error_shapes:
                for_error.setdefault(shape.name, op)
        cases = []
        for shape in codec.service_model.error_shapes:
            # Any operation will do for an error none of them declares.
            op = for_error.get(shape.name) or next(self._operations())
            wire = _wire(op, request=False)
            # botocore reads an empty XML <Message/> as None: AWS never sends one.
            strategy = st.tuples(params_for(shape, wire), body_text(wire, min_size=1))
            cases.append((shape.name, strategy, functools.partial(check_error, codec, shape, op)))
        self._each(cases)

    def test_not_implemented(self) -> None:
        """
        Every operation, were its provider method missing (an operation a
        newer botocore adds), answers ``NotImplemented`` in the service's
        own protocol: one example each, since nothing of it is parsed.
        """
        service = ModelService(self.service, provider=object())
        cases = (
            (op.name, input_params(op), functools.partial(check_not_implemented, service, op))
            for op in self._operations()
        )
        self._each(cases, examples=1)

    def test_request_ids(self) -> None:
        """
        botocore finds the request id in every response and error, where the
        protocol puts it (``x-amz-request-id``, ``x-amzn-RequestId`` or the
        XML ``ResponseMetadata``): SDK users log it and AWS support asks for it.
        """
        codec = self._codec()
        operation = self._operation(self.probe)
        error = ServiceError("Throttling", "slow down", status=400)
        responses = {
            "response": codec.serialize_response(operation, {}, REQUEST_ID),
            "error": codec.serialize_error(error, operation, REQUEST_ID),
        }
        for kind, response in responses.items():
            metadata = parse_response(operation, response)["ResponseMetadata"]
            if metadata.get("RequestId") != REQUEST_ID:
                raise RoundTripFailure(f"{self.probe} {kind}: no request id in {shown(response)}")


class S3RoundTripTests(_RoundTripTests, SynchronousTestCase):
    service = "s3"
    probe = "ListBuckets"

    def test_head_errors(self) -> None:
        """S3's errors to HEAD requests carry the status and request id, no body."""
        codec = self._codec()
        head = self._operation("HeadObject")
        for shape in codec.service_model.error_shapes:
            check_head_error(codec, shape, head)


class LambdaRoundTripTests(_RoundTripTests, SynchronousTestCase):
    service = "lambda"
    probe = "ListFunctions"


class APIGatewayRoundTripTests(_RoundTripTests, SynchronousTestCase):
    service = "apigateway"
    probe = "GetRestApis"


class LogsRoundTripTests(_RoundTripTests, SynchronousTestCase):
    service = "logs"
    probe = "DescribeLogGroups"


class IAMRoundTripTests(_RoundTripTests, SynchronousTestCase):
    service = "iam"
    probe = "ListRoles"


class STSRoundTripTests(_RoundTripTests, SynchronousTestCase):
    service = "sts"
    probe = "GetCallerIdentity"


class TrickyCasesTests(SynchronousTestCase):
    """Hand-picked cases the generated ones reach only by luck."""

    def _request(self, service: str, operation: str, params: dict[str, Any]) -> None:
        codec = codec_for(service)
        check_request(codec, codec.service_model.operation_model(operation), params)

    def _routes_to(self, service: str, operation: str, params: dict[str, Any]) -> str:
        codec = codec_for(service)
        request = wire_request(codec.service_model.operation_model(operation), params)
        name: str = codec.find_operation(request).name
        return name

    def test_s3_key_keeps_slashes_and_escapes(self) -> None:
        """Empty segments, a trailing slash, a space, a plus and a literal %2F survive."""
        params = {"Bucket": "b", "Key": "a//b/ c+%2F/"}
        operation = codec_for("s3").service_model.operation_model("GetObject")
        self.assertEqual(wire_request(operation, params).path, "/b/a//b/%20c%2B%252F/")
        self._request("s3", "GetObject", params)

    def test_list_objects_v2_is_not_list_objects(self) -> None:
        """``?list-type=2`` is all that tells the two listings apart."""
        self.assertEqual(self._routes_to("s3", "ListObjectsV2", {"Bucket": "b"}), "ListObjectsV2")
        self.assertEqual(self._routes_to("s3", "ListObjects", {"Bucket": "b"}), "ListObjects")

    def test_upload_part_is_not_put_object(self) -> None:
        """A PUT of an object with ``partNumber`` and ``uploadId`` is a part upload."""
        target = {"Bucket": "b", "Key": "k", "Body": b"data"}
        part = {**target, "PartNumber": 3, "UploadId": "u", "ContentLength": 4}
        self.assertEqual(self._routes_to("s3", "UploadPart", part), "UploadPart")
        self.assertEqual(self._routes_to("s3", "PutObject", target), "PutObject")
        self._request("s3", "UploadPart", part)

    def test_copy_object_is_not_put_object(self) -> None:
        """A PUT of an object with ``x-amz-copy-source`` is a copy."""
        params = {"Bucket": "b", "Key": "k", "CopySource": "src/a key"}
        self.assertEqual(self._routes_to("s3", "CopyObject", params), "CopyObject")
        self._request("s3", "CopyObject", params)

    def test_iam_create_role_with_tags(self) -> None:
        """A list of structures becomes ``Tags.member.N.Key`` form fields and comes back."""
        params = {
            "RoleName": "r",
            "AssumeRolePolicyDocument": '{"Version": "2012-10-17"}',
            "Tags": [{"Key": "team", "Value": "a&b=c"}, {"Key": "empty", "Value": ""}],
        }
        operation = codec_for("iam").service_model.operation_model("CreateRole")
        self.assertIn(b"Tags.member.2.Key=empty", wire_request(operation, params).read_body())
        self._request("iam", "CreateRole", params)

    def test_sts_get_caller_identity_response(self) -> None:
        """The answer every SDK's credential check starts with parses as AWS's does."""
        codec = codec_for("sts")
        operation = codec.service_model.operation_model("GetCallerIdentity")
        output = {
            "UserId": "AIDAEXAMPLE",
            "Account": "000000000000",
            "Arn": "arn:aws:iam::000000000000:user/<me>",
        }
        check_response(codec, operation, output)
        response = codec.serialize_response(operation, output, REQUEST_ID)
        self.assertIn(b"<GetCallerIdentityResult>", body_bytes(response.body))

    def test_logs_put_log_events(self) -> None:
        """Events keep their millisecond timestamps (longs, not timestamps) and messages."""
        params = {
            "logGroupName": "/aws/lambda/f",
            "logStreamName": "2024/01/01/[$LATEST]abc",
            "logEvents": [
                {"timestamp": 1_700_000_000_123, "message": "START\n\tline two"},
                {"timestamp": 1_700_000_000_124, "message": ""},
            ],
        }
        self._request("logs", "PutLogEvents", params)
