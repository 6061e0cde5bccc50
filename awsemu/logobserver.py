"""
The daemon's log observer: twistd's classic text lines, written cheaply.

The gateway logs one line per request (service, operation, resource,
account, region, status, milliseconds). Under twistd's own observer (``textFileLogObserver``) each
line cost about 60 µs of CPU, a fifth of a small S3 GetObject: the time
zone is worked out and the timestamp formatted anew for every event, and
every format string goes through ``string.Formatter``. This observer
writes the very same text, byte for byte, but formats the timestamp once a
second, and takes the gateway's pre-rendered ``"{line}"`` events as they
are. Every other event is formatted by Twisted.

twistd uses an observer the application names as its ``ILogObserver``
component (``--logger`` still has precedence); the plugin's root service
names this one when twistd gives it the application (``WithLogObserver``),
writing where twistd itself would have written (``twistd_log_file``).
With ``--log-format json``, every event is one JSON object per line instead
(``json_text``), the gateway's fields as fields.

The request lines wait up to a tenth of a second to be written together
(``HeldLines``); every other line is written at once.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from typing import IO, Any, Final, cast

import attrs
from twisted.application.service import IService, MultiService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import (
    FileLogObserver,
    ILogObserver,
    LogEvent,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
)
from twisted.python import logfile
from twisted.python.compat import ioType
from twisted.python.components import Componentized

#: The format of the events the daemon renders itself (the start's line).
LINE_FORMAT: Final = "{line}"

REQUEST_FORMAT: Final = (
    "{service} {operation} {resource} {status} {elapsed_ms:.1f}ms {account} {region}"
)
"""
The format of the gateway's request events, one per request: its fields
are the event's (``REQUEST_FIELDS``), and this module's observers render
the line themselves (``request_line``), once written: the float's
formatting and the line cost a busy daemon more between two requests than
together with the others held (L{HeldLines}).
"""


def request_line(event: LogEvent) -> str | None:
    """
    The text ``formatEvent`` gives a request event, without its formatter;
    None when the event lacks a field or has one of another type.
    """
    try:
        return (
            f"{event['service']} {event['operation']} {event['resource']} {event['status']}"
            f" {event['elapsed_ms']:.1f}ms {event['account']} {event['region']}"
        )
    except (KeyError, TypeError, ValueError):
        return None


class SecondsFormat:
    """
    ``twisted.logger.formatTime`` with its default (RFC 3339, whole
    seconds) format, remembered for the second it last formatted.
    """

    def __init__(self) -> None:
        self._second: int | None = None
        self._text = ""
        #: The times certainly within the remembered second, whatever the rounding.
        self._low = self._high = 0.0

    def __call__(self, when: float | None) -> str:
        if when is None:
            return formatTime(when)
        if self._low <= when < self._high:
            return self._text
        # datetime rounds to microseconds before it drops the fraction.
        second = math.floor(round(when, 6))
        if second != self._second:
            self._second, self._text = second, formatTime(second)
            self._low, self._high = second, second + 0.999999
        return self._text


def _system(event: LogEvent) -> str:
    """The bracketed part of a classic line, as Twisted writes it."""
    system = event.get("log_system")
    if system is not None:
        try:
            return str(system)
        except Exception:
            return "UNFORMATTABLE"
    level = event.get("log_level")
    namespace = event.get("log_namespace", "-")
    return f"{namespace}#{'-' if level is None else level.name}"


def classic_text(event: LogEvent, format_time: SecondsFormat) -> str | None:
    """
    ``formatEventAsClassicLogText``'s text for ``event``; for a gateway
    line, without formatting its (one-field) format string.
    """
    line = event.get("line")
    if (
        event.get("log_format") != LINE_FORMAT
        or not isinstance(line, str)
        or not line
        or "log_failure" in event
        or "log_flattened" in event
    ):
        return formatEventAsClassicLogText(event, format_time)
    text = f"{format_time(event.get('log_time'))} [{_system(event)}] {line}"
    return text.replace("\n", "\n\t") + "\n"


class _HoldingObserver(FileLogObserver):
    """
    A ``FileLogObserver`` of the lines its ``_text`` gives, that, writing
    to L{HeldLines}, has them hold the gateway's request events: their
    lines are rendered when written, together.
    """

    def __init__(self, out: IO[Any] | HeldLines) -> None:
        # HeldLines writes and flushes text as a text file does.
        super().__init__(cast(IO[Any], out), self._text)
        self._held = out if isinstance(out, HeldLines) else None

    def __call__(self, event: LogEvent) -> None:
        if self._held is not None and event.get("log_format") == REQUEST_FORMAT:
            self._held.hold(self._text, event)
            return
        super().__call__(event)

    def _text(self, event: LogEvent) -> str | None:
        """The line of ``event``."""
        raise NotImplementedError


class ClassicObserver(_HoldingObserver):
    """
    A ``FileLogObserver`` writing ``classic_text`` lines. A gateway line
    (the one event the daemon logs per request) is rendered without the
    general path's calls: its system part is remembered by namespace and
    level, its time by the second.
    """

    def __init__(self, out: IO[Any] | HeldLines) -> None:
        self._format_time = SecondsFormat()
        self._systems: dict[tuple[object, object], str] = {}
        super().__init__(out)

    def _text(self, event: LogEvent) -> str | None:
        line = request_line(event) if event.get("log_format") == REQUEST_FORMAT else None
        if (
            line is None
            or "log_system" in event
            or "log_failure" in event
            or "log_flattened" in event
        ):
            return classic_text(event, self._format_time)
        key = (event.get("log_namespace"), event.get("log_level"))
        system = self._systems.get(key)
        if system is None:
            system = self._systems[key] = _system(event)
        text = f"{self._format_time(event.get('log_time'))} [{system}] {line}\n"
        if "\n" in line:
            text = text[:-1].replace("\n", "\n\t") + "\n"
        return text


def classic_observer(out: IO[Any] | HeldLines) -> FileLogObserver:
    """An observer writing ``classic_text`` lines to ``out``."""
    return ClassicObserver(out)


#: The fields of a gateway line's event that a JSON line carries, in order.
REQUEST_FIELDS: Final = (
    "service",
    "operation",
    "resource",
    "account",
    "region",
    "status",
    "elapsed_ms",
    "request_id",
)


def json_text(event: LogEvent) -> str | None:
    """
    One JSON object on one line for ``event``: its time (RFC 3339, with
    milliseconds), level, system and message, and for a gateway line the
    request's fields (``REQUEST_FIELDS``) besides; a failure's traceback
    is in ``traceback``.
    """
    when = event.get("log_time")
    level = event.get("log_level")
    document: dict[str, Any] = {
        "time": None if when is None else formatTime(when, "%Y-%m-%dT%H:%M:%S.%f%z"),
        "level": None if level is None else level.name,
        "system": _system(event),
    }
    line = request_line(event) if event.get("log_format") == REQUEST_FORMAT else None
    if line is None:
        line = event.get("line")
        if event.get("log_format") != LINE_FORMAT or not isinstance(line, str):
            line = formatEvent(event)
    document["message"] = line
    for field in REQUEST_FIELDS:
        if field in event:
            value = event[field]
            # The event's milliseconds are as measured; a line shows three decimals.
            rounded = field == "elapsed_ms" and isinstance(value, float)
            document[field] = round(value, 3) if rounded else value
    failure = event.get("log_failure")
    if failure is not None:
        document["traceback"] = failure.getTraceback()
    return json.dumps(document, default=str) + "\n"


class JsonObserver(_HoldingObserver):
    """A ``FileLogObserver`` of ``json_text`` lines."""

    def _text(self, event: LogEvent) -> str | None:
        return json_text(event)


def observer_for(log_format: str, out: IO[Any] | HeldLines) -> FileLogObserver:
    """The observer writing ``--log-format``'s lines to ``out``."""
    if log_format == "json":
        return JsonObserver(out)
    return classic_observer(out)


