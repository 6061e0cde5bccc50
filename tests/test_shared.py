"""The per-daemon shared objects services obtain from one another."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config
from awsemu.shared import SharedObjects


def build(config: Config, reactor: Any) -> list[object]:
    return [config, reactor]


class SharedObjectsTests(SynchronousTestCase):
    def test_once_per_daemon(self) -> None:
        """A builder runs once per daemon, with its config and reactor; daemons share nothing."""
        config, reactor = Config(), object()
        shared = SharedObjects(config, reactor)
        first = shared.obtain(build)
        self.assertEqual(first, [config, reactor])
        self.assertIs(shared.obtain(build), first)
        self.assertIsNot(SharedObjects(config, reactor).obtain(build), first)
