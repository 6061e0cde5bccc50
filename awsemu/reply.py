"""
Where a result goes once it is known: the fast path's plain callbacks.

A request on the gateway's fast path (DynamoDB's item operations, see
L{awsemu.dynamodb.fastpath}) passes four layers on its way back: DynamoDB
Local's connection, the item operations, the gateway and its server. A
Deferred with a callback for each cost a GetItem 4 to 5 µs of its 32
(measured in process, C{bench/inprocess.py dynamodb}: creating it, adding
the callbacks, running them). Instead, each layer gives the one below a
L{Reply} of its own, which does its step and passes the result on to the
one it was given, in plain calls: a L{Passing} for the layers between
(the item operations, the gateway), the server's own at the end.

A L{Deferred} is a L{Reply}, so a caller that wants a Deferred (a test,
the generic path) passes one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from twisted.python.failure import Failure

_ResultT_contra = TypeVar("_ResultT_contra", contravariant=True)
_T = TypeVar("_T")
_InT = TypeVar("_InT")
_OutT = TypeVar("_OutT")


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


class Passing(ABC, Generic[_InT, _OutT]):
    """
    One layer's L{Reply}: it turns the result it is given into its own
    layer's (L{step}), or the failure (L{failed}), and passes that on to
    ``reply``; or, if its step raises, that failure.
    """

    __slots__ = ()

    reply: Reply[_OutT]

    def callback(self, result: _InT) -> None:
        self._pass_on(self.step, result)

    def errback(self, fail: Failure) -> None:
        self._pass_on(self.failed, fail)

    @abstractmethod
    def step(self, result: _InT) -> _OutT:
        """This layer's result for ``result``."""

    @abstractmethod
    def failed(self, fail: Failure) -> _OutT:
        """This layer's result when there is none from below (``fail``)."""

    def _pass_on(self, step: Callable[[_T], _OutT], value: _T) -> None:
        try:
            result = step(value)
        except Exception:
            self.reply.errback(Failure())
            return
        self.reply.callback(result)
