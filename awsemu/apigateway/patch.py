"""
API Gateway's ``patchOperations``: JSON-pointer-like edits of a record
(``replace /name``, ``add /binaryMediaTypes/image~1png``, ``remove
/variables/color``, ``replace /endpointConfiguration/types/EDGE``).

Values arrive as strings; the record's botocore shape says what each
member holds, so ``"true"`` becomes a boolean where the model has one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from awsemu.apigateway.errors import bad_request
from awsemu.protocol import xmlshapes
from awsemu.protocol.model import load_service_model
from awsemu.protocol.values import WireValueError

METHOD_SETTINGS: Final[Mapping[str, str]] = {
    "logging/loglevel": "loggingLevel",
    "logging/dataTrace": "dataTraceEnabled",
    "metrics/enabled": "metricsEnabled",
    "throttling/burstLimit": "throttlingBurstLimit",
    "throttling/rateLimit": "throttlingRateLimit",
    "caching/enabled": "cachingEnabled",
    "caching/ttlInSeconds": "cacheTtlInSeconds",
    "caching/dataEncrypted": "cacheDataEncrypted",
    "caching/requireAuthorizationForCacheControl": "requireAuthorizationForCacheControl",
    "caching/unauthorizedCacheControlHeaderStrategy": "unauthorizedCacheControlHeaderStrategy",
}
"""A Stage's per-method settings: patch path suffix → ``MethodSetting`` member."""


def _method_setting(parts: list[str]) -> list[str] | None:
    """
    ``/{resource path}/{method}/{group}/{setting}`` (``/*/*/logging/loglevel``,
    as deploy tools send it) as the member path ``methodSettings``, then the
    settings key ``{resource path}/{method}``, then the ``MethodSetting`` member.
    """
    if len(parts) != 4:
        return None
    member = METHOD_SETTINGS.get(f"{parts[2]}/{parts[3]}")
    if member is None:
        return None
    return ["methodSettings", f"{parts[0].lstrip('/')}/{parts[1]}", member]


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def apply_patches(
    record: dict[str, Any],
    shape_name: str,
    operations: Iterable[Mapping[str, Any]],
    allowed: frozenset[str],
) -> None:
    """Apply ``operations`` to ``record``, whose top-level members ``allowed`` may change."""
    shape = load_service_model("apigateway").shape_for(shape_name)
    for operation in operations:
        op, path = operation.get("op", ""), operation.get("path", "")
        parts = [_unescape(part) for part in path.split("/")[1:]]
        if shape_name == "Stage":
            parts = _method_setting(parts) or parts
        if op not in ("add", "replace", "remove") or not parts or parts[0] not in allowed:
            raise bad_request(
                f"Invalid patch path '{path}' specified for op '{op}'. "
                f"Must be one of: [{', '.join(f'/{name}' for name in sorted(allowed))}]"
            )
        try:
            _apply(record, shape, parts, op, operation.get("value"), path)
        except WireValueError as e:
            raise bad_request(f"Invalid value for {path}: {e}") from e


def _apply(container: Any, shape: Any, parts: list[str], op: str, value: Any, path: str) -> None:
    name, rest = parts[0], parts[1:]
    kind = shape.type_name
    if kind == "list":
        if rest:
            raise bad_request(f"Invalid patch path '{path}'")
        if op == "add":
            container.append(value if value is not None else name)
        elif name not in container:
            raise bad_request(f"Invalid patch path '{path}': {name} is not present")
        elif op == "remove":
            container.remove(name)
        else:
            container[container.index(name)] = value
        return
    if kind == "structure":
        if name not in shape.members:
            raise bad_request(f"Invalid patch path '{path}'")
        member = shape.members[name]
    else:
        member = shape.value
    if rest:
        child = container.setdefault(name, [] if member.type_name == "list" else {})
        _apply(child, member, rest, op, value, path)
    elif op == "remove":
        container.pop(name, None)
    else:
        container[name] = _coerce(member, value)


def _coerce(shape: Any, value: Any) -> Any:
    if not isinstance(value, str) or shape.type_name in ("structure", "list", "map"):
        return value
    return xmlshapes.decode_scalar(shape, value)
