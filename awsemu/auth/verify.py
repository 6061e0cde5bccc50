"""
The signature check of every AWS API request but S3's, made by the gateway
once routing has named the service and before the service sees the
request; a refusal is answered in the service's own protocol and words.

These services sign as botocore's ``SigV4Auth`` does: the path normalised
and encoded once more, the whole body hashed (``x-amz-content-sha256``, if
sent, must be that hash or ``UNSIGNED-PAYLOAD``), in an ``Authorization``
header or a presigned URL's query. IAM and STS also take the query
protocol's SigV2 (``SignatureVersion=2`` among the parameters, as
botocore's ``SigV2Auth`` signs). A key awsemu knows that signs any other way
is refused.

What a request with an unknown key costs under ``verify``: two dictionary
lookups (see ``KeyDirectory.check``); the key id was already read from the
request for its account.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import b64encode
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.auth import sigv4
from awsemu.auth.keys import KeyDirectory, KeyRefused, KnownKey, Mode, Problem
from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest

Authenticate = Callable[[RequestContext, HttpRequest], ServiceError | None]
"""The gateway's check of a request to an AWS API: the error refusing it, or None."""

SIGNATURE_MISMATCH: Final = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
"""The message of a bad signature, the same in every service but S3."""

INVALID_TOKEN: Final = "The security token included in the request is invalid."
EXPIRED_TOKEN: Final = "The security token included in the request is expired"
_UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"


def accept_all(context: RequestContext, request: HttpRequest) -> ServiceError | None:
    """The check of ``--auth off``: every request passes."""
    return None


@attrs.frozen
class Wording:
    """
    How a service refuses a request: the codes (and HTTP status) of its
    errors for no signature, an unknown key, a bad signature, an expired
    session, a signature lacking a part; the missing-token message.
    """

    status: int
    missing: str
    missing_message: str
    unknown_key: str
    bad_signature: str
    expired: str
    incomplete: str
    sigv2: bool = False
    """Whether the service takes the query protocol's SigV2."""

    def refusal(self, problem: Problem) -> ServiceError:
        if problem is Problem.UNSIGNED:
            return ServiceError(self.missing, self.missing_message, self.status)
        if problem is Problem.EXPIRED_TOKEN:
            return ServiceError(self.expired, EXPIRED_TOKEN, self.status)
        return ServiceError(self.unknown_key, INVALID_TOKEN, self.status)

    def signature(self, message: str = SIGNATURE_MISMATCH) -> ServiceError:
        return ServiceError(self.bad_signature, message, self.status)

    def incomplete_signature(self, message: str) -> ServiceError:
        return ServiceError(self.incomplete, message, 400)


# The JSON protocol's services answer 400 (DynamoDB Developer Guide, "Error
# handling with DynamoDB": UnrecognizedClientException,
# MissingAuthenticationTokenException, InvalidSignatureException,
# ExpiredTokenException, IncompleteSignatureException; CloudWatch Logs is
# the same Coral front end).
_JSON: Final = Wording(
    400,
    "MissingAuthenticationTokenException",
    "Request is missing Authentication Token",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "IncompleteSignatureException",
)
# The query protocol's (IAM and STS API references, "Common Errors":
# MissingAuthenticationToken, InvalidClientTokenId, SignatureDoesNotMatch
# and ExpiredToken are 403s; IncompleteSignature is a 400; an unsigned
# GetCallerIdentity gets MissingAuthenticationToken, aws/aws-sdk-php#3246).
_QUERY: Final = Wording(
    403,
    "MissingAuthenticationToken",
    "Request is missing Authentication Token",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "IncompleteSignature",
    sigv2=True,
)
# Lambda and API Gateway's REST APIs answer behind API Gateway's front door:
# 403 and ``{"message": "Missing Authentication Token"}`` with
# ``x-amzn-ErrorType: MissingAuthenticationTokenException`` for an unsigned
# call (as recorded in brefphp/bref#1250 for Lambda Invoke),
# UnrecognizedClientException 403 for an unknown key (iann0036/iamlive#58).
_REST_JSON: Final = Wording(
    403,
    "MissingAuthenticationTokenException",
    "Missing Authentication Token",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "IncompleteSignatureException",
)

WORDINGS: Final[Mapping[str, Wording]] = {
    "dynamodb": _JSON,
    "logs": _JSON,
    "iam": _QUERY,
    "sts": _QUERY,
    "lambda": _REST_JSON,
    "apigateway": _REST_JSON,
}
"""How each service the gateway checks refuses; S3 checks its own requests."""


class _Refused(Exception):
    def __init__(self, error: ServiceError) -> None:
        self.error = error


def _basic(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime(sigv4.AMZ_DATE)


def _signed_at(request: HttpRequest, words: Wording) -> tuple[str, float]:
    """The request's ``X-Amz-Date`` (or ``Date``), as signed and in epoch seconds."""
    amz_date = request.headers.get("x-amz-date")
    try:
        if amz_date is not None:
            return amz_date, sigv4.amz_timestamp(amz_date)
        moment = parsedate_to_datetime(request.headers.get("date") or "").timestamp()
        return _basic(moment), moment
    except (TypeError, ValueError):
        raise _Refused(
            words.incomplete_signature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a "
                "'Date' header."
            )
        ) from None


