"""
XML documents to and from botocore shapes, as the ``rest-xml`` and
``query`` protocols lay them out: wrapped or flattened lists, ``entry``
maps, XML attributes, per-shape namespaces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final
from xml.etree.ElementTree import Element, ParseError, fromstring
from xml.sax.saxutils import escape, quoteattr

from awsemu.protocol import values
from awsemu.protocol.values import WireValueError

_TEXT_ESCAPES = {"\r": "&#xD;"}
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def parse_document(body: bytes) -> Element:
    """Parse an XML body; a malformed one is a ``WireValueError``."""
    try:
        return fromstring(body)
    except ParseError as e:
        raise WireValueError(f"malformed XML: {e}") from e


def local_name(tag: str) -> str:
    """An element's tag without its ``{namespace}``."""
    return tag.rpartition("}")[2]


def member_xml_name(member_shape: Any, member_name: str) -> str:
    """
    The element name a structure member uses: a flattened list whose member
    shape is named repeats under that name, as botocore expects.
    """
    if member_shape.type_name == "list" and member_shape.serialization.get("flattened"):
        name = member_shape.member.serialization.get("name")
        if name is not None:
            return str(name)
    return str(member_shape.serialization.get("name", member_name))


def _children_by_name(node: Element) -> dict[str, list[Element]]:
    children: dict[str, list[Element]] = {}
    for child in node:
        children.setdefault(local_name(child.tag), []).append(child)
    return children


def _attribute(node: Element, name: str) -> str | None:
    prefix, sep, local = name.partition(":")
    if sep and prefix == "xsi":
        return node.attrib.get(f"{{{XSI_NAMESPACE}}}{local}")
    return node.attrib.get(name)


def decode_structure(shape: Any, node: Element) -> dict[str, Any]:
    """The body members of structure ``shape`` found under ``node``."""
    children = _children_by_name(node)
    parsed: dict[str, Any] = {}
    for name, member in shape.members.items():
        serialization = member.serialization
        if "location" in serialization:
            continue
        if serialization.get("xmlAttribute"):
            attribute = _attribute(node, serialization["name"])
            if attribute is not None:
                parsed[name] = attribute
            continue
        found = children.get(member_xml_name(member, name))
        if not found:
            continue
        if member.type_name in ("list", "map") and serialization.get("flattened"):
            parsed[name] = decode_flattened(member, found)
        else:
            parsed[name] = decode_value(member, found[0])
    return parsed


def decode_flattened(shape: Any, nodes: list[Element]) -> Any:
    """A flattened list or map: one element per item, no wrapper."""
    if shape.type_name == "list":
        return [decode_value(shape.member, node) for node in nodes]
    return dict(_decode_entry(shape, node) for node in nodes)


def _decode_entry(shape: Any, node: Element) -> tuple[Any, Any]:
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    key: Any = None
    value: Any = None
    for child in node:
        tag = local_name(child.tag)
        if tag == key_name:
            key = decode_value(shape.key, child)
        elif tag == value_name:
            value = decode_value(shape.value, child)
    return key, value


def decode_value(shape: Any, node: Element) -> Any:
    """The value of ``shape`` held by element ``node``."""
    kind = shape.type_name
    if kind == "structure":
        return decode_structure(shape, node)
    if kind == "list":
        return [decode_value(shape.member, child) for child in node]
    if kind == "map":
        return dict(_decode_entry(shape, entry) for entry in node)
    return decode_scalar(shape, node.text or "")


def decode_scalar(shape: Any, text: str) -> Any:
    """A scalar from its XML or query-string text."""
    kind = shape.type_name
    if kind == "string":
        return text
    if kind in ("integer", "long"):
        return values.parse_integer(text)
    if kind == "boolean":
        return values.parse_boolean(text)
    if kind in ("float", "double"):
        return values.parse_float(text)
    if kind == "timestamp":
        return values.parse_timestamp(text)
    if kind == "blob":
        return values.decode_base64(text)
    return text


def _namespace_attribute(shape: Any) -> str:
    namespace = shape.serialization.get("xmlNamespace")
    if namespace is None:
        return ""
    if isinstance(namespace, Mapping):
        prefix = namespace.get("prefix")
        name = f"xmlns:{prefix}" if prefix else "xmlns"
        return f" {name}={quoteattr(namespace['uri'])}"
    return f" xmlns={quoteattr(str(namespace))}"


