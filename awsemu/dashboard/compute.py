"""The Lambda, API Gateway, CloudWatch Logs and IAM pages."""

from __future__ import annotations

import base64
import json
import re
from typing import Final

from twisted.internet.task import deferLater
from twisted.web.iweb import IRequest

from awsemu.dashboard import html
from awsemu.dashboard.reading import Document, Scope
from awsemu.dashboard.web import Pages, app, arg, guarded
from awsemu.protocol.errors import ServiceError

_PAGE: Final = 50
_RECENT_INVOCATIONS: Final = 10
_REQUEST_ID: Final = re.compile(r"^(START|END|REPORT) RequestId: ([0-9a-f-]+)")
_DURATION: Final = re.compile(r"\tDuration: ([0-9.]+) ms")
_STATUS: Final = re.compile(r"\tStatus: (\w+)")
_TAIL_WINDOW_MS: Final = 10 * 60 * 1000
_TAIL_WAIT: Final = 20.0
"""How long a tail's long poll waits for an event (browsers wait minutes for an answer)."""
_TAIL_CHECK: Final = 0.25
"""How often a waiting long poll reads the group (the log store has no notifications)."""
_IAM_LISTINGS: Final = (
    ("ListRoles", "roles", "Roles", "Role"),
    ("ListUsers", "users", "Users", "User"),
)
"""The IAM page's paged lists: the IAM listing, its query field, the answer's list and its noun."""


