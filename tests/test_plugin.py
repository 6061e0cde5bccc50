"""
Tests for the packaging of awsemu: an ordinary install must make
C{twistd awsemu} and the C{awsemu} command work.

An editable install or a run from the source tree would find the plugin in
the repository whatever the wheel holds, so these tests install a wheel
into a fresh virtual environment and run it from outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from awsemu import __version__

ROOT = FilePath(__file__).parent().parent()

# What a build or a test run leaves in a work tree; copied along, a stale
# build/ directory would put files in the wheel that the source no longer has.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".*_cache",
    ".hypothesis",
    "_trial_temp*",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "dropin.cache",
)

# Twisted's twistd console script, run by the virtual environment's Python.
_TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"

_DISCOVER = """
import json
from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
import awsemu, twisted.plugins.awsemu_plugin as plugin
print(json.dumps({
    "tapnames": [maker.tapname for maker in getPlugins(IServiceMaker)],
    "modules": [awsemu.__file__, plugin.__file__],
}))
"""


class InstalledWheelTests(SynchronousTestCase):
    """
    A wheel of the repository, installed without its source tree, provides
    the twistd plugin and the console script.
    """

    def setUp(self) -> None:
        self.scratch = FilePath(tempfile.mkdtemp())
        self.addCleanup(self.scratch.remove)
        # Nothing but the virtual environment decides what is importable.
        self.environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run_command(self, *argv: str, expect: int = 0) -> str:
        """
        Run C{argv} from the scratch directory, outside the repository.

        @param expect: The exit status that the command must end with.
        @return: What the command wrote to its standard output and error.
        """
        result = subprocess.run(
            argv,
            cwd=self.scratch.path,
            env=self.environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if result.returncode != expect:
            self.fail(f"{argv!r} exited with {result.returncode}, not {expect}:\n{result.stdout}")
        return result.stdout

    def build_wheel(self) -> FilePath[str]:
        """Build a wheel from a clean copy of the repository and return it."""
        source = self.scratch.child("source")
        shutil.copytree(ROOT.path, source.path, ignore=_NOT_SOURCE)
        dist = self.scratch.child("dist")
        self.run_command(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            dist.path,
            source.path,
        )
        (wheel,) = dist.globChildren("awsemu-*.whl")
        return wheel

    def test_installed_wheel(self) -> None:
        """
        The wheel holds the plugin and no C{__init__.py} for Twisted's
        packages; installed, twistd finds the plugin and the C{awsemu}
        command runs.

        One test does it all so the wheel and environment are built once.
        """
        wheel = self.build_wheel()
        with zipfile.ZipFile(wheel.path) as archive:
            names = archive.namelist()
        self.assertIn("twisted/plugins/awsemu_plugin.py", names)
        self.assertIn("awsemu/dynamodb/LoopbackLauncher.java", names)
        self.assertNotIn("twisted/__init__.py", names)
        self.assertNotIn("twisted/plugins/__init__.py", names)

        # A separate environment: CI installs awsemu system-wide before the
        # tests, and Twisted's plugin search would find that copy through
        # system site-packages. The command line needs only Twisted and attrs
        # (pip takes them from its cache when it can).
        venv = self.scratch.child("venv")
        self.run_command(sys.executable, "-m", "venv", venv.path)
        python = venv.descendant(["bin", "python"]).path
        self.run_command(python, "-m", "pip", "install", "--quiet", "twisted", "attrs")
        self.run_command(python, "-m", "pip", "install", "--no-deps", "--no-index", wheel.path)

        found = json.loads(self.run_command(python, "-c", _DISCOVER))
        self.assertIn("awsemu", found["tapnames"])
        for module in found["modules"]:
            self.assertTrue(module.startswith(venv.path + os.sep), module)

        self.assertIn("--port", self.run_command(python, "-c", _TWISTD, "awsemu", "--help"))
        refused = self.run_command(python, "-c", _TWISTD, "awsemu", "--region=mars", expect=1)
        self.assertIn("--region: 'mars' is not an AWS region name", refused)
        self.assertNotIn("Traceback", refused)

        version = self.run_command(venv.descendant(["bin", "awsemu"]).path, "--version")
        self.assertEqual(version, f"awsemu {__version__}\n")
