"""
The signature algorithms S3 accepts, as pure functions of text: SigV4's
canonical request, string to sign, signing key and the chained signatures
of ``aws-chunked`` bodies, and SigV2's string to sign. Presigned URLs,
``Authorization`` headers, chunked bodies and browser POST policies all
sign with these, so each rule is written once.

Every check here runs only when the secret of the access key is known (IAM
and STS issue such keys); any other key — ``test``/``test`` — is accepted
unchecked, as LocalStack and moto do.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from base64 import b64encode
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote, unquote

import attrs

from awsemu.protocol.http import Headers, HttpRequest
from awsemu.s3 import errors

SecretLookup = Callable[[str, str | None], str | None]
"""
The secret access key of an access key id, given the session token the
request presented (None: none), or None when the key is unknown. Raises
S3's error when the key may not be used with that token.
"""

ALGORITHM: Final = "AWS4-HMAC-SHA256"
AMZ_DATE: Final = "%Y%m%dT%H%M%SZ"
"""SigV4's timestamps: ISO 8601 basic format, UTC."""
EMPTY_SHA256: Final = hashlib.sha256(b"").hexdigest()
_WHITESPACE: Final = re.compile(r"\s+")

#: SigV2 sub-resources and overrides that are part of the signed resource.
_SIGV2_SUBRESOURCES: Final = frozenset(
    "acl cors delete lifecycle location logging notification partNumber policy requestPayment "
    "tagging torrent uploadId uploads versionId versioning versions website response-content-type "
    "response-content-language response-expires response-cache-control "
    "response-content-disposition "
    "response-content-encoding".split()
)


def no_secrets(access_key_id: str, token: str | None) -> str | None:
    """The lookup of a daemon without IAM or STS: no secret is known, nothing is checked."""
    return None


def presented_token(request: HttpRequest) -> str | None:
    """The session token a request carries: a header, or a presigned URL's query (V4 or V2)."""
    return (
        request.headers.get("x-amz-security-token")
        or request.query_value("X-Amz-Security-Token")
        or request.query_value("x-amz-security-token")
    )


def uri_encode(text: str, safe: str = "") -> str:
    """AWS's ``UriEncode``: every UTF-8 byte but ``A-Za-z0-9-_.~`` (and ``safe``) as ``%XX``."""
    return quote(text, safe="-_.~" + safe)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def amz_timestamp(text: str) -> float:
    """The epoch seconds of an ``X-Amz-Date`` (``20130524T000000Z``); ValueError if malformed."""
    return datetime.strptime(text, AMZ_DATE).replace(tzinfo=UTC).timestamp()


def signed_headers(text: str) -> list[str]:
    """The names a ``SignedHeaders`` list (``host;x-amz-date``) holds, in its order."""
    return [name for name in text.lower().split(";") if name]


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
        key = ("AWS4" + secret).encode()
        for part in (self.date, self.region, self.service, "aws4_request"):
            key = hmac_sha256(key, part)
        return key


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
    """
    S3's canonical request. ``path`` is used as given: S3 signs the path
    encoded once and never normalised (``candidate_paths`` lists what a
    client may have meant).
    """
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


def string_to_sign(amz_date: str, scope: Scope, canonical: str) -> str:
    return "\n".join((ALGORITHM, amz_date, str(scope), sha256_hex(canonical.encode())))


def candidate_paths(request: HttpRequest, bucket: str | None) -> list[str]:
    """
    The canonical paths the client may have signed, the one AWS would
    report first: the path as sent (for a virtual-hosted request, before
    the gateway made it path-style; the path-style one after it), then
    each encoded once more, as AWS does when a client left characters raw
    (``/test$file.text`` signs as ``/test%24file.text``).
    """
    paths = [request.path]
    host = (request.headers.get("host") or "").lower()
    if bucket and host.startswith(f"{bucket}.") and request.path.startswith(f"/{bucket}"):
        paths.insert(0, request.path[len(bucket) + 1 :] or "/")
    candidates: list[str] = []
    for path in paths:
        for candidate in (path, uri_encode(unquote(path), safe="/")):
            if candidate not in candidates:
                candidates.append(candidate)
    return candidates