class ComputePages:
    """Lambda, API Gateway, CloudWatch Logs and IAM under ``/_awsemu/``."""

    # Lambda

    @app.route("/lambda")
    @guarded
    async def lambda_functions(self: Pages, request: IRequest) -> bytes:
        params: Document = {"MaxItems": _PAGE}
        if arg(request, "marker"):
            params["Marker"] = arg(request, "marker")
        listed = await self.services.call(self.scope(request), "lambda", "ListFunctions", params)
        rows = [
            (
                html.link(html.url(f"lambda/{f['FunctionName']}"), f["FunctionName"]),
                f.get("Runtime", f.get("PackageType", "")),
                f.get("Handler", ""),
                f.get("MemorySize", ""),
                f.get("Timeout", ""),
                f.get("LastModified", ""),
            )
            for f in listed["Functions"]
        ]
        more = listed.get("NextMarker")
        return self.render(
            request,
            "Lambda functions",
            "lambda",
            html.join(
                [
                    html.table(
                        ("Function", "Runtime", "Handler", "Memory", "Timeout", "Modified"),
                        rows,
                        id="functions",
                    ),
                    html.next_page(None if not more else html.url("lambda", marker=more)),
                ]
            ),
        )

    @app.route("/lambda/<name>", methods=["GET", "POST"])
    @guarded
    async def lambda_function(self: Pages, request: IRequest, name: str) -> bytes:
        scope = self.scope(request)
        call = self.services.call
        payload = arg(request, "payload", "{}")
        result: object = ""
        if request.method == b"POST":
            result = await _invoke(self, scope, name, payload)
        found = await call(scope, "lambda", "GetFunction", {"FunctionName": name})
        configuration = found["Configuration"]
        versions = await call(scope, "lambda", "ListVersionsByFunction", {"FunctionName": name})
        aliases = await call(scope, "lambda", "ListAliases", {"FunctionName": name})
        try:
            address = (await call(scope, "lambda", "GetFunctionUrlConfig", {"FunctionName": name}))[
                "FunctionUrl"
            ]
            function_url: object = html.link(address, address)
        except ServiceError:
            function_url = "none"
        shown = {
            key: configuration[key]
            for key in (
                "FunctionArn",
                "Runtime",
                "Handler",
                "Role",
                "MemorySize",
                "Timeout",
                "CodeSize",
                "State",
                "LastModified",
            )
            if key in configuration
        }
        shown["Environment"] = json.dumps(configuration.get("Environment", {}).get("Variables", {}))
        shown["Function URL"] = function_url
        shown.update(await _environments(self, scope, name))
        form = html.Markup(
            f'<form method="post" class="invoke"><textarea name="payload" rows="4" cols="60">'
            f"{html.text(payload)}</textarea><button>Invoke</button></form>"
        )
        invocations = await _recent_invocations(self, scope, name)
        return self.render(
            request,
            f"Function {name}",
            "lambda",
            html.join(
                [
                    html.definitions(shown),
                    html.section("Invoke", form, result),
                    html.section(
                        "Versions",
                        html.table(
                            ("Version", "Description", "Code SHA-256"),
                            [
                                (v["Version"], v.get("Description", ""), v.get("CodeSha256", ""))
                                for v in versions["Versions"]
                            ],
                        ),
                    ),
                    html.section(
                        "Aliases",
                        html.table(
                            ("Alias", "Version"),
                            [(a["Name"], a["FunctionVersion"]) for a in aliases["Aliases"]],
                        ),
                    ),
                    html.section(
                        "Recent invocations",
                        html.table(
                            ("Request id", "Status", "Duration (ms)", "Log"),
                            invocations,
                            id="invocations",
                        ),
                    ),
                ]
            ),
        )

    # API Gateway

    @app.route("/apigateway")
    @guarded
    async def apigateway_apis(self: Pages, request: IRequest) -> bytes:
        listed = await self.services.call(
            self.scope(request), "apigateway", "GetRestApis", {"limit": 500}
        )
        rows = [
            (
                html.link(html.url(f"apigateway/{api['id']}"), api["name"]),
                api["id"],
                api.get("description", ""),
            )
            for api in listed.get("items", [])
        ]
        return self.render(
            request,
            "REST APIs",
            "apigateway",
            html.table(("API", "Id", "Description"), rows, id="apis"),
        )

    @app.route("/apigateway/<api>")
    @guarded
    async def apigateway_api(self: Pages, request: IRequest, api: str) -> bytes:
        scope = self.scope(request)
        ids = {"restApiId": api}
        described = await self.services.call(scope, "apigateway", "GetRestApi", ids)
        resources = await self.services.call(
            scope, "apigateway", "GetResources", {**ids, "limit": 500}
        )
        stages = await self.services.call(scope, "apigateway", "GetStages", ids)
        host = (request.getHeader(b"host") or b"localhost:4566").decode("ascii", "replace")
        tree = [
            (resource["path"], " ".join(sorted(resource.get("resourceMethods", {}))))
            for resource in sorted(resources.get("items", []), key=lambda r: r["path"])
        ]
        stage_rows = []
        for stage in stages.get("item", []):
            address = f"http://{host}/restapis/{api}/{stage['stageName']}/_user_request_/"
            stage_rows.append(
                (stage["stageName"], stage.get("deploymentId", ""), html.link(address, address))
            )
        calls = [
            (c.request_id, c.operation, c.resource, c.status, round(c.elapsed_ms, 1))
            for c in self.recent.newest(200)
            if c.data_plane and c.service == "apigateway" and c.resource.startswith(f"{api}/")
        ]
        return self.render(
            request,
            f"REST API {described['name']}",
            "apigateway",
            html.join(
                [
                    html.section(
                        "Resources", html.table(("Path", "Methods"), tree, id="resources")
                    ),
                    html.section(
                        "Stages",
                        html.table(("Stage", "Deployment", "Invoke URL"), stage_rows, id="stages"),
                    ),
                    html.section(
                        "Recent requests to its stages",
                        html.table(
                            ("Request id", "Method", "Stage and path", "Status", "ms"),
                            calls,
                            id="stage-requests",
                        ),
                    ),
                ]
            ),
        )

    # CloudWatch Logs

    @app.route("/logs")
    @guarded
    async def logs_groups(self: Pages, request: IRequest) -> bytes:
        params: Document = {"limit": _PAGE}
        if arg(request, "token"):
            params["nextToken"] = arg(request, "token")
        if arg(request, "prefix"):
            params["logGroupNamePrefix"] = arg(request, "prefix")
        listed = await self.services.call(self.scope(request), "logs", "DescribeLogGroups", params)
        rows = [
            (
                html.link(html.url("logs/group", name=g["logGroupName"]), g["logGroupName"]),
                g.get("storedBytes", 0),
                g.get("retentionInDays", "never expire"),
            )
            for g in listed["logGroups"]
        ]
        more = listed.get("nextToken")
        return self.render(
            request,
            "Log groups",
            "logs",
            html.join(
                [
                    html.table(("Group", "Stored bytes", "Retention (days)"), rows, id="groups"),
                    html.next_page(None if not more else html.url("logs", token=more)),
                ]
            ),
        )

    @app.route("/logs/group")
    @guarded
    async def logs_group(self: Pages, request: IRequest) -> bytes:
        name = arg(request, "name")
        streams = await self.services.call(
            self.scope(request),
            "logs",
            "DescribeLogStreams",
            {"logGroupName": name, "orderBy": "LastEventTime", "descending": True, "limit": _PAGE},
        )
        rows = [
            (
                s["logStreamName"],
                html.when(s.get("lastEventTimestamp"), millis=True),
                s.get("storedBytes", 0),
            )
            for s in streams["logStreams"]
        ]
        source = html.text(html.url("logs/tail.json", name=name))
        tail = html.Markup(f'<pre id="tail" class="tail" data-src="{source}"></pre>')
        return self.render(
            request,
            f"Log group {name}",
            "logs",
            html.join(
                [
                    html.section("Live tail", tail),
                    html.section(
                        "Streams",
                        html.table(("Stream", "Last event", "Stored bytes"), rows, id="streams"),
                    ),
                ]
            ),
        )

    @app.route("/logs/tail.json")
    @guarded
    async def logs_tail(self: Pages, request: IRequest) -> bytes:
        """
        A long poll of the group's events from ``since`` (epoch ms,
        inclusive; the last ten minutes at first) but those in ``seen`` (the
        ids the page has at ``since``): answered as soon as there are any,
        or with none after ``_TAIL_WAIT`` seconds.
        """
        request.setHeader(b"Content-Type", b"application/json")
        clock = self.services.clock
        given = arg(request, "since")
        since = int(given) if given.isdigit() else int(clock.seconds() * 1000) - _TAIL_WINDOW_MS
        seen = set(arg(request, "seen").split(","))
        params = {"logGroupName": arg(request, "name"), "startTime": since, "limit": 500}
        deadline = clock.seconds() + _TAIL_WAIT
        while True:
            found = await self.services.call(self.scope(request), "logs", "FilterLogEvents", params)
            events = [
                {
                    "id": e["eventId"],
                    "time": e["timestamp"],
                    "stream": e["logStreamName"],
                    "message": e["message"],
                }
                for e in found["events"]
                if e["eventId"] not in seen
            ]
            if events or clock.seconds() >= deadline:
                return json.dumps(events).encode()
            await deferLater(clock, _TAIL_CHECK)

    # IAM

    @app.route("/iam")
    @guarded
    async def iam(self: Pages, request: IRequest) -> bytes:
        scope = self.scope(request)
        pages: dict[str, Document] = {}
        for listing, field, _, _ in _IAM_LISTINGS:
            params: Document = {"MaxItems": _PAGE}
            if arg(request, field):
                params["Marker"] = arg(request, field)
            pages[field] = await self.services.call(scope, "iam", listing, params)
        users = pages["users"]
        more = {
            field: found.get("Marker") if found.get("IsTruncated") else None
            for field, found in pages.items()
        }
        keys: list[tuple[object, ...]] = []
        for user in users["Users"]:
            listed = await self.services.call(
                scope, "iam", "ListAccessKeys", {"UserName": user["UserName"]}
            )
            keys.extend(
                (k["UserName"], k["AccessKeyId"], k["Status"], html.when(k["CreateDate"]))
                for k in listed["AccessKeyMetadata"]
            )
        return self.render(
            request,
            "IAM",
            "iam",
            html.join(
                [
                    *(
                        html.section(
                            title,
                            html.table(
                                (noun, "ARN", "Created"),
                                [
                                    (e[f"{noun}Name"], e["Arn"], html.when(e["CreateDate"]))
                                    for e in pages[field][title]
                                ],
                                id=field,
                            ),
                            html.next_page(more[field] and html.url("iam", **{field: more[field]})),
                        )
                        for _, field, title, noun in _IAM_LISTINGS
                    ),
                    html.section(
                        "Access keys (secrets are never shown)",
                        html.table(("User", "Access key id", "Status", "Created"), keys, id="keys"),
                    ),
                ]
            ),
        )


