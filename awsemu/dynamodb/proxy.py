"""
DynamoDB and DynamoDB Streams requests, forwarded byte for byte to the
supervised DynamoDB Local, with what it gets wrong for an emulator of
several accounts and regions put right, and what it lacks made up for:

- Isolation. DynamoDB Local keeps one database per access key and region
  (unless run with ``-sharedDb``) and does not check signatures, so each
  request is forwarded with a well-formed but unsigned ``Authorization``
  whose access key is the daemon's secret followed by the caller's account
  id (see L{awsemu.dynamodb.keys}) and whose scope is the caller's region:
  every (account, region) sees only its own tables, and a local user who
  connects to DynamoDB Local directly sees none of them.
- ARNs. DynamoDB Local names everything
  ``arn:aws:dynamodb:ddblocal:000000000000:...``. Responses get the
  caller's region and account instead, and requests the reverse. Only
  values of ARN-bearing members (``TableArn``, ``StreamArn``,
  ``ShardIterator``...) are rewritten, never item data: in DynamoDB's JSON
  every attribute value is wrapped (``{"S": ...}``), so a member name
  followed directly by a string is never an item's attribute, and a
  quote inside a string is always escaped, so no string's contents can
  look like a member. Stream records' ``awsRegion`` gets the same
  treatment. A body with nothing to rewrite is passed on as is;
  one that was rewritten gets a new ``x-amz-crc32``, which botocore checks.
- Tags. DynamoDB Local has no tagging operations and ignores
  ``CreateTable``'s ``Tags``: the proxy answers ``TagResource``,
  ``UntagResource`` and ``ListTagsOfResource`` itself from a
  L{TableStore}, once a forwarded ``DescribeTable`` has shown that the
  table exists, and keeps ``CreateTable``'s tags and drops
  ``DeleteTable``'s.
- Table descriptions. ``CreateTable``, ``DescribeTable``, ``UpdateTable``
  and ``DeleteTable`` are parsed, and their answers rewritten as AWS
  describes tables, with the settings DynamoDB Local forgets kept in the
  same store (L{awsemu.dynamodb.tableops}, L{awsemu.dynamodb.descriptions}).
  These four are the only forwarded operations whose bodies are parsed:
  item operations are passed on unread.
- Table ARNs as names (L{awsemu.dynamodb.names}): a request that names a
  table by its ARN, which DynamoDB Local does not always accept, is
  forwarded with the name, and answered with the ARN.
- Contributor insights, Kinesis streaming destinations, resource
  policies (L{awsemu.dynamodb.stored}) and C{DescribeEndpoints}: answered
  here too, DynamoDB Local has none of them.
- Point-in-time recovery. DynamoDB Local has no backups either, but
  Terraform reads every table's with ``DescribeContinuousBackups``: the
  proxy keeps the setting in the same store and answers that and
  ``UpdateContinuousBackups`` the same way.
- Backups and restores (L{awsemu.dynamodb.backups}), exports to S3 and
  imports from it (L{awsemu.dynamodb.exports}): made by copying items
  through DynamoDB Local.

Errors from DynamoDB Local pass through unchanged (status, type,
message), but for the ARNs their messages quote, which are made public,
and the few messages AWS words otherwise (L{awsemu.dynamodb.errors}).
When DynamoDB Local cannot answer (still starting, restarting, not
installed, or hung past the pool's C{response_timeout}), the error is
DynamoDB's own shape, with a 5xx status botocore retries.
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, Protocol, cast
from urllib.parse import urlencode

import attrs
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.defer import TimeoutError as ReadyTimeout
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from awsemu.dynamodb.arns import (
    arn_prefix,
    error_to_public,
    table_arn,
    to_local,
    to_public,
)
from awsemu.dynamodb.backups import OPERATIONS as BACKUP_OPERATIONS
from awsemu.dynamodb.backups import Backups, BackupStore
from awsemu.dynamodb.descriptions import (
    DESCRIBED,
)
from awsemu.dynamodb.errors import (
    ERROR_TYPE_PREFIX,
    REWORDED,
    client_error,
    malformed_request,
    refusal,
    reword,
)
from awsemu.dynamodb.exports import OPERATIONS as EXPORT_OPERATIONS
from awsemu.dynamodb.exports import Exports, ExportStore, ObjectStore
from awsemu.dynamodb.forwarding import forwarded_header, forwarded_lines, local_authorization
from awsemu.dynamodb.keys import new_secret
from awsemu.dynamodb.loopback import LoopbackResponse, ResponseTimeout
from awsemu.dynamodb.messages import (
    JSON_CONTENT_TYPE,
    describe_table,
    json_document,
    own_request,
    with_body,
)
from awsemu.dynamodb.names import ARN_MARK, to_arns, to_names
from awsemu.dynamodb.recovery import recovery_description, recovery_specification
from awsemu.dynamodb.replicas import Replication
from awsemu.dynamodb.stored import STORED, Stored, contributor_insights_summaries
from awsemu.dynamodb.stored import Request as StoredRequest
from awsemu.dynamodb.streams import StreamReader
from awsemu.dynamodb.supervisor import CannotRun, Supervised
from awsemu.dynamodb.tableops import TableOperations
from awsemu.dynamodb.tables import Recovery, TableStore
from awsemu.dynamodb.tags import InvalidTags, parse_tags
from awsemu.gateway.context import DEFAULT_ACCOUNT_ID, RequestContext
from awsemu.gateway.services import ServiceState
from awsemu.protocol.codec import codec_for
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse, wire_bytes

READY_TIMEOUT: Final = 30.0
"""Seconds a request waits for DynamoDB Local to (re)start before it is refused."""

_TAG_RESOURCE: Final = "DynamoDB_20120810.TagResource"
_UNTAG_RESOURCE: Final = "DynamoDB_20120810.UntagResource"
_TAGGING: Final = frozenset(
    {_TAG_RESOURCE, _UNTAG_RESOURCE, "DynamoDB_20120810.ListTagsOfResource"}
)
"""The operations answered here from the table store: DynamoDB Local has none of them."""

_LIST_CONTRIBUTOR_INSIGHTS: Final = "DynamoDB_20120810.ListContributorInsights"
_DESCRIBE_ENDPOINTS: Final = "DynamoDB_20120810.DescribeEndpoints"

_COPYING: Final = frozenset(
    "DynamoDB_20120810." + operation for operation in BACKUP_OPERATIONS | EXPORT_OPERATIONS
)
"""
Backups, restores, exports and imports: made here by copying items
through DynamoDB Local (L{Backups}, L{Exports}).
"""

_DESCRIBE_CONTINUOUS_BACKUPS: Final = "DynamoDB_20120810.DescribeContinuousBackups"
_UPDATE_CONTINUOUS_BACKUPS: Final = "DynamoDB_20120810.UpdateContinuousBackups"
_CONTINUOUS_BACKUPS: Final = frozenset({_DESCRIBE_CONTINUOUS_BACKUPS, _UPDATE_CONTINUOUS_BACKUPS})
"""Answered here from the table store too: DynamoDB Local has no backups."""

_NOT_FOUND: Final = b"#ResourceNotFoundException"
#: A request's table, for the log line (names and ARNs have no quote or backslash).
_TABLE_NAME: Final = re.compile(rb'"TableName"\s*:\s*"([^"\\]+)"')

_NOT_RETURNED: Final = frozenset(
    {
        "date",
        "server",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        # The request id is the one the gateway logs.
        "x-amzn-requestid",
    }
)
"""Response headers not passed back: hop-by-hop ones, and those set here or by the gateway."""

_NOT_RETURNED_REWRITTEN: Final = _NOT_RETURNED | {"x-amz-crc32"}
"""Those not passed back with a rewritten body, whose checksum is computed here."""


def _local_target(request: HttpRequest) -> bytes:
    """Where ``request`` goes on DynamoDB Local: the same path and query."""
    if not request.query:
        return wire_bytes(request.path)
    query = urlencode(request.query, encoding="utf-8", errors="surrogateescape")
    return wire_bytes(f"{request.path}?{query}")


class LoopbackClient(Protocol):
    """What the proxy sends requests to DynamoDB Local with: a L{LoopbackPool}."""

    def request(
        self,
        port: int,
        method: bytes,
        target: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> Awaitable[LoopbackResponse]: ...


def _error(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(ERROR_TYPE_PREFIX + code, message, status=status, sender_fault=False)


def named_by_arn(
    target: str, body: bytes, context: RequestContext
) -> tuple[bytes, dict[bytes, bytes]]:
    """
    ``body`` with the tables it names by ARN named by name, and those ARNs
    (see L{awsemu.dynamodb.names}); L{ServiceError} for another's table.
    """
    if ARN_MARK not in body:
        return body, {}
    return to_names(target, body, context)


def _described_table(response: HttpResponse, member: str) -> tuple[str, float]:
    """
    The ARN and creation time of the table a successful response describes
    in ``member`` (C{TableDescription} or, for C{DescribeTable}, C{Table}).
    """
    table = json.loads(cast(bytes, response.body))[member]
    return table["TableArn"], table["CreationDateTime"]


def note_table(context: RequestContext, body: bytes) -> None:
    """Name the table of a request with ``body`` in its log line, if it names one."""
    named = _TABLE_NAME.search(body)
    if named is not None:
        context.resource = named.group(1).decode()


def reworded(target: str, response: HttpResponse, name: str | None) -> HttpResponse:
    """
    A forwarded request's ``response``, with its error as AWS words it (if
    it does otherwise), for a request naming table ``name`` (see L{note_table}).
    """
    if response.status >= 400 and target in REWORDED:
        return with_body(response, reword(target, cast(bytes, response.body), name))
    return response


def _missing_table(name: Any) -> ServiceError:
    """AWS's error for a table that does not exist (see L{awsemu.dynamodb.errors})."""
    return client_error(
        "ResourceNotFoundException", f"Requested resource not found: Table: {name} not found"
    )


