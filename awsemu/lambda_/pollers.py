"""
What makes event source mappings run: the ``MappingPoller`` service.

Every ``interval`` seconds (AWS's rate: four times a second) it settles
the mappings' transitional states (``Creating`` → ``Enabled``...;
``Deleting`` → gone), and for each enabled mapping of a DynamoDB stream
starts a poll unless one is still running:
the stream's shards are read through a ``StreamReader`` from the mapping's
``StartingPosition`` (shards found later, from ``TRIM_HORIZON``), up to
``BatchSize`` records at a time, filtered by ``FilterCriteria``, and
delivered to the function as ``{"Records": [...]}`` with each record's
``eventSourceARN``, as Lambda delivers them.

Records older than ``MaximumRecordAgeInSeconds`` are skipped. With
``ReportBatchItemFailures``, a function that names failed records in
``batchItemFailures`` has the batch retried from the first of them.
A batch the function fails on is tried again at the next poll, up to
``MaximumRetryAttempts`` more times (-1: until it succeeds), split in two
first when ``BisectBatchOnFunctionError`` is set; then it is skipped.
A throttled batch (the function's concurrency is used up) is no function
error: it is tried again at each poll, without counting against
``MaximumRetryAttempts`` or being split, "until the records expire" as
AWS's "Lambda with DynamoDB" error-handling section says of throttles and
service errors (recalled wording). A
shard's records are delivered in order: nothing after a failing batch is
read until it succeeds or is skipped. Positions are kept in memory: after
a restart a mapping reads again from its ``StartingPosition``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import attrs
from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from awsemu.lambda_.filters import selected
from awsemu.lambda_.functions import Document, FunctionStore, Scope
from awsemu.lambda_.invocations import Outcome
from awsemu.lambda_.mappings import TRANSITIONAL, source_service
from awsemu.protocol.errors import ServiceError

Deliver = Callable[[Scope, str, bytes], Deferred[Outcome]]
"""Invoke the function (ARN, maybe qualified) of a scope with a payload."""


class StreamSource(Protocol):
    """What the poller reads streams with: ``awsemu.dynamodb.streams.StreamReader``."""

    async def describe(self, arn: str) -> Document: ...

    async def iterator(
        self, arn: str, shard_id: str, kind: str, sequence_number: str | None = None
    ) -> str: ...

    async def records(
        self, arn: str, iterator: str, limit: int
    ) -> tuple[list[Document], str | None]: ...


@attrs.define
class _Shard:
    """Where a mapping is in one shard, and the batches read but not yet delivered."""

    iterator: str | None
    pending: list[list[Document]] = attrs.field(factory=list)
    next_iterator: str | None = None
    failures: int = 0


@attrs.define
class _Cursor:
    """A mapping's shards by id, and when the stream's shards were last listed."""

    shards: dict[str, _Shard] = attrs.field(factory=dict)
    described: float | None = None


@attrs.define(eq=False)
class MappingPoller(Service):
    """See the module docstring. ``streams`` is None when DynamoDB is not served."""

    store: FunctionStore
    clock: IReactorTime
    deliver: Deliver
    streams: StreamSource | None
    interval: float = 0.25
    """Seconds between polls: Lambda polls a DynamoDB stream's shards four times a second."""
    shard_listing: float = 10.0
    """Seconds between listings of a stream's shards (new ones appear every few hours)."""
    rest: float = 30.0
    """Seconds a mapping whose stream cannot be read waits before it is polled again."""
    _log: Logger = attrs.field(factory=Logger, init=False)
    _timer: IDelayedCall | None = attrs.field(default=None, init=False)
    _running: dict[str, Deferred[None]] = attrs.field(factory=dict, init=False)
    _cursors: dict[str, _Cursor] = attrs.field(factory=dict, init=False)
    _resting: dict[str, float] = attrs.field(factory=dict, init=False)

    def startService(self) -> None:
        super().startService()
        self._schedule()

    def stopService(self) -> Deferred[Any]:
        """Stop polling; fires once the polls under way have ended."""
        super().stopService()
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        return DeferredList(list(self._running.values()), consumeErrors=True)

    def _schedule(self) -> None:
        self._timer = self.clock.callLater(self.interval, self.tick)

    def tick(self) -> None:
        """Settle states, start due polls, and come back in ``interval`` seconds."""
        changed = False
        for scope, mappings in self.store.mappings.items():
            for uuid, mapping in list(mappings.items()):
                if mapping["State"] in TRANSITIONAL:
                    changed = True
                    if mapping["State"] == "Deleting":
                        del mappings[uuid]
                        self._cursors.pop(uuid, None)
                        continue
                    mapping["State"] = "Enabled" if mapping["_Enabled"] else "Disabled"
                if mapping["State"] == "Enabled" and uuid not in self._running:
                    if self._resting.get(uuid, 0.0) <= self.clock.seconds():
                        self._start(scope, uuid, mapping)
        if changed:
            self.store.save()
        if self.running:
            self._schedule()

    def _start(self, scope: Scope, uuid: str, mapping: Document) -> None:
        if self.streams is None or source_service(mapping.get("EventSourceArn", "")) != "dynamodb":
            return
        poll = Deferred.fromCoroutine(self._poll(scope, uuid, mapping, self.streams))

        def failed(reason: Failure) -> None:
            # Read again from the start position after a rest (an expired
            # iterator, a deleted table...).
            self._cursors.pop(uuid, None)
            self._resting[uuid] = self.clock.seconds() + self.rest
            if reason.check(ServiceError):
                self._log.warn(
                    "cannot read {arn}: {error}", arn=mapping["EventSourceArn"], error=reason.value
                )
            else:
                self._log.failure("polling {arn} failed", reason, arn=mapping["EventSourceArn"])

        def done(_: None) -> None:
            del self._running[uuid]

        self._running[uuid] = poll
        poll.addErrback(failed).addBoth(done)

    async def _poll(
        self, scope: Scope, uuid: str, mapping: Document, streams: StreamSource
    ) -> None:
        arn = mapping["EventSourceArn"]
        cursor = self._cursors.setdefault(uuid, _Cursor())
        now = self.clock.seconds()
        if cursor.described is None or now - cursor.described >= self.shard_listing:
            first = cursor.described is None
            for shard in (await streams.describe(arn)).get("Shards", []):
                shard_id = shard["ShardId"]
                if shard_id not in cursor.shards:
                    kind = mapping["StartingPosition"] if first else "TRIM_HORIZON"
                    cursor.shards[shard_id] = _Shard(await streams.iterator(arn, shard_id, kind))
            cursor.described = now
        for shard in cursor.shards.values():
            await self._read(scope, mapping, shard, streams)

    async def _read(
        self, scope: Scope, mapping: Document, shard: _Shard, streams: StreamSource
    ) -> None:
        arn = mapping["EventSourceArn"]
        if not shard.pending:
            if shard.iterator is None:
                return
            records, shard.next_iterator = await streams.records(
                arn, shard.iterator, int(mapping["BatchSize"])
            )
            chosen = selected(mapping.get("FilterCriteria"), self._fresh(mapping, records))
            if not chosen:
                shard.iterator = shard.next_iterator
                return
            shard.pending = [[{**record, "eventSourceARN": arn} for record in chosen]]
        batch = shard.pending[0]
        payload = json.dumps({"Records": batch}).encode()
        try:
            outcome = await self.deliver(scope, mapping["FunctionArn"], payload)
        except ServiceError as e:
            if e.code == "TooManyRequestsException":
                # Throttled: the same batch again at the next poll, not
                # counted as a failure (see the module docstring).
                return
            self._log.info("event source mapping could not invoke: {e}", e=e)
            outcome = None
        except Exception as e:
            self._log.info("event source mapping could not invoke: {e}", e=e)
            outcome = None
        failed_from = _failed_from(mapping, batch, outcome)
        if failed_from is None:
            mapping["LastProcessingResult"] = "OK"
            self._delivered(shard)
            return
        mapping["LastProcessingResult"] = "PROBLEM: Function call failed"
        shard.failures += 1
        retries = int(mapping.get("MaximumRetryAttempts", -1))
        if retries != -1 and shard.failures > retries:
            self._log.info("event source mapping skipped a batch its function failed on")
            self._delivered(shard)
            return
        batch = shard.pending[0] = batch[failed_from:]
        if mapping.get("BisectBatchOnFunctionError") and len(batch) > 1:
            half = len(batch) // 2
            shard.pending[0:1] = [batch[:half], batch[half:]]

    def _fresh(self, mapping: Document, records: list[Document]) -> list[Document]:
        """The records younger than ``MaximumRecordAgeInSeconds`` (all when it is -1)."""
        age = int(mapping.get("MaximumRecordAgeInSeconds", -1))
        if age == -1:
            return records
        oldest = self.clock.seconds() - age
        return [
            record
            for record in records
            if record.get("dynamodb", {}).get("ApproximateCreationDateTime", oldest) >= oldest
        ]

    def _delivered(self, shard: _Shard) -> None:
        """The first pending batch is done with: on to the next, or to the next records."""
        shard.pending.pop(0)
        shard.failures = 0
        if not shard.pending:
            shard.iterator = shard.next_iterator


def _failed_from(mapping: Document, batch: list[Document], outcome: Outcome | None) -> int | None:
    """
    Where in ``batch`` delivery failed: None if it succeeded, 0 for the
    whole batch, or, with ``ReportBatchItemFailures``, the first record the
    function names in ``batchItemFailures`` (by sequence number), as
    Lambda checkpoints there and retries from it. What counts as success
    and as complete failure follows AWS's documentation of partial batch
    responses (an empty or null answer succeeds; an unknown identifier
    fails the whole batch).
    """
    if outcome is None or outcome.function_error is not None:
        return 0
    if "ReportBatchItemFailures" not in (mapping.get("FunctionResponseTypes") or ()):
        return None
    try:
        response = json.loads(outcome.payload)
    except ValueError:
        return 0
    if response is None:
        return None
    if not isinstance(response, dict):
        return 0
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    sequence = [record.get("dynamodb", {}).get("SequenceNumber") for record in batch]
    found = [
        sequence.index(failure.get("itemIdentifier"))
        for failure in failures
        if isinstance(failure, dict) and failure.get("itemIdentifier") in sequence
    ]
    return min(found) if len(found) == len(failures) else 0