HOLD_SECONDS: Final = 0.1
"""How long the gateway's request lines may wait to be written together (L{HeldLines})."""


@attrs.define(eq=False)
class HeldLines:
    """
    The daemon's log output ``out`` (standard output or twistd's log file),
    where the gateway's request events wait up to ``delay`` seconds of
    ``clock``, then have their lines rendered and written together, as a
    web server's buffered access log is: a system call per request, and
    rendering each line between two requests, cost the daemon more than the
    rest of the log line (measured in ``bench/README.rst``, "Log lines
    held"). Every other line is written at once, after the lines held
    before it: the order stays, and no message (the start, a warning, a
    failure) waits.

    ``close`` writes what is held, and from then on nothing is: the daemon's
    stop (L{WithLogObserver}). A daemon killed outright (``SIGKILL``) loses
    the request lines of its last ``delay`` seconds.

    Request lines are held from the reactor's thread (the gateway logs
    there); other threads' lines are written at once, which may write the
    held ones with them.
    """

    out: IO[Any]
    clock: IReactorTime
    delay: float = HOLD_SECONDS
    _held: list[tuple[Callable[[LogEvent], str | None], LogEvent]] = attrs.Factory(list)
    _timer: IDelayedCall | None = None
    _closed: bool = False
    _lock: threading.Lock = attrs.Factory(threading.Lock)
    _encoding: str | None = attrs.field(init=False)

    @_encoding.default
    def _out_encoding(self) -> str | None:
        return None if ioType(self.out) is str else "utf-8"

    def hold(self, render: Callable[[LogEvent], str | None], event: LogEvent) -> None:
        """Write the line ``render`` gives ``event``, a request's, within ``delay`` seconds."""
        if self._closed:
            self.write(render(event) or "")
            self.flush()
            return
        with self._lock:
            self._held.append((render, event))
        if self._timer is None:
            self._timer = self.clock.callLater(self.delay, self._written)

    def write(self, text: str) -> None:
        """Write ``text`` now, after the lines held."""
        with self._lock:
            held, self._held = self._held, []
            self._write(_rendered(held) + text)

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        """Write the lines held, and hold no more."""
        self._closed = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._written()

    def _written(self) -> None:
        self._timer = None
        with self._lock:
            held, self._held = self._held, []
            if held:
                self._write(_rendered(held))
        self.flush()

    def _write(self, text: str) -> None:
        self.out.write(text if self._encoding is None else text.encode(self._encoding))