def _endpoints(request: HttpRequest) -> dict[str, Any]:
    """
    C{DescribeEndpoints}' answer: the address the request came to, so that
    an SDK doing endpoint discovery stays on awsemu (AWS answers its own
    regional endpoint), cached as long as AWS says (1440 minutes).
    """
    address = request.headers.get("host") or "localhost"
    return {"Endpoints": [{"Address": address, "CachePeriodInMinutes": 1440}]}


def _answer(context: RequestContext, document: dict[str, Any]) -> HttpResponse:
    """A 200 answered here rather than by DynamoDB Local, framed as DynamoDB frames it."""
    body = json.dumps(document, separators=(",", ":")).encode()
    return HttpResponse(
        200,
        [
            ("x-amzn-RequestId", context.request_id),
            ("Content-Type", JSON_CONTENT_TYPE),
            ("x-amz-crc32", str(zlib.crc32(body))),
        ],
        body,
    )


def _tag_keys(keys: Any) -> list[str]:
    """An C{UntagResource}'s C{TagKeys}, if they are a list of strings."""
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise client_error(
            "ValidationException",
            "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint:"
            " Member must be a list of strings",
        )
    return keys


@attrs.define
class DynamoDBProxy:
    """
    The DynamoDB service as the gateway sees it: every request but the
    tagging ones forwarded to the DynamoDB Local that ``supervised`` runs,
    through ``client`` (a L{LoopbackPool} of persistent connections);
    what it keeps of tables (tags, point-in-time recovery) in ``tables``.

    Not treq, nor Twisted's C{Agent} under it: on the hot path of every
    DynamoDB request, the Agent alone cost about 290 µs of CPU and treq
    150 µs more, where the loopback client costs a fraction of that.
    """

    supervised: Supervised
    client: LoopbackClient
    clock: IReactorTime
    tables: TableStore = attrs.field(factory=TableStore)
    backups: BackupStore = attrs.field(factory=BackupStore)
    exports: ExportStore = attrs.field(factory=ExportStore)
    s3: ObjectStore | None = None
    """S3's provider, where tables are exported to and imported from (None: no S3)."""
    replication: Replication = attrs.field(init=False)
    """What keeps global tables' members in sync."""
    table_operations: TableOperations = attrs.field(init=False)
    ready_timeout: float = READY_TIMEOUT
    secret: str = attrs.field(factory=new_secret, kw_only=True)
    """What begins the access key id of every database (L{awsemu.dynamodb.keys})."""
    scopes: set[tuple[str, str]] = attrs.field(factory=set, init=False)
    """Each (account, region) whose database a request reached: what a reset empties."""
    _databases: dict[tuple[str, str], tuple[bytes, bytes]] = attrs.field(factory=dict, init=False)
    """
    Each (account, region) a request came from (in ``scopes`` since): the
    C{Authorization} that picks its database, and its ARNs' prefix, made
    once rather than on every request.
    """
    _log: Logger = attrs.field(factory=Logger, init=False)

    def __attrs_post_init__(self) -> None:
        reader = StreamReader(self, self.clock)
        self.replication = Replication(self._call, reader, self.tables, self.clock)
        self.table_operations = TableOperations(
            self._forward, self._call, self.tables, self.replication, self.clock
        )

    def state(self) -> ServiceState:
        return self.supervised.state()

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        target = request.headers.lowered_get("x-amz-target") or ""
        context.operation = target.rpartition(".")[2] or None
        try:
            if not target:
                # DynamoDB Local fails without one (a 500); this is its answer to an unknown one.
                raise client_error(
                    "UnknownOperationException", "An unknown operation was requested."
                )
            if target in _TAGGING:
                return await self._tagging(context, target, json_document(request.read_body()))
            if target in _CONTINUOUS_BACKUPS:
                document = json_document(request.read_body())
                return await self._continuous_backups(context, target, document)
            if target in STORED:
                document = json_document(request.read_body())
                return await self._stored(context, STORED[target], document)
            if target == _LIST_CONTRIBUTOR_INSIGHTS:
                document = json_document(request.read_body())
                return await self._list_contributor_insights(context, document)
            if target in _COPYING:
                document = json_document(request.read_body())
                return _answer(context, await self._copying(context, target, document))
            if target == _DESCRIBE_ENDPOINTS:
                return _answer(context, _endpoints(request))
            body = request.read_body()
            note_table(context, body)
            if target in DESCRIBED:
                return await self.table_operations.answer(context, target, request, body)
            refused = refusal(target, body)
            if refused is not None:
                raise refused
            response = await self._forward(context, request, body)
        except InvalidTags as e:
            return self.error_response(
                context, request, client_error("ValidationException", str(e))
            )
        except ServiceError as error:
            return self.error_response(context, request, error)
        return reworded(target, response, context.resource)

    async def _forward(
        self, context: RequestContext, request: HttpRequest, body: bytes
    ) -> HttpResponse:
        """
        DynamoDB Local's answer to ``request`` with ``body``, in the
        caller's database, with ARNs made public; L{ServiceError} if it
        cannot answer.
        """
        target = request.headers.lowered_get("x-amz-target") or ""
        body, arns = named_by_arn(target, body, context)
        port = await self._ready()
        headers, body = self.outgoing(context, request, body)
        try:
            response = await self.client.request(
                port, wire_bytes(request.method), _local_target(request), headers, body
            )
        except Exception as e:
            raise self.unanswered(request, e) from e
        return self.answer(context, request, target, response, arns)

    def outgoing(
        self, context: RequestContext, request: HttpRequest, body: bytes
    ) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """
        The headers and body of ``request`` as DynamoDB Local takes them, in
        the caller's database (tables named by ARN already named by name,
        see L{named_by_arn}).
        """
        headers = []
        for name, value in request.headers.as_sent():
            forwarded = forwarded_header(name, value)
            if forwarded is not None:
                headers.append(forwarded)
        authorization, body = self._in_database(context, body)
        headers.append((b"Authorization", authorization))
        return headers, body

    def local_request(
        self, context: RequestContext, request: HttpRequest, body: bytes, port: int
    ) -> bytes:
        """
        A C{POST} to C{/} with ``body``, rendered at once for DynamoDB Local
        on ``port``: what L{render_request} renders of L{outgoing}'s
        headers and body, for a request the gateway's own server read (whose
        header lines hold no CR or LF), in a third of the time.
        """
        lines = forwarded_lines(request.headers.as_sent())
        authorization, body = self._in_database(context, body)
        return (
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d%s"
            b"\r\nAuthorization: %s\r\n\r\n%s" % (port, len(body), lines, authorization, body)
        )

    def _in_database(self, context: RequestContext, body: bytes) -> tuple[bytes, bytes]:
        """The ``Authorization`` and body of a request in the caller's database."""
        scope = (context.account_id, context.region)
        database = self._databases.get(scope)
        if database is None:
            self.scopes.add(scope)
            database = self._databases[scope] = (
                local_authorization(context.account_id, context.region, self.secret),
                arn_prefix(context.region, context.account_id),
            )
        authorization, prefix = database
        return authorization, to_local(body, prefix)

    def unanswered(self, request: HttpRequest, e: Exception) -> ServiceError:
        """The error for a request DynamoDB Local did not answer (``e``: why), logged."""
        self._log.warn(
            "DynamoDB Local failed to answer {operation}: {e}",
            operation=request.headers.get("x-amz-target"),
            e=e,
        )
        # A 500, not the 503 of a DynamoDB Local that is not ready: the
        # request was sent, and may have been carried out.
        failed = (
            str(e)
            if isinstance(e, ResponseTimeout)
            else f"DynamoDB Local failed to answer ({type(e).__name__})"
        )
        return _error("InternalServerError", f"{failed}. Retry the request.", 500)

    def answer(
        self,
        context: RequestContext,
        request: HttpRequest,
        target: str,
        response: LoopbackResponse,
        arns: dict[bytes, bytes],
    ) -> HttpResponse:
        """
        The answer to send for DynamoDB Local's ``response`` to ``request``:
        ARNs made public, tables named by ARN named so again;
        L{ServiceError} for a request it failed on that DynamoDB refuses.
        """
        if response.status == 500:
            malformed = malformed_request(request)
            if malformed is not None:
                raise malformed
        public = to_public if response.status < 400 else error_to_public
        answer = public(response.body, context.region, context.account_id)
        if arns and response.status < 400 and target not in DESCRIBED:
            answer = to_arns(target, answer, arns)
        return self._response(context, response, answer)

    async def _tagging(
        self, context: RequestContext, target: str, document: dict[str, Any]
    ) -> HttpResponse:
        """Answer a tagging request from the table store, once the table is found."""
        arn, name = table_arn(document.get("ResourceArn"), context)
        missing = client_error(
            "ResourceNotFoundException",
            f"Requested resource not found: ResourceArn: {arn} not found",
        )
        found = await self._existing_table(context, name, missing)
        if isinstance(found, HttpResponse):
            return found
        created = found[1]
        answer: dict[str, Any] = {}
        if target == _TAG_RESOURCE:
            self.tables.tag(arn, created, parse_tags(document.get("Tags")))
        elif target == _UNTAG_RESOURCE:
            self.tables.untag(arn, created, _tag_keys(document.get("TagKeys")))
        else:
            tags = self.tables.tags(arn, created)
            answer["Tags"] = [{"Key": key, "Value": tags[key]} for key in sorted(tags)]
        return _answer(context, answer)

    async def _stored(
        self, context: RequestContext, stored: Stored, document: dict[str, Any]
    ) -> HttpResponse:
        """Answer an operation DynamoDB Local lacks from the table store, once the table exists."""
        if stored.names_table_by == "ResourceArn":
            arn, name = table_arn(document.get("ResourceArn"), context)
            missing = client_error(
                "ResourceNotFoundException",
                f"Requested resource not found: ResourceArn: {arn} not found",
            )
        else:
            name = str(document.get("TableName"))
            missing = _missing_table(name)
        found = await self._existing_table(context, name, missing)
        if isinstance(found, HttpResponse):
            return found
        arn, created = found
        now = self.clock.seconds()
        answer, settings = stored.answer(
            StoredRequest(document, name, arn, self.tables.record(arn, created), now)
        )
        if settings:
            self.tables.settle(arn, created, **settings)
        return _answer(context, answer)

    async def _list_contributor_insights(
        self, context: RequestContext, document: dict[str, Any]
    ) -> HttpResponse:
        """
        The contributor insights of one table (once it is found), or of
        every table of the caller's account and region that has some set.
        """
        name = document.get("TableName")
        if name is not None:
            found = await self._existing_table(context, name, _missing_table(name))
            if isinstance(found, HttpResponse):
                return found
            records = {found[0]: self.tables.record(*found)}
        else:
            prefix = arn_prefix(context.region, context.account_id).decode() + "table/"
            records = {
                arn: record for arn, record in self.tables.tables.items() if arn.startswith(prefix)
            }
        summaries = [
            summary
            for arn in sorted(records)
            for summary in contributor_insights_summaries(arn.rpartition("table/")[2], records[arn])
        ]
        return _answer(context, {"ContributorInsightsSummaries": summaries})

    async def _continuous_backups(
        self, context: RequestContext, target: str, document: dict[str, Any]
    ) -> HttpResponse:
        """
        Answer C{DescribeContinuousBackups} or C{UpdateContinuousBackups}
        from the table store, once the table is found. Backups themselves
        are not made: the settings are kept so that what set them reads
        them back, as Terraform does on every plan.
        """
        name = document.get("TableName")
        missing = client_error("TableNotFoundException", f"Table not found: {name}")
        found = await self._existing_table(context, name, missing)
        if isinstance(found, HttpResponse):
            return found
        arn, created = found
        now = self.clock.seconds()
        recovery = self.tables.recovery(arn, created)
        if target == _UPDATE_CONTINUOUS_BACKUPS:
            enabled, days = recovery_specification(document)
            since = now if recovery is None else recovery["Since"]
            recovery = Recovery(Since=since, Days=days) if enabled else None
            self.tables.recover(arn, created, recovery)
        return _answer(
            context,
            {
                "ContinuousBackupsDescription": {
                    "ContinuousBackupsStatus": "ENABLED",
                    "PointInTimeRecoveryDescription": recovery_description(recovery, now),
                }
            },
        )

    async def _copying(
        self, context: RequestContext, target: str, document: dict[str, Any]
    ) -> dict[str, Any]:
        """The answer to a backup, restore, export or import."""
        call = functools.partial(self._call, context)
        operation = target.rpartition(".")[2]
        if operation in BACKUP_OPERATIONS:
            backups = Backups(self.backups, self.tables, self.clock)
            return await backups.answer(operation, context, call, document)
        exports = Exports(self.exports, self.tables, self.s3, self.clock)
        return await exports.answer(operation, context, call, document)

    async def _call(
        self, context: RequestContext, operation: str, document: dict[str, Any]
    ) -> dict[str, Any]:
        """DynamoDB Local's answer to ``operation`` in the caller's database, or its error."""
        request = own_request(operation, document)
        response = await self._forward(context, request, request.read_body())
        answer: dict[str, Any] = json.loads(cast(bytes, response.body))
        if response.status != 200:
            code = str(answer.get("__type", "")).rpartition("#")[2]
            message = answer.get("Message", answer.get("message", ""))
            raise ServiceError(ERROR_TYPE_PREFIX + code, message, status=response.status)
        return answer

    async def _existing_table(
        self, context: RequestContext, name: Any, missing: ServiceError
    ) -> tuple[str, float] | HttpResponse:
        """
        The ARN and creation time of the caller's table ``name``, from a
        C{DescribeTable} forwarded to DynamoDB Local; ``missing`` raised if
        it has no such table, and any other error it answers passed on.
        """
        describe = describe_table(name)
        described = await self._forward(context, describe, describe.read_body())
        if described.status == 200:
            return _described_table(described, "Table")
        if _NOT_FOUND in cast(bytes, described.body):
            raise missing
        return described

    async def reset(self) -> None:
        """
        Delete every table of every database requests reached, and what is
        kept of them, their backups, exports and imports included.
        """
        for account_id, region in sorted(self.scopes):
            for name in await self._table_names(account_id, region):
                await self._local_call(account_id, region, "DeleteTable", {"TableName": name})
        self.tables.tables.clear()
        self.tables.save()
        for arn in list(self.backups.backups):
            self.backups.remove(arn)
        self.exports.exports.clear()
        self.exports.imports.clear()
        self.exports.save()

    async def inventory(self) -> list[tuple[str, str, str, str]]:
        """Every table of every database requests reached."""
        return [
            (account_id, region, "tables", name)
            for account_id, region in sorted(self.scopes)
            for name in await self._table_names(account_id, region)
        ]

    async def _table_names(self, account_id: str, region: str) -> list[str]:
        """Every table of ``account_id`` in ``region``, following ListTables' pages."""
        names: list[str] = []
        document: dict[str, Any] = {}
        while True:
            page = await self._local_call(account_id, region, "ListTables", document)
            names += page.get("TableNames", [])
            last = page.get("LastEvaluatedTableName")
            if last is None:
                return names
            document = {"ExclusiveStartTableName": last}

    async def _local_call(
        self, account_id: str, region: str, operation: str, document: dict[str, Any]
    ) -> dict[str, Any]:
        """DynamoDB Local's answer to one of the daemon's own calls in that database."""
        port = await self._ready()
        headers = [
            (b"X-Amz-Target", f"DynamoDB_20120810.{operation}".encode()),
            (b"Content-Type", JSON_CONTENT_TYPE.encode()),
            (b"Authorization", local_authorization(account_id, region, self.secret)),
        ]
        response = await self.client.request(
            port, b"POST", b"/", headers, json.dumps(document).encode()
        )
        answer: dict[str, Any] = json.loads(response.body)
        if response.status != 200:
            refused = f"DynamoDB Local refused {operation}: {answer}"
            raise _error("InternalServerError", refused, 500)
        return answer

    async def _ready(self) -> int:
        """The port of DynamoDB Local, once it answers, within ``ready_timeout``."""
        waiting = self.supervised.whenReady()
        if not waiting.called:
            waiting.addTimeout(self.ready_timeout, self.clock)
        try:
            return await waiting
        except CannotRun as e:
            raise _error("InternalServerError", str(e), 500) from e
        except (CancelledError, ReadyTimeout) as e:
            reason = self.supervised.state().reason
            raise _error(
                "ServiceUnavailable",
                "DynamoDB Local is not ready"
                + (f": {reason}" if reason else "")
                + ". Retry the request.",
                503,
            ) from e

    def _response(
        self, context: RequestContext, response: LoopbackResponse, body: bytes
    ) -> HttpResponse:
        """
        The response to send: DynamoDB Local's, with ``body`` for its own,
        and a checksum of ``body`` if it differs.
        """
        rewritten = body is not response.body
        dropped = _NOT_RETURNED_REWRITTEN if rewritten else _NOT_RETURNED
        headers = [("x-amzn-RequestId", context.request_id)]
        headers += [
            (name, value) for name, value in response.headers if name.lower() not in dropped
        ]
        if rewritten:
            headers.append(("x-amz-crc32", str(zlib.crc32(body))))
        return HttpResponse(response.status, headers, body)

    def error_response(
        self, context: RequestContext, request: HttpRequest, error: ServiceError
    ) -> HttpResponse:
        return codec_for("dynamodb").serialize_error(error, None, context.request_id)


def list_tables_probe(client: LoopbackClient) -> Callable[[int], Deferred[bool]]:
    """
    A readiness probe: whether a ListTables on the port succeeds (in a
    database without the secret, which no request reaches).
    """
    headers = [
        (b"X-Amz-Target", b"DynamoDB_20120810.ListTables"),
        (b"Content-Type", JSON_CONTENT_TYPE.encode()),
        (b"Authorization", local_authorization(DEFAULT_ACCOUNT_ID, "us-east-1", "")),
    ]

    async def probe(port: int) -> bool:
        try:
            response = await client.request(port, b"POST", b"/", headers, b"{}")
        except Exception:
            return False
        return response.status == 200

    return lambda port: Deferred.fromCoroutine(probe(port))
