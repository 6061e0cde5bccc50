"""
Plain HTTP request and response values, independent of Twisted.

The protocol layer parses and renders these so it can be tested (and
round-tripped through botocore) without a server; the gateway converts
between them and ``twisted.web`` requests.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping
from io import BytesIO
from typing import BinaryIO, Final
from urllib.parse import parse_qsl

import attrs

REMEMBERED_LENGTH: Final = 256
"""
The longest header line (or host, or value) that parsers remember the
parse of, in characters: caches of what clients repeat must not keep
their rare large headers (a head may be 64 KiB).
"""


def wire_text(raw: bytes) -> str:
    """Header and URI bytes as text, losslessly (undecodable bytes survive a round trip)."""
    return raw.decode("utf-8", "surrogateescape")


def wire_bytes(text: str) -> bytes:
    """The bytes ``wire_text`` read ``text`` from."""
    return text.encode("utf-8", "surrogateescape")


class Headers(Mapping[str, str]):
    """
    Case-insensitive request headers; repeated headers are joined with
    ``", "`` as RFC 9110 allows, which is how AWS reads them too. The
    headers as they came, each name spelled as sent and each repeated
    value apart, stay available for what passes them on (API Gateway's
    ``headers`` and ``multiValueHeaders``).
    """

    __slots__ = ("_values", "_sent", "lowered_get")

    lowered_get: Callable[[str], str | None]
    """
    The value of the header whose lowercased name is given, or None: no
    lowercasing, and the dictionary's own C{get} (no Python call), for
    the gateway's hottest lookups.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, str] = {}
        self._sent: list[tuple[str, str]] = []
        self.lowered_get = self._values.get
        self._add((name, value, name.lower()) for name, value in pairs)

    @classmethod
    def lowered(cls, headers: Iterable[tuple[str, str, str]]) -> Headers:
        """
        The headers of (name as sent, value, name lowercased) triples: for a
        parser that has the lowercased names already (see L{lowered_get}).
        """
        made = cls.__new__(cls)
        made._values, made._sent = {}, []
        made.lowered_get = made._values.get
        made._add(headers)
        return made

    def _add(self, headers: Iterable[tuple[str, str, str]]) -> None:
        values, sent = self._values, self._sent
        for name, value, key in headers:
            sent.append((name, value))
            previous = values.get(key)
            values[key] = value if previous is None else f"{previous}, {value}"

    def as_sent(self) -> list[tuple[str, str]]:
        """The headers in the order they came, names spelled as sent, repeats apart."""
        return list(self._sent)

    def lowered_items(self) -> ItemsView[str, str]:
        """Each header as (lowercased name, joined values)."""
        return self._values.items()

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._values.get(name.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Headers({self._values!r})"


@attrs.define
class HttpRequest:
    """
    An HTTP request as the protocol layer sees it.

    ``path`` is the raw, still percent-encoded path (S3 keys may contain
    ``%2F`` and ``//``, so nothing may be decoded or normalised before the
    operation's URI template has split it). ``query`` holds the decoded
    query pairs in order, keeping blank values (``?uploads`` is
    ``("uploads", "")``). ``body`` is a readable file positioned at the
    start: large uploads are spooled to disk by ``twisted.web`` and must
    not be read into memory by anything but the operation that wants them.
    ``remote`` is the client's IP address, when known (API Gateway passes
    it to functions as ``sourceIp``).
    """

    method: str
    path: str
    query: list[tuple[str, str]] = attrs.Factory(list)
    headers: Headers = attrs.Factory(Headers)
    body: BinaryIO = attrs.Factory(BytesIO)
    host: str = ""
    remote: str = ""
    _form: dict[str, str] | None = attrs.field(default=None, init=False, repr=False, eq=False)

    @classmethod
    def from_uri(
        cls,
        method: str,
        uri: str,
        headers: Headers | Iterable[tuple[str, str]] = (),
        body: bytes | BinaryIO = b"",
        host: str = "",
        remote: str = "",
    ) -> HttpRequest:
        """Build a request from a raw request-target such as ``/b/k?uploads``."""
        path, _, query = uri.partition("?")
        return cls(
            method.upper(),
            path or "/",
            parse_qsl(query, keep_blank_values=True) if query else [],
            headers if isinstance(headers, Headers) else Headers(headers),
            BytesIO(body) if isinstance(body, bytes) else body,
            host,
            remote,
        )

    def query_value(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        for key, value in self.query:
            if key == name:
                return value
        return None

    def form(self) -> dict[str, str]:
        """
        The query parameters, and for a form-encoded POST the body's fields
        over them, as the query protocol reads them. Parsed once: routing and
        the protocol layer both ask.
        """
        if self._form is None:
            fields = dict(self.query)
            content_type = self.headers.get("content-type") or ""
            if self.method == "POST" and content_type.lower().startswith(
                "application/x-www-form-urlencoded"
            ):
                body = self.read_body().decode("utf-8", "replace")
                self.body.seek(0)
                fields.update(parse_qsl(body, keep_blank_values=True))
            self._form = fields
        return self._form

    def read_body(self) -> bytes:
        """The whole body, read once into memory (for non-streaming payloads)."""
        self.body.seek(0)
        return self.body.read()


@attrs.define
class HttpResponse:
    """
    An HTTP response to send. ``body`` is either the bytes to send or a
    readable file streamed to the client (then ``length`` gives its size,
    for ``Content-Length``). Header order is kept and names may repeat.
    """

    status: int = 200
    headers: list[tuple[str, str]] = attrs.Factory(list)
    body: bytes | BinaryIO = b""
    length: int | None = None
    passed_headers: bytes = b""
    """
    More header lines, each ending with CR LF, written after ``headers`` as
    they are: those of another server's response passed on (DynamoDB
    Local's, see ``awsemu.dynamodb.fastpath``), without ``Content-Length``,
    ``Date`` or hop-by-hop ones. ``header`` does not read them; only the
    gateway's own server writes them, the only one fast paths answer.
    """

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None
