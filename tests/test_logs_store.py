"""The CloudWatch Logs store: in memory, and in SQLite files that outlive it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.task import Clock
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config
from awsemu.logs import make_service, open_store
from awsemu.logs.store import LogEvent, LogGroup, LogStore, LogStream, Span, stream_key
from awsemu.protocol.errors import ServiceError
from awsemu.shared import SharedObjects

ACCOUNT = "000000000000"
REGION = "us-east-1"


ALL = Span()


def everything(message: str) -> bool:
    return True


class StoreTestCase(SynchronousTestCase):
    """A memory store on a clock at 1000 s (1 000 000 ms)."""

    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1000)
        self.store = LogStore.open(None, self.clock)
        self.addCleanup(self.store.close)

    def assertError(self, error: ServiceError, code: str, message: str) -> None:
        self.assertEqual((error.code, error.message, error.status), (code, message, 400))


class GroupTests(StoreTestCase):
    def test_create(self) -> None:
        """A new group has its creation time from the clock, nothing stored, no retention."""
        self.store.create_group(ACCOUNT, REGION, "/app/web", {"team": "a"})
        self.assertEqual(
            self.store.group(ACCOUNT, REGION, "/app/web"),
            LogGroup(ACCOUNT, REGION, "/app/web", 1_000_000),
        )
        self.assertEqual(
            self.store.group(ACCOUNT, REGION, "/app/web").arn,
            "arn:aws:logs:us-east-1:000000000000:log-group:/app/web",
        )
        self.assertEqual(self.store.tags(ACCOUNT, REGION, "/app/web"), {"team": "a"})

    def test_create_twice(self) -> None:
        self.store.create_group(ACCOUNT, REGION, "g")
        error = self.assertRaises(ServiceError, self.store.create_group, ACCOUNT, REGION, "g")
        self.assertError(
            error, "ResourceAlreadyExistsException", "The specified log group already exists."
        )

    def test_missing(self) -> None:
        """Every operation on a group that does not exist says so."""
        operations = [
            lambda: self.store.group(ACCOUNT, REGION, "g"),
            lambda: self.store.delete_group(ACCOUNT, REGION, "g"),
            lambda: self.store.set_retention(ACCOUNT, REGION, "g", 1),
            lambda: self.store.tags(ACCOUNT, REGION, "g"),
            lambda: self.store.tag(ACCOUNT, REGION, "g", {"a": "b"}),
            lambda: self.store.untag(ACCOUNT, REGION, "g", ["a"]),
            lambda: self.store.create_stream(ACCOUNT, REGION, "g", "s"),
            lambda: self.store.streams(ACCOUNT, REGION, "g", limit=1),
            lambda: self.store.stream(ACCOUNT, REGION, "g", "s"),
            lambda: self.store.append(ACCOUNT, REGION, "g", "s", [(1, "m")]),
            lambda: self.store.read_stream(ACCOUNT, REGION, "g", "s", ALL, limit=1, from_head=True),
            lambda: self.store.filter_events(
                ACCOUNT, REGION, "g", ALL, matches=everything, limit=1
            ),
        ]
        for operation in operations:
            error = self.assertRaises(ServiceError, operation)
            self.assertError(
                error, "ResourceNotFoundException", "The specified log group does not exist."
            )

    def test_accounts_and_regions(self) -> None:
        """Groups of the same name in other accounts or regions are other groups."""
        self.store.create_group(ACCOUNT, REGION, "g")
        self.store.create_group("111111111111", REGION, "g")
        self.store.create_group(ACCOUNT, "eu-west-1", "g")
        self.store.put_events(ACCOUNT, "eu-west-1", "g", "s", [(5, "hello")])
        self.assertEqual(self.store.group(ACCOUNT, REGION, "g").stored_bytes, 0)
        self.assertEqual(self.store.group(ACCOUNT, "eu-west-1", "g").stored_bytes, 5)
        self.assertEqual(
            [group.account_id for group in self.store.groups("111111111111", REGION, limit=5)],
            ["111111111111"],
        )

    def test_list(self) -> None:
        """Groups by name, after a name, by prefix or by a substring in any case."""
        for name in ["b", "a/1", "a/2", "A/3", "c"]:
            self.store.create_group(ACCOUNT, REGION, name)

        def names(**kwargs: Any) -> list[str]:
            return [g.name for g in self.store.groups(ACCOUNT, REGION, **kwargs)]

        self.assertEqual(names(limit=10), ["A/3", "a/1", "a/2", "b", "c"])
        self.assertEqual(names(limit=2), ["A/3", "a/1"])
        self.assertEqual(names(after="a/1", limit=2), ["a/2", "b"])
        self.assertEqual(names(prefix="a/", limit=10), ["a/1", "a/2"])
        self.assertEqual(names(containing="A/", limit=10), ["A/3", "a/1", "a/2"])
        self.store.create_group(ACCOUNT, REGION, "d", group_class="DELIVERY")
        self.assertEqual(names(group_class="DELIVERY", limit=10), ["d"])
        self.assertEqual(names(group_class="STANDARD", limit=10), ["A/3", "a/1", "a/2", "b", "c"])

    def test_delete(self) -> None:
        """Deleting a group deletes its streams and events; the name can be used again."""
        self.store.put_events(ACCOUNT, REGION, "g", "s", [(1, "a")])
        self.store.delete_group(ACCOUNT, REGION, "g")
        self.assertEqual(self.store.groups(ACCOUNT, REGION, limit=5), [])
        self.store.create_group(ACCOUNT, REGION, "g")
        self.assertEqual(self.store.streams(ACCOUNT, REGION, "g", limit=5), [])

    def test_retention(self) -> None:
        self.store.create_group(ACCOUNT, REGION, "g")
        self.store.set_retention(ACCOUNT, REGION, "g", 7)
        self.assertEqual(self.store.group(ACCOUNT, REGION, "g").retention_in_days, 7)
        self.store.set_retention(ACCOUNT, REGION, "g", None)
        self.assertIsNone(self.store.group(ACCOUNT, REGION, "g").retention_in_days)

    def test_tags(self) -> None:
        """Tagging merges, replacing values; untagging ignores keys that are not there."""
        self.store.create_group(ACCOUNT, REGION, "g", {"a": "1", "b": "2"})
        self.store.tag(ACCOUNT, REGION, "g", {"b": "3", "c": "4"})
        self.assertEqual(self.store.tags(ACCOUNT, REGION, "g"), {"a": "1", "b": "3", "c": "4"})
        self.store.untag(ACCOUNT, REGION, "g", ["a", "zz"])
        self.assertEqual(self.store.tags(ACCOUNT, REGION, "g"), {"b": "3", "c": "4"})


class StreamTests(StoreTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.store.create_group(ACCOUNT, REGION, "g")

    def test_create(self) -> None:
        """A new stream has no events yet, so no event times."""
        self.store.create_stream(ACCOUNT, REGION, "g", "s")
        self.assertEqual(
            self.store.stream(ACCOUNT, REGION, "g", "s"),
            LogStream("s", 1_000_000, None, None, None),
        )

    def test_create_twice(self) -> None:
        self.store.create_stream(ACCOUNT, REGION, "g", "s")
        error = self.assertRaises(ServiceError, self.store.create_stream, ACCOUNT, REGION, "g", "s")
        self.assertError(
            error, "ResourceAlreadyExistsException", "The specified log stream already exists."
        )

    def test_missing(self) -> None:
        """Every operation on a stream that does not exist says so."""
        operations = [
            lambda: self.store.stream(ACCOUNT, REGION, "g", "s"),
            lambda: self.store.delete_stream(ACCOUNT, REGION, "g", "s"),
            lambda: self.store.append(ACCOUNT, REGION, "g", "s", [(1, "m")]),
            lambda: self.store.read_stream(ACCOUNT, REGION, "g", "s", ALL, limit=1, from_head=True),
        ]
        for operation in operations:
            error = self.assertRaises(ServiceError, operation)
            self.assertError(
                error, "ResourceNotFoundException", "The specified log stream does not exist."
            )

    def test_event_times(self) -> None:
        """
        A stream's first and last event timestamps span every event it got,
        in any order; its last ingestion time is that of its last write.
        """
        self.store.create_stream(ACCOUNT, REGION, "g", "s")
        self.store.append(ACCOUNT, REGION, "g", "s", [(500, "a"), (700, "b")])
        self.clock.advance(1)
        self.store.append(ACCOUNT, REGION, "g", "s", [(300, "c")])
        self.assertEqual(
            self.store.stream(ACCOUNT, REGION, "g", "s"),
            LogStream("s", 1_000_000, 300, 700, 1_001_000),
        )

    def test_order(self) -> None:
        """
        Streams by name, or by last event time with the streams without
        events first; either way in reverse, and after a key.
        """
        for name, timestamp in [("c", 10), ("a", 30), ("b", None), ("d", 20)]:
            self.store.create_stream(ACCOUNT, REGION, "g", name)
            if timestamp is not None:
                self.store.append(ACCOUNT, REGION, "g", name, [(timestamp, "m")])

        def names(**kwargs: Any) -> list[str]:
            return [s.name for s in self.store.streams(ACCOUNT, REGION, "g", limit=10, **kwargs)]

        self.assertEqual(names(), ["a", "b", "c", "d"])
        self.assertEqual(names(descending=True), ["d", "c", "b", "a"])
        self.assertEqual(names(after=(0, "b")), ["c", "d"])
        self.assertEqual(names(descending=True, after=(0, "b")), ["a"])
        self.assertEqual(names(by_event_time=True), ["b", "c", "d", "a"])
        self.assertEqual(names(by_event_time=True, descending=True), ["a", "d", "c", "b"])
        self.assertEqual(names(by_event_time=True, after=(10, "c")), ["d", "a"])
        self.assertEqual(names(by_event_time=True, descending=True, after=(20, "d")), ["c", "b"])
        self.assertEqual(names(prefix="c"), ["c"])
        self.assertEqual(
            self.store.streams(ACCOUNT, REGION, "g", limit=2),
            [
                LogStream("a", 1_000_000, 30, 30, 1_000_000),
                LogStream("b", 1_000_000, None, None, None),
            ],
        )

    def test_stream_key(self) -> None:
        """A stream's key is its name, or its last event time (-1 if none) and name."""
        empty = LogStream("e", 1, None, None, None)
        full = LogStream("f", 1, 5, 9, 10)
        self.assertEqual(stream_key(empty, False), (0, "e"))
        self.assertEqual(stream_key(empty, True), (-1, "e"))
        self.assertEqual(stream_key(full, True), (9, "f"))

    def test_delete(self) -> None:
        """A deleted stream's events no longer count in the group's stored bytes."""
        self.store.put_events(ACCOUNT, REGION, "g", "s", [(1, "héllo")])
        self.store.put_events(ACCOUNT, REGION, "g", "t", [(1, "abc")])
        self.assertEqual(self.store.group(ACCOUNT, REGION, "g").stored_bytes, 9)
        self.store.delete_stream(ACCOUNT, REGION, "g", "s")
        self.assertEqual(self.store.group(ACCOUNT, REGION, "g").stored_bytes, 3)
        self.assertEqual([s.name for s in self.store.streams(ACCOUNT, REGION, "g", limit=5)], ["t"])
        self.assertEqual(
            [
                e.message
                for e in self.store.filter_events(
                    ACCOUNT, REGION, "g", ALL, matches=everything, limit=5
                )
            ],
            ["abc"],
        )


