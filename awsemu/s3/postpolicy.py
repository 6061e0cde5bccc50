"""
The policy document of a browser POST upload: read it as S3 does (a
malformed one is ``InvalidPolicyDocument``, 400, before anything is
checked), then hold the form's fields to its expiration and conditions (a
field that fails is ``AccessDenied``, 403, quoting the condition).

Where the texts come from: "Invalid JSON.", "Invalid 'expiration' value:
'…'", "Unexpected: '…'", the Simple-Condition texts, "Policy expired." and
the ``Policy Condition failed`` quoting are S3's answers as recorded by
users and by LocalStack's AWS-validated tests (``TestS3PresignedPost``);
the other ``Invalid Policy:`` texts are recalled as third-party servers
modelled on S3 write them (versitygw, Ceph RGW), unrecorded from AWS itself.
Ceph's s3-tests expect each of these malformed policies to be a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from awsemu.protocol.errors import ServiceError
from awsemu.s3 import errors

#: S3 reads only UTC timestamps in this form; an offset or a space for the
#: ``T`` is refused ("2011-09-13T07:52:58+02:00", "2015-10-17 03:15:59 UTC" recorded).
_EXPIRATION: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
#: The members a policy document may have.
_MEMBERS: Final = ("expiration", "conditions")
#: Operators taking a field and a value.
_FIELD_OPERATORS: Final = frozenset({"eq", "starts-with"})
_RANGE: Final = "content-length-range"


def invalid_policy(detail: str) -> ServiceError:
    return ServiceError("InvalidPolicyDocument", f"Invalid Policy: {detail}")


def policy_failed(detail: str) -> ServiceError:
    return errors.access_denied(f"Invalid according to Policy: {detail}")


def _quoted(condition: Any) -> str:
    """A condition as S3 quotes it, in the policy's own spelling: ``["eq", "$key", "a"]``."""
    return json.dumps(condition, separators=(", ", ": "), ensure_ascii=False)


@attrs.frozen
class Condition:
    """
    One condition: ``eq`` or ``starts-with`` on ``field`` (lowercased, None
    when the policy named it without ``$``: a condition nothing meets), or
    ``content-length-range`` with its bounds; ``quoted`` is how a failure
    names it.
    """

    operator: str
    field: str | None
    value: str
    quoted: str
    bounds: tuple[Any, Any] = (0, 0)

    def check(self, values: Mapping[str, str], size: int) -> None:
        """Raise S3's error unless ``values`` (the form's fields) and ``size`` meet this."""
        if self.operator == _RANGE:
            _check_size(self, size)
            return
        value = None if self.field is None else values.get(self.field, "")
        if value is None or not (
            value == self.value if self.operator == "eq" else value.startswith(self.value)
        ):
            raise policy_failed(f"Policy Condition failed: {self.quoted}")


