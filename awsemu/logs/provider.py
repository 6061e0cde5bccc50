"""
CloudWatch Logs operations: parameters in botocore's form in, the
operation's output out, AWS's rules (time limits on events, mutually
exclusive parameters, pagination tokens) applied on top of ``LogStore``.
"""

from __future__ import annotations

import json
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.logs import errors
from awsemu.logs.patterns import parse_filter_pattern
from awsemu.logs.store import (
    LogEvent,
    LogGroup,
    LogStore,
    LogStream,
    Position,
    Span,
    group_arn,
    stream_key,
)

Params = dict[str, Any]
Output = dict[str, Any]
Item = TypeVar("Item")

_HOUR: Final = 3600 * 1000
_DAY: Final = 24 * _HOUR
_TOO_NEW: Final = 2 * _HOUR
"""PutLogEvents rejects events this far in the future..."""
_TOO_OLD: Final = 14 * _DAY
"""...and this far in the past..."""
_MAX_SPAN: Final = _DAY
"""...and fails a batch whose events span more than this."""

RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
"""The retention periods PutRetentionPolicy accepts."""

_STREAM_TOKEN: Final = re.compile(r"([fb])/([0-9]{56})/s")
_EVERYTHING: Final = Span()
"""The span of a read without time limits or a token."""
_GROUP_ARN: Final = re.compile(r"arn:aws:logs:([^:]+):([0-9]{12}):log-group:([^:]+)")
"""A log group's ARN as operations take it: without ``:*`` (the model's patterns forbid ``*``)."""


@attrs.frozen
class GroupRef:
    """A log group as an operation names it: by name in the caller's account, or by ARN."""

    account_id: str
    region: str
    name: str


