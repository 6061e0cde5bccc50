"""
The last requests the gateway answered, kept for the dashboard's overview.

The gateway's ``respond()`` adds one entry per request, so adding costs
one tuple and one ``deque.append`` (the deque drops the oldest by itself);
everything else (formatting, filtering) happens when a page asks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import NamedTuple

import attrs

from awsemu.gateway.context import RequestContext


class Call(NamedTuple):
    """One answered request."""

    started: float
    """The gateway clock's reading when it arrived, in seconds."""
    service: str
    operation: str
    """The operation's name, or a data-plane call's HTTP method."""
    resource: str
    """What the gateway's log line names: the bucket and key, the function, the API and stage..."""
    status: int
    elapsed_ms: float
    account_id: str
    region: str
    request_id: str
    data_plane: bool
    """A call of a user's endpoint (a deployed stage, a function URL), not of an AWS API."""

    def document(self) -> dict[str, object]:
        """The call as the overview's live table reads it."""
        return {
            "started": self.started,
            "service": self.service,
            "operation": self.operation,
            "resource": self.resource,
            "status": self.status,
            "ms": round(self.elapsed_ms, 1),
            "account": self.account_id,
            "region": self.region,
            "id": self.request_id,
        }


@attrs.define
class RecentRequests:
    """The last ``size`` calls, oldest first."""

    size: int = 200
    _calls: deque[Call] = attrs.field(init=False)

    @_calls.default
    def _ring(self) -> deque[Call]:
        return deque(maxlen=self.size)

    def add(
        self,
        context: RequestContext,
        operation: str,
        resource: str,
        status: int,
        elapsed_ms: float,
        data_plane: bool,
    ) -> None:
        self._calls.append(
            Call(
                context.started,
                context.service,
                operation,
                resource,
                status,
                elapsed_ms,
                context.account_id,
                context.region,
                context.request_id,
                data_plane,
            )
        )

    def __iter__(self) -> Iterator[Call]:
        return iter(tuple(self._calls))

    def newest(self, count: int) -> list[Call]:
        """Up to ``count`` calls, newest first."""
        calls = list(self._calls)
        calls.reverse()
        return calls[:count]
