"""
Exports of tables to S3 and imports of tables from S3, which DynamoDB
Local lacks, made by copying items through it to and from awsemu's own S3
(through S3's provider, its API, as Lambda reads code: never its store):

- C{ExportTableToPointInTime} scans the table and writes what AWS writes,
  in DynamoDB JSON: under C{<S3Prefix>/AWSDynamoDB/<export id>/}, a gzipped
  data file of C{{"Item": ...}} lines in C{data/}, C{manifest-files.json}
  (one line per data file) and C{manifest-summary.json}. As for restores,
  the items are the table's current ones whatever C{ExportTime} says
  (DynamoDB Local keeps no history); point-in-time recovery must be on, as
  in AWS. Only full exports in DynamoDB JSON are made;
- C{ImportTable} creates the table from C{TableCreationParameters}, then
  puts every item of the objects under C{S3KeyPrefix} (DynamoDB JSON lines,
  plain or gzipped). Lines that are not items are counted in C{ErrorCount}.

Both are finished (or failed, with S3's error as the failure) by the time
they answer; AWS reports C{IN_PROGRESS} for a while. Descriptions are kept
in an L{ExportStore} for C{Describe}/C{List}.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.dynamodb.backups import Call, scan_all, table_arn_prefix, write_all
from awsemu.dynamodb.descriptions import describe, requested_settings
from awsemu.dynamodb.errors import client_error
from awsemu.dynamodb.tables import TableStore
from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.state.jsonfile import JsonFile

OPERATIONS: Final = frozenset(
    {
        "ExportTableToPointInTime",
        "DescribeExport",
        "ListExports",
        "ImportTable",
        "DescribeImport",
        "ListImports",
    }
)


_Operation = Callable[[RequestContext, dict[str, Any]], Awaitable[Any]]
"""One of S3's operations, as the provider serves it (by botocore's method name)."""


class ObjectStore(Protocol):
    """What exports and imports use of S3's provider."""

    @property
    def put_object(self) -> _Operation: ...

    @property
    def get_object(self) -> _Operation: ...

    @property
    def list_objects_v2(self) -> _Operation: ...


@attrs.define
class ExportStore:
    """Export and import descriptions by ARN, saved in ``file`` (None: memory only)."""

    exports: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    imports: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    file: JsonFile | None = None

    @classmethod
    def open(cls, file: JsonFile) -> ExportStore:
        document: dict[str, Any] = file.load() or {}
        return cls(document.get("exports", {}), document.get("imports", {}), file)

    def save(self) -> None:
        if self.file is not None:
            self.file.save({"exports": self.exports, "imports": self.imports})


def _new_id(now: float) -> str:
    """An export's or import's id, in AWS's form: milliseconds, then 8 hex digits."""
    return f"{int(now * 1000):013d}-{secrets.token_hex(4)}"


async def _read(s3: ObjectStore, context: RequestContext, bucket: str, key: str) -> bytes:
    # Imported here: a daemon without S3 (no store to read from) never loads S3's modules.
    from awsemu.s3.common import body_bytes

    return body_bytes(await s3.get_object(context, {"Bucket": bucket, "Key": key}))


async def _write(
    s3: ObjectStore, context: RequestContext, bucket: str, key: str, data: bytes
) -> dict[str, Any]:
    answer: dict[str, Any] = await s3.put_object(
        context, {"Bucket": bucket, "Key": key, "Body": io.BytesIO(data)}
    )
    return answer


