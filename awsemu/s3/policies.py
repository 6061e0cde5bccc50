"""
Bucket policy documents, parsed and evaluated for a caller, an action, a
resource and the request's condition keys (``access`` decides what the
answer means for a request).

Policies: ``Effect``; ``Principal``/``NotPrincipal`` (``"*"``, ``AWS``
account ids, ``:root``, user, role and assumed-role ARNs, ``CanonicalUser``);
``Action``/``NotAction`` and ``Resource``/``NotResource`` with ``*`` and
``?`` wildcards; ``Condition`` with the operators of ``_OPERATORS`` (each
also with ``IfExists``) and ``Null``, on the keys of ``_KNOWN_KEYS``, and
policy variables of those keys (``${aws:username}``) in resources and
condition values. A statement with any other condition or variable never
applies: it grants nothing and denies nothing. ``aws:SecureTransport`` is
true: the daemon stands for AWS's HTTPS endpoints, which SDKs use, and
plain HTTP on loopback is only the emulator's own transport. So the
TLS-only ``Deny`` that AWS recommends (Security Hub control S3.5) and many
Terraform modules attach does not lock users out, as it would not on AWS.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import attrs

from awsemu.s3 import configs
from awsemu.s3.store import Document

REQUEST_KEYS: Final = {
    "s3:prefix": "Prefix",
    "s3:delimiter": "Delimiter",
    "s3:max-keys": "MaxKeys",
    "s3:x-amz-acl": "ACL",
    "s3:x-amz-grant-read": "GrantRead",
    "s3:x-amz-grant-write": "GrantWrite",
    "s3:x-amz-grant-read-acp": "GrantReadACP",
    "s3:x-amz-grant-write-acp": "GrantWriteACP",
    "s3:x-amz-grant-full-control": "GrantFullControl",
}
"""
S3's condition keys a request's parameters give (AWS's "Actions, resources,
and condition keys for Amazon S3"): the listing ones on listings, the ACL
ones on PutObject, CopyObject, CreateMultipartUpload and the ACL writes.
Each operation has only the parameters its keys apply to.
"""


@attrs.frozen
class Caller:
    """
    Who makes a request: its account, its principal's ARN (the account's
    root user unless IAM or STS issued the key), and whether it signed.
    """

    account: str
    arn: str
    authenticated: bool = True

    @property
    def is_root(self) -> bool:
        return self.arn == root_arn(self.account)

    @property
    def username(self) -> str | None:
        """``aws:username``: the IAM user's name; None for a root user or a role's session."""
        found = _USER.fullmatch(self.arn)
        return None if found is None else found.group(1)


_USER: Final = re.compile(r"arn:aws:iam::[0-9]{12}:user/(?:.*/)?([^/]+)")


def root_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


class Decision(enum.Enum):
    """What a bucket policy says of a request, when any statement applies."""

    ALLOW = "Allow"
    DENY = "Deny"


@attrs.frozen
class Condition:
    """One key of one condition operator: ``{"StringLike": {"s3:prefix": [...]}}``."""

    operator: str
    if_exists: bool
    key: str
    values: tuple[str, ...]


@attrs.frozen
class Statement:
    """
    One policy statement. ``principals`` are (kind, value) pairs, ``kind``
    being ``*`` for the bare ``"Principal": "*"``; each ``not_*`` flag says
    the element was the ``Not`` form. ``conditions`` is None when awsemu
    cannot evaluate them, and the statement then never applies.
    ``variables``: the policy's version (2012-10-17) gives ``${key}`` in
    resources and condition values its meaning, the request's value of
    ``key`` (see ``expand``); in older policies it is literal text.
    """

    effect: Decision
    principals: tuple[tuple[str, str], ...]
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...] | None
    variables: bool = False


def _strings(value: Any) -> tuple[str, ...]:
    """A policy element's one value or list of values, as strings (JSON ``true`` is "true")."""
    items = value if isinstance(value, list) else [value]
    return tuple(json.dumps(item) if isinstance(item, bool) else str(item) for item in items)


def _element(document: Document, name: str) -> tuple[tuple[str, ...], bool]:
    """The values of ``name`` or of ``Not<name>``, and whether it was the latter."""
    if name in document:
        return _strings(document[name]), False
    return _strings(document.get(f"Not{name}", [])), f"Not{name}" in document


def _principals(value: Any) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, dict):
        return ()
    return tuple((kind, item) for kind, items in value.items() for item in _strings(items))


