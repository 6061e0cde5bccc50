"""
Who is calling, and which call this is: the per-request values every
service needs (account, region, request id), read from the request's
signature before any protocol parsing.

Whatever ``--auth`` checks (see ``awsemu.auth``), awsemu honours what
signatures say: the credential picks the account (so one emulator can hold
several accounts) and the SigV4 scope picks the region, exactly as AWS would.
"""

from __future__ import annotations

import functools
import os
import re
from base64 import b64encode
from collections.abc import Callable, Mapping
from typing import Final

import attrs

from awsemu.protocol.http import HttpRequest

DEFAULT_ACCOUNT_ID: Final = "000000000000"
"""The account of any caller whose access key names no account (LocalStack's default)."""

ANONYMOUS_ACCOUNT: Final = "anonymous"
"""
The account of an unsigned S3 request under ``--auth enforce``: no real
account, so it owns no bucket and may do only what a bucket grants everyone.
"""

Random = Callable[[int], bytes]
"""A source of ``n`` random bytes: ``os.urandom``, or a fixed one in tests."""


class PooledRandom:
    """
    ``os.urandom``'s bytes, read ``pool_size`` at a time: every request id
    takes 16 to 65 random bytes, and a system call for each cost a small
    request a few microseconds.
    """

    def __init__(self, pool_size: int = 4096) -> None:
        self._pool_size = pool_size
        self._pool = b""
        self._taken = 0

    def __call__(self, n: int) -> bytes:
        start = self._taken
        if start + n > len(self._pool):
            self._pool, start = os.urandom(max(n, self._pool_size)), 0
        self._taken = start + n
        return self._pool[start : start + n]


AccountForKey = Callable[[str], str | None]
"""Finds the account owning an access key id (IAM-created keys), or None."""

_SIGV4_AUTHORIZATION: Final = re.compile(r"AWS4-HMAC-SHA256\s.*?\bCredential=([^,\s]+)")
_SIGV2_AUTHORIZATION: Final = re.compile(r"AWS ([^:\s]+):")

_HOST_ID_BYTES: Final = 57
"""Random bytes in S3's ``x-amz-id-2``: 57 bytes are 76 base64 characters, AWS's usual length."""


@attrs.frozen
class CredentialScope:
    """
    What a SigV4 credential (``AKID/20250101/us-east-1/s3/aws4_request``)
    says about the call: who signed it, for which region and service.
    """

    access_key_id: str
    region: str
    service: str


def credential_scope(request: HttpRequest) -> CredentialScope | None:
    """
    The SigV4 credential scope of ``request``, from its ``Authorization``
    header or, for presigned URLs, its ``X-Amz-Credential`` query parameter;
    None if the request is unsigned, SigV2-signed or malformed.
    """
    credential = _authorization_credential(request.headers.lowered_get("authorization") or "")
    if credential is None:
        credential = request.query_value("X-Amz-Credential")
    return None if credential is None else _scope(credential)


# Routing and the context both read a request's scope: these caches make the
# second reading free (an Authorization header differs on every request).
@functools.lru_cache(maxsize=64)
def _authorization_credential(authorization: str) -> str | None:
    match = _SIGV4_AUTHORIZATION.match(authorization)
    return None if match is None else match.group(1)


@functools.lru_cache(maxsize=256)
def _scope(credential: str) -> CredentialScope | None:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        return None
    return CredentialScope(access_key_id=parts[0], region=parts[2], service=parts[3])


_SIGV2_FORM_SERVICES: Final = frozenset({"iam", "sts"})
"""The query-protocol services, whose SigV2 requests carry the key id in their form."""


def _sigv2_access_key_id(request: HttpRequest, service: str) -> str | None:
    """
    The access key id of a SigV2 request (``Authorization: AWS AKID:sig``,
    or a presigned URL's ``AWSAccessKeyId``), which older S3 clients still
    send; for IAM and STS, also a form body's ``AWSAccessKeyId`` (routing
    has parsed that form already).
    """
    match = _SIGV2_AUTHORIZATION.match(request.headers.get("authorization") or "")
    if match is not None:
        return match.group(1)
    if service in _SIGV2_FORM_SERVICES:
        return request.form().get("AWSAccessKeyId")
    return request.query_value("AWSAccessKeyId")


