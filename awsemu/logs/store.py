"""
What CloudWatch Logs keeps: log groups (per account and region), their
streams and the streams' events, in one SQLite database: a file in WAL mode
under ``<data-dir>/logs/`` so everything survives a restart, or ``:memory:``
without a data directory. One implementation serves both, so what the
tests exercise is what the daemon runs.

All methods run on the reactor thread: each is one short transaction, and
WAL with ``synchronous=NORMAL`` makes a commit an append to the log
without an fsync.

This is also the API other services use to write logs; Lambda calls
``LogStore.put_events``, which creates the group and the stream as AWS's
Lambda service does. Timestamps are milliseconds since the epoch
throughout, never negative; ingestion and creation times are read from
the clock given to ``LogStore.open``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

import attrs
from twisted.internet.interfaces import IReactorTime
from twisted.python.filepath import FilePath

from awsemu.logs import errors

Position = tuple[int, int]
"""Where an event sits in its stream or group: ``(timestamp, event id)``, in reading order."""

StreamKey = tuple[int, str]
"""Where a stream sits in DescribeLogStreams' order: see ``stream_key``."""

_EARLIEST: Final = 0
"""Timestamps and event ids are never negative (the model's ``Timestamp`` has ``min: 0``)."""
_LATEST: Final = 2**63 - 1

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    retention_in_days INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '{}',
    log_group_class TEXT NOT NULL DEFAULT 'STANDARD',
    kms_key_id TEXT,
    UNIQUE (account_id, region, name)
);
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    first_event_timestamp INTEGER,
    last_event_timestamp INTEGER,
    last_ingestion_time INTEGER,
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS log_events (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL,
    stream_id INTEGER NOT NULL REFERENCES log_streams (id) ON DELETE CASCADE,
    timestamp INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_stream ON log_events (stream_id, timestamp, id);
CREATE INDEX IF NOT EXISTS events_by_group ON log_events (group_id, timestamp, id);
"""

_GROUP_COLUMNS: Final = (
    "name, creation_time, retention_in_days, stored_bytes, log_group_class, kms_key_id"
)
_STREAM_COLUMNS: Final = (
    "name, creation_time, first_event_timestamp, last_event_timestamp, last_ingestion_time"
)
_STREAM_ORDER: Final = {False: "0", True: "COALESCE(last_event_timestamp, -1)"}
"""
The first part of ``stream_key`` in SQL, by whether streams are ordered by
event time. (It is left out of ORDER BY when constant: there SQLite would
read ``0`` as a column number.)
"""


def group_arn(account_id: str, region: str, name: str) -> str:
    """A log group's ARN as TagResource takes it (DescribeLogGroups' ``arn`` adds ``:*``)."""
    return f"arn:aws:logs:{region}:{account_id}:log-group:{name}"


@attrs.frozen
class LogGroup:
    """
    A log group; ``stored_bytes`` counts its events' messages in UTF-8.
    ``group_class`` and ``kms_key_id`` are kept as given, for tools that
    read back what they created (Terraform would see a change otherwise).
    """

    account_id: str
    region: str
    name: str
    creation_time: int
    retention_in_days: int | None = None
    stored_bytes: int = 0
    group_class: str = "STANDARD"
    kms_key_id: str | None = None

    @property
    def arn(self) -> str:
        return group_arn(self.account_id, self.region, self.name)


@attrs.frozen
class LogStream:
    """A log stream; the event times are None until it has events."""

    name: str
    creation_time: int
    first_event_timestamp: int | None
    last_event_timestamp: int | None
    last_ingestion_time: int | None


def stream_key(stream: LogStream, by_event_time: bool) -> StreamKey:
    """
    The stream's place in DescribeLogStreams' order: by name, or by last
    event time (streams without events first) and then name.
    """
    if not by_event_time:
        return (0, stream.name)
    last = stream.last_event_timestamp
    return (-1 if last is None else last, stream.name)


@attrs.frozen
class LogEvent:
    """An event as read back; ``event_id`` orders events of equal timestamp by arrival."""

    stream: str
    timestamp: int
    message: str
    ingestion_time: int
    event_id: int

    @property
    def position(self) -> Position:
        return (self.timestamp, self.event_id)


@attrs.frozen
class Span:
    """
    Which events a read covers: timestamps in ``[start, end)``, positions
    strictly between ``after`` and ``before``. Readers page by narrowing
    ``after`` (forwards) or ``before`` (backwards) to the last event seen.
    """

    start: int = _EARLIEST
    end: int = _LATEST
    after: Position = (_EARLIEST, _EARLIEST)
    before: Position = (_LATEST, _LATEST)


@attrs.define
class LogStore:
    """Log groups, streams and events of every account and region; see the module docstring."""

    _db: sqlite3.Connection
    _clock: IReactorTime

    @classmethod
    def open(cls, path: FilePath[str] | None, clock: IReactorTime) -> LogStore:
        """The store in the database file ``path`` (created if missing), or in memory if None."""
        db = sqlite3.connect(":memory:" if path is None else path.path)
        if path is not None:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(_SCHEMA)
        return cls(db, clock)

    def close(self) -> None:
        self._db.close()

    def _now(self) -> int:
        return int(self._clock.seconds() * 1000)

    # Groups

    def create_group(
        self,
        account_id: str,
        region: str,
        name: str,
        tags: Mapping[str, str] | None = None,
        *,
        group_class: str = "STANDARD",
        kms_key_id: str | None = None,
    ) -> None:
        """A new, empty group; ``ResourceAlreadyExistsException`` if it exists."""
        try:
            with self._db:
                self._db.execute(
                    "INSERT INTO log_groups (account_id, region, name, creation_time, tags,"
                    " log_group_class, kms_key_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        account_id,
                        region,
                        name,
                        self._now(),
                        json.dumps(dict(tags or {})),
                        group_class,
                        kms_key_id,
                    ),
                )
        except sqlite3.IntegrityError:
            raise errors.group_exists() from None

    def clear(self) -> None:
        """Forget every group, stream and event."""
        with self._db:
            for table in ("log_events", "log_streams", "log_groups"):
                self._db.execute(f"DELETE FROM {table}")

    def inventory(self) -> list[tuple[str, str, str, str]]:
        """Every log group."""
        rows = self._db.execute("SELECT account_id, region, name FROM log_groups ORDER BY name")
        return [(account, region, "log-groups", name) for account, region, name in rows]

    def delete_group(self, account_id: str, region: str, name: str) -> None:
        """Remove the group with its streams and events."""
        group_id = self._group_id(account_id, region, name)
        with self._db:
            self._db.execute("DELETE FROM log_groups WHERE id = ?", (group_id,))

    def group(self, account_id: str, region: str, name: str) -> LogGroup:
        """The group ``name``; ``ResourceNotFoundException`` if there is none."""
        row = self._db.execute(
            f"SELECT {_GROUP_COLUMNS} FROM log_groups"
            " WHERE account_id = ? AND region = ? AND name = ?",
            (account_id, region, name),
        ).fetchone()
        if row is None:
            raise errors.group_not_found()
        return LogGroup(account_id, region, *row)

    def groups(
        self,
        account_id: str,
        region: str,
        *,
        prefix: str = "",
        containing: str = "",
        group_class: str | None = None,
        after: str = "",
        limit: int,
    ) -> list[LogGroup]:
        """
        Up to ``limit`` groups by name, after the name ``after``: those whose
        name starts with ``prefix`` and contains ``containing`` (ignoring
        case), of class ``group_class`` if given.
        """
        rows = self._db.execute(
            f"SELECT {_GROUP_COLUMNS} FROM log_groups"
            " WHERE account_id = ? AND region = ? AND name > ? AND substr(name, 1, ?) = ?"
            " AND instr(lower(name), lower(?)) > 0"
            " AND log_group_class = coalesce(?, log_group_class) ORDER BY name LIMIT ?",
            (account_id, region, after, len(prefix), prefix, containing, group_class, limit),
        )
        return [LogGroup(account_id, region, *row) for row in rows]

    def set_retention(self, account_id: str, region: str, name: str, days: int | None) -> None:
        """Keep the group's retention in days, or forget it (None: events never expire)."""
        group_id = self._group_id(account_id, region, name)
        with self._db:
            self._db.execute(
                "UPDATE log_groups SET retention_in_days = ? WHERE id = ?", (days, group_id)
            )

    def tags(self, account_id: str, region: str, name: str) -> dict[str, str]:
        """The group's tags."""
        group_id = self._group_id(account_id, region, name)
        (text,) = self._db.execute(
            "SELECT tags FROM log_groups WHERE id = ?", (group_id,)
        ).fetchone()
        tags: dict[str, str] = json.loads(text)
        return tags

    def tag(self, account_id: str, region: str, name: str, tags: Mapping[str, str]) -> None:
        """Add ``tags`` to the group's, replacing the values of keys it has."""
        self._update_tags(account_id, region, name, lambda old: {**old, **tags})

    def untag(self, account_id: str, region: str, name: str, keys: Iterable[str]) -> None:
        """Remove the tags ``keys`` from the group; keys it does not have are ignored."""
        gone = frozenset(keys)
        self._update_tags(
            account_id,
            region,
            name,
            lambda old: {key: value for key, value in old.items() if key not in gone},
        )

    def _update_tags(
        self,
        account_id: str,
        region: str,
        name: str,
        change: Callable[[dict[str, str]], dict[str, str]],
    ) -> None:
        new = change(self.tags(account_id, region, name))
        with self._db:
            self._db.execute(
                "UPDATE log_groups SET tags = ? WHERE account_id = ? AND region = ? AND name = ?",
                (json.dumps(new), account_id, region, name),
            )

    def _group_id(self, account_id: str, region: str, name: str) -> int:
        row = self._db.execute(
            "SELECT id FROM log_groups WHERE account_id = ? AND region = ? AND name = ?",
            (account_id, region, name),
        ).fetchone()
        if row is None:
            raise errors.group_not_found()
        group_id: int = row[0]
        return group_id

    # Streams

    def create_stream(self, account_id: str, region: str, group: str, name: str) -> None:
        """A new, empty stream; ``ResourceAlreadyExistsException`` if it exists."""
        group_id = self._group_id(account_id, region, group)
        try:
            with self._db:
                self._db.execute(
                    "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)",
                    (group_id, name, self._now()),
                )
        except sqlite3.IntegrityError:
            raise errors.stream_exists() from None

    def delete_stream(self, account_id: str, region: str, group: str, name: str) -> None:
        """Remove the stream and its events."""
        group_id, stream_id = self._stream_id(account_id, region, group, name)
        stored = self._db.execute(
            "SELECT COALESCE(SUM(length(CAST(message AS BLOB))), 0) FROM log_events"
            " WHERE stream_id = ?",
            (stream_id,),
        ).fetchone()[0]
        with self._db:
            self._db.execute("DELETE FROM log_streams WHERE id = ?", (stream_id,))
            self._db.execute(
                "UPDATE log_groups SET stored_bytes = stored_bytes - ? WHERE id = ?",
                (stored, group_id),
            )

    def streams(
        self,
        account_id: str,
        region: str,
        group: str,
        *,
        prefix: str = "",
        by_event_time: bool = False,
        descending: bool = False,
        after: StreamKey | None = None,
        limit: int,
    ) -> list[LogStream]:
        """
        Up to ``limit`` of the group's streams whose name starts with
        ``prefix``, in ``stream_key`` order (or its reverse), strictly past
        the key ``after``.
        """
        group_id = self._group_id(account_id, region, group)
        key = _STREAM_ORDER[by_event_time]
        direction, past = ("DESC", "<") if descending else ("ASC", ">")
        beyond = "" if after is None else f" AND ({key}, name) {past} (?, ?)"
        order = f"{key} {direction}, " if by_event_time else ""
        rows = self._db.execute(
            f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE group_id = ?"
            f" AND substr(name, 1, ?) = ?{beyond} ORDER BY {order}name {direction} LIMIT ?",
            (group_id, len(prefix), prefix, *(after or ()), limit),
        )
        return [LogStream(*row) for row in rows]

    def stream(self, account_id: str, region: str, group: str, name: str) -> LogStream:
        """The stream ``name``; ``ResourceNotFoundException`` for it or its group."""
        _, stream_id = self._stream_id(account_id, region, group, name)
        row = self._db.execute(
            f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE id = ?", (stream_id,)
        ).fetchone()
        return LogStream(*row)

    def _stream_id(self, account_id: str, region: str, group: str, name: str) -> tuple[int, int]:
        group_id = self._group_id(account_id, region, group)
        row = self._db.execute(
            "SELECT id FROM log_streams WHERE group_id = ? AND name = ?", (group_id, name)
        ).fetchone()
        if row is None:
            raise errors.stream_not_found()
        return group_id, row[0]

    # Events

    def put_events(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: Sequence[tuple[int, str]],
    ) -> None:
        """
        Append ``(timestamp in ms, message)`` events to a stream, creating
        the group and the stream if they are missing, as AWS's own services
        (Lambda) do. Nothing is checked: AWS's PutLogEvents rules on
        timestamps apply to its API callers, not to the services that log.
        """
        now = self._now()
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO log_groups (account_id, region, name, creation_time)"
                " VALUES (?, ?, ?, ?)",
                (account_id, region, group, now),
            )
            group_id = self._group_id(account_id, region, group)
            self._db.execute(
                "INSERT OR IGNORE INTO log_streams (group_id, name, creation_time)"
                " VALUES (?, ?, ?)",
                (group_id, stream, now),
            )
            _, stream_id = self._stream_id(account_id, region, group, stream)
            self._insert(group_id, stream_id, events, now)

    def append(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: Sequence[tuple[int, str]],
    ) -> int:
        """
        PutLogEvents' write: like ``put_events``, but the group and the
        stream must exist. The id of the last event stored in the whole
        store, from which AWS-like sequence tokens are made.
        """
        group_id, stream_id = self._stream_id(account_id, region, group, stream)
        with self._db:
            self._insert(group_id, stream_id, events, self._now())
        last: int = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM log_events").fetchone()[0]
        return last

    def _insert(
        self, group_id: int, stream_id: int, events: Sequence[tuple[int, str]], now: int
    ) -> None:
        if not events:
            return
        self._db.executemany(
            "INSERT INTO log_events (group_id, stream_id, timestamp, ingestion_time, message)"
            " VALUES (?, ?, ?, ?, ?)",
            [(group_id, stream_id, timestamp, now, message) for timestamp, message in events],
        )
        timestamps = [timestamp for timestamp, _ in events]
        self._db.execute(
            "UPDATE log_streams SET"
            " first_event_timestamp = COALESCE(MIN(first_event_timestamp, :first), :first),"
            " last_event_timestamp = COALESCE(MAX(last_event_timestamp, :last), :last),"
            " last_ingestion_time = :now WHERE id = :id",
            {"first": min(timestamps), "last": max(timestamps), "now": now, "id": stream_id},
        )
        self._db.execute(
            "UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?",
            (sum(len(message.encode()) for _, message in events), group_id),
        )

    def read_stream(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        span: Span,
        *,
        limit: int,
        from_head: bool,
    ) -> list[LogEvent]:
        """
        Up to ``limit`` of the stream's events in ``span``, oldest first: the
        oldest ones if ``from_head``, else the newest ones.
        """
        _, stream_id = self._stream_id(account_id, region, group, stream)
        direction = "ASC" if from_head else "DESC"
        rows = self._db.execute(
            "SELECT timestamp, message, ingestion_time, id FROM log_events"
            " WHERE stream_id = ? AND timestamp >= ? AND timestamp < ?"
            " AND (timestamp, id) > (?, ?) AND (timestamp, id) < (?, ?)"
            f" ORDER BY timestamp {direction}, id {direction} LIMIT ?",
            (stream_id, span.start, span.end, *span.after, *span.before, limit),
        ).fetchall()
        if not from_head:
            rows.reverse()
        return [LogEvent(stream, *row) for row in rows]

    def filter_events(
        self,
        account_id: str,
        region: str,
        group: str,
        span: Span,
        *,
        streams: Sequence[str] | None = None,
        stream_prefix: str = "",
        matches: Callable[[str], bool],
        limit: int,
    ) -> list[LogEvent]:
        """
        Up to ``limit`` events of the group in ``span``, oldest first across
        its streams, whose message ``matches``: from the streams named in
        ``streams`` if given, else from those whose name starts with
        ``stream_prefix``.
        """
        group_id = self._group_id(account_id, region, group)
        names = "" if streams is None else f" AND s.name IN ({', '.join('?' * len(streams))})"
        rows = self._db.execute(
            "SELECT s.name, e.timestamp, e.message, e.ingestion_time, e.id"
            " FROM log_events e JOIN log_streams s ON s.id = e.stream_id"
            " WHERE e.group_id = ? AND e.timestamp >= ? AND e.timestamp < ?"
            " AND (e.timestamp, e.id) > (?, ?) AND (e.timestamp, e.id) < (?, ?)"
            f" AND substr(s.name, 1, ?) = ?{names} ORDER BY e.timestamp, e.id",
            (
                group_id,
                span.start,
                span.end,
                *span.after,
                *span.before,
                len(stream_prefix),
                stream_prefix,
                *(streams or ()),
            ),
        )
        found: list[LogEvent] = []
        for row in rows:
            if matches(row[2]):
                found.append(LogEvent(*row))
                if len(found) == limit:
                    break
        return found
