"""
JSON documents to and from botocore shapes, for the ``json`` and
``rest-json`` protocols: epoch-second timestamps, base64 blobs, members
under their serialized names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from awsemu.protocol import values
from awsemu.protocol.values import WireValueError


def decode_value(shape: Any, value: Any) -> Any:
    """The Python value of ``shape`` from parsed JSON; a type mismatch is a ``WireValueError``."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        if not isinstance(value, dict):
            raise WireValueError(f"expected an object for {shape.name}")
        return decode_structure(shape, value)
    if kind == "list":
        if not isinstance(value, list):
            raise WireValueError(f"expected a list for {shape.name}")
        return [decode_value(shape.member, item) for item in value]
    if kind == "map":
        if not isinstance(value, dict):
            raise WireValueError(f"expected an object for {shape.name}")
        return {key: decode_value(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        return values.parse_timestamp(value)
    if kind == "blob":
        if not isinstance(value, str):
            raise WireValueError(f"expected base64 text for {shape.name}")
        return values.decode_base64(value)
    return _checked_scalar(shape, kind, value)


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "float": (int, float),
    "double": (int, float),
}


_SPECIAL_FLOATS = frozenset({"NaN", "Infinity", "-Infinity"})


def _checked_scalar(shape: Any, kind: str, value: Any) -> Any:
    if kind in ("float", "double") and value in _SPECIAL_FLOATS:
        return float(value)
    expected = _PYTHON_TYPES.get(kind)
    if expected is None:
        return value
    if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
        raise WireValueError(f"expected {kind} for {shape.name}, got {type(value).__name__}")
    return float(value) if kind in ("float", "double") else value  # type: ignore[arg-type]


def decode_structure(shape: Any, document: Mapping[str, Any]) -> dict[str, Any]:
    """The body members of ``shape`` present in a JSON object."""
    parsed: dict[str, Any] = {}
    for name, member in shape.members.items():
        serialization = member.serialization
        if "location" in serialization:
            continue
        raw = document.get(serialization.get("name", name))
        if raw is not None:
            parsed[name] = decode_value(member, raw)
    return parsed


def encode_value(shape: Any, value: Any) -> Any:
    """The JSON-ready form of ``value`` of ``shape``."""
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        return encode_structure(shape, value)
    if kind == "list":
        return [encode_value(shape.member, item) for item in value]
    if kind == "map":
        return {key: encode_value(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        return values.format_timestamp(
            value, shape.serialization.get("timestampFormat", values.EPOCH)
        )
    if kind == "blob":
        return values.encode_base64(value)
    if kind in ("float", "double"):
        number = float(value)
        return (
            number
            if number == number and abs(number) != float("inf")
            else values.format_float(number)
        )
    return value


def encode_structure(shape: Any, value: Mapping[str, Any]) -> dict[str, Any]:
    """A structure's body members as a JSON object, located members left out."""
    members = shape.members
    document: dict[str, Any] = {}
    for name, item in value.items():
        member = members.get(name)
        if member is None or item is None or "location" in member.serialization:
            continue
        document[member.serialization.get("name", name)] = encode_value(member, item)
    return document
