"""
Bucket lifecycle rules: checked when put, as S3 checks them, and read for
the ``x-amz-expiration`` header of objects a rule expires.

Texts and codes are S3's answers as recorded: the API reference's error
table ("List of error codes"), and answers quoted in public reports
(noobaa/noobaa-core#8628 and #8664, hashicorp/terraform-provider-aws
#35328, #41521 and #23228, terraform-aws-modules/terraform-aws-s3-bucket
#109, cloudposse/terraform-aws-s3-bucket#137, localstack's recorded
lifecycle tests). Where only the text was recorded (through
CloudFormation), the code is the one S3 gives its siblings, marked so.

When an object expires (user guide, "Lifecycle configuration elements"):
its creation time plus the rule's days, rounded up to the next midnight
UTC, or the rule's date; with several rules, the earliest, and the first
listed among equals.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any, Final

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.values import to_datetime
from awsemu.s3 import errors
from awsemu.s3.store import Document, ObjectVersion

MAX_RULES: Final = 1000
MAX_ID: Final = 255
MAX_SIZE: Final = 1099511627776000
"""The largest size filter S3 accepts (its error text names it)."""

_DAY: Final = 86400
_PREDICATES: Final = ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And")
_ACTIONS: Final = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionTransitions",
    "NoncurrentVersionExpiration",
    "AbortIncompleteMultipartUpload",
)
#: Storage classes a transition reaches only after 30 days.
_THIRTY_DAY_CLASSES: Final = ("STANDARD_IA", "ONEZONE_IA")


def _invalid_argument(message: str) -> ServiceError:
    return ServiceError("InvalidArgument", message)


def new_rule_id() -> str:
    """
    An ID for a rule sent without one, as S3 makes them: base64 of a
    version 4 UUID (aws/aws-sdk-go-v2#3165 records such IDs).
    """
    return base64.b64encode(str(uuid.uuid4()).encode("ascii")).decode("ascii")


def check(document: Document) -> None:
    """
    S3's error for a lifecycle configuration it refuses; rules without an
    ``ID`` are given one (S3 names every rule it keeps).
    """
    rules = document.get("Rules") or []
    if not rules:
        raise errors.malformed_xml()
    if len(rules) > MAX_RULES:
        raise errors.invalid_request(
            "The number of lifecycle rules must not exceed the allowed limit of 1000 rules."
        )
    legacy = ["Prefix" in rule and "Filter" not in rule for rule in rules]
    if any(legacy) and not all(legacy):
        first_legacy = legacy[0]
        # hashicorp/terraform-provider-aws#23299; ansible/ansible#53751.
        raise errors.invalid_request(
            "Filter element can only be used in Lifecycle V2."
            if first_legacy
            else "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported "
            "in the Filter."
        )
    seen: set[str] = set()
    for rule in rules:
        _check_rule(rule)
        rule_id = rule.setdefault("ID", new_rule_id())
        if len(rule_id) > MAX_ID:
            raise _invalid_argument("ID length should not exceed allowed limit of 255")
        if rule_id in seen:
            raise _invalid_argument("Rule ID must be unique. Found same ID for more than one rule")
        seen.add(rule_id)


def _check_rule(rule: Document) -> None:
    if "Filter" not in rule and "Prefix" not in rule:
        raise errors.malformed_xml()
    tags, sizes = _check_filter(rule.get("Filter"))
    if not any(rule.get(action) for action in _ACTIONS):
        raise errors.invalid_request("At least one action needs to be specified in a rule")
    expiration = rule.get("Expiration")
    if expiration is not None:
        _check_expiration(expiration, sizes)
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort is not None:
        if tags:
            raise errors.invalid_request(
                "AbortIncompleteMultipartUpload cannot be specified with Tags."
            )
        if sizes:
            raise errors.invalid_request(
                "AbortIncompleteMultipartUpload cannot be specified with Object Size."
            )
        if (abort.get("DaysAfterInitiation") or 0) < 1:
            # Code and text as S3 gives them for its sibling elements.
            raise _invalid_argument(
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a "
                "positive integer"
            )
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent is not None:
        if "NoncurrentDays" not in noncurrent:
            raise errors.malformed_xml()
        if noncurrent["NoncurrentDays"] < 1:
            raise _invalid_argument(
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"
            )
        if "NewerNoncurrentVersions" in noncurrent and "Filter" not in rule:
            raise errors.invalid_request(
                "NewerNoncurrentVersions element can only be used in Lifecycle V2."
            )
    for transition in rule.get("Transitions") or []:
        storage_class = transition.get("StorageClass")
        if storage_class in _THIRTY_DAY_CLASSES and transition.get("Days", 30) < 30:
            raise _invalid_argument(
                "'Days' in Transition action must be greater than or equal to 30 for "
                f"storageClass '{storage_class}'"
            )


def _check_expiration(expiration: Document, sizes: bool) -> None:
    marker = expiration.get("ExpiredObjectDeleteMarker")
    if marker is not None and ("Days" in expiration or "Date" in expiration):
        raise errors.malformed_xml()
    if marker is not None and sizes:
        raise errors.invalid_request(
            "ExpiredObjectDeleteMarker cannot be specified with Object Size."
        )
    if "Days" in expiration and expiration["Days"] < 1:
        # Code as S3 gives it for NoncurrentDays; the text was recorded.
        raise _invalid_argument("'Days' for Expiration action must be a positive integer")
    if "Date" in expiration:
        moment = to_datetime(expiration["Date"])
        if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
            raise _invalid_argument("'Date' must be at midnight GMT")


def _check_filter(rule_filter: Document | None) -> tuple[bool, bool]:
    """A filter's form; whether it names tags, and whether sizes."""
    if rule_filter is None:
        return False, False
    named = [name for name in _PREDICATES if name in rule_filter]
    if len(named) > 1:
        raise errors.malformed_xml()
    conditions: Document = rule_filter.get("And") or rule_filter
    tags = conditions.get("Tags") or ([conditions["Tag"]] if "Tag" in conditions else [])
    if "And" in rule_filter:
        parts = len(tags) + sum(
            name in conditions for name in ("Prefix", "ObjectSizeGreaterThan", "ObjectSizeLessThan")
        )
        if parts < 2:
            raise errors.malformed_xml()
        keys = [tag.get("Key") for tag in tags]
        if len(set(keys)) != len(keys):
            raise errors.invalid_request("Duplicate Tag Keys are not allowed.")
    above = conditions.get("ObjectSizeGreaterThan")
    below = conditions.get("ObjectSizeLessThan")
    if below is not None and not 1 <= below <= MAX_SIZE:
        raise errors.invalid_request(f"'ObjectSizeLessThan' should be between 1 and {MAX_SIZE}.")
    if above is not None and below is not None and above >= below:
        # The text was recorded; the code is assumed to be its sibling's.
        raise errors.invalid_request(
            "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."
        )
    return bool(tags), above is not None or below is not None


def _matches(rule: Document, version: ObjectVersion) -> bool:
    """Whether ``rule``'s filter (or rule-level prefix) selects ``version``."""
    if "Filter" not in rule:
        return version.key.startswith(rule.get("Prefix") or "")
    rule_filter = rule["Filter"] or {}
    conditions: Document = rule_filter.get("And") or rule_filter
    tags = conditions.get("Tags") or ([conditions["Tag"]] if "Tag" in conditions else [])
    above = conditions.get("ObjectSizeGreaterThan")
    below = conditions.get("ObjectSizeLessThan")
    return (
        version.key.startswith(conditions.get("Prefix") or "")
        and all(version.tags.get(tag.get("Key")) == tag.get("Value", "") for tag in tags)
        and (above is None or version.size > above)
        and (below is None or version.size < below)
    )


def _rules(config: Document) -> list[Document]:
    """The lifecycle rules of the bucket holding ``config``."""
    rules: list[Document] = (config.get("lifecycle") or {}).get("Rules") or []
    return rules


def _days_after(moment: float, days: int) -> float:
    """``days`` after ``moment``, rounded up to the next midnight UTC, as S3 counts them."""
    return math.ceil((moment + days * _DAY) / _DAY) * _DAY


def _expiries(config: Document, version: ObjectVersion) -> Iterator[tuple[float, str]]:
    for rule in _rules(config):
        expiration = rule.get("Expiration") or {}
        if rule.get("Status") != "Enabled" or not _matches(rule, version):
            continue
        if "Days" in expiration:
            yield _days_after(version.last_modified, expiration["Days"]), rule.get("ID", "")
        elif "Date" in expiration:
            yield to_datetime(expiration["Date"]).timestamp(), rule.get("ID", "")


def expiration(config: Document, version: ObjectVersion) -> dict[str, Any]:
    """
    The ``Expiration`` (``x-amz-expiration``) of a current version in the
    bucket holding ``config``, if an enabled rule expires it.
    """
    if not _rules(config):
        return {}
    found = min(_expiries(config, version), key=lambda pair: pair[0], default=None)
    if found is None:
        return {}
    due, rule_id = found
    return {"Expiration": f'expiry-date="{formatdate(due, usegmt=True)}", rule-id="{rule_id}"'}


def abort(config: Document, key: str, initiated: float) -> dict[str, Any]:
    """
    ``AbortDate`` and ``AbortRuleId`` (``x-amz-abort-date``,
    ``x-amz-abort-rule-id``) of an upload of ``key`` started at
    ``initiated``, if an enabled rule aborts it: by the rule's prefix, as
    such rules take no tags or sizes; the earliest date wins.
    """
    found: tuple[float, str] | None = None
    for rule in _rules(config):
        days = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
        conditions: Document = rule.get("Filter") or {}
        prefix = rule.get("Prefix") if "Filter" not in rule else conditions.get("Prefix")
        if rule.get("Status") != "Enabled" or days is None or not key.startswith(prefix or ""):
            continue
        due = _days_after(initiated, days)
        if found is None or due < found[0]:
            found = (due, rule.get("ID", ""))
    return {} if found is None else {"AbortDate": found[0], "AbortRuleId": found[1]}
