"""
DynamoDB's item operations on a path of plain callbacks.

Most requests an application sends DynamoDB read and write items, and the
proxy passes those to DynamoDB Local as they are: no answer of theirs is
parsed, and only the ARNs it names are rewritten (L{DynamoDBProxy.answer}).
On the generic path such a request goes through a chain of coroutines
(the server's, the gateway's, the proxy's C{handle} and C{_forward}, the
loopback client's C{request}) run by C{Deferred.fromCoroutine}; this path
is plain callbacks (L{awsemu.reply}), from DynamoDB Local's connection
through the gateway (L{awsemu.gateway.app.Gateway.respond_fast}) to the
socket. It
takes only what the generic path would forward unchanged: item
operations, a C{POST} to C{/}, DynamoDB Local running. The rest of the
work is the proxy's own methods, so both paths answer alike (table ARNs,
each account's and region's database, malformed bodies, AWS's wording of
errors); the gateway still routes, authenticates and logs the request.

Two steps are done here in less time than the generic path takes: the
request to DynamoDB Local is rendered in one pass (L{DynamoDBProxy.local_request}),
and an answer with nothing to rewrite keeps DynamoDB Local's header lines
(L{_passed_headers}), which the loopback client's parser reads without
making a list of headers. Measured in process (C{bench/inprocess.py
dynamodb} against C{dynamodb-generic}), a GetItem's Python work is 27
to 28 µs this way against 41 to 42: what is left is spread over a dozen
steps of 1 to 4 µs each (see C{bench/README.rst}, "DynamoDB fast path",
"Log lines held" and "Plain callbacks").
"""

from __future__ import annotations

import re
from typing import Final, Protocol, cast

import attrs
from twisted.python.failure import Failure

from awsemu.dynamodb.errors import ITEM_OPERATIONS
from awsemu.dynamodb.loopback import LoopbackResponse
from awsemu.dynamodb.proxy import DynamoDBProxy, named_by_arn, note_table, reworded
from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.reply import Passing, Reply

_TARGET: Final = "DynamoDB_20120810."


class Sender(Protocol):
    """What sends requests to DynamoDB Local without a coroutine: a L{LoopbackPool}."""

    def send_to(self, port: int, data: bytes, reply: Reply[LoopbackResponse]) -> None:
        """Send the C{POST} ``data`` renders; DynamoDB Local's response goes to ``reply``."""


_PASSED: Final = re.compile(
    rb"\n(?!(?i:date|server|content-length|connection|keep-alive|transfer-encoding"
    rb"|x-amzn-requestid):)([^\r\n]*+\r)"
)
"""
A line of DynamoDB Local's head that is passed on, in the head after an
LF: one of a header the proxy returns (but those in L{awsemu.dynamodb.proxy}'s
C{_NOT_RETURNED}), up to its CR.
"""


def _passed_headers(response: LoopbackResponse) -> bytes | None:
    """
    The header lines of DynamoDB Local's ``response`` to pass on as they
    are, when its answer needs nothing rewritten: a success with no ARN of
    DynamoDB Local's in its body (so its ``x-amz-crc32`` holds). None for
    any other answer, and for lines holding a lone CR or LF (which the
    gateway would not write; the parser has looked for them). The lines
    kept are found after each LF and put back together, a quarter faster
    than removing the others, which are more. Measured in process: 0.8 µs
    where the generic answer and its head's rendering take 4 to 7.
    """
    if (
        response.status >= 400
        or not response.plain
        or not response.head
        or b"ddblocal" in response.body
    ):
        return None
    passed = _PASSED.findall(b"\n" + response.head)
    return b"\n".join(passed) + b"\n" if passed else b""


@attrs.frozen
class ItemFastPath:
    """
    The fast path of ``proxy``'s item operations (a backend's ``fast_path``,
    see L{awsemu.gateway.services.FastPath}), sent through ``sender``.
    """

    proxy: DynamoDBProxy
    sender: Sender

    def takes(self, request: HttpRequest) -> bool:
        """
        Whether ``request`` is answered here: an item operation while
        DynamoDB Local runs. Those are what the proxy forwards without
        looking into them (see L{DynamoDBProxy.handle}), but
        ``ExecuteStatement`` and its kin, which are rarer and one of which
        is checked before it is forwarded.
        """
        return (
            request.headers.lowered_get("x-amz-target") in ITEM_OPERATIONS
            and request.method == "POST"
            and request.path == "/"
            and not request.query
            and self.proxy.supervised.ready_port() is not None
        )

    def answer(
        self, context: RequestContext, request: HttpRequest, reply: Reply[HttpResponse]
    ) -> None:
        """
        Answer ``request``, which L{takes} took, to ``reply``: as
        L{DynamoDBProxy.handle} answers it.
        """
        proxy = self.proxy
        target = cast(str, request.headers.lowered_get("x-amz-target"))
        context.operation = target[len(_TARGET) :]
        body = request.read_body()
        note_table(context, body)
        port = cast(int, proxy.supervised.ready_port())
        try:
            body, arns = named_by_arn(target, body, context)
        except ServiceError as error:
            reply.callback(proxy.error_response(context, request, error))
            return
        data = proxy.local_request(context, request, body, port)
        call = _Call(proxy, context, request, target, arns, reply)
        try:
            self.sender.send_to(port, data, call)
        except Exception:
            call.errback(Failure())


@attrs.define(eq=False)
class _Call(Passing[LoopbackResponse, HttpResponse]):
    """
    An item request sent to DynamoDB Local: its answer, from DynamoDB
    Local's response or its failure to answer, goes on to ``reply``.
    """

    proxy: DynamoDBProxy
    context: RequestContext
    request: HttpRequest
    target: str
    arns: dict[bytes, bytes]
    reply: Reply[HttpResponse]

    def step(self, response: LoopbackResponse) -> HttpResponse:
        context = self.context
        passed = _passed_headers(response) if not self.arns else None
        if passed is not None:
            headers = [("x-amzn-RequestId", context.request_id)]
            return HttpResponse(response.status, headers, response.body, passed_headers=passed)
        try:
            answer = self.proxy.answer(context, self.request, self.target, response, self.arns)
        except ServiceError as error:
            return self.proxy.error_response(context, self.request, error)
        return reworded(self.target, answer, context.resource)

    def failed(self, fail: Failure) -> HttpResponse:
        """DynamoDB Local did not answer: the proxy's error, as the generic path gives it."""
        fail.trap(Exception)
        error = self.proxy.unanswered(self.request, cast(Exception, fail.value))
        return self.proxy.error_response(self.context, self.request, error)