def scalar_text(shape: Any, value: Any, timestamp_format: str = values.ISO8601) -> str:
    """A scalar's XML text (also its query-string form)."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return str(
            values.format_timestamp(
                value, shape.serialization.get("timestampFormat", timestamp_format)
            )
        )
    if kind == "blob":
        return values.encode_base64(value)
    if kind in ("float", "double"):
        return values.format_float(value)
    return str(value)


def encode_value(
    shape: Any, value: Any, name: str, out: list[str], extra_attributes: str = ""
) -> None:
    """Append the element ``name`` holding ``value`` of ``shape`` to ``out``."""
    kind = shape.type_name
    if kind == "structure":
        encode_structure(shape, value, name, out, extra_attributes)
    elif kind == "list":
        if shape.serialization.get("flattened"):
            encode_flattened(shape, value, name, out)
        else:
            item_name = shape.member.serialization.get("name", "member")
            out.append(f"<{name}{_namespace_attribute(shape)}{extra_attributes}>")
            for item in value:
                encode_value(shape.member, item, item_name, out)
            out.append(f"</{name}>")
    elif kind == "map":
        if shape.serialization.get("flattened"):
            encode_flattened(shape, value, name, out)
        else:
            out.append(f"<{name}{_namespace_attribute(shape)}{extra_attributes}>")
            _encode_entries(shape, value, "entry", out)
            out.append(f"</{name}>")
    else:
        text = escape(scalar_text(shape, value), _TEXT_ESCAPES)
        out.append(f"<{name}{_namespace_attribute(shape)}{extra_attributes}>{text}</{name}>")


def encode_flattened(shape: Any, value: Any, name: str, out: list[str]) -> None:
    """A flattened list or map: one ``name`` element per item."""
    if shape.type_name == "list":
        item_name = shape.member.serialization.get("name", name)
        for item in value:
            encode_value(shape.member, item, item_name, out)
    else:
        _encode_entries(shape, value, name, out)


def _encode_entries(shape: Any, value: Mapping[Any, Any], entry_name: str, out: list[str]) -> None:
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    for key, item in value.items():
        out.append(f"<{entry_name}>")
        encode_value(shape.key, key, key_name, out)
        encode_value(shape.value, item, value_name, out)
        out.append(f"</{entry_name}>")


def encode_structure(
    shape: Any, value: Mapping[str, Any], name: str, out: list[str], extra_attributes: str = ""
) -> None:
    """A structure's element: XML attributes on it, body members inside."""
    members = shape.members
    attributes = [_namespace_attribute(shape), extra_attributes]
    body: list[str] = []
    for member_name, item in value.items():
        member = members.get(member_name)
        if member is None or item is None:
            continue
        serialization = member.serialization
        if "location" in serialization:
            continue
        if serialization.get("xmlAttribute"):
            attribute_name = serialization["name"]
            if attribute_name.startswith("xsi:") and " xmlns:xsi=" not in attributes[0]:
                attributes.append(f" xmlns:xsi={quoteattr(XSI_NAMESPACE)}")
            attributes.append(f" {attribute_name}={quoteattr(str(item))}")
            continue
        encode_value(member, item, member_xml_name(member, member_name), body)
    out.append(f"<{name}{''.join(attributes)}>")
    out.extend(body)
    out.append(f"</{name}>")


# Serialization plans: the walk above, decided once per shape.
#
# ``encode_value`` asks the model, for every element it writes, what kind
# the shape is, how it is named and namespaced; a listing of 1,000 keys asks
# it some 40,000 times. ``encoder(shape)`` answers those questions once and
# returns a function writing exactly the same bytes (tests hold it to the
# walk above, which the query protocol and event streams still use).

#: ``(value, name, out, extra_attributes)``: append element ``name`` to ``out``.
Encoder = Callable[[Any, str, list[str], str], None]

_PLANS: Final[dict[int, tuple[Any, Encoder]]] = {}


