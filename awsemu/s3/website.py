"""
S3 static website hosting: a bucket with a website configuration served
the way AWS's website endpoints serve it (AWS's S3 user guide, "Hosting a
static website using Amazon S3": index documents, custom error documents,
redirects). The configuration is the one PutBucketWebsite stored.

Reached by Host, as on AWS and LocalStack,
``<bucket>.s3-website-<region>.amazonaws.com``,
``<bucket>.s3-website.<region>.amazonaws.com`` or
``<bucket>.s3-website.localhost.localstack.cloud``, or by path on the
daemon's own address, ``/_aws/s3-website/<bucket>/<key>`` (after
LocalStack's ``/_aws/execute-api/`` convention), see ``gateway.routing``.

A website endpoint is anonymous and public: every object is read as an
unsigned caller would read it, so only what the bucket's policy or ACLs
let everyone read is served (403 otherwise), through GetObject/HeadObject
themselves (ranges, conditional headers, headers as S3 gives them).
Requests are GET and HEAD only; errors are HTML pages, not XML: the
bucket's error document with the error's status when it has one that
everyone may read, else AWS's page listing Code, Message, the error's
details, RequestId and HostId.

What AWS does, in order: ``RedirectAllRequestsTo`` redirects everything;
a path ending in ``/`` (or empty) names its index document; routing rules
with only a ``KeyPrefixEquals`` condition redirect before the object is
looked up, rules with ``HttpErrorCodeReturnedEquals`` after it failed with
that status; an object with ``x-amz-website-redirect-location`` redirects
(301); a missing key whose ``<key>/<index document>`` exists redirects to
``<key>/`` (302).
"""

from __future__ import annotations

from html import escape
from typing import Any, Final
from urllib.parse import quote, unquote

import attrs

from awsemu.gateway.context import ANONYMOUS_ACCOUNT, RequestContext
from awsemu.gateway.services import ModelService
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.s3 import configs, errors
from awsemu.s3.provider import S3Provider
from awsemu.s3.store import Document