@attrs.define
class Exports:
    """
    The export and import operations, answered with DynamoDB Local's help
    (``call``) and S3's (``s3``, None when the daemon serves no S3).
    """

    store: ExportStore
    tables: TableStore
    s3: ObjectStore | None
    clock: IReactorTime

    async def answer(
        self, operation: str, context: RequestContext, call: Call, document: dict[str, Any]
    ) -> dict[str, Any]:
        prefix = table_arn_prefix(context)
        if operation == "ExportTableToPointInTime":
            return {"ExportDescription": await self._export(context, call, document)}
        if operation == "ImportTable":
            return {"ImportTableDescription": await self._import(context, call, document)}
        if operation == "ListExports":
            table = document.get("TableArn")
            return {
                "ExportSummaries": [
                    {key: export[key] for key in ("ExportArn", "ExportStatus", "ExportType")}
                    for arn, export in sorted(self.store.exports.items())
                    if arn.startswith(prefix) and table in (None, export["TableArn"])
                ]
            }
        if operation == "ListImports":
            table = document.get("TableArn")
            members = ("ImportArn", "ImportStatus", "TableArn", "S3BucketSource", "InputFormat")
            return {
                "ImportSummaryList": [
                    {key: found[key] for key in (*members, "StartTime", "EndTime")}
                    for arn, found in sorted(self.store.imports.items())
                    if arn.startswith(prefix) and table in (None, found["TableArn"])
                ]
            }
        if operation == "DescribeExport":
            export = _find(self.store.exports, document.get("ExportArn"), prefix, "Export")
            return {"ExportDescription": export}
        found = _find(self.store.imports, document.get("ImportArn"), prefix, "Import")
        return {"ImportTableDescription": found}

    def _s3(self) -> ObjectStore:
        if self.s3 is None:
            raise client_error(
                "ValidationException", "awsemu serves no S3 here: start it with the s3 service"
            )
        return self.s3

    async def _export(
        self, context: RequestContext, call: Call, document: dict[str, Any]
    ) -> dict[str, Any]:
        s3 = self._s3()
        table_arn = document.get("TableArn")
        try:
            # Named by its ARN, which the proxy checks is the caller's
            # (awsemu.dynamodb.names): another account's table is refused.
            table = (await call("DescribeTable", {"TableName": table_arn}))["Table"]
        except ServiceError as e:
            if e.code.endswith("#ResourceNotFoundException"):
                raise client_error("TableNotFoundException", f"Table not found: {table_arn}") from e
            raise
        arn, created, name = table["TableArn"], table["CreationDateTime"], table["TableName"]
        if self.tables.recovery(arn, created) is None:
            raise client_error(
                "PointInTimeRecoveryUnavailableException",
                f"Point in time recovery is not enabled for table '{name}'",
            )
        describe(table, self.tables.record(arn, created))
        now = self.clock.seconds()
        export_id = _new_id(now)
        bucket = str(document.get("S3Bucket"))
        prefix = document.get("S3Prefix") or ""
        base = f"{prefix.rstrip('/')}/AWSDynamoDB/{export_id}".lstrip("/")
        export: dict[str, Any] = {
            "ExportArn": f"{arn}/export/{export_id}",
            "ExportStatus": "COMPLETED",
            "StartTime": now,
            "TableArn": arn,
            "TableId": table["TableId"],
            "ExportTime": document.get("ExportTime", now),
            "S3Bucket": bucket,
            "S3SseAlgorithm": document.get("S3SseAlgorithm") or "AES256",
            "ExportFormat": document.get("ExportFormat") or "DYNAMODB_JSON",
            "ExportType": document.get("ExportType") or "FULL_EXPORT",
        }
        for member in ("ClientToken", "S3BucketOwner", "S3Prefix", "S3SseKmsKeyId"):
            if member in document:
                export[member] = document[member]
        if export["ExportFormat"] != "DYNAMODB_JSON" or export["ExportType"] != "FULL_EXPORT":
            raise client_error(
                "ValidationException",
                "awsemu exports only full exports in DYNAMODB_JSON",
            )
        items = await scan_all(call, table["TableName"])
        lines = b"".join(
            json.dumps({"Item": item}, separators=(",", ":")).encode() + b"\n" for item in items
        )
        data = gzip.compress(lines, mtime=0)
        data_key = f"{base}/data/{secrets.token_hex(13)}.json.gz"
        try:
            written = await _write(s3, context, bucket, data_key, data)
            files = {
                "itemCount": len(items),
                "md5Checksum": hashlib.md5(data).hexdigest(),  # noqa: S324 (AWS's manifest field)
                "etag": written.get("ETag", "").strip('"'),
                "dataFileS3Key": data_key,
            }
            files_key = f"{base}/manifest-files.json"
            await _write(s3, context, bucket, files_key, json.dumps(files).encode() + b"\n")
            export.update(
                EndTime=self.clock.seconds(),
                ExportManifest=f"{base}/manifest-summary.json",
                BilledSizeBytes=len(lines),
                ItemCount=len(items),
            )
            summary = {
                "version": "2020-06-30",
                "exportArn": export["ExportArn"],
                "startTime": now,
                "endTime": export["EndTime"],
                "tableArn": arn,
                "tableId": export["TableId"],
                "exportTime": export["ExportTime"],
                "s3Bucket": bucket,
                "s3Prefix": document.get("S3Prefix"),
                "s3SseAlgorithm": export["S3SseAlgorithm"],
                "manifestFilesS3Key": files_key,
                "billedSizeBytes": len(lines),
                "itemCount": len(items),
                "outputFormat": "DYNAMODB_JSON",
                "exportType": "FULL_EXPORT",
            }
            await _write(
                s3, context, bucket, export["ExportManifest"], json.dumps(summary).encode()
            )
        except ServiceError as e:
            export.update(ExportStatus="FAILED", FailureCode=e.code, FailureMessage=e.message)
        self.store.exports[export["ExportArn"]] = export
        self.store.save()
        return export

    async def _import(
        self, context: RequestContext, call: Call, document: dict[str, Any]
    ) -> dict[str, Any]:
        s3 = self._s3()
        source = document.get("S3BucketSource") or {}
        parameters = document.get("TableCreationParameters") or {}
        compression = document.get("InputCompressionType") or "NONE"
        if document.get("InputFormat") != "DYNAMODB_JSON" or compression not in ("NONE", "GZIP"):
            raise client_error(
                "ValidationException",
                "awsemu imports only DYNAMODB_JSON, plain or GZIP-compressed",
            )
        name = parameters.get("TableName")
        try:
            await call(
                "CreateTable", {k: v for k, v in parameters.items() if k != "SSESpecification"}
            )
        except ServiceError as e:
            if e.code.endswith("#ResourceInUseException"):
                raise client_error("ResourceInUseException", f"Table already exists: {name}") from e
            raise
        table = (await call("DescribeTable", {"TableName": name}))["Table"]
        arn, created = table["TableArn"], table["CreationDateTime"]
        now = self.clock.seconds()
        if isinstance(parameters.get("SSESpecification"), dict):
            settings = {"SSESpecification": parameters["SSESpecification"]}
            self.tables.settle(
                arn, created, **requested_settings(settings, context, now, updating=False)
            )
        describe(table, self.tables.record(arn, created))
        found: dict[str, Any] = {
            "ImportArn": f"{arn}/import/{_new_id(now)}",
            "ImportStatus": "COMPLETED",
            "TableArn": arn,
            "TableId": table["TableId"],
            "S3BucketSource": source,
            "ErrorCount": 0,
            "InputFormat": "DYNAMODB_JSON",
            "InputCompressionType": compression,
            "TableCreationParameters": parameters,
            "StartTime": now,
        }
        if "ClientToken" in document:
            found["ClientToken"] = document["ClientToken"]
        try:
            items, errors, size = await self._read_items(s3, context, source, compression)
            await write_all(call, str(name), items)
            found.update(
                ErrorCount=errors,
                ProcessedSizeBytes=size,
                ProcessedItemCount=len(items) + errors,
                ImportedItemCount=len(items),
            )
        except ServiceError as e:
            found.update(ImportStatus="FAILED", FailureCode=e.code, FailureMessage=e.message)
        found["EndTime"] = self.clock.seconds()
        self.store.imports[found["ImportArn"]] = found
        self.store.save()
        return found

    async def _read_items(
        self, s3: ObjectStore, context: RequestContext, source: dict[str, Any], compression: str
    ) -> tuple[list[dict[str, Any]], int, int]:
        """
        The items of every object under the source's prefix, how many lines
        were not items, and how many bytes were read.
        """
        bucket, prefix = str(source.get("S3Bucket")), source.get("S3KeyPrefix") or ""
        items: list[dict[str, Any]] = []
        errors = size = 0
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            listing = await s3.list_objects_v2(context, params)
            for entry in listing.get("Contents", []):
                data = await _read(s3, context, bucket, entry["Key"])
                size += len(data)
                if compression == "GZIP":
                    try:
                        data = gzip.decompress(data)
                    except (OSError, EOFError):
                        errors += 1
                        continue
                for line in data.splitlines():
                    item = _item(line)
                    if item is None:
                        errors += line.strip() != b""
                    else:
                        items.append(item)
            if not listing.get("IsTruncated"):
                return items, errors, size
            params["ContinuationToken"] = listing["NextContinuationToken"]


def _find(
    descriptions: dict[str, dict[str, Any]], arn: Any, prefix: str, kind: str
) -> dict[str, Any]:
    """The caller's export or import ``arn``, or C{<kind>NotFoundException}."""
    if isinstance(arn, str) and arn.startswith(prefix) and arn in descriptions:
        return descriptions[arn]
    raise client_error(f"{kind}NotFoundException", f"{kind} not found: {arn}")


def _item(line: bytes) -> dict[str, Any] | None:
    """The item of a DynamoDB JSON line (C{{"Item": {...}}}), or None."""
    try:
        document = json.loads(line)
    except ValueError:
        return None
    item = document.get("Item") if isinstance(document, dict) else None
    return item if isinstance(item, dict) and item else None
