"""
Raw HTTP/1.1 over a socket, for tests that send what no HTTP client would
(bare LF lines, bytes that are not UTF-8, stalled bodies) and read the
answer as it came.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Sequence

import attrs

_LENGTH = re.compile(rb"\r\ncontent-length: *([0-9]+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding: *chunked", re.IGNORECASE)


@attrs.frozen
class RawResponse:
    status: int
    head: bytes
    body: bytes

    def header(self, name: str) -> str | None:
        found = re.search(
            rb"\r\n" + re.escape(name.encode()) + rb": *([^\r\n]*)", self.head, re.IGNORECASE
        )
        return None if found is None else found.group(1).decode("latin-1")


def read_response(sock: socket.socket, head_only: bool = False) -> RawResponse | None:
    """The next response on ``sock``, or None if the connection closed before one came."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = _LENGTH.search(head)
    if head_only or status in (100, 204, 304):
        wanted = 0
    elif length is not None:
        wanted = int(length.group(1))
    elif _CHUNKED.search(head):
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return RawResponse(status, head, rest)
    else:
        wanted = -1
    while wanted < 0 or len(rest) < wanted:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return RawResponse(status, head, rest if wanted < 0 else rest[:wanted])


def request_bytes(
    method: bytes,
    target: bytes,
    headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes = b"",
) -> bytes:
    """A request with ``Host`` and ``Content-Length`` added."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in headers]
    lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(port: int, raw: bytes, timeout: float = 30) -> RawResponse | None:
    """Send ``raw`` on a new connection and read one answer (None: closed without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        return read_response(sock, head_only=raw.startswith(b"HEAD "))


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """
    Seconds until the server closed ``sock`` (reading and dropping what it
    sends), or None if it was still open after ``seconds``.
    """
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if not sock.recv(65536):
                return time.monotonic() - start
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
    return None


def signed_by(service: str) -> tuple[bytes, bytes]:
    """An ``Authorization`` header whose credential scope routes to ``service``."""
    return (
        b"Authorization",
        b"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/%s/aws4_request,"
        b" SignedHeaders=host, Signature=0" % service.encode(),
    )