#: The path form's prefix: ``/_aws/s3-website/<bucket>/<key>``.
PATH_PREFIX: Final = "/_aws/s3-website/"
#: Request headers a website GET passes on to GetObject.
_PASSED: Final = ("range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
_WEBSITE: Final = next(c for c in configs.CONFIGURATIONS if c.name == "website")
_REASONS: Final = {
    301: "Moved Permanently",
    302: "Found",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
}


@attrs.frozen
class _Redirect(Exception):
    """An answer that sends the client elsewhere."""

    location: str
    status: int = 301


@attrs.frozen
class _DocumentFailed(Exception):
    """An error whose custom error document could not be read either."""

    error: ServiceError
    document_error: ServiceError


@attrs.frozen
class Site:
    """
    One website request: the bucket, the ``prefix`` its paths live under
    (empty for the Host form) and what it needs to read objects.
    """

    model: ModelService
    provider: S3Provider
    context: RequestContext
    request: HttpRequest
    bucket: str
    prefix: str

    @property
    def key(self) -> str:
        """The key the path names (decoded, without its leading slash)."""
        return unquote(self.request.path[len(self.prefix) :].removeprefix("/"))

    def location(self, key: str, protocol: str | None = None, host: str | None = None) -> str:
        """
        The URL of ``key`` on ``host`` (this site when None, under its
        path prefix), by ``protocol`` (http when None, as the endpoint is).
        """
        if host is None:
            return f"{protocol or 'http'}://{self.request.host}{self.prefix}/{quote(key)}"
        return f"{protocol or 'http'}://{host}/{quote(key)}"

    async def answer(self) -> HttpResponse:
        try:
            if self.request.method not in ("GET", "HEAD"):
                raise ServiceError(
                    "MethodNotAllowed",
                    "The specified method is not allowed against this resource.",
                    405,
                    fields={"Method": self.request.method, "ResourceType": "OBJECT"},
                )
            bucket = self.provider.store.buckets.get(self.bucket)
            if bucket is None:
                raise errors.no_such_bucket(self.bucket)
            website: Document = configs.stored(_WEBSITE, bucket.config, self.bucket)
            return await self._serve(website)
        except _Redirect as redirect:
            return self._page(redirect.status, [("Location", redirect.location)], b"")
        except _DocumentFailed as failed:
            return self._error_page(failed.error, failed.document_error)
        except ServiceError as error:
            if error.status == 304:
                return self._page(304, list(error.headers), b"")
            return self._error_page(error)

    async def _serve(self, website: Document) -> HttpResponse:
        everything = website.get("RedirectAllRequestsTo")
        if everything:
            raise _Redirect(
                self.location(self.key, everything.get("Protocol"), everything["HostName"])
            )
        key = self.key
        suffix = (website.get("IndexDocument") or {}).get("Suffix", "")
        if key == "" or key.endswith("/"):
            key += suffix
        rules = website.get("RoutingRules") or []
        self._route(rules, self.key, None)
        try:
            return await self._object(key)
        except ServiceError as error:
            self._route(rules, self.key, error.status)
            if error.code in ("NoSuchKey", "AccessDenied") and suffix and key == self.key:
                await self._directory(key, suffix)
            error_key = (website.get("ErrorDocument") or {}).get("Key")
            if error_key is None or error.status not in (403, 404):
                raise
            try:
                document = await self._object(error_key)
            except ServiceError as document_error:
                raise _DocumentFailed(error, document_error) from None
            document.status = error.status
            return document

    async def _directory(self, key: str, suffix: str) -> None:
        """Redirect ``key`` to ``key/`` when ``key/<index document>`` exists (302)."""
        try:
            await self._object(f"{key}/{suffix}")
        except ServiceError:
            return
        raise _Redirect(f"{self.prefix}/{quote(key)}/", 302)

    def _route(self, rules: list[Any], key: str, status: int | None) -> None:
        """Apply the first routing rule whose condition holds (see the module docstring)."""
        for rule in rules:
            condition = rule.get("Condition") or {}
            prefix = condition.get("KeyPrefixEquals")
            code = condition.get("HttpErrorCodeReturnedEquals")
            if prefix is not None and not key.startswith(prefix):
                continue
            if (code is None) != (status is None) or (code is not None and code != str(status)):
                continue
            redirect = rule.get("Redirect") or {}
            target = key
            if "ReplaceKeyWith" in redirect:
                target = redirect["ReplaceKeyWith"]
            elif "ReplaceKeyPrefixWith" in redirect:
                target = redirect["ReplaceKeyPrefixWith"] + key[len(prefix or "") :]
            raise _Redirect(
                self.location(target, redirect.get("Protocol"), redirect.get("HostName")),
                int(redirect.get("HttpRedirectCode") or 301),
            )

    async def _object(self, key: str) -> HttpResponse:
        """GetObject (HeadObject) of ``key`` as an anonymous caller, or its error."""
        operation_name = "HeadObject" if self.request.method == "HEAD" else "GetObject"
        headers = [(n, v) for n in _PASSED if (v := self.request.headers.get(n)) is not None]
        read = HttpRequest.from_uri(
            self.request.method, f"/{self.bucket}/{quote(key, safe='/~')}", headers
        )
        codec = self.model.codec
        operation = codec.service_model.operation_model(operation_name)
        params = codec.parse_request(operation, read)
        self.provider.authorize(self.context, operation_name, params)
        if operation_name == "HeadObject":
            output = await self.provider.head_object(self.context, params)
        else:
            output = await self.provider.get_object(self.context, params)
        if output.get("WebsiteRedirectLocation"):
            raise _Redirect(output["WebsiteRedirectLocation"])
        return codec.serialize_response(
            operation, output, self.context.request_id, host_id=self.context.host_id or ""
        )

    def _page(self, status: int, headers: list[tuple[str, str]], body: bytes) -> HttpResponse:
        ids = [("x-amz-request-id", self.context.request_id)]
        if self.context.host_id:
            ids.append(("x-amz-id-2", self.context.host_id))
        if self.request.method == "HEAD":
            body = b""
        return HttpResponse(status, [*ids, *headers], body)

    def _error_page(
        self, error: ServiceError, document_error: ServiceError | None = None
    ) -> HttpResponse:
        """
        AWS's HTML error page of a website endpoint; when the bucket's error
        document could not be read, a second list says why (the shape AWS
        answers, as users have recorded it).
        """
        title = f"{error.status} {_REASONS.get(error.status, '')}".strip()
        ids = [("RequestId", self.context.request_id), ("HostId", self.context.host_id or "")]
        page = (
            f"<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n"
            f"<ul>\n{_items(error, ids)}</ul>\n"
        )
        if document_error is not None:
            page += (
                "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n"
                f"<ul>\n{_items(document_error, [])}</ul>\n"
            )
        page += "<hr/>\n</body>\n</html>\n"
        headers = [("Content-Type", "text/html; charset=utf-8"), *error.headers]
        return self._page(error.status, headers, page.encode())


def _items(error: ServiceError, extra: list[tuple[str, str]]) -> str:
    """An error's code, message and details (then ``extra``) as the page's list items."""
    items = [("Code", error.code), ("Message", error.message)]
    items += [(name, str(value)) for name, value in error.fields.items()]
    return "".join(f"<li>{escape(name)}: {escape(value)}</li>\n" for name, value in items + extra)


async def serve(
    model: ModelService,
    provider: S3Provider,
    context: RequestContext,
    request: HttpRequest,
    bucket: str,
) -> HttpResponse:
    """The website endpoint's answer to ``request`` for ``bucket`` (see the module docstring)."""
    anonymous = attrs.evolve(context, account_id=ANONYMOUS_ACCOUNT, access_key_id=None)
    path_form = request.path.startswith(PATH_PREFIX)
    prefix = f"{PATH_PREFIX}{bucket}" if path_form else ""
    return await Site(model, provider, anonymous, request, bucket, prefix).answer()