def _bound(value: Any, condition: Condition) -> int:
    """
    A ``content-length-range`` bound: a whole number, or a string of
    digits; anything else is a condition S3 cannot apply, so it fails
    with AccessDenied (recorded in github.com/sivchari/kumo/pull/936).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise policy_failed(f"Policy Condition failed: {condition.quoted}")


def _check_size(condition: Condition, size: int) -> None:
    low, high = (_bound(bound, condition) for bound in condition.bounds)
    if size > high:
        raise ServiceError(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            fields={"ProposedSize": size, "MaxSizeAllowed": high},
        )
    if size < low:
        raise ServiceError(
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            fields={"ProposedSize": size, "MinSizeAllowed": low},
        )


def _field(target: str) -> str | None:
    return target[1:].lower() if target.startswith("$") else None


def _simple(condition: dict[Any, Any]) -> Condition:
    """``{"field": "value"}``: the field equals the value exactly."""
    if len(condition) != 1:
        raise invalid_policy(
            "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
        )
    [(name, value)] = condition.items()
    if value is None:
        raise invalid_policy("Invalid JSON.")
    if not isinstance(value, str):
        raise invalid_policy("Invalid Simple-Condition: value must be a string.")
    return Condition("eq", name.lower(), value, _quoted(["eq", f"${name}", value]))


def _listed(condition: list[Any]) -> Condition:
    """``[operator, ...]``: ``eq``/``starts-with`` a field, or the body's size range."""
    if not condition:
        raise invalid_policy("Invalid Condition: missing operation identifier.")
    operator = condition[0]
    if not isinstance(operator, str):
        raise invalid_policy("Invalid JSON.")
    lowered = operator.lower()
    if lowered not in _FIELD_OPERATORS and lowered != _RANGE:
        raise invalid_policy(f"Invalid Condition: unknown operation '{operator}'.")
    if len(condition) != 3:
        raise invalid_policy(f"Invalid {operator}: wrong number of arguments.")
    if lowered == _RANGE:
        # A fractional bound is refused as JSON S3 cannot read (recorded:
        # repost.aws QUo27u4OYpTA-XvAWr72xeRg).
        if any(isinstance(bound, float) for bound in condition[1:]):
            raise invalid_policy("Invalid JSON.")
        return Condition(lowered, None, "", _quoted(condition), (condition[1], condition[2]))
    target, value = condition[1], condition[2]
    if not isinstance(target, str) or not isinstance(value, str):
        raise invalid_policy("Invalid JSON.")
    return Condition(lowered, _field(target), value, _quoted(condition))


@attrs.frozen
class Policy:
    """A parsed policy document: when it expires, and its conditions in order."""

    expiration: float
    conditions: tuple[Condition, ...]

    @classmethod
    def parse(cls, encoded: str) -> Policy:
        """The policy of a form's ``policy`` field, or S3's ``InvalidPolicyDocument``."""
        try:
            # Line breaks, as some base64 encoders insert, are not part of the encoding.
            text = base64.b64decode("".join(encoded.split()), validate=True)
        except binascii.Error:
            raise invalid_policy("invalid Base64 encoding.") from None
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise invalid_policy("Invalid JSON.") from None
        if not isinstance(document, dict):
            raise invalid_policy("Invalid JSON.")
        for name in document:
            if name not in _MEMBERS:
                raise invalid_policy(f"Unexpected: '{name.lower()}'")
        if "expiration" not in document:
            raise invalid_policy("Policy missing expiration.")
        expiration = document["expiration"]
        if not isinstance(expiration, str) or _EXPIRATION.fullmatch(expiration) is None:
            raise invalid_policy(f"Invalid 'expiration' value: '{expiration}'")
        if "conditions" not in document:
            raise invalid_policy("Policy missing conditions.")
        conditions = document["conditions"]
        if not isinstance(conditions, list):
            raise invalid_policy("Invalid 'conditions' value: must be a List.")
        parsed = []
        for condition in conditions:
            if isinstance(condition, dict):
                parsed.append(_simple(condition))
            elif isinstance(condition, list):
                parsed.append(_listed(condition))
            else:
                raise invalid_policy("Invalid condition test: must be a List or Object.")
        moment = datetime.fromisoformat(expiration.replace("Z", "+00:00")).timestamp()
        return cls(moment, tuple(parsed))

    def check(
        self,
        fields: Mapping[str, str],
        bucket: str,
        key: str,
        size: int,
        now: float,
        unconditioned: frozenset[str],
    ) -> None:
        """
        Raise S3's error unless the form's ``fields``, with the ``bucket``
        posted to and the ``key`` as stored (``${filename}`` replaced), and
        its file's ``size`` meet the policy at ``now``. Every field needs a
        condition but those S3 exempts (``unconditioned``, ``x-ignore-*``).
        """
        if now > self.expiration:
            raise policy_failed("Policy expired.")
        values = {**fields, "key": key, "bucket": bucket}
        for condition in self.conditions:
            condition.check(values, size)
        conditioned = {condition.field for condition in self.conditions}
        for name in fields:
            if name in conditioned or name in unconditioned or name.startswith("x-ignore-"):
                continue
            raise policy_failed(f"Extra input fields: {name}")
