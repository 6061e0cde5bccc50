"""``Segments``: a body read as one file over the pieces it arrived in, without copying them."""

from __future__ import annotations

import io
from io import BytesIO

from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol.segments import Segments, blocks


class SegmentsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.first, self.second, self.third = b"ab\ncd", b"ef", b"g\nhij"
        self.body = Segments([self.first, b"", self.second, self.third])

    def test_read(self) -> None:
        """Reads span pieces as one file; empty pieces are dropped; the end reads empty."""
        self.assertEqual(self.body.size, 12)
        self.assertEqual(self.body.read(4), b"ab\nc")
        self.assertEqual(self.body.read(3), b"def")
        self.assertEqual(self.body.tell(), 7)
        self.assertEqual(self.body.read(), b"g\nhij")
        self.assertEqual(self.body.read(), b"")
        self.assertEqual(self.body.read(5), b"")

    def test_whole_pieces_are_not_copied(self) -> None:
        """A read of exactly one piece returns that very object; ``take`` cuts views, not copies."""
        self.assertIs(self.body.read(5), self.first)
        self.body.seek(1)
        taken = self.body.take(9)
        self.assertEqual([bytes(piece) for piece in taken], [b"b\ncd", b"ef", b"g\nh"])
        self.assertIsInstance(taken[0], memoryview)
        self.assertIs(taken[1], self.second)
        self.assertIs(taken[0].obj, self.first)  # type: ignore[union-attr]

    def test_readline(self) -> None:
        """Lines end at b"\\n" across pieces; a limit stops a line early."""
        self.assertEqual(self.body.readline(), b"ab\n")
        self.assertEqual(self.body.readline(3), b"cde")
        self.assertEqual(self.body.readline(), b"fg\n")
        self.assertEqual(self.body.readline(), b"hij")
        self.assertEqual(self.body.readline(), b"")

    def test_readline_in_views(self) -> None:
        """Lines are found in memoryview pieces too (a decoded body is made of them)."""
        body = Segments([memoryview(b"xa\nb")[1:], memoryview(b"c\n")])
        self.assertEqual(
            [body.readline(), body.readline(), body.readline()], [b"a\n", b"bc\n", b""]
        )

    def test_seek(self) -> None:
        """Seeking from the start, the position or the end; past the end stops at the end."""
        self.assertEqual(self.body.seek(6), 6)
        self.assertEqual(self.body.read(2), b"fg")
        self.assertEqual(self.body.seek(-3, io.SEEK_END), 9)
        self.assertEqual(self.body.read(), b"hij")
        self.body.seek(2)
        self.assertEqual(self.body.seek(3, io.SEEK_CUR), 5)
        self.assertEqual(self.body.read(1), b"e")
        self.assertEqual(self.body.seek(100), 12)
        self.assertEqual(self.body.read(), b"")

    def test_write_appends(self) -> None:
        """Writing at the end appends the piece itself; writing elsewhere is refused."""
        body = Segments()
        piece = memoryview(b"0123")[1:3]
        self.assertEqual(body.write(b"ab"), 2)
        self.assertEqual(body.write(piece), 2)
        self.assertEqual(body.write(b""), 0)
        self.assertEqual(body.tell(), 4)
        body.seek(0)
        self.assertEqual(body.take(), [b"ab", piece])
        body.seek(1)
        self.assertRaises(io.UnsupportedOperation, body.write, b"x")

    def test_close_keeps_pieces_given_away(self) -> None:
        """Closing drops this file's list, not the pieces ``take`` gave someone else."""
        taken = self.body.take()
        self.body.close()
        self.assertTrue(self.body.closed)
        self.assertEqual(b"".join(taken), b"ab\ncdefg\nhij")


class BlocksTests(SynchronousTestCase):
    def test_segments(self) -> None:
        """From ``Segments``, the pieces themselves, up to ``size``."""
        body = Segments([b"abc", b"def"])
        self.assertEqual([bytes(piece) for piece in blocks(body, 4)], [b"abc", b"d"])
        self.assertEqual([bytes(piece) for piece in blocks(body)], [b"ef"])

    def test_other_files(self) -> None:
        """From any other file, blocks up to ``size``, stopping early at its end."""
        blocks_read = list(blocks(BytesIO(b"x" * 3_000_000)))
        self.assertEqual([len(block) for block in blocks_read], [1048576, 1048576, 902848])
        self.assertEqual(list(blocks(BytesIO(b"abcdef"), 4)), [b"abcd"])
        self.assertEqual(list(blocks(BytesIO(b"ab"), 4)), [b"ab"])
