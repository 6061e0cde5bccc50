"""
S3's rules over the SigV4 algorithm of ``awsemu.auth.sigv4``: which
canonical paths a client may have signed, the chained signatures of
``aws-chunked`` bodies, and SigV2's string to sign. Presigned URLs,
``Authorization`` headers, chunked bodies and browser POST policies all
sign with these, so each rule is written once; a mismatch is S3's
``SignatureDoesNotMatch``, with the strings S3 shows.

Every check here runs only when the secret of the access key is known
(IAM and STS issue such keys, ``--credentials`` names some); what happens
to any other key — ``test``/``test`` — is the ``SecretLookup``'s to decide
(see ``awsemu.auth``).
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import b64encode
from collections.abc import Callable
from typing import Final
from urllib.parse import unquote

import attrs

from awsemu.auth import sigv4
from awsemu.auth.sigv4 import EMPTY_SHA256, sha256_hex, uri_encode
from awsemu.protocol.http import HttpRequest
from awsemu.s3 import errors

SecretLookup = Callable[[str, str | None], str | None]
"""
The secret access key of an access key id, given the session token the
request presented (None: none), or None when the key is accepted
unchecked. Raises S3's error when the key may not be used (with that token).
"""

#: SigV2 sub-resources and overrides that are part of the signed resource.
_SIGV2_SUBRESOURCES: Final = frozenset(
    "acl cors delete lifecycle location logging notification partNumber policy requestPayment "
    "tagging torrent uploadId uploads versionId versioning versions website response-content-type "
    "response-content-language response-expires response-cache-control "
    "response-content-disposition "
    "response-content-encoding".split()
)


def no_secrets(access_key_id: str, token: str | None) -> str | None:
    """The lookup of ``--auth off``: no secret is known, nothing is checked."""
    return None


def candidate_paths(request: HttpRequest, bucket: str | None) -> list[str]:
    """
    The canonical paths the client may have signed, the one AWS would
    report first: the path as sent (for a virtual-hosted request, before
    the gateway made it path-style; the path-style one after it), then
    each encoded once more, as AWS does when a client left characters raw
    (``/test$file.text`` signs as ``/test%24file.text``). S3 signs the
    path encoded once and never normalised.
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
class Signer(sigv4.Signer):
    """A SigV4 signing context whose mismatches are S3's ``SignatureDoesNotMatch``."""

    def verify_request(self, presented: sigv4.Presented) -> None:
        """
        Raise ``SignatureDoesNotMatch`` unless ``presented`` is signed with
        one of its paths (the error shows the first one's strings).
        """
        mismatch = self.mismatch(presented)
        if mismatch is not None:
            to_sign, canonical = mismatch
            raise errors.signature_mismatch(
                self.scope.access_key_id, to_sign, presented.provided, canonical
            )

    def verify(self, to_sign: str, provided: str) -> None:
        if not self.matches(to_sign, provided):
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
