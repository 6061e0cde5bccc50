"""Tests for L{awsemu.dynamodb.jvm}: how the daemon's configuration becomes a JVM command."""

from __future__ import annotations

from pathlib import Path

from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config
from awsemu.dynamodb.installer import DynamoDBLocal
from awsemu.dynamodb.jvm import jvm_command
from awsemu.dynamodb.supervisor import JvmCommand, Unavailable


class JvmCommandTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.cache = Path(self.mktemp()).absolute()
        self.jar = self.cache / "dynamodb-local" / "DynamoDBLocal.jar"

    def install(self) -> None:
        self.jar.parent.mkdir(parents=True)
        self.jar.write_bytes(b"jar")

    def test_not_installed(self) -> None:
        """Without DynamoDB Local in the cache, the fix is to install it."""
        self.assertEqual(
            jvm_command(Config(), self.cache),
            Unavailable(
                "DynamoDB Local is not installed:"
                " run `awsemu install dynamodb-local`, then restart awsemu"
            ),
        )

    def test_given_missing(self) -> None:
        """A --dynamodb-local without a jar names the option to fix."""
        config = Config(dynamodb_local=FilePath(str(self.cache)))
        self.assertEqual(
            jvm_command(config, self.cache),
            Unavailable(f"No DynamoDB Local at {self.cache}: fix --dynamodb-local"),
        )

    def test_no_java(self) -> None:
        """Without java, the fix is to install it or name it."""
        self.install()
        command = jvm_command(Config(java="no-such-java-here"), self.cache)
        assert isinstance(command, Unavailable)
        self.assertIn("Java (no-such-java-here) is not installed", command.reason)
        self.assertIn("--java PATH", command.reason)

    def test_command(self) -> None:
        """
        With a data directory, tables live in its dynamodb folder; the heap
        is passed on; the launcher is compiled into the cache directory.
        """
        self.install()
        data = FilePath(self.mktemp())
        command = jvm_command(Config(data_dir=data, java="sh", dynamodb_heap="1g"), self.cache)
        assert isinstance(command, JvmCommand)
        self.assertEqual(command.dynamodb_local, DynamoDBLocal(self.jar))
        self.assertEqual(command.db_path, Path(data.path) / "dynamodb")
        self.assertEqual(command.heap, "1g")
        self.assertEqual(command.cache_dir, self.cache)
        self.assertTrue(command.java.endswith("/sh"))
