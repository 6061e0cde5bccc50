"""
Event notifications: what ``PutBucketNotificationConfiguration`` accepts,
and the records S3 sends Lambda functions when objects are created or
removed.

A configuration is checked as S3 checks it: event names, filter rules,
destination ARNs, configurations that would both match one event, and
(unless ``x-amz-skip-destination-validation``) that every Lambda
destination exists and lets ``s3.amazonaws.com`` invoke it, and that
every queue and topic is in the bucket's region. Queue and topic
destinations are stored and returned but cannot be reached: awsemu
serves neither SQS nor SNS, so their existence and policies go unchecked
and nothing is sent to them. Functions get no ``s3:TestEvent`` when a
configuration is put: S3 sends test messages to topics and queues, while
"in the case of AWS Lambda destinations, Amazon S3 verifies that the Lambda
function permissions grant Amazon S3 permission to invoke the function"
(PutBucketNotificationConfiguration's API reference), so a handler reading
``event["Records"]`` never meets one.

S3 knows Lambda only through ``Functions`` (``awsemu.lambda_.s3events``
is one); writes build their records at once (size, ETag, sequencer as
written) and hand them over on the next reactor turn, once the write has
been answered, to functions that still let S3 invoke them. A bucket
without Lambda configurations costs a write one dictionary lookup.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, Protocol
from urllib.parse import quote_plus

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.model import load_service_model
from awsemu.s3 import errors
from awsemu.s3.store import Bucket, Document, ObjectVersion

#: The notification configuration's document, as the bucket keeps it.
NAME: Final = "notification"

#: Operation → the event its write is, without the ``s3:`` prefix. POST
#: uploads are no model operation: ``post.upload`` names itself ``PostObject``.
#: (S3 user guide, "Event notification types and destinations".)
CREATED: Final = {
    "PutObject": "ObjectCreated:Put",
    "PostObject": "ObjectCreated:Post",
    "CopyObject": "ObjectCreated:Copy",
    "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload",
}
DELETED: Final = "ObjectRemoved:Delete"
MARKER_CREATED: Final = "ObjectRemoved:DeleteMarkerCreated"

_LAMBDA: Final = "LambdaFunctionConfigurations"

#: Each destination list → the member naming its ARN, and the service that ARN must name.
_DESTINATIONS: Final = (
    (_LAMBDA, "LambdaFunctionArn", "lambda"),
    ("QueueConfigurations", "QueueArn", "sqs"),
    ("TopicConfigurations", "TopicArn", "sns"),
)
_ARN: Final = re.compile(r"arn:aws[a-zA-Z-]*:(?P<service>[a-z0-9-]+):[a-z0-9-]+:\d{12}:.+")
_FUNCTION_ARN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):\d{12}:function:"
    r"[a-zA-Z0-9-_]+(?::(?:\$LATEST|[a-zA-Z0-9-_]+))?"
)
_MAX_FILTER_VALUE: Final = 1024


@functools.cache
def _model() -> Any:
    return load_service_model("s3")


@functools.cache
def supported_events() -> frozenset[str]:
    """The event names botocore's model lists (``Event``), as S3 accepts them."""
    return frozenset(_model().shape_for("Event").enum)


@functools.cache
def _wire_name(list_member: str, arn_member: str) -> str:
    """
    How the XML names a destination's ARN (``CloudFunction``, ``Queue``,
    ``Topic``): S3 names that element in its errors.
    """
    shape = _model().shape_for("NotificationConfiguration").members[list_member].member
    return str(shape.members[arn_member].serialization.get("name", arn_member))


class Functions(Protocol):
    """What S3 needs of Lambda to notify functions."""

    async def allows_s3(self, arn: str, bucket_arn: str, bucket_owner: str) -> bool:
        """
        Whether the function (version, alias) ``arn`` exists and its
        resource-based policy lets ``s3.amazonaws.com`` invoke it for the
        bucket ``bucket_arn`` of account ``bucket_owner``.
        """

    def send(self, arn: str, payload: bytes) -> None:
        """Invoke ``arn`` asynchronously (an ``Event`` invocation, with Lambda's retries)."""


Principals = Callable[[str], str | None]
"""The principal id records give for an access key IAM or STS issued (``AWS:AIDA...``), or None."""


def no_principals(access_key_id: str) -> str | None:
    return None


# Checking a configuration


def _rules(configuration: Document) -> list[Document]:
    found: list[Document] = ((configuration.get("Filter") or {}).get("Key") or {}).get(
        "FilterRules"
    ) or []
    return found


