"""
Writing to a TCP connection at once, rather than on the reactor's next turn.

Twisted's TCP transport never sends inside C{write}: it queues the bytes,
asks the reactor to watch the socket for writability, and on the next turn
sends them and stops watching. For a small request on a loopback
connection that is a whole reactor iteration and two C{epoll_ctl} calls
per write, for bytes the kernel would have taken at once: 15 to 20 µs of
CPU on each request the DynamoDB proxy forwards (measured with
C{bench/dynamodb.py}, in the daemon and in its loopback client alone).

L{write_now} sends what the socket takes right away, when nothing is queued
before it (so bytes never overtake earlier ones), and leaves the rest, or
everything in any doubt, to C{transport.write} as usual. Any protocol on a
plain TCP transport may use it: the gateway's server could for its responses.
"""

from __future__ import annotations

from twisted.internet.interfaces import ITransport
from twisted.internet.tcp import Connection


def write_now(transport: ITransport, data: bytes) -> None:
    """
    Write ``data`` to ``transport``, sending at once as much as its socket
    takes if nothing is queued yet.

    Anything but an open, plain (not TLS) TCP connection with an empty
    buffer (a test's C{StringTransport}, a closing connection) gets a plain
    C{write}. So does whatever the socket did not take (a partial send, or
    none on C{EAGAIN}); and a send that found the connection lost writes all
    of ``data`` as usual, for Twisted to find and report the loss itself.
    """
    if (
        isinstance(transport, Connection)
        and transport.connected
        and not transport.disconnecting
        and not transport.TLS
        and not transport.dataBuffer
        and not transport._tempDataBuffer
    ):
        sent = transport.writeSomeData(data)
        if isinstance(sent, int):
            if sent == len(data):
                return
            data = data[sent:]
    transport.write(data)
