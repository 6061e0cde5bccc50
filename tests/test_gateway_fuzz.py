"""
The gateway under fuzzing: random requests over real sockets to a real
daemon, none of which may be answered with a 5xx (other than a deliberate
``501 NotImplemented``) or dropped without an answer, after which the
daemon still serves.

Two kinds of request are drawn: operations of the served services with
random parameters, built by botocore's own serializer (so they reach the
providers), and raw requests that no SDK sends (any method, paths with
bytes that are not UTF-8, odd headers, bodies of junk, deep JSON, XML),
aimed at each service's routing (a signing name, an ``X-Amz-Target``, a
query ``Action``, a REST path). The run is bounded by ``EXAMPLES`` so that
it takes well under a minute.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.model import OperationModel
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from tests.daemon import Daemon
from tests.dynamodb_support import require_dynamodb_local
from tests.lambda_support import zipped
from tests.protocol_strategies import body_bytes, input_params
from tests.rawhttp_support import exchange, signed_by

#: Requests per run: about 15 s on a loaded two-core machine.
EXAMPLES = 4000
SERVICES = ("s3", "logs", "lambda", "iam", "sts", "apigateway")

_session = botocore.session.get_session()
_MODELS = {name: _session.get_service_model(name) for name in SERVICES}


def _serialized(operation: OperationModel, params: dict[str, Any]) -> bytes:
    """The bytes botocore's client would send for ``params`` (unsigned, path-style)."""
    serializer = create_serializer(operation.metadata["protocol"], include_validation=False)
    request_dict = serializer.serialize_to_request(dict(params), operation)
    prepare_request_dict(request_dict, endpoint_url="http://127.0.0.1")
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    target = f"{url.path}?{url.query}" if url.query else url.path
    body = body_bytes(prepared.body)
    signing = operation.service_model.signing_name
    headers = [
        (name.encode("latin-1"), str(value).encode("latin-1"))
        for name, value in prepared.headers.items()
        if name.lower() not in ("content-length", "host", "transfer-encoding")
    ]
    lines = [b"%s %s HTTP/1.1" % (prepared.method.encode(), target.encode()), b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in [*headers, signed_by(signing)]]
    lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


#: Resources made before the run, and the parameters that name them: a
#: drawn request names one of them half the time, so that operations reach
#: existing state rather than stopping at "no such bucket".
SEEDED = {
    "Bucket": "fuzz-bucket",
    "Key": "key",
    "FunctionName": "fuzz-fn",
    "logGroupName": "fuzz-group",
    "logStreamName": "fuzz-stream",
    "RoleName": "fuzz-role",
    "UserName": "fuzz-user",
}


def _seed(daemon: Daemon) -> None:
    clients: Any = {name: daemon.client(name) for name in ("s3", "lambda", "logs", "iam")}
    clients["s3"].create_bucket(Bucket=SEEDED["Bucket"])
    clients["s3"].put_object(Bucket=SEEDED["Bucket"], Key=SEEDED["Key"], Body=b"seeded")
    clients["lambda"].create_function(
        FunctionName=SEEDED["FunctionName"],
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/fuzz",
        Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": "def handler(event, context):\n    return event\n"})},
    )
    clients["logs"].create_log_group(logGroupName=SEEDED["logGroupName"])
    clients["logs"].create_log_stream(
        logGroupName=SEEDED["logGroupName"], logStreamName=SEEDED["logStreamName"]
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "*"}
        ],
    }
    clients["iam"].create_role(
        RoleName=SEEDED["RoleName"], AssumeRolePolicyDocument=json.dumps(trust)
    )
    clients["iam"].create_user(UserName=SEEDED["UserName"])


@st.composite
def _operation_requests(draw: Callable[..., Any]) -> bytes:
    service = draw(st.sampled_from(SERVICES))
    model = _MODELS[service]
    operation = model.operation_model(draw(st.sampled_from(sorted(model.operation_names))))
    params = draw(input_params(operation))
    for name, value in SEEDED.items():
        if name in params and draw(st.booleans()):
            params[name] = value
    try:
        return _serialized(operation, params)
    except (UnicodeEncodeError, ValueError, KeyError, TypeError):
        # What botocore itself cannot put on the wire is no request.
        return _serialized(model.operation_model(model.operation_names[0]), {})


