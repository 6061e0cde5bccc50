"""
Which requests S3 refuses for their signature: presigned URLs (see
``presign``) and ``Authorization`` headers, SigV4 (``AWS4-HMAC-SHA256
Credential=…, SignedHeaders=…, Signature=…``) or SigV2 (``AWS AKID:sig``).
A signature is checked only when its access key's secret is known (see
``signature``).

A SigV4 header signs the body only through ``x-amz-content-sha256``: a
hex digest, or a promise that each chunk of an ``aws-chunked`` body is
signed in turn. Neither can be checked before the body is read, so the
check of the head returns a ``Payload`` saying what the body still owes;
reading it may run off the reactor thread, as for disk stores.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

import attrs

from awsemu.auth import sigv4
from awsemu.protocol.http import HttpRequest
from awsemu.protocol.segments import blocks
from awsemu.s3 import chunked, errors, presign, signature
from awsemu.s3.signature import SecretLookup

#: Signed streaming payloads, with whether a signed trailer ends them.
_SIGNED_STREAMS: Final = {
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": False,
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": True,
}
#: The other values AWS allows, whose body the signature does not cover.
_UNSIGNED_PAYLOADS: Final = frozenset(
    {
        "UNSIGNED-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    }
)
_SHA256: Final = re.compile("[0-9a-fA-F]{64}")


@attrs.frozen
class Payload:
    """
    What the body must be for the request's signature to hold: the hex
    SHA-256 its header announced, or chunks signed in a chain.
    """

    sha256: str | None = None
    chunks: signature.ChunkChain | None = None

    def needs_reading(self, request: HttpRequest) -> bool:
        """Whether ``read`` has work: a digest to check, or aws-chunked framing to decode."""
        return self.sha256 is not None or chunked.is_aws_chunked(request)

    def read(self, request: HttpRequest) -> HttpRequest:
        """``request`` with its body checked and its aws-chunked framing decoded."""
        if self.sha256 is not None:
            digest = hashlib.sha256()
            request.body.seek(0)
            for block in blocks(request.body):
                digest.update(block)
            request.body.seek(0)
            if digest.hexdigest() != self.sha256.lower():
                raise errors.content_sha256_mismatch(self.sha256, digest.hexdigest())
        if chunked.is_aws_chunked(request):
            return chunked.decode_request(request, self.chunks)
        return request


UNCHECKED: Final = Payload()


def authenticate(
    request: HttpRequest, now: float, secrets: SecretLookup, bucket: str | None
) -> Payload:
    """
    Raise AWS's error if ``request`` is badly signed, expired or too far
    from ``now``; what its body owes the signature otherwise. ``bucket`` is
    the bucket of the (path-style) request, to recognise what a
    virtual-hosted client signed.
    """
    presign.check(request, now, secrets, bucket)
    authorization = request.headers.get("authorization") or ""
    algorithm, _, credentials = authorization.partition(" ")
    if algorithm == sigv4.ALGORITHM:
        return _check_sigv4(request, credentials, now, secrets, bucket)
    if algorithm == "AWS":
        _check_sigv2(request, credentials, now, secrets)
    return UNCHECKED


def _check_sigv4(
    request: HttpRequest, credentials: str, now: float, secrets: SecretLookup, bucket: str | None
) -> Payload:
    # Most keys are unknown: find the key id cheaply before parsing the rest.
    key_id = credentials.partition("Credential=")[2].partition("/")[0]
    secret = secrets(key_id, sigv4.presented_token(request))
    if secret is None:
        return UNCHECKED
    fields = sigv4.authorization_fields(credentials)
    scope = sigv4.Scope.parse(fields.get("Credential", ""))
    if scope is None:
        raise errors.malformed_credential()
    moment = _check_time(request, now)
    amz_date = request.headers.get("x-amz-date") or datetime.fromtimestamp(moment, UTC).strftime(
        sigv4.AMZ_DATE
    )
    payload_hash = request.headers.get("x-amz-content-sha256")
    if payload_hash is None:
        raise errors.missing_content_sha256()
    digest = _SHA256.fullmatch(payload_hash) is not None
    if not (digest or payload_hash in _SIGNED_STREAMS or payload_hash in _UNSIGNED_PAYLOADS):
        raise errors.invalid_content_sha256(payload_hash)
    signer = signature.Signer.of(secret, amz_date, scope)
    provided = fields.get("Signature", "")
    signer.verify_request(
        sigv4.Presented(
            request,
            signature.candidate_paths(request, bucket),
            request.query,
            sigv4.signed_headers(fields.get("SignedHeaders", "")),
            payload_hash,
            provided,
        )
    )
    if payload_hash in _SIGNED_STREAMS:
        return Payload(
            chunks=signature.ChunkChain(signer, provided, trailer=_SIGNED_STREAMS[payload_hash])
        )
    return Payload(sha256=payload_hash) if digest else UNCHECKED


def _check_sigv2(request: HttpRequest, credentials: str, now: float, secrets: SecretLookup) -> None:
    access_key_id, _, provided = credentials.strip().partition(":")
    secret = secrets(access_key_id, sigv4.presented_token(request))
    if secret is None:
        return
    _check_time(request, now)
    # An x-amz-date header stands for Date, which is then signed as empty.
    date = "" if "x-amz-date" in request.headers else request.headers.get("date") or ""
    signature.verify_sigv2(
        access_key_id, secret, signature.sigv2_string_to_sign(request, date), provided
    )


def _check_time(request: HttpRequest, now: float) -> float:
    """
    The time ``request`` was signed (``x-amz-date``, else ``Date``); AWS's
    error if it has none or if it is more than 15 minutes from ``now``.
    """
    text = request.headers.get("x-amz-date") or request.headers.get("date") or ""
    try:
        moment = sigv4.amz_timestamp(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text).timestamp()
        except (TypeError, ValueError):
            raise errors.missing_date() from None
    if abs(now - moment) > errors.MAX_CLOCK_SKEW:
        server_time = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise errors.request_time_too_skewed(text, server_time)
    return moment