def _normalized_filter(configuration: Document) -> Document | None:
    """
    The configuration's filter with rule names as S3 returns them
    (``Prefix``, ``Suffix``), or None without rules; refused as S3 refuses
    a name other than prefix or suffix (either case), a name given twice,
    or a value past 1,024 bytes.
    """
    rules = _rules(configuration)
    if not rules:
        return configuration.get("Filter")
    seen: set[str] = set()
    normalized = []
    for rule in rules:
        name, value = rule.get("Name"), rule.get("Value")
        if name is None or value is None:
            raise errors.malformed_xml()
        if name.lower() not in ("prefix", "suffix"):
            raise errors.invalid_argument(
                "filter rule name must be either prefix or suffix", "FilterRule.Name", name
            )
        kind = name.lower()
        if kind in seen:
            raise ServiceError(
                "InvalidArgument", f"Cannot specify more than one {kind} rule in a filter."
            )
        if len(value.encode("utf-8")) > _MAX_FILTER_VALUE:
            raise ServiceError(
                "InvalidArgument",
                "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation",
            )
        seen.add(kind)
        normalized.append({"Name": kind.capitalize(), "Value": value})
    return {"Key": {"FilterRules": normalized}}


def _affix(configuration: Document, kind: str) -> str:
    """A configuration's prefix or suffix value; without one, the empty string matches all."""
    for rule in _rules(configuration):
        if rule["Name"].lower() == kind:
            return str(rule["Value"])
    return ""


def _events_overlap(one: str, other: str) -> bool:
    """Whether two event names can name the same event: equal, or one the other's wildcard."""
    if one == other:
        return True
    for wild, named in ((one, other), (other, one)):
        if wild.endswith(":*") and named.startswith(wild[:-1]):
            return True
    return False


def _check_overlaps(configurations: list[Document]) -> None:
    """
    S3's refusal of two configurations that could match one event: an
    event type in common, and prefixes and suffixes that a key could
    match together (a missing prefix or suffix matches any). S3 user guide,
    "Configuring event notifications using object key name filtering".

    Without filters S3 answers "Configurations overlap" naming both events
    (a recorded AWS response, minio/minio#2472); with filters, "Configuration
    is ambiguously defined" (AWS knowledge center,
    lambda-s3-event-configuration-error).
    """
    for index, one in enumerate(configurations):
        for other in configurations[index + 1 :]:
            shared = next(
                ((a, b) for a in one["Events"] for b in other["Events"] if _events_overlap(a, b)),
                None,
            )
            if shared is None:
                continue
            prefixes = [_affix(one, "prefix"), _affix(other, "prefix")]
            suffixes = [_affix(one, "suffix"), _affix(other, "suffix")]
            if not (
                prefixes[0].startswith(prefixes[1]) or prefixes[1].startswith(prefixes[0])
            ) or not (suffixes[0].endswith(suffixes[1]) or suffixes[1].endswith(suffixes[0])):
                continue
            if _rules(one) or _rules(other):
                raise ServiceError(
                    "InvalidArgument",
                    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two "
                    "rules if the prefixes are overlapping for the same event type.",
                )
            raise errors.invalid_argument(
                "Configurations overlap. Configurations on the same bucket cannot share a common "
                "event type.",
                "Event",
                ", ".join(shared),
            )


