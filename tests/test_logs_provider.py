"""
CloudWatch Logs operations as the gateway runs them: JSON requests through
the logs codec and provider, JSON responses and AWS's errors back.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config
from awsemu.gateway.context import RequestContext
from awsemu.logs import make_service, open_store
from awsemu.protocol.http import HttpRequest
from awsemu.shared import SharedObjects

ACCOUNT = "000000000000"
REGION = "us-east-1"
NOW = 1_700_000_000_000
"""The clock's time in ms; PutLogEvents judges timestamps against it."""
HOUR = 3600 * 1000
DAY = 24 * HOUR
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g"


class LogsTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(NOW / 1000)
        shared = SharedObjects(Config(), self.clock)
        self.backend = make_service(Config(), self.clock, shared)
        self.addCleanup(shared.obtain(open_store).close)

    def request(
        self, operation: str, params: dict[str, Any], account_id: str = ACCOUNT
    ) -> tuple[int, dict[str, Any]]:
        request = HttpRequest.from_uri(
            "POST",
            "/",
            [("X-Amz-Target", f"Logs_20140328.{operation}")],
            json.dumps(params).encode(),
        )
        context = RequestContext("id", account_id, REGION, "logs", None, 0.0)
        response = self.successResultOf(
            Deferred.fromCoroutine(self.backend.handle(context, request))
        )
        assert isinstance(response.body, bytes)
        document: dict[str, Any] = json.loads(response.body)
        return response.status, document

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """The output of a call that must succeed."""
        status, document = self.request(operation, params)
        self.assertEqual(status, 200, document)
        return document

    def error(self, operation: str, **params: Any) -> tuple[str, str]:
        """The code and message of a call that must fail with a 400."""
        status, document = self.request(operation, params)
        self.assertEqual(status, 400, document)
        return document["__type"], document["message"]

    def put(self, *events: tuple[int, str], stream: str = "s") -> dict[str, Any]:
        return self.call(
            "PutLogEvents",
            logGroupName="g",
            logStreamName=stream,
            logEvents=[{"timestamp": t, "message": m} for t, m in events],
        )


GROUP_MISSING = ("ResourceNotFoundException", "The specified log group does not exist.")
STREAM_MISSING = ("ResourceNotFoundException", "The specified log stream does not exist.")
BAD_TOKEN = ("InvalidParameterException", "The specified nextToken is invalid.")


