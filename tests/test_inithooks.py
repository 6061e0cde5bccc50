"""Init hooks (``--init-dir``): scripts run at boot, start, ready and shutdown."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu import inithooks
from awsemu.inithooks import command, init_dir
from tests.daemon import Daemon


def hooks(root: Path, scripts: dict[str, str]) -> Path:
    """An init directory holding ``scripts`` (``stage.d/name`` → text)."""
    for name, text in scripts.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


class UnitTests(SynchronousTestCase):
    def test_command(self) -> None:
        """Shell and Python scripts by suffix, other executables as they are, nothing else."""
        root = Path(self.mktemp())
        root.mkdir()
        executable = root / "run"
        executable.write_text("#!/bin/sh\n")
        executable.chmod(0o755)
        (root / "notes.txt").write_text("")
        self.assertEqual(command(root / "a.sh"), ["sh", str(root / "a.sh")])
        self.assertEqual(command(root / "a.py")[1:], [str(root / "a.py")])  # type: ignore[index]
        self.assertEqual(command(executable), [str(executable)])
        self.assertIsNone(command(root / "notes.txt"))

    def test_default_directory(self) -> None:
        """Without ``--init-dir``, /etc/awsemu/init is used only when it exists."""
        missing = Path(self.mktemp())
        self.patch(inithooks, "DEFAULT_INIT_DIR", missing)
        self.assertIsNone(init_dir(None))
        missing.mkdir()
        self.assertEqual(init_dir(None), missing)
        self.assertEqual(init_dir("/elsewhere"), Path("/elsewhere"))


class DaemonTests(SynchronousTestCase):
    def test_stages(self) -> None:
        """
        Each stage's scripts run in order with the endpoint and test
        credentials; their output is logged; the health document tells
        how each went; a failing script does not stop the daemon.
        """
        root = hooks(
            Path(self.mktemp()).resolve(),
            {
                "boot.d/01.sh": "echo boot $AWS_ACCESS_KEY_ID\n",
                "start.d/01.sh": "echo start\n",
                "ready.d/01.py": (
                    "import boto3\n"
                    "boto3.client('s3').create_bucket(Bucket='made-at-ready')\n"
                    "print('bucket made')\n"
                ),
                "ready.d/02.sh": "echo failing; exit 3\n",
                "ready.d/README": "not a script\n",
                "shutdown.d/01.sh": "echo shutdown $AWS_ENDPOINT_URL\n",
            },
        )
        daemon = Daemon(self, "--services", "s3", "--init-dir", str(root))
        deadline = time.monotonic() + 30
        health: Any = daemon.health()
        while not health["init"]["completed"]["READY"] and time.monotonic() < deadline:
            time.sleep(0.05)
            health = daemon.health()
        self.assertEqual(
            health["init"],
            {
                "completed": {"BOOT": True, "START": True, "READY": True, "SHUTDOWN": False},
                "scripts": [
                    {"stage": "BOOT", "name": "01.sh", "state": "SUCCESSFUL"},
                    {"stage": "START", "name": "01.sh", "state": "SUCCESSFUL"},
                    {"stage": "READY", "name": "01.py", "state": "SUCCESSFUL"},
                    {"stage": "READY", "name": "02.sh", "state": "ERROR"},
                    {"stage": "SHUTDOWN", "name": "01.sh", "state": "PENDING"},
                ],
            },
        )
        s3: Any = daemon.client("s3")
        self.assertEqual([b["Name"] for b in s3.list_buckets()["Buckets"]], ["made-at-ready"])
        daemon.stop()
        lines = [line.split("] ", 1)[-1] for line in daemon.output.splitlines()]
        for expected in (
            "init boot.d/01.sh: boot test",
            "init start.d/01.sh: start",
            "init ready.d/01.py: bucket made",
            "init ready.d/02.sh: failing",
            "init ready.d/02.sh failed (exit status 3)",
            f"init shutdown.d/01.sh: shutdown {daemon.url}",
        ):
            self.assertIn(expected, lines)
        # shutdown.d ran while the port was still open.
        self.assertLess(
            lines.index(f"init shutdown.d/01.sh: shutdown {daemon.url}"),
            [i for i, line in enumerate(lines) if "Closed" in line][0],
        )

    def test_no_hooks(self) -> None:
        """Without hooks the health document has no ``init``."""
        self.patch(os, "environ", {k: v for k, v in os.environ.items() if k != "AWSEMU_INIT_DIR"})
        daemon = Daemon(self, "--services", "sts")
        self.assertNotIn("init", daemon.health())
