"""
Presigned URLs (SigV4 ``X-Amz-*`` and SigV2 ``AWSAccessKeyId``/``Expires``
query authentication): the expiry is always enforced; the signature is
checked whenever the access key's secret is known (see ``signature``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from awsemu.auth import sigv4
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest
from awsemu.s3 import errors, signature
from awsemu.s3.signature import SecretLookup

MAX_EXPIRES: Final = 7 * 24 * 3600


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _query_error(message: str) -> ServiceError:
    return ServiceError("AuthorizationQueryParametersError", message)


#: The query parameters of a SigV4 presigned URL, all required.
_SIGV4_PARAMETERS: Final = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)


def check(request: HttpRequest, now: float, secrets: SecretLookup, bucket: str | None) -> None:
    """Raise AWS's error if ``request`` is a presigned URL that has expired or is badly signed."""
    if not request.query:
        return
    present = [request.query_value(name) is not None for name in _SIGV4_PARAMETERS]
    if any(present[:3]):
        if not all(present):
            # AWS's answer as public clients' docs quote it, with AWS's request and host ids.
            raise _query_error(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                "X-Amz-Expires parameters."
            )
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
        signed_at = sigv4.amz_timestamp(date_text)
    except ValueError:
        raise _query_error(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        ) from None
    expires = _expires(expires_text)
    if signed_at - now > errors.MAX_CLOCK_SKEW:
        # Recalled from AWS's answer to a URL dated ahead of its clock.
        raise errors.access_denied("Request is not valid yet")
    if now > signed_at + expires:
        raise errors.access_denied(
            "Request has expired",
            **{
                "X-Amz-Expires": expires,
                "Expires": _iso(signed_at + expires),
                "ServerTime": _iso(now),
            },
        )
    scope = sigv4.Scope.parse(request.query_value("X-Amz-Credential") or "")
    token = sigv4.presented_token(request)
    secret = None if scope is None else secrets(scope.access_key_id, token)
    if scope is None or secret is None:
        return
    signed = sigv4.signed_headers(request.query_value("X-Amz-SignedHeaders") or "host")
    query = [(k, v) for k, v in request.query if k != "X-Amz-Signature"]
    signature.Signer.of(secret, date_text, scope).verify_request(
        sigv4.Presented(
            request,
            signature.candidate_paths(request, bucket),
            query,
            signed,
            request.headers.get("x-amz-content-sha256") or "UNSIGNED-PAYLOAD",
            request.query_value("X-Amz-Signature") or "",
        )
    )


def _expires(text: str) -> int:
    """
    ``X-Amz-Expires`` as a number of seconds, or AWS's refusal of it. The
    texts are those AWS's S3 answers (the over-a-week one as users record
    it, e.g. with Amazon Transcribe's presigned streaming URLs: "X-Amz-Expires
    must be less than a week (in seconds) that is 604800"); recalled, as
    AWS's documentation does not list them.
    """
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise _query_error("X-Amz-Expires should be a number")
    expires = int(text)
    if expires < 0:
        raise _query_error("X-Amz-Expires must be non-negative")
    if expires > MAX_EXPIRES:
        raise _query_error(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES}"
        )
    return expires


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
    access_key_id = request.query_value("AWSAccessKeyId") or ""
    secret = secrets(access_key_id, sigv4.presented_token(request))
    if secret is None:
        return
    signature.verify_sigv2(
        access_key_id,
        secret,
        signature.sigv2_string_to_sign(request, expires_text),
        request.query_value("Signature") or "",
    )