def _escaped(text: str) -> str:
    """``escape(text, _TEXT_ESCAPES)``, without its replacements when none applies."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return escape(text, _TEXT_ESCAPES)
    return text


def encoder(shape: Any) -> Encoder:
    """The plan writing values of ``shape``, built on first use and kept with the shape."""
    found = _PLANS.get(id(shape))
    if found is not None and found[0] is shape:
        return found[1]
    kind = shape.type_name
    plan: Encoder
    if kind == "structure":
        structure = _StructurePlan(shape)
        _PLANS[id(shape)] = (shape, structure)  # before its members: shapes may recurse
        structure.compile()
        return structure
    if kind in ("list", "map"):
        collection = _CollectionPlan(shape)
        _PLANS[id(shape)] = (shape, collection)
        collection.compile()
        return collection
    plan = _scalar_plan(shape)
    _PLANS[id(shape)] = (shape, plan)
    return plan


def _scalar_plan(shape: Any) -> Encoder:
    namespace = _namespace_attribute(shape)
    if shape.type_name in ("string", "integer", "long"):

        def write_text(value: Any, name: str, out: list[str], extra_attributes: str = "") -> None:
            out.append(f"<{name}{namespace}{extra_attributes}>{_escaped(str(value))}</{name}>")

        return write_text

    def write(value: Any, name: str, out: list[str], extra_attributes: str = "") -> None:
        text = _escaped(scalar_text(shape, value))
        out.append(f"<{name}{namespace}{extra_attributes}>{text}</{name}>")

    return write


class _CollectionPlan:
    """A list or map: wrapped, or flattened into one element per item."""

    def __init__(self, shape: Any) -> None:
        self.shape = shape
        self.flattened = bool(shape.serialization.get("flattened"))
        self.namespace = _namespace_attribute(shape)

    def compile(self) -> None:
        shape = self.shape
        if shape.type_name == "list":
            self.item = encoder(shape.member)
            self.item_name: str | None = shape.member.serialization.get(
                "name", None if self.flattened else "member"
            )
        else:
            self.key = encoder(shape.key)
            self.key_name = shape.key.serialization.get("name", "key")
            self.value = encoder(shape.value)
            self.value_name = shape.value.serialization.get("name", "value")

    def __call__(self, value: Any, name: str, out: list[str], extra_attributes: str = "") -> None:
        if self.flattened:
            self._items(value, name, out)
            return
        out.append(f"<{name}{self.namespace}{extra_attributes}>")
        self._items(value, "entry", out)
        out.append(f"</{name}>")

    def _items(self, value: Any, name: str, out: list[str]) -> None:
        if self.shape.type_name == "list":
            item, item_name = self.item, self.item_name or name
            for each in value:
                item(each, item_name, out, "")
            return
        for key, each in value.items():
            out.append(f"<{name}>")
            self.key(key, self.key_name, out, "")
            self.value(each, self.value_name, out, "")
            out.append(f"</{name}>")


class _StructurePlan:
    """A structure: each member's element name and plan, or the XML attribute it becomes."""

    def __init__(self, shape: Any) -> None:
        self.shape = shape
        self.namespace = _namespace_attribute(shape)
        self.elements: dict[str, tuple[Encoder, str]] = {}
        self.attributes: dict[str, str] = {}

    def compile(self) -> None:
        for member_name, member in self.shape.members.items():
            serialization = member.serialization
            if "location" in serialization:
                continue
            if serialization.get("xmlAttribute"):
                self.attributes[member_name] = serialization["name"]
            else:
                self.elements[member_name] = (
                    encoder(member),
                    member_xml_name(member, member_name),
                )

    def __call__(
        self, value: Mapping[str, Any], name: str, out: list[str], extra_attributes: str = ""
    ) -> None:
        elements, attribute_names = self.elements, self.attributes
        attributes = [self.namespace, extra_attributes]
        start = len(out)
        out.append("")  # the start tag, written once the attributes are known
        for member_name, item in value.items():
            if item is None:
                continue
            element = elements.get(member_name)
            if element is not None:
                element[0](item, element[1], out, "")
                continue
            attribute_name = attribute_names.get(member_name)
            if attribute_name is None:
                continue
            if attribute_name.startswith("xsi:") and " xmlns:xsi=" not in attributes[0]:
                attributes.append(f" xmlns:xsi={quoteattr(XSI_NAMESPACE)}")
            attributes.append(f" {attribute_name}={quoteattr(str(item))}")
        out[start] = f"<{name}{''.join(attributes)}>"
        out.append(f"</{name}>")
