"""
Signature Version 4, as pure functions of text: the canonical request, the
string to sign, the signing key. S3's rules (its paths are signed as sent,
its bodies may be signed chunk by chunk) and every other service's rules
(paths normalised and encoded once more, bodies hashed whole) are both
written over these.

References: AWS's "Create a signed AWS API request" (IAM user guide) and
botocore's ``auth.py``, which the SDKs' output is checked against in the
tests.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Final, Self
from urllib.parse import quote

import attrs

from awsemu.protocol.http import Headers, HttpRequest

ALGORITHM: Final = "AWS4-HMAC-SHA256"
AMZ_DATE: Final = "%Y%m%dT%H%M%SZ"
"""SigV4's timestamps: ISO 8601 basic format, UTC."""
EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()
MAX_CLOCK_SKEW: Final = 15 * 60
"""How far a request's time may be from the server's, in seconds (AWS: 15 minutes)."""
_AMZ_DATE_TEXT: Final = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z", re.ASCII)
_WHITESPACE: Final = re.compile(r"\s+")
_AUTHORIZATION_FIELD: Final = re.compile(r"\s*(\w+)=([^,\s]*)\s*(?:,|$)")


def presented_token(request: HttpRequest) -> str | None:
    """The session token a request carries: a header, or a presigned URL's query (V4 or V2)."""
    return (
        request.headers.get("x-amz-security-token")
        or request.query_value("X-Amz-Security-Token")
        or request.query_value("x-amz-security-token")
    )


def authorization_fields(credentials: str) -> dict[str, str]:
    """
    The fields of an ``Authorization`` header after its algorithm:
    ``Credential=…, SignedHeaders=…, Signature=…``.
    """
    return dict(_AUTHORIZATION_FIELD.findall(credentials))


def uri_encode(text: str, safe: str = "") -> str:
    """AWS's ``UriEncode``: every UTF-8 byte but ``A-Za-z0-9-_.~`` (and ``safe``) as ``%XX``."""
    return quote(text, safe="-_.~" + safe)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def amz_timestamp(text: str) -> float:
    """The epoch seconds of an ``X-Amz-Date`` (``20130524T000000Z``); ValueError if malformed."""
    # A fifth of a signature check's time went to strptime: this is the same check, faster.
    found = _AMZ_DATE_TEXT.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not an ISO 8601 basic UTC time")
    year, month, day, hour, minute, second = map(int, found.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def signed_headers(text: str) -> list[str]:
    """The names a ``SignedHeaders`` list (``host;x-amz-date``) holds, in its order."""
    return [name for name in text.lower().split(";") if name]


@functools.lru_cache(maxsize=256)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    # The key changes once a day per key, region and service: four HMACs saved per request.
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac_sha256(key, part)
    return key


@attrs.frozen
class Scope:
    """A SigV4 credential: ``AKID/20130524/us-east-1/s3/aws4_request``."""

    access_key_id: str
    date: str
    region: str
    service: str

    @classmethod
    def parse(cls, credential: str) -> Scope | None:
        parts = credential.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            return None
        return cls(*parts[:4])

    def __str__(self) -> str:
        """The scope as the string to sign names it (the credential less the key id)."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"

    def signing_key(self, secret: str) -> bytes:
        """The key derived from ``secret`` for this day, region and service."""
        return _signing_key(secret, self.date, self.region, self.service)


def canonical_query(query: Iterable[tuple[str, str]]) -> str:
    """The decoded query pairs, each part encoded, sorted by encoded name then value."""
    return "&".join(
        f"{name}={value}"
        for name, value in sorted((uri_encode(k), uri_encode(v)) for k, v in query)
    )


def canonical_headers(headers: Headers, signed: Sequence[str]) -> str:
    """
    The signed headers' lines: each value trimmed with inner whitespace
    collapsed, a repeated header's values joined with ``,`` as sent.
    """
    values: dict[str, list[str]] = {name: [] for name in signed}
    for name, value in headers.as_sent():
        found = values.get(name.lower())
        if found is not None:
            found.append(_WHITESPACE.sub(" ", value.strip()))
    return "".join(f"{name}:{','.join(values[name])}\n" for name in signed)


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Headers,
    signed: Sequence[str],
    payload_hash: str,
) -> str:
    """The canonical request; ``path`` is the canonical path the service's rules give."""
    return "\n".join(
        (
            method,
            path,
            canonical_query(query),
            canonical_headers(headers, signed),
            ";".join(signed),
            payload_hash,
        )
    )


def normalized_path(path: str) -> str:
    """
    The canonical path of every service but S3: the raw path without empty
    or dot segments (RFC 3986's "remove dot segments", and ``//`` as ``/``),
    then encoded once more (a ``%3A`` the client sent is signed as
    ``%253A``), as botocore's ``SigV4Auth`` signs it.
    """
    if "//" in path or "/." in path:
        kept: list[str] = []
        for segment in path.split("/"):
            if segment == "..":
                if kept:
                    kept.pop()
            elif segment and segment != ".":
                kept.append(segment)
        trailing = "/" if path.endswith("/") and kept else ""
        path = "/" + "/".join(kept) + trailing
    return uri_encode(path or "/", safe="/")


def string_to_sign(amz_date: str, scope: Scope, canonical: str) -> str:
    return "\n".join((ALGORITHM, amz_date, str(scope), sha256_hex(canonical.encode())))


@attrs.frozen
class Presented:
    """
    A request and what it presents to be checked: the canonical ``paths`` it
    may have signed (the first is the one AWS reports), the ``query`` and
    ``signed`` header names, the payload's hash and the ``provided`` signature.
    """

    request: HttpRequest
    paths: Sequence[str]
    query: Sequence[tuple[str, str]]
    signed: Sequence[str]
    payload_hash: str
    provided: str


@attrs.frozen
class Signer:
    """One SigV4 signing context: the derived key, the request time and scope."""

    key: bytes
    amz_date: str
    scope: Scope

    @classmethod
    def of(cls, secret: str, amz_date: str, scope: Scope) -> Self:
        return cls(scope.signing_key(secret), amz_date, scope)

    def sign(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def matches(self, to_sign: str, provided: str) -> bool:
        return hmac.compare_digest(self.sign(to_sign), provided)

    def mismatch(self, presented: Presented) -> tuple[str, str] | None:
        """
        None if ``presented`` is signed with one of its canonical paths;
        else the string to sign and canonical request of the first, which
        AWS reports.
        """
        request = presented.request
        first: tuple[str, str] | None = None
        for path in presented.paths:
            canonical = canonical_request(
                request.method,
                path,
                presented.query,
                request.headers,
                presented.signed,
                presented.payload_hash,
            )
            to_sign = string_to_sign(self.amz_date, self.scope, canonical)
            if self.matches(to_sign, presented.provided):
                return None
            if first is None:
                first = (to_sign, canonical)
        return first
