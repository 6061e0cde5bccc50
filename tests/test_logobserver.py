"""The daemon's log observer: Twisted's classic text, byte for byte, written cheaply."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from twisted.application.service import Application, IService, Service
from twisted.internet.task import Clock
from twisted.logger import (
    ILogObserver,
    LogLevel,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
    textFileLogObserver,
)
from twisted.python.failure import Failure
from twisted.python.logfile import LogFile
from twisted.trial.unittest import SynchronousTestCase

from awsemu.logobserver import (
    HOLD_SECONDS,
    REQUEST_FORMAT,
    HeldLines,
    RotatingLogFile,
    SecondsFormat,
    WithLogObserver,
    classic_observer,
    classic_text,
    json_text,
    observer_for,
    request_line,
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


def written_alike(test: SynchronousTestCase, events: list[dict[str, Any]]) -> str:
    """What the classic observer writes of ``events``, checked equal to Twisted's own observer's."""
    ours, theirs = io.StringIO(), io.StringIO()
    observer, reference = classic_observer(ours), textFileLogObserver(theirs)
    for event in events:
        observer(event)
        reference(event)
    test.assertEqual(ours.getvalue(), theirs.getvalue())
    return ours.getvalue()


class ClassicTextTests(SynchronousTestCase):
    def test_same_as_twisted(self) -> None:
        """Every kind of event reads exactly as Twisted's classic text observer writes it."""
        for event in EVENTS:
            self.assertEqual(
                classic_text(event, SecondsFormat()), formatEventAsClassicLogText(event), event
            )

    def test_observer_writes_what_twisted_writes(self) -> None:
        """The observer's output equals ``textFileLogObserver``'s for the same events."""
        written = written_alike(self, EVENTS)
        self.assertIn(" [-#-] s3 GetObject 200 0.3ms\n", written)


class SecondsFormatTests(SynchronousTestCase):
    def test_per_second(self) -> None:
        """Times are formatted as ``formatTime`` does, across second boundaries too."""
        format_time = SecondsFormat()
        # WHEN + 0.7499996 is within a microsecond of the next second, which datetime rounds to.
        for when in (
            WHEN,
            WHEN + 0.7,
            WHEN + 0.7499996,
            WHEN + 0.75,
            WHEN + 1,
            WHEN - 3.999,
            0.9999999,
            None,
        ):
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
        assert isinstance(out, RotatingLogFile)
        self.addCleanup(out.close)
        self.assertEqual(out.path, path)
        self.assertNotEqual(signal.getsignal(signal.SIGUSR1), signal.SIG_DFL)
        classic_observer(out)({"log_format": "{line}", "line": "hello", "log_time": WHEN})
        with open(path) as written:
            self.assertRegex(written.read(), r"^\S+ \[-#-\] hello\n$")


