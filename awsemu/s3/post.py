"""
Browser POST uploads (what boto3's ``generate_presigned_post`` prepares):
a ``multipart/form-data`` form whose base64 policy document lists the
conditions every field must meet; the object is stored through the
provider's PutObject, and the answer follows ``success_action_*``.
"""

from __future__ import annotations

from typing import Any, BinaryIO, Final
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import attrs
from multipart import MultipartError, MultipartParser, parse_options_header

from awsemu.auth import sigv4
from awsemu.gateway.context import AccountForKey, RequestContext, account_of_key, no_known_keys
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.s3 import checksums, errors, signature, tagging
from awsemu.s3.codec import NAMESPACE
from awsemu.s3.postpolicy import Policy
from awsemu.s3.provider import S3Provider
from awsemu.s3.signature import SecretLookup

#: A form's signing fields, SigV4's and SigV2's, in the order S3 asks for a missing one.
_SIGV4_FIELDS: Final = ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature")
_SIGV2_FIELDS: Final = ("awsaccesskeyid", "signature")
#: How S3 spells a signing field it asks for.
_SPELLINGS: Final = {
    "x-amz-algorithm": "X-Amz-Algorithm",
    "x-amz-credential": "X-Amz-Credential",
    "x-amz-date": "X-Amz-Date",
    "x-amz-signature": "X-Amz-Signature",
    "awsaccesskeyid": "AWSAccessKeyId",
    "signature": "Signature",
}
#: Form fields that need no policy condition. Ceph's s3-tests send an
#: uncovered ``x-amz-checksum-sha256`` and expect it accepted (upload_checksum).
_UNCONDITIONED: Final = frozenset(
    {
        "file",
        "policy",
        "x-amz-signature",
        "signature",
        "awsaccesskeyid",
        *(f"x-amz-checksum-{name.lower()}" for name in checksums.ALGORITHMS),
    }
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
    **{
        f"x-amz-checksum-{name.lower()}": checksums.param_name(name)
        for name in checksums.ALGORITHMS
    },
}


def is_form_upload(request: HttpRequest) -> bool:
    """A POST to a bucket itself with a form body."""
    return (
        request.method == "POST"
        and request.path.strip("/").count("/") == 0
        and (request.headers.get("content-type") or "").lower().startswith("multipart/form-data")
    )


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
                return Form(fields, part.file, part.size, part.filename)
            fields[part.name.lower()] = part.value
    except MultipartError as e:
        raise errors.malformed_post() from e
    raise errors.invalid_argument("POST requires exactly one file upload per request.", "file", 0)


def _signing_fields(fields: dict[str, str]) -> tuple[str, ...]:
    """
    The fields a signed form must carry, in the order S3 asks for them: the
    SigV4 ones when any is present, else SigV2's when any is, else none
    (the upload is anonymous, even with a policy).
    """
    if any(name in fields for name in _SIGV4_FIELDS):
        return _SIGV4_FIELDS
    if any(name in fields for name in _SIGV2_FIELDS):
        return _SIGV2_FIELDS
    return ()


def _check_signature(fields: dict[str, str], secrets: SecretLookup) -> None:
    """
    S3's refusal of a form missing a signing field (recorded from AWS by
    LocalStack's ``test_post_object_with_missing_signature``: the field as
    S3 spells it, two spaces after the first sentence), or whose policy is
    not signed by the key's secret. The policy as sent is the string to
    sign, for SigV4 and SigV2 forms alike.
    """
    for name in _signing_fields(fields):
        if name not in fields:
            spelled = _SPELLINGS[name]
            raise errors.invalid_argument(
                f"Bucket POST must contain a field named '{spelled}'.  If it is specified, "
                "please check the order of the fields.",
                spelled,
                "",
            )
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
    elif "signature" in fields:
        access_key_id = fields.get("awsaccesskeyid", "")
        secret = secrets(access_key_id, fields.get("x-amz-security-token"))
        if secret is not None:
            signature.verify_sigv2(access_key_id, secret, policy, fields["signature"])


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
    # S3 keeps ``${filename}`` as sent when the file part names no file
    # (recorded by LocalStack's test_post_object_with_file_as_form_field).
    key = fields["key"]
    if form.filename is not None:
        key = key.replace("${filename}", form.filename)
    _check_signature(fields, secrets)
    if "policy" in fields:
        Policy.parse(fields["policy"]).check(fields, bucket, key, form.size, now, _UNCONDITIONED)
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
    if "tagging" in fields:
        # PutObject takes tags as x-amz-tagging's query string.
        params["Tagging"] = urlencode(tagging.document_tags(fields["tagging"]))
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
