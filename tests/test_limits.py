"""
A real daemon against what a shared machine must survive: its data dir's
modes, idle and stalled connections, an abandoned huge upload's memory,
zip bombs, and bad input that used to answer 500 (each must be a 4xx, and
leave the store as it was).
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import stat
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.daemon import Daemon
from tests.dynamodb_support import require_dynamodb_local
from tests.rawhttp_support import (
    RawResponse,
    closed_within,
    exchange,
    read_response,
    request_bytes,
    signed_by,
)

S3 = signed_by("s3")


def rss(pid: int) -> int:
    """The resident memory of process ``pid``, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def zeros_package(size: int) -> bytes:
    """A zip of one member of ``size`` zero bytes, compressed a chunk at a time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.bin", "w") as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


class DataDirTests(SynchronousTestCase):
    def test_fresh_data_dir_private(self) -> None:
        """Everything a daemon writes under a new data dir is its owner's alone."""
        data = Path(self.mktemp()).resolve() / "state"
        daemon = Daemon(
            self,
            "--services",
            "s3,iam,lambda,logs",
            "--lambda-executor",
            "process",
            "--data-dir",
            str(data),
        )
        iam: Any = daemon.client("iam")
        iam.create_user(UserName="dev")
        key = iam.create_access_key(UserName="dev")["AccessKey"]
        s3: Any = daemon.client("s3")
        s3.create_bucket(Bucket="private-bucket")
        s3.put_object(Bucket="private-bucket", Key="k", Body=b"x" * 100_000)
        lambda_: Any = daemon.client("lambda")
        lambda_.create_function(
            FunctionName="private",
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="index.handler",
            Code={"ZipFile": zeros_package(1 << 20)},
        )
        logs: Any = daemon.client("logs")
        logs.create_log_group(logGroupName="private")
        daemon.stop()
        self.assertEqual(stat.S_IMODE(data.stat().st_mode), 0o700)
        secrets = data / "iam" / "state.json"
        self.assertIn(key["SecretAccessKey"], secrets.read_text())
        self.assertEqual(stat.S_IMODE(secrets.stat().st_mode), 0o600)
        modes = {path: stat.S_IMODE(path.stat().st_mode) for path in data.rglob("*")}
        self.assertGreater(len(modes), 4)
        for path, mode in modes.items():
            self.assertEqual(mode, 0o700 if path.is_dir() else 0o600, path)

    def test_open_data_dir_warned(self) -> None:
        """A data dir others can read is named in a warning at start."""
        data = Path(self.mktemp()).resolve()
        data.mkdir()
        data.chmod(0o755)
        daemon = Daemon(self, "--services", "sts", "--data-dir", str(data))
        daemon.stop()
        self.assertIn(f"The data directory {data} (mode 0755) is open to other", daemon.output)


class ConnectionTests(SynchronousTestCase):
    """Idle and stalled connections, on a daemon whose idle timeout is one second."""

    def setUp(self) -> None:
        self.daemon = Daemon(self, "--services", "s3", "--idle-timeout", "1")
        self.port = self.daemon.port
        self.put(b"PUT", b"/conn-bucket")

    def put(self, method: bytes, target: bytes, body: bytes = b"") -> RawResponse:
        response = exchange(self.port, request_bytes(method, target, [S3], body))
        assert response is not None
        return response

    def test_idle_connection_closed(self) -> None:
        """A keep-alive connection left idle is closed after the timeout, not before."""
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.sendall(request_bytes(b"HEAD", b"/conn-bucket", [S3]))
            response = read_response(sock, head_only=True)
            self.assertEqual(response.status if response else None, 200)
            after = closed_within(sock, 5)
        assert after is not None, "the idle connection stayed open"
        self.assertGreaterEqual(after, 0.9)

    def test_trickled_head_closed(self) -> None:
        """A slowloris head, a header line now and then, is cut off within the timeout."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(b"GET /conn-bucket HTTP/1.1\r\n")
            start = time.monotonic()
            answer = b""
            while time.monotonic() - start < 5 and not answer:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    break
                sock.settimeout(0.3)
                try:
                    answer = sock.recv(65536)
                except TimeoutError:
                    continue
        self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)
        self.assertLess(time.monotonic() - start, 4)

    def test_stalled_body_dropped(self) -> None:
        """A body that stops arriving is answered 408 and nothing is stored."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            raw = request_bytes(b"PUT", b"/conn-bucket/stalled", [S3], b"x" * 100)
            sock.sendall(raw[:-90])
            response = read_response(sock)
            self.assertEqual(response.status if response else None, 408)
        self.assertEqual(self.put(b"GET", b"/conn-bucket/stalled").status, 404)

    def test_bare_lf(self) -> None:
        """A request whose lines end with a bare LF is answered."""
        raw = b"GET /conn-bucket?list-type=2 HTTP/1.1\nHost: 127.0.0.1\n%s: %s\n\n" % S3
        response = exchange(self.port, raw, timeout=5)
        assert response is not None
        self.assertEqual(response.status, 200)
        self.assertIn(b"<ListBucketResult", response.body)


