"""
The daemon's own Python work per small request, without sockets: what
code changes to the gateway, the protocol layer and the DynamoDB proxy
save, measured where the machine's load disturbs it least.

The gateway's HTTP/1.1 protocol is fed whole requests on a
``StringTransport`` (so no system call is made but the log file's
write), with the daemon's log observer writing to a log file as the daemon opens
it (``twistd_log_file``), its request lines held as the daemon holds them
(``HeldLines``, written once per batch of requests):

- ``dynamodb``: a GetItem as ``bench/dynamodb.py`` sends it, answered by
  a client that renders the request to DynamoDB Local and parses a canned
  DynamoDB Local response (the loopback client's work, without its socket),
  through the item operations' fast path (``dynamodb-generic``: without it);
- ``s3-get``, ``s3-put``: boto3's own GetObject and PutObject requests of
  1 KiB (captured before sending, so signed and aws-chunked as boto3 sends
  them), served by the daemon's S3 service. The PutObject asks for
  ``100 Continue``, so its head arrives alone and its body after the
  server's answer, as over a socket (the head is checked on its own).

Prints the least and the 20th percentile of the per-request CPU time over
batches (the least is the cost; the spread is the machine's load).

With ``--cold``, each request is timed alone, after the processor's caches
were emptied (a buffer larger than its last-level cache written over):
how a request costs in the daemon, where DynamoDB Local and the client run
between two requests and leave none of the daemon's code or objects in
the caches. Then the cost grows with the code and objects a request
touches more than with the work done on them. Prints the median and the
20th percentile of the requests' CPU times.

Usage: python bench/inprocess.py [--cold] [dynamodb|dynamodb-generic|s3-get|s3-put ...]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet import reactor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogBeginner

from awsemu.logobserver import HOLD_SECONDS, HeldLines, observer_for, twistd_log_file

BATCHES, BATCH = 40, 250
COLD_REQUESTS = 3000
EVICTION = bytearray(32 * 1024 * 1024)
"""Written over before each request with ``--cold``: as large as this machine kind's L3 cache."""
LOG_CLOCK = Clock()
"""The clock of the log's held lines: a batch of requests takes about ``HOLD_SECONDS``."""

DYNAMODB_BODY = json.dumps({"TableName": "Bench", "Key": {"k": {"S": "key"}}}).encode()
DYNAMODB_REQUEST = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1:4566\r\nAccept-Encoding: identity\r\n"
    b"X-Amz-Target: DynamoDB_20120810.GetItem\r\nContent-Type: application/x-amz-json-1.0\r\n"
    b"Authorization: AWS4-HMAC-SHA256 Credential=111111111111/20250101/us-east-1/dynamodb/"
    b"aws4_request, SignedHeaders=host, Signature=0\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(DYNAMODB_BODY), DYNAMODB_BODY)
)
LOCAL_BODY = b'{"Item":{"v":{"S":"xxxxxxxxxxxxxxxxxxxx"},"k":{"S":"key"},"n":{"N":"42"}}}'
LOCAL_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nDate: Thu, 03 Dec 2026 06:40:00 GMT\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\n"
    b"x-amzn-RequestId: 1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901\r\nx-amz-crc32: 2745614147\r\n"
    b"Content-Length: %d\r\nServer: Jetty(12.1.11)\r\n\r\n%s" % (len(LOCAL_BODY), LOCAL_BODY)
)


def dynamodb_protocol(fast: bool = True) -> tuple[Any, Callable[[], None]]:
    """
    The gateway's protocol for a daemon whose DynamoDB Local answers
    ``LOCAL_RESPONSE``, through the item operations' fast path (``fast``) or
    not, and what makes DynamoDB Local answer the request it was sent.
    """
    from awsemu.dynamodb.loopback import LoopbackResponse, ResponseParser, render_request
    from awsemu.dynamodb.proxy import DynamoDBProxy
    from awsemu.gateway.app import Gateway
    from awsemu.gateway.server import gateway_factory
    from awsemu.gateway.services import RUNNING
    from awsemu.reply import Reply

    class Ready:
        def state(self) -> Any:
            return RUNNING

        def whenReady(self) -> Any:
            return succeed(8000)

        def ready_port(self) -> int:
            return 8000

    class Canned:
        """
        DynamoDB Local, answering each request once the gateway has handled
        it (``answer``), as over a socket: the response comes in later.
        """

        def __init__(self) -> None:
            self.waiting: list[Reply[LoopbackResponse]] = []

        async def request(
            self, port: int, method: bytes, target: bytes, headers: Any, body: bytes
        ) -> LoopbackResponse:
            return await self.send(port, render_request(port, method, target, headers, body))

        def send(
            self, port: int, data: bytes, head_request: bool = False
        ) -> Deferred[LoopbackResponse]:
            waiting: Deferred[LoopbackResponse] = Deferred()
            self.send_to(port, data, waiting)
            return waiting

        def send_to(self, port: int, data: bytes, reply: Reply[LoopbackResponse]) -> None:
            self.waiting.append(reply)

        def answer(self) -> None:
            response = ResponseParser().feed(LOCAL_RESPONSE)
            assert response is not None
            self.waiting.pop().callback(response)

    class Backend:
        def __init__(self, proxy: DynamoDBProxy, fast: bool) -> None:
            self.proxy = proxy
            self.fast_path = None
            if fast:
                from awsemu.dynamodb.fastpath import ItemFastPath

                self.fast_path = ItemFastPath(proxy, local)

        def state(self) -> Any:
            return RUNNING

        async def handle(self, context: Any, request: Any) -> Any:
            return await self.proxy.handle(context, request)

        def error_response(self, context: Any, request: Any, error: Any) -> Any:
            return self.proxy.error_response(context, request, error)

    local = Canned()
    proxy = DynamoDBProxy(Ready(), local, reactor, secret="5ec")
    backend = Backend(proxy, fast)
    gateway = Gateway({"dynamodb": backend}, "us-east-1", reactor)  # type: ignore[dict-item]
    return gateway_factory(gateway, reactor).buildProtocol(None), local.answer