def _rendered(held: list[tuple[Callable[[LogEvent], str | None], LogEvent]]) -> str:
    """The lines of the ``held`` events, one after the other."""
    return "".join([render(event) or "" for render, event in held])


class RotatingLogFile(logfile.LogFile):
    """
    twistd's rotating log file (``LogFile``, rotated past ``rotateLength``
    bytes), with the same bytes written at the same moments, under a
    C-implemented lock: ``LogFile`` guards each write with
    ``twisted.python.threadable``'s lock, a pure-Python ``RLock`` whose
    acquiring and releasing cost more than the line's ``write`` system
    call. Events logged from other threads (thread pools) still write
    whole lines, and a rotation still happens between two of them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()

    def write(self, data: bytes | str) -> None:
        with self._lock:
            if self.rotateLength and self.size >= self.rotateLength:
                self.rotate()
            size = len(data)
            self._file.write(data.encode("utf8") if isinstance(data, str) else data)
            self.size += size

    def rotate(self) -> None:
        with self._lock:
            super().rotate()


def twistd_log_file(server_options: Mapping[str, Any]) -> IO[Any] | None:
    """
    Where twistd, given ``server_options``, would write its log: standard
    output, or a rotating log file (``SIGUSR1`` rotates it, as twistd
    arranges); None where twistd's own choice stands: ``--logger``,
    ``--syslog``, and a daemon told to log to standard output (which
    twistd refuses).
    """
    if server_options.get("logger") or server_options.get("syslog"):
        return None
    name = server_options.get("logfile")
    if name == "-" or (server_options.get("nodaemon") and not name):
        return sys.stdout if server_options.get("nodaemon") else None
    log: IO[Any] = RotatingLogFile.fromFullPath(name or "twistd.log")
    if not signal.getsignal(signal.SIGUSR1):

        def rotate(signum: int, frame: object) -> None:
            from twisted.internet import reactor

            reactor.callFromThread(log.rotate)  # type: ignore[attr-defined]  # LogFile's

        signal.signal(signal.SIGUSR1, rotate)
    return log


class WithLogObserver(MultiService):
    """
    The daemon's root service as twistd runs it: ``root``, and, as twistd
    makes it part of the application, the application's log observer;
    the lines it holds (``lines``, if any) are written once ``root`` stops.
    """

    def __init__(
        self, root: IService, observer: ILogObserver, lines: HeldLines | None = None
    ) -> None:
        super().__init__()
        root.setServiceParent(self)
        self.observer = observer
        self.lines = lines

    def stopService(self) -> Deferred[object]:
        stopped: Deferred[object] = super().stopService()
        lines = self.lines
        if lines is None:
            return stopped

        def close(result: object) -> object:
            lines.close()
            return result

        return stopped.addBoth(close)

    def setServiceParent(self, parent: Any) -> None:
        super().setServiceParent(parent)
        if isinstance(parent, Componentized) and parent.getComponent(ILogObserver) is None:
            parent.setComponent(ILogObserver, self.observer)
