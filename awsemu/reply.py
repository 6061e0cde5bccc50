"""
Where a result goes once it is known: the fast path's plain callbacks.

A request on the gateway's fast path (DynamoDB's item operations, see
L{awsemu.dynamodb.fastpath}) passes four layers on its way back: DynamoDB
Local's connection, the item operations, the gateway and its server. A
Deferred with a callback for each cost a GetItem 4 to 5 µs of its 32
(measured in process, C{bench/inprocess.py dynamodb}: creating it, adding
the callbacks, running them). Instead, each layer gives the one below a
L{Reply} of its own, which does its step and passes the result on to the
one it was given, in plain calls.

A L{Deferred} is a L{Reply}, so a caller that wants a Deferred (a test,
the generic path) passes one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from twisted.python.failure import Failure

_ResultT_contra = TypeVar("_ResultT_contra", contravariant=True)


class Reply(Protocol[_ResultT_contra]):
    """
    Takes a result with ``callback``, or why there is none with
    ``errback``: one of the two, once. Neither raises: a reply that fails
    at its own step passes the failure on.
    """

    def callback(self, result: _ResultT_contra) -> object:
        """The result."""

    def errback(self, fail: Failure) -> object:
        """Why there is no result."""


_ResultT = TypeVar("_ResultT")


def pass_on(reply: Reply[_ResultT], step: Callable[..., _ResultT], *arguments: object) -> None:
    """Give ``reply`` what ``step(*arguments)`` returns, or the failure it raises."""
    try:
        result = step(*arguments)
    except Exception:
        reply.errback(Failure())
        return
    reply.callback(result)
