"""
Who is on the other end of a Runtime API connection, and which processes
make up an execution environment: what lets an environment's invocations
belong to it alone, and lets stopping it end everything it started.

``AWS_LAMBDA_RUNTIME_API`` must stay a bare ``host:port`` (awslambdaric
opens ``http.client.HTTPConnection`` with it), so no secret can travel in
it, and any local process can connect to a loopback port. What the kernel
knows about the connecting socket is what tells the environment from
anyone else. Once per connection (not per request), the Runtime API asks
the kernel about the client's socket (by its exact connection, through
netlink's sock_diag, else from ``/proc/net/tcp``): its owner uid and its
inode. Then:

- When every environment has a uid of its own (the daemon runs as root and
  ``--lambda-user`` is a range; Docker containers run as such a uid), the
  uid alone identifies the environment.
- Otherwise (a daemon that is not root, whose functions run as its own user
  like every other process of that user; or functions sharing one user,
  ``root`` included) the socket's inode must be held
  by one of the environment's processes: its session (the process executor
  starts each environment in a session of its own), whose members' open
  files (``/proc/<pid>/fd``) are scanned, the runtime's own first. What
  remains is weaker: a process of the same user can still ptrace or signal
  the runtime, or read its memory; it can no longer simply take or answer
  its invocations over the socket.

The same lists of processes are what stopping an environment kills: every
process of its uid, or every process of its session, not just the runtime.
A child that leaves its session (``setsid``) escapes the session list;
under a uid of its own it cannot escape. (A cgroup would track it in both
cases, but needs a writable cgroup v2 hierarchy; the uid gives the same
guarantee to a root daemon without one.)

Cost, measured here (2 cores, about 150 processes, 250 TCP sockets), once
per connection (awslambdaric keeps its connection for the environment's
life, so about once per environment, not per invocation): the socket's
owner asked of the kernel by the exact connection (netlink sock_diag)
takes 12-15 µs, where reading ``/proc/net/tcp`` (the fallback) takes 6 ms,
the kernel walking every socket; the runtime's own fds 25 µs more; a
stranger, whose socket no runtime holds, costs the session scan, 1.3 ms.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import struct
from collections.abc import Callable, Iterable
from typing import Final

import attrs

from awsemu.config import LambdaUser

TCP_TABLE: Final = "/proc/net/tcp"
PROC: Final = "/proc"

Address = tuple[str, int]
"""An IPv4 host and port."""


def _hex_address(address: Address) -> str:
    """An address as ``/proc/net/tcp`` prints it: ``0100007F:1F90`` for 127.0.0.1:8080."""
    host, port = address
    return f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"


@attrs.frozen
class SocketOwner:
    """The owner uid and the inode of one socket, as the kernel lists them."""

    uid: int
    inode: int


def socket_owner(client: Address, server: Address) -> SocketOwner | None:
    """
    The socket connected from ``client`` to ``server`` (IPv4, in this
    network namespace), or None if the kernel does not list it (it closed):
    asked of the kernel's socket diagnostics by the exact connection, or
    read from ``/proc/net/tcp`` where netlink is unavailable.
    """
    try:
        return _diagnosed_owner(client, server)
    except OSError:
        return listed_owner(client, server)


_SOCK_DIAG_BY_FAMILY: Final = 20
_NETLINK_INET_DIAG: Final = 4
_NLM_F_REQUEST: Final = 1
_NO_COOKIE: Final = 0xFFFFFFFF


def _diagnosed_owner(client: Address, server: Address) -> SocketOwner | None:
    """
    One ``SOCK_DIAG_BY_FAMILY`` request for the socket whose local end is
    ``client`` (``struct inet_diag_req_v2``, linux/inet_diag.h); the answer's
    ``inet_diag_msg`` carries its uid and inode.
    """
    connection = (
        struct.pack(">HH", client[1], server[1])
        + socket.inet_aton(client[0]).ljust(16, b"\0")
        + socket.inet_aton(server[0]).ljust(16, b"\0")
        + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    )
    request = struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, _NO_COOKIE)
    body = request + connection
    header = struct.pack("=IHHII", 16 + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_INET_DIAG) as diag:
        diag.send(header + body)
        answer = diag.recv(65536)
    if len(answer) < 16 + 72 or struct.unpack_from("=H", answer, 4)[0] != _SOCK_DIAG_BY_FAMILY:
        return None  # NLMSG_ERROR: no such socket
    # family state timer retrans (4 bytes), id (48), expires rqueue wqueue (12), uid inode
    uid, inode = struct.unpack_from("=II", answer, 16 + 64)
    return SocketOwner(uid, inode)


def listed_owner(client: Address, server: Address, table: str = TCP_TABLE) -> SocketOwner | None:
    """``socket_owner`` from the kernel's table of TCP sockets (slow: the kernel walks them all)."""
    wanted = f" {_hex_address(client)} {_hex_address(server)} "
    with open(table) as lines:
        text = lines.read()
    start = text.find(wanted)
    if start < 0:
        return None
    fields = text[start : text.find("\n", start)].split()
    # local remote state queues timer retransmits uid timeout inode
    return SocketOwner(int(fields[6]), int(fields[8]))


def _pids() -> Iterable[int]:
    return (int(name) for name in os.listdir(PROC) if name.isdigit())


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command's name, or None if it is gone."""
    try:
        with open(f"{PROC}/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def session_members(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid``."""
    found = []
    for pid in _pids():
        fields = _stat_fields(pid)
        # state ppid pgrp session ...
        if fields is not None and fields[0] != "Z" and int(fields[3]) == sid:
            found.append(pid)
    return found


def uid_members(uid: int) -> list[int]:
    """The live (not zombie) processes running as ``uid``."""
    found = []
    for pid in _pids():
        try:
            if os.stat(f"{PROC}/{pid}").st_uid != uid:
                continue
        except OSError:
            continue
        fields = _stat_fields(pid)
        if fields is not None and fields[0] != "Z":
            found.append(pid)
    return found


def holds_socket(pid: int, inode: int) -> bool:
    """Whether process ``pid`` has the socket ``inode`` open."""
    target = f"socket:[{inode}]"
    directory = f"{PROC}/{pid}/fd"
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    for name in names:
        try:
            if os.readlink(f"{directory}/{name}") == target:
                return True
        except OSError:
            continue
    return False


def kill_all(members: Callable[[], list[int]], rounds: int = 5) -> list[int]:
    """
    SIGKILL every process ``members`` lists, again while new ones appear (a
    fork racing the kill); the processes still listed after ``rounds``.
    """
    left = members()
    for _ in range(rounds):
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        left = members()
    return left


def pick_uid(user: LambdaUser, taken: Callable[[int], bool], chance: random.Random) -> int:
    """
    A uid for a new environment: ``user``'s single one, or a random one of
    its range that ``taken`` does not reject (another environment of this
    daemon has it, or any process: another daemon may share the range).
    """
    if not user.per_environment:
        return user.first
    for _ in range(64):
        uid = chance.randint(user.first, user.last)
        if not taken(uid):
            return uid
    raise OSError(f"no free uid in {user}")


def uid_in_use(uid: int) -> bool:
    """Whether any process runs as ``uid``."""
    return bool(uid_members(uid))
