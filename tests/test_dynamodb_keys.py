"""The secret of DynamoDB Local's access keys, kept in a data directory."""

from __future__ import annotations

import os
import stat

from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from awsemu.dynamodb.keys import SECRET_FILE, kept_secret, new_secret


class KeptSecretTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.directory = FilePath(self.mktemp())

    def test_made_once(self) -> None:
        """The secret is letters and digits, made on first use, private, and the same later."""
        secret = kept_secret(self.directory)
        self.assertRegex(secret, r"^[0-9a-f]{32}$")
        path = self.directory.child(SECRET_FILE)
        self.assertEqual(stat.S_IMODE(os.stat(path.path).st_mode), 0o600)
        self.assertEqual(kept_secret(self.directory), secret)
        self.assertNotEqual(new_secret(), new_secret())

    def test_databases_renamed_once(self) -> None:
        """
        Databases from before the secret get its names when it is made;
        one that appears later is left as it is.
        """
        self.directory.makedirs()
        self.directory.child("111111111111_eu-west-1.db").setContent(b"tables")
        self.directory.child("tables.json").setContent(b"{}")
        secret = kept_secret(self.directory)
        self.assertEqual(
            self.directory.child(f"{secret}111111111111_eu-west-1.db").getContent(), b"tables"
        )
        self.directory.child("222222222222_eu-west-1.db").setContent(b"direct")
        kept_secret(self.directory)
        self.assertEqual(
            sorted(self.directory.listdir()),
            sorted(
                [
                    f"{secret}111111111111_eu-west-1.db",
                    "222222222222_eu-west-1.db",
                    SECRET_FILE,
                    "tables.json",
                ]
            ),
        )

    def test_interrupted_start_resumes(self) -> None:
        """A start cut short before the secret was in place resumes with the same secret."""
        self.directory.makedirs()
        self.directory.child(SECRET_FILE + ".new").setContent(b"abc123")
        self.directory.child("abc123111111111111_eu-west-1.db").setContent(b"moved")
        self.directory.child("222222222222_eu-west-1.db").setContent(b"not yet")
        self.assertEqual(kept_secret(self.directory), "abc123")
        self.assertEqual(
            sorted(self.directory.listdir()),
            [
                "abc123111111111111_eu-west-1.db",
                "abc123222222222222_eu-west-1.db",
                SECRET_FILE,
            ],
        )
