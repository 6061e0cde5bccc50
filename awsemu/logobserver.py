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
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
from collections.abc import Mapping
from typing import IO, Any, Final

from twisted.application.service import IService, MultiService
from twisted.logger import (
    FileLogObserver,
    ILogObserver,
    LogEvent,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
)
from twisted.python import logfile
from twisted.python.components import Componentized

#: The format of the events the gateway renders itself.
LINE_FORMAT: Final = "{line}"


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


class ClassicObserver(FileLogObserver):
    """
    A ``FileLogObserver`` writing ``classic_text`` lines. A gateway line
    (the one event the daemon logs per request) is written without the
    general path's calls: its system part is remembered by namespace and
    level, its time by the second.
    """

    def __init__(self, out: IO[Any]) -> None:
        format_time = SecondsFormat()
        super().__init__(out, lambda event: classic_text(event, format_time))
        self._format_time = format_time
        self._systems: dict[tuple[object, object], str] = {}

    def __call__(self, event: LogEvent) -> None:
        line = event.get("line")
        if (
            event.get("log_format") != LINE_FORMAT
            or type(line) is not str
            or not line
            or "log_system" in event
            or "log_failure" in event
            or "log_flattened" in event
        ):
            super().__call__(event)
            return
        key = (event.get("log_namespace"), event.get("log_level"))
        system = self._systems.get(key)
        if system is None:
            system = self._systems[key] = _system(event)
        text = f"{self._format_time(event.get('log_time'))} [{system}] {line}\n"
        if "\n" in line:
            text = text[:-1].replace("\n", "\n\t") + "\n"
        out = self._outFile
        out.write(text if self._encoding is None else text.encode(self._encoding))
        out.flush()


def classic_observer(out: IO[Any]) -> FileLogObserver:
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
    line = event.get("line")
    if event.get("log_format") == LINE_FORMAT and isinstance(line, str):
        document["message"] = line
        for field in REQUEST_FIELDS:
            if field in event:
                document[field] = event[field]
    else:
        document["message"] = formatEvent(event)
    failure = event.get("log_failure")
    if failure is not None:
        document["traceback"] = failure.getTraceback()
    return json.dumps(document, default=str) + "\n"


def observer_for(log_format: str, out: IO[Any]) -> FileLogObserver:
    """The observer writing ``--log-format``'s lines to ``out``."""
    if log_format == "json":
        return FileLogObserver(out, json_text)
    return classic_observer(out)


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
    makes it part of the application, the application's log observer.
    """

    def __init__(self, root: IService, observer: ILogObserver) -> None:
        super().__init__()
        root.setServiceParent(self)
        self.observer = observer

    def setServiceParent(self, parent: Any) -> None:
        super().setServiceParent(parent)
        if isinstance(parent, Componentized) and parent.getComponent(ILogObserver) is None:
            parent.setComponent(ILogObserver, self.observer)
