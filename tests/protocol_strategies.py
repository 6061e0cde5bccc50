"""
Hypothesis strategies and adapters for round-tripping the protocol layer
through botocore itself.

The acceptance test of ``awsemu.protocol`` does not trust a hand-written
notion of "the wire": botocore's own serializer builds every request and
botocore's own parser reads every response, so the codec is held to what
real SDK clients send and accept. This module supplies the three pieces
that test needs:

* ``params_for``: parameters for any input, output or error shape, kept
  to what the *wire* can carry (header values are printable ASCII, XML
  text has no control characters, ...), not to AWS's validation rules,
  so that the codec is tested on everything a client may legally send.
* ``normalize``: the one place that says which differences the wire
  genuinely cannot carry (and so are not codec bugs).
* ``wire_request`` and ``parse_response``: botocore's request dict to an
  ``HttpRequest`` as an HTTP client puts it on the wire, and an
  ``HttpResponse`` back into botocore's parser as its HTTP layer would.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
from botocore.awsrequest import AWSResponse, create_request_object, prepare_request_dict
from botocore.endpoint import convert_to_response_dict
from botocore.model import OperationModel, Shape
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import strategies as st

from awsemu.protocol.http import HttpRequest, HttpResponse

#: Where the adapters pretend the emulator listens.
ENDPOINT = "http://localhost:4566"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The latest timestamp generated; AWS dates stay well inside this century.
_LAST = datetime(2100, 1, 1, tzinfo=UTC)

#: Small collections keep hundreds of operations within the time budget
#: while still exercising "none", "one" and "several".
_MAX_ITEMS = 2
_MAX_TEXT = 10


class Place(enum.Enum):
    """Where on the wire a value travels; each place limits what it can carry."""

    BODY = "a JSON, XML or form document"
    LABEL = "a URI label"
    GREEDY = "a greedy URI label ({Key+})"
    HOST = "a host-prefix label"
    HEADER = "a header value"
    HEADER_ITEM = "an item of a comma-separated header list"
    HEADERS = "a prefixed header map (x-amz-meta-*)"
    QUERY = "a query string parameter"
    PAYLOAD = "the raw HTTP body"
    STATUS = "the HTTP status code"


@attrs.frozen
class Wire:
    """
    A protocol and a direction: together they decide how a body is
    encoded (a request in the ``query`` protocol is a form, its response
    XML), and botocore writes timestamps with different precision on the
    way out than servers do on the way back.
    """

    protocol: str
    request: bool

    @property
    def xml(self) -> bool:
        """Whether bodies in this direction are XML documents."""
        return self.protocol == "rest-xml" or (self.protocol == "query" and not self.request)

    @property
    def rest(self) -> bool:
        """Whether members may live outside the body (URI, headers, status)."""
        return self.protocol.startswith("rest-")


def _characters(*, xml: bool) -> st.SearchStrategy[str]:
    """
    Text a document can carry. UTF-8 cannot encode lone surrogates; XML 1.0
    cannot carry control characters other than tab and newline (a carriage
    return is normalised to a newline by every parser) nor U+FFFE/U+FFFF.
    """
    if xml:
        return st.characters(
            exclude_categories=["Cs", "Cc"],
            exclude_characters="\ufffe\uffff",
        ) | st.sampled_from("\t\n")
    return st.characters(exclude_categories=["Cs"])


_PRINTABLE_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)

_TEXT: dict[Place, st.SearchStrategy[str]] = {
    # Labels are percent-encoded, so anything printable goes; they must not
    # be empty or the path would lose a segment.
    Place.LABEL: st.text(
        st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=_MAX_TEXT
    ),
    # Greedy labels keep their slashes: "a//b/", "/x" and "x/" are all keys.
    Place.GREEDY: st.text(
        st.sampled_from("/") | st.characters(exclude_categories=["Cs", "Cc"]),
        min_size=1,
        max_size=_MAX_TEXT,
    ),
    # botocore only accepts [A-Za-z0-9.-] in host prefixes; a dot would
    # split the label over two DNS labels, which no template can read back.
    Place.HOST: st.text(
        st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"),
        min_size=1,
        max_size=_MAX_TEXT,
    ),
    # HTTP strips optional whitespace around header values.
    Place.HEADER: st.text(_PRINTABLE_ASCII, max_size=_MAX_TEXT).map(str.strip),
    # Items are split on commas and stripped by botocore's parser; quotes
    # are botocore's escaping and would need a parser of its own.
    Place.HEADER_ITEM: st.text(
        _PRINTABLE_ASCII.filter(lambda c: c not in ',"'), min_size=1, max_size=_MAX_TEXT
    )
    .map(str.strip)
    .filter(bool),
    Place.QUERY: st.text(_characters(xml=False), max_size=_MAX_TEXT),
    Place.PAYLOAD: st.text(_characters(xml=False), max_size=_MAX_TEXT),
}

#: The tail of a prefixed header name (``x-amz-meta-<key>``): HTTP header
#: names are case-insensitive, so only lower case survives.
_HEADER_KEY = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), min_size=1, max_size=_MAX_TEXT
)


def body_text(wire: Wire, min_size: int = 0) -> st.SearchStrategy[str]:
    """Text that a body (JSON, XML or form) in this direction can carry."""
    return st.text(_characters(xml=wire.xml), min_size=min_size, max_size=_MAX_TEXT)


def _default_timestamp_format(wire: Wire, place: Place) -> str:
    """The format botocore (and so the codec) uses where the shape names none."""
    if place in (Place.HEADER, Place.HEADER_ITEM):
        return "rfc822"
    if place in (Place.QUERY, Place.LABEL, Place.GREEDY):
        return "iso8601"
    return "iso8601" if wire.protocol in ("rest-xml", "query") else "unixtimestamp"


def timestamp_unit(shape: Shape, wire: Wire, place: Place) -> timedelta:
    """
    The precision a timestamp keeps on the wire. RFC 822 has whole seconds;
    botocore's serializer also truncates epoch timestamps and every header
    timestamp to seconds (``_convert_header_value``). ISO 8601 keeps
    fractions, and servers send milliseconds in epoch timestamps too.
    """
    fmt = shape.serialization.get("timestampFormat") or _default_timestamp_format(wire, place)
    if fmt == "rfc822" or (wire.request and (fmt == "unixtimestamp" or place is Place.HEADER)):
        return timedelta(seconds=1)
    return timedelta(milliseconds=1)


def _timestamps(unit: timedelta) -> st.SearchStrategy[datetime]:
    return st.integers(0, (_LAST - _EPOCH) // unit).map(lambda n: _EPOCH + n * unit)


def _scalar(shape: Shape, wire: Wire, place: Place) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "string":
        return _TEXT[place] if place in _TEXT else body_text(wire)
    if kind in ("integer", "long"):
        if place is Place.STATUS:
            return st.integers(200, 299)
        return st.integers(-(2**63), 2**63 - 1)
    if kind == "boolean":
        return st.booleans()
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "timestamp":
        return _timestamps(timestamp_unit(shape, wire, place))
    if kind == "blob":
        return st.binary(max_size=_MAX_TEXT)
    raise NotImplementedError(f"{shape.name}: no strategy for type {kind!r}")


@attrs.frozen
class _Walk:
    """
    The state of one descent through a shape: the wire, and the shapes
    already entered on this path, so that a recursive shape is expanded
    once and then only with its required members (and empty collections).
    """

    wire: Wire
    seen: frozenset[str] = frozenset()

    def enter(self, shape: Shape) -> tuple[_Walk, bool]:
        """The walk inside ``shape`` and whether ``shape`` recurses here."""
        return attrs.evolve(self, seen=self.seen | {shape.name}), shape.name in self.seen


def _item_place(place: Place) -> Place:
    """Where the items of a list at ``place`` travel."""
    return {Place.HEADER: Place.HEADER_ITEM, Place.QUERY: Place.QUERY}.get(place, Place.BODY)


def _entry_place(place: Place) -> Place:
    """Where the values of a map at ``place`` travel."""
    return {Place.HEADERS: Place.HEADER, Place.QUERY: Place.QUERY}.get(place, Place.BODY)


def _value(
    shape: Shape, walk: _Walk, place: Place, reserved: frozenset[str] = frozenset()
) -> st.SearchStrategy[Any]:
    """A value for ``shape`` at ``place``; ``reserved`` names query keys a query map must avoid."""
    kind = shape.type_name
    if kind not in ("structure", "list", "map"):
        return _scalar(shape, walk.wire, place)
    inner, recursive = walk.enter(shape)
    if shape.serialization.get("eventstream"):
        return st.lists(_event(shape, inner), max_size=_MAX_ITEMS)
    if kind == "structure":
        return _structure(shape, inner, lambda name: Place.BODY, recursive=recursive)
    if recursive:
        return st.just([] if kind == "list" else {})
    if kind == "list":
        item_place = _item_place(place)
        items = _carried(
            _value(shape.member, inner, item_place), shape.member, walk.wire, item_place
        )
        return st.lists(items, max_size=_MAX_ITEMS)
    value_place = _entry_place(place)
    values = _carried(_value(shape.value, inner, value_place), shape.value, walk.wire, value_place)
    if place is Place.HEADERS:
        keys = _HEADER_KEY
    elif place is Place.QUERY:
        keys = _TEXT[Place.QUERY].filter(lambda key: key and key not in reserved)
    else:
        keys = _value(shape.key, inner, Place.BODY)
    return st.dictionaries(keys, values, max_size=_MAX_ITEMS)


def _event(stream: Shape, walk: _Walk) -> st.SearchStrategy[dict[str, Any]]:
    """
    One event of an event stream, ``{EventName: members}`` as botocore
    yields it. A modeled exception ends a stream with an error rather than
    an event, so streams are generated without them. An event's payload
    member is always present: its message always has a payload, which
    botocore reads into the member even when empty.
    """
    choices = []
    for name, event in stream.members.items():
        if event.metadata.get("exception"):
            continue
        payload = [m for m, s in event.members.items() if s.serialization.get("eventpayload")]
        if payload:
            member = event.members[payload[0]]
            members = st.fixed_dictionaries(
                {
                    payload[0]: _carried(
                        _value(member, walk, Place.BODY), member, walk.wire, Place.BODY
                    )
                }
            )
        else:
            members = _structure(event, walk, lambda name: Place.BODY)
        choices.append(_tagged(name, members))
    return st.one_of(*choices)


#: Places always filled: botocore cannot build a request without its URI
#: and host labels, and every response has a status code.
_ALWAYS = frozenset({Place.LABEL, Place.GREEDY, Place.HOST, Place.STATUS})


def _structure(
    shape: Shape,
    walk: _Walk,
    place_of: Callable[[str], Place],
    *,
    recursive: bool = False,
    reserved: frozenset[str] = frozenset(),
) -> st.SearchStrategy[dict[str, Any]]:
    """
    A structure's members. Required members are always present and hold a
    value the wire can tell from a missing one; met again inside itself, a
    structure gets only its required members (which no model makes
    recursive), so that the descent ends.
    """
    if shape.is_document_type:
        raise NotImplementedError(
            f"{shape.name}: document types are not used by the emulated services"
        )
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name in wire_members(shape, walk.wire):
        member, place = shape.members[name], place_of(name)
        always = name in shape.required_members or place in _ALWAYS
        if always or not recursive:
            strategy = _value(member, walk, place, reserved)
            if always:
                required[name] = _carried(strategy, member, walk.wire, place)
            else:
                optional[name] = strategy
    if shape.is_tagged_union:
        # A union carries exactly one of its members.
        return st.one_of(
            *(
                _tagged(name, _carried(strategy, shape.members[name], walk.wire, Place.BODY))
                for name, strategy in optional.items()
            )
        )
    return st.fixed_dictionaries(required, optional=optional)


def wire_members(shape: Shape, wire: Wire) -> list[str]:
    """
    The members of ``shape`` that travel on their own: all but a
    flattened list that shares its XML element with a scalar member
    (S3's deprecated notification configurations have both ``Event`` and
    ``Events`` as ``<Event>``): the scalar stands for both.
    """
    scalars = {
        member.serialization.get("name", name)
        for name, member in shape.members.items()
        if member.type_name not in ("list", "map", "structure")
    }
    return [
        name
        for name, member in shape.members.items()
        if not (
            wire.xml
            and member.type_name == "list"
            and member.serialization.get("flattened")
            and (member.member.serialization.get("name") or member.serialization.get("name", name))
            in scalars
        )
    ]


def _carried(
    strategy: st.SearchStrategy[Any], shape: Shape, wire: Wire, place: Place
) -> st.SearchStrategy[Any]:
    """Only values the wire can tell from a missing one (see ``normalize``)."""
    return strategy.filter(lambda value: _normal(value, shape, wire, place) is not _ABSENT)


def _tagged(name: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return strategy.map(lambda value: {name: value})


def _place(
    name: str, member: Shape, shape: Shape, operation: OperationModel | None, wire: Wire
) -> Place:
    """Where a top-level member of an operation's input or output travels."""
    if not wire.rest:
        return Place.BODY
    serialization = member.serialization
    if serialization.get("hostLabel"):
        return Place.HOST
    location = serialization.get("location")
    if location == "uri":
        label = serialization.get("name", name)
        greedy = operation is not None and f"{{{label}+}}" in operation.http["requestUri"]
        return Place.GREEDY if greedy else Place.LABEL
    if location is None:
        return Place.PAYLOAD if shape.serialization.get("payload") == name else Place.BODY
    return {
        "header": Place.HEADER,
        "headers": Place.HEADERS,
        "querystring": Place.QUERY,
        "statusCode": Place.STATUS,
    }[location]


