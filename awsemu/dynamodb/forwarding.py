"""
Which of a request's headers the DynamoDB proxy passes on to DynamoDB
Local, and the C{Authorization} it puts in place of the caller's (see
L{awsemu.dynamodb.proxy}).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Final

from awsemu.protocol.http import REMEMBERED_LENGTH, wire_bytes

_NOT_FORWARDED: Final = frozenset(
    {
        "host",
        "authorization",
        "x-amz-security-token",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "expect",
        # A compressed response could not have its ARNs rewritten.
        "accept-encoding",
    }
)
"""Request headers not passed on: hop-by-hop ones, and those replaced here."""

_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An HTTP header name (RFC 9110's token)."""


@functools.lru_cache(maxsize=256)
def local_authorization(account_id: str, region: str, secret: str) -> bytes:
    """
    A SigV4 ``Authorization`` DynamoDB Local accepts (it checks the shape,
    not the signature) and that picks the database of ``account_id`` in
    ``region`` under ``secret`` (its access key id is the two together).
    """
    return (
        f"AWS4-HMAC-SHA256 Credential={secret}{account_id}/20120810/{region}"
        "/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
    ).encode()


def _line_start(name: str) -> bytes:
    """
    The start of a request header's line as passed on to DynamoDB Local:
    its name, a colon and a space. Empty for a header replaced here or
    hop-by-hop (L{_NOT_FORWARDED}), and for a name that is not an RFC 9110
    token, which its HTTP server would answer with an HTML page. None of
    those is a header DynamoDB reads.
    """
    if name.lower() in _NOT_FORWARDED or _TOKEN.fullmatch(name) is None:
        return b""
    return wire_bytes(name) + b": "


_remembered_line_start = functools.lru_cache(maxsize=512)(_line_start)
"""
L{_line_start}, remembered for short names: a client sends the same few
every time, where values (dates, signatures, invocation ids) change.
"""


def forwarded_header(name: str, value: str) -> tuple[bytes, bytes] | None:
    """
    A request header as passed on to DynamoDB Local; None for a name that
    is not (see L{_line_start}), and for a value its HTTP server would
    answer with an HTML page: one holding a control character (or bytes
    that were not UTF-8), which no header DynamoDB reads holds.
    """
    start = _remembered_line_start(name) if len(name) <= REMEMBERED_LENGTH else _line_start(name)
    return (start[:-2], wire_bytes(value)) if start and value.isprintable() else None


def forwarded_lines(headers: Iterable[tuple[str, str]]) -> bytes:
    """
    The lines of the ``headers`` passed on (see L{forwarded_header}), each
    after a CR LF, as one request's head holds them: in one loop without a
    call but the remembered start of the line's. Names are the same from
    one request to the next, where values (dates, signatures, invocation
    ids) are not: with boto3's headers, this takes 1.8 µs where lines
    remembered whole took 2.6.
    """
    lines = [b""]
    for name, value in headers:
        start = (
            _remembered_line_start(name) if len(name) <= REMEMBERED_LENGTH else _line_start(name)
        )
        if start and value.isprintable():
            lines.append(start + value.encode("utf-8", "surrogateescape"))  # wire_bytes
    return b"\r\n".join(lines)