_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
#: ``${*}``, ``${?}``, ``${$}``: the characters themselves.
_SPECIAL: Final = frozenset("*?$")


def _variable(text: str) -> tuple[str, str | None]:
    """A policy variable's key (lowercased) and default: ``aws:username, 'guest'``."""
    key, comma, default = text.partition(",")
    return key.strip().lower(), default.strip().strip("'") if comma else None


def _known_variables(text: str) -> bool:
    """Whether every variable of ``text`` names a key awsemu knows (or a special character)."""
    return all(
        found in _SPECIAL or _variable(found)[0] in _KNOWN_KEYS for found in _VARIABLE.findall(text)
    )


def expand(text: str, keys: Mapping[str, str]) -> str | None:
    """
    ``text`` with each ``${key}`` replaced by the request's value of
    ``key`` (or the variable's ``'default'``); None when a key the request
    lacks has no default: the element then matches nothing (IAM User
    Guide, "IAM policy elements: Variables and tags"). Substituted values
    are not escaped: a value holding ``*`` or ``?`` would act as a
    wildcard in ``*Like`` tests, which the keys awsemu knows never hold.
    """
    missing = False

    def value(found: re.Match[str]) -> str:
        nonlocal missing
        if found.group(1) in _SPECIAL:
            return found.group(1)
        key, default = _variable(found.group(1))
        given = keys.get(key, default)
        if given is None:
            missing = True
            return ""
        return given

    expanded = _VARIABLE.sub(value, text)
    return None if missing else expanded


def _conditions(value: Any, variables: bool) -> tuple[Condition, ...] | None:
    if not isinstance(value, dict):
        return None
    conditions = []
    for name, block in value.items():
        operator = name.removesuffix("IfExists")
        if (operator not in _OPERATORS and name != "Null") or not isinstance(block, dict):
            return None
        for key, values in block.items():
            strings = _strings(values)
            if key.lower() not in _KNOWN_KEYS or (
                variables and not all(_known_variables(item) for item in strings)
            ):
                return None
            conditions.append(Condition(operator, name != operator, key.lower(), strings))
    return tuple(conditions)


def _statement(document: Any, variables: bool) -> Statement | None:
    if not isinstance(document, dict) or document.get("Effect") not in ("Allow", "Deny"):
        return None
    actions, not_action = _element(document, "Action")
    resources, not_resource = _element(document, "Resource")
    not_principal = "NotPrincipal" in document
    return Statement(
        effect=Decision(document["Effect"]),
        principals=_principals(document.get("NotPrincipal" if not_principal else "Principal")),
        not_principal=not_principal,
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        conditions=(
            _conditions(document.get("Condition", {}), variables)
            if not variables or all(_known_variables(item) for item in resources)
            else None
        ),
        variables=variables,
    )


@functools.lru_cache(maxsize=256)
def parse_policy(text: str | None) -> tuple[Statement, ...]:
    """
    A bucket policy's statements (none for no policy); malformed statements
    are left out. Cached: the same text is parsed for every request.
    """
    if text is None:
        return ()
    try:
        document = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(document, dict):
        return ()
    found = document.get("Statement", [])
    variables = document.get("Version") == "2012-10-17"
    statements = (
        _statement(item, variables) for item in (found if isinstance(found, list) else [found])
    )
    return tuple(statement for statement in statements if statement is not None)


