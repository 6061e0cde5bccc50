"""The daemon's log observer: Twisted's classic text, byte for byte, written cheaply."""

from __future__ import annotations

import io
import os
import re
import signal
import sys
from typing import Any

from twisted.application.service import Application, IService, Service
from twisted.logger import (
    ILogObserver,
    LogLevel,
    formatEventAsClassicLogText,
    formatTime,
    textFileLogObserver,
)
from twisted.python.failure import Failure
from twisted.python.logfile import LogFile
from twisted.trial.unittest import SynchronousTestCase

from awsemu.logobserver import (
    SecondsFormat,
    WithLogObserver,
    classic_observer,
    classic_text,
    twistd_log_file,
)
from tests.daemon import Daemon

WHEN = 1_763_800_000.25


def failure() -> Failure:
    try:
        raise ValueError("boom")
    except ValueError:
        return Failure()


EVENTS: list[dict[str, Any]] = [
    {"log_format": "{line}", "line": "s3 GetObject 200 0.3ms", "log_time": WHEN},
    {
        "log_format": "{line}",
        "line": "two\nlines",
        "log_namespace": "awsemu.gateway.app.Gateway",
        "log_level": LogLevel.info,
        "log_time": WHEN,
    },
    {"log_format": "{line}", "line": "x", "log_system": "sys", "log_time": WHEN},
    {"log_format": "{line}", "line": 7, "log_time": WHEN},
    {"log_format": "{line}", "log_time": WHEN},
    {"log_format": "{line}", "line": "", "log_time": WHEN},
    {"log_format": "{line}", "line": "failed", "log_failure": failure(), "log_time": WHEN},
    {"log_format": "{a} and {b!r}", "a": 1, "b": "two", "log_time": WHEN + 0.5},
    {"log_format": "{missing}", "log_level": LogLevel.warn, "log_namespace": "n"},
    {"log_format": "no time"},
    {"message": ("legacy",), "log_time": WHEN},
    {},
]


class ClassicTextTests(SynchronousTestCase):
    def test_same_as_twisted(self) -> None:
        """Every kind of event reads exactly as Twisted's classic text observer writes it."""
        for event in EVENTS:
            self.assertEqual(
                classic_text(event, SecondsFormat()), formatEventAsClassicLogText(event), event
            )

    def test_observer_writes_what_twisted_writes(self) -> None:
        """The observer's output equals ``textFileLogObserver``'s for the same events."""
        ours, theirs = io.StringIO(), io.StringIO()
        observer, reference = classic_observer(ours), textFileLogObserver(theirs)
        for event in EVENTS:
            observer(event)
            reference(event)
        self.assertEqual(ours.getvalue(), theirs.getvalue())
        self.assertIn(" [-#-] s3 GetObject 200 0.3ms\n", ours.getvalue())


class SecondsFormatTests(SynchronousTestCase):
    def test_per_second(self) -> None:
        """Times are formatted as ``formatTime`` does, across second boundaries too."""
        format_time = SecondsFormat()
        for when in (WHEN, WHEN + 0.7, WHEN + 0.75, WHEN + 1, WHEN - 3.999, 0.9999999, None):
            self.assertEqual(format_time(when), formatTime(when), when)

    def test_remembered(self) -> None:
        """Within one second the text is not formatted again."""
        format_time = SecondsFormat()
        self.assertIs(format_time(WHEN), format_time(WHEN + 0.5))
        self.assertIsNot(format_time(WHEN), format_time(WHEN + 1))


class LogFileTests(SynchronousTestCase):
    def test_standard_output(self) -> None:
        """``-n`` without ``--logfile``, or with ``-``, logs to standard output."""
        self.assertIs(twistd_log_file({"nodaemon": True, "logfile": None}), sys.stdout)
        self.assertIs(twistd_log_file({"nodaemon": True, "logfile": "-"}), sys.stdout)

    def test_left_to_twistd(self) -> None:
        """``--logger``, ``--syslog`` and a daemon logging to ``-`` keep twistd's own handling."""
        self.assertIsNone(twistd_log_file({"nodaemon": True, "logger": "my.observer"}))
        self.assertIsNone(twistd_log_file({"nodaemon": True, "syslog": True}))
        self.assertIsNone(twistd_log_file({"nodaemon": False, "logfile": "-"}))

    def test_file(self) -> None:
        """``--logfile PATH`` is a rotating log file, rotated on SIGUSR1 as twistd arranges."""
        path = os.path.join(os.path.abspath(self.mktemp()), "awsemu.log")
        os.makedirs(os.path.dirname(path))
        previous = signal.getsignal(signal.SIGUSR1)
        self.addCleanup(signal.signal, signal.SIGUSR1, previous)
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        out = twistd_log_file({"nodaemon": True, "logfile": path})
        assert isinstance(out, LogFile)
        self.addCleanup(out.close)
        self.assertEqual(out.path, path)
        self.assertNotEqual(signal.getsignal(signal.SIGUSR1), signal.SIG_DFL)
        classic_observer(out)({"log_format": "{line}", "line": "hello", "log_time": WHEN})
        with open(path) as written:
            self.assertRegex(written.read(), r"^\S+ \[-#-\] hello\n$")


class WithLogObserverTests(SynchronousTestCase):
    def test_names_the_observer(self) -> None:
        """Joining twistd's application names the observer; the root runs under it."""
        application = Application("awsemu")
        root = Service()
        observer = classic_observer(io.StringIO())
        WithLogObserver(root, observer).setServiceParent(application)
        self.assertIs(application.getComponent(ILogObserver), observer)
        IService(application).startService()
        self.assertTrue(root.running)

    def test_keeps_a_named_observer(self) -> None:
        """An observer the application already names is kept."""
        application = Application("awsemu")
        mine = textFileLogObserver(io.StringIO())
        application.setComponent(ILogObserver, mine)
        WithLogObserver(Service(), classic_observer(io.StringIO())).setServiceParent(application)
        self.assertIs(application.getComponent(ILogObserver), mine)


class DaemonTests(SynchronousTestCase):
    def test_request_lines(self) -> None:
        """``twistd -n awsemu`` writes its request lines to standard output, timestamped."""
        daemon = Daemon(self, "--services", "sts")
        daemon.client("sts").get_caller_identity()  # type: ignore[attr-defined]
        daemon.stop()
        self.assertRegex(
            daemon.output,
            re.compile(
                r"^\S+ \[awsemu\.gateway\.app\.Gateway#info\] sts GetCallerIdentity 200 ",
                re.MULTILINE,
            ),
        )
