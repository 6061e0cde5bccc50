"""
The access keys awsemu knows, and what each check of a key may conclude.

A key is known when awsemu holds its secret: the root keys of the
``--credentials`` file (the AWS CLI's format), the keys IAM creates for
users and the sessions STS issues (both in the IAM store), and the keys
awsemu gives the Lambda functions it runs under ``--auth enforce``.
"""

from __future__ import annotations

import configparser
import enum
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import DEFAULT_ACCOUNT_ID, Random

if TYPE_CHECKING:
    from awsemu.iam.store import IamStore
    from awsemu.shared import SharedObjects

_ACCOUNT_ID: Final = re.compile(r"[0-9]{12}")


class Mode(enum.Enum):
    """``--auth``: see the package docstring."""

    OFF = "off"
    VERIFY = "verify"
    ENFORCE = "enforce"


@attrs.frozen
class KnownKey:
    """
    An access key whose secret awsemu knows, and the ``account`` it belongs
    to. ``active`` is IAM's key Status; a session's key is used with its
    ``token`` and expires at ``expires`` (epoch seconds).
    """

    secret: str
    account: str
    active: bool = True
    expires: float | None = None
    token: str | None = None


class Problem(enum.Enum):
    """Why a key may not be used; each service words each one its own way."""

    UNSIGNED = "unsigned"
    """No signature at all (refused under ``enforce`` only)."""
    UNKNOWN_KEY = "unknown key"
    """A key awsemu never issued (under ``enforce``), an inactive key, or a session's key
    presented without its token."""
    INVALID_TOKEN = "invalid token"
    """A session token other than the one issued with the key."""
    EXPIRED_TOKEN = "expired token"
    """A session past its expiry."""


@attrs.define(auto_exc=True, eq=False)
class KeyRefused(Exception):
    """A key (or the lack of one) that may not be used; ``token`` is the one presented."""

    problem: Problem
    key_id: str | None = None
    token: str | None = None


def read_credentials(text: str) -> dict[str, KnownKey]:
    """
    The keys of an AWS CLI credentials file: every profile with
    ``aws_access_key_id`` and ``aws_secret_access_key``; its
    ``aws_account_id`` (which botocore also reads from this file) picks the
    account, else the default one. ``aws_session_token`` is ignored: these
    are lasting root keys. ValueError, saying what is wrong, for a file
    that cannot be used.
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as e:
        raise ValueError(f"not a credentials file ({e.message.splitlines()[0]})") from e
    keys: dict[str, KnownKey] = {}
    for name in parser.sections():
        profile = parser[name]
        key_id, secret = profile.get("aws_access_key_id"), profile.get("aws_secret_access_key")
        if not key_id and not secret:
            continue
        if not key_id or not secret:
            raise ValueError(
                f"profile {name!r} needs both aws_access_key_id and aws_secret_access_key"
            )
        account = profile.get("aws_account_id") or DEFAULT_ACCOUNT_ID
        if not _ACCOUNT_ID.fullmatch(account):
            raise ValueError(f"profile {name!r}: aws_account_id {account!r} is not 12 digits")
        if key_id in keys:
            raise ValueError(f"profile {name!r} repeats the access key id {key_id}")
        keys[key_id] = KnownKey(secret, account)
    if not keys:
        raise ValueError("no profile has aws_access_key_id and aws_secret_access_key")
    return keys


@attrs.define
class KeyDirectory:
    """
    Every key awsemu knows: ``roots`` (the credentials file's, and those
    made for Lambda functions) and those in ``iam`` (None when neither IAM
    nor STS is served). ``clock`` dates sessions' expiry; ``random`` makes
    the functions' keys.
    """

    mode: Mode
    clock: IReactorTime
    roots: dict[str, KnownKey] = attrs.field(factory=dict)
    iam: IamStore | None = None
    random: Random = os.urandom
    _function_keys: dict[str, tuple[str, str, str]] = attrs.field(factory=dict, init=False)

    def known(self, key_id: str) -> KnownKey | None:
        """The key ``key_id`` if awsemu knows its secret, else None."""
        found = self.roots.get(key_id)
        if found is not None or self.iam is None:
            return found
        issued = self.iam.issued_key(key_id)
        if issued is None:
            return None
        account = self.iam.account_for_key(key_id) or DEFAULT_ACCOUNT_ID
        return KnownKey(issued.secret, account, issued.active, issued.expires, issued.token)

    def account_for_key(self, key_id: str) -> str | None:
        """The account of a known key, or None (the gateway's ``AccountForKey``)."""
        found = self.roots.get(key_id)
        if found is not None:
            return found.account
        return None if self.iam is None else self.iam.account_for_key(key_id)

    def check(self, key_id: str | None, token: str | None) -> KnownKey | None:
        """
        The key whose signature must be checked; None for a request
        accepted unchecked (``off``; an unknown key or no signature under
        ``verify``). Raises ``KeyRefused`` for a key that may not be used.
        """
        if self.mode is Mode.OFF:
            return None
        if key_id is None:
            if self.mode is Mode.ENFORCE:
                raise KeyRefused(Problem.UNSIGNED)
            return None
        key = self.known(key_id)
        if key is None:
            if self.mode is Mode.ENFORCE:
                raise KeyRefused(Problem.UNKNOWN_KEY, key_id, token)
            return None
        # A session's key is unknown without its token, as it is to AWS.
        if not key.active or (key.token is not None and token is None):
            raise KeyRefused(Problem.UNKNOWN_KEY, key_id, token)
        if token is not None and token != key.token:
            raise KeyRefused(Problem.INVALID_TOKEN, key_id, token)
        if key.expires is not None and self.clock.seconds() >= key.expires:
            raise KeyRefused(Problem.EXPIRED_TOKEN, key_id, token)
        return key

    def function_credentials(self, account: str) -> tuple[str, str, str]:
        """
        The access key id, secret and session token given to the functions
        of ``account``: made once per account, known (and checked) from then
        on. Under ``off`` and ``verify`` a function gets what it always got:
        its account id as key id (which selects the account) and ``test``.
        """
        if self.mode is not Mode.ENFORCE:
            return account, "test", "test"
        found = self._function_keys.get(account)
        if found is None:
            from awsemu.state.ids import iam_unique_id, secret

            key_id = iam_unique_id(self.random, "ASIA", 20)
            found = (key_id, secret(self.random, 40), secret(self.random, 356))
            self.roots[key_id] = KnownKey(found[1], account, token=found[2])
            self._function_keys[account] = found
        return found


def directory(shared: SharedObjects) -> KeyDirectory:
    """The daemon's key directory (ask ``shared.assemble`` for it)."""
    config = shared.config
    roots: Mapping[str, KnownKey] = {}
    if config.credentials is not None:
        roots = read_credentials(config.credentials.getContent().decode("utf-8"))
    iam = None
    if {"iam", "sts"} & set(config.services):
        from awsemu.iam import directory as iam_directory

        iam = shared.obtain(iam_directory)
    return KeyDirectory(Mode(config.auth), shared.reactor, dict(roots), iam, os.urandom)
