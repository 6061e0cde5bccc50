"""The logs codec's reading of the model's (Java) patterns."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from awsemu.logs.codec import _compiled


class PatternTests(SynchronousTestCase):
    def test_unicode_classes(self) -> None:
        """``\\p{L}``, ``\\p{N}`` and ``\\p{Z}`` match letters, digits and spaces of any script."""
        pattern = _compiled(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$")
        assert pattern is not None
        self.assertTrue(pattern.fullmatch("Grüße ١٢ x"))
        self.assertFalse(pattern.fullmatch("a!"))

    def test_unreadable(self) -> None:
        """A pattern Python cannot read is not checked, rather than failing every request."""
        self.assertIsNone(_compiled(r"[\w-_]*"))
        self.assertIsNone(_compiled(None))