class EventTests(StoreTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.store.put_events(
            ACCOUNT, REGION, "g", "s", [(10, "a"), (20, "b"), (20, "c"), (30, "d"), (40, "e")]
        )

    def read(self, span: Span = ALL, limit: int = 10, from_head: bool = True) -> list[str]:
        events = self.store.read_stream(
            ACCOUNT, REGION, "g", "s", span, limit=limit, from_head=from_head
        )
        return [event.message for event in events]

    def test_put_events_creates(self) -> None:
        """
        ``put_events``, Lambda's way in, creates the group and the stream
        when missing and then appends to them.
        """
        self.assertEqual(self.store.group(ACCOUNT, REGION, "g").stored_bytes, 5)
        self.store.put_events(ACCOUNT, REGION, "g", "s", [(50, "f")])
        self.store.put_events(ACCOUNT, REGION, "g", "s", [])
        self.assertEqual(self.read(), ["a", "b", "c", "d", "e", "f"])
        self.assertEqual(
            self.store.stream(ACCOUNT, REGION, "g", "s"),
            LogStream("s", 1_000_000, 10, 50, 1_000_000),
        )

    def test_read(self) -> None:
        """Events come oldest first, as a stream's first or last ``limit``."""
        self.assertEqual(self.read(limit=2), ["a", "b"])
        self.assertEqual(self.read(limit=2, from_head=False), ["d", "e"])
        self.assertEqual(
            self.store.read_stream(ACCOUNT, REGION, "g", "s", ALL, limit=1, from_head=True),
            [LogEvent("s", 10, "a", 1_000_000, 1)],
        )

    def test_span(self) -> None:
        """A span limits timestamps to ``[start, end)`` and positions to between its cursors."""
        self.assertEqual(self.read(Span(start=20, end=40)), ["b", "c", "d"])
        self.assertEqual(self.read(Span(after=(20, 2))), ["c", "d", "e"])
        self.assertEqual(self.read(Span(before=(20, 3)), from_head=False), ["a", "b"])
        self.assertEqual(self.read(Span(after=(10, 1), before=(40, 5))), ["b", "c", "d"])

    def test_filter(self) -> None:
        """Filtering interleaves the group's streams by time, within a span, by a predicate."""
        self.store.put_events(ACCOUNT, REGION, "g", "t", [(15, "x"), (35, "y")])
        self.store.put_events(ACCOUNT, REGION, "g", "other", [(25, "z")])

        def messages(
            span: Span = ALL,
            limit: int = 10,
            matches: Callable[[str], bool] = everything,
            **kwargs: Any,
        ) -> list[str]:
            events = self.store.filter_events(
                ACCOUNT, REGION, "g", span, matches=matches, limit=limit, **kwargs
            )
            return [event.message for event in events]

        self.assertEqual(messages(), ["a", "x", "b", "c", "z", "d", "y", "e"])
        self.assertEqual(messages(limit=3), ["a", "x", "b"])
        self.assertEqual(messages(Span(start=15, end=30)), ["x", "b", "c", "z"])
        self.assertEqual(messages(Span(after=(20, 3))), ["z", "d", "y", "e"])
        self.assertEqual(messages(streams=["t", "other"]), ["x", "z", "y"])
        self.assertEqual(messages(stream_prefix="o"), ["z"])
        self.assertEqual(messages(matches=lambda m: m in "xyz", limit=2), ["x", "z"])
        self.assertEqual(
            self.store.filter_events(ACCOUNT, REGION, "g", ALL, matches=everything, limit=1),
            [LogEvent("s", 10, "a", 1_000_000, 1)],
        )

    def test_append_sequence(self) -> None:
        """``append`` answers the id of the last event stored, for sequence tokens."""
        self.assertEqual(self.store.append(ACCOUNT, REGION, "g", "s", [(60, "f")]), 6)
        self.assertEqual(self.store.append(ACCOUNT, REGION, "g", "s", []), 6)


class PersistenceTests(SynchronousTestCase):
    def test_reopen(self) -> None:
        """Groups, streams, events, tags and retention survive closing the database file."""
        clock = Clock()
        path = FilePath(self.mktemp())
        store = LogStore.open(path, clock)
        store.create_group(
            ACCOUNT, REGION, "g", {"k": "v"}, group_class="INFREQUENT_ACCESS", kms_key_id="key"
        )
        store.set_retention(ACCOUNT, REGION, "g", 30)
        store.put_events(ACCOUNT, REGION, "g", "s", [(1, "one"), (2, "two")])
        store.close()

        reopened = LogStore.open(path, clock)
        self.addCleanup(reopened.close)
        self.assertEqual(
            reopened.group(ACCOUNT, REGION, "g"),
            LogGroup(ACCOUNT, REGION, "g", 0, 30, 6, "INFREQUENT_ACCESS", "key"),
        )
        self.assertEqual(reopened.tags(ACCOUNT, REGION, "g"), {"k": "v"})
        self.assertEqual(
            [
                e.message
                for e in reopened.read_stream(
                    ACCOUNT, REGION, "g", "s", ALL, limit=5, from_head=True
                )
            ],
            ["one", "two"],
        )
        reopened.put_events(ACCOUNT, REGION, "g", "s", [(3, "three")])
        self.assertEqual(reopened.append(ACCOUNT, REGION, "g", "s", []), 3)

    def test_wal(self) -> None:
        """The database file is in WAL mode, so a second connection reads what the first wrote."""
        clock = Clock()
        path = FilePath(self.mktemp())
        writer = LogStore.open(path, clock)
        self.addCleanup(writer.close)
        reader = LogStore.open(path, clock)
        self.addCleanup(reader.close)
        writer.put_events(ACCOUNT, REGION, "g", "s", [(1, "one")])
        self.assertEqual(reader.stream(ACCOUNT, REGION, "g", "s").last_event_timestamp, 1)
        self.assertTrue(path.siblingExtension("-wal").exists())


class FactoryTests(SynchronousTestCase):
    def test_data_dir(self) -> None:
        """With a data directory, the store lives in ``<data-dir>/logs/logs.sqlite``."""
        data_dir = FilePath(self.mktemp())
        store = open_store(Config(data_dir=data_dir), Clock())
        self.addCleanup(store.close)
        store.put_events(ACCOUNT, REGION, "g", "s", [(1, "x")])
        self.assertTrue(data_dir.descendant(["logs", "logs.sqlite"]).exists())

    def test_shared_store(self) -> None:
        """The logs backend serves the daemon's shared store, which Lambda writes to."""
        clock = Clock()
        shared = SharedObjects(Config(), clock)
        backend = make_service(Config(), clock, shared)
        store = shared.obtain(open_store)
        self.addCleanup(store.close)
        store.put_events(ACCOUNT, REGION, "g", "s", [(1, "x")])
        self.assertIs(backend.provider.store, store)  # type: ignore[attr-defined]
        self.assertEqual(store.group(ACCOUNT, REGION, "g").name, "g")