class GroupTests(LogsTestCase):
    def test_describe(self) -> None:
        """A group as DescribeLogGroups shows it, with both of AWS's ARN forms."""
        self.call("CreateLogGroup", logGroupName="g")
        self.call("PutRetentionPolicy", logGroupName="g", retentionInDays=14)
        self.call("CreateLogStream", logGroupName="g", logStreamName="s")
        self.put((NOW, "hello"))
        self.assertEqual(
            self.call("DescribeLogGroups"),
            {
                "logGroups": [
                    {
                        "logGroupName": "g",
                        "creationTime": NOW,
                        "retentionInDays": 14,
                        "metricFilterCount": 0,
                        "arn": f"{GROUP_ARN}:*",
                        "logGroupArn": GROUP_ARN,
                        "storedBytes": 5,
                        "logGroupClass": "STANDARD",
                    }
                ]
            },
        )
        self.call("DeleteRetentionPolicy", logGroupName="g")
        self.assertNotIn("retentionInDays", self.call("DescribeLogGroups")["logGroups"][0])

    def test_class_and_key(self) -> None:
        """A group's class and KMS key are reported as created; groups can be listed by class."""
        self.call("CreateLogGroup", logGroupName="a")
        self.call(
            "CreateLogGroup", logGroupName="b", logGroupClass="INFREQUENT_ACCESS", kmsKeyId="k"
        )
        [group] = self.call("DescribeLogGroups", logGroupClass="INFREQUENT_ACCESS")["logGroups"]
        self.assertEqual(
            (group["logGroupName"], group["logGroupClass"], group["kmsKeyId"]),
            ("b", "INFREQUENT_ACCESS", "k"),
        )
        [group] = self.call("DescribeLogGroups", logGroupClass="STANDARD")["logGroups"]
        self.assertEqual(group["logGroupName"], "a")
        self.assertNotIn("kmsKeyId", group)

    def test_exists(self) -> None:
        self.call("CreateLogGroup", logGroupName="g")
        self.assertEqual(
            self.error("CreateLogGroup", logGroupName="g"),
            ("ResourceAlreadyExistsException", "The specified log group already exists."),
        )

    def test_missing(self) -> None:
        """Operations on a group that does not exist."""
        cases: list[tuple[str, dict[str, Any]]] = [
            ("DeleteLogGroup", {}),
            ("CreateLogStream", {"logStreamName": "s"}),
            ("DescribeLogStreams", {}),
            ("PutRetentionPolicy", {"retentionInDays": 1}),
            ("DeleteRetentionPolicy", {}),
            (
                "PutLogEvents",
                {"logStreamName": "s", "logEvents": [{"timestamp": NOW, "message": "m"}]},
            ),
            ("GetLogEvents", {"logStreamName": "s"}),
            ("FilterLogEvents", {}),
            ("ListTagsLogGroup", {}),
        ]
        for operation, params in cases:
            self.assertEqual(self.error(operation, logGroupName="g", **params), GROUP_MISSING)

    def test_delete(self) -> None:
        self.call("CreateLogGroup", logGroupName="g")
        self.call("DeleteLogGroup", logGroupName="g")
        self.assertEqual(self.call("DescribeLogGroups"), {"logGroups": []})

    def test_bad_names(self) -> None:
        """Names and limits outside the model's constraints, in AWS's words."""
        self.assertEqual(
            self.error("CreateLogGroup", logGroupName="my group"),
            (
                "InvalidParameterException",
                "1 validation error detected: Value 'my group' at 'logGroupName' failed to"
                " satisfy constraint: Member must satisfy regular expression pattern:"
                r" [\.\-_/#A-Za-z0-9]+",
            ),
        )
        self.assertEqual(
            self.error("CreateLogGroup", logGroupName="g" * 513)[1],
            f"1 validation error detected: Value '{'g' * 513}' at 'logGroupName' failed to"
            " satisfy constraint: Member must have length less than or equal to 512",
        )
        self.assertEqual(
            self.error("CreateLogStream", logGroupName="g", logStreamName="a:b")[1],
            "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy"
            " constraint: Member must satisfy regular expression pattern: [^:*]*",
        )
        self.assertEqual(
            self.error("DescribeLogGroups", limit=51, logGroupNamePrefix="a b"),
            (
                "InvalidParameterException",
                "2 validation errors detected: Value 'a b' at 'logGroupNamePrefix' failed to"
                " satisfy constraint: Member must satisfy regular expression pattern:"
                r" [\.\-_/#A-Za-z0-9]+; Value '51' at 'limit' failed to satisfy constraint:"
                " Member must have value less than or equal to 50",
            ),
        )
        self.assertEqual(
            self.error("DescribeLogStreams", logGroupName="g", orderBy="Size")[1],
            "1 validation error detected: Value 'Size' at 'orderBy' failed to satisfy"
            " constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]",
        )
        self.assertEqual(
            self.error("CreateLogGroup"),
            (
                "InvalidParameterException",
                "1 validation error detected: Value null at 'logGroupName' failed to satisfy"
                " constraint: Member must not be null",
            ),
        )

    def test_nested_constraints(self) -> None:
        """
        Members inside lists and structures are checked too, at AWS's paths;
        the model's Java Unicode classes (tag keys) are understood.
        """
        self.call("CreateLogGroup", logGroupName="g")
        self.call("CreateLogStream", logGroupName="g", logStreamName="s")
        self.assertEqual(
            self.error(
                "PutLogEvents",
                logGroupName="g",
                logStreamName="s",
                logEvents=[{"timestamp": NOW, "message": "ok"}, {"timestamp": NOW}],
            ),
            (
                "InvalidParameterException",
                "1 validation error detected: Value null at 'logEvents.2.member.message' failed"
                " to satisfy constraint: Member must not be null",
            ),
        )
        self.assertEqual(
            self.error("UntagLogGroup", logGroupName="g", tags=["ok", "bad!"])[1],
            "1 validation error detected: Value 'bad!' at 'tags.2.member' failed to satisfy"
            r" constraint: Member must satisfy regular expression pattern:"
            r" ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$",
        )
        self.call("UntagLogGroup", logGroupName="g", tags=["Grüße 2"])

    def test_pages(self) -> None:
        """DescribeLogGroups pages by ``limit`` with an opaque ``nextToken``."""
        for name in ["a", "b", "c", "d", "e"]:
            self.call("CreateLogGroup", logGroupName=name)
        first = self.call("DescribeLogGroups", limit=2)
        self.assertEqual([g["logGroupName"] for g in first["logGroups"]], ["a", "b"])
        second = self.call("DescribeLogGroups", limit=2, nextToken=first["nextToken"])
        self.assertEqual([g["logGroupName"] for g in second["logGroups"]], ["c", "d"])
        last = self.call("DescribeLogGroups", limit=2, nextToken=second["nextToken"])
        self.assertEqual([g["logGroupName"] for g in last["logGroups"]], ["e"])
        self.assertNotIn("nextToken", last)
        self.assertEqual(self.error("DescribeLogGroups", nextToken="garbage!"), BAD_TOKEN)
        self.assertEqual(self.error("DescribeLogGroups", nextToken="WzFd"), BAD_TOKEN)

    def test_filters(self) -> None:
        """A name prefix (case-sensitive) or a name pattern (case-insensitive), not both."""
        for name in ["/aws/lambda/f", "/aws/lambda/G", "/app/x"]:
            self.call("CreateLogGroup", logGroupName=name)

        def names(**params: Any) -> list[str]:
            return [
                g["logGroupName"] for g in self.call("DescribeLogGroups", **params)["logGroups"]
            ]

        self.assertEqual(names(logGroupNamePrefix="/aws/"), ["/aws/lambda/G", "/aws/lambda/f"])
        self.assertEqual(names(logGroupNamePattern="LAMBDA/g"), ["/aws/lambda/G"])
        self.assertEqual(
            self.error("DescribeLogGroups", logGroupNamePrefix="/a", logGroupNamePattern="x"),
            (
                "InvalidParameterException",
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
            ),
        )

    def test_accounts(self) -> None:
        """Each account sees its own groups."""
        self.call("CreateLogGroup", logGroupName="g")
        status, document = self.request("DescribeLogGroups", {}, account_id="111111111111")
        self.assertEqual((status, document), (200, {"logGroups": []}))

    def test_retention_values(self) -> None:
        self.call("CreateLogGroup", logGroupName="g")
        self.assertEqual(
            self.error("PutRetentionPolicy", logGroupName="g", retentionInDays=2),
            (
                "InvalidParameterException",
                "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy"
                " constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90,"
                " 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
            ),
        )

    def test_not_implemented(self) -> None:
        """Operations awsemu does not serve answer ``NotImplemented``."""
        status, document = self.request("PutMetricFilter", {})
        self.assertEqual((status, document["__type"]), (501, "NotImplemented"))


