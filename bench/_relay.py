"""
The least a Twisted proxy can cost: a relay that moves each HTTP request
to a backend and its response back, doing nothing else (no header parsing
beyond the framing, no routing, no request id, no log line), on one
keep-alive connection each way, sending at once (``write_now``) as the
daemon does.

``bench/dynamodb.py`` runs it between its client and DynamoDB Local to
show, next to the daemon's CPU time per request, what two trips through
Twisted's reactor alone cost on the machine.

Usage: python bench/_relay.py BACKEND_PORT LISTEN_PORT (prints "ready" once it listens)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Factory, Protocol

from awsemu.transport import write_now


def message_end(buffer: bytes) -> int | None:
    """Where the first whole HTTP message in ``buffer`` ends (framed by Content-Length)."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    length = 0
    for line in buffer[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    end = head_end + 4 + length
    return end if len(buffer) >= end else None


class Relay(Protocol):
    """One side of the relay: each whole message it reads goes to ``peer``'s transport."""

    def __init__(self) -> None:
        self.peer: Relay | None = None
        self.buffer = b""

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        end = message_end(self.buffer)
        if end is None or self.peer is None:
            return
        message, self.buffer = self.buffer[:end], self.buffer[end:]
        write_now(self.peer.transport, message)


def main() -> None:
    backend_port, listen_port = int(sys.argv[1]), int(sys.argv[2])
    backend = Relay()

    def client_connected() -> Relay:
        client = Relay()
        client.peer, backend.peer = backend, client
        return client

    def listen(_: object) -> None:
        factory = Factory.forProtocol(client_connected)
        reactor.listenTCP(listen_port, factory, interface="127.0.0.1")  # type: ignore[attr-defined]
        print("ready", flush=True)

    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", backend_port)
    connectProtocol(endpoint, backend).addCallback(listen)
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