def _query_keys(operation: OperationModel) -> frozenset[str]:
    """Every query key an operation's request uses besides its query map."""
    literal = {
        key
        for key, _ in parse_qsl(
            operation.http["requestUri"].partition("?")[2], keep_blank_values=True
        )
    }
    members = operation.input_shape.members if operation.input_shape is not None else {}
    named = {
        member.serialization.get("name", name)
        for name, member in members.items()
        if member.serialization.get("location") == "querystring" and member.type_name != "map"
    }
    return frozenset(literal | named)


def _content_length_member(shape: Shape) -> str | None:
    """The member bound to the ``Content-Length`` header, if the shape also has a payload."""
    if shape.serialization.get("payload") is None:
        return None
    for name, member in shape.members.items():
        if (
            member.serialization.get("location") == "header"
            and member.serialization.get("name", "").lower() == "content-length"
        ):
            return str(name)
    return None


def params_for(
    shape: Shape | None, wire: Wire, operation: OperationModel | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """
    Parameters (or an output, or an error's members) for the top-level
    ``shape`` of ``operation``, in botocore's Python form.

    Required members are always present, optional ones sometimes; members
    bound to the URI, the host or the status code are always present too,
    since botocore cannot build a request without them and every response
    has a status. Members that do not travel on their own are left out
    (``wire_members``).

    A member bound to ``Content-Length`` beside a payload always equals the
    payload's length: HTTP framing carries exactly one such number, and
    clients and servers always send it.
    """
    if shape is None:
        return st.just({})
    reserved = _query_keys(operation) if operation is not None and wire.request else frozenset()
    strategy = _structure(
        shape,
        _Walk(wire),
        lambda name: _place(name, shape.members[name], shape, operation, wire),
        reserved=reserved,
    )
    length_member = _content_length_member(shape)
    if length_member is None:
        return strategy
    payload = shape.serialization["payload"]
    return strategy.map(lambda params: {**params, length_member: len(params.get(payload, b""))})


def input_params(operation: OperationModel) -> st.SearchStrategy[dict[str, Any]]:
    """Parameters a client may pass to ``operation``."""
    return params_for(
        operation.input_shape, Wire(operation.metadata["protocol"], request=True), operation
    )


def output_params(operation: OperationModel) -> st.SearchStrategy[dict[str, Any]]:
    """An output a provider may return from ``operation``."""
    return params_for(
        operation.output_shape, Wire(operation.metadata["protocol"], request=False), operation
    )


# Normalization ------------------------------------------------------------

#: A member whose value the wire cannot tell from a missing one.
_ABSENT = object()


def normalize(
    params: Mapping[str, Any],
    shape: Shape | None,
    wire: Wire,
    operation: OperationModel | None = None,
) -> dict[str, Any]:
    """
    ``params`` in a form where every difference left is a codec bug.

    * Streaming bodies (file objects) are read to bytes; event streams to
      their list of events, an empty one standing for none.
    * Timestamps become whole multiples of their wire precision since the
      epoch (``timestamp_unit``); a naive datetime fails here on purpose.
    * Empty values are dropped where the wire cannot tell them from absent
      ones:

      - REST header, header-map and query members: botocore writes nothing
        for an empty list or map;
      - REST payload members: an empty body stands for an absent payload
        and for an empty blob, string or structure alike (botocore sends
        ``{}`` for an absent rest-json payload and parses an empty rest-xml
        body into ``{}``);
      - ``query`` requests: an empty structure or map writes no field at
        all (an empty list is written as ``Name=`` and must survive);
      - XML bodies: an empty flattened list or map has no element.

    Members that do not travel on their own (``wire_members``) are dropped.
    Keys the shape does not know are kept as they are, so that anything
    extra a codec returns shows up in the comparison.
    """
    if shape is None:
        return dict(params)
    return _members(
        params, shape, wire, lambda name: _place(name, shape.members[name], shape, operation, wire)
    )


def _members(
    value: Mapping[str, Any], shape: Shape, wire: Wire, place_of: Callable[[str], Place]
) -> dict[str, Any]:
    carried = wire_members(shape, wire)
    normal = {
        name: _normal(item, shape.members[name], wire, place_of(name))
        if name in shape.members
        else item
        for name, item in value.items()
        if name in carried or name not in shape.members
    }
    return {name: item for name, item in normal.items() if item is not _ABSENT}


def _normal(value: Any, shape: Shape, wire: Wire, place: Place) -> Any:
    kind = shape.type_name
    if hasattr(value, "read"):
        value = value.read()
    if shape.serialization.get("eventstream"):
        # botocore's EventStream, or the generated list: events in order.
        # botocore makes a stream of every response, so no events at all
        # is the same as no stream.
        events = [
            {name: _members(members, shape.members[name], wire, lambda _: Place.BODY)}
            for event in value
            for name, members in event.items()
        ]
        return events or _ABSENT
    if kind == "structure" and isinstance(value, Mapping):
        value = _members(value, shape, wire, lambda name: Place.BODY)
    elif kind == "list" and isinstance(value, list):
        value = [_normal(item, shape.member, wire, _item_place(place)) for item in value]
    elif kind == "map" and isinstance(value, Mapping):
        value = {
            key: _normal(item, shape.value, wire, _entry_place(place))
            for key, item in value.items()
        }
    elif kind == "timestamp" and isinstance(value, datetime):
        return (value - _EPOCH) // timestamp_unit(shape, wire, place)
    if value or not isinstance(value, bytes | str | list | dict):
        return value
    lost = (
        (place in (Place.HEADER, Place.HEADERS, Place.QUERY) and kind in ("list", "map"))
        or place is Place.PAYLOAD
        or (wire.protocol == "query" and wire.request and kind in ("structure", "map"))
        or (wire.xml and bool(shape.serialization.get("flattened")))
    )
    return _ABSENT if lost else value


# Adapters -----------------------------------------------------------------


def body_bytes(body: bytes | str | Any | None) -> bytes:
    """A request or response body, whatever botocore or the codec made it, as bytes."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes):
        return body
    return bytes(body.read())


def wire_request(operation: OperationModel, params: Mapping[str, Any]) -> HttpRequest:
    """
    The request botocore's client sends for ``params``: its serializer's
    request dict, joined to the endpoint and prepared exactly as its HTTP
    layer does (the URI's own ``?uploads`` merged with the query string,
    a ``query`` protocol form encoded into the body, ``Content-Length``).
    """
    serializer = create_serializer(operation.metadata["protocol"], include_validation=False)
    request_dict = serializer.serialize_to_request(dict(params), operation)
    prepare_request_dict(request_dict, endpoint_url=ENDPOINT)
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    target = f"{url.path}?{url.query}" if url.query else url.path
    return HttpRequest.from_uri(
        prepared.method,
        target,
        list(prepared.headers.items()),
        body_bytes(prepared.body),
        url.netloc,
    )


class _RawBody(BytesIO):
    """The urllib3 response body botocore reads from: ``stream()`` and ``read()``."""

    def stream(self) -> Iterator[bytes]:
        yield self.read()


def botocore_response(
    operation: OperationModel, response: HttpResponse, *, head: bool = False
) -> dict[str, Any]:
    """
    ``response`` as botocore's HTTP layer hands it to the parser: repeated
    headers joined (as urllib3 does), a streaming body wrapped in a
    ``StreamingBody`` that checks ``Content-Length``, and no body at all
    for a ``HEAD`` request.
    """
    body = body_bytes(response.body)
    headers: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in response.headers:
        key = lowered.setdefault(name.lower(), name)
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raw = _RawBody(b"" if head else body)
    result: dict[str, Any] = convert_to_response_dict(
        AWSResponse(ENDPOINT, response.status, headers, raw), operation
    )
    return result


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def no_botocore_warnings() -> Iterator[None]:
    """Fail if botocore logs a warning: it does so for responses it only half understands."""
    collector = _WarningCollector()
    logger = logging.getLogger("botocore")
    logger.addHandler(collector)
    try:
        yield
    finally:
        logger.removeHandler(collector)
    if collector.messages:
        raise AssertionError(f"botocore logged warnings: {collector.messages}")


def parse_response(
    operation: OperationModel,
    response: HttpResponse,
    shape: Shape | None = None,
    *,
    head: bool = False,
) -> dict[str, Any]:
    """
    What botocore's parser makes of ``response`` for ``shape`` (by
    default the operation's output shape), ``ResponseMetadata`` included.
    """
    parser = create_parser(operation.metadata["protocol"])
    with no_botocore_warnings():
        parsed: dict[str, Any] = parser.parse(
            botocore_response(operation, response, head=head),
            operation.output_shape if shape is None else shape,
        )
    return parsed


def error_code(shape: Shape) -> str:
    """The code an error shape goes by on the wire."""
    return str(shape.metadata.get("error", {}).get("code", shape.name))


def error_status(shape: Shape) -> int:
    """The HTTP status of an error shape."""
    return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))


def message_member(shape: Shape) -> str | None:
    """The member that holds an error's message; every protocol puts it in ``Message``."""
    return next((str(name) for name in shape.members if name.lower() == "message"), None)


def wire_names(shape: Shape, members: Mapping[str, Any]) -> dict[str, Any]:
    """``members`` keyed by their wire names, as ``ServiceError.fields`` wants them."""
    return {
        shape.members[name].serialization.get("name", name): value
        for name, value in members.items()
    }


_SHOWN = re.compile(r"(.{1000}).+", re.DOTALL)


def shown(value: object) -> str:
    """``repr`` cut short enough to read in a failure message."""
    return _SHOWN.sub(r"\1...", repr(value))
