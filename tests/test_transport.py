"""Tests for L{awsemu.transport.write_now}, on real loopback sockets and a StringTransport."""

from __future__ import annotations

from typing import cast

from twisted.internet import reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.internet.tcp import Connection
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase, TestCase

from awsemu.transport import write_now


class Collect(Protocol):
    """Keeps what it receives; ``done`` fires with it once the connection closes."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)

    def connectionLost(self, reason: object = None) -> None:
        self.done.callback(b"".join(self.received))


class Sender(Protocol):
    """Fires ``connected`` with its transport."""

    def __init__(self) -> None:
        self.connected_: Deferred[Connection] = Deferred()
        self.lost: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        assert isinstance(self.transport, Connection)
        self.connected_.callback(self.transport)

    def connectionLost(self, reason: object = None) -> None:
        self.lost.callback(None)


class RealSocketTests(TestCase):
    """On a real TCP connection: sent at once when it can be, in order always."""

    async def connected(self) -> tuple[Connection, Collect, Sender]:
        receiver = Collect()
        serving = ServerFactory.forProtocol(lambda: receiver)
        port = reactor.listenTCP(0, serving, interface="127.0.0.1")  # type: ignore[arg-type]
        self.addCleanup(port.stopListening)
        sender = Sender()
        number = cast(IPv4Address, port.getHost()).port
        reactor.connectTCP("127.0.0.1", number, ClientFactory.forProtocol(lambda: sender))  # type: ignore[arg-type]
        transport = await sender.connected_
        return transport, receiver, sender

    async def test_sent_at_once(self) -> None:
        """A small write leaves nothing for the reactor to send later."""
        transport, receiver, sender = await self.connected()
        write_now(transport, b"hello")
        self.assertFalse(transport.dataBuffer or transport._tempDataBuffer)
        transport.loseConnection()
        self.assertEqual(await receiver.done, b"hello")
        await sender.lost

    async def test_partial_and_queued(self) -> None:
        """
        What the socket does not take is queued, and a write after it is
        queued behind it rather than sent ahead: every byte arrives, in order.
        """
        transport, receiver, sender = await self.connected()
        big = bytes(range(256)) * 40_000  # Far more than a socket buffer takes at once.
        write_now(transport, big)
        self.assertTrue(transport.dataBuffer or transport._tempDataBuffer)
        write_now(transport, b"end")
        transport.loseConnection()
        self.assertEqual(await receiver.done, big + b"end")
        await sender.lost

    async def test_closing(self) -> None:
        """
        A connection being closed is left to C{transport.write}, which still
        sends what is written before the close is carried out.
        """
        transport, receiver, sender = await self.connected()
        transport.loseConnection()
        write_now(transport, b"late")
        self.assertEqual(transport._tempDataBuffer, [b"late"])
        self.assertEqual(await receiver.done, b"late")
        await sender.lost

    async def test_peer_gone(self) -> None:
        """A send that finds the connection reset leaves its loss to Twisted to report."""
        transport, receiver, sender = await self.connected()
        receiver.transport.abortConnection()  # type: ignore[union-attr]
        await receiver.done
        for _ in range(3):  # The first sends may still be accepted by the kernel.
            write_now(transport, b"x" * 100_000)
        await sender.lost
        self.assertFalse(transport.connected)


class OtherTransportTests(SynchronousTestCase):
    def test_string_transport(self) -> None:
        """A transport that is not a TCP connection gets a plain write."""
        transport = StringTransport()
        write_now(transport, b"a")
        write_now(transport, b"b")
        self.assertEqual(transport.value(), b"ab")
