"""
One codec per botocore protocol: it finds the operation a request names,
parses the request into botocore's parameter form, and renders results
and errors exactly as the service's protocol lays them out.

Providers only see Python values (``str``, ``int``, ``datetime``,
``bytes``, lists, dicts) keyed by the model's member names; everything
about the wire lives here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

import attrs

from awsemu.protocol import eventstream, jsonshapes, values, xmlshapes
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.protocol.model import load_service_model
from awsemu.protocol.router import RestRouter
from awsemu.protocol.values import WireValueError

Params = dict[str, Any]


class Codec:
    """What every protocol codec offers the gateway; see the module docstring."""

    protocol: str
    #: The error code AWS uses when a parameter's value does not fit its type.
    invalid_parameter_code = "ValidationException"
    #: The error code AWS uses when a required member is missing.
    missing_parameter_code = "ValidationException"
    #: For REST protocols: operations that share a wire signature with a winner.
    shadowed: Mapping[str, str] = {}

    def __init__(self, service_model: Any) -> None:
        self.service_model = service_model
        self._error_shapes = {
            shape.metadata.get("error", {}).get("code", shape.name): shape
            for shape in service_model.error_shapes
        }

    def find_operation(self, request: HttpRequest) -> Any:
        """The ``OperationModel`` the request names; a ``ServiceError`` if none."""
        raise NotImplementedError

    def parse_request(self, operation: Any, request: HttpRequest) -> Params:
        """The operation's input parameters as botocore's client would have passed them."""
        shape = operation.input_shape
        if shape is None:
            return {}
        try:
            params = self._parse(operation, shape, request)
        except WireValueError as e:
            raise ServiceError(self.invalid_parameter_code, str(e)) from e
        except RecursionError as e:
            # A document nested deeper than Python's parsers go (json's C
            # scanner stops at the interpreter's recursion limit).
            raise ServiceError(
                self.invalid_parameter_code, "The request body is nested too deeply"
            ) from e
        missing = [name for name in shape.required_members if name not in params]
        if missing:
            raise self._missing(shape, missing)
        return params

    def _parse(self, operation: Any, shape: Any, request: HttpRequest) -> Params:
        raise NotImplementedError

    def _missing(self, shape: Any, missing: list[str]) -> ServiceError:
        details = "; ".join(
            f"Value null at '{_lower_first(shape.members[name].serialization.get('name', name))}' "
            "failed to satisfy constraint: Member must not be null"
            for name in missing
        )
        count = len(missing)
        noun = "error" if count == 1 else "errors"
        return ServiceError(
            self.missing_parameter_code, f"{count} validation {noun} detected: {details}"
        )

    def serialize_response(
        self, operation: Any, output: Mapping[str, Any], request_id: str, host_id: str = ""
    ) -> HttpResponse:
        """The HTTP response for a provider's result."""
        response = self._response(operation, output, request_id)
        response.headers[:0] = self._id_headers(request_id, host_id)
        return response

    def _response(self, operation: Any, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        raise NotImplementedError

    def _id_headers(self, request_id: str, host_id: str) -> list[tuple[str, str]]:
        """The headers that carry the request id, as this protocol's services name them."""
        return [("x-amzn-RequestId", request_id)]

    def serialize_error(
        self,
        error: ServiceError,
        operation: Any | None,
        request_id: str,
        *,
        head: bool = False,
        host_id: str = "",
    ) -> HttpResponse:
        """
        The HTTP response for ``error``, in this protocol's exact error
        shape, with the error's own headers after the protocol's.
        """
        response = self._error_response(error, request_id, host_id)
        response.headers[:0] = self._id_headers(request_id, host_id)
        response.headers.extend(error.headers)
        if head:
            response.body = b""
        return response

    def _error_response(self, error: ServiceError, request_id: str, host_id: str) -> HttpResponse:
        raise NotImplementedError

    def unknown_operation(self, request: HttpRequest) -> ServiceError:
        """The error for a request that names no operation of this service."""
        return ServiceError(
            "UnknownOperationException",
            f"Unknown operation {request.method} {request.path}",
            status=404,
        )

    def _json_error_document(self, error: ServiceError) -> dict[str, Any]:
        """An error's JSON body, laid out like the modeled error shape when there is one."""
        message_key = "message"
        document: dict[str, Any] = {}
        shape = self._error_shapes.get(error.code)
        if shape is not None:
            for name, member in shape.members.items():
                wire_name = member.serialization.get("name", name)
                if name.lower() == "message":
                    message_key = wire_name
                elif name == "Type" and member.type_name == "string":
                    document["Type"] = "User" if error.sender_fault else "Service"
        document[message_key] = error.message
        document.update(error.fields)
        return document


def _utf8_text(text: str, where: str) -> str:
    """
    ``text`` as read from the wire (``wire_text``), refused if its bytes
    were not UTF-8: what could not be decoded would fail to render later.
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise WireValueError(f"{where} is not valid UTF-8") from e
    return text


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _xml_fields(fields: Mapping[str, object]) -> str:
    return "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in fields.items())


class QueryCodec(Codec):
    """The ``query`` protocol (IAM, STS): form parameters in, ``<XResponse>`` XML out."""

    protocol = "query"
    invalid_parameter_code = "InvalidParameterValue"
    missing_parameter_code = "ValidationError"

    def __init__(self, service_model: Any) -> None:
        super().__init__(service_model)
        self._namespace = service_model.metadata.get("xmlNamespace", "")
        self._operations = set(service_model.operation_names)

    def find_operation(self, request: HttpRequest) -> Any:
        action = request.form().get("Action")
        if not action:
            raise ServiceError("MissingAction", "Missing Action")
        if action not in self._operations:
            raise ServiceError(
                "InvalidAction", f"The action {action} is not valid for this web service."
            )
        return self.service_model.operation_model(action)

    def _parse(self, operation: Any, shape: Any, request: HttpRequest) -> Params:
        fields = request.form()
        for key, value in fields.items():
            _utf8_text(value, key)
        present = set(fields)
        for key in fields:
            parts = key.split(".")
            for end in range(1, len(parts)):
                present.add(".".join(parts[:end]))
        parsed = _QueryReader(fields, present).structure(shape, "")
        return parsed

    def _response(self, operation: Any, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        name = operation.name
        out = [f'<{name}Response xmlns="{self._namespace}">']
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper")
            if wrapper:
                xmlshapes.encode_structure(shape, output, wrapper, out)
            else:
                body: list[str] = []
                xmlshapes.encode_structure(shape, output, "_", body)
                out.extend(body[1:-1])
        out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
        out.append(f"</{name}Response>")
        return HttpResponse(200, [("Content-Type", "text/xml")], "".join(out).encode())

    def _error_response(self, error: ServiceError, request_id: str, host_id: str) -> HttpResponse:
        fault = "Sender" if error.sender_fault else "Receiver"
        body = (
            f'<ErrorResponse xmlns="{self._namespace}"><Error><Type>{fault}</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
            f"{_xml_fields(error.fields)}</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return HttpResponse(
            error.status,
            [("Content-Type", "text/xml")],
            body.encode("utf-8", "replace"),
        )


class _QueryReader:
    """Reads a shape back out of flat query keys such as ``Tags.member.1.Key``."""

    def __init__(self, fields: dict[str, str], present: set[str]) -> None:
        self.fields = fields
        self.present = present

    def value(self, shape: Any, key: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            return self.structure(shape, key)
        if kind == "list":
            return self.list(shape, key)
        if kind == "map":
            return self.map(shape, key)
        try:
            return xmlshapes.decode_scalar(shape, self.fields[key])
        except WireValueError as e:
            raise WireValueError(f"{key}: {e}") from e

    def structure(self, shape: Any, prefix: str) -> Params:
        parsed: Params = {}
        for name, member in shape.members.items():
            wire_name = member.serialization.get("name", name)
            key = f"{prefix}.{wire_name}" if prefix else wire_name
            if key in self.present:
                parsed[name] = self.value(member, key)
        return parsed

    def list(self, shape: Any, key: str) -> list[Any]:
        member = shape.member
        if shape.serialization.get("flattened"):
            member_name = member.serialization.get("name")
            item_prefix = (
                key
                if member_name is None
                else f"{key.rpartition('.')[0]}.{member_name}".lstrip(".")
            )
        else:
            item_prefix = f"{key}.{member.serialization.get('name', 'member')}"
        items = []
        index = 1
        while f"{item_prefix}.{index}" in self.present:
            items.append(self.value(member, f"{item_prefix}.{index}"))
            index += 1
        return items

    def map(self, shape: Any, key: str) -> dict[Any, Any]:
        entry_prefix = key if shape.serialization.get("flattened") else f"{key}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        parsed = {}
        index = 1
        while f"{entry_prefix}.{index}" in self.present:
            entry = f"{entry_prefix}.{index}"
            map_key = self.value(shape.key, f"{entry}.{key_name}")
            parsed[map_key] = (
                self.value(shape.value, f"{entry}.{value_name}")
                if f"{entry}.{value_name}" in self.present
                else None
            )
            index += 1
        return parsed


class JsonCodec(Codec):
    """The ``json`` protocol (CloudWatch Logs): ``X-Amz-Target`` names the operation."""

    protocol = "json"
    invalid_parameter_code = "SerializationException"

    def __init__(self, service_model: Any) -> None:
        super().__init__(service_model)
        self._target_prefix = service_model.metadata["targetPrefix"]
        self._content_type = (
            f"application/x-amz-json-{service_model.metadata.get('jsonVersion', '1.0')}"
        )
        self._operations = set(service_model.operation_names)

    def find_operation(self, request: HttpRequest) -> Any:
        target = request.headers.get("x-amz-target") or ""
        prefix, _, name = target.partition(".")
        if prefix != self._target_prefix or name not in self._operations:
            raise self.unknown_operation(request)
        return self.service_model.operation_model(name)

    def unknown_operation(self, request: HttpRequest) -> ServiceError:
        return ServiceError("UnknownOperationException", "", status=400)

    def _parse(self, operation: Any, shape: Any, request: HttpRequest) -> Params:
        document = _json_body(request)
        return jsonshapes.decode_structure(shape, document)

    def _response(self, operation: Any, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        shape = operation.output_shape
        stream_name = None if shape is None else shape.event_stream_name
        if stream_name:
            # The other members travel in the stream's first event.
            rest = {name: value for name, value in output.items() if name != stream_name}
            first, _ = _json_event_body(shape, rest, "")
            body = eventstream.initial_response(first, "application/json")
            body += eventstream.encode_events(
                shape.members[stream_name], output.get(stream_name) or (), _json_event_body
            )
            return HttpResponse(200, [("Content-Type", eventstream.CONTENT_TYPE)], body)
        document = {} if shape is None else jsonshapes.encode_structure(shape, output)
        return HttpResponse(
            200,
            [("Content-Type", self._content_type)],
            json.dumps(document, separators=(",", ":")).encode(),
        )

    def _error_response(self, error: ServiceError, request_id: str, host_id: str) -> HttpResponse:
        document = {"__type": error.code, **self._json_error_document(error)}
        return HttpResponse(
            error.status,
            [("Content-Type", self._content_type)],
            json.dumps(document, separators=(",", ":")).encode(),
        )


def _json_event_body(shape: Any, value: Mapping[str, Any], name: str) -> tuple[bytes, str]:
    """An event (or event payload) structure as JSON."""
    document = jsonshapes.encode_value(shape, value)
    return json.dumps(document, separators=(",", ":")).encode(), "application/json"


def _xml_event_body(shape: Any, value: Mapping[str, Any], name: str) -> tuple[bytes, str]:
    """An event (or event payload) structure as an XML element named ``name``."""
    out: list[str] = []
    xmlshapes.encode_value(shape, value, name, out)
    return "".join(out).encode("utf-8"), "text/xml"


def _json_body(request: HttpRequest) -> dict[str, Any]:
    raw = request.read_body()
    if not raw.strip():
        return {}
    try:
        document = json.loads(raw)
    except ValueError as e:
        raise WireValueError(f"malformed JSON: {e}") from e
    if not isinstance(document, dict):
        raise WireValueError("the request body must be a JSON object")
    return document


def _utf8_body(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise WireValueError("The request body is not valid UTF-8") from e


def _split_header_list(value: str) -> list[str]:
    """A comma-separated header list, with botocore's double-quote escaping undone."""
    items: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(value):
        char = value[index]
        if quoted and char == "\\" and index + 1 < len(value):
            current.append(value[index + 1])
            index += 1
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    items.append("".join(current).strip())
    return items


def _quote_header_item(value: str) -> str:
    if '"' in value or "," in value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


Located = tuple[str, Any, str]
"""A member's name, its shape and its name on the wire (label, query key, header)."""


def _header_text(shape: Any, value: Any) -> str:
    """A header member's value as its header's text."""
    kind = shape.type_name
    if kind == "string":
        if shape.serialization.get("jsonvalue"):
            return values.encode_base64(json.dumps(value, separators=(",", ":")))
        return str(value)
    if kind == "list":
        if shape.member.type_name == "string":
            return ",".join(_quote_header_item(item) for item in value)
        return ",".join(_header_text(shape.member, item) for item in value)
    return xmlshapes.scalar_text(shape, value, values.RFC822)


def _header_writer(shape: Any) -> Callable[[Any], str | None]:
    """
    ``_header_text`` of ``shape``, with what it asks of the shape asked once
    (botocore's shapes answer ``type_name`` and ``serialization`` through
    properties); None for an empty list, which sends no header.
    """
    kind = shape.type_name
    if kind in ("integer", "long") or (
        kind == "string" and not shape.serialization.get("jsonvalue")
    ):
        return str
    if kind == "boolean":
        return lambda value: "true" if value else "false"
    if kind == "timestamp":
        timestamp_format = shape.serialization.get("timestampFormat", values.RFC822)
        return lambda value: str(values.format_timestamp(value, timestamp_format))
    if kind == "list":
        return lambda value: _header_text(shape, value) if value else None
    return functools.partial(_header_text, shape)


@attrs.frozen
class _Layout:
    """
    Where a structure's members travel in a REST request or response,
    worked out once per shape: walking botocore's member dictionaries on
    every request costs more than the rest of parsing a small one.
    """

    uri: tuple[Located, ...]
    query: tuple[Located, ...]
    query_map: Located | None
    header_maps: tuple[Located, ...]
    status: str | None
    payload: tuple[str, Any] | None
    body: frozenset[str]
    by_name: dict[str, tuple[str | None, Any, str]]
    #: ``headers`` by lowercased wire name: a request is parsed by looking up
    #: the few headers it has, not by asking it for each one the shape allows.
    header_index: dict[str, tuple[str, Any]]
    #: ``header`` members by name: their header's name and how to write it.
    header_writers: dict[str, tuple[str, Callable[[Any], str | None]]]

    @classmethod
    def of(cls, shape: Any) -> _Layout:
        located: dict[str | None, list[Located]] = {}
        by_name: dict[str, tuple[str | None, Any, str]] = {}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "querystring" and member.type_name == "map":
                location = "querymap"
            located.setdefault(location, []).append((name, member, wire_name))
            by_name[name] = (location, member, wire_name)
        payload = shape.serialization.get("payload")
        return cls(
            uri=tuple(located.get("uri", ())),
            query=tuple(located.get("querystring", ())),
            query_map=next(iter(located.get("querymap", ())), None),
            header_maps=tuple(located.get("headers", ())),
            status=next((name for name, _, _ in located.get("statusCode", ())), None),
            payload=None if payload is None else (payload, shape.members[payload]),
            body=frozenset(name for name, _, _ in located.get(None, ())),
            by_name=by_name,
            header_index={
                wire_name.lower(): (name, member)
                for name, member, wire_name in located.get("header", ())
            },
            header_writers={
                name: (wire_name, _header_writer(member))
                for name, member, wire_name in located.get("header", ())
            },
        )


class RestCodec(Codec):
    """
    ``rest-json`` and ``rest-xml``: members in the URI, query string,
    headers and status code; the rest in a JSON or XML body, or a raw
    payload.
    """

    def __init__(self, service_model: Any) -> None:
        super().__init__(service_model)
        self.router = RestRouter.from_model(service_model)
        self.shadowed = self.router.shadowed
        self._layouts: dict[str, _Layout] = {}

    def find_operation(self, request: HttpRequest) -> Any:
        found = self.router.match(request)
        if found is None:
            raise self.unknown_operation(request)
        return found[0]

    def _layout(self, shape: Any) -> _Layout:
        layout = self._layouts.get(shape.name)
        if layout is None:
            layout = self._layouts[shape.name] = _Layout.of(shape)
        return layout

    def _labels(self, operation: Any, request: HttpRequest) -> dict[str, str]:
        pattern = self.router.operation_patterns[operation.name]
        found = pattern.regex.match(request.path)
        if found is None:
            raise self.unknown_operation(request)
        try:
            return {
                label: _utf8_text(unquote(found.group(group), errors="strict"), "The URI")
                for group, label, _ in pattern.labels
            }
        except (UnicodeDecodeError, WireValueError) as e:
            raise self.malformed_uri() from e

    def malformed_uri(self) -> ServiceError:
        """The error for a path whose bytes, once percent-decoded, are not UTF-8."""
        return ServiceError(self.invalid_parameter_code, "The request URI is not valid UTF-8")

    def _parse(self, operation: Any, shape: Any, request: HttpRequest) -> Params:
        params: Params = {}
        layout = self._layout(shape)
        labels = self._labels(operation, request)
        for name, member, wire_name in layout.uri:
            if wire_name in labels:
                params[name] = xmlshapes.decode_scalar(member, labels[wire_name])
        query = request.query
        if query:
            # The template's own keys (``?mode=import``) are not parameters.
            claimed_query = set(self.router.template_keys[operation.name])
            for name, member, wire_name in layout.query:
                claimed_query.add(wire_name)
                found = [value for key, value in query if key == wire_name]
                if not found:
                    continue
                if member.type_name == "list":
                    params[name] = [
                        xmlshapes.decode_scalar(member.member, _utf8_text(v, wire_name))
                        for v in found
                    ]
                else:
                    params[name] = xmlshapes.decode_scalar(member, _utf8_text(found[0], wire_name))
            if layout.query_map is not None:
                self._parse_query_map(params, layout.query_map, query, claimed_query)
        headers = request.headers
        if layout.header_index:
            for lowered, header in headers.lowered_items():
                member_of = layout.header_index.get(lowered)
                if member_of is not None:
                    params[member_of[0]] = self._header_value(
                        member_of[1], _utf8_text(header, lowered)
                    )
        for name, _, wire_name in layout.header_maps:
            prefix = wire_name.lower()
            mapped = {
                header[len(prefix) :]: _utf8_text(headers[header], header)
                for header in headers
                if header.startswith(prefix)
            }
            if mapped:
                params[name] = mapped
        if layout.payload is not None:
            payload, member = layout.payload
            if member.type_name == "blob" and member.serialization.get("streaming"):
                request.body.seek(0)
                params[payload] = request.body
            elif member.type_name in ("blob", "string"):
                raw = request.read_body()
                if raw:
                    params[payload] = raw if member.type_name == "blob" else _utf8_body(raw)
            else:
                raw = request.read_body()
                if raw.strip():
                    params[payload] = self._decode_body(member, raw)
        elif layout.body:
            raw = request.read_body()
            if raw.strip():
                params.update(self._decode_body(shape, raw))
        return params

    def _parse_query_map(
        self,
        params: Params,
        query_map: Located,
        query: list[tuple[str, str]],
        claimed: set[str],
    ) -> None:
        name, member, _ = query_map
        mapped: dict[str, Any] = {}
        multi = member.value.type_name == "list"
        for key, value in query:
            if key in claimed:
                continue
            if multi:
                mapped.setdefault(key, []).append(value)
            else:
                mapped.setdefault(key, value)
        if mapped:
            params[name] = mapped

    def _header_value(self, shape: Any, text: str) -> Any:
        kind = shape.type_name
        if kind == "list":
            return [self._header_value(shape.member, item) for item in _split_header_list(text)]
        if kind == "string" and shape.serialization.get("jsonvalue"):
            try:
                return json.loads(values.decode_base64(text))
            except ValueError as e:
                raise WireValueError(f"malformed JSON header value: {e}") from e
        return xmlshapes.decode_scalar(shape, text)

    def _decode_body(self, shape: Any, raw: bytes) -> Any:
        raise NotImplementedError

    def _response(self, operation: Any, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        shape = operation.output_shape
        response = HttpResponse(operation.http.get("responseCode", 200))
        if shape is None:
            return response
        layout = self._layout(shape)
        header_writers, by_name = layout.header_writers, layout.by_name
        has_body = False
        for name, value in output.items():
            if value is None:
                continue
            header = header_writers.get(name)
            if header is not None:
                text = header[1](value)
                if text is not None:
                    response.headers.append((header[0], text))
                continue
            if name not in by_name:
                continue
            location, member, wire_name = by_name[name]
            if location is None:
                has_body = True
            elif location == "statusCode":
                response.status = int(value)
            elif location == "headers":
                response.headers.extend((wire_name + key, str(item)) for key, item in value.items())
        if layout.payload is not None:
            payload, member = layout.payload
            self._render_payload(operation, member, output.get(payload), response)
        elif has_body or self._always_has_body(shape):
            body, content_type = self._encode_body(operation, shape, output)
            response.body = body
            response.headers.append(("Content-Type", content_type))
        return response

    def _always_has_body(self, shape: Any) -> bool:
        return False

    #: How events of an event-stream payload are written.
    _event_body: staticmethod[[Any, Mapping[str, Any], str], tuple[bytes, str]] = staticmethod(
        _json_event_body
    )

    def _render_payload(
        self, operation: Any, member: Any, value: Any, response: HttpResponse
    ) -> None:
        if value is None:
            return
        if member.serialization.get("eventstream"):
            response.body = eventstream.encode_events(member, value, self._event_body)
            if response.header("Content-Type") is None:
                response.headers.append(("Content-Type", eventstream.CONTENT_TYPE))
        elif member.type_name == "blob":
            if isinstance(value, bytes | bytearray | str):
                response.body = value.encode() if isinstance(value, str) else bytes(value)
            else:
                response.body = value
        elif member.type_name == "string":
            response.body = value.encode("utf-8")
        else:
            body, content_type = self._encode_payload(member, value)
            response.body = body
            response.headers.append(("Content-Type", content_type))

    def _encode_body(
        self, operation: Any, shape: Any, output: Mapping[str, Any]
    ) -> tuple[bytes, str]:
        raise NotImplementedError

    def _encode_payload(self, member: Any, value: Any) -> tuple[bytes, str]:
        raise NotImplementedError


class RestJsonCodec(RestCodec):
    """``rest-json`` (Lambda, API Gateway)."""

    protocol = "rest-json"
    invalid_parameter_code = "SerializationException"

    def _decode_body(self, shape: Any, raw: bytes) -> Any:
        try:
            document = json.loads(raw)
        except ValueError as e:
            raise WireValueError(f"malformed JSON: {e}") from e
        return jsonshapes.decode_value(shape, document)

    def _encode_body(
        self, operation: Any, shape: Any, output: Mapping[str, Any]
    ) -> tuple[bytes, str]:
        document = jsonshapes.encode_structure(shape, output)
        return json.dumps(document, separators=(",", ":")).encode(), "application/json"

    def _encode_payload(self, member: Any, value: Any) -> tuple[bytes, str]:
        document = jsonshapes.encode_value(member, value)
        return json.dumps(document, separators=(",", ":")).encode(), "application/json"

    def _error_response(self, error: ServiceError, request_id: str, host_id: str) -> HttpResponse:
        headers = [("x-amzn-ErrorType", error.code), ("Content-Type", "application/json")]
        shape = self._error_shapes.get(error.code)
        if shape is not None:
            # Members the error shape binds to headers (``Retry-After``) go there.
            fields = dict(error.fields)
            for name, member in shape.members.items():
                if member.serialization.get("location") != "header":
                    continue
                wire_name = member.serialization.get("name", name)
                for key in (name, wire_name):
                    if key in fields:
                        headers.append((wire_name, str(fields.pop(key))))
            error = attrs.evolve(error, fields=fields)
        return HttpResponse(
            error.status,
            headers,
            json.dumps(self._json_error_document(error), separators=(",", ":")).encode(),
        )


class RestXmlCodec(RestCodec):
    """
    ``rest-xml`` (S3). AWS names the root element of each response, which
    botocore's model does not record: the service passes ``root_names``
    (operation → element); the default is ``<Operation>Result``.
    """

    protocol = "rest-xml"
    invalid_parameter_code = "InvalidArgument"
    _event_body = staticmethod(_xml_event_body)
    missing_parameter_code = "InvalidRequest"

    def __init__(
        self, service_model: Any, namespace: str = "", root_names: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(service_model)
        self.namespace = namespace
        self.root_names = dict(root_names or {})

    def unknown_operation(self, request: HttpRequest) -> ServiceError:
        return ServiceError(
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            status=405,
            fields={
                "Method": request.method,
                "ResourceType": "OBJECT" if request.path.count("/") > 1 else "BUCKET",
            },
        )

    def malformed_uri(self) -> ServiceError:
        # S3's answer to a key whose bytes are not UTF-8, as users report it
        # (github.com/larrabee/s3sync/issues/45, apache/ozone pull 10860).
        return ServiceError("InvalidURI", "Couldn't parse the specified URI.")

    def _decode_body(self, shape: Any, raw: bytes) -> Any:
        try:
            root = xmlshapes.parse_document(raw)
        except WireValueError as e:
            raise _malformed_xml() from e
        if shape.type_name == "structure":
            document = xmlshapes.decode_structure(shape, root)
        else:
            document = xmlshapes.decode_value(shape, root)
        if not _complete(shape, document):
            # S3 validates a document against its schema before storing
            # it: one that lacks a required element is refused whole.
            raise _malformed_xml()
        return document

    def _namespace_attribute(self, shape: Any) -> str:
        if self.namespace and "xmlNamespace" not in shape.serialization:
            return f' xmlns="{self.namespace}"'
        return ""

    def _encode_body(
        self, operation: Any, shape: Any, output: Mapping[str, Any]
    ) -> tuple[bytes, str]:
        name = (
            self.root_names.get(operation.name)
            or shape.serialization.get("name")
            or f"{operation.name}Result"
        )
        out = [xmlshapes.XML_DECLARATION]
        xmlshapes.encoder(shape)(output, name, out, self._namespace_attribute(shape))
        return "".join(out).encode("utf-8"), "application/xml"

    def _encode_payload(self, member: Any, value: Any) -> tuple[bytes, str]:
        name = member.serialization.get("name", member.name)
        out = [xmlshapes.XML_DECLARATION]
        xmlshapes.encoder(member)(value, name, out, self._namespace_attribute(member))
        return "".join(out).encode("utf-8"), "application/xml"

    def _id_headers(self, request_id: str, host_id: str) -> list[tuple[str, str]]:
        return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id)]

    def _error_response(self, error: ServiceError, request_id: str, host_id: str) -> HttpResponse:
        body = (
            f"{xmlshapes.XML_DECLARATION}<Error><Code>{escape(error.code)}</Code>"
            f"<Message>{escape(error.message)}</Message>{_xml_fields(error.fields)}"
            f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
        )
        return HttpResponse(
            # A message may quote what a client sent; bytes that were not
            # UTF-8 (see ``wire_text``) are replaced rather than sent.
            error.status,
            [("Content-Type", "application/xml")],
            body.encode("utf-8", "replace"),
        )


def _malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def _complete(shape: Any, value: Any) -> bool:
    """
    Whether ``value`` has every member the model requires of ``shape``, at
    every depth; of an operation's input, only those that travel in the
    body (the others are checked with the rest of the request).
    """
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return False
        members = shape.members
        return all(
            name in value
            for name in shape.required_members
            if "location" not in members[name].serialization
        ) and all(_complete(members[name], item) for name, item in value.items() if name in members)
    if kind == "list":
        return all(_complete(shape.member, item) for item in value)
    if kind == "map":
        return all(_complete(shape.value, item) for item in value.values())
    return True


_CODECS: dict[str, Callable[[Any], Codec]] = {
    "query": QueryCodec,
    "json": JsonCodec,
    "rest-json": RestJsonCodec,
    "rest-xml": RestXmlCodec,
}


def make_codec(service_model: Any) -> Codec:
    """A codec for the model's protocol with default options."""
    return _CODECS[service_model.metadata["protocol"]](service_model)


@functools.cache
def codec_for(service_name: str) -> Codec:
    """The default codec of ``service_name``, built (and its model loaded) on first use."""
    return make_codec(load_service_model(service_name))


def service_error_response(
    service_name: str, request: HttpRequest, error: ServiceError, request_id: str
) -> HttpResponse:
    """
    ``error`` as the service ``service_name`` (a botocore model's name) would
    answer ``request``, for a service the gateway answers without serving
    it: one awsemu does not emulate, or one ``--services`` left out. The
    shape is that of the protocol the request speaks, of those the model's
    clients may speak (a CloudWatch client sends CBOR or JSON, an SQS one
    JSON), so the SDK raises the error as it would AWS's.
    """
    model = load_service_model(service_name)
    protocol = _spoken_protocol(model.metadata, request)
    head = request.method == "HEAD"
    if protocol == "smithy-rpc-v2-cbor":
        response = _cbor_error(error, request_id)
    elif protocol == "ec2":
        response = _ec2_error(error, request_id)
    else:
        return _error_codec(service_name, protocol).serialize_error(
            error, None, request_id, head=head
        )
    response.headers.extend(error.headers)
    if head:
        response.body = b""
    return response


def _spoken_protocol(metadata: Mapping[str, Any], request: HttpRequest) -> str:
    """The protocol of ``request``, of those ``metadata`` allows; the preferred one if unclear."""
    protocols: list[str] = metadata.get("protocols") or [metadata["protocol"]]
    if "smithy-rpc-v2-cbor" in protocols and request.headers.get("smithy-protocol"):
        return "smithy-rpc-v2-cbor"
    if "json" in protocols and request.headers.get("x-amz-target"):
        return "json"
    if "query" in protocols and request.form().get("Action"):
        return "query"
    return protocols[0]


@functools.cache
def _error_codec(service_name: str, protocol: str) -> Codec:
    return _CODECS[protocol](load_service_model(service_name))


def _cbor_error(error: ServiceError, request_id: str) -> HttpResponse:
    """
    An error in the Smithy RPC v2 CBOR protocol: a CBOR map with ``__type``
    and ``message``, as botocore's ``RpcV2CBORParser`` reads it.
    """
    return HttpResponse(
        error.status,
        [
            ("x-amzn-RequestId", request_id),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Type", "application/cbor"),
        ],
        _cbor_text_map({"__type": error.code, "message": error.message}),
    )


def _cbor_text_map(items: Mapping[str, str]) -> bytes:
    """``items`` as a CBOR (RFC 8949) map of text strings: all an error body holds."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 0x100:
            return bytes([major << 5 | 24, length])
        if length < 0x10000:
            return bytes([major << 5 | 25]) + length.to_bytes(2, "big")
        return bytes([major << 5 | 26]) + length.to_bytes(4, "big")

    out = [head(5, len(items))]
    for key, value in items.items():
        for text in (key, value):
            data = text.encode("utf-8")
            out += (head(3, len(data)), data)
    return b"".join(out)


def _ec2_error(error: ServiceError, request_id: str) -> HttpResponse:
    """An error in EC2's protocol: ``<Response><Errors><Error>...`` with ``<RequestID>``."""
    body = (
        f"{xmlshapes.XML_DECLARATION}<Response><Errors><Error><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(error.message)}</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    )
    return HttpResponse(error.status, [("Content-Type", "text/xml")], body.encode("utf-8"))
