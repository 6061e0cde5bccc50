"""
Deployment packages against AWS's limits: the zipped size of a direct
upload, the unzipped size declared by an archive and the one actually
written when it is unpacked (declared sizes can lie), and the archives
that are not what they claim (corrupt members, symlinks).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_ import zips
from awsemu.protocol.errors import ServiceError


def package(members: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def declaring(data: bytes, name: str, size: int) -> bytes:
    """``data`` with the central directory's uncompressed size of member ``name`` replaced."""
    patched = bytearray(data)
    entry = patched.find(b"PK\x01\x02")
    while entry >= 0:
        name_length = struct.unpack_from("<H", patched, entry + 28)[0]
        if patched[entry + 46 : entry + 46 + name_length] == name.encode():
            struct.pack_into("<I", patched, entry + 24, size)
            return bytes(patched)
        entry = patched.find(b"PK\x01\x02", entry + 4)
    raise AssertionError(f"no member {name}")


class UploadCheckTests(SynchronousTestCase):
    def assertRefused(self, data: bytes, code: str, message: str, limit: int = 1000) -> None:
        with self.assertRaises(ServiceError) as caught:
            zips.unzipped_size(data, limit)
        self.assertEqual((caught.exception.code, caught.exception.message), (code, message))
        self.assertEqual(caught.exception.status, 400)

    def test_within_limit(self) -> None:
        data = package({"a": b"x" * 600, "b": b"y" * 400})
        self.assertEqual(zips.unzipped_size(data, 1001), 1000)
        self.assertRaises(ServiceError, zips.unzipped_size, data, 1000)

    def test_declared_too_large(self) -> None:
        """A bomb's honest sizes are refused before anything is decompressed."""
        self.assertRefused(
            package({"a": b"\0" * 1000}),
            "InvalidParameterValueException",
            "Unzipped size must be smaller than 1000 bytes",
        )

    def test_aws_limit(self) -> None:
        """The default limit and its message are AWS's."""
        bomb = declaring(package({"a": b"\0"}), "a", zips.UNZIPPED_LIMIT + 1)
        with self.assertRaises(ServiceError) as caught:
            zips.unzipped_size(bomb)
        self.assertEqual(
            caught.exception.message, "Unzipped size must be smaller than 262144000 bytes"
        )

    def test_declared_smaller_than_content(self) -> None:
        """A member longer than it declares fails its CRC: the package is unreadable."""
        self.assertRefused(
            declaring(package({"a": b"\0" * 5000}), "a", 10),
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
            limit=100_000,
        )

    def test_corrupt_stream(self) -> None:
        data = bytearray(package({"a": os.urandom(2000)}))
        data[40:60] = b"\xff" * 20
        self.assertRefused(
            bytes(data),
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
            limit=100_000,
        )

    def test_zipped_size(self) -> None:
        """A direct upload past 50 MiB gets AWS's 413."""
        zips.check_zipped_size(b"x" * (zips.ZIPPED_LIMIT - 1))
        with self.assertRaises(ServiceError) as caught:
            zips.check_zipped_size(b"x" * zips.ZIPPED_LIMIT)
        error = caught.exception
        self.assertEqual(
            (error.code, error.message, error.status),
            (
                "RequestEntityTooLargeException",
                "Zipped size must be smaller than 52428800 bytes",
                413,
            ),
        )


class UnpackTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.root = Path(self.mktemp())
        self.root.mkdir()

    def test_budget_counts_written_bytes(self) -> None:
        """Unpacking stops once the bytes written pass the limit, code and layers together."""
        target = self.root / "task"
        with self.assertRaises(ServiceError) as caught:
            zips.unpack([package({"a": b"x" * 600}), package({"b": b"y" * 600})], target, 1000)
        self.assertEqual(caught.exception.message, "Unzipped size must be smaller than 1000 bytes")
        self.assertEqual(list(self.root.iterdir()), [])

    def test_unreadable_package(self) -> None:
        """A stored package that cannot be unpacked is Invoke's InvalidZipFileException."""
        broken = declaring(package({"a": b"\0" * 5000}), "a", 10)
        with self.assertRaises(ServiceError) as caught:
            zips.unpack([broken], self.root / "task")
        self.assertEqual(caught.exception.code, "InvalidZipFileException")
        self.assertEqual(list(self.root.iterdir()), [])

    def test_symlink_member(self) -> None:
        """A symlink member becomes a plain file holding its target: nothing points outside."""
        target = zips.unpack(
            [package({"index.py": b"x"}, links={"link": "/etc/passwd", "d/up": "../../.."})],
            self.root / "task",
        )
        for name, text in (("link", b"/etc/passwd"), ("d/up", b"../../..")):
            self.assertFalse((target / name).is_symlink())
            self.assertEqual((target / name).read_bytes(), text)

    def test_directories_readable(self) -> None:
        """Under the daemon's private umask, unpacked code stays readable to a function's user."""
        self.addCleanup(os.umask, os.umask(0o077))
        target = zips.unpack([package({"pkg/sub/mod.py": b"x"})], self.root / "task")
        for path in (target, target / "pkg", target / "pkg" / "sub"):
            self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o755, path)
        self.assertEqual(stat.S_IMODE((target / "pkg/sub/mod.py").stat().st_mode), 0o644)
