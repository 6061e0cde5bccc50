"""
Browser POST uploads (what boto3's ``generate_presigned_post`` prepares):
a ``multipart/form-data`` form whose base64 policy document lists the
conditions every field must meet; the object is stored through the
provider's PutObject, and the answer follows ``success_action_*``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, BinaryIO, Final
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import attrs
from multipart import MultipartError, MultipartParser, parse_options_header

from awsemu.auth import sigv4
from awsemu.gateway.context import AccountForKey, RequestContext, account_of_key, no_known_keys
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.s3 import errors, signature
from awsemu.s3.codec import NAMESPACE
from awsemu.s3.provider import S3Provider
from awsemu.s3.signature import SecretLookup

#: Form fields that need no policy condition.
_UNCONDITIONED: Final = frozenset(
    {"file", "policy", "x-amz-signature", "signature", "awsaccesskeyid"}
)

#: Form field → PutObject member, for the fields that set object attributes.
_MEMBERS: Final = {
    "content-type": "ContentType",
    "content-encoding": "ContentEncoding",
    "content-disposition": "ContentDisposition",
    "cache-control": "CacheControl",
    "acl": "ACL",
    "x-amz-storage-class": "StorageClass",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
    "x-amz-checksum-crc32": "ChecksumCRC32",
    "x-amz-checksum-sha256": "ChecksumSHA256",
}


def is_form_upload(request: HttpRequest) -> bool:
    """A POST to a bucket itself with a form body."""
    return (
        request.method == "POST"
        and request.path.strip("/").count("/") == 0
        and (request.headers.get("content-type") or "").lower().startswith("multipart/form-data")
    )


def _policy_failed(detail: str) -> ServiceError:
    return errors.access_denied(f"Invalid according to Policy: {detail}")


@attrs.frozen
class Form:
    """A browser upload's text fields (names lowercased) and its file."""

    fields: dict[str, str]
    content: BinaryIO
    size: int
    filename: str | None


#: File parts larger than this are spooled to a temporary file, not memory.
SPOOL_LIMIT: Final = 1 << 20
#: The largest object a browser upload may send, as AWS limits it.
MAX_UPLOAD: Final = 5 << 30


def parse_form(request: HttpRequest) -> Form:
    """
    The form of a browser upload, read from the (already spooled) body as a
    stream: the file part goes to disk past ``SPOOL_LIMIT``, so a large
    upload is never held in memory. Fields after the file are ignored, as
    AWS does.
    """
    _, options = parse_options_header(request.headers.get("content-type") or "")
    request.body.seek(0)
    parser = MultipartParser(
        request.body,
        options.get("boundary", ""),
        spool_limit=SPOOL_LIMIT,
        disk_limit=MAX_UPLOAD,
    )
    fields: dict[str, str] = {}
    try:
        for part in parser:
            if part.name.lower() == "file":
                part.file.seek(0)
                return Form(fields, part.file, part.size, part.filename or None)
            fields[part.name.lower()] = part.value
    except MultipartError as e:
        raise errors.malformed_post() from e
    raise errors.invalid_argument("POST requires exactly one file upload per request.", "file", 0)


def _condition_text(condition: Any) -> str:
    """A condition as S3 quotes it in ``Policy Condition failed``: ``["eq", "$key", "a"]``."""
    return json.dumps(condition, separators=(", ", ": "))