async def _invoke(pages: Pages, scope: Scope, name: str, payload: str) -> html.Markup:
    """Invoke the function with the form's payload: its result, error, log tail and duration."""
    clock = pages.services.clock
    started = clock.seconds()
    output = await pages.services.call(
        scope,
        "lambda",
        "Invoke",
        {"FunctionName": name, "Payload": payload.encode(), "LogType": "Tail"},
    )
    elapsed = (clock.seconds() - started) * 1000
    body = output.get("Payload", b"")
    body = body if isinstance(body, bytes) else body.read()
    logs = base64.b64decode(output.get("LogResult", "")).decode("utf-8", "replace")
    shown = html.join(
        [
            html.definitions(
                {
                    "Status": output.get("StatusCode", ""),
                    "Function error": output.get("FunctionError", "none"),
                    "Duration": f"{elapsed:.1f} ms",
                }
            ),
            html.Markup("<h3>Result</h3>"),
            html.Markup(f'<pre id="payload">{html.text(body.decode("utf-8", "replace"))}</pre>'),
            html.Markup("<h3>Log tail</h3>"),
            html.Markup(f'<pre id="log">{html.text(logs)}</pre>'),
        ]
    )
    return html.Markup(f'<div id="result">{shown}</div>')


async def _environments(pages: Pages, scope: Scope, name: str) -> dict[str, object]:
    """
    The executor running the function's environments, its warm environments
    by version (busy or idle), and how many are invoking now.
    """
    backend = pages.services.backends["lambda"]
    environments = getattr(backend, "environments", None)
    if environments is None or backend.state().status != "running":
        return {}
    executor = await environments.executor()
    key = (scope.account_id, scope.region)
    warm = environments.warm(key, name)
    return {
        "Executor": executor.name,
        "Warm environments": ", ".join(f"{count} of {version}" for version, count in warm.items())
        or "none",
        "Environments invoking now": environments.busy(key, name),
    }


