"""
A service's health, as the gateway's health document and start report show
it. Its own module, light to import, for what the daemon builds before the
gateway's modules load (DynamoDB Local's supervisor).
"""

from __future__ import annotations

import attrs


@attrs.frozen
class ServiceState:
    """A service's health: ``starting``, ``running`` or ``error`` (with why)."""

    status: str
    reason: str | None = None


RUNNING = ServiceState("running")
