"""
Objects several services of one daemon share, such as the IAM store that
IAM, STS and the gateway's account lookup all read, or the log store that
Lambda writes to and CloudWatch Logs serves.

Each service factory receives the daemon's ``SharedObjects`` and asks it
for what it needs by naming the function that builds it; the first ask
builds it, later asks (by any service) get the same object. Nothing is
kept beyond the daemon: two daemons in one process share nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

if TYPE_CHECKING:
    from awsemu.config import Config

T = TypeVar("T")


@attrs.define
class SharedObjects:
    """The shared objects of the daemon configured by ``config``."""

    config: Config
    reactor: Any
    _built: dict[Callable[..., Any], Any] = attrs.field(factory=dict, init=False)

    def obtain(self, build: Callable[[Config, Any], T]) -> T:
        """The object ``build(config, reactor)`` makes, made once for this daemon."""
        try:
            found: T = self._built[build]
        except KeyError:
            found = self._built[build] = build(self.config, self.reactor)
        return found