def no_known_keys(access_key_id: str) -> str | None:
    """The account lookup to use until IAM keeps access keys: no key names an account."""
    return None


def account_of_key(
    access_key_id: str | None,
    account_for_key: AccountForKey,
    unsigned: str = DEFAULT_ACCOUNT_ID,
) -> str:
    """
    A 12-digit access key id is taken as the account id itself (LocalStack's
    convention, so tests can pick an account just by choosing credentials);
    otherwise the account owning the key, or the default account. An
    unsigned request's is ``unsigned``.
    """
    if access_key_id is None:
        return unsigned
    if len(access_key_id) == 12 and access_key_id.isdigit() and access_key_id.isascii():
        return access_key_id
    return account_for_key(access_key_id) or DEFAULT_ACCOUNT_ID


def _s3_ids(random: Random) -> tuple[str, str | None]:
    """S3's ids: 16 uppercase hex characters, and a base64 ``x-amz-id-2`` host id."""
    raw = random(8 + _HOST_ID_BYTES)
    return raw[:8].hex().upper(), b64encode(raw[8:]).decode("ascii")


def _uuid_ids(random: Random) -> tuple[str, str | None]:
    """Every other service's id: a UUID4 (``x-amzn-RequestId``), and no host id."""
    hexed = random(16).hex()
    variant = "89ab"[int(hexed[16], 16) & 3]
    return (
        f"{hexed[:8]}-{hexed[8:12]}-4{hexed[13:16]}-{variant}{hexed[17:20]}-{hexed[20:32]}",
        None,
    )


_REQUEST_IDS: Final[Mapping[str, Callable[[Random], tuple[str, str | None]]]] = {"s3": _s3_ids}
"""How each service makes request ids, for those that differ from the UUID4 norm."""


@attrs.define
class RequestContext:
    """
    The facts about one request that every layer below the gateway needs.

    All of them are known on arrival except ``operation``, which the
    protocol layer fills in once it has matched the request to an
    operation, and ``resource`` (what the call is about, such as
    ``bucket/key`` or a table's name, for the log line), filled in once the
    request is parsed; they are therefore the only attributes that may be
    assigned. The others are ``Final``: the type checker refuses their
    assignment, where attrs' frozen attributes would make every request pay
    a Python C{__setattr__} for each attribute set (1.5 µs for a context
    made and its two attributes set, against 0.4).
    ``host_id`` is S3's ``x-amz-id-2`` and None for every other service.
    ``started`` is a reading of the gateway's clock, in seconds.
    ``source_ip`` is the client's address (``aws:SourceIp`` in policies).
    """

    request_id: Final[str]
    account_id: Final[str]
    region: Final[str]
    service: Final[str]
    access_key_id: Final[str | None]
    started: Final[float]
    host_id: Final[str | None] = None
    source_ip: Final[str] = ""
    operation: str | None = None
    resource: str | None = None


def internal_context(
    request_id: str, account_id: str, region: str, service: str, started: float
) -> RequestContext:
    """The context of a call the daemon makes of itself, signed with no key."""
    return RequestContext(
        request_id=request_id,
        account_id=account_id,
        region=region,
        service=service,
        access_key_id=None,
        started=started,
    )


def new_context(
    request: HttpRequest,
    service: str,
    default_region: str,
    now: float,
    random: Random = os.urandom,
    account_for_key: AccountForKey = no_known_keys,
    unsigned_account: str = DEFAULT_ACCOUNT_ID,
) -> RequestContext:
    """
    The context of ``request``, which the routing table gave to ``service``.

    The region is the SigV4 scope's (SigV2 and unsigned requests carry none,
    so they get ``default_region``). ``now`` and ``random`` are injected so
    timings and request ids are reproducible in tests. An unsigned request
    belongs to ``unsigned_account``.
    """
    scope = credential_scope(request)
    if scope is None:
        access_key_id, region = _sigv2_access_key_id(request, service), default_region
    else:
        access_key_id, region = scope.access_key_id, scope.region
    request_id, host_id = _REQUEST_IDS.get(service, _uuid_ids)(random)
    return RequestContext(
        request_id=request_id,
        account_id=account_of_key(access_key_id, account_for_key, unsigned_account),
        region=region,
        service=service,
        access_key_id=access_key_id,
        started=now,
        host_id=host_id,
        source_ip=request.remote,
    )