def _bound(value: Any, condition: Any) -> int:
    """
    A ``content-length-range`` bound: a whole number, or a string of
    digits; anything else is a condition S3 cannot apply, so it fails
    with AccessDenied, as S3 answers a condition it cannot read (recorded
    in github.com/sivchari/kumo/pull/936).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise _policy_failed(f"Policy Condition failed: {_condition_text(condition)}")


def _check_policy(fields: dict[str, str], bucket: str, size: int, now: float) -> None:
    encoded = fields.get("policy")
    if encoded is None:
        return
    try:
        policy = json.loads(base64.b64decode(encoded))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")).timestamp()
        conditions = policy.get("conditions", [])
        if not isinstance(conditions, list):
            raise TypeError("conditions is not a list")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise errors.invalid_argument("Invalid Policy: Invalid JSON.", "policy", encoded) from None
    if now > expiration:
        raise _policy_failed("Policy expired.")
    values = {**fields, "bucket": bucket}
    conditioned = set()
    for condition in conditions:
        if isinstance(condition, dict):
            for name, expected in condition.items():
                conditioned.add(name.lower())
                if values.get(name.lower()) != expected:
                    raise _policy_failed(
                        f'Policy Condition failed: ["eq", "${name}", "{expected}"]'
                    )
            continue
        if not isinstance(condition, list) or len(condition) != 3:
            raise _policy_failed(f"Policy Condition failed: {_condition_text(condition)}")
        operator, target, expected = (str(condition[0]).lower(), condition[1], condition[2])
        if operator == "content-length-range":
            low, high = _bound(target, condition), _bound(expected, condition)
            if size > high:
                raise ServiceError(
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    fields={"ProposedSize": size, "MaxSizeAllowed": high},
                )
            if size < low:
                raise ServiceError(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    fields={"ProposedSize": size, "MinSizeAllowed": low},
                )
            continue
        name = str(target).lstrip("$").lower()
        conditioned.add(name)
        value = values.get(name, "")
        if (operator == "eq" and value != expected) or (
            operator == "starts-with" and not value.startswith(str(expected))
        ):
            raise _policy_failed(
                f'Policy Condition failed: ["{operator}", "{target}", "{expected}"]'
            )
    extra = [
        name
        for name in fields
        if name not in conditioned
        and name not in _UNCONDITIONED
        and not name.startswith("x-ignore-")
    ]
    if extra:
        raise _policy_failed(f"Extra input fields: {extra[0]}")


def _check_signature(fields: dict[str, str], secrets: SecretLookup) -> None:
    """The policy is the string to sign, for SigV4 and SigV2 forms alike."""
    policy = fields.get("policy")
    if policy is None:
        return
    if "x-amz-signature" in fields:
        scope = sigv4.Scope.parse(fields.get("x-amz-credential", ""))
        token = fields.get("x-amz-security-token")
        secret = None if scope is None else secrets(scope.access_key_id, token)
        if scope is None or secret is None:
            return
        signer = signature.Signer.of(secret, fields.get("x-amz-date", ""), scope)
        signer.verify(policy, fields["x-amz-signature"])
    else:
        access_key_id = fields.get("awsaccesskeyid", "")
        secret = secrets(access_key_id, fields.get("x-amz-security-token"))
        if secret is not None:
            signature.verify_sigv2(access_key_id, secret, policy, fields.get("signature", ""))


def _signer(fields: dict[str, str]) -> str | None:
    """The access key id that signed the form's policy (SigV4 or SigV2), if any."""
    if "x-amz-signature" in fields:
        scope = sigv4.Scope.parse(fields.get("x-amz-credential", ""))
        return None if scope is None else scope.access_key_id
    return fields.get("awsaccesskeyid")


async def upload(
    provider: S3Provider,
    context: RequestContext,
    request: HttpRequest,
    now: float,
    secrets: SecretLookup,
    accounts: AccountForKey = no_known_keys,
) -> HttpResponse:
    """
    Store the form's file as PutObject would; answer as ``success_action_*``
    asks. The uploader is whoever signed the policy (``accounts`` finds the
    account of an access key), and needs ``s3:PutObject`` as PutObject does.
    """
    context.operation = "PostObject"  # no model operation; its events are ObjectCreated:Post
    bucket = request.path.strip("/")
    provider.store.bucket(bucket)
    form = parse_form(request)
    fields = form.fields
    if "key" not in fields:
        raise errors.invalid_argument(
            "Bucket POST must contain a field named 'key'.  If it is specified, please check "
            "the order of the fields.",
            "key",
            "",
        )
    key = fields["key"].replace("${filename}", form.filename or "")
    _check_policy(fields, bucket, form.size, now)
    _check_signature(fields, secrets)
    signer = _signer(fields)
    if signer is not None:
        account_id = account_of_key(signer, accounts)
        context = attrs.evolve(context, access_key_id=signer, account_id=account_id)
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": form.content}
    params.update({member: fields[name] for name, member in _MEMBERS.items() if name in fields})
    metadata = {
        name[len("x-amz-meta-") :]: value
        for name, value in fields.items()
        if name.startswith("x-amz-meta-")
    }
    if metadata:
        params["Metadata"] = metadata
    provider.authorize(context, "PutObject", params)
    output = await provider.put_object(context, params)
    etag: str = output["ETag"]
    location = f"http://{request.headers.get('host') or 'localhost'}/{bucket}/{key}"
    headers = [("ETag", etag), ("Location", location)]
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        separator = "&" if "?" in redirect else "?"
        query = urlencode({"bucket": bucket, "key": key, "etag": etag})
        return HttpResponse(303, [("Location", f"{redirect}{separator}{query}"), ("ETag", etag)])
    status = fields.get("success_action_status")
    if status == "201":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse xmlns="{NAMESPACE}">'
            f"<Location>{escape(location)}"
            f"</Location><Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag>"
            "</PostResponse>"
        )
        return HttpResponse(201, [*headers, ("Content-Type", "application/xml")], body.encode())
    return HttpResponse(200 if status == "200" else 204, headers)
