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
        return self._once(build, lambda: build(self.config, self.reactor))

    def assemble(self, build: Callable[[SharedObjects], T]) -> T:
        """
        The object ``build(shared)`` makes, made once for this daemon: for
        objects made of other shared objects (Lambda's core holds the log
        store and reads code through S3's core; Lambda and API Gateway both
        invoke functions through it).
        """
        return self._once(build, lambda: build(self))

    def _once(self, key: Callable[..., T], make: Callable[[], T]) -> T:
        try:
            found: T = self._built[key]
        except KeyError:
            found = self._built[key] = make()
        return found
