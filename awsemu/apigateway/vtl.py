"""
A Velocity Template Language engine for API Gateway's mapping templates
and gateway responses, written for awsemu from the language's public
description: references (``$a``, ``$!a``, ``${a}``, ``$a.b``,
``$a.m(x)``, ``$a[0]``), ``#set``, ``#if``/``#elseif``/``#else``,
``#foreach`` (with ``$foreach.index``/``count``/``hasNext`` and
``$velocityCount``), ``#break``, ``#stop``, comments and
``#[[unparsed]]#``; expressions with Velocity's operators (``==``,
``eq``, ``&&``, ``and``, ``!``, ``+``...), lists, ranges and maps.

Values are Python values: str, int, float, bool, None, list, dict, and
``Exposed`` objects (``$input``, ``$util``), whose public methods
templates call. Strings, lists and maps answer the Java methods
templates use (``length()``, ``substring()``, ``replaceAll()``,
``size()``, ``get()``, ``keySet()``, ``put()``...). As in API Gateway,
a reference to nothing renders as nothing, ``#if`` treats only null and
false as false, and a ``#set`` to null leaves the variable as it was.
A line holding only directives is dropped whole, as Velocity 2 does.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs


class TemplateError(ValueError):
    """The template cannot be parsed, or a call in it failed."""


class Exposed:
    """A value whose public methods and attributes templates may use."""


class _Stop(Exception):
    """``#stop``: rendering ends here."""


class _Break(Exception):
    """``#break``: the innermost ``#foreach`` ends here."""


# Expressions are tuples: ("lit", v), ("ref", name, [accessor...]),
# ("list", [e...]), ("range", a, b), ("map", [(k, v)...]), ("not", e),
# ("neg", e), ("op", symbol, a, b), ("str", template nodes).
# Accessors: ("prop", name), ("call", name, [e...]), ("index", e).
Expr = tuple[Any, ...]
Node = tuple[Any, ...]

_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_REFERENCE_START: Final = re.compile(r"!?\{?[A-Za-z]")
"""What follows a ``$`` that starts a reference (anything else is text)."""
_NUMBER: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_WORD_OPERATORS: Final = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "and": "&&",
    "or": "||",
}
_COMPARISONS: Final = ("==", "!=", "<=", ">=", "<", ">")
_ORDER: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_DIRECTIVE_NAMES: Final = "set|if|elseif|else|end|foreach|break|stop"
_DIRECTIVES: Final = re.compile(rf"#(?:\{{({_DIRECTIVE_NAMES})\}}|({_DIRECTIVE_NAMES})\b)")
"""``#name`` or ``#{name}`` (a ``}`` after ``#end`` is the template's own text)."""