_BYTES = st.binary(max_size=40)
_TOKEN = st.text("abcdefghijklmnopqrstuvwxyz-ABCXYZ0123456789", min_size=1, max_size=12)
_PATH_PIECES = st.sampled_from(
    [
        b"/",
        b"/fuzz-bucket",
        b"/fuzz-bucket/key",
        b"/2015-03-31/functions",
        b"/2015-03-31/functions/f/invocations",
        b"/2018-10-31/layers",
        b"/restapis",
        b"/restapis/abc/stage/_user_request_/x",
        b"/_aws/execute-api/abc/stage/x",
        b"/%FF",
        b"/\xff\xfe",
        b"/a%00b",
        b"?Action=ListRoles&Version=2010-05-08",
        b"?Action=\xff",
        b"?acl",
        b"?encryption",
        b"?policy",
        b"?uploads",
        b"?list-type=2&max-keys=x",
        b"?versioning",
    ]
)
_PATHS = st.lists(_PATH_PIECES | _BYTES.map(lambda raw: b"/" + raw.replace(b" ", b"")), max_size=4)
_TARGETS = st.sampled_from(
    [
        b"Logs_20140328.PutLogEvents",
        b"Logs_20140328.CreateLogGroup",
        b"Logs_20140328.Nope",
        b"DynamoDB_20120810.ListTables",
        b"\xff.\xfe",
    ]
)
_CONTENT_TYPES = st.sampled_from(
    [
        b"application/x-amz-json-1.1",
        b"application/json",
        b"application/xml",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=xyz",
        b"\xff/\xfe",
    ]
)
_HEADER_NAMES = st.sampled_from(
    [
        b"x-amz-meta-a",
        b"x-amz-tagging",
        b"x-amz-acl",
        b"x-amz-copy-source",
        b"x-amz-content-sha256",
        b"Content-MD5",
        b"Range",
        b"If-Match",
        b"Expect",
        b"x-amz-checksum-crc32",
        b"X-F\xe9o",
        b"X(o)",
    ]
) | _TOKEN.map(str.encode)
_HEADER_VALUES = _BYTES.map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").strip())
_DEEP = st.integers(1, 3000).map(lambda depth: b'{"a":' + b"[" * depth + b"]" * depth + b"}")
_BODIES = (
    _BYTES
    | _DEEP
    | st.sampled_from(
        [
            b"<ServerSideEncryptionConfiguration/>",
            b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
            b"<CORSConfiguration><CORSRule/></CORSConfiguration>",
            b"<Delete><Object/></Delete>",
            b"<CompleteMultipartUpload><Part/></CompleteMultipartUpload>",
            b'{"Version": "\xff"}',
            b"Action=ListRoles&Version=2010-05-08&MaxItems=x",
            b'--xyz\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--xyz--\r\n',
            json.dumps({"FunctionName": "f", "Code": {"ZipFile": "bm90IGEgemlw"}}).encode(),
        ]
    )
)


@st.composite
def _raw_requests(draw: Callable[..., Any]) -> bytes:
    method = draw(
        st.sampled_from([b"GET", b"PUT", b"POST", b"DELETE", b"HEAD", b"PATCH", b"OPTIONS"])
        | _TOKEN.map(str.encode)
    )
    path = b"".join(draw(_PATHS)) or b"/"
    if not path.startswith(b"/"):
        path = b"/" + path
    path = path.replace(b" ", b"%20")
    service = draw(st.sampled_from([*SERVICES, "dynamodb", "nope"]))
    headers = [signed_by(service)] if draw(st.booleans()) else []
    if draw(st.booleans()):
        headers.append((b"X-Amz-Target", draw(_TARGETS)))
    if draw(st.booleans()):
        headers.append((b"Content-Type", draw(_CONTENT_TYPES)))
    headers += draw(st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=4))
    body = draw(_BODIES) if draw(st.booleans()) else b""
    lines = [method + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in headers]
    lines.append(b"Content-Length: %d" % len(body))
    separator = b"\n" if draw(st.integers(0, 9)) == 0 else b"\r\n"
    return separator.join(lines) + separator + separator + body


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def _dynamodb_requests(draw: Callable[..., Any]) -> bytes:
    """What reaches the DynamoDB proxy: any method, target, headers and body."""
    model = _session.get_service_model("dynamodb")
    method = draw(
        st.sampled_from([b"POST", b"POST", b"GET", b"HEAD", b"PUT"]) | _TOKEN.map(str.encode)
    )
    headers = [signed_by("dynamodb")]
    if draw(st.integers(0, 5)):
        operation = draw(st.sampled_from(sorted(model.operation_names)) | _TOKEN)
        headers.append((b"X-Amz-Target", f"DynamoDB_20120810.{operation}".encode()))
    if draw(st.booleans()):
        headers.append((b"Content-Type", b"application/x-amz-json-1.0"))
    headers += draw(st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=3))
    body: bytes = draw(
        _BODIES
        | st.dictionaries(st.text(max_size=8), _JSON, max_size=3).map(
            lambda d: json.dumps(d).encode()
        )
    )
    lines = [method + b" / HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in headers]
    lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _check_answers(daemon: Daemon, requests: st.SearchStrategy[bytes], examples: int) -> None:
    """Send ``examples`` drawn requests; fail on a 5xx (but NotImplemented) or no answer."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests)
    def answered(raw: bytes) -> None:
        response = exchange(daemon.port, raw, timeout=30)
        assert response is not None, f"closed without an answer: {raw[:300]!r}"
        # A HEAD answer has no body to say why; 501 is only ever NotImplemented.
        deliberate = response.status == 501 and (
            raw.startswith(b"HEAD ") or b"NotImplemented" in response.head + response.body
        )
        assert response.status < 500 or deliberate, (
            f"{response.status} for {raw[:500]!r}: {response.body[:500]!r}"
        )

    answered()
    health = daemon.health()
    assert isinstance(health.get("services"), dict), health


class GatewayFuzzTests(SynchronousTestCase):
    def test_no_server_error(self) -> None:
        """No request is answered 5xx (but 501 NotImplemented) or left unanswered."""
        daemon = Daemon(
            self,
            "--services",
            ",".join(SERVICES),
            "--lambda-executor",
            "process",
            log_file=os.path.abspath(self.mktemp()),
        )
        _seed(daemon)
        _check_answers(daemon, _operation_requests() | _raw_requests(), EXAMPLES)

    def test_dynamodb_no_server_error(self) -> None:
        """
        Nothing sent to the DynamoDB proxy gets a 5xx: what DynamoDB Local
        fails on (no target, a body that is not a JSON object, headers its
        server refuses) is answered as DynamoDB would.
        """
        require_dynamodb_local()
        daemon = Daemon(self, "--services", "dynamodb", log_file=os.path.abspath(self.mktemp()))
        _check_answers(daemon, _dynamodb_requests(), EXAMPLES // 4)
