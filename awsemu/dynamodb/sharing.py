"""
Class data sharing for DynamoDB Local: an archive of the classes its start
and first requests load, parsed and verified once, by ``awsemu install
dynamodb-local``; a JVM given the archive maps those classes instead of
loading them from the jars. Measured on the 2-core machine (``python
bench/dynamodb_start.py``): about 0.7 s less of the JVM's CPU from its
start to its first answer (0.9 s against 1.6 s), and an earlier answer.

The JVM takes an archive only for the class path it was made with, and
only for jars: as shipped, DynamoDB Local's jar names its own directory
(``.``) in its manifest's ``Class-Path``, and with a non-empty directory on
the class path the JVM refuses any archive. So the archive's directory
holds, beside the archive, the launcher (``LoopbackLauncher.java``) as a
jar and a copy of DynamoDB Local's jar without ``Class-Path``; the class
path names the library jars that manifest named, one by one. The JVM checks
at each start that the jars are the ones the archive was made from, and
runs without it when they are not; it is told to say nothing of that.
The directory's name is a digest of the launcher's source, the java and
DynamoDB Local's jar: another awsemu, java or DynamoDB Local never sees
this archive, and a daemon that finds none runs DynamoDB Local as it comes.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import attrs

ARCHIVE_NAME: Final = "classes.jsa"
CLASS_PATH_NAME: Final = "class-path"
"""The file holding the class path the archive was made with; written last."""
LAUNCHER_JAR: Final = "launcher.jar"
QUIET: Final = "-Xlog:cds=off,cds+dynamic=off"
"""Keeps the JVM from warning on standard output when it cannot use the archive."""

EXERCISE: Final[Sequence[tuple[str, dict[str, object]]]] = (
    ("ListTables", {}),
    (
        "CreateTable",
        {
            "TableName": "awsemu-class-archive",
            "KeySchema": [
                {"AttributeName": "k", "KeyType": "HASH"},
                {"AttributeName": "r", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "k", "AttributeType": "S"},
                {"AttributeName": "r", "AttributeType": "N"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        },
    ),
    ("PutItem", {"TableName": "awsemu-class-archive", "Item": {"k": {"S": "a"}, "r": {"N": "1"}}}),
    ("GetItem", {"TableName": "awsemu-class-archive", "Key": {"k": {"S": "a"}, "r": {"N": "1"}}}),
    (
        "Query",
        {
            "TableName": "awsemu-class-archive",
            "KeyConditionExpression": "k = :k",
            "ExpressionAttributeValues": {":k": {"S": "a"}},
        },
    ),
    ("Scan", {"TableName": "awsemu-class-archive"}),
    ("DescribeTable", {"TableName": "awsemu-class-archive"}),
    ("DeleteTable", {"TableName": "awsemu-class-archive"}),
)
"""The requests sent to the JVM that makes the archive: their classes are archived too."""


class ArchiveError(Exception):
    """The archive could not be made; the message says why."""


@attrs.frozen
class ClassArchive:
    """A directory for one class data sharing archive of DynamoDB Local, made or not."""

    directory: Path

    @classmethod
    def for_run(cls, cache_dir: Path, launcher_source: Path, java: str, jar: Path) -> ClassArchive:
        """The archive's directory for this launcher, java and DynamoDB Local jar."""
        digest = hashlib.sha256(launcher_source.read_bytes())
        try:
            stat = jar.stat()
        except OSError:
            stat = None
        for part in (java, str(jar), "" if stat is None else f"{stat.st_size}/{stat.st_mtime_ns}"):
            digest.update(b"\0" + part.encode())
        return cls(cache_dir / f"dynamodb-cds-{digest.hexdigest()[:16]}")

    @property
    def archive(self) -> Path:
        return self.directory / ARCHIVE_NAME

    def class_path(self) -> str | None:
        """The class path to run DynamoDB Local with the archive; None if it is not made."""
        try:
            return (self.directory / CLASS_PATH_NAME).read_text()
        except OSError:
            return None

    def options(self) -> list[str]:
        """The JVM options that map the archive."""
        return [f"-XX:SharedArchiveFile={self.archive}", QUIET]