@attrs.define
class LogsProvider:
    """CloudWatch Logs; ``clock`` is the one ``store`` reads, for PutLogEvents' time limits."""

    store: LogStore
    clock: IReactorTime

    # Groups

    async def create_log_group(self, context: RequestContext, params: Params) -> Output:
        self.store.create_group(
            context.account_id,
            context.region,
            params["logGroupName"],
            params.get("tags"),
            group_class=params.get("logGroupClass", "STANDARD"),
            kms_key_id=params.get("kmsKeyId"),
        )
        return {}

    async def delete_log_group(self, context: RequestContext, params: Params) -> Output:
        self.store.delete_group(context.account_id, context.region, params["logGroupName"])
        return {}

    async def describe_log_groups(self, context: RequestContext, params: Params) -> Output:
        prefix = params.get("logGroupNamePrefix", "")
        containing = params.get("logGroupNamePattern", "")
        if prefix and containing:
            raise errors.invalid_parameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        limit = params.get("limit", 50)
        after = _decode(params.get("nextToken"), str) or ""
        groups = self.store.groups(
            context.account_id,
            context.region,
            prefix=prefix,
            containing=containing,
            group_class=params.get("logGroupClass"),
            after=after,
            limit=limit + 1,
        )
        page, more = _page(groups, limit, lambda group: group.name)
        return {"logGroups": [_group(group) for group in page], **more}

    async def put_retention_policy(self, context: RequestContext, params: Params) -> Output:
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            raise errors.validation(
                [
                    errors.constraint(
                        "retentionInDays",
                        days,
                        f"satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]",
                    )
                ]
            )
        self.store.set_retention(context.account_id, context.region, params["logGroupName"], days)
        return {}

    async def delete_retention_policy(self, context: RequestContext, params: Params) -> Output:
        self.store.set_retention(context.account_id, context.region, params["logGroupName"], None)
        return {}

    # Tags, by group name (the older API) and by ARN

    async def tag_log_group(self, context: RequestContext, params: Params) -> Output:
        self.store.tag(context.account_id, context.region, params["logGroupName"], params["tags"])
        return {}

    async def untag_log_group(self, context: RequestContext, params: Params) -> Output:
        self.store.untag(context.account_id, context.region, params["logGroupName"], params["tags"])
        return {}

    async def list_tags_log_group(self, context: RequestContext, params: Params) -> Output:
        return {"tags": self.store.tags(context.account_id, context.region, params["logGroupName"])}

    async def tag_resource(self, context: RequestContext, params: Params) -> Output:
        group = _group_by_arn(params["resourceArn"])
        self.store.tag(group.account_id, group.region, group.name, params["tags"])
        return {}

    async def untag_resource(self, context: RequestContext, params: Params) -> Output:
        group = _group_by_arn(params["resourceArn"])
        self.store.untag(group.account_id, group.region, group.name, params["tagKeys"])
        return {}

    async def list_tags_for_resource(self, context: RequestContext, params: Params) -> Output:
        group = _group_by_arn(params["resourceArn"])
        return {"tags": self.store.tags(group.account_id, group.region, group.name)}

    # Streams

    async def create_log_stream(self, context: RequestContext, params: Params) -> Output:
        self.store.create_stream(
            context.account_id, context.region, params["logGroupName"], params["logStreamName"]
        )
        return {}

    async def delete_log_stream(self, context: RequestContext, params: Params) -> Output:
        self.store.delete_stream(
            context.account_id, context.region, params["logGroupName"], params["logStreamName"]
        )
        return {}

    async def describe_log_streams(self, context: RequestContext, params: Params) -> Output:
        group = _group_ref(context, params)
        prefix = params.get("logStreamNamePrefix", "")
        by_event_time = params.get("orderBy") == "LastEventTime"
        if by_event_time and prefix:
            raise errors.invalid_parameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix."
            )
        token = _decode(params.get("nextToken"), list)
        if token is not None and not _is_stream_token(token, by_event_time):
            raise errors.invalid_token()
        limit = params.get("limit", 50)
        streams = self.store.streams(
            group.account_id,
            group.region,
            group.name,
            prefix=prefix,
            by_event_time=by_event_time,
            descending=params.get("descending", False),
            after=None if token is None else (token[1], token[2]),
            limit=limit + 1,
        )
        arn = group_arn(group.account_id, group.region, group.name)
        page, more = _page(
            streams, limit, lambda stream: [by_event_time, *stream_key(stream, by_event_time)]
        )
        return {"logStreams": [_stream(arn, stream) for stream in page], **more}

    # Events

    async def put_log_events(self, context: RequestContext, params: Params) -> Output:
        group = self.store.group(context.account_id, context.region, params["logGroupName"])
        events = [(event["timestamp"], event["message"]) for event in params["logEvents"]]
        timestamps = [timestamp for timestamp, _ in events]
        if timestamps != sorted(timestamps):
            raise errors.invalid_parameter(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        if timestamps[-1] - timestamps[0] > _MAX_SPAN:
            raise errors.invalid_parameter(
                "The batch of log events in a single PutLogEvents request cannot span more than"
                " 24 hours."
            )
        rejected = _rejected(timestamps, group, int(self.clock.seconds() * 1000))
        first = max(
            rejected.get("tooOldLogEventEndIndex", 0), rejected.get("expiredLogEventEndIndex", 0)
        )
        accepted = events[first : rejected.get("tooNewLogEventStartIndex", len(events))]
        last = self.store.append(
            context.account_id, context.region, group.name, params["logStreamName"], accepted
        )
        output: Output = {"nextSequenceToken": f"{last:056d}"}
        if rejected:
            output["rejectedLogEventsInfo"] = rejected
        return output

    async def get_log_events(self, context: RequestContext, params: Params) -> Output:
        group = _group_ref(context, params)
        window = Span(
            start=params.get("startTime", _EVERYTHING.start),
            end=params.get("endTime", _EVERYTHING.end),
        )
        token = params.get("nextToken")
        from_head = params.get("startFromHead", False)
        if token is None:
            span = window
        else:
            from_head, position = _decode_stream_token(token)
            span = (
                attrs.evolve(window, after=position)
                if from_head
                else attrs.evolve(window, before=position)
            )
        events = self.store.read_stream(
            group.account_id,
            group.region,
            group.name,
            params["logStreamName"],
            span,
            limit=params.get("limit", 10000),
            from_head=from_head,
        )
        if events:
            forward, backward = events[-1].position, events[0].position
        else:
            # Nothing more this way: AWS hands back the token it was given, which
            # is how readers know they reached the end, and the way back.
            forward, backward = span.after, span.before
            if token is not None and from_head:
                backward = (forward[0], forward[1] + 1)
            elif token is not None:
                forward = (backward[0], backward[1] - 1)
        return {
            "events": [_event(event) for event in events],
            "nextForwardToken": _stream_token("f", forward),
            "nextBackwardToken": _stream_token("b", backward),
        }

    async def filter_log_events(self, context: RequestContext, params: Params) -> Output:
        group = _group_ref(context, params)
        names = params.get("logStreamNames")
        prefix = params.get("logStreamNamePrefix", "")
        if names is not None and prefix:
            raise errors.invalid_parameter(
                "You cannot specify both logStreamNames and logStreamNamePrefix."
            )
        pattern = parse_filter_pattern(params.get("filterPattern", ""))
        after = _decode(params.get("nextToken"), list)
        if after is not None and not _is_position(after):
            raise errors.invalid_token()
        end = params.get("endTime")
        span = Span(
            start=params.get("startTime", _EVERYTHING.start),
            # FilterLogEvents' endTime is inclusive, unlike GetLogEvents'.
            end=_EVERYTHING.end if end is None else end + 1,
            after=_EVERYTHING.after if after is None else (after[0], after[1]),
        )
        limit = params.get("limit", 10000)
        events = self.store.filter_events(
            group.account_id,
            group.region,
            group.name,
            span,
            streams=names,
            stream_prefix=prefix,
            matches=pattern.matches,
            limit=limit + 1,
        )
        page, more = _page(events, limit, lambda event: list(event.position))
        return {
            "events": [
                {**_event(event), "logStreamName": event.stream, "eventId": _digits(event.position)}
                for event in page
            ],
            # AWS stopped filling this in in 2020, and returns it empty.
            "searchedLogStreams": [],
            **more,
        }


def _group_ref(context: RequestContext, params: Params) -> GroupRef:
    """The group named by ``logGroupName`` or ``logGroupIdentifier`` (a name or an ARN)."""
    name: str | None = params.get("logGroupName")
    identifier: str | None = params.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise errors.invalid_parameter(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters."
        )
    if identifier is not None:
        if identifier.startswith("arn:"):
            return _group_by_arn(identifier)
        name = identifier
    if name is None:
        raise errors.invalid_parameter("Should provide either logGroupName or logGroupIdentifier.")
    return GroupRef(context.account_id, context.region, name)


def _group_by_arn(arn: str) -> GroupRef:
    match = _GROUP_ARN.fullmatch(arn)
    if match is None:
        raise errors.invalid_parameter(f"Invalid log group ARN: {arn}")
    region, account_id, name = match.groups()
    return GroupRef(account_id, region, name)


def _rejected(timestamps: Sequence[int], group: LogGroup, now: int) -> dict[str, int]:
    """
    PutLogEvents' ``rejectedLogEventsInfo`` for a chronological batch: the
    too-old and expired events are a prefix (their end index is exclusive),
    the too-new ones a suffix (its start index is inclusive).
    """
    rejected: dict[str, int] = {}
    too_old = sum(1 for timestamp in timestamps if timestamp < now - _TOO_OLD)
    if too_old:
        rejected["tooOldLogEventEndIndex"] = too_old
    if group.retention_in_days is not None:
        oldest = now - group.retention_in_days * _DAY
        expired = sum(1 for timestamp in timestamps if timestamp < oldest)
        if expired:
            rejected["expiredLogEventEndIndex"] = expired
    too_new = next((i for i, t in enumerate(timestamps) if t > now + _TOO_NEW), None)
    if too_new is not None:
        rejected["tooNewLogEventStartIndex"] = too_new
    return rejected


def _page(
    items: list[Item], limit: int, key: Callable[[Item], object]
) -> tuple[list[Item], Output]:
    """
    The first ``limit`` of ``items`` (read one past ``limit``, to know), and
    a ``nextToken`` holding the ``key`` of the last one if there are more.
    AWS leaves the token out on the last page, which ends botocore's
    paginators.
    """
    if len(items) <= limit:
        return items, {}
    return items[:limit], {"nextToken": _encode(key(items[limit - 1]))}


def _group(group: LogGroup) -> Output:
    """A group as DescribeLogGroups shows it (the codec leaves out members that are None)."""
    return {
        "logGroupName": group.name,
        "creationTime": group.creation_time,
        "metricFilterCount": 0,
        "arn": f"{group.arn}:*",
        "logGroupArn": group.arn,
        "storedBytes": group.stored_bytes,
        "logGroupClass": group.group_class,
        "retentionInDays": group.retention_in_days,
        "kmsKeyId": group.kms_key_id,
    }


def _stream(group_arn: str, stream: LogStream) -> Output:
    return {
        "logStreamName": stream.name,
        "creationTime": stream.creation_time,
        "firstEventTimestamp": stream.first_event_timestamp,
        "lastEventTimestamp": stream.last_event_timestamp,
        "lastIngestionTime": stream.last_ingestion_time,
        "arn": f"{group_arn}:log-stream:{stream.name}",
        # AWS stopped counting streams' bytes in 2019 and reports zero.
        "storedBytes": 0,
    }


def _event(event: LogEvent) -> Output:
    return {
        "timestamp": event.timestamp,
        "message": event.message,
        "ingestionTime": event.ingestion_time,
    }


def _digits(position: Position) -> str:
    """A position as 56 digits, the shape of AWS's event ids and GetLogEvents tokens."""
    return f"{position[0]:020d}{position[1]:036d}"


def _stream_token(direction: str, position: Position) -> str:
    """``f/<56 digits>/s`` (read on after) or ``b/<56 digits>/s`` (read back from before)."""
    return f"{direction}/{_digits(position)}/s"


def _decode_stream_token(token: str) -> tuple[bool, Position]:
    """Whether a GetLogEvents token reads forward, and from where."""
    match = _STREAM_TOKEN.fullmatch(token)
    if match is None:
        raise errors.invalid_token()
    direction, digits = match.groups()
    position = (int(digits[:20]), int(digits[20:]))
    if not _is_position(list(position)):
        raise errors.invalid_token()
    return direction == "f", position


def _encode(value: object) -> str:
    """An opaque pagination token holding ``value``."""
    return urlsafe_b64encode(json.dumps(value).encode()).decode()


def _decode(token: str | None, kind: type) -> Any:
    """The value in a token from ``_encode``, which must be a ``kind``; None without a token."""
    if token is None:
        return None
    try:
        value = json.loads(urlsafe_b64decode(token.encode()))
    except ValueError:
        raise errors.invalid_token() from None
    if not isinstance(value, kind):
        raise errors.invalid_token()
    return value


def _is_position(value: list[Any]) -> bool:
    """Whether ``value`` is a ``Position``: two integers SQLite can hold, neither negative."""
    return len(value) == 2 and all(type(part) is int and 0 <= part < 2**63 for part in value)


def _is_stream_token(value: list[Any], by_event_time: bool) -> bool:
    return (
        len(value) == 3
        and value[0] is by_event_time
        and type(value[1]) is int
        and -1 <= value[1] < 2**63
        and isinstance(value[2], str)
    )
