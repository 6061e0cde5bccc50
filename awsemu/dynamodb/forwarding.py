"""
Which of a request's headers the DynamoDB proxy passes on to DynamoDB
Local, and the C{Authorization} it puts in place of the caller's (see
L{awsemu.dynamodb.proxy}).
"""

from __future__ import annotations

import functools
import re
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


def _header(name: str, value: str) -> tuple[bytes, bytes] | None:
    """
    A request header as passed on to DynamoDB Local; None for those
    replaced here or hop-by-hop (L{_NOT_FORWARDED}), and for those its HTTP
    server would answer with an HTML page: a name that is not an RFC 9110
    token, a value holding a control character (or bytes that were not
    UTF-8). None of those is a header DynamoDB reads.
    """
    if name.lower() in _NOT_FORWARDED or _TOKEN.fullmatch(name) is None:
        return None
    return (wire_bytes(name), wire_bytes(value)) if value.isprintable() else None


_remembered_header = functools.lru_cache(maxsize=512)(_header)
"""L{_header}, remembered for short headers: a client sends most of them the same every time."""


def _line(name: str, value: str) -> bytes:
    """A request header's line as passed on (see L{_header}); empty if it is not."""
    forwarded = _header(name, value)
    return b"" if forwarded is None else forwarded[0] + b": " + forwarded[1]


_remembered_line = functools.lru_cache(maxsize=512)(_line)
"""L{_line}, remembered for short headers."""


def forwarded_header(name: str, value: str) -> tuple[bytes, bytes] | None:
    """A request header as passed on (see L{_header}), remembered for short ones."""
    if len(name) + len(value) <= REMEMBERED_LENGTH:
        return _remembered_header(name, value)
    return _header(name, value)


def forwarded_line(name: str, value: str) -> bytes:
    """A request header's line as passed on (see L{_header}), remembered for short ones."""
    if len(name) + len(value) <= REMEMBERED_LENGTH:
        return _remembered_line(name, value)
    return _line(name, value)