def manifest_class_path(jar: Path) -> list[str]:
    """The ``Class-Path`` of ``jar``'s manifest, as its entries."""
    with zipfile.ZipFile(jar) as archive:
        text = archive.read("META-INF/MANIFEST.MF").decode("utf-8")
    # A manifest line goes on in the next line that starts with one space.
    for line in text.replace("\r\n", "\n").replace("\n ", "").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "class-path":
            return value.split()
    return []


def copy_without_class_path(jar: Path, target: Path) -> None:
    """Copy ``jar`` to ``target``, leaving ``Class-Path`` out of its manifest."""
    with zipfile.ZipFile(jar) as source, zipfile.ZipFile(target, "w") as copy:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "META-INF/MANIFEST.MF":
                lines = data.decode("utf-8").replace("\r\n", "\n").split("\n")
                kept, skipping = [], False
                for line in lines:
                    if line.startswith(" "):
                        if not skipping:
                            kept.append(line)
                        continue
                    skipping = line.lower().startswith("class-path:")
                    if not skipping:
                        kept.append(line)
                data = "\r\n".join(kept).encode("utf-8")
            copy.writestr(entry, data)


def make(
    archive: ClassArchive,
    jar: Path,
    compile_into: Callable[[Path], Sequence[str]],
    jvm: Callable[[str, Sequence[str]], Sequence[str]],
    port: int,
    timeout: float = 120.0,
) -> None:
    """
    Make ``archive``: compile the launcher (the command line
    ``compile_into(directory)``), package it and copy ``jar``, then run
    DynamoDB Local (the command line ``jvm(class_path, options)``, from the
    jar's directory, listening on ``port``) until it has answered
    L{EXERCISE}, and stop it, which writes the archive. The directory is
    complete, or absent, when this returns.
    """
    directory = archive.directory
    shutil.rmtree(directory, ignore_errors=True)
    try:
        directory.mkdir(parents=True)
        copy_without_class_path(jar, directory / jar.name)
        libraries = [
            str(jar.parent / entry)
            for entry in manifest_class_path(jar)
            if entry.endswith(".jar") and (jar.parent / entry).is_file()
        ]
        with tempfile.TemporaryDirectory() as classes:
            _run(compile_into(Path(classes)), timeout)
            with zipfile.ZipFile(directory / LAUNCHER_JAR, "w") as launcher:
                for compiled in sorted(Path(classes).rglob("*.class")):
                    launcher.write(compiled, compiled.relative_to(classes).as_posix())
        class_path = os.pathsep.join(
            [str(directory / LAUNCHER_JAR), str(directory / jar.name), *libraries]
        )
        options = [f"-XX:ArchiveClassesAtExit={archive.archive}"]
        _exercise(jvm(class_path, options), jar.parent, port, timeout)
        if not archive.archive.is_file():
            raise ArchiveError("the JVM wrote no archive")
        (directory / CLASS_PATH_NAME).write_text(class_path)
    except (OSError, KeyError, UnicodeDecodeError, zipfile.BadZipFile) as e:
        shutil.rmtree(directory, ignore_errors=True)
        raise ArchiveError(f"{type(e).__name__}: {e}") from e
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _run(argv: Sequence[str], timeout: float) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout)
    except subprocess.CalledProcessError as e:
        raise ArchiveError(f"{argv[0]} failed: {e.stderr.decode(errors='replace')[-500:]}") from e
    except (OSError, subprocess.SubprocessError) as e:
        raise ArchiveError(f"{argv[0]} failed: {e}") from e


def _exercise(argv: Sequence[str], directory: Path, port: int, timeout: float) -> None:
    """Run ``argv`` in ``directory`` until it answered L{EXERCISE} on ``port``, then stop it."""
    process = subprocess.Popen(
        argv,
        cwd=directory,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        for operation, document in EXERCISE:
            while not _answers(port, operation, document):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise ArchiveError(f"DynamoDB Local did not answer {operation}")
                time.sleep(0.05)
        process.terminate()
        process.wait(timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _answers(port: int, operation: str, document: dict[str, object]) -> bool:
    """Whether DynamoDB Local on ``port`` answers ``operation`` with success."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            "/",
            json.dumps(document),
            {
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
                "Authorization": "AWS4-HMAC-SHA256 Credential=awsemucds/20120810/us-east-1"
                "/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            },
        )
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