class MemoryTests(SynchronousTestCase):
    def test_abandoned_upload_gives_memory_back(self) -> None:
        """
        Without --data-dir, a 5 GiB upload is spooled to a temporary
        file: the daemon's memory barely grows while it arrives, and after
        the client leaves the daemon is as large as before.
        """
        daemon = Daemon(self, "--services", "s3")
        exchange(daemon.port, request_bytes(b"PUT", b"/memory-bucket", [S3]))
        pid = daemon.process.pid
        before = rss(pid)
        chunk = b"m" * (1 << 20)
        with socket.create_connection(("127.0.0.1", daemon.port)) as sock:
            sock.sendall(
                b"PUT /memory-bucket/huge HTTP/1.1\r\nHost: 127.0.0.1\r\n%s: %s\r\n"
                b"Content-Length: 5368709120\r\n\r\n" % S3
            )
            for _ in range(200):
                sock.sendall(chunk)
            time.sleep(0.5)
            during = rss(pid)
        time.sleep(1)
        after = rss(pid)
        self.assertLess(during - before, 48 << 20, (before, during))
        self.assertLess(after - before, 32 << 20, (before, after))
        response = exchange(daemon.port, request_bytes(b"GET", b"/memory-bucket/huge", [S3]))
        self.assertEqual(response.status if response else None, 404)


class ZipLimitTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.daemon = Daemon(self, "--services", "lambda", "--lambda-executor", "process")
        self.lambda_: Any = self.daemon.client("lambda")

    def create(self, data: bytes) -> dict[str, Any]:
        with self.assertRaises(ClientError) as caught:
            self.lambda_.create_function(
                FunctionName="bomb",
                Runtime="python3.11",
                Role="arn:aws:iam::000000000000:role/r",
                Handler="index.handler",
                Code={"ZipFile": data},
            )
        self.assertEqual(self.lambda_.list_functions()["Functions"], [])
        error: dict[str, Any] = caught.exception.response
        return error

    def test_zip_bomb(self) -> None:
        """A small zip of a huge file is refused at upload with AWS's message."""
        bomb = zeros_package(300 << 20)
        self.assertLess(len(bomb), 1 << 20)
        error = self.create(bomb)
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(error["Error"]["Code"], "InvalidParameterValueException")
        self.assertEqual(
            error["Error"]["Message"], "Unzipped size must be smaller than 262144000 bytes"
        )

    def test_lying_zip(self) -> None:
        """A zip whose declared sizes lie is refused at upload, not at the first invoke."""
        package = zeros_package(4 << 20)
        entry = package.find(b"PK\x01\x02")  # zeros.bin's, the first member
        lying = bytearray(package)
        lying[entry + 24 : entry + 28] = (1000).to_bytes(4, "little")
        error = self.create(bytes(lying))
        self.assertEqual(error["Error"]["Code"], "InvalidParameterValueException")
        self.assertIn("Could not unzip uploaded file", error["Error"]["Message"])

    def test_symlink_members(self) -> None:
        """A package with symlink members (one pointing outside) is taken and runs."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(
                "index.py",
                "import pathlib\n"
                "def handler(event, context):\n"
                "    return pathlib.Path(__file__).with_name('outside').read_text()\n",
            )
            for name, target in (("outside", "/etc/passwd"), ("up", "../../..")):
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, target)
        self.lambda_.create_function(
            FunctionName="links",
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="index.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
        self.lambda_.get_waiter("function_active_v2").wait(FunctionName="links")
        answer = self.lambda_.invoke(FunctionName="links", Payload=b"{}")
        self.assertNotIn("FunctionError", answer)
        self.assertEqual(json.loads(answer["Payload"].read()), "/etc/passwd")

    def test_direct_upload_too_large(self) -> None:
        """A ZipFile past 50 MiB is refused with AWS's 413."""
        error = self.create(zlib.compress(os.urandom(1 << 16)) * 801)
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 413)
        self.assertEqual(error["Error"]["Code"], "RequestEntityTooLargeException")
        self.assertEqual(
            error["Error"]["Message"], "Zipped size must be smaller than 52428800 bytes"
        )


