"""
AWS's event-stream framing (``application/vnd.amazon.eventstream``), for
operations whose response is a stream of events: S3 SelectObjectContent,
Lambda InvokeWithResponseStream, CloudWatch Logs StartLiveTail.

Each message is a prelude (total length, headers length, CRC32 of the
two), typed headers, a payload and a CRC32 of everything before it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from awsemu.protocol import values

CONTENT_TYPE = "application/vnd.amazon.eventstream"

#: How an event's structure (or structure payload) becomes bytes, with its content type.
BodyEncoder = Callable[[Any, Mapping[str, Any], str], tuple[bytes, str]]

_STRING, _BYTES, _INT32, _INT64, _TIMESTAMP = 7, 6, 4, 5, 8


def _header(name: str, kind: int, value: bytes) -> bytes:
    encoded = name.encode("utf-8")
    return struct.pack("B", len(encoded)) + encoded + struct.pack("B", kind) + value


def _string_header(name: str, value: str) -> bytes:
    encoded = value.encode("utf-8")
    return _header(name, _STRING, struct.pack(">H", len(encoded)) + encoded)


def _typed_header(name: str, shape: Any, value: Any) -> bytes:
    """An ``eventheader`` member as the header type its shape calls for."""
    kind = shape.type_name
    if kind == "boolean":
        return _header(name, 0 if value else 1, b"")
    if kind == "integer":
        return _header(name, _INT32, struct.pack(">i", value))
    if kind == "long":
        return _header(name, _INT64, struct.pack(">q", value))
    if kind == "blob":
        return _header(name, _BYTES, struct.pack(">H", len(value)) + bytes(value))
    if kind == "timestamp":
        milliseconds = round(values.to_datetime(value).timestamp() * 1000)
        return _header(name, _TIMESTAMP, struct.pack(">q", milliseconds))
    return _string_header(name, str(value))


def message(headers: Iterable[bytes], payload: bytes) -> bytes:
    """One framed message."""
    encoded_headers = b"".join(headers)
    total = 16 + len(encoded_headers) + len(payload)
    prelude = struct.pack(">II", total, len(encoded_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    framed = prelude + encoded_headers + payload
    return framed + struct.pack(">I", zlib.crc32(framed))


def initial_response(payload: bytes, content_type: str) -> bytes:
    """The ``initial-response`` event the ``json`` protocol sends first."""
    return message(
        [
            _string_header(":message-type", "event"),
            _string_header(":event-type", "initial-response"),
            _string_header(":content-type", content_type),
        ],
        payload,
    )


def encode_events(
    stream_shape: Any, events: Iterable[Mapping[str, Any]], encode_body: BodyEncoder
) -> bytes:
    """
    ``events`` (each ``{EventName: members}``, as botocore yields them) in
    the stream's framing; an event whose shape is a modeled exception is sent
    as an exception message.
    """
    framed = []
    for event in events:
        for name, members in event.items():
            framed.append(_event(name, stream_shape.members[name], members, encode_body))
    return b"".join(framed)


def _event(name: str, shape: Any, members: Mapping[str, Any], encode_body: BodyEncoder) -> bytes:
    if shape.metadata.get("exception"):
        payload, content_type = encode_body(shape, members, name)
        headers = [
            _string_header(":message-type", "exception"),
            _string_header(":exception-type", name),
            _string_header(":content-type", content_type),
        ]
        return message(headers, payload)
    headers = [_string_header(":message-type", "event"), _string_header(":event-type", name)]
    body_members = {}
    payload_member = None
    for member_name, value in members.items():
        member = shape.members[member_name]
        if member.serialization.get("eventheader"):
            headers.append(_typed_header(member_name, member, value))
        elif member.serialization.get("eventpayload"):
            payload_member = (member, value)
        else:
            body_members[member_name] = value
    if payload_member is not None:
        member, value = payload_member
        if member.type_name == "blob":
            payload, content_type = bytes(value), "application/octet-stream"
        elif member.type_name == "string":
            payload, content_type = value.encode("utf-8"), "text/plain"
        else:
            payload, content_type = encode_body(member, value, member.name)
    elif body_members or not any(
        m.serialization.get("eventheader") for m in shape.members.values()
    ):
        payload, content_type = encode_body(shape, body_members, name)
    else:
        payload, content_type = b"", "application/octet-stream"
    headers.append(_string_header(":content-type", content_type))
    return message(headers, payload)