@attrs.define
class _Parser:
    """Recursive descent over the template text (see the module docstring)."""

    text: str
    pos: int = 0
    condition: Expr = ("lit", None)
    """The condition of the ``#elseif`` that ended the last block."""

    def error(self, message: str) -> TemplateError:
        line = self.text.count("\n", 0, self.pos) + 1
        return TemplateError(f"{message} at line {line}")

    # Text mode

    def nodes(self, ends: tuple[str, ...] = ()) -> tuple[list[Node], str]:
        """Nodes up to one of the directives ``ends`` (consumed, and returned) or the end."""
        nodes: list[Node] = []
        text: list[str] = []

        def flush() -> None:
            if text:
                nodes.append(("text", "".join(text)))
                text.clear()

        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.text[self.pos + 1 : self.pos + 2] in ("$", "#"):
                text.append(self.text[self.pos + 1])
                self.pos += 2
            elif char == "$" and self._reference_start():
                flush()
                nodes.append(self.reference_node())
            elif self.text.startswith("##", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif self.text.startswith("#*", self.pos):
                end = self.text.find("*#", self.pos + 2)
                if end < 0:
                    raise self.error("Unterminated comment")
                self.pos = end + 2
            elif self.text.startswith("#[[", self.pos):
                end = self.text.find("]]#", self.pos + 3)
                if end < 0:
                    raise self.error("Unterminated unparsed block")
                text.append(self.text[self.pos + 3 : end])
                self.pos = end + 3
            elif char == "#" and (found := _DIRECTIVES.match(self.text, self.pos)):
                name = found[1] or found[2]
                line_start = self.text.rfind("\n", 0, self.pos) + 1
                alone = not self.text[line_start : self.pos].strip(" \t")
                self.pos = found.end()

                def header_done(alone: bool = alone) -> None:
                    self._gobble(alone, text)
                    flush()

                if name in ends:
                    if name == "elseif":
                        self.condition = self._condition()
                    header_done()
                    return nodes, name
                nodes.append(self.directive(name, header_done))
            else:
                text.append(char)
                self.pos += 1
        if ends:
            raise self.error(f"Missing #{ends[-1]}")
        flush()
        return nodes, ""

    def _gobble(self, alone: bool, text: list[str]) -> None:
        """Drop a directive's line (its indentation and line end) when nothing else is on it."""
        end = self.pos
        while end < len(self.text) and self.text[end] in " \t":
            end += 1
        if not alone or (end < len(self.text) and self.text[end] not in "\r\n"):
            return
        if self.text.startswith("\r\n", end):
            end += 1
        self.pos = min(end + 1, len(self.text))
        joined = "".join(text).rstrip(" \t")
        text.clear()
        if joined:
            text.append(joined)

    def _reference_start(self) -> bool:
        return _REFERENCE_START.match(self.text, self.pos + 1) is not None

    def reference_node(self) -> Node:
        start = self.pos
        self.pos += 1
        quiet = self.text.startswith("!", self.pos)
        if quiet:
            self.pos += 1
        braced = self.text.startswith("{", self.pos)
        if braced:
            self.pos += 1
        reference = self.reference()
        if braced:
            if not self.text.startswith("}", self.pos):
                raise self.error("Missing } in reference")
            self.pos += 1
        return ("ref", reference, self.text[start : self.pos])

    def reference(self) -> Expr:
        """``name`` then its accessors; a dot not followed by a name is not one."""
        name = self._name()
        accessors: list[Expr] = []
        while self.pos < len(self.text):
            if self.text.startswith(".", self.pos) and _NAME.match(self.text, self.pos + 1):
                self.pos += 1
                member = self._name()
                if self.text.startswith("(", self.pos):
                    self.pos += 1
                    accessors.append(("call", member, self._arguments(")")))
                else:
                    accessors.append(("prop", member))
            elif self.text.startswith("[", self.pos):
                self.pos += 1
                index = self.expression()
                self._expect("]")
                accessors.append(("index", index))
            else:
                break
        return ("ref", name, accessors)

    def _name(self) -> str:
        found = _NAME.match(self.text, self.pos)
        if found is None:
            raise self.error("Expected a name")
        self.pos = found.end()
        return found[0]

    def directive(self, name: str, header_done: Callable[[], object]) -> Node:
        """The directive ``name``; ``header_done`` is called once its own line is read."""
        if name == "set":
            self._expect("(")
            target = self.expression()
            if target[0] != "ref":
                raise self.error("#set needs a reference")
            self._expect("=")
            value = self.expression()
            self._expect(")")
            header_done()
            return ("set", target, value)
        if name == "if":
            condition = self._condition()
            header_done()
            return self._if(condition)
        if name == "foreach":
            self._expect("(")
            self._skip()
            if not self.text.startswith("$", self.pos):
                raise self.error("#foreach needs a variable")
            self.pos += 1
            variable = self._name()
            self._skip()
            if not self.text.startswith("in", self.pos):
                raise self.error("#foreach needs 'in'")
            self.pos += 2
            iterable = self.expression()
            self._expect(")")
            header_done()
            body, _ = self.nodes(("end",))
            return ("foreach", variable, iterable, body)
        if name in ("break", "stop"):
            header_done()
            return (name,)
        raise self.error(f"Unexpected #{name}")

    def _if(self, first: Expr) -> Node:
        branches: list[tuple[Expr | None, list[Node]]] = []
        condition: Expr | None = first
        while True:
            body, ended = self.nodes(("elseif", "else", "end"))
            branches.append((condition, body))
            if ended == "end":
                return ("if", branches)
            if ended == "else":
                body, _ = self.nodes(("end",))
                branches.append((None, body))
                return ("if", branches)
            condition = self.condition

    def _condition(self) -> Expr:
        self._expect("(")
        condition = self.expression()
        self._expect(")")
        return condition

    # Expression mode

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _expect(self, token: str) -> None:
        self._skip()
        if not self.text.startswith(token, self.pos):
            raise self.error(f"Expected '{token}'")
        self.pos += len(token)

    def _operator(self, choices: tuple[str, ...]) -> str | None:
        self._skip()
        for symbol in choices:
            if self.text.startswith(symbol, self.pos):
                if symbol in ("=", "!") and self.text.startswith("=", self.pos + 1):
                    continue
                self.pos += len(symbol)
                return symbol
        found = _NAME.match(self.text, self.pos)
        if found and _WORD_OPERATORS.get(found[0]) in choices:
            self.pos = found.end()
            return _WORD_OPERATORS[found[0]]
        return None

    def _arguments(self, closing: str) -> list[Expr]:
        arguments: list[Expr] = []
        self._skip()
        if self.text.startswith(closing, self.pos):
            self.pos += 1
            return arguments
        while True:
            arguments.append(self.expression())
            self._skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            self._expect(closing)
            return arguments

    def expression(self) -> Expr:
        left = self._and()
        while self._operator(("||",)):
            left = ("op", "||", left, self._and())
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self._operator(("&&",)):
            left = ("op", "&&", left, self._not())
        return left

    def _not(self) -> Expr:
        self._skip()
        if self.text.startswith("!", self.pos) and not self.text.startswith("!=", self.pos):
            self.pos += 1
            return ("not", self._not())
        found = _NAME.match(self.text, self.pos)
        if found and found[0] == "not":
            self.pos = found.end()
            return ("not", self._not())
        return self._comparison()

    def _comparison(self) -> Expr:
        left = self._sum()
        symbol = self._operator(_COMPARISONS)
        return left if symbol is None else ("op", symbol, left, self._sum())

    def _sum(self) -> Expr:
        left = self._product()
        while symbol := self._operator(("+", "-")):
            left = ("op", symbol, left, self._product())
        return left

    def _product(self) -> Expr:
        left = self._unary()
        while symbol := self._operator(("*", "/", "%")):
            left = ("op", symbol, left, self._unary())
        return left

    def _unary(self) -> Expr:
        self._skip()
        if self.text.startswith("-", self.pos) and not _NUMBER.match(self.text, self.pos):
            self.pos += 1
            return ("neg", self._unary())
        return self._primary()

    def _primary(self) -> Expr:
        self._skip()
        text, pos = self.text, self.pos
        if text.startswith("$", pos):
            self.pos += 1
            if text.startswith("!", self.pos):
                self.pos += 1
            if text.startswith("{", self.pos):
                self.pos += 1
                reference = self.reference()
                self._expect("}")
                return reference
            return self.reference()
        if text.startswith("(", pos):
            self.pos += 1
            inner = self.expression()
            self._expect(")")
            return inner
        if text.startswith("[", pos):
            self.pos += 1
            self._skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return ("list", [])
            first = self.expression()
            self._skip()
            if self.text.startswith("..", self.pos):
                self.pos += 2
                last = self.expression()
                self._expect("]")
                return ("range", first, last)
            rest: list[Expr] = []
            if self.text.startswith(",", self.pos):
                self.pos += 1
                rest = self._arguments("]")
            else:
                self._expect("]")
            return ("list", [first, *rest])
        if text.startswith("{", pos):
            self.pos += 1
            return self._map()
        if text.startswith(("'", '"'), pos):
            return self._string()
        number = _NUMBER.match(text, pos)
        if number:
            self.pos = number.end()
            literal = number[0]
            return ("lit", float(literal) if "." in literal else int(literal))
        word = _NAME.match(text, pos)
        if word and word[0] in ("true", "false", "null"):
            self.pos = word.end()
            return ("lit", {"true": True, "false": False, "null": None}[word[0]])
        raise self.error("Expected an expression")

    def _map(self) -> Expr:
        entries: list[tuple[Expr, Expr]] = []
        self._skip()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return ("map", entries)
        while True:
            key = self.expression()
            self._expect(":")
            entries.append((key, self.expression()))
            self._skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            self._expect("}")
            return ("map", entries)

    def _string(self) -> Expr:
        quote = self.text[self.pos]
        end = self.text.find(quote, self.pos + 1)
        if end < 0:
            raise self.error("Unterminated string")
        body = self.text[self.pos + 1 : end]
        self.pos = end + 1
        if quote == "'" or ("$" not in body and "#" not in body):
            return ("lit", body)
        nodes, _ = _Parser(body).nodes()
        return ("str", nodes)


@functools.lru_cache(maxsize=256)
def parse(template: str) -> list[Node]:
    """
    The template's nodes; raises ``TemplateError``. Deployed templates are
    few and rendered again and again, so their parses are kept (rendering
    never changes nodes).
    """
    nodes, _ = _Parser(template).nodes()
    return nodes


def to_text(value: object) -> str:
    """A value as a template writes it (Java's ``toString`` of the same value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(to_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{to_text(k)}={to_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _java_regex_replacement(replacement: str) -> str:
    """Java's ``$1`` group references as Python's ``\\g<1>``."""
    return re.sub(r"\$(\d+)", r"\\g<\1>", replacement.replace("\\", "\\\\"))


def _string_method(value: str, name: str, args: list[Any]) -> Any:
    methods: dict[str, Callable[..., Any]] = {
        "length": lambda: len(value),
        "size": lambda: len(value),
        "isEmpty": lambda: not value,
        "toLowerCase": value.lower,
        "toUpperCase": value.upper,
        "trim": value.strip,
        "toString": lambda: value,
        "contains": lambda s: to_text(s) in value,
        "startsWith": lambda s: value.startswith(to_text(s)),
        "endsWith": lambda s: value.endswith(to_text(s)),
        "indexOf": lambda s: value.find(to_text(s)),
        "lastIndexOf": lambda s: value.rfind(to_text(s)),
        "charAt": lambda i: value[i],
        "substring": lambda a, b=None: value[a:b],
        "replace": lambda a, b: value.replace(to_text(a), to_text(b)),
        "replaceAll": lambda a, b: re.sub(a, _java_regex_replacement(to_text(b)), value),
        "replaceFirst": lambda a, b: re.sub(a, _java_regex_replacement(to_text(b)), value, count=1),
        "matches": lambda pattern: re.fullmatch(pattern, value) is not None,
        "split": lambda pattern: [p for p in re.split(pattern, value)],
        "equals": lambda other: value == other,
        "equalsIgnoreCase": lambda other: value.lower() == to_text(other).lower(),
        "concat": lambda other: value + to_text(other),
    }
    return methods[name](*args)


def _list_method(value: list[Any], name: str, args: list[Any]) -> Any:
    def add(item: Any) -> bool:
        value.append(item)
        return True

    methods: dict[str, Callable[..., Any]] = {
        "size": lambda: len(value),
        "isEmpty": lambda: not value,
        "get": lambda index: value[index],
        "contains": lambda item: item in value,
        "indexOf": lambda item: value.index(item) if item in value else -1,
        "add": add,
        "toString": lambda: to_text(value),
    }
    return methods[name](*args)


def _map_method(value: dict[Any, Any], name: str, args: list[Any]) -> Any:
    def put(key: Any, item: Any) -> Any:
        previous = value.get(key)
        value[key] = item
        return previous

    methods: dict[str, Callable[..., Any]] = {
        "get": lambda key: value.get(key),
        "put": put,
        "containsKey": lambda key: key in value,
        "keySet": lambda: list(value),
        "values": lambda: list(value.values()),
        "entrySet": lambda: [{"key": k, "value": v} for k, v in value.items()],
        "size": lambda: len(value),
        "isEmpty": lambda: not value,
        "remove": lambda key: value.pop(key, None),
        "toString": lambda: to_text(value),
    }
    return methods[name](*args)


def _call(target: Any, name: str, args: list[Any]) -> Any:
    try:
        if isinstance(target, str):
            return _string_method(target, name, args)
        if isinstance(target, list):
            return _list_method(target, name, args)
        if isinstance(target, dict):
            return _map_method(target, name, args)
        if isinstance(target, Exposed) and not name.startswith("_"):
            return getattr(target, name)(*args)
    except (KeyError, AttributeError) as e:
        raise TemplateError(f"No method {name} with {len(args)} arguments") from e
    except (TypeError, IndexError, ValueError, re.error) as e:
        raise TemplateError(f"{name} failed: {e}") from e
    return None


def _property(target: Any, name: str) -> Any:
    if isinstance(target, Mapping):
        return target.get(name)
    if isinstance(target, Exposed) and not name.startswith("_"):
        return getattr(target, name, None)
    return None


def _equal(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return bool(a == b)
    if type(a) is type(b) or a is None or b is None:
        return bool(a == b)
    return to_text(a) == to_text(b)


def _arithmetic(symbol: str, a: Any, b: Any) -> Any:
    if symbol == "+" and (isinstance(a, str) or isinstance(b, str)):
        return to_text(a) + to_text(b)
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return None
    if symbol in ("/", "%") and b == 0:
        return None
    if symbol == "/":
        return a // b if isinstance(a, int) and isinstance(b, int) else a / b
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "%": lambda x, y: x % y,
    }
    return operations[symbol](a, b)


def _compare(symbol: str, a: Any, b: Any) -> bool:
    if symbol == "==":
        return _equal(a, b)
    if symbol == "!=":
        return not _equal(a, b)
    try:
        return bool(_ORDER[symbol](a, b))
    except TypeError:
        return False


def truthy(value: object) -> bool:
    return value is not None and value is not False


@attrs.define
class _Renderer:
    variables: dict[str, Any]
    out: list[str] = attrs.Factory(list)

    def render(self, nodes: list[Node]) -> None:
        for node in nodes:
            kind = node[0]
            if kind == "text":
                self.out.append(node[1])
            elif kind == "ref":
                self.out.append(to_text(self.evaluate(node[1])))
            elif kind == "set":
                self._set(node[1], self.evaluate(node[2]))
            elif kind == "if":
                for condition, body in node[1]:
                    if condition is None or truthy(self.evaluate(condition)):
                        self.render(body)
                        break
            elif kind == "foreach":
                self._foreach(node[1], self.evaluate(node[2]), node[3])
            elif kind == "break":
                raise _Break()
            else:
                raise _Stop()

    def _foreach(self, variable: str, iterable: Any, body: list[Node]) -> None:
        items = list(iterable.values()) if isinstance(iterable, dict) else iterable
        if not isinstance(items, list):
            return
        saved = {name: self.variables.get(name) for name in (variable, "foreach", "velocityCount")}
        try:
            for index, item in enumerate(items):
                self.variables[variable] = item
                self.variables["velocityCount"] = index + 1
                self.variables["foreach"] = {
                    "index": index,
                    "count": index + 1,
                    "hasNext": index + 1 < len(items),
                    "first": index == 0,
                    "last": index + 1 == len(items),
                }
                self.render(body)
        except _Break:
            pass
        finally:
            self.variables.update(saved)

    def _set(self, target: Expr, value: Any) -> None:
        if value is None:
            return
        _, name, accessors = target
        if not accessors:
            self.variables[name] = value
            return
        container = self._access(self.variables.get(name), accessors[:-1])
        last = accessors[-1]
        if last[0] == "prop" and isinstance(container, dict):
            container[last[1]] = value
        elif last[0] == "index" and isinstance(container, list | dict):
            try:
                container[self.evaluate(last[1])] = value
            except (IndexError, TypeError) as e:
                raise TemplateError(f"#set failed: {e}") from e

    def _access(self, value: Any, accessors: list[Expr]) -> Any:
        for accessor in accessors:
            if value is None:
                return None
            if accessor[0] == "prop":
                value = _property(value, accessor[1])
            elif accessor[0] == "call":
                value = _call(value, accessor[1], [self.evaluate(a) for a in accessor[2]])
            else:
                index = self.evaluate(accessor[1])
                try:
                    value = value[index]
                except (IndexError, KeyError, TypeError):
                    value = None
        return value

    def evaluate(self, expression: Expr) -> Any:
        kind = expression[0]
        if kind == "lit":
            return expression[1]
        if kind == "ref":
            return self._access(self.variables.get(expression[1]), expression[2])
        if kind == "list":
            return [self.evaluate(item) for item in expression[1]]
        if kind == "range":
            first, last = self.evaluate(expression[1]), self.evaluate(expression[2])
            if not isinstance(first, int) or not isinstance(last, int):
                return None
            step = 1 if last >= first else -1
            return list(range(first, last + step, step))
        if kind == "map":
            return {self.evaluate(k): self.evaluate(v) for k, v in expression[1]}
        if kind == "str":
            inner = _Renderer(self.variables)
            inner.render(expression[1])
            return "".join(inner.out)
        if kind == "not":
            return not truthy(self.evaluate(expression[1]))
        if kind == "neg":
            value = self.evaluate(expression[1])
            return -value if isinstance(value, int | float) else None
        symbol, left = expression[1], expression[2]
        if symbol == "&&":
            return truthy(self.evaluate(left)) and truthy(self.evaluate(expression[3]))
        if symbol == "||":
            return truthy(self.evaluate(left)) or truthy(self.evaluate(expression[3]))
        a, b = self.evaluate(left), self.evaluate(expression[3])
        if symbol in _COMPARISONS:
            return _compare(symbol, a, b)
        return _arithmetic(symbol, a, b)


def render(template: str | list[Node], variables: dict[str, Any]) -> str:
    """
    The text ``template`` (or its parsed nodes) makes with ``variables``;
    raises ``TemplateError``. ``#set`` changes ``variables`` (API Gateway
    reads ``$context.responseOverride`` after rendering).
    """
    nodes = parse(template) if isinstance(template, str) else template
    renderer = _Renderer(variables)
    try:
        renderer.render(nodes)
    except (_Stop, _Break):
        pass
    return "".join(renderer.out)