def _post_policy(conditions: list[Any]) -> bytes:
    policy = {"expiration": "2100-01-01T00:00:00Z", "conditions": conditions}
    return base64.b64encode(json.dumps(policy).encode())


def _form(fields: dict[str, bytes], boundary: bytes = b"limitsboundary") -> bytes:
    parts = [
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (boundary, name.encode(), value)
        for name, value in fields.items()
    ]
    parts.append(
        b'--%s\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--%s--\r\n" % (boundary, boundary)
    )
    return b"".join(parts)


class BadInputTests(SynchronousTestCase):
    """Each input that used to answer 500 is a 4xx now, and the store is untouched."""

    def setUp(self) -> None:
        self.daemon = Daemon(
            self, "--services", "s3,logs,lambda,iam", "--lambda-executor", "process"
        )
        self.port = self.daemon.port
        s3: Any = self.daemon.client("s3")
        s3.create_bucket(Bucket="intact")
        s3.put_object(Bucket="intact", Key="kept", Body=b"kept body")
        self.s3 = s3

    def send(self, method: bytes, target: bytes, headers: Any = (), body: bytes = b"") -> Any:
        response = exchange(self.port, request_bytes(method, target, list(headers), body))
        assert response is not None, "closed without an answer"
        self.assertGreaterEqual(response.status, 400, response)
        self.assertLess(response.status, 500, response)
        return response

    def assertIntact(self) -> None:
        self.assertEqual(
            self.s3.get_object(Bucket="intact", Key="kept")["Body"].read(), b"kept body"
        )
        self.s3.put_object(Bucket="intact", Key="after", Body=b"still writable")
        self.assertEqual(
            self.s3.get_object(Bucket="intact", Key="after")["Body"].read(), b"still writable"
        )

    def test_empty_encryption_configuration(self) -> None:
        """An encryption document without its rules is MalformedXML, and PutObject still works."""
        response = self.send(
            b"PUT", b"/intact?encryption", [S3], b"<ServerSideEncryptionConfiguration/>"
        )
        self.assertIn(b"<Code>MalformedXML</Code>", response.body)
        self.assertIn(
            b"The XML you provided was not well-formed or did not validate against our"
            b" published schema",
            response.body,
        )
        rule = self.s3.get_bucket_encryption(Bucket="intact")["ServerSideEncryptionConfiguration"][
            "Rules"
        ][0]
        self.assertEqual(rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")
        self.assertIntact()

    def test_nested_required_member(self) -> None:
        """A rule missing its required element is refused too."""
        document = (
            b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
            b"</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"
        )
        response = self.send(b"PUT", b"/intact?encryption", [S3], document)
        self.assertIn(b"<Code>MalformedXML</Code>", response.body)
        self.assertIntact()

    def test_path_not_utf8(self) -> None:
        """A key that is not UTF-8, raw or percent-encoded, is S3's InvalidURI."""
        for target in (b"/intact/\xff\xfe", b"/intact/%FF%FE", b"/intact/a%C3"):
            for method in (b"PUT", b"GET"):
                response = self.send(method, target, [S3], b"x" if method == b"PUT" else b"")
                self.assertIn(b"<Code>InvalidURI</Code>", response.body)
        self.assertEqual(
            [item["Key"] for item in self.s3.list_objects_v2(Bucket="intact")["Contents"]],
            ["kept"],
        )
        self.assertIntact()

    def test_deeply_nested_json(self) -> None:
        """A deeply nested JSON body is the service's 400 serialization error."""
        deep = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        logs = self.send(
            b"POST",
            b"/",
            [
                signed_by("logs"),
                (b"X-Amz-Target", b"Logs_20140328.CreateLogGroup"),
                (b"Content-Type", b"application/x-amz-json-1.1"),
            ],
            deep,
        )
        self.assertEqual(json.loads(logs.body)["__type"], "SerializationException")
        lambda_ = self.send(b"POST", b"/2015-03-31/functions", [signed_by("lambda")], deep)
        self.assertEqual(lambda_.header("x-amzn-ErrorType"), "SerializationException")
        self.assertIntact()

    def test_negative_max_keys(self) -> None:
        """Every listing refuses a negative max-keys as S3 does (versions used to fail)."""
        for query in (b"?list-type=2&max-keys=-1", b"?versions&max-keys=-1", b"?max-keys=-1"):
            response = self.send(b"GET", b"/intact" + query, [S3])
            self.assertIn(b"<Code>InvalidArgument</Code>", response.body)
            self.assertIn(b"<ArgumentName>maxKeys</ArgumentName>", response.body)
        self.assertIntact()

    def test_policy_not_utf8(self) -> None:
        self.send(b"PUT", b"/intact?policy", [S3], b'{"Version": "\xff\xfe"}')
        with self.assertRaises(ClientError):
            self.s3.get_bucket_policy(Bucket="intact")
        self.assertIntact()

    def test_post_policy_bounds(self) -> None:
        """
        A content-length-range with a missing bound is a malformed policy (400);
        one with non-numeric bounds fails the policy (403). Neither stores.
        """
        for condition, status, text in (
            (
                ["content-length-range", 1],
                400,
                b"Invalid Policy: Invalid content-length-range: wrong number of arguments.",
            ),
            (
                ["content-length-range", "a", "b"],
                403,
                b"Invalid according to Policy: Policy Condition failed",
            ),
        ):
            body = _form({"key": b"posted", "policy": _post_policy([condition])})
            response = self.send(
                b"POST",
                b"/intact",
                [(b"Content-Type", b"multipart/form-data; boundary=limitsboundary")],
                body,
            )
            self.assertEqual(response.status, status)
            self.assertIn(text, response.body)
        with self.assertRaises(ClientError):
            self.s3.head_object(Bucket="intact", Key="posted")
        self.assertIntact()


class DynamoDbHeaderTests(SynchronousTestCase):
    def list_tables(
        self, daemon: Daemon, body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
    ) -> RawResponse:
        headers = [
            signed_by("dynamodb"),
            (b"X-Amz-Target", b"DynamoDB_20120810.ListTables"),
            (b"Content-Type", b"application/x-amz-json-1.0"),
            *extra,
        ]
        response = exchange(daemon.port, request_bytes(b"POST", b"/", headers, body))
        assert response is not None
        return response

    def test_headers_local_refuses(self) -> None:
        """Headers DynamoDB Local's server would answer with an HTML 400 are not passed on."""
        require_dynamodb_local()
        daemon = Daemon(self, "--services", "dynamodb")
        for extra in ((b"X-F\xe9o", b"a"), (b"X-Foo", b"\x01\x02"), (b"X(o)", b"a\x7fb")):
            response = self.list_tables(daemon, b"{}", (extra,))
            self.assertEqual((response.status, response.body), (200, b'{"TableNames":[]}'))
        response = self.list_tables(daemon, b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}")
        self.assertEqual(response.status, 400)
        self.assertIn(b"SerializationException", response.body)
