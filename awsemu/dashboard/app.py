"""
The dashboard's Klein application: the overview, sign-in, the static
files, and the account/region selector. The services' pages are methods of
the same object, from ``awsemu.dashboard.storage`` and ``.compute``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from importlib import resources
from typing import Any, ClassVar, Final

import attrs
from twisted.internet.interfaces import IReactorTime
from twisted.web.iweb import IRequest

from awsemu import __version__
from awsemu.dashboard import html
from awsemu.dashboard.access import COOKIE, Access
from awsemu.dashboard.compute import ComputePages
from awsemu.dashboard.reading import Scope, Services
from awsemu.dashboard.recent import RecentRequests
from awsemu.dashboard.storage import StoragePages
from awsemu.dashboard.web import app, arg, cookie, guarded, read_form, set_cookie
from awsemu.gateway.context import DEFAULT_ACCOUNT_ID
from awsemu.gateway.services import ServiceBackend, StatefulBackend

SCOPE_COOKIE: Final = b"awsemu_scope"
_STATIC_TYPES: Final = {"css": b"text/css; charset=utf-8", "js": b"text/javascript; charset=utf-8"}
_RECENT_SHOWN: Final = 50
_SCOPES_TTL: Final = 5.0


@attrs.define
class Dashboard(StoragePages, ComputePages):
    """
    The pages of one daemon: ``backends`` are its enabled services,
    ``recent`` the gateway's ring of answered requests.
    """

    backends: Mapping[str, ServiceBackend]
    recent: RecentRequests
    region: str
    clock: IReactorTime
    access: Access
    started: float
    """When the daemon started, by ``clock``."""
    services: Services = attrs.field(init=False)
    _held: set[tuple[str, str]] = attrs.field(factory=set, init=False)
    _held_until: float = attrs.field(default=float("-inf"), init=False)
    app: ClassVar = app

    def __attrs_post_init__(self) -> None:
        self.services = Services(self.backends, self.clock)

    # What every page shares.

    def scope(self, request: IRequest) -> Scope:
        """The account and region the selector chose (a cookie), else the daemon's defaults."""
        chosen = cookie(request, SCOPE_COOKIE) or ""
        account, _, region = chosen.partition("/")
        if not (account.isdigit() and len(account) == 12 and region):
            return Scope(DEFAULT_ACCOUNT_ID, self.region)
        return Scope(account, region)

    def scopes(self) -> set[tuple[str, str]]:
        """
        Every account and region holding something (as of the last
        ``refresh_scopes``), or seen calling, and the default one.
        """
        found = {(DEFAULT_ACCOUNT_ID, self.region)} | self._held
        found.update(
            (call.account_id, call.region) for call in self.recent if call.account_id.isdigit()
        )
        return found

    async def refresh_scopes(self) -> None:
        """
        Read which accounts and regions hold resources from the services'
        inventories, at most every ``_SCOPES_TTL`` seconds (an inventory
        lists everything).
        """
        now = self.clock.seconds()
        if now < self._held_until:
            return
        held: set[tuple[str, str]] = set()
        for backend in self.backends.values():
            if isinstance(backend, StatefulBackend) and backend.state().status == "running":
                held.update(
                    (account, region)
                    for account, region, _, _ in await backend.inventory()
                    if region != "global"
                )
        self._held, self._held_until = held, now + _SCOPES_TTL

    def render(self, request: IRequest, title: str, current: str, body: object) -> bytes:
        scope = self.scope(request)
        return html.page(
            title,
            current,
            body,
            scope=(scope.account_id, scope.region),
            scopes=self.scopes(),
            signed_in=self.access.required,
        )

    # Sign-in, the selector, static files.

    @app.route("/login", methods=["GET", "POST"])
    def login(self, request: IRequest) -> bytes:
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        message: object = ""
        read_form(request)
        if request.method == b"POST":
            session = self.access.sign_in(
                arg(request, "access_key_id").strip(),
                arg(request, "secret_access_key").strip(),
                arg(request, "session_token").strip() or None,
            )
            if session is not None:
                set_cookie(
                    request,
                    COOKIE,
                    session.encode(),
                    httpOnly=True,
                    sameSite="strict",
                )
                request.redirect(html.ROOT.encode())
                return b""
            request.setResponseCode(403)
            message = html.error("That access key pair is not one awsemu knows.")
        form = html.Markup(
            f'<form class="login" method="post" action="{html.ROOT}login">'
            "<p>This awsemu runs with <code>--auth enforce</code>: sign in with an access key "
            "pair it knows (from <code>--credentials</code>, or one IAM created).</p>"
            '<label>Access key id <input name="access_key_id" autocomplete="off"></label>'
            '<label>Secret access key <input name="secret_access_key" type="password" '
            'autocomplete="off"></label>'
            '<label>Session token (optional) <input name="session_token"></label>'
            "<button>Sign in</button></form>"
        )
        return html.page(
            "Sign in",
            "login",
            html.join([message, form]),
            scope=(DEFAULT_ACCOUNT_ID, self.region),
            signed_in=False,
        )

    @app.route("/logout", methods=["POST"])
    def logout(self, request: IRequest) -> bytes:
        self.access.sign_out(cookie(request, COOKIE))
        set_cookie(request, COOKIE, b"", max_age="0")
        request.redirect(html.url("login").encode())
        return b""

    @app.route("/scope")
    @guarded
    async def choose_scope(self, request: IRequest) -> bytes:
        chosen = arg(request, "scope")
        set_cookie(request, SCOPE_COOKIE, chosen.encode(), sameSite="lax")
        back = arg(request, "back")
        request.redirect((back if back.startswith(html.ROOT) else html.ROOT).encode())
        return b""

    @app.route("/static/<name>")
    def static(self, request: IRequest, name: str) -> bytes:
        kind = _STATIC_TYPES.get(name.rpartition(".")[2])
        found = resources.files("awsemu.dashboard") / "static" / name
        if kind is None or "/" in name or not found.is_file():
            request.setResponseCode(404)
            return b""
        request.setHeader(b"Content-Type", kind)
        request.setHeader(b"Cache-Control", b"max-age=300")
        return found.read_bytes()

    # The overview.

    @app.route("/", strict_slashes=False)
    @guarded
    async def overview(self, request: IRequest) -> bytes:
        scope = self.scope(request)
        health = [
            (name, backend.state().status, backend.state().reason or "")
            for name, backend in sorted(self.backends.items())
        ]
        uptime = int(self.clock.seconds() - self.started)
        facts = html.definitions(
            {
                "Version": __version__,
                "Up for": f"{uptime // 3600}h {uptime // 60 % 60}m {uptime % 60}s",
                "Account": scope.account_id,
                "Region": scope.region,
            }
        )
        counts = await self._counts(scope)
        return self.render(
            request,
            "Overview",
            "",
            html.join(
                [
                    facts,
                    html.section("Services", html.table(("Service", "Status", "Reason"), health)),
                    html.section(
                        "Resources in this account and region",
                        html.table(("Resource", "Count"), counts, id="counts"),
                    ),
                    html.section(
                        "Recent requests",
                        html.table(
                            ("Time", "Service", "Operation", "Resource", "Status", "ms", "Account"),
                            (
                                _call_row(call.document())
                                for call in self.recent.newest(_RECENT_SHOWN)
                            ),
                            id="requests",
                        ),
                    ),
                ]
            ),
        )

    async def _counts(self, scope: Scope) -> list[tuple[str, str]]:
        """How many of each kind of resource ``scope`` holds ("100+" past a page)."""
        counts: list[tuple[str, str]] = []
        served = self.services.served
        if served("s3"):
            buckets = self.services.provider("s3").store.buckets.values()
            owned = [b for b in buckets if (b.owner, b.region) == (scope.account_id, scope.region)]
            counts.append(("S3 buckets", str(len(owned))))
        if served("lambda"):
            functions = self.services.provider("lambda").store.functions
            counts.append(
                ("Lambda functions", str(len(functions.get((scope.account_id, scope.region), {}))))
            )
        if served("dynamodb") and self.backends["dynamodb"].state().status == "running":
            tables = await self.services.dynamodb(scope, "ListTables", {"Limit": 100})
            counts.append(
                (
                    "DynamoDB tables",
                    _at_least(tables["TableNames"], tables, "LastEvaluatedTableName"),
                )
            )
        if served("logs"):
            groups = await self.services.call(scope, "logs", "DescribeLogGroups", {"limit": 50})
            counts.append(("Log groups", _at_least(groups["logGroups"], groups, "nextToken")))
        if served("apigateway"):
            apis = await self.services.call(scope, "apigateway", "GetRestApis", {"limit": 100})
            counts.append(("REST APIs", _at_least(apis.get("items", []), apis, "position")))
        if served("iam"):
            roles = await self.services.call(scope, "iam", "ListRoles", {"MaxItems": 100})
            users = await self.services.call(scope, "iam", "ListUsers", {"MaxItems": 100})
            counts.append(("IAM roles", _at_least(roles["Roles"], roles, "Marker")))
            counts.append(("IAM users", _at_least(users["Users"], users, "Marker")))
        return counts

    @app.route("/requests.json")
    @guarded
    async def requests_json(self, request: IRequest) -> bytes:
        """The recent requests, newest first, for the overview's live table."""
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps([call.document() for call in self.recent.newest(_RECENT_SHOWN)]).encode()


def _at_least(items: list[Any], page: Mapping[str, Any], more: str) -> str:
    return f"{len(items)}+" if page.get(more) else str(len(items))


def _call_row(call: Mapping[str, Any]) -> tuple[object, ...]:
    when = time.strftime("%H:%M:%S", time.gmtime(call["started"]))
    return (
        when,
        call["service"],
        call["operation"],
        call["resource"],
        call["status"],
        call["ms"],
        call["account"],
    )
