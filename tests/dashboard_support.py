"""
What the dashboard's browser tests need: Debian's Chromium and npm's
``playwright-core`` (which ``ci/chromium.sh`` installs in ``build/node``).
Without them the tests skip, or fail when ``AWSEMU_REQUIRE_BROWSER`` is set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SkipTest

from tests.daemon import ROOT

CHROMIUM = os.environ.get("AWSEMU_CHROMIUM", "/usr/bin/chromium")
NODE_ROOT = ROOT / "build" / "node"
SCREENSHOTS = ROOT / "build" / "screenshots"
DRIVER = Path(__file__).with_name("test_dashboard_browser.mjs")


def require_browser() -> None:
    """Skip unless Chromium, node and playwright-core are here (AWSEMU_REQUIRE_BROWSER: fail)."""
    missing = [
        what
        for what, present in (
            (CHROMIUM, os.access(CHROMIUM, os.X_OK)),
            ("node", shutil.which("node") is not None),
            ("playwright-core", (NODE_ROOT / "node_modules" / "playwright-core").is_dir()),
        )
        if not present
    ]
    if not missing:
        return
    why = "not installed (run ci/chromium.sh): " + ", ".join(missing)
    if os.environ.get("AWSEMU_REQUIRE_BROWSER"):
        raise AssertionError(f"AWSEMU_REQUIRE_BROWSER is set but {why}")
    raise SkipTest(why)


def drive(url: str, case: Mapping[str, Any], timeout: float = 180) -> dict[str, Any]:
    """Run the browser script against the dashboard at ``url``; what it found."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    finished = subprocess.run(
        ["node", str(DRIVER)],
        env={
            **os.environ,
            "NODE_ROOT": str(NODE_ROOT),
            "DASHBOARD_URL": url,
            "DASHBOARD_CASE": json.dumps(case),
            "SCREENSHOTS": str(SCREENSHOTS),
            "CHROMIUM": CHROMIUM,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if finished.returncode != 0:
        raise AssertionError(f"the browser script failed:\n{finished.stderr}")
    found: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return found