class RotatingLogFileTests(SynchronousTestCase):
    def directory(self) -> str:
        path = os.path.abspath(str(self.mktemp()))
        os.makedirs(path)
        return path

    def test_same_files_as_log_file(self) -> None:
        """The same lines make the same files as ``LogFile``'s, rotated at the same lines."""
        lines = [f"{index} {'x' * (index % 23)}" for index in range(200)]
        written = []
        for kind in (LogFile, RotatingLogFile):
            directory = self.directory()
            log: Any = kind("awsemu.log", directory, rotateLength=300, maxRotatedFiles=4)
            for line in lines:
                classic_observer(log)({"log_format": "{line}", "line": line, "log_time": WHEN})
            log.write("é\n")
            log.close()
            files = {}
            for name in sorted(os.listdir(directory)):
                with open(os.path.join(directory, name), "rb") as read:
                    files[name] = read.read()
            written.append(files)
        self.assertEqual(
            sorted(written[1]), [f"awsemu.log{n}" for n in ("", ".1", ".2", ".3", ".4")]
        )
        self.assertEqual(written[0], written[1])

    def test_threads(self) -> None:
        """Lines written from several threads at once stay whole, none lost, across rotations."""
        directory = self.directory()
        log = RotatingLogFile("awsemu.log", directory, rotateLength=2000)
        self.addCleanup(log.close)

        def write(thread: int) -> None:
            for index in range(300):
                log.write(f"{thread} {index} {'y' * 40}\n".encode())

        threads = [threading.Thread(target=write, args=(thread,)) for thread in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        read: list[str] = []
        for name in os.listdir(directory):
            with open(os.path.join(directory, name)) as file:
                read += file.read().splitlines()
        self.assertEqual(
            sorted(read),
            sorted(f"{t} {i} {'y' * 40}" for t in range(4) for i in range(300)),
        )
        self.assertGreater(len(os.listdir(directory)), 10)


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


FIELDS: dict[str, Any] = {
    "service": "s3",
    "operation": "GetObject",
    "resource": "b/k",
    "account": "000000000000",
    "region": "us-east-1",
    "status": 200,
    "elapsed_ms": 0.2504,
    "request_id": "R",
}

REQUEST: dict[str, Any] = {
    "log_format": REQUEST_FORMAT,
    "log_namespace": "awsemu.gateway.app.Gateway",
    "log_level": LogLevel.info,
    "log_time": WHEN,
    **FIELDS,
}

REQUESTS: list[dict[str, Any]] = [
    REQUEST,
    {**REQUEST, "resource": "b/two\nlines", "elapsed_ms": 12.35},
    {**REQUEST, "log_system": "sys"},
    {**REQUEST, "elapsed_ms": "slow"},
    {key: value for key, value in REQUEST.items() if key != "region"},
    {**REQUEST, "log_failure": failure()},
]
"""Gateway request events, and ones a stray caller could make of the same format."""


class RequestEventTests(SynchronousTestCase):
    def test_classic(self) -> None:
        """A request event's line is Twisted's classic text, whatever its fields hold."""
        self.assertIn(
            " [awsemu.gateway.app.Gateway#info] s3 GetObject b/k 200 0.3ms 000000000000"
            " us-east-1\n",
            written_alike(self, REQUESTS),
        )

    def test_json(self) -> None:
        """Every one is one JSON line, its message ``formatEvent``'s where that is a line."""
        for event in REQUESTS:
            text = json_text(event)
            assert text is not None
            document = json.loads(text)
            rounded = {0.2504: 0.25, 12.35: 12.35, "slow": "slow"}[event["elapsed_ms"]]
            self.assertEqual(document["elapsed_ms"], rounded)
            if "region" in event and event["elapsed_ms"] != "slow":
                self.assertEqual(document["message"], formatEvent(event))

    def test_line(self) -> None:
        """``request_line`` is ``formatEvent``'s text, or None where that would not be a line."""
        self.assertEqual(request_line(REQUEST), formatEvent(REQUEST))
        self.assertEqual(request_line(REQUESTS[1]), formatEvent(REQUESTS[1]))
        self.assertIsNone(request_line(REQUESTS[3]))
        self.assertIsNone(request_line(REQUESTS[4]))


class Writes(io.StringIO):
    """A text output that records each write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def hold(lines: HeldLines, text: str) -> None:
    """Hold an event whose line is ``text``."""
    lines.hold(lambda event: event["line"], {"line": text})


class HeldLinesTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.out, self.clock = Writes(), Clock()
        self.lines = HeldLines(self.out, self.clock)

    def test_held_together(self) -> None:
        """Request lines wait ``delay`` seconds from the first, then go out in one write."""
        hold(self.lines, "a\n")
        self.clock.advance(HOLD_SECONDS / 2)
        hold(self.lines, "b\n")
        self.assertEqual(self.out.writes, [])
        self.clock.advance(HOLD_SECONDS / 2)
        self.assertEqual(self.out.writes, ["a\nb\n"])
        hold(self.lines, "c\n")
        self.clock.advance(HOLD_SECONDS)
        self.assertEqual(self.out.writes, ["a\nb\n", "c\n"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_others_at_once(self) -> None:
        """Any other line is written at once, after the held ones; the timer finds nothing."""
        hold(self.lines, "request\n")
        self.lines.write("warning\n")
        self.assertEqual(self.out.writes, ["request\nwarning\n"])
        self.clock.advance(HOLD_SECONDS)
        self.assertEqual(self.out.getvalue(), "request\nwarning\n")

    def test_close(self) -> None:
        """Closing writes what is held and cancels the timer; later lines are not held."""
        hold(self.lines, "a\n")
        self.lines.close()
        self.assertEqual(self.out.writes, ["a\n"])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        hold(self.lines, "b\n")
        self.assertEqual(self.out.writes, ["a\n", "b\n"])

    def test_binary_output(self) -> None:
        """An output that takes bytes gets UTF-8."""
        out = io.BytesIO()
        lines = HeldLines(out, self.clock)
        hold(lines, "é\n")
        lines.write("x\n")
        self.assertEqual(out.getvalue(), "é\nx\n".encode())

    def test_observers(self) -> None:
        """Both formats hold the gateway's request lines, and write the others at once."""
        for log_format in ("classic", "json"):
            out, clock = Writes(), Clock()
            observer = observer_for(log_format, HeldLines(out, clock))
            observer(REQUEST)
            self.assertEqual(out.writes, [], log_format)
            observer(EVENTS[0])
            (written,) = out.writes
            request, other = written.splitlines()
            self.assertIn("s3 GetObject b/k 200", request)
            self.assertIn("s3 GetObject 200 0.3ms", other)

    def test_stop(self) -> None:
        """The daemon's stop writes the held lines, once its services have stopped."""
        root = Service()
        lines = HeldLines(self.out, self.clock)
        service = WithLogObserver(root, classic_observer(lines), lines)
        service.startService()
        service.observer(REQUEST)
        self.successResultOf(service.stopService())
        self.assertFalse(root.running)
        self.assertIn("s3 GetObject b/k 200", self.out.getvalue())
        self.assertEqual(self.clock.getDelayedCalls(), [])


class JsonTextTests(SynchronousTestCase):
    def test_request_line(self) -> None:
        """A gateway line is one JSON object with the request's fields."""
        event = {**REQUEST, "other": "not carried"}
        text = json_text(event)
        assert text is not None
        self.assertTrue(text.endswith("\n"))
        self.assertNotIn("\n", text[:-1])
        self.assertEqual(
            json.loads(text),
            {
                "time": formatTime(WHEN, "%Y-%m-%dT%H:%M:%S.%f%z"),
                "level": "info",
                "system": "awsemu.gateway.app.Gateway#info",
                "message": "s3 GetObject b/k 200 0.3ms 000000000000 us-east-1",
                **FIELDS,
                "elapsed_ms": 0.25,
            },
        )

    def test_other_events(self) -> None:
        """Every other event is one line too: its formatted message, and a failure's traceback."""
        for event in EVENTS:
            text = json_text(event)
            assert text is not None
            self.assertNotIn("\n", text[:-1])
            document = json.loads(text)
            self.assertIsInstance(document["message"], str)
            self.assertEqual("log_failure" in event, "traceback" in document)

    def test_observer_for(self) -> None:
        """``--log-format`` picks the observer."""
        out = io.StringIO()
        observer_for("json", out)(EVENTS[0])
        self.assertEqual(json.loads(out.getvalue())["message"], "s3 GetObject 200 0.3ms")
        out = io.StringIO()
        observer_for("text", out)(EVENTS[0])
        self.assertEqual(out.getvalue(), formatEventAsClassicLogText(EVENTS[0]))


class DaemonTests(SynchronousTestCase):
    def test_request_lines(self) -> None:
        """``twistd -n awsemu`` writes its request lines to standard output, timestamped."""
        daemon = Daemon(self, "--services", "sts")
        daemon.client("sts").get_caller_identity()  # type: ignore[attr-defined]
        daemon.stop()
        self.assertRegex(
            daemon.output,
            re.compile(
                r"^\S+ \[awsemu\.gateway\.app\.Gateway#info\] sts GetCallerIdentity - 200 ",
                re.MULTILINE,
            ),
        )

    def test_request_lines_while_running(self) -> None:
        """A request's line reaches the log file within the hold, with the daemon running."""
        log = os.path.abspath(self.mktemp())
        daemon = Daemon(self, "--services", "sts", log_file=log)
        daemon.client("sts").get_caller_identity()  # type: ignore[attr-defined]
        deadline = time.monotonic() + 50 * HOLD_SECONDS
        while " sts GetCallerIdentity - 200 " not in Path(log).read_text():
            self.assertLess(time.monotonic(), deadline, Path(log).read_text())
            time.sleep(HOLD_SECONDS / 10)

    def test_resources(self) -> None:
        """
        Request lines name the resource, the account and the region; with
        ``--log-format json``, each is one JSON object.
        """
        daemon = Daemon(self, "--services", "s3,lambda", "--log-format", "json")
        s3 = daemon.client("s3", access_key_id="111122223333", region="eu-west-1")
        s3.create_bucket(  # type: ignore[attr-defined]
            Bucket="logged", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        s3.put_object(Bucket="logged", Key="a/b.txt", Body=b"x")  # type: ignore[attr-defined]
        lambda_ = daemon.client("lambda")
        with self.assertRaises(ClientError):
            lambda_.get_function(FunctionName="nope", Qualifier="live")  # type: ignore[attr-defined]
        daemon.stop()
        lines = [json.loads(line) for line in daemon.output.splitlines() if line.startswith("{")]
        requests = [
            (d["service"], d["operation"], d["resource"], d["account"], d["region"], d["status"])
            for d in lines
            if "status" in d
        ]
        self.assertEqual(
            requests,
            [
                ("s3", "CreateBucket", "logged", "111122223333", "eu-west-1", 200),
                ("s3", "PutObject", "logged/a/b.txt", "111122223333", "eu-west-1", 200),
                ("lambda", "GetFunction", "nope:live", "000000000000", "us-east-1", 404),
            ],
        )
        self.assertEqual(len(lines), len(daemon.output.splitlines()))