def _check_window(amz_date: str, moment: float, now: float, words: Wording) -> None:
    """AWS's messages for a request signed more than 15 minutes away from ``now``."""
    if moment < now - sigv4.MAX_CLOCK_SKEW:
        raise _Refused(
            words.signature(
                f"Signature expired: {amz_date} is now earlier than "
                f"{_basic(now - sigv4.MAX_CLOCK_SKEW)} ({_basic(now)} - 15 min.)"
            )
        )
    if moment > now + sigv4.MAX_CLOCK_SKEW:
        raise _Refused(
            words.signature(
                f"Signature not yet current: {amz_date} is still later than "
                f"{_basic(now + sigv4.MAX_CLOCK_SKEW)} ({_basic(now)} + 15 min.)"
            )
        )


def _payload_hash(request: HttpRequest) -> str:
    """The body's hash as the client signed it: ``UNSIGNED-PAYLOAD`` if it said so."""
    if request.headers.get("x-amz-content-sha256") == _UNSIGNED_PAYLOAD:
        return _UNSIGNED_PAYLOAD
    return sigv4.sha256_hex(request.read_body())


_SIGV2_DIGESTS: Final = {"HmacSHA256": hashlib.sha256, "HmacSHA1": hashlib.sha1}
_SIGV2_TIMESTAMP: Final = "%Y-%m-%dT%H:%M:%SZ"


def _verify_sigv2(
    request: HttpRequest, form: Mapping[str, str], key: KnownKey, now: float, words: Wording
) -> None:
    """
    The query protocol's SigV2: an HMAC of the method, host, path and the
    sorted, encoded parameters but ``Signature``, dated by ``Timestamp``.
    """
    digest = _SIGV2_DIGESTS.get(form.get("SignatureMethod") or "")
    if digest is None:
        raise _Refused(words.signature())
    stamp = form.get("Timestamp") or ""
    try:
        moment = datetime.strptime(stamp, _SIGV2_TIMESTAMP).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise _Refused(words.signature()) from None
    _check_window(stamp, moment, now, words)
    parameters = "&".join(
        f"{sigv4.uri_encode(name)}={sigv4.uri_encode(value)}"
        for name, value in sorted(form.items())
        if name != "Signature"
    )
    to_sign = f"{request.method}\n{request.host}\n{request.path or '/'}\n{parameters}"
    expected = b64encode(hmac.new(key.secret.encode(), to_sign.encode(), digest).digest())
    if not hmac.compare_digest(expected.decode(), form.get("Signature") or ""):
        raise _Refused(words.signature())


def verify_signature(request: HttpRequest, key: KnownKey, now: float, words: Wording) -> None:
    """
    Raise ``_Refused`` unless ``request`` is signed with ``key`` (SigV4, or
    SigV2 where the service takes it) within its time.
    """
    if words.sigv2 and "authorization" not in request.headers:
        form = request.form()
        if form.get("SignatureVersion") == "2":
            _verify_sigv2(request, form, key, now, words)
            return
    presigned = request.query_value("X-Amz-Signature")
    if presigned is not None:
        fields = {
            "Credential": request.query_value("X-Amz-Credential") or "",
            "SignedHeaders": request.query_value("X-Amz-SignedHeaders") or "host",
            "Signature": presigned,
        }
        amz_date = request.query_value("X-Amz-Date") or ""
        try:
            moment = sigv4.amz_timestamp(amz_date)
        except ValueError:
            raise _Refused(words.signature()) from None
        expires = request.query_value("X-Amz-Expires") or ""
        if not expires.isdigit() or now > moment + int(expires):
            raise _Refused(words.signature("Signature expired"))
        query = [(k, v) for k, v in request.query if k != "X-Amz-Signature"]
    else:
        algorithm, _, credentials = (request.headers.get("authorization") or "").partition(" ")
        if algorithm != sigv4.ALGORITHM:
            raise _Refused(words.signature())
        fields = sigv4.authorization_fields(credentials)
        amz_date, moment = _signed_at(request, words)
        _check_window(amz_date, moment, now, words)
        query = request.query
    scope = sigv4.Scope.parse(fields.get("Credential", ""))
    if scope is None:
        raise _Refused(
            words.incomplete_signature(
                f"Credential should be scoped to a valid region. ({fields.get('Credential', '')})"
            )
        )
    mismatch = sigv4.Signer.of(key.secret, amz_date, scope).mismatch(
        sigv4.Presented(
            request,
            (sigv4.normalized_path(request.path),),
            query,
            sigv4.signed_headers(fields.get("SignedHeaders", "")),
            _payload_hash(request),
            fields.get("Signature", ""),
        )
    )
    if mismatch is not None:
        raise _Refused(words.signature())


@attrs.frozen
class Authenticator:
    """
    The gateway's ``Authenticate`` over ``keys``; ``clock`` dates requests.
    S3's requests pass through: S3 checks them itself (see ``awsemu.s3``).
    """

    keys: KeyDirectory
    clock: IReactorTime

    def __call__(self, context: RequestContext, request: HttpRequest) -> ServiceError | None:
        words = WORDINGS.get(context.service)
        if words is None:
            return None
        token = sigv4.presented_token(request)
        if token is None and words.sigv2:
            token = request.form().get("SecurityToken")
        try:
            key = self.keys.check(context.access_key_id, token)
            if key is not None:
                verify_signature(request, key, self.clock.seconds(), words)
        except KeyRefused as refused:
            return words.refusal(refused.problem)
        except _Refused as refused:
            return refused.error
        return None


def authenticator(keys: KeyDirectory, clock: IReactorTime) -> Authenticate:
    """The check for ``keys``' mode: none at all under ``off``."""
    return accept_all if keys.mode is Mode.OFF else Authenticator(keys, clock)
