"""
Persistence for stores small enough to rewrite whole: one JSON document
per file, replaced atomically on every save, so a crash leaves either the
old state or the new one on disk, never half of each.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import attrs
from twisted.python.filepath import FilePath

from awsemu.state.datadir import write_private


@attrs.frozen
class JsonFile:
    """The JSON document at ``path``; its directory is created on first save."""

    path: FilePath[str]

    def load(self) -> Any:
        """The saved document, or None if nothing was saved yet."""
        if not self.path.exists():
            return None
        return json.loads(self.path.getContent())

    def save(self, document: Any) -> None:
        """Replace the file with ``document``, privately (it may hold secret keys)."""
        parent = self.path.parent()
        if not parent.isdir():
            parent.makedirs(ignoreExistingDirectory=True)
        write_private(self.path, json.dumps(document, separators=(",", ":")).encode("utf-8"))


class Saved(Protocol):
    """A store that can write itself out (a no-op when it is kept in memory only)."""

    def save(self) -> None: ...


class HasStore(Protocol):
    @property
    def store(self) -> Saved: ...


S = TypeVar("S", bound=HasStore)
P = ParamSpec("P")
T = TypeVar("T")


def saving(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """
    Mark a provider operation that changes state: its provider's store is
    saved once the operation succeeds (a failed one changed nothing worth
    keeping, since providers check before they change).
    """

    async def operation(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        result = await method(self, *args, **kwargs)
        self.store.save()
        return result

    functools.update_wrapper(operation, method)
    return operation
