"""
Presigned URLs (SigV4 ``X-Amz-*`` and SigV2 ``AWSAccessKeyId``/``Expires``
query authentication): the expiry is always enforced; the signature is
checked whenever ``SecretLookup`` knows the access key's secret (IAM's
credentials will provide it; until then none is known).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from base64 import b64encode
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest
from awsemu.s3 import errors

SecretLookup = Callable[[str], str | None]
"""The secret access key of an access key id, or None when unknown."""

MAX_EXPIRES: Final = 7 * 24 * 3600
_AMZ_DATE: Final = "%Y%m%dT%H%M%SZ"
_WHITESPACE: Final = re.compile(r"\s+")

#: SigV2 sub-resources and overrides that are part of the signed resource.
_SIGV2_SUBRESOURCES: Final = frozenset(
    "acl cors delete lifecycle location logging notification partNumber policy requestPayment "
    "tagging torrent uploadId uploads versionId versioning versions website response-content-type "
    "response-content-language response-expires response-cache-control "
    "response-content-disposition "
    "response-content-encoding".split()
)


def no_secrets(access_key_id: str) -> str | None:
    return None


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query_error(message: str) -> ServiceError:
    return ServiceError("AuthorizationQueryParametersError", message)


def check(request: HttpRequest, now: float, secrets: SecretLookup, bucket: str | None) -> None:
    """Raise AWS's error if ``request`` is a presigned URL that has expired or is badly signed."""
    if request.query_value("X-Amz-Signature") is not None:
        _check_sigv4(request, now, secrets, bucket)
    elif (
        request.query_value("Signature") is not None
        and request.query_value("AWSAccessKeyId") is not None
    ):
        _check_sigv2(request, now, secrets)


def _check_sigv4(
    request: HttpRequest, now: float, secrets: SecretLookup, bucket: str | None
) -> None:
    date_text = request.query_value("X-Amz-Date") or ""
    expires_text = request.query_value("X-Amz-Expires") or ""
    try:
        signed_at = datetime.strptime(date_text, _AMZ_DATE).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise _query_error(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        ) from None
    if not expires_text.isdigit():
        raise _query_error("X-Amz-Expires should be a number")
    expires = int(expires_text)
    if expires > MAX_EXPIRES:
        raise _query_error(
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800 seconds"
        )
    if now > signed_at + expires:
        raise errors.access_denied(
            "Request has expired",
            **{
                "X-Amz-Expires": expires,
                "Expires": _iso(signed_at + expires),
                "ServerTime": _iso(now),
            },
        )
    credential = (request.query_value("X-Amz-Credential") or "").split("/")
    secret = secrets(credential[0]) if len(credential) == 5 else None
    if secret is None:
        return
    signature = request.query_value("X-Amz-Signature") or ""
    key = ("AWS4" + secret).encode()
    for part in credential[1:5]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    scope = "/".join(credential[1:5])
    for path in _candidate_paths(request, bucket):
        canonical = _sigv4_canonical_request(request, path)
        to_sign = "\n".join(
            ("AWS4-HMAC-SHA256", date_text, scope, hashlib.sha256(canonical.encode()).hexdigest())
        )
        if hmac.compare_digest(
            hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature
        ):
            return
    raise errors.signature_does_not_match()


def _candidate_paths(request: HttpRequest, bucket: str | None) -> Sequence[str]:
    """
    The paths the client may have signed: the path-style one, and for a
    virtual-hosted request (which the gateway rewrote) the one it sent.
    """
    paths = [request.path]
    host = (request.headers.get("host") or "").lower()
    if bucket and host.startswith(f"{bucket}.") and request.path.startswith(f"/{bucket}"):
        paths.append(request.path[len(bucket) + 1 :] or "/")
    return paths


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _sigv4_canonical_request(request: HttpRequest, path: str) -> str:
    query = "&".join(
        sorted(f"{_encode(k)}={_encode(v)}" for k, v in request.query if k != "X-Amz-Signature")
    )
    signed = (request.query_value("X-Amz-SignedHeaders") or "host").split(";")
    headers = "".join(
        f"{name}:{_WHITESPACE.sub(' ', (request.headers.get(name) or '').strip())}\n"
        for name in signed
    )
    payload = request.headers.get("x-amz-content-sha256") or "UNSIGNED-PAYLOAD"
    return "\n".join((request.method, path, query, headers, ";".join(signed), payload))


def _check_sigv2(request: HttpRequest, now: float, secrets: SecretLookup) -> None:
    expires_text = request.query_value("Expires") or ""
    if not expires_text.isdigit():
        raise errors.access_denied(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
            "parameters"
        )
    expires = int(expires_text)
    if now > expires:
        raise errors.access_denied(
            "Request has expired", Expires=_iso(expires), ServerTime=_iso(now)
        )
    secret = secrets(request.query_value("AWSAccessKeyId") or "")
    if secret is None:
        return
    subresources = sorted((k, v) for k, v in request.query if k in _SIGV2_SUBRESOURCES)
    resource = request.path + (
        "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources) if subresources else ""
    )
    amz_headers = "".join(
        f"{name}:{request.headers[name].strip()}\n"
        for name in sorted(request.headers)
        if name.startswith("x-amz-")
    )
    to_sign = "\n".join(
        (
            request.method,
            request.headers.get("content-md5") or "",
            request.headers.get("content-type") or "",
            expires_text,
            amz_headers + resource,
        )
    )
    expected = b64encode(
        hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    if not hmac.compare_digest(expected, request.query_value("Signature") or ""):
        raise errors.signature_does_not_match()
