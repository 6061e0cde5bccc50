"""
Which deployed resource and method answer a call, as API Gateway picks
them: the most specific resource path wins, segment by segment from the
left (a literal beats ``{param}``, which beats ``{proxy+}``), among the
resources that have the call's method or ``ANY``; on one resource an
explicit method beats ``ANY``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote

import attrs

from awsemu.apigateway.store import Record

_LITERAL: Final = 0
_PARAMETER: Final = 1
_GREEDY: Final = 2


@attrs.frozen
class Match:
    """The resource and method a call reached, and the path parameters it gave."""

    resource: Record
    method: Record
    path_parameters: dict[str, str]


def _fit(template: str, segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """
    How ``segments`` (decoded) fit a resource path: the rank of each
    template segment (lower is more specific) and the parameters, or None.
    """
    parts = [part for part in template.split("/") if part]
    ranks: list[int] = []
    parameters: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if not rest:
                return None
            parameters[part[1:-2]] = "/".join(rest)
            ranks.append(_GREEDY)
            return tuple(ranks), parameters
        if index >= len(segments):
            return None
        if part.startswith("{"):
            parameters[part[1:-1]] = segments[index]
            ranks.append(_PARAMETER)
        elif part == segments[index]:
            ranks.append(_LITERAL)
        else:
            return None
    if len(parts) != len(segments):
        return None
    return tuple(ranks), parameters


def split_path(path: str) -> list[str]:
    """A raw request path's segments, percent-decoded as API Gateway passes them on."""
    return [unquote(segment) for segment in path.split("/") if segment]


def match(resources: Iterable[Record], http_method: str, path: str) -> Match | None:
    """The resource and method serving ``http_method`` on the raw ``path``, or None."""
    segments = split_path(path)
    best: tuple[tuple[int, ...], bool] | None = None
    found: Match | None = None
    for resource in resources:
        methods = resource.get("resourceMethods") or {}
        method, via_any = methods.get(http_method), False
        if method is None:
            method, via_any = methods.get("ANY"), True
        if method is None:
            continue
        fit = _fit(resource["path"], segments)
        if fit is None:
            continue
        ranks, parameters = fit
        if best is None or (ranks, via_any) < best:
            best = (ranks, via_any)
            found = Match(resource, method, parameters)
    return found