async def _recent_invocations(pages: Pages, scope: Scope, name: str) -> list[tuple[object, ...]]:
    """
    The function's last invocations, read from its log group: each one's
    lines from ``START`` to ``REPORT``, its duration and status there.
    """
    try:
        found = await pages.services.call(
            scope,
            "logs",
            "FilterLogEvents",
            {"logGroupName": f"/aws/lambda/{name}", "limit": 1000},
        )
    except ServiceError:
        return []
    lines: dict[str, list[str]] = {}
    order: list[str] = []
    current: str | None = None
    for event in found["events"]:
        message = event["message"]
        marker = _REQUEST_ID.match(message)
        if marker is not None:
            current = marker.group(2)
            if current not in lines:
                lines[current] = []
                order.append(current)
        if current is not None:
            lines[current].append(message.rstrip("\n"))
    rows: list[tuple[object, ...]] = []
    for request_id in reversed(order[-_RECENT_INVOCATIONS:]):
        text = "\n".join(lines[request_id])
        duration = _DURATION.search(text)
        status = _STATUS.search(text)
        rows.append(
            (
                request_id,
                status.group(1) if status else ("ok" if duration else "running"),
                duration.group(1) if duration else "",
                html.Markup(f"<pre>{html.text(text)}</pre>"),
            )
        )
    return rows
