"""
Finding a REST operation from method, path, query and headers.

Every operation of a ``rest-xml`` / ``rest-json`` model declares a URI
template (``/{Bucket}/{Key+}?uploads``). Several share one template and
differ only by a query key (``?versioning``), a required query member
(S3's ``UploadPart`` needs ``partNumber`` and ``uploadId``) or a required
header (``CopyObject`` needs ``x-amz-copy-source``), so the most specific
operation whose requirements the request meets wins.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from awsemu.protocol.http import HttpRequest

_LABEL = re.compile(r"\{([^}]+)\}")


@attrs.frozen
class RouteCandidate:
    """One operation's matching requirements, compiled once."""

    operation: Any
    query: tuple[tuple[str, str | None], ...]
    headers: tuple[str, ...]
    deprecated: bool

    def query_matches(self, present: dict[str, str]) -> bool:
        for key, value in self.query:
            if key not in present or (value is not None and present[key] != value):
                return False
        return True

    def headers_match(self, request: HttpRequest) -> bool:
        return all(header in request.headers for header in self.headers)


@attrs.frozen
class PathPattern:
    """One URI template's path part and the operations that use it, most specific first."""

    regex: re.Pattern[str]
    labels: tuple[tuple[str, str, bool], ...]  # (group, label, greedy)
    candidates: tuple[RouteCandidate, ...]
    unqueried: tuple[RouteCandidate, ...] = attrs.field(init=False)
    """The ``candidates`` a request without a query can be: those that require none."""

    @unqueried.default
    def _unqueried(self) -> tuple[RouteCandidate, ...]:
        return tuple(candidate for candidate in self.candidates if not candidate.query)


def _compile_path(path: str) -> tuple[str, tuple[tuple[str, str, bool], ...]]:
    """A regex for a URI template's path; a trailing slash is optional unless greedy."""
    pattern = ["^"]
    labels = []
    position = 0
    for index, match in enumerate(_LABEL.finditer(path)):
        pattern.append(re.escape(path[position : match.start()]))
        label = match.group(1)
        greedy = label.endswith("+")
        group = f"g{index}"
        pattern.append(f"(?P<{group}>.+)" if greedy else f"(?P<{group}>[^/]+)")
        labels.append((group, label.rstrip("+"), greedy))
        position = match.end()
    tail = path[position:]
    if tail.endswith("/") and len(path) > 1:
        tail = tail[:-1]
    pattern.append(re.escape(tail))
    if not (labels and labels[-1][2] and not tail) and path != "/":
        pattern.append("/?")
    pattern.append("$")
    return "".join(pattern), tuple(labels)


def _template_query(query: str) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for part in filter(None, query.split("&")):
        key, sep, value = part.partition("=")
        pairs.append((key, value if sep else None))
    return pairs


@attrs.frozen
class RestRouter:
    """
    Maps requests to operations of one REST service model. Besides the
    routing table it keeps, per operation, its compiled path (to read the
    URI labels of a request for an operation given by name) and the query
    keys its template itself claims (``?mode=import`` is no parameter).
    """

    patterns: dict[str, tuple[PathPattern, ...]]
    shadowed: dict[str, str]
    operation_patterns: dict[str, PathPattern]
    template_keys: dict[str, frozenset[str]]

    @classmethod
    def from_model(cls, service_model: Any) -> RestRouter:
        grouped: dict[tuple[str, str], list[RouteCandidate]] = {}
        template_keys: dict[str, frozenset[str]] = {}
        for name in service_model.operation_names:
            operation = service_model.operation_model(name)
            path, _, query = operation.http["requestUri"].partition("?")
            required_query = _template_query(query)
            template_keys[name] = frozenset(key for key, _ in required_query)
            required_headers: list[str] = []
            shape = operation.input_shape
            if shape is not None:
                for member_name in shape.required_members:
                    member = shape.members[member_name]
                    location = member.serialization.get("location")
                    wire_name = member.serialization.get("name", member_name)
                    if location == "querystring" and member.type_name != "map":
                        required_query.append((wire_name, None))
                    elif location == "header":
                        required_headers.append(wire_name.lower())
            candidate = RouteCandidate(
                operation=operation,
                query=tuple(sorted(set(required_query), key=str)),
                headers=tuple(sorted(required_headers)),
                deprecated=bool(operation.deprecated),
            )
            grouped.setdefault((operation.http["method"], path), []).append(candidate)

        by_method: dict[str, list[tuple[tuple[bool, int], PathPattern]]] = {}
        operation_patterns: dict[str, PathPattern] = {}
        signatures: dict[tuple[object, ...], list[RouteCandidate]] = {}
        for (method, path), candidates in grouped.items():
            regex, labels = _compile_path(path)
            candidates.sort(key=_specificity)
            literal_length = len(_LABEL.sub("", path))
            greedy = any(greedy for _, _, greedy in labels)
            pattern = PathPattern(re.compile(regex), labels, tuple(candidates))
            by_method.setdefault(method, []).append(((greedy, -literal_length), pattern))
            for candidate in candidates:
                operation_patterns[candidate.operation.name] = pattern
                signature = (method, regex, candidate.query, candidate.headers)
                signatures.setdefault(signature, []).append(candidate)
        patterns = {
            method: tuple(pattern for _, pattern in sorted(entries, key=lambda e: e[0]))
            for method, entries in by_method.items()
        }
        shadowed = {}
        for same in signatures.values():
            winner = sorted(same, key=_specificity)[0].operation.name
            for candidate in same:
                if candidate.operation.name != winner:
                    shadowed[candidate.operation.name] = winner
        return cls(patterns, shadowed, operation_patterns, template_keys)

    def match(self, request: HttpRequest) -> tuple[Any, dict[str, str]] | None:
        """
        The operation for ``request`` and its raw (still encoded) URI labels,
        or None when no template fits.
        """
        present = dict(request.query)
        for pattern in self.patterns.get(request.method, ()):
            found = pattern.regex.match(request.path)
            if found is None:
                continue
            chosen = _choose(pattern.candidates if present else pattern.unqueried, present, request)
            if chosen is not None:
                labels = {label: found.group(group) for group, label, _ in pattern.labels}
                return chosen.operation, labels
        return None


def _specificity(candidate: RouteCandidate) -> tuple[int, int, bool, str]:
    return (
        -len(candidate.query),
        -len(candidate.headers),
        candidate.deprecated,
        candidate.operation.name,
    )


def _choose(
    candidates: tuple[RouteCandidate, ...], present: dict[str, str], request: HttpRequest
) -> RouteCandidate | None:
    """
    The most specific candidate whose query and header requirements hold;
    but when a candidate asked for by its query keys lacks only a required
    header, it still wins over less specific ones, so the request fails
    validation for that operation instead of silently becoming another.
    """
    first_by_query: RouteCandidate | None = None
    for candidate in candidates:
        if not candidate.query_matches(present):
            continue
        if first_by_query is None:
            first_by_query = candidate
        if candidate.headers_match(request):
            if len(candidate.query) < len(first_by_query.query):
                return first_by_query
            return candidate
    return first_by_query
