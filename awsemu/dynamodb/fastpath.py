"""
DynamoDB's item operations on a path of plain callbacks.

Most requests an application sends DynamoDB read and write items, and the
proxy passes those to DynamoDB Local as they are: no answer of theirs is
parsed, and only the ARNs it names are rewritten (L{DynamoDBProxy.answer}).
On the generic path such a request goes through five coroutines and the
Deferreds between them (the server's, the gateway's, the proxy's
C{handle}, C{_forward} and the loopback client's C{request}); this path is
one chain of callbacks on the loopback connection's Deferred, from the
gateway (L{awsemu.gateway.app.Gateway.respond_fast}) to the socket. It
takes only what the generic path would forward unchanged: item
operations, a C{POST} to C{/}, DynamoDB Local running. The rest of the
work is the proxy's own methods, so both paths answer alike (table ARNs,
each account's and region's database, malformed bodies, AWS's wording of
errors); the gateway still routes, authenticates and logs the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Protocol, cast

import attrs
from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure

from awsemu.dynamodb.loopback import LoopbackResponse
from awsemu.dynamodb.proxy import DynamoDBProxy, named_by_arn, note_table, reworded
from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse

_TARGET: Final = "DynamoDB_20120810."

ITEM_OPERATIONS: Final = frozenset(
    _TARGET + operation
    for operation in (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    )
)
"""
The operations taken here: those the proxy forwards without looking into
them (see L{DynamoDBProxy.handle}), but ``ExecuteStatement`` and its
kin, which are rarer and one of which is checked before it is forwarded.
"""


class Sender(Protocol):
    """What sends requests to DynamoDB Local without a coroutine: a L{LoopbackPool}."""

    def send(
        self,
        port: int,
        method: bytes,
        target: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> Deferred[LoopbackResponse]: ...


@attrs.frozen
class ItemFastPath:
    """
    The fast path of ``proxy``'s item operations (a backend's ``fast_path``,
    see L{awsemu.gateway.services.FastPath}), sent through ``sender``.
    """

    proxy: DynamoDBProxy
    sender: Sender

    def takes(self, request: HttpRequest) -> bool:
        """Whether ``request`` is answered here: an item operation while DynamoDB Local runs."""
        return (
            request.headers.lowered_get("x-amz-target") in ITEM_OPERATIONS
            and request.method == "POST"
            and request.path == "/"
            and not request.query
            and self.proxy.supervised.ready_port() is not None
        )

    def answer(self, context: RequestContext, request: HttpRequest) -> Deferred[HttpResponse]:
        """The answer to ``request``, which L{takes} took; as L{DynamoDBProxy.handle}'s."""
        proxy = self.proxy
        target = cast(str, request.headers.lowered_get("x-amz-target"))
        context.operation = target[len(_TARGET) :]
        body = request.read_body()
        note_table(context, body)
        port = cast(int, proxy.supervised.ready_port())
        try:
            body, arns = named_by_arn(target, body, context)
        except ServiceError as error:
            return succeed(proxy.error_response(context, request, error))
        headers, body = proxy.outgoing(context, request, body)
        try:
            sent = self.sender.send(port, b"POST", b"/", headers, body)
        except Exception:
            sent = fail()
        return sent.addCallbacks(
            self._answered,
            self._unanswered,
            callbackArgs=(context, request, target, arns),
            errbackArgs=(context, request),
        )

    def _answered(
        self,
        response: LoopbackResponse,
        context: RequestContext,
        request: HttpRequest,
        target: str,
        arns: dict[bytes, bytes],
    ) -> HttpResponse:
        try:
            answer = self.proxy.answer(context, request, target, response, arns)
        except ServiceError as error:
            return self.proxy.error_response(context, request, error)
        return reworded(target, answer)

    def _unanswered(
        self, failure: Failure, context: RequestContext, request: HttpRequest
    ) -> HttpResponse:
        failure.trap(Exception)
        error = self.proxy.unanswered(request, cast(Exception, failure.value))
        return self.proxy.error_response(context, request, error)
