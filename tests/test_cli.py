"""Tests for L{awsemu.cli}, the C{awsemu} command."""

from __future__ import annotations

import sys
from io import StringIO

from twisted.trial.unittest import SynchronousTestCase

from awsemu import __version__
from awsemu.cli import main


class MainTests(SynchronousTestCase):
    """L{main} parses the command line and runs the command named."""

    def setUp(self) -> None:
        self.stdout = StringIO()
        self.stderr = StringIO()
        self.patch(sys, "stdout", self.stdout)
        self.patch(sys, "stderr", self.stderr)

    def test_version(self) -> None:
        """C{--version} prints the name and version and exits successfully."""
        e = self.assertRaises(SystemExit, main, ["--version"])
        self.assertEqual(e.code, 0)
        self.assertEqual(self.stdout.getvalue(), f"awsemu {__version__}\n")

    def test_unknown_command(self) -> None:
        """A command that does not exist is a usage error."""
        e = self.assertRaises(SystemExit, main, ["frobnicate"])
        self.assertEqual(e.code, 2)
        self.assertIn("invalid choice: 'frobnicate'", self.stderr.getvalue())

    def test_no_command(self) -> None:
        """Naming no command is a usage error."""
        e = self.assertRaises(SystemExit, main, [])
        self.assertEqual(e.code, 2)
        self.assertIn("required: COMMAND", self.stderr.getvalue())