@attrs.frozen
class Signer:
    """One SigV4 signing context: the derived key, the request time and scope."""

    key: bytes
    amz_date: str
    scope: Scope

    @classmethod
    def of(cls, secret: str, amz_date: str, scope: Scope) -> Signer:
        return cls(scope.signing_key(secret), amz_date, scope)

    def sign(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def verify_request(
        self,
        request: HttpRequest,
        paths: Sequence[str],
        query: Sequence[tuple[str, str]],
        signed: Sequence[str],
        payload_hash: str,
        provided: str,
    ) -> None:
        """
        Raise ``SignatureDoesNotMatch`` unless ``provided`` signs ``request``
        with one of ``paths`` (the error shows the first one's strings).
        """
        attempts = []
        for path in paths:
            canonical = canonical_request(
                request.method, path, query, request.headers, signed, payload_hash
            )
            to_sign = string_to_sign(self.amz_date, self.scope, canonical)
            if hmac.compare_digest(self.sign(to_sign), provided):
                return
            attempts.append((to_sign, canonical))
        to_sign, canonical = attempts[0]
        raise errors.signature_mismatch(self.scope.access_key_id, to_sign, provided, canonical)

    def verify(self, to_sign: str, provided: str) -> None:
        if not hmac.compare_digest(self.sign(to_sign), provided):
            raise errors.signature_mismatch(self.scope.access_key_id, to_sign, provided)


@attrs.define
class ChunkChain:
    """
    The signatures of a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``
    body: each chunk's signature signs its data and the previous signature (the
    first, the ``Authorization`` header's seed signature); with a trailer,
    ``x-amz-trailer-signature`` signs the trailer lines and the last
    chunk's signature. Chaining makes dropped or reordered chunks fail.
    """

    signer: Signer
    previous: str
    trailer: bool = False

    def verify_chunk(self, data_sha256: str, provided: str) -> None:
        to_sign = "\n".join(
            (
                "AWS4-HMAC-SHA256-PAYLOAD",
                self.signer.amz_date,
                str(self.signer.scope),
                self.previous,
                EMPTY_SHA256,
                data_sha256,
            )
        )
        self.signer.verify(to_sign, provided)
        self.previous = provided

    def verify_trailer(self, lines: str, provided: str) -> None:
        """``lines``: the trailer headers other than the signature, ``name:value\\n`` each."""
        to_sign = "\n".join(
            (
                "AWS4-HMAC-SHA256-TRAILER",
                self.signer.amz_date,
                str(self.signer.scope),
                self.previous,
                sha256_hex(lines.encode()),
            )
        )
        self.signer.verify(to_sign, provided)


def sigv2_string_to_sign(request: HttpRequest, date: str) -> str:
    """
    SigV2's string to sign; ``date`` is the ``Date`` header's value (empty
    when ``x-amz-date`` replaces it) or a presigned URL's ``Expires``.
    """
    subresources = sorted((k, v) for k, v in request.query if k in _SIGV2_SUBRESOURCES)
    resource = request.path + (
        "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources) if subresources else ""
    )
    amz_headers = "".join(
        f"{name}:{request.headers[name].strip()}\n"
        for name in sorted(request.headers)
        if name.startswith("x-amz-")
    )
    return "\n".join(
        (
            request.method,
            request.headers.get("content-md5") or "",
            request.headers.get("content-type") or "",
            date,
            amz_headers + resource,
        )
    )


def sigv2_signature(secret: str, text: str) -> str:
    return b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def verify_sigv2(access_key_id: str, secret: str, to_sign: str, provided: str) -> None:
    if not hmac.compare_digest(sigv2_signature(secret, to_sign), provided):
        raise errors.signature_mismatch(access_key_id, to_sign, provided)