def s3_protocol() -> Any:
    """The gateway's protocol of a daemon serving S3, as the daemon builds it."""
    from awsemu.daemon import make_root_service
    from awsemu.gateway.server import GatewayFactory
    from awsemu.tap import Options

    options = Options()
    options.parseOptions(["--services", "s3", "--port", "tcp:0:interface=127.0.0.1"])
    services = [make_root_service(options.config, reactor)]
    while services:
        service = services.pop()
        factory = getattr(service, "factory", None)
        if isinstance(factory, GatewayFactory):
            return factory.buildProtocol(None)
        services += getattr(service, "services", [])
    raise RuntimeError("no gateway factory in the daemon")


def boto3_request(call: str, **parameters: Any) -> bytes:
    """The bytes boto3 would send for ``call`` (captured before sending)."""
    from bench._daemon import boto_client

    client = boto_client(4566, "s3")
    captured: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        captured.append(request)
        raise RuntimeError("captured")

    client.meta.events.register("before-send.s3", capture)
    try:
        getattr(client, call)(**parameters)
    except RuntimeError:
        pass
    (request,) = captured
    body = request.body if isinstance(request.body, bytes) else (request.body or b"")
    if not isinstance(body, bytes):
        body = body.read()
    target = request.url.partition("127.0.0.1:4566")[2]
    head = f"{request.method} {target} HTTP/1.1\r\nHost: 127.0.0.1:4566\r\n"
    for name, value in request.headers.items():
        head += f"{name}: {value.decode() if isinstance(value, bytes) else value}\r\n"
    if body and "Content-Length" not in request.headers:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def connected(protocol: Any) -> tuple[Any, StringTransport]:
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def measure(
    name: str,
    protocol: Any,
    transport: StringTransport,
    request: bytes,
    answer: Callable[[], None] = lambda: None,
    cold: bool = False,
) -> None:
    """
    Print the CPU time per ``request`` (see the module docstring). A request
    that expects ``100 Continue`` arrives as boto3 sends it over a socket:
    its head, then (once the server said ``100 Continue``) its body.
    """
    head, separator, body = request.partition(b"\r\n\r\n")
    pieces = [head + separator, body] if b"\r\nExpect: 100-continue\r\n" in head else [request]

    def send() -> None:
        for piece in pieces:
            protocol.dataReceived(piece)
        answer()

    transport.clear()
    for _ in range(500):
        send()
    if (
        not transport.value()
        .rpartition(b"HTTP/1.1 100 Continue\r\n\r\n")[2]
        .startswith(b"HTTP/1.1 200 ")
    ):
        raise RuntimeError(f"{name} failed: {transport.value()[:300]!r}")
    if cold:
        measure_cold(name, send, transport)
        return
    runs = []
    for _ in range(BATCHES):
        transport.clear()
        started = time.process_time()
        for _ in range(BATCH):
            send()
        LOG_CLOCK.advance(HOLD_SECONDS)
        runs.append((time.process_time() - started) / BATCH)
    runs.sort()
    print(
        f"{name:10} µs/request: least {runs[0] * 1e6:6.1f}   20th percentile"
        f" {runs[len(runs) // 5] * 1e6:6.1f}   load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def measure_cold(name: str, send: Callable[[], None], transport: StringTransport) -> None:
    """Time each of ``COLD_REQUESTS`` requests ``send`` sends, after emptying the caches."""
    zeros = bytes(len(EVICTION) // 64)
    times = []
    for index in range(COLD_REQUESTS):
        EVICTION[::64] = zeros
        started = time.process_time_ns()
        send()
        times.append(time.process_time_ns() - started)
        if index % BATCH == 0:
            LOG_CLOCK.advance(HOLD_SECONDS)
            transport.clear()
    times.sort()
    print(
        f"{name:10} cold µs/request: median {times[len(times) // 2] / 1e3:6.1f}"
        f"   20th percentile {times[len(times) // 5] / 1e3:6.1f}"
        f"   load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        log = twistd_log_file({"nodaemon": True, "logfile": os.path.join(directory, "daemon.log")})
        assert log is not None
        lines = HeldLines(log, LOG_CLOCK)
        globalLogBeginner.beginLoggingTo([observer_for("classic", lines)], redirectStandardIO=False)
        cold = "--cold" in sys.argv
        for name in [name for name in sys.argv[1:] if name != "--cold"] or [
            "dynamodb",
            "s3-get",
            "s3-put",
        ]:
            if name.startswith("dynamodb"):
                protocol, answer = dynamodb_protocol(fast=name == "dynamodb")
                measure(name, *connected(protocol), DYNAMODB_REQUEST, answer, cold)
                continue
            protocol, transport = connected(s3_protocol())
            small = os.urandom(1024)
            protocol.dataReceived(boto3_request("create_bucket", Bucket="bench"))
            protocol.dataReceived(
                boto3_request("put_object", Bucket="bench", Key="small", Body=small)
            )
            if name == "s3-get":
                request = boto3_request("get_object", Bucket="bench", Key="small")
            else:
                request = boto3_request("put_object", Bucket="bench", Key="small", Body=small)
            measure(name, protocol, transport, request, cold=cold)


if __name__ == "__main__":
    main()
