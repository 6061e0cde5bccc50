"""
What API Gateway's mapping templates see: ``$input`` (the body, its
JSONPath lookups, the request's parameters), ``$util``, ``$context`` and
``$stageVariables``, and the choice of a template by media type. The
language itself is ``awsemu.apigateway.vtl``.
"""

from __future__ import annotations

import json
import re
from base64 import b64decode, b64encode
from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import quote_plus, unquote_plus

from awsemu.apigateway.vtl import Exposed, TemplateError, render

_PATH_STEP: Final = re.compile(
    r"\.\.(?P<deep>[A-Za-z0-9_$-]+|\*)"
    r"|\.(?P<name>[A-Za-z0-9_$-]+|\*)"
    r"|\[\s*(?:'(?P<quoted>[^']*)'|\"(?P<double>[^\"]*)\"|(?P<index>-?[0-9]+)|(?P<all>\*))\s*\]"
)


def _descendants(value: Any) -> Iterator[Any]:
    """Every value inside a JSON document, depth first (JSONPath's ``..``)."""
    yield value
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        children = ()
    for child in children:
        yield from _descendants(child)


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def json_path(document: Any, path: str) -> Any:
    """
    The value ``path`` (``$``, ``$.a.b``, ``$['a'][0]``, ``$.a[*].b``,
    ``$..b``) selects in ``document``: a list when the path has a
    wildcard or ``..``, else the one value or None.
    """
    path = path.strip()
    if not path.startswith("$"):
        path = "$." + path
    position, found, many = 1, [document], False
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if step is None:
            raise TemplateError(f"Invalid JSONPath: {path}")
        position = step.end()
        selected: list[Any] = []
        for value in found:
            if step["deep"] is not None:
                many = True
                for inner in _descendants(value):
                    if step["deep"] == "*":
                        selected += _children(inner)
                    elif isinstance(inner, dict) and step["deep"] in inner:
                        selected.append(inner[step["deep"]])
            elif step["name"] == "*" or step["all"] is not None:
                many = True
                selected += _children(value)
            elif step["index"] is not None:
                index = int(step["index"])
                if isinstance(value, list) and -len(value) <= index < len(value):
                    selected.append(value[index])
            else:
                names = (step["name"], step["quoted"], step["double"])
                key = next(k for k in names if k is not None)
                if isinstance(value, dict) and key in value:
                    selected.append(value[key])
        found = selected
    if many:
        return found
    return found[0] if found else None


def _to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Input(Exposed):
    """
    ``$input``: ``body`` (the payload as text), ``json(path)`` and
    ``path(path)`` (JSONPath on the payload), ``params()`` and
    ``params(name)`` (path, then query string, then header parameters).
    """

    def __init__(self, body: str, parameters: Mapping[str, Mapping[str, str]]) -> None:
        self.body = body
        self._parameters = {kind: dict(values) for kind, values in parameters.items()}

    def _document(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            return self.body

    def path(self, path: str) -> Any:
        return json_path(self._document(), path)

    def json(self, path: str) -> str:
        return _to_json(self.path(path))

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._parameters
        for kind in ("path", "querystring"):
            if name in self._parameters.get(kind, {}):
                return self._parameters[kind][name]
        for header, value in self._parameters.get("header", {}).items():
            if header.lower() == name.lower():
                return value
        return ""


_JS_ESCAPES: Final = {
    '"': '\\"',
    "'": "\\'",
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


class Util(Exposed):
    """``$util``, as API Gateway documents it."""

    def escapeJavaScript(self, value: object) -> str:  # noqa: N802 - the template's name
        """Java's JavaScript escaping: quotes, backslash, slash, controls and non-ASCII."""
        out = []
        for char in _text(value):
            if char in _JS_ESCAPES:
                out.append(_JS_ESCAPES[char])
            elif ord(char) < 32 or ord(char) > 126:
                out += [f"\\u{unit:04X}" for unit in _utf16(char)]
            else:
                out.append(char)
        return "".join(out)

    def urlEncode(self, value: object) -> str:  # noqa: N802
        """Java's ``URLEncoder`` (form encoding: a space is ``+``)."""
        return quote_plus(_text(value), safe="*").replace("~", "%7E")

    def urlDecode(self, value: object) -> str:  # noqa: N802
        return unquote_plus(_text(value))

    def base64Encode(self, value: object) -> str:  # noqa: N802
        return b64encode(_text(value).encode("utf-8")).decode("ascii")

    def base64Decode(self, value: object) -> str:  # noqa: N802
        try:
            return b64decode(_text(value)).decode("utf-8", "replace")
        except ValueError as e:
            raise TemplateError("base64Decode: not base64") from e

    def parseJson(self, value: object) -> Any:  # noqa: N802
        try:
            return json.loads(_text(value))
        except ValueError as e:
            raise TemplateError("parseJson: not JSON") from e


def _text(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def choose_template(templates: Mapping[str, str], media_type: str | None) -> str | None:
    """
    The template for ``media_type`` (its parameters ignored), else the
    ``application/json`` one, else None; API Gateway picks integration
    response templates this way by the call's ``Accept``.
    """
    wanted = (media_type or "").partition(";")[0].strip().lower()
    lowered = {name.lower(): template for name, template in templates.items()}
    if wanted in lowered:
        return lowered[wanted]
    return lowered.get("application/json")


def render_template(
    template: str,
    body: str,
    parameters: Mapping[str, Mapping[str, str]],
    context: dict[str, Any],
    stage_variables: Mapping[str, str],
) -> str:
    """A mapping template's output; ``#set`` changes to ``$context`` stay in ``context``."""
    variables: dict[str, Any] = {
        "input": Input(body, parameters),
        "util": Util(),
        "context": context,
        "stageVariables": dict(stage_variables),
    }
    return render(template, variables)
