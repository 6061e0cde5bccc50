"""
What every dashboard page shares: the Klein application its routes are
added to (the ``Dashboard`` and its page families are one object), form
fields, and the guard that asks for a session and turns a service's error
into the page's message.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol, cast
from urllib.parse import parse_qs

from klein import Klein
from multipart import MultipartParser, parse_options_header
from twisted.web import http
from twisted.web.iweb import IRequest

from awsemu.dashboard import html
from awsemu.dashboard.access import COOKIE, Access
from awsemu.dashboard.reading import NotServed, Scope, Services
from awsemu.dashboard.recent import RecentRequests
from awsemu.protocol.errors import ServiceError

app: Final = Klein()
"""The dashboard's routes, served bound to a ``Dashboard``."""

Handler = Callable[..., Awaitable[bytes]]


class Pages(Protocol):
    """What page methods use of the dashboard they belong to."""

    access: Access
    services: Services
    recent: RecentRequests

    def scope(self, request: IRequest) -> Scope: ...

    async def refresh_scopes(self) -> None: ...

    def render(self, request: IRequest, title: str, current: str, body: object) -> bytes: ...


def arg(request: IRequest, name: str, default: str = "") -> str:
    """The first value of query or form field ``name``, as text."""
    values = (request.args or {}).get(name.encode())
    if not values:
        return default
    value = values[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def arg_bytes(request: IRequest, name: str) -> bytes:
    """The first value of form field ``name`` as sent (an uploaded file's content)."""
    values = (request.args or {}).get(name.encode())
    return bytes(values[0]) if values else b""


def read_form(request: IRequest) -> None:
    """
    Add a POSTed form's fields to ``request.args``: the gateway's site
    leaves bodies unparsed (see ``GatewaySite``). A file field's name is
    also given as the field ``filename``.
    """
    if request.method != b"POST":
        return
    kind = (request.getHeader(b"content-type") or b"").decode("latin-1")
    body = request.content
    args = request.args if request.args is not None else {}
    body.seek(0)
    if kind.startswith("application/x-www-form-urlencoded"):
        for name, values in parse_qs(body.read(), keep_blank_values=True).items():
            args.setdefault(name, []).extend(values)
    elif kind.startswith("multipart/form-data"):
        _, options = parse_options_header(kind)
        for part in MultipartParser(body, options.get("boundary", "")):
            args.setdefault(part.name.encode(), []).append(part.raw)
            if part.filename:
                args.setdefault(b"filename", []).append(part.filename.encode())
    request.args = args


def set_cookie(request: IRequest, name: bytes, value: bytes, **options: Any) -> None:
    """Set a cookie for the dashboard's pages only (``IRequest`` lacks the attributes' names)."""
    cast(http.Request, request).addCookie(name, value, path=html.ROOT.encode(), **options)


def cookie(request: IRequest, name: bytes) -> str | None:
    value = request.getCookie(name)
    return None if value is None else value.decode("ascii", "replace")


def guarded(handler: Handler) -> Handler:
    """
    A page that needs a session when the dashboard asks for one; a
    service's error becomes the page's error message, with its status.
    """

    @functools.wraps(handler)
    async def guard(self: Pages, request: IRequest, *args: Any, **kwargs: Any) -> bytes:
        request.setHeader(b"Cache-Control", b"no-store")
        request.setHeader(b"X-Frame-Options", b"DENY")
        if not self.access.allows(cookie(request, COOKIE)):
            if request.method == b"GET" and not request.path.endswith(b".json"):
                request.redirect(html.url("login").encode())
            else:
                request.setResponseCode(403)
            return b""
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        try:
            await self.refresh_scopes()
            read_form(request)
            return await handler(self, request, *args, **kwargs)
        except ServiceError as failure:
            request.setResponseCode(failure.status)
            return self.render(request, failure.code, "", html.error(failure.message))
        except NotServed as missing:
            request.setResponseCode(404)
            message = f"This awsemu does not serve {missing}; start it with --services {missing}."
            return self.render(request, "Not served", "", html.error(message))

    return guard
