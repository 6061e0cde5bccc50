"""
Units of S3's event notifications: checking configurations, building
records, and handing them to Lambda after the write (on a fake clock),
and Lambda's reading of a function policy for S3.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import attrs
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.gateway.context import RequestContext
from awsemu.lambda_.s3events import allows_s3
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import notifications
from awsemu.s3.store import Bucket, ObjectVersion

FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"
QUEUE = "arn:aws:sqs:us-east-1:000000000000:queue"
HOST_ID = "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"


def lambda_configuration(events: list[str], prefix: str = "", suffix: str = "", **more: Any) -> Any:
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    configuration = {"LambdaFunctionArn": FUNCTION, "Events": events, **more}
    if rules:
        configuration["Filter"] = {"Key": {"FilterRules": rules}}
    return configuration


def refusal(document: Any) -> ServiceError:
    """The error ``normalized`` raises for ``document``."""
    try:
        notifications.normalized(document, lambda: "0")
    except ServiceError as error:
        return error
    raise AssertionError("accepted")


class NormalizedTests(SynchronousTestCase):
    def test_ids_are_made_as_aws_makes_them(self) -> None:
        """A missing Id is the base64 of a UUID (as AWS's records show); a given one is kept."""
        uuid = "5b171af5-b3b8-4944-9d87-c8aac0f0254d"
        stored = notifications.normalized(
            {
                "LambdaFunctionConfigurations": [
                    lambda_configuration(["s3:ObjectCreated:*"]),
                    lambda_configuration(["s3:ObjectRemoved:*"], Id="mine"),
                ]
            },
            lambda: uuid,
        )
        ids = [c["Id"] for c in stored["LambdaFunctionConfigurations"]]
        self.assertEqual(ids, ["NWIxNzFhZjUtYjNiOC00OTQ0LTlkODctYzhhYWMwZjAyNTRk", "mine"])
        self.assertEqual(base64.b64decode(ids[0]).decode(), uuid)

    def test_filter_rule_names_are_capitalized(self) -> None:
        stored = notifications.normalized(
            {
                "QueueConfigurations": [
                    {
                        "QueueArn": QUEUE,
                        "Events": ["s3:ObjectCreated:Put"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "SUFFIX", "Value": ".jpg"}]}},
                    }
                ],
                "EventBridgeConfiguration": {},
            },
            lambda: "0",
        )
        self.assertEqual(
            stored,
            {
                "QueueConfigurations": [
                    {
                        "Id": "MA==",
                        "QueueArn": QUEUE,
                        "Events": ["s3:ObjectCreated:Put"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".jpg"}]}},
                    }
                ],
                "EventBridgeConfiguration": {},
            },
        )

    def test_unknown_event(self) -> None:
        error = refusal(
            {"LambdaFunctionConfigurations": [lambda_configuration(["s3:ObjectCreated:Nope"])]}
        )
        self.assertEqual(
            (error.code, error.message, dict(error.fields)),
            (
                "InvalidArgument",
                "The event is not supported for notifications",
                {"ArgumentName": "Event", "ArgumentValue": "s3:ObjectCreated:Nope"},
            ),
        )

    def test_arn_of_another_service(self) -> None:
        """S3 names the ARN by its XML element: ``Queue``, ``Topic``, ``CloudFunction``."""
        for member, arn_member, element in (
            ("QueueConfigurations", "QueueArn", "Queue"),
            ("TopicConfigurations", "TopicArn", "Topic"),
            ("LambdaFunctionConfigurations", "LambdaFunctionArn", "CloudFunction"),
        ):
            error = refusal(
                {member: [{arn_member: "not-an-arn", "Events": ["s3:ObjectCreated:*"]}]}
            )
            self.assertEqual(error.message, "The ARN could not be parsed")
            self.assertEqual(
                dict(error.fields), {"ArgumentName": element, "ArgumentValue": "not-an-arn"}
            )
        error = refusal(
            {"TopicConfigurations": [{"TopicArn": QUEUE, "Events": ["s3:ObjectCreated:*"]}]}
        )
        self.assertEqual(error.fields["ArgumentName"], "Topic")

    def test_filter_rules(self) -> None:
        def rules(*pairs: tuple[str, str]) -> Any:
            configuration = lambda_configuration(["s3:ObjectCreated:*"])
            configuration["Filter"] = {
                "Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in pairs]}
            }
            return {"LambdaFunctionConfigurations": [configuration]}

        error = refusal(rules(("middle", "x")))
        self.assertEqual(error.message, "filter rule name must be either prefix or suffix")
        self.assertEqual(
            dict(error.fields), {"ArgumentName": "FilterRule.Name", "ArgumentValue": "middle"}
        )
        error = refusal(rules(("prefix", "a"), ("Prefix", "b")))
        self.assertEqual(error.message, "Cannot specify more than one prefix rule in a filter.")
        error = refusal(rules(("suffix", "x" * 1025)))
        self.assertEqual(
            error.message,
            "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation",
        )

    def test_unfiltered_configurations_sharing_an_event(self) -> None:
        error = refusal(
            {
                "LambdaFunctionConfigurations": [lambda_configuration(["s3:ObjectCreated:*"])],
                "QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:Put"]}],
            }
        )
        self.assertEqual(
            (error.code, error.message, dict(error.fields)),
            (
                "InvalidArgument",
                "Configurations overlap. Configurations on the same bucket cannot share a common "
                "event type.",
                {
                    "ArgumentName": "Event",
                    "ArgumentValue": "s3:ObjectCreated:*, s3:ObjectCreated:Put",
                },
            ),
        )

    def test_overlapping_filters(self) -> None:
        """The S3 user guide's invalid examples: a root prefix, jpg and pg, prefix and suffix."""
        ambiguous = (
            "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules "
            "if the prefixes are overlapping for the same event type."
        )
        for one, other in (
            (
                lambda_configuration(["s3:ObjectCreated:*"]),
                lambda_configuration(["s3:ObjectCreated:*"], prefix="images"),
            ),
            (
                lambda_configuration(["s3:ObjectCreated:*"], suffix="jpg"),
                lambda_configuration(["s3:ObjectCreated:Put"], suffix="pg"),
            ),
            (
                lambda_configuration(["s3:ObjectCreated:*"], prefix="images", suffix="jpg"),
                lambda_configuration(["s3:ObjectCreated:Put"], suffix="jpg"),
            ),
        ):
            error = refusal({"LambdaFunctionConfigurations": [one, other]})
            self.assertEqual((error.code, error.message), ("InvalidArgument", ambiguous))

    def test_configurations_that_do_not_overlap(self) -> None:
        """The S3 user guide's valid examples, and overlapping filters for different events."""
        for one, other in (
            (
                lambda_configuration(["s3:ObjectCreated:Put"], prefix="images/"),
                lambda_configuration(["s3:ObjectCreated:Put"], prefix="logs/"),
            ),
            (
                lambda_configuration(["s3:ObjectCreated:Put"], suffix=".jpg"),
                lambda_configuration(["s3:ObjectCreated:Put"], suffix=".png"),
            ),
            (
                lambda_configuration(["s3:ObjectCreated:Put"], prefix="images", suffix=".jpg"),
                lambda_configuration(["s3:ObjectCreated:Put"], prefix="images", suffix=".png"),
            ),
            (
                lambda_configuration(["s3:ObjectCreated:Put"], prefix="image/"),
                lambda_configuration(["s3:ObjectRemoved:*"], prefix="image/"),
            ),
            (
                lambda_configuration(["s3:ObjectCreated:Put"]),
                lambda_configuration(["s3:ObjectCreated:Post"]),
            ),
        ):
            notifications.normalized({"LambdaFunctionConfigurations": [one, other]}, lambda: "0")