def normalized(document: Document, new_id: Callable[[], str]) -> Document:
    """
    ``document`` as S3 stores and returns it, or S3's error: every
    configuration with an ``Id`` (S3 makes one, the base64 of a UUID, when
    none is given: configuration ids in AWS's records look so), filter rule
    names capitalized. Destinations are checked for form only here.
    """
    stored: Document = {}
    every: list[Document] = []
    for list_member, arn_member, service in _DESTINATIONS:
        configurations = document.get(list_member)
        if configurations is None:
            continue
        kept = []
        for configuration in configurations:
            arn, events = configuration.get(arn_member), configuration.get("Events")
            if not arn or not events:
                raise errors.malformed_xml()
            found = _ARN.fullmatch(arn)
            if found is None or found.group("service") != service:
                # LocalStack's AWS-validated answer (localstack/localstack#8278).
                raise errors.invalid_argument(
                    "The ARN could not be parsed", _wire_name(list_member, arn_member), arn
                )
            for event in events:
                if event not in supported_events():
                    # moto's test of AWS's answer (getmoto/moto, test_s3.py).
                    raise errors.invalid_argument(
                        "The event is not supported for notifications", "Event", event
                    )
            item: Document = {
                "Id": configuration.get("Id") or base64.b64encode(new_id().encode()).decode(),
                arn_member: arn,
                "Events": list(events),
            }
            notification_filter = _normalized_filter(configuration)
            if notification_filter is not None:
                item["Filter"] = notification_filter
            kept.append(item)
        every.extend(kept)
        stored[list_member] = kept
    if "EventBridgeConfiguration" in document:
        stored["EventBridgeConfiguration"] = document["EventBridgeConfiguration"] or {}
    _check_overlaps(every)
    return stored


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def _unreachable(document: Document, bucket: Bucket) -> list[tuple[str, str]]:
    """
    The queue and topic destinations S3 could not publish to, as AWS names
    them: those outside the bucket's region (the S3 user guide, "Amazon S3
    event notifications": the queue or topic "must be in the same AWS
    Region as your Amazon S3 bucket", recalled). AWS finds them by
    sending a test message, which fails as for a destination whose policy
    refuses S3 (the ARN as ``ArgumentName``; texts as AWS users quote them
    and LocalStack's AWS-validated answer has them). Whether the queue or
    topic exists, is FIFO, and lets S3 publish cannot be known without SQS
    and SNS, so such destinations pass.
    """
    refused = []
    for list_member, arn_member, _ in _DESTINATIONS[1:]:
        kind = "queue" if arn_member == "QueueArn" else "topic"
        for configuration in document.get(list_member) or ():
            arn = configuration[arn_member]
            if arn.split(":")[3] != bucket.region:
                refused.append(
                    (
                        arn,
                        f"Permissions on the destination {kind} do not allow S3 to publish "
                        "notifications from this bucket",
                    )
                )
    return refused


async def check_destinations(
    functions: Functions | None, document: Document, bucket: Bucket
) -> None:
    """
    S3's refusal of destinations it may not send to: a Lambda function
    that does not exist, is in another region than the bucket, or whose
    policy does not let S3 invoke it, and the queues and topics
    ``_unreachable`` finds. Each is named as AWS names them
    (``ArgumentName1``/``ArgumentValue1``...; recorded AWS responses in
    awslabs/aws-lambda-redshift-loader#219 and aws/aws-sdk-js#632).
    """
    failed: list[str] = []
    for configuration in document.get(_LAMBDA) or ():
        arn = configuration["LambdaFunctionArn"]
        found = _FUNCTION_ARN.fullmatch(arn)
        allowed = (
            functions is not None
            and found is not None
            and found.group("region") == bucket.region
            and await functions.allows_s3(arn, bucket_arn(bucket.name), bucket.owner)
        )
        if not allowed and arn not in failed:
            failed.append(arn)
    refused = [
        (f"{arn}, null", f"Not authorized to invoke function [{arn}]") for arn in failed
    ] + _unreachable(document, bucket)
    if refused:
        fields: dict[str, object] = {}
        for number, (name, value) in enumerate(refused, 1):
            fields[f"ArgumentName{number}"] = name
            fields[f"ArgumentValue{number}"] = value
        raise ServiceError(
            "InvalidArgument",
            "Unable to validate the following destination configurations",
            fields=fields,
        )


# Records


def owner_id(account_id: str) -> str:
    """
    An account's principal id as S3's records show it (``A3NL1KOZZKExample``
    in AWS's example): 13 upper-case characters, stable for the account.
    """
    digest = base64.b32encode(hashlib.sha256(f"awsemu:{account_id}".encode()).digest())
    return "A" + digest.decode("ascii")[:12]


