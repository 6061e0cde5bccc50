"""
Installing AWS's Node.js runtime client (``awsemu install
lambda-node-ric``) with a stand-in for npm: what lands in the cache, and
the errors when npm is missing, fails, or packs something else.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from awsemu.dynamodb.installer import InstallError, Run, extract
from awsemu.lambda_.node_ric import (
    ENTRY_POINT,
    INSTALL_DIRECTORY,
    NATIVE_CLIENT,
    describe,
    find_node_ric,
    install,
)

MANIFEST = json.dumps({"name": "aws-lambda-ric", "version": "3.3.0"})


def fake_npm(files: Mapping[str, str]) -> tuple[list[list[str]], Run]:
    """An ``npm pack`` that writes a package of ``files``; the commands it ran."""
    commands: list[list[str]] = []

    def run(argv: Sequence[str]) -> str:
        commands.append(list(argv))
        destination = Path(argv[argv.index("--pack-destination") + 1])
        with tarfile.open(destination / "aws-lambda-ric-3.3.0.tgz", "w:gz") as archive:
            for name, text in files.items():
                data = text.encode()
                entry = tarfile.TarInfo(f"package/{name}")
                entry.size = len(data)
                archive.addfile(entry, io.BytesIO(data))
        return json.dumps([{"filename": "aws-lambda-ric-3.3.0.tgz"}])

    return commands, run


class InstallTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.cache = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.cache)
        self.out = io.StringIO()

    def test_npm_pack_is_unpacked_into_the_cache(self) -> None:
        commands, run = fake_npm({ENTRY_POINT: "", "package.json": MANIFEST})
        self.assertIsNone(find_node_ric(self.cache))
        self.assertEqual(describe(None), "not installed (awsemu install lambda-node-ric)")
        installed = install(self.cache, self.out, run)
        self.assertEqual(commands[0][:4], ["npm", "pack", "aws-lambda-ric", "--json"])
        self.assertEqual(installed.directory, self.cache / INSTALL_DIRECTORY)
        self.assertEqual(find_node_ric(self.cache), installed)
        self.assertEqual(
            describe(installed), "aws-lambda-ric 3.3.0 (awsemu's JS Runtime API client)"
        )
        (installed.directory / NATIVE_CLIENT).parent.mkdir(exist_ok=True)
        (installed.directory / NATIVE_CLIENT).write_bytes(b"")
        self.assertEqual(describe(installed), "aws-lambda-ric 3.3.0 (native)")
        # Installing again replaces it; nothing else is left in the cache.
        install(self.cache, self.out, run)
        self.assertEqual(sorted(p.name for p in self.cache.iterdir()), [INSTALL_DIRECTORY])
        self.assertFalse((installed.directory / NATIVE_CLIENT).exists())

    def test_native_runs_the_install_scripts(self) -> None:
        """With ``native``, npm install builds the client; the package comes from its prefix."""
        commands, pack = fake_npm({ENTRY_POINT: "", "package.json": MANIFEST})

        def run(argv: Sequence[str]) -> str:
            if argv[1] == "pack":
                return pack(argv)
            commands.append(list(argv))
            built = Path(argv[-2]) / "node_modules" / "aws-lambda-ric"
            with tarfile.open(argv[-1]) as archive:
                extract(archive, built.parent)
            (built.parent / "package").rename(built)
            (built / NATIVE_CLIENT).parent.mkdir()
            (built / NATIVE_CLIENT).write_bytes(b"")
            return ""

        installed = install(self.cache, self.out, run, native=True)
        self.assertEqual(commands[1][:3], ["npm", "install", "--no-save"])
        self.assertEqual(describe(installed), "aws-lambda-ric 3.3.0 (native)")

    def test_a_native_build_that_fails(self) -> None:
        _, pack = fake_npm({ENTRY_POINT: "", "package.json": MANIFEST})

        def run(argv: Sequence[str]) -> str:
            if argv[1] == "pack":
                return pack(argv)
            raise subprocess.CalledProcessError(
                1, argv, "", "npm error\n./buildconf: 4: exec: autoreconf: not found\n"
            )

        error = self.assertRaises(InstallError, install, self.cache, self.out, run, native=True)
        self.assertEqual(
            str(error),
            "npm install aws-lambda-ric-3.3.0.tgz failed:"
            " npm error / ./buildconf: 4: exec: autoreconf: not found",
        )
        self.assertIsNone(find_node_ric(self.cache))

    def test_a_package_without_the_entry_point(self) -> None:
        _, run = fake_npm({"package.json": MANIFEST})
        error = self.assertRaises(InstallError, install, self.cache, self.out, run)
        self.assertEqual(str(error), f"the package holds no {ENTRY_POINT}")
        self.assertIsNone(find_node_ric(self.cache))

    def test_npm_fails(self) -> None:
        def run(argv: Sequence[str]) -> str:
            raise subprocess.CalledProcessError(1, argv, "", "npm error code E404\n")

        error = self.assertRaises(InstallError, install, self.cache, self.out, run)
        self.assertEqual(str(error), "npm pack aws-lambda-ric failed: npm error code E404")

    def test_no_npm(self) -> None:
        def run(argv: Sequence[str]) -> str:
            raise FileNotFoundError(2, "No such file or directory", "npm")

        error = self.assertRaises(InstallError, install, self.cache, self.out, run)
        self.assertEqual(str(error), "npm is not installed (npm); install Node.js with npm")
