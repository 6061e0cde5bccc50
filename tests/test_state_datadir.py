"""
The data directory is private: created 0700 under a 077 umask, its JSON
documents written 0600 whatever the umask, and a warning for an existing
directory other users can read.
"""

from __future__ import annotations

import os
import stat
from typing import cast

from twisted.logger import ILogObserver, Logger
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from awsemu.state.datadir import make_private
from awsemu.state.jsonfile import JsonFile


def mode(path: FilePath[str]) -> int:
    return stat.S_IMODE(os.stat(path.path).st_mode)


class MakePrivateTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.addCleanup(os.umask, os.umask(0o022))
        self.root = FilePath(self.mktemp())
        self.events: list[dict[str, object]] = []
        self.log = Logger(observer=cast(ILogObserver, self.events.append))

    def test_fresh_directory(self) -> None:
        """A missing data dir is created 0700, and what is created after it is private too."""
        data = self.root.child("data")
        make_private(data, self.log)
        self.assertEqual(mode(data), 0o700)
        data.child("sub").makedirs()
        with open(data.child("sub").child("file").path, "wb") as file:
            file.write(b"secret")
        self.assertEqual(mode(data.child("sub")), 0o700)
        self.assertEqual(mode(data.child("sub").child("file")), 0o600)
        self.assertEqual(self.events, [])

    def test_open_directory_warned(self) -> None:
        """An existing directory others can read is left as it is, with a warning saying so."""
        self.root.makedirs()
        os.chmod(self.root.path, 0o755)
        make_private(self.root, self.log)
        self.assertEqual(mode(self.root), 0o755)
        [event] = self.events
        self.assertEqual(event["log_level"].name, "warn")  # type: ignore[attr-defined]
        self.assertEqual(event["path"], self.root.path)
        self.assertIn("chmod 700", str(event["log_format"]))

    def test_private_directory_quiet(self) -> None:
        self.root.makedirs()
        os.chmod(self.root.path, 0o700)
        make_private(self.root, self.log)
        self.assertEqual(self.events, [])


class JsonFileModeTests(SynchronousTestCase):
    def test_saved_private(self) -> None:
        """A saved document (IAM's holds secret keys) is 0600 even under a permissive umask."""
        self.addCleanup(os.umask, os.umask(0o022))
        document = JsonFile(FilePath(self.mktemp()).child("iam").child("state.json"))
        document.save({"secret": "x"})
        self.assertEqual(mode(document.path), 0o600)
        document.save({"secret": "y"})
        self.assertEqual(mode(document.path), 0o600)
        self.assertEqual(document.load(), {"secret": "y"})
        self.assertEqual(document.path.parent().listdir(), ["state.json"])
