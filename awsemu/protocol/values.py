"""
Scalar conversions shared by every protocol: timestamps in AWS's three
wire formats, booleans, blobs and numbers, in both directions.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from awsemu.protocol.errors import ServiceError

ISO8601 = "iso8601"
RFC822 = "rfc822"
EPOCH = "unixtimestamp"


class WireValueError(ValueError):
    """A value on the wire that does not fit its shape's type."""


def to_datetime(value: datetime | float | int | str) -> datetime:
    """Accept what providers hand back (datetimes or epoch seconds) as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return parse_timestamp(value)


def parse_timestamp(text: str | float | int) -> datetime:
    """Read a timestamp in any of the formats AWS clients send."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return datetime.fromtimestamp(text, UTC)
    if not isinstance(text, str):
        raise WireValueError(f"not a timestamp: {text!r}")
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError) as e:
            raise WireValueError(f"not a timestamp: {text!r}") from e
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_timestamp(value: datetime | float | int | str, fmt: str) -> str | float:
    """Render a timestamp the way AWS does in ``fmt``; epoch seconds stay a number."""
    if fmt == RFC822 and isinstance(value, float):
        return _rfc822_of_seconds(value)
    moment = to_datetime(value)
    if fmt == EPOCH:
        seconds = round(moment.timestamp(), 3)
        return int(seconds) if seconds.is_integer() else seconds
    if fmt == RFC822:
        return _rfc822(math.floor(moment.timestamp()))
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=1024)
def _rfc822_of_seconds(value: float) -> str:
    """
    ``_rfc822`` of a moment the store keeps as epoch seconds (an object's
    ``LastModified``), cached by that float: the same as through a
    ``datetime``, without making one on every read of the object.
    """
    return _rfc822(math.floor(to_datetime(value).timestamp()))


@functools.lru_cache(maxsize=1024)
def _rfc822(seconds: int) -> str:
    """
    HTTP's date format. Cached: the same few moments (an object's
    ``Last-Modified``) are written on every read of it.
    """
    return format_datetime(datetime.fromtimestamp(seconds, UTC), usegmt=True)


def parse_boolean(text: str) -> bool:
    if text == "true":
        return True
    if text == "false":
        return False
    raise WireValueError(f"not a boolean: {text!r}")


def parse_integer(text: str) -> int:
    try:
        return int(text)
    except ValueError as e:
        raise WireValueError(f"not an integer: {text!r}") from e


def parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError as e:
        raise WireValueError(f"not a number: {text!r}") from e


def format_float(value: float) -> str:
    """Floats as botocore writes them, Infinity and NaN included."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def decode_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise WireValueError(f"not base64: {text[:40]!r}") from e


def encode_base64(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


def invalid_parameter(code: str, name: str, problem: WireValueError) -> ServiceError:
    """The error for a parameter whose wire value does not fit its type."""
    return ServiceError(code, f"Invalid value for parameter {name}: {problem}")