def event_time(seconds: float) -> str:
    """``1970-01-01T00:00:00.000Z``, as records date events."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def encoded_key(key: str) -> str:
    """A key as records give it: form-encoded (``red flower.jpg`` is ``red+flower.jpg``)."""
    return quote_plus(key, safe="/")


@attrs.frozen
class Event:
    """
    One event, as every configuration it matches receives it: its name
    (without ``s3:``), the bucket, the object as ``record`` shows it, and
    who caused it (``principal``, ``source_ip``, and the request's ids).
    """

    name: str
    bucket: Bucket
    time: float
    obj: Document
    principal: str
    source_ip: str
    request_id: str
    host_id: str

    def record(self, configuration_id: str) -> bytes:
        """
        The message a function receives, in AWS's shape (S3 user guide,
        "Event message structure":
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
        """
        record = {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": self.bucket.region,
            "eventTime": event_time(self.time),
            "eventName": self.name,
            "userIdentity": {"principalId": self.principal},
            "requestParameters": {"sourceIPAddress": self.source_ip},
            "responseElements": {
                "x-amz-request-id": self.request_id,
                "x-amz-id-2": self.host_id,
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": configuration_id,
                "bucket": {
                    "name": self.bucket.name,
                    "ownerIdentity": {"principalId": owner_id(self.bucket.owner)},
                    "arn": bucket_arn(self.bucket.name),
                },
                "object": self.obj,
            },
        }
        return json.dumps({"Records": [record]}).encode()


def matches(configuration: Document, event: str, key: str) -> bool:
    """
    Whether a configuration wants an event on ``key`` (its form-encoded
    spelling: S3 asks filter values to be given URL-encoded).
    """
    wanted = configuration["Events"]
    if f"s3:{event}" not in wanted and f"s3:{event.partition(':')[0]}:*" not in wanted:
        return False
    return key.startswith(_affix(configuration, "prefix")) and key.endswith(
        _affix(configuration, "suffix")
    )


@attrs.define
class Notifier:
    """
    Checks the configurations put on buckets and sends their functions
    the events of object writes and deletions. ``functions`` is Lambda
    (None while Lambda is not served: every function destination is then
    refused); ``principals`` names who holds an access key; ``new_id``
    makes configuration ids.
    """

    clock: IReactorTime
    functions: Functions | None = None
    principals: Principals = no_principals
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())
    _sequence: int = attrs.field(default=0, init=False)

    async def configure(
        self, bucket: Bucket, document: Document, skip_validation: bool
    ) -> Document:
        """The configuration to store on ``bucket`` for a Put of ``document``, or S3's error."""
        stored = normalized(document, self.new_id)
        if not skip_validation:
            await check_destinations(self.functions, stored, bucket)
        return stored

    def created(self, context: RequestContext, bucket: Bucket, version: ObjectVersion) -> None:
        """The event of the write ``context`` made of ``version`` (its operation names it)."""
        configurations = self._configurations(bucket)
        name = CREATED.get(context.operation or "")
        if configurations and name is not None:
            obj: Document = {"key": encoded_key(version.key), "size": version.size}
            obj["eTag"] = version.etag.strip('"')
            self._send(context, bucket, configurations, name, obj, version.version_id)

    def removed(
        self,
        context: RequestContext,
        bucket: Bucket,
        key: str,
        requested: str | None,
        result: Document,
    ) -> None:
        """
        The event of a deletion of ``key`` (of version ``requested``, if
        named) that answered ``result``: a delete marker made, or a removal.
        """
        configurations = self._configurations(bucket)
        if configurations:
            marker = requested is None and result.get("DeleteMarker")
            obj: Document = {"key": encoded_key(key)}
            name = MARKER_CREATED if marker else DELETED
            self._send(context, bucket, configurations, name, obj, result.get("VersionId"))

    def _configurations(self, bucket: Bucket) -> list[Document]:
        found: list[Document] = (bucket.config.get(NAME) or {}).get(_LAMBDA) or []
        return found

    def _send(
        self,
        context: RequestContext,
        bucket: Bucket,
        configurations: list[Document],
        name: str,
        obj: Document,
        version_id: str | None,
    ) -> None:
        """
        Hand the event to the functions whose configurations want it, on
        the next reactor turn; ``version_id`` is shown unless it is none or
        the null version, as S3 shows it only for versioned buckets.
        """
        if version_id not in (None, "null"):
            obj["versionId"] = version_id
        now = self.clock.seconds()
        self._sequence = max(self._sequence + 1, int(now * 1_000_000))
        obj["sequencer"] = f"{self._sequence:018X}"
        key = obj["key"]
        wanted = [c for c in configurations if matches(c, name, key)]
        if not wanted or self.functions is None:
            return
        found = None if context.access_key_id is None else self.principals(context.access_key_id)
        event = Event(
            name,
            bucket,
            now,
            obj,
            found or owner_id(context.account_id),
            context.source_ip,
            context.request_id,
            context.host_id or "",
        )
        for configuration in wanted:
            arn, record = configuration["LambdaFunctionArn"], event.record(configuration["Id"])
            self.clock.callLater(0, self._deliver, self.functions, bucket, arn, record)

    def _deliver(self, functions: Functions, bucket: Bucket, arn: str, record: bytes) -> None:
        """
        Invoke the function if S3 may still: a permission removed since the
        configuration was put stops its events, as on AWS.
        """

        async def deliver() -> None:
            if await functions.allows_s3(arn, bucket_arn(bucket.name), bucket.owner):
                functions.send(arn, record)

        Deferred.fromCoroutine(deliver())