class TagTests(LogsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.call("CreateLogGroup", logGroupName="g", tags={"a": "1"})

    def test_by_name(self) -> None:
        """The older API names the group."""
        self.call("TagLogGroup", logGroupName="g", tags={"b": "2"})
        self.call("UntagLogGroup", logGroupName="g", tags=["a"])
        self.assertEqual(self.call("ListTagsLogGroup", logGroupName="g"), {"tags": {"b": "2"}})

    def test_by_arn(self) -> None:
        """The newer API takes the group's ARN, without the trailing ``:*``."""
        self.call("TagResource", resourceArn=GROUP_ARN, tags={"b": "2"})
        self.call("UntagResource", resourceArn=GROUP_ARN, tagKeys=["a"])
        self.assertEqual(
            self.call("ListTagsForResource", resourceArn=GROUP_ARN), {"tags": {"b": "2"}}
        )

    def test_arn_errors(self) -> None:
        """Another group's ARN, another kind of ARN, and the ``:*`` form the model forbids."""
        self.assertEqual(
            self.error("ListTagsForResource", resourceArn=f"{GROUP_ARN}:*")[1],
            f"1 validation error detected: Value '{GROUP_ARN}:*' at 'resourceArn' failed to"
            r" satisfy constraint: Member must satisfy regular expression pattern: [\w+=/:,.@-]*",
        )
        self.assertEqual(
            self.error("ListTagsForResource", resourceArn=GROUP_ARN + "x"), GROUP_MISSING
        )
        self.assertEqual(
            self.error("TagResource", resourceArn="arn:aws:s3:::bucket", tags={"a": "b"}),
            ("InvalidParameterException", "Invalid log group ARN: arn:aws:s3:::bucket"),
        )
        self.assertEqual(
            self.error("TagLogGroup", logGroupName="nope", tags={"a": "b"}), GROUP_MISSING
        )


class StreamTests(LogsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.call("CreateLogGroup", logGroupName="g")

    def names(self, **params: Any) -> list[str]:
        output = self.call("DescribeLogStreams", logGroupName="g", **params)
        return [stream["logStreamName"] for stream in output["logStreams"]]

    def test_describe(self) -> None:
        """A stream with its event times and ARN; a stream's stored bytes are always zero."""
        self.call("CreateLogStream", logGroupName="g", logStreamName="s")
        self.call("CreateLogStream", logGroupName="g", logStreamName="t")
        self.clock.advance(1)
        self.put((NOW - 5, "a"), (NOW - 2, "b"))
        self.assertEqual(
            self.call("DescribeLogStreams", logGroupName="g")["logStreams"],
            [
                {
                    "logStreamName": "s",
                    "creationTime": NOW,
                    "firstEventTimestamp": NOW - 5,
                    "lastEventTimestamp": NOW - 2,
                    "lastIngestionTime": NOW + 1000,
                    "arn": f"{GROUP_ARN}:log-stream:s",
                    "storedBytes": 0,
                },
                {
                    "logStreamName": "t",
                    "creationTime": NOW,
                    "arn": f"{GROUP_ARN}:log-stream:t",
                    "storedBytes": 0,
                },
            ],
        )

    def test_exists_and_missing(self) -> None:
        self.call("CreateLogStream", logGroupName="g", logStreamName="s")
        self.assertEqual(
            self.error("CreateLogStream", logGroupName="g", logStreamName="s"),
            ("ResourceAlreadyExistsException", "The specified log stream already exists."),
        )
        self.call("DeleteLogStream", logGroupName="g", logStreamName="s")
        self.assertEqual(
            self.error("DeleteLogStream", logGroupName="g", logStreamName="s"), STREAM_MISSING
        )
        self.assertEqual(
            self.error("GetLogEvents", logGroupName="g", logStreamName="s"), STREAM_MISSING
        )
        self.assertEqual(
            self.error(
                "PutLogEvents",
                logGroupName="g",
                logStreamName="s",
                logEvents=[{"timestamp": NOW, "message": "m"}],
            ),
            STREAM_MISSING,
        )

    def test_order_and_pages(self) -> None:
        """By name or last event time, either way, in pages whose token keeps the order."""
        for name, timestamp in [("c", NOW - 3), ("a", NOW - 1), ("b", NOW - 2)]:
            self.call("CreateLogStream", logGroupName="g", logStreamName=name)
            self.put((timestamp, "m"), stream=name)
        self.call("CreateLogStream", logGroupName="g", logStreamName="d")
        self.assertEqual(self.names(), ["a", "b", "c", "d"])
        self.assertEqual(self.names(descending=True), ["d", "c", "b", "a"])
        self.assertEqual(self.names(orderBy="LastEventTime"), ["d", "c", "b", "a"])
        self.assertEqual(self.names(orderBy="LastEventTime", descending=True), ["a", "b", "c", "d"])
        self.assertEqual(self.names(logStreamNamePrefix="b"), ["b"])
        seen: list[str] = []
        params: dict[str, Any] = {"orderBy": "LastEventTime", "descending": True, "limit": 3}
        while True:
            output = self.call("DescribeLogStreams", logGroupName="g", **params)
            seen.extend(stream["logStreamName"] for stream in output["logStreams"])
            if "nextToken" not in output:
                break
            params["nextToken"] = output["nextToken"]
        self.assertEqual(seen, ["a", "b", "c", "d"])
        first = self.call("DescribeLogStreams", logGroupName="g", limit=1)
        self.assertEqual(
            self.error(
                "DescribeLogStreams",
                logGroupName="g",
                orderBy="LastEventTime",
                nextToken=first["nextToken"],
            ),
            BAD_TOKEN,
        )

    def test_order_errors(self) -> None:
        self.assertEqual(
            self.error(
                "DescribeLogStreams",
                logGroupName="g",
                orderBy="LastEventTime",
                logStreamNamePrefix="a",
            ),
            (
                "InvalidParameterException",
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ),
        )

    def test_identifier(self) -> None:
        """``logGroupIdentifier`` is a name or an ARN; exactly one way of naming is needed."""
        self.call("CreateLogStream", logGroupName="g", logStreamName="s")
        for identifier in ["g", GROUP_ARN]:
            output = self.call("DescribeLogStreams", logGroupIdentifier=identifier)
            self.assertEqual([s["logStreamName"] for s in output["logStreams"]], ["s"])
        self.assertEqual(
            self.error("DescribeLogStreams", logGroupName="g", logGroupIdentifier="g"),
            (
                "InvalidParameterException",
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            ),
        )
        self.assertEqual(
            self.error("DescribeLogStreams"),
            (
                "InvalidParameterException",
                "Should provide either logGroupName or logGroupIdentifier.",
            ),
        )


class PutTests(LogsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.call("CreateLogGroup", logGroupName="g")
        self.call("CreateLogStream", logGroupName="g", logStreamName="s")

    def stored(self) -> list[str]:
        output = self.call("GetLogEvents", logGroupName="g", logStreamName="s")
        return [event["message"] for event in output["events"]]

    def test_accepted(self) -> None:
        """A batch in the allowed window is stored whole; a sequence token comes back."""
        output = self.put((NOW - 14 * DAY, "oldest"), (NOW - 13 * DAY, "b"))
        self.assertEqual(output, {"nextSequenceToken": f"{2:056d}"})
        self.put((NOW + 2 * HOUR, "newest"))
        self.assertEqual(self.stored(), ["oldest", "b", "newest"])

    def test_too_old(self) -> None:
        """Events over 14 days old are rejected; the end index is exclusive."""
        output = self.put((NOW - 15 * DAY, "a"), (NOW - 15 * DAY + 1, "b"), (NOW - 14 * DAY, "c"))
        self.assertEqual(output["rejectedLogEventsInfo"], {"tooOldLogEventEndIndex": 2})
        self.assertEqual(self.stored(), ["c"])

    def test_too_new(self) -> None:
        """Events over 2 hours ahead are rejected; the start index is inclusive."""
        output = self.put((NOW, "a"), (NOW + 2 * HOUR + 1, "b"), (NOW + 3 * HOUR, "c"))
        self.assertEqual(output["rejectedLogEventsInfo"], {"tooNewLogEventStartIndex": 1})
        self.assertEqual(self.stored(), ["a"])

    def test_expired(self) -> None:
        """Events older than the group's retention are rejected as expired."""
        self.call("PutRetentionPolicy", logGroupName="g", retentionInDays=1)
        output = self.put((NOW - DAY - 1, "a"), (NOW - DAY, "b"))
        self.assertEqual(output["rejectedLogEventsInfo"], {"expiredLogEventEndIndex": 1})
        self.assertEqual(self.stored(), ["b"])

    def test_all_rejected(self) -> None:
        """A batch with nothing accepted still succeeds, and stores nothing."""
        output = self.put((NOW + 3 * HOUR, "a"))
        self.assertEqual(
            output,
            {
                "nextSequenceToken": f"{0:056d}",
                "rejectedLogEventsInfo": {"tooNewLogEventStartIndex": 0},
            },
        )
        self.assertEqual(self.stored(), [])

    def test_batch_rules(self) -> None:
        """A batch out of chronological order, or over 24 hours, fails whole."""
        for events, message in [
            (
                [(NOW, "a"), (NOW - 1, "b")],
                "Log events in a single PutLogEvents request must be in chronological order.",
            ),
            (
                [(NOW - DAY - 1, "a"), (NOW, "b")],
                "The batch of log events in a single PutLogEvents request cannot span more than"
                " 24 hours.",
            ),
        ]:
            status, document = self.request(
                "PutLogEvents",
                {
                    "logGroupName": "g",
                    "logStreamName": "s",
                    "logEvents": [{"timestamp": t, "message": m} for t, m in events],
                },
            )
            self.assertEqual(
                (status, document["__type"], document["message"]),
                (400, "InvalidParameterException", message),
            )
        self.assertEqual(self.stored(), [])


class GetTests(LogsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.call("CreateLogGroup", logGroupName="g")
        self.call("CreateLogStream", logGroupName="g", logStreamName="s")
        self.put(*[(NOW + i, f"m{i}") for i in range(5)])

    def get(self, **params: Any) -> tuple[list[str], dict[str, Any]]:
        output = self.call("GetLogEvents", logGroupName="g", logStreamName="s", **params)
        return [event["message"] for event in output["events"]], output

    def test_events(self) -> None:
        """Each event with its timestamp and ingestion time, and AWS-shaped tokens."""
        self.clock.advance(1)
        output = self.call("GetLogEvents", logGroupName="g", logStreamName="s", limit=1)
        self.assertEqual(
            output["events"], [{"timestamp": NOW + 4, "message": "m4", "ingestionTime": NOW}]
        )
        self.assertRegex(output["nextForwardToken"], "^f/[0-9]{56}/s$")
        self.assertRegex(output["nextBackwardToken"], "^b/[0-9]{56}/s$")

    def test_from_tail(self) -> None:
        """Without a token, the newest events unless ``startFromHead``."""
        self.assertEqual(self.get(limit=2)[0], ["m3", "m4"])
        self.assertEqual(self.get(limit=2, startFromHead=True)[0], ["m0", "m1"])

    def test_window(self) -> None:
        """``startTime`` is inclusive, ``endTime`` exclusive."""
        self.assertEqual(self.get(startTime=NOW + 1, endTime=NOW + 3)[0], ["m1", "m2"])

    def test_forward(self) -> None:
        """Forward tokens read on; at the end, the same token comes back."""
        messages, output = self.get(limit=2, startFromHead=True)
        pages = [messages]
        while True:
            messages, next_output = self.get(limit=2, nextToken=output["nextForwardToken"])
            if next_output["nextForwardToken"] == output["nextForwardToken"]:
                break
            pages.append(messages)
            output = next_output
        self.assertEqual(pages, [["m0", "m1"], ["m2", "m3"], ["m4"]])
        self.assertEqual(messages, [])
        # New events show up from the end token: tailing works.
        self.put((NOW + 9, "later"))
        self.assertEqual(self.get(nextToken=output["nextForwardToken"])[0], ["later"])
        # The end's backward token reads back from where the reader stopped.
        self.assertEqual(
            self.get(nextToken=next_output["nextBackwardToken"], limit=2)[0], ["m3", "m4"]
        )

    def test_backward(self) -> None:
        """Backward tokens read towards the start; at the start, the same token comes back."""
        messages, output = self.get(limit=2)
        pages = [messages]
        while True:
            messages, next_output = self.get(limit=2, nextToken=output["nextBackwardToken"])
            if next_output["nextBackwardToken"] == output["nextBackwardToken"]:
                break
            pages.append(messages)
            output = next_output
        self.assertEqual(pages, [["m3", "m4"], ["m1", "m2"], ["m0"]])
        self.assertEqual(self.get(nextToken=next_output["nextForwardToken"], limit=1)[0], ["m0"])

    def test_empty(self) -> None:
        """An empty stream gives tokens that later read what arrives."""
        self.call("CreateLogStream", logGroupName="g", logStreamName="empty")
        output = self.call("GetLogEvents", logGroupName="g", logStreamName="empty")
        self.assertEqual(output["events"], [])
        self.put((NOW, "first"), stream="empty")
        again = self.call(
            "GetLogEvents",
            logGroupName="g",
            logStreamName="empty",
            nextToken=output["nextForwardToken"],
        )
        self.assertEqual([e["message"] for e in again["events"]], ["first"])

    def test_bad_tokens(self) -> None:
        for token in ["f/123/s", "x/" + "0" * 56 + "/s", "f/" + "9" * 56 + "/s"]:
            self.assertEqual(
                self.error("GetLogEvents", logGroupName="g", logStreamName="s", nextToken=token),
                BAD_TOKEN,
            )

    def test_limit(self) -> None:
        self.assertEqual(
            self.error("GetLogEvents", logGroupName="g", logStreamName="s", limit=10001)[1],
            "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint:"
            " Member must have value less than or equal to 10000",
        )


class FilterTests(LogsTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.call("CreateLogGroup", logGroupName="g")
        for stream in ["web-1", "web-2", "db"]:
            self.call("CreateLogStream", logGroupName="g", logStreamName=stream)
        self.put((NOW, "GET / 200"), (NOW + 3, "GET /x 500 ERROR"), stream="web-1")
        self.put((NOW + 1, "POST / 201"), (NOW + 4, "WARN slow"), stream="web-2")
        self.put((NOW + 2, "ERROR deadlock"), stream="db")

    def filter(self, **params: Any) -> list[str]:
        output = self.call("FilterLogEvents", logGroupName="g", **params)
        return [event["message"] for event in output["events"]]

    def test_events(self) -> None:
        """Events of every stream, by time, with their stream and a 56-digit id."""
        output = self.call("FilterLogEvents", logGroupName="g", limit=1)
        [event] = output["events"]
        self.assertEqual(
            {key: value for key, value in event.items() if key != "eventId"},
            {
                "logStreamName": "web-1",
                "timestamp": NOW,
                "message": "GET / 200",
                "ingestionTime": NOW,
            },
        )
        self.assertRegex(event["eventId"], "^[0-9]{56}$")
        self.assertEqual(output["searchedLogStreams"], [])
        self.assertEqual(
            self.filter(),
            ["GET / 200", "POST / 201", "ERROR deadlock", "GET /x 500 ERROR", "WARN slow"],
        )

    def test_patterns(self) -> None:
        self.assertEqual(self.filter(filterPattern="ERROR"), ["ERROR deadlock", "GET /x 500 ERROR"])
        self.assertEqual(
            self.filter(filterPattern="?ERROR ?WARN -deadlock"), ["GET /x 500 ERROR", "WARN slow"]
        )
        self.assertEqual(self.filter(filterPattern='"GET /x"'), ["GET /x 500 ERROR"])
        self.assertEqual(self.filter(filterPattern="%20[01]%"), ["GET / 200", "POST / 201"])

    def test_streams(self) -> None:
        """Named streams, or a name prefix, but not both."""
        self.assertEqual(
            self.filter(logStreamNames=["db", "web-2"]),
            ["POST / 201", "ERROR deadlock", "WARN slow"],
        )
        self.assertEqual(
            self.filter(logStreamNamePrefix="web-"),
            ["GET / 200", "POST / 201", "GET /x 500 ERROR", "WARN slow"],
        )
        self.assertEqual(
            self.error(
                "FilterLogEvents", logGroupName="g", logStreamNames=["db"], logStreamNamePrefix="w"
            ),
            (
                "InvalidParameterException",
                "You cannot specify both logStreamNames and logStreamNamePrefix.",
            ),
        )

    def test_window(self) -> None:
        """``startTime`` and ``endTime`` are both inclusive."""
        self.assertEqual(
            self.filter(startTime=NOW + 1, endTime=NOW + 2), ["POST / 201", "ERROR deadlock"]
        )

    def test_pages(self) -> None:
        """``nextToken`` comes only while more events match."""
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2, "filterPattern": "-deadlock"}
        pages = 0
        while True:
            output = self.call("FilterLogEvents", logGroupName="g", **params)
            seen.extend(event["message"] for event in output["events"])
            pages += 1
            if "nextToken" not in output:
                break
            params["nextToken"] = output["nextToken"]
        self.assertEqual(seen, ["GET / 200", "POST / 201", "GET /x 500 ERROR", "WARN slow"])
        self.assertEqual(pages, 2)
        self.assertEqual(
            self.error("FilterLogEvents", logGroupName="g", nextToken="eyJ4IjogMX0="), BAD_TOKEN
        )
        self.assertEqual(
            self.error("FilterLogEvents", logGroupName="g", nextToken="WyJhIiwgMV0="), BAD_TOKEN
        )