@attrs.define
class FakeFunctions:
    """Functions that allow S3 when their ARN is in ``allowed``, recording what they are sent."""

    allowed: set[str] = attrs.field(factory=set)
    asked: list[tuple[str, str, str]] = attrs.field(factory=list)
    sent: list[tuple[str, Any]] = attrs.field(factory=list)

    async def allows_s3(self, arn: str, bucket_arn: str, bucket_owner: str) -> bool:
        self.asked.append((arn, bucket_arn, bucket_owner))
        return arn in self.allowed

    def send(self, arn: str, payload: bytes) -> None:
        self.sent.append((arn, json.loads(payload)))


def checked(
    functions: FakeFunctions | None, arns: list[str], region: str = "us-east-1"
) -> Deferred[None]:
    """Check Lambda configurations of ``arns`` (on a bucket in ``region``) against ``functions``."""
    document = {
        "LambdaFunctionConfigurations": [
            {"Id": str(i), "LambdaFunctionArn": arn, "Events": [f"s3:ObjectCreated:{event}"]}
            for i, (arn, event) in enumerate(zip(arns, ("Put", "Post", "Copy"), strict=False))
        ]
    }
    bucket = Bucket("photos", "111111111111", region, 0.0)
    return ensureDeferred(notifications.check_destinations(functions, document, bucket))


