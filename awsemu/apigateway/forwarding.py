"""``HTTP_PROXY`` integrations: the call sent on to an HTTP endpoint with treq."""

from __future__ import annotations

from typing import Any

import attrs

from awsemu.protocol.http import HttpResponse

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
)
"""Headers that describe one connection, not the message: never passed along."""


@attrs.frozen
class TreqForwarder:
    """Forwards with a ``treq`` HTTP client (one per daemon, with its connection pool)."""

    client: Any

    async def forward(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpResponse:
        from twisted.web.http_headers import Headers

        sent = Headers()
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                sent.addRawHeader(name, value)
        answer = await self.client.request(method, url, headers=sent, data=body or None)
        content: bytes = await answer.content()
        received = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in answer.headers.getAllRawHeaders()
            if name.lower().decode("latin-1") not in _HOP_BY_HOP
            for value in values
        ]
        return HttpResponse(answer.code, received, content)


def treq_forwarder(reactor: Any) -> TreqForwarder:
    """A forwarder with its own connection pool on ``reactor``."""
    from treq.client import HTTPClient
    from twisted.web.client import Agent, HTTPConnectionPool

    return TreqForwarder(HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor))))
