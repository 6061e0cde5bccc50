"""
Persistence for stores small enough to rewrite whole: one JSON document
per file, replaced atomically on every save, so a crash leaves either the
old state or the new one on disk, never half of each.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import attrs
from twisted.python.filepath import FilePath

from awsemu.state.datadir import FILE_MODE


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
        """
        Replace the file with ``document``, written aside then renamed over
        it; readable by its owner only, whatever the umask (it may hold
        secret keys).
        """
        parent = self.path.parent()
        if not parent.isdir():
            parent.makedirs(ignoreExistingDirectory=True)
        aside = self.path.siblingExtension(".new")
        descriptor = os.open(aside.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), FILE_MODE)
            file.write(json.dumps(document, separators=(",", ":")).encode("utf-8"))
        os.replace(aside.path, self.path.path)


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
