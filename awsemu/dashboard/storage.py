"""The S3 and DynamoDB pages: browse, upload, download, put and delete."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any, Final
from urllib.parse import quote

from twisted.web.iweb import IRequest

from awsemu.dashboard import html
from awsemu.dashboard.reading import Document
from awsemu.dashboard.web import Pages, app, arg, arg_bytes, guarded
from awsemu.protocol.errors import ServiceError

_PAGE: Final = 100
_ITEMS_PAGE: Final = 25
_EXAMPLE_VALUES: Final = html.text('{":pk": {"S": "a"}}')
_EXAMPLE_ITEM: Final = html.text('{"pk": {"S": "a"}, "n": {"N": "1"}}')


def _form(action: str, content: str, *, multipart: bool = False, css: str = "") -> html.Markup:
    enctype = ' enctype="multipart/form-data"' if multipart else ""
    kind = f' class="{css}"' if css else ""
    return html.Markup(
        f'<form method="post" action="{html.text(action)}"{enctype}{kind}>{content}</form>'
    )


class StoragePages:
    """S3 (``/_awsemu/s3``) and DynamoDB (``/_awsemu/dynamodb``)."""

    # S3

    @app.route("/s3")
    @guarded
    async def s3_buckets(self: Pages, request: IRequest) -> bytes:
        scope = self.scope(request)
        params: Document = {"MaxBuckets": _PAGE, "BucketRegion": scope.region}
        if arg(request, "token"):
            params["ContinuationToken"] = arg(request, "token")
        listed = await self.services.call(scope, "s3", "ListBuckets", params)
        rows = [
            (
                html.link(html.url(f"s3/{bucket['Name']}"), bucket["Name"]),
                html.when(bucket["CreationDate"]),
            )
            for bucket in listed.get("Buckets", [])
        ]
        more = listed.get("ContinuationToken")
        return self.render(
            request,
            "S3 buckets",
            "s3",
            html.join(
                [
                    html.table(("Bucket", "Created"), rows, id="buckets"),
                    html.next_page(None if not more else html.url("s3", token=more)),
                ]
            ),
        )

    @app.route("/s3/<bucket>")
    @guarded
    async def s3_objects(self: Pages, request: IRequest, bucket: str) -> bytes:
        scope = self.scope(request)
        prefix = arg(request, "prefix")
        params: Document = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/", "MaxKeys": _PAGE}
        if arg(request, "token"):
            params["ContinuationToken"] = arg(request, "token")
        listed = await self.services.call(scope, "s3", "ListObjectsV2", params)
        here = f"s3/{bucket}"
        crumbs = [html.link(html.url(here), bucket)]
        walked = ""
        for part in prefix.split("/")[:-1]:
            walked += part + "/"
            crumbs.append(html.Markup(" / "))
            crumbs.append(html.link(html.url(here, prefix=walked), part))
        rows: list[tuple[object, ...]] = [
            (
                html.link(html.url(here, prefix=common["Prefix"]), common["Prefix"][len(prefix) :]),
                "",
                "",
                "",
            )
            for common in listed.get("CommonPrefixes", [])
        ]
        rows.extend(
            (
                html.link(html.url(f"{here}/object", key=item["Key"]), item["Key"][len(prefix) :]),
                item["Size"],
                item["ETag"],
                html.when(item["LastModified"]),
            )
            for item in listed.get("Contents", [])
        )
        more = listed.get("NextContinuationToken")
        upload = _form(
            html.url(f"{here}/upload"),
            f'{html.hidden("prefix", prefix)}<input type="file" name="file" required>'
            f'<input name="key" placeholder="key (default: {html.text(prefix)}file name)">'
            "<button>Upload</button>",
            multipart=True,
            css="upload",
        )
        return self.render(
            request,
            f"s3://{bucket}/{prefix}",
            "s3",
            html.join(
                [
                    html.Markup('<p class="crumbs">'),
                    html.join(crumbs),
                    html.Markup("</p>"),
                    html.table(("Name", "Size", "ETag", "Last modified"), rows, id="objects"),
                    html.next_page(None if not more else html.url(here, prefix=prefix, token=more)),
                    html.section("Upload", upload),
                ]
            ),
        )

    @app.route("/s3/<bucket>/object")
    @guarded
    async def s3_object(self: Pages, request: IRequest, bucket: str) -> bytes:
        scope = self.scope(request)
        key = arg(request, "key")
        head = await self.services.call(scope, "s3", "HeadObject", {"Bucket": bucket, "Key": key})
        tags = await self.services.call(
            scope, "s3", "GetObjectTagging", {"Bucket": bucket, "Key": key}
        )
        versions = await self.services.call(
            scope, "s3", "ListObjectVersions", {"Bucket": bucket, "Prefix": key, "MaxKeys": _PAGE}
        )
        facts = {
            name: head[name]
            for name in ("ContentLength", "ContentType", "ETag", "VersionId")
            if name in head
        }
        facts["LastModified"] = html.when(head.get("LastModified"))
        here = f"s3/{bucket}"
        actions = html.join(
            [
                html.link(html.url(f"{here}/download", key=key), "Download", id="download"),
                _form(
                    html.url(f"{here}/delete"),
                    f"{html.hidden('key', key)}<button>Delete</button>",
                    css="inline",
                ),
            ]
        )
        version_rows = [
            (
                v["VersionId"],
                v["ETag"],
                v["Size"],
                html.when(v["LastModified"]),
                "yes" if v["IsLatest"] else "",
            )
            for v in versions.get("Versions", [])
            if v["Key"] == key
        ]
        return self.render(
            request,
            f"s3://{bucket}/{key}",
            "s3",
            html.join(
                [
                    html.definitions(facts),
                    actions,
                    html.section(
                        "Metadata",
                        html.table(("Name", "Value"), sorted(head.get("Metadata", {}).items())),
                    ),
                    html.section(
                        "Tags",
                        html.table(
                            ("Key", "Value"), [(t["Key"], t["Value"]) for t in tags["TagSet"]]
                        ),
                    ),
                    html.section(
                        "Versions",
                        html.table(
                            ("Version", "ETag", "Size", "Last modified", "Latest"), version_rows
                        ),
                    ),
                ]
            ),
        )

    @app.route("/s3/<bucket>/download")
    @guarded
    async def s3_download(self: Pages, request: IRequest, bucket: str) -> bytes:
        key = arg(request, "key")
        found = await self.services.call(
            self.scope(request), "s3", "GetObject", {"Bucket": bucket, "Key": key}
        )
        body: Any = found["Body"]
        name = quote(key.rpartition("/")[2] or "object")
        request.setHeader(b"Content-Type", b"application/octet-stream")
        request.setHeader(b"Content-Disposition", f"attachment; filename*=UTF-8''{name}".encode())
        return body if isinstance(body, bytes) else bytes(body.read())

    @app.route("/s3/<bucket>/upload", methods=["POST"])
    @guarded
    async def s3_upload(self: Pages, request: IRequest, bucket: str) -> bytes:
        prefix = arg(request, "prefix")
        key = arg(request, "key") or prefix + arg(request, "filename", "upload")
        await self.services.call(
            self.scope(request),
            "s3",
            "PutObject",
            {"Bucket": bucket, "Key": key, "Body": BytesIO(arg_bytes(request, "file"))},
        )
        request.redirect(html.url(f"s3/{bucket}", prefix=prefix).encode())
        return b""

    @app.route("/s3/<bucket>/delete", methods=["POST"])
    @guarded
    async def s3_delete(self: Pages, request: IRequest, bucket: str) -> bytes:
        key = arg(request, "key")
        await self.services.call(
            self.scope(request), "s3", "DeleteObject", {"Bucket": bucket, "Key": key}
        )
        request.redirect(
            html.url(
                f"s3/{bucket}", prefix=key.rpartition("/")[0] + "/" if "/" in key else ""
            ).encode()
        )
        return b""

    # DynamoDB

    @app.route("/dynamodb")
    @guarded
    async def dynamodb_tables(self: Pages, request: IRequest) -> bytes:
        scope = self.scope(request)
        params: Document = {"Limit": _PAGE}
        if arg(request, "after"):
            params["ExclusiveStartTableName"] = arg(request, "after")
        listed = await self.services.dynamodb(scope, "ListTables", params)
        rows = [(html.link(html.url(f"dynamodb/{name}"), name),) for name in listed["TableNames"]]
        more = listed.get("LastEvaluatedTableName")
        return self.render(
            request,
            "DynamoDB tables",
            "dynamodb",
            html.join(
                [
                    html.table(("Table",), rows, id="tables"),
                    html.next_page(None if not more else html.url("dynamodb", after=more)),
                ]
            ),
        )

    @app.route("/dynamodb/<table>", methods=["GET", "POST"])
    @guarded
    async def dynamodb_items(self: Pages, request: IRequest, table: str) -> bytes:
        scope = self.scope(request)
        notice: object = ""
        if request.method == b"POST":
            notice = await _change_item(self, request, table)
        description = (await self.services.dynamodb(scope, "DescribeTable", {"TableName": table}))[
            "Table"
        ]
        mode = arg(request, "mode", "scan")
        expression = arg(request, "expression")
        values, names = arg(request, "values"), arg(request, "names")
        params: Document = {"TableName": table, "Limit": _ITEMS_PAGE}
        if expression:
            params["KeyConditionExpression" if mode == "query" else "FilterExpression"] = expression
        for member, field in (
            ("ExpressionAttributeValues", "values"),
            ("ExpressionAttributeNames", "names"),
            ("ExclusiveStartKey", "start"),
        ):
            if arg(request, field):
                params[member] = _json_field(arg(request, field), field)
        found = await self.services.dynamodb(scope, "Query" if mode == "query" else "Scan", params)
        items = found.get("Items", [])
        last = found.get("LastEvaluatedKey")
        indexes = [
            (index["IndexName"], kind, _key_schema(index["KeySchema"]))
            for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes")
            for index in description.get(kind, [])
        ]
        facts = {
            "Key schema": _key_schema(description["KeySchema"]),
            "Item count": description.get("ItemCount", 0),
            "Status": description.get("TableStatus", ""),
            "Stream": description.get("LatestStreamArn", "none"),
        }
        scanning, querying = ("selected", "") if mode != "query" else ("", "selected")
        search = html.Markup(
            '<form method="get" class="search"><select name="mode">'
            f'<option value="scan" {scanning}>Scan (filter)</option>'
            f'<option value="query" {querying}>Query (key condition)</option></select>'
            '<input name="expression" size="40" placeholder="pk = :pk"'
            f' value="{html.text(expression)}">'
            f'<input name="values" size="40" placeholder=\'{_EXAMPLE_VALUES}\''
            f' value="{html.text(values)}">'
            '<input name="names" size="20" placeholder=\'{"#n": "name"}\''
            f' value="{html.text(names)}"><button>Search</button></form>'
        )
        edit = _form(
            html.url(f"dynamodb/{table}"),
            '<textarea name="item" rows="4" cols="60"'
            f" placeholder='{_EXAMPLE_ITEM}'></textarea>"
            '<button name="action" value="put">Put item</button>'
            '<button name="action" value="delete">Delete item with this key</button>',
            css="edit",
        )
        next_href = None
        if last is not None:
            next_href = html.url(
                f"dynamodb/{table}",
                mode=mode,
                expression=expression,
                values=values,
                names=names,
                start=json.dumps(last),
            )
        return self.render(
            request,
            f"Table {table}",
            "dynamodb",
            html.join(
                [
                    notice,
                    html.definitions(facts),
                    html.section("Indexes", html.table(("Index", "Kind", "Key schema"), indexes)),
                    html.section(
                        "Items",
                        search,
                        html.table(("Item",), [(html.pretty(item),) for item in items], id="items"),
                        html.next_page(next_href),
                    ),
                    html.section("Put or delete an item (DynamoDB JSON)", edit),
                ]
            ),
        )


async def _change_item(pages: Pages, request: IRequest, table: str) -> html.Markup:
    """Put the form's item, or delete the item with its key; what happened, as a notice."""
    try:
        item = json.loads(arg(request, "item"))
    except ValueError as bad:
        return html.error(f"The item is not JSON: {bad}")
    scope = pages.scope(request)
    if arg(request, "action") == "delete":
        await pages.services.dynamodb(scope, "DeleteItem", {"TableName": table, "Key": item})
        return html.Markup('<p class="notice">Item deleted.</p>')
    await pages.services.dynamodb(scope, "PutItem", {"TableName": table, "Item": item})
    return html.Markup('<p class="notice">Item saved.</p>')


def _json_field(text: str, field: str) -> Any:
    """A form field's JSON; DynamoDB's own error for text that is not JSON."""
    try:
        return json.loads(text)
    except ValueError as bad:
        raise ServiceError("ValidationException", f"The {field} field is not JSON: {bad}") from None


def _key_schema(schema: list[Document]) -> str:
    return ", ".join(f"{key['AttributeName']} ({key['KeyType']})" for key in schema)
