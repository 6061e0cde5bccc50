"""
Tests for L{awsemu.dynamodb.sharing}: DynamoDB Local's class data sharing
archive, made by ``awsemu install dynamodb-local`` and used when present.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import attrs
from twisted.trial.unittest import SynchronousTestCase

from awsemu.cli import main
from awsemu.dynamodb.installer import DynamoDBLocal, default_cache_dir, find_dynamodb_local
from awsemu.dynamodb.sharing import (
    ArchiveError,
    ClassArchive,
    _answers,
    copy_without_class_path,
    manifest_class_path,
)
from awsemu.dynamodb.supervisor import LAUNCHER_SOURCE, JvmCommand, free_loopback_port
from tests.dynamodb_support import require_dynamodb_local

MANIFEST = (
    "Manifest-Version: 1.0\r\n"
    "Main-Class: a.Main\r\n"
    "Class-Path: . log4j2.xml lib/one.jar lib/tw\r\n"
    " o.jar\r\n"
    "Bundle-Description: kept\r\n"
    "\r\n"
)


class ManifestTests(SynchronousTestCase):
    """The jar's manifest: its class path read, and left out of a copy."""

    def setUp(self) -> None:
        self.directory = Path(self.mktemp())
        self.directory.mkdir()
        self.jar = self.directory / "DynamoDBLocal.jar"
        with zipfile.ZipFile(self.jar, "w") as jar:
            jar.writestr("META-INF/MANIFEST.MF", MANIFEST)
            jar.writestr("a/Main.class", b"\xca\xfe\xba\xbe")

    def test_class_path(self) -> None:
        """Entries are read across continuation lines."""
        self.assertEqual(
            manifest_class_path(self.jar), [".", "log4j2.xml", "lib/one.jar", "lib/two.jar"]
        )

    def test_copy(self) -> None:
        """The copy has every entry, and a manifest without Class-Path (nor its continuation)."""
        copy = self.directory / "copy.jar"
        copy_without_class_path(self.jar, copy)
        with zipfile.ZipFile(copy) as jar:
            self.assertEqual(jar.read("a/Main.class"), b"\xca\xfe\xba\xbe")
            self.assertEqual(
                jar.read("META-INF/MANIFEST.MF").decode(),
                "Manifest-Version: 1.0\r\nMain-Class: a.Main\r\nBundle-Description: kept\r\n\r\n",
            )
        self.assertEqual(manifest_class_path(copy), [])


class ArchiveChoiceTests(SynchronousTestCase):
    """L{JvmCommand.argv} uses the archive once it is made, and only for its jar."""

    def setUp(self) -> None:
        self.directory = Path(self.mktemp()).absolute()
        self.jar = self.directory / "ddb" / "DynamoDBLocal.jar"
        self.jar.parent.mkdir(parents=True)
        self.jar.write_bytes(b"jar")
        self.command = JvmCommand(
            "/usr/bin/java", DynamoDBLocal(self.jar), cache_dir=self.directory / "cache"
        )

    def test_not_made(self) -> None:
        """Without the archive, DynamoDB Local runs as it comes."""
        argv = self.command.argv(9000)
        self.assertEqual(argv[argv.index("-cp") + 1], f"{self.command.launcher}:{self.jar}")
        self.assertFalse([option for option in argv if "Shar" in option])

    def test_made(self) -> None:
        """With it, the JVM maps it, quietly, on the class path it was made with."""
        archive = self.command.class_archive
        archive.directory.mkdir(parents=True)
        archive.archive.write_bytes(b"archive")
        (archive.directory / "class-path").write_text("/a.jar:/b.jar")
        argv = self.command.argv(9000)
        self.assertEqual(argv[argv.index("-cp") + 1], "/a.jar:/b.jar")
        self.assertIn(f"-XX:SharedArchiveFile={archive.archive}", argv)
        self.assertIn("-Xlog:cds=off,cds+dynamic=off", argv)
        self.assertEqual(
            argv[-5:], ["LoopbackLauncher", "-port", "9000", "-disableTelemetry", "-inMemory"]
        )

    def test_other_jar(self) -> None:
        """A changed jar, another java or another launcher has an archive of its own."""
        first = self.command.class_archive
        os.utime(self.jar, ns=(0, 0))
        self.assertNotEqual(self.command.class_archive, first)
        changed = self.command.class_archive
        self.assertNotEqual(
            ClassArchive.for_run(self.command.cache_dir, LAUNCHER_SOURCE, "/opt/java", self.jar),
            changed,
        )
        self.assertEqual(changed.directory.parent, self.command.cache_dir)


class MakeTests(SynchronousTestCase):
    """With java and DynamoDB Local installed, the archive is made and used."""

    def setUp(self) -> None:
        require_dynamodb_local()
        installed = find_dynamodb_local(default_cache_dir(os.environ))
        java = shutil.which("java")
        assert installed is not None and java is not None
        self.command = JvmCommand(java, installed, cache_dir=Path(self.mktemp()).absolute())

    def test_made_and_used(self) -> None:
        """
        The archive made, a JVM run with it answers, and loads DynamoDB
        Local's classes from the archive.
        """
        self.command.make_class_archive(free_loopback_port())
        archive = self.command.class_archive
        self.assertTrue(archive.archive.is_file())
        port = free_loopback_port()
        argv = self.command.argv(port)
        self.assertIn(f"-XX:SharedArchiveFile={archive.archive}", argv)
        log = Path(self.mktemp()).absolute()
        argv.insert(1, f"-Xlog:class+load=info:file={log}")
        process = subprocess.Popen(
            argv,
            cwd=self.command.dynamodb_local.directory,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.addCleanup(process.wait, 30)
        self.addCleanup(process.kill)
        deadline = time.monotonic() + 60
        while not _answers(port, "ListTables", {}):
            self.assertLess(time.monotonic(), deadline, "DynamoDB Local did not answer")
            self.assertIsNone(process.poll())
            time.sleep(0.05)
        runner = [
            line
            for line in log.read_text().splitlines()
            if "dynamodb.services.local.main.ServerRunner " in line
        ]
        self.assertTrue(runner, "ServerRunner was not loaded")
        self.assertIn("shared objects file (top)", runner[0])

    def test_command(self) -> None:
        """
        C{awsemu install dynamodb-local --class-archive} makes the archive for
        the DynamoDB Local in the cache, for the daemon's default java.
        """
        self.command.cache_dir.mkdir()
        (self.command.cache_dir / "dynamodb-local").symlink_to(
            self.command.dynamodb_local.directory
        )
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        args = ["install", "dynamodb-local", "--class-archive"]
        self.assertEqual(main([*args, "--cache-dir", str(self.command.cache_dir)]), 0)
        self.assertEqual(stderr.getvalue(), "Making DynamoDB Local's class data sharing archive\n")
        installed = find_dynamodb_local(self.command.cache_dir)
        assert installed is not None
        command = attrs.evolve(self.command, dynamodb_local=installed)
        self.assertIsNotNone(command.class_archive.class_path())

    def test_fails(self) -> None:
        """A JVM that cannot run leaves no archive directory behind."""
        broken = JvmCommand(
            "/bin/false", self.command.dynamodb_local, cache_dir=self.command.cache_dir
        )
        with self.assertRaises(ArchiveError):
            broken.make_class_archive(free_loopback_port())
        self.assertFalse(broken.class_archive.directory.exists())