class CheckFunctionsTests(SynchronousTestCase):
    def test_allowed(self) -> None:
        functions = FakeFunctions({FUNCTION})
        self.successResultOf(checked(functions, [FUNCTION]))
        self.assertEqual(functions.asked, [(FUNCTION, "arn:aws:s3:::photos", "111111111111")])

    def test_refused_functions_are_numbered(self) -> None:
        """AWS's recorded answer: ``ArgumentName1`` is the ARN and ", null"."""
        other = FUNCTION + "-2"
        error = self.failureResultOf(
            checked(FakeFunctions(), [FUNCTION, other]), ServiceError
        ).value
        self.assertEqual(
            (error.code, error.message, dict(error.fields)),
            (
                "InvalidArgument",
                "Unable to validate the following destination configurations",
                {
                    "ArgumentName1": f"{FUNCTION}, null",
                    "ArgumentValue1": f"Not authorized to invoke function [{FUNCTION}]",
                    "ArgumentName2": f"{other}, null",
                    "ArgumentValue2": f"Not authorized to invoke function [{other}]",
                },
            ),
        )

    def test_function_in_another_region_or_without_lambda(self) -> None:
        functions = FakeFunctions({FUNCTION})
        self.failureResultOf(checked(functions, [FUNCTION], region="eu-west-1"), ServiceError)
        self.assertEqual(functions.asked, [])
        self.failureResultOf(checked(None, [FUNCTION]), ServiceError)

    def test_queues_and_topics_outside_the_region_follow_functions(self) -> None:
        """All refused destinations are numbered in one error, functions first."""
        queue = "arn:aws:sqs:eu-west-1:111111111111:q"
        topic = "arn:aws:sns:eu-west-1:111111111111:t"
        document = {
            "LambdaFunctionConfigurations": [
                {"Id": "f", "LambdaFunctionArn": FUNCTION, "Events": ["s3:ObjectCreated:*"]}
            ],
            "QueueConfigurations": [
                {"Id": "q", "QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}
            ],
            "TopicConfigurations": [
                {"Id": "t", "TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}
            ],
        }
        bucket = Bucket("photos", "111111111111", "us-east-1", 0.0)
        error = self.failureResultOf(
            ensureDeferred(notifications.check_destinations(FakeFunctions(), document, bucket)),
            ServiceError,
        ).value
        self.assertEqual(
            dict(error.fields),
            {
                "ArgumentName1": f"{FUNCTION}, null",
                "ArgumentValue1": f"Not authorized to invoke function [{FUNCTION}]",
                "ArgumentName2": queue,
                "ArgumentValue2": "Permissions on the destination queue do not allow S3 to publish "
                "notifications from this bucket",
                "ArgumentName3": topic,
                "ArgumentValue3": "Permissions on the destination topic do not allow S3 to publish "
                "notifications from this bucket",
            },
        )
        in_region = Bucket("photos", "111111111111", "eu-west-1", 0.0)
        del document["LambdaFunctionConfigurations"]
        self.successResultOf(
            ensureDeferred(notifications.check_destinations(None, document, in_region))
        )


def context(operation: str | None = "PutObject", key: str | None = "AKIDEXAMPLE") -> RequestContext:
    return RequestContext(
        request_id="C3D13FE58DE4C810",
        account_id="111111111111",
        region="us-east-1",
        service="s3",
        access_key_id=key,
        started=0.0,
        host_id=HOST_ID,
        source_ip="192.0.2.7",
        operation=operation,
    )


class NotifierTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_700_000_000.25)
        self.functions = FakeFunctions({FUNCTION})
        self.notifier = notifications.Notifier(
            self.clock, self.functions, principals={"AKIDEXAMPLE": "AWS:AIDAEXAMPLE"}.get
        )
        self.bucket = Bucket("photos", "111111111111", "us-west-2", 0.0)
        self.bucket.config["notification"] = {
            "LambdaFunctionConfigurations": [
                {
                    "Id": "images",
                    "LambdaFunctionArn": FUNCTION,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "images/"}]}},
                }
            ]
        }

    def version(
        self, key: str = "images/red flower.jpg", version_id: str = "null"
    ) -> ObjectVersion:
        return ObjectVersion(key, version_id, self.clock.seconds(), "111111111111", '"abc"', 1024)

    def test_record_after_the_write(self) -> None:
        """The record (AWS's example message, field by field) is sent on the next reactor turn."""
        self.notifier.created(context(), self.bucket, self.version())
        self.assertEqual(self.functions.sent, [])
        self.clock.advance(0)
        [(arn, message)] = self.functions.sent
        self.assertEqual(arn, FUNCTION)
        self.assertEqual(
            message,
            {
                "Records": [
                    {
                        "eventVersion": "2.1",
                        "eventSource": "aws:s3",
                        "awsRegion": "us-west-2",
                        "eventTime": "2023-11-14T22:13:20.250Z",
                        "eventName": "ObjectCreated:Put",
                        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                        "requestParameters": {"sourceIPAddress": "192.0.2.7"},
                        "responseElements": {
                            "x-amz-request-id": "C3D13FE58DE4C810",
                            "x-amz-id-2": HOST_ID,
                        },
                        "s3": {
                            "s3SchemaVersion": "1.0",
                            "configurationId": "images",
                            "bucket": {
                                "name": "photos",
                                "ownerIdentity": {
                                    "principalId": notifications.owner_id("111111111111")
                                },
                                "arn": "arn:aws:s3:::photos",
                            },
                            "object": {
                                "key": "images/red+flower.jpg",
                                "size": 1024,
                                "eTag": "abc",
                                "sequencer": f"{1_700_000_000_250_000:018X}",
                            },
                        },
                    }
                ]
            },
        )

    def test_event_names_and_who(self) -> None:
        """Each write path names its event; a root caller is its account's principal id."""
        for operation in ("PostObject", "CopyObject", "CompleteMultipartUpload"):
            self.notifier.created(
                context(operation, key=None),
                self.bucket,
                self.version(version_id="3HL4kqtJlcpXroDTDmJ"),
            )
        self.clock.advance(0)
        records = [message["Records"][0] for _, message in self.functions.sent]
        self.assertEqual(
            [r["eventName"] for r in records],
            ["ObjectCreated:Post", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload"],
        )
        self.assertEqual({r["s3"]["object"]["versionId"] for r in records}, {"3HL4kqtJlcpXroDTDmJ"})
        self.assertEqual(
            {r["userIdentity"]["principalId"] for r in records},
            {notifications.owner_id("111111111111")},
        )
        sequencers = [r["s3"]["object"]["sequencer"] for r in records]
        self.assertEqual(sequencers, sorted(set(sequencers)))
        self.assertRegex(notifications.owner_id("111111111111"), r"^A[A-Z2-7]{12}$")

    def test_deletions(self) -> None:
        """A removal has no size or ETag; a delete marker is its own event, not asked for here."""
        self.notifier.removed(context("DeleteObject"), self.bucket, "images/a.jpg", None, {})
        self.notifier.removed(
            context("DeleteObject"),
            self.bucket,
            "images/a.jpg",
            None,
            {"DeleteMarker": True, "VersionId": "m"},
        )
        self.notifier.removed(
            context("DeleteObjects"),
            self.bucket,
            "images/b.jpg",
            "v1",
            {"VersionId": "v1", "DeleteMarker": True},
        )
        self.clock.advance(0)
        records = [message["Records"][0] for _, message in self.functions.sent]
        self.assertEqual([r["eventName"] for r in records], ["ObjectRemoved:Delete"] * 2)
        self.assertEqual(set(records[0]["s3"]["object"]), {"key", "sequencer"})
        self.assertEqual(records[1]["s3"]["object"]["versionId"], "v1")

    def test_permission_removed(self) -> None:
        """A function that no longer lets S3 invoke it gets nothing; S3 asked for the bucket."""
        self.functions.allowed.clear()
        self.notifier.created(context(), self.bucket, self.version())
        self.clock.advance(0)
        self.assertEqual(self.functions.sent, [])
        self.assertEqual(self.functions.asked, [(FUNCTION, "arn:aws:s3:::photos", "111111111111")])

    def test_nothing_sent(self) -> None:
        """Keys the filter leaves out, events not asked for, buckets without configurations."""
        self.notifier.created(context(), self.bucket, self.version("logs/a.jpg"))
        self.notifier.removed(
            context(), self.bucket, "images/a", None, {"DeleteMarker": True, "VersionId": "m"}
        )
        self.notifier.created(
            context(), Bucket("other", "111111111111", "us-east-1", 0.0), self.version()
        )
        self.clock.advance(0)
        self.assertEqual(self.functions.sent, [])


class PolicyTests(SynchronousTestCase):
    """What ``AddPermission`` writes for S3, read back as Lambda's policy evaluation does."""

    bucket_arn = "arn:aws:s3:::photos"

    def statement(self, **more: Any) -> Any:
        return {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION,
            **more,
        }

    def test_allowed(self) -> None:
        for statement in (
            self.statement(),
            self.statement(Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::pho*"}}),
            self.statement(
                Condition={
                    "ArnLike": {"AWS:SourceArn": self.bucket_arn},
                    "StringEquals": {"AWS:SourceAccount": "111111111111"},
                }
            ),
            self.statement(Principal="*", Action="lambda:*"),
        ):
            self.assertTrue(allows_s3([statement], self.bucket_arn, "111111111111"), statement)

    def test_refused(self) -> None:
        for statement in (
            self.statement(Principal={"Service": "sns.amazonaws.com"}),
            self.statement(Action="lambda:GetFunction"),
            self.statement(Effect="Deny"),
            self.statement(Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::other"}}),
            self.statement(Condition={"StringEquals": {"AWS:SourceAccount": "222222222222"}}),
            self.statement(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
        ):
            self.assertFalse(allows_s3([statement], self.bucket_arn, "111111111111"), statement)
