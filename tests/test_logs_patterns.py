"""FilterLogEvents' filter patterns for unstructured events."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from awsemu.logs.patterns import parse_filter_pattern
from awsemu.protocol.errors import ServiceError


class FilterPatternTests(SynchronousTestCase):
    def assertMatches(self, pattern: str, message: str, expected: bool = True) -> None:
        self.assertEqual(
            parse_filter_pattern(pattern).matches(message),
            expected,
            f"{pattern!r} against {message!r}",
        )

    def test_empty(self) -> None:
        """The empty (or blank) pattern matches every event."""
        self.assertMatches("", "anything")
        self.assertMatches("   ", "")

    def test_terms(self) -> None:
        """Plain terms must all appear, anywhere and case-sensitively."""
        self.assertMatches("ERROR", "[ERROR] disk full")
        self.assertMatches("ERROR", "[error] disk full", False)
        self.assertMatches("ERROR disk", "[ERROR] disk full")
        self.assertMatches("ERROR memory", "[ERROR] disk full", False)

    def test_phrase(self) -> None:
        """A quoted phrase matches as a whole, spaces and escaped quotes included."""
        self.assertMatches('"disk full"', "[ERROR] disk full")
        self.assertMatches('"full disk"', "[ERROR] disk full", False)
        self.assertMatches(r'"say \"hi\""', 'they say "hi"')
        self.assertMatches('"a.b" c', "x a.b c")
        self.assertMatches('"a.b"', "axb", False)

    def test_any(self) -> None:
        """``?`` terms are alternatives: at least one must appear."""
        self.assertMatches("?ERROR ?WARN", "WARN low disk")
        self.assertMatches("?ERROR ?WARN", "INFO ok", False)
        self.assertMatches('?"disk full" ?timeout', "a timeout")

    def test_exclusion(self) -> None:
        """``-`` terms must not appear."""
        self.assertMatches("ERROR -Exiting", "ERROR retrying")
        self.assertMatches("ERROR -Exiting", "ERROR Exiting now", False)
        self.assertMatches('-"health check"', "health: check")
        self.assertMatches('-"health check"', "a health check", False)

    def test_combined(self) -> None:
        """Required, alternative and excluded terms all apply together."""
        pattern = "api ?ERROR ?WARN -DEBUG"
        self.assertMatches(pattern, "api WARN slow")
        self.assertMatches(pattern, "api INFO fine", False)
        self.assertMatches(pattern, "api ERROR DEBUG", False)
        self.assertMatches(pattern, "web ERROR", False)

    def test_regex(self) -> None:
        """``%regex%`` terms are regular expressions searched in the message."""
        self.assertMatches("%[0-9]{3}%", "status 404")
        self.assertMatches("%^status%", "the status", False)
        self.assertMatches("-%DEBUG|TRACE%", "TRACE x", False)

    def test_invalid(self) -> None:
        """An unterminated quote or a bad regex is an ``InvalidParameterException``."""
        for pattern in ['"unterminated', "%[%"]:
            error = self.assertRaises(ServiceError, parse_filter_pattern, pattern)
            self.assertEqual(error.code, "InvalidParameterException")

    def test_structured_refused(self) -> None:
        """JSON and space-delimited patterns are refused, not misread as terms."""
        for pattern in ['{ $.level = "ERROR" }', "[ip, user, status=404]"]:
            error = self.assertRaises(ServiceError, parse_filter_pattern, pattern)
            self.assertEqual(
                error.message,
                "awsemu supports only term filter patterns, not JSON or space-delimited ones.",
            )