@functools.lru_cache(maxsize=1024)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    """A policy wildcard (``*`` any run, ``?`` any one character) as a regular expression."""
    translated = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in glob
    )
    return re.compile(translated, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(glob: str, value: str, ignore_case: bool = False) -> bool:
    return _pattern(glob, ignore_case).fullmatch(value) is not None


_ROLE: Final = re.compile(r"arn:aws:iam::([0-9]{12}):role/(?:.*/)?([^/]+)")
_SESSION: Final = re.compile(r"arn:aws:sts::([0-9]{12}):assumed-role/([^/]+)/.+")


def principal_matches(kind: str, value: str, caller: Caller) -> bool:
    """
    Whether a policy principal names ``caller``: everyone, its account (as an
    id, ``:root`` or its canonical user id), its user or session ARN, or the
    role its session assumed. No awsemu caller is a service or federated user.
    """
    if kind == "*" or kind == "AWS" and value == "*":
        return True
    if kind == "CanonicalUser":
        return value == configs.canonical_user_id(caller.account)
    if kind != "AWS":
        return False
    if value in (caller.account, root_arn(caller.account), caller.arn):
        return True
    role, session = _ROLE.fullmatch(value), _SESSION.fullmatch(caller.arn)
    return role is not None and session is not None and role.groups() == session.groups()


def _string_equals(value: str, wanted: str) -> bool:
    return value == wanted


def _string_equals_ignore_case(value: str, wanted: str) -> bool:
    return value.lower() == wanted.lower()


def _like(value: str, wanted: str) -> bool:
    return matches(wanted, value)


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    """A ``Numeric*`` test: both sides numbers (a value that is not one matches nothing)."""

    def test(value: str, wanted: str) -> bool:
        try:
            return compare(float(value), float(wanted))
        except ValueError:
            return False

    return test


def _bool(value: str, wanted: str) -> bool:
    return value.lower() == wanted.lower()


def _in_network(value: str, wanted: str) -> bool:
    """``IpAddress``: the address is in the CIDR block (or is the address) given."""
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(wanted, strict=False)
    except ValueError:
        return False


_OPERATORS: Final[Mapping[str, tuple[Callable[[str, str], bool], bool]]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "ArnEquals": (_like, False),
    "ArnLike": (_like, False),
    "ArnNotEquals": (_like, True),
    "ArnNotLike": (_like, True),
    "NumericEquals": (_numeric(operator.eq), False),
    "NumericNotEquals": (_numeric(operator.eq), True),
    "NumericLessThan": (_numeric(operator.lt), False),
    "NumericLessThanEquals": (_numeric(operator.le), False),
    "NumericGreaterThan": (_numeric(operator.gt), False),
    "NumericGreaterThanEquals": (_numeric(operator.ge), False),
    "Bool": (_bool, False),
    "IpAddress": (_in_network, False),
    "NotIpAddress": (_in_network, True),
}
"""Condition operator → (test of the request's value against one policy value, negated)."""

_KNOWN_KEYS: Final = frozenset(
    {
        "aws:principalaccount",
        "aws:principalarn",
        # Only present when a service acts for a resource, never on a direct call.
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:securetransport",
        "aws:sourceip",
        "aws:username",
        *REQUEST_KEYS,
    }
)
"""Condition keys whose value, or absence, awsemu knows for every request."""


def _expanded(texts: Iterable[str], keys: Mapping[str, str], variables: bool) -> list[str]:
    """``texts`` with their variables expanded (see ``expand``), but those that cannot be."""
    if not variables:
        return list(texts)
    return [found for text in texts if (found := expand(text, keys)) is not None]


def _condition_holds(condition: Condition, keys: Mapping[str, str], variables: bool) -> bool:
    """
    AWS's rules: any listed value may match; a key the request lacks fails
    a positive test and passes a negated one (or any ``IfExists`` test).
    """
    value = keys.get(condition.key)
    if condition.operator == "Null":
        return (value is None) == ("true" in (item.lower() for item in condition.values))
    if value is None:
        return condition.if_exists or _OPERATORS[condition.operator][1]
    test, negated = _OPERATORS[condition.operator]
    wanted = _expanded(condition.values, keys, variables)
    return any(test(value, item) for item in wanted) != negated


def _applies(
    statement: Statement, caller: Caller, action: str, resource: str, keys: Mapping[str, str]
) -> bool:
    if statement.conditions is None:
        return False
    named = any(principal_matches(kind, value, caller) for kind, value in statement.principals)
    acts = any(matches(glob, action, ignore_case=True) for glob in statement.actions)
    globs = _expanded(statement.resources, keys, statement.variables)
    covers = any(matches(glob, resource) for glob in globs)
    return (
        named != statement.not_principal
        and acts != statement.not_action
        and covers != statement.not_resource
        and all(
            _condition_holds(condition, keys, statement.variables)
            for condition in statement.conditions
        )
    )


def evaluate(
    statements: Iterable[Statement],
    caller: Caller,
    action: str,
    resource: str,
    keys: Mapping[str, str] | None = None,
) -> Decision | None:
    """
    What a policy says of ``caller`` doing ``action`` on ``resource``, with
    the request's condition ``keys``: an explicit Deny wins, then an Allow;
    None when no statement applies.
    """
    known = {
        "aws:principalaccount": caller.account,
        "aws:principalarn": caller.arn,
        **({} if caller.username is None else {"aws:username": caller.username}),
        **(keys or {}),
    }
    applying = {
        statement.effect
        for statement in statements
        if _applies(statement, caller, action, resource, known)
    }
    for decision in (Decision.DENY, Decision.ALLOW):
        if decision in applying:
            return decision
    return None
