"""
The Runtime API over real sockets, with treq as the runtime client, and
the package unpacking it serves code from.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import attrs
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred, succeed
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool

from awsemu.lambda_ import runtime_api, zips
from awsemu.lambda_.invocations import MAX_RESPONSE, Invocation
from awsemu.lambda_.peers import Address
from awsemu.protocol.errors import ServiceError

INVOCATION = Invocation(
    "req-1",
    b'{"a": 1}',
    "arn:aws:lambda:us-east-1:000000000000:function:f",
    1700000000000,
    "Root=1-abc",
    client_context='{"custom": {}}',
    cognito_identity='{"cognitoIdentityId": "x"}',
)


@attrs.define
class Recorder:
    """A handler that records the runtime's calls."""

    calls: list[tuple[str, str, bytes]] = attrs.field(factory=list)
    admit: bool = True
    asked: list[tuple[Address, Address]] = attrs.field(factory=list)

    def admits(self, client: Address, server: Address) -> bool:
        self.asked.append((client, server))
        return self.admit

    def next_invocation(self) -> Deferred[Invocation]:
        return succeed(INVOCATION)

    def respond(self, request_id: str, payload: bytes) -> bool:
        self.calls.append(("respond", request_id, payload))
        return request_id == "req-1"

    def fail(self, request_id: str, payload: bytes) -> bool:
        self.calls.append(("fail", request_id, payload))
        return request_id == "req-1"

    def too_large(self, request_id: str) -> bool:
        self.calls.append(("too_large", request_id, b""))
        return True

    def init_failed(self, payload: bytes) -> None:
        self.calls.append(("init_failed", "", payload))


class RuntimeApiTests(TestCase):
    def setUp(self) -> None:
        self.handler = Recorder()
        self.port = runtime_api.listen(reactor, self.handler, "127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.base = f"http://127.0.0.1:{self.port.getHost().port}{runtime_api.PREFIX}"  # type: ignore[attr-defined]

    async def test_next_carries_every_header(self) -> None:
        response = await treq.get(f"{self.base}/invocation/next", persistent=False)
        self.assertEqual(await response.content(), INVOCATION.payload)
        headers = response.headers
        expected = {
            b"Content-Type": b"application/json",
            b"Lambda-Runtime-Aws-Request-Id": b"req-1",
            b"Lambda-Runtime-Deadline-Ms": b"1700000000000",
            b"Lambda-Runtime-Invoked-Function-Arn": INVOCATION.function_arn.encode(),
            b"Lambda-Runtime-Trace-Id": b"Root=1-abc",
            b"Lambda-Runtime-Client-Context": b'{"custom": {}}',
            b"Lambda-Runtime-Cognito-Identity": b'{"cognitoIdentityId": "x"}',
        }
        for name, value in expected.items():
            self.assertEqual(headers.getRawHeaders(name), [value])

    async def test_response_and_error(self) -> None:
        ok = await treq.post(f"{self.base}/invocation/req-1/response", b'"r"', persistent=False)
        self.assertEqual(ok.code, 202)
        await ok.content()
        error = await treq.post(f"{self.base}/invocation/req-1/error", b"{}", persistent=False)
        self.assertEqual(error.code, 202)
        await error.content()
        stranger = await treq.post(f"{self.base}/invocation/other/response", b"", persistent=False)
        self.assertEqual(stranger.code, 400)
        self.assertEqual((await stranger.json())["errorType"], "InvalidRequestID")
        self.assertEqual(
            self.handler.calls,
            [("respond", "req-1", b'"r"'), ("fail", "req-1", b"{}"), ("respond", "other", b"")],
        )

    async def test_oversize_response(self) -> None:
        response = await treq.post(
            f"{self.base}/invocation/req-1/response", b"x" * (MAX_RESPONSE + 1), persistent=False
        )
        self.assertEqual(response.code, 413)
        self.assertEqual((await response.json())["errorType"], "RequestEntityTooLarge")
        self.assertEqual(self.handler.calls, [("too_large", "req-1", b"")])

    async def test_each_connection_is_vetted_once(self) -> None:
        pool = HTTPConnectionPool(reactor, persistent=True)
        self.addCleanup(pool.closeCachedConnections)
        for _ in range(3):
            response = await treq.get(f"{self.base}/invocation/next", pool=pool)
            self.assertEqual(response.code, 200)
            await response.content()
        self.assertEqual(len(self.handler.asked), 1)
        client, server = self.handler.asked[0]
        self.assertEqual(client[0], "127.0.0.1")
        self.assertEqual(server, ("127.0.0.1", self.port.getHost().port))  # type: ignore[attr-defined]

    async def test_a_refused_connection_reaches_nothing(self) -> None:
        self.handler.admit = False
        for path, method in [
            ("/invocation/next", "GET"),
            ("/invocation/req-1/response", "POST"),
            ("/invocation/req-1/error", "POST"),
            ("/init/error", "POST"),
        ]:
            response = await treq.request(
                method, f"{self.base}{path}", data=b"{}", persistent=False
            )
            self.assertEqual(response.code, 403)
            self.assertEqual((await response.json())["errorType"], "AccessDeniedException")
        self.assertEqual(self.handler.calls, [])
        self.assertEqual(len(self.flushLoggedErrors()), 0)

    async def test_init_error_and_unknown_paths(self) -> None:
        response = await treq.post(f"{self.base}/init/error", b'{"e": 1}', persistent=False)
        self.assertEqual(response.code, 202)
        await response.content()
        self.assertEqual(self.handler.calls, [("init_failed", "", b'{"e": 1}')])
        missing = await treq.get(f"{self.base}/nothing", persistent=False)
        self.assertEqual(missing.code, 404)
        await missing.content()


def _zip(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    return buffer.getvalue()


class UnpackTests(SynchronousTestCase):
    def test_layers_overlay_in_order(self) -> None:
        target = Path(self.mktemp()) / "opt"
        zips.unpack([_zip({"a": b"1", "b": b"1"}), _zip({"b": b"2"})], target)
        self.assertEqual(((target / "a").read_bytes(), (target / "b").read_bytes()), (b"1", b"2"))

    def test_zip_slip_is_refused(self) -> None:
        target = Path(self.mktemp()) / "task"
        with self.assertRaises(ServiceError):
            zips.unpack([_zip({"../escape": b"x"})], target)
        self.assertFalse(target.exists())
        self.assertFalse((target.parent / "escape").exists())

    def test_not_a_zip(self) -> None:
        with self.assertRaises(ServiceError) as raised:
            zips.unzipped_size(b"nope")
        self.assertEqual(raised.exception.code, "InvalidParameterValueException")
