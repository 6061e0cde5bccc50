"""
S3 event notifications to Lambda through the real daemon and boto3: a
function (process executor) writes each event it receives into a marker
bucket, and the tests read the events back field by field, as AWS
documents them (S3 user guide, "Event message structure":
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tests.lambda_support import LambdaTestCase, zipped
from tests.s3support import S3TestCase, raw
from tests.test_s3_auth import multipart_form

#: Each event a function receives becomes an object in the ``MARKERS``
#: bucket, named by its event and sequencer (``attempt`` adds the request id
#: and the time of the attempt, and raises, to show Lambda's retries of
#: asynchronous invocations).
RECORDER = """
import json
import os
import time

import boto3


def _mark(event, suffix=""):
    record = (event.get("Records") or [None])[0]
    name = "none"
    if record is not None:
        name = record["eventName"] + "/" + record["s3"]["object"]["sequencer"]
    boto3.client("s3").put_object(
        Bucket=os.environ["MARKERS"], Key=name + suffix, Body=json.dumps(event).encode()
    )


def record(event, context):
    _mark(event)


def attempt(event, context):
    _mark(event, "/" + context.aws_request_id + "/" + str(time.time_ns()))
    raise RuntimeError("try again")
"""

ACCOUNT = "000000000000"


class NotificationTests(LambdaTestCase):
    """Each test has a bucket, a marker bucket, and a function S3 may invoke for the bucket."""

    def setUp(self) -> None:
        super().setUp()
        self.s3 = self.daemon.client("s3")
        self.bucket = f"b-{uuid.uuid4().hex[:12]}"
        self.markers = f"m-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3.create_bucket(Bucket=self.markers)
        self.function = self.recorder()
        self.allow(self.function)

    def recorder(self, handler: str = "app.record") -> str:
        """A new function that records its events; its ARN."""
        name = self.create(
            handler,
            Code={"ZipFile": zipped({"app.py": RECORDER})},
            Environment={"Variables": {"MARKERS": self.markers}},
        )
        arn: str = self.client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        return arn

    def allow(self, arn: str) -> None:
        """What ``aws lambda add-permission --principal s3.amazonaws.com`` grants for the bucket."""
        self.client.add_permission(
            FunctionName=arn,
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{self.bucket}",
            SourceAccount=ACCOUNT,
        )

    def configure(self, *configurations: dict[str, Any], **more: Any) -> None:
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={"LambdaFunctionConfigurations": list(configurations)},
            **more,
        )

    def marked(self, count: int, settle: float = 1.0) -> list[tuple[str, Any]]:
        """
        The markers once ``count`` arrived (and ``settle`` seconds later, so
        that an event that should not come has had time to): name and event.
        """
        deadline = time.monotonic() + 60
        while True:
            listed = self.s3.list_objects_v2(Bucket=self.markers).get("Contents", [])
            if len(listed) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        time.sleep(settle)
        listed = self.s3.list_objects_v2(Bucket=self.markers).get("Contents", [])
        return [
            (
                item["Key"],
                json.loads(self.s3.get_object(Bucket=self.markers, Key=item["Key"])["Body"].read()),
            )
            for item in listed
        ]

    def test_upload_delivers_aws_record(self) -> None:
        """
        The end-to-end check: an upload under the filter invokes the function
        with AWS's record, field by field; uploads the filter leaves out
        invoke nothing.
        """
        self.configure(
            {
                "Id": "uploads",
                "LambdaFunctionArn": self.function,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "prefix", "Value": "uploads/"},
                            {"Name": "suffix", "Value": ".txt"},
                        ]
                    }
                },
            }
        )
        self.s3.put_object(Bucket=self.bucket, Key="other/a.txt", Body=b"no")
        self.s3.put_object(Bucket=self.bucket, Key="uploads/a.bin", Body=b"no")
        answer = self.s3.put_object(Bucket=self.bucket, Key="uploads/red flower.txt", Body=b"hello")
        head = self.s3.head_object(Bucket=self.bucket, Key="uploads/red flower.txt")
        [(name, event)] = self.marked(1)
        [record] = event["Records"]
        self.assertEqual(
            set(record),
            {
                "eventVersion",
                "eventSource",
                "awsRegion",
                "eventTime",
                "eventName",
                "userIdentity",
                "requestParameters",
                "responseElements",
                "s3",
            },
        )
        self.assertEqual(record["eventVersion"], "2.1")
        self.assertEqual(record["eventSource"], "aws:s3")
        self.assertEqual(record["awsRegion"], "us-east-1")
        self.assertRegex(record["eventTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        moment = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        self.assertLess(abs((moment - head["LastModified"]).total_seconds()), 1)
        self.assertEqual(record["eventName"], "ObjectCreated:Put")
        owner = record["s3"]["bucket"]["ownerIdentity"]["principalId"]
        self.assertRegex(owner, r"^A[A-Z0-9]{12}$")
        # The caller signed with the account's own (non-IAM) key: its principal is the owner's.
        self.assertEqual(record["userIdentity"], {"principalId": owner})
        self.assertEqual(record["requestParameters"], {"sourceIPAddress": "127.0.0.1"})
        self.assertEqual(
            record["responseElements"],
            {
                "x-amz-request-id": answer["ResponseMetadata"]["RequestId"],
                "x-amz-id-2": answer["ResponseMetadata"]["HostId"],
            },
        )
        sequencer = record["s3"]["object"]["sequencer"]
        self.assertRegex(sequencer, r"^[0-9A-F]{18}$")
        self.assertEqual(
            record["s3"],
            {
                "s3SchemaVersion": "1.0",
                "configurationId": "uploads",
                "bucket": {
                    "name": self.bucket,
                    "ownerIdentity": {"principalId": owner},
                    "arn": f"arn:aws:s3:::{self.bucket}",
                },
                "object": {
                    "key": "uploads/red+flower.txt",
                    "size": 5,
                    "eTag": hashlib.md5(b"hello").hexdigest(),
                    "sequencer": sequencer,
                },
            },
        )
        self.assertEqual(answer["ETag"].strip('"'), record["s3"]["object"]["eTag"])
        self.assertEqual(name, f"ObjectCreated:Put/{sequencer}")

    def test_every_write_and_delete(self) -> None:
        """
        In a versioned bucket: PUT, POST, copy and multipart uploads are
        their own events; a delete makes a delete marker; deleting a version
        and each key of DeleteObjects are removals, with version ids.
        """
        self.s3.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        self.configure(
            {
                "LambdaFunctionArn": self.function,
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
            }
        )
        put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"one")
        form = self.s3.generate_presigned_post(self.bucket, "posted")
        body, content_type = multipart_form(form["fields"], b"two")
        status, _, _ = raw(
            self.daemon.url, "POST", f"/{self.bucket}", body, {"Content-Type": content_type}
        )
        self.assertEqual(status, 204)
        self.s3.copy_object(Bucket=self.bucket, Key="copied", CopySource=f"{self.bucket}/k")
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="parts")["UploadId"]
        part = self.s3.upload_part(
            Bucket=self.bucket, Key="parts", UploadId=upload, PartNumber=1, Body=b"three"
        )
        self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key="parts",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        marker = self.s3.delete_object(Bucket=self.bucket, Key="k")
        self.s3.delete_object(Bucket=self.bucket, Key="k", VersionId=put["VersionId"])
        self.s3.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": "copied"}, {"Key": "parts"}]}
        )
        records = [event["Records"][0] for _, event in self.marked(9)]
        records.sort(key=lambda record: record["s3"]["object"]["sequencer"])
        self.assertEqual(
            [(r["eventName"], r["s3"]["object"]["key"]) for r in records],
            [
                ("ObjectCreated:Put", "k"),
                ("ObjectCreated:Post", "posted"),
                ("ObjectCreated:Copy", "copied"),
                ("ObjectCreated:CompleteMultipartUpload", "parts"),
                ("ObjectRemoved:DeleteMarkerCreated", "k"),
                ("ObjectRemoved:Delete", "k"),
                ("ObjectRemoved:DeleteMarkerCreated", "copied"),
                ("ObjectRemoved:DeleteMarkerCreated", "parts"),
            ],
        )
        self.assertEqual(records[0]["s3"]["object"]["versionId"], put["VersionId"])
        self.assertEqual(records[3]["s3"]["object"]["size"], 5)
        self.assertEqual(
            records[4]["s3"]["object"],
            {
                "key": "k",
                "versionId": marker["VersionId"],
                "sequencer": records[4]["s3"]["object"]["sequencer"],
            },
        )
        self.assertEqual(records[5]["s3"]["object"]["versionId"], put["VersionId"])
        self.assertNotIn("size", records[5]["s3"]["object"])

    def test_unversioned_deletions(self) -> None:
        """Without versioning a delete removes the object: ``ObjectRemoved:Delete``, no version."""
        self.configure({"LambdaFunctionArn": self.function, "Events": ["s3:ObjectRemoved:Delete"]})
        self.s3.put_object(Bucket=self.bucket, Key="gone", Body=b"x")
        self.s3.delete_object(Bucket=self.bucket, Key="gone")
        [(_, event)] = self.marked(1)
        obj = event["Records"][0]["s3"]["object"]
        self.assertEqual(event["Records"][0]["eventName"], "ObjectRemoved:Delete")
        self.assertEqual(obj, {"key": "gone", "sequencer": obj["sequencer"]})

    def test_failed_events_are_retried(self) -> None:
        """A function error is retried twice (Lambda's asynchronous invocation rules)."""
        failing = self.recorder("app.attempt")
        self.allow(failing)
        self.configure({"LambdaFunctionArn": failing, "Events": ["s3:ObjectCreated:Put"]})
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")
        names = [name for name, _ in self.marked(3)]
        self.assertEqual(len(names), 3, names)
        # One event: the same sequencer and request id on each attempt.
        self.assertEqual(len({name.rsplit("/", 1)[0] for name in names}), 1, names)
        self.assertTrue(names[0].startswith("ObjectCreated:Put/"), names)

    def test_removed_permission_stops_events(self) -> None:
        """S3 checks the function's policy again for each event, as on AWS."""
        self.configure({"LambdaFunctionArn": self.function, "Events": ["s3:ObjectCreated:Put"]})
        self.client.remove_permission(FunctionName=self.function, StatementId="s3")
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x")
        self.assertEqual(self.marked(0, settle=2), [])

    def test_function_without_permission_is_refused(self) -> None:
        """
        AWS's answer (recorded in awslabs/aws-lambda-redshift-loader#219):
        each destination S3 may not invoke, named with ", null".
        """
        unpermitted = self.recorder()
        missing = self.function + "-missing"
        with self.assertRaises(ClientError) as raised:
            self.configure(
                {"LambdaFunctionArn": unpermitted, "Events": ["s3:ObjectCreated:Put"]},
                {"LambdaFunctionArn": missing, "Events": ["s3:ObjectRemoved:*"]},
            )
        error = raised.exception.response["Error"]
        self.assertEqual(raised.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(
            error,
            {
                "Code": "InvalidArgument",
                "Message": "Unable to validate the following destination configurations",
                "ArgumentName1": f"{unpermitted}, null",
                "ArgumentValue1": f"Not authorized to invoke function [{unpermitted}]",
                "ArgumentName2": f"{missing}, null",
                "ArgumentValue2": f"Not authorized to invoke function [{missing}]",
            },
        )
        self.assertEqual(
            self.s3.get_bucket_notification_configuration(Bucket=self.bucket).get(
                "LambdaFunctionConfigurations"
            ),
            None,
        )
        # x-amz-skip-destination-validation stores it unchecked.
        self.configure(
            {"LambdaFunctionArn": unpermitted, "Events": ["s3:ObjectCreated:Put"]},
            SkipDestinationValidation=True,
        )

    def test_overlapping_configurations_are_refused(self) -> None:
        with self.assertRaises(ClientError) as raised:
            self.configure(
                {"LambdaFunctionArn": self.function, "Events": ["s3:ObjectCreated:*"]},
                {"LambdaFunctionArn": self.function, "Events": ["s3:ObjectCreated:Put"]},
            )
        self.assertEqual(
            raised.exception.response["Error"],
            {
                "Code": "InvalidArgument",
                "Message": "Configurations overlap. Configurations on the same bucket cannot "
                "share a common event type.",
                "ArgumentName": "Event",
                "ArgumentValue": "s3:ObjectCreated:*, s3:ObjectCreated:Put",
            },
        )
        with self.assertRaises(ClientError) as raised:
            self.configure({"LambdaFunctionArn": self.function, "Events": ["s3:Object:Nope"]})
        self.assertEqual(
            raised.exception.response["Error"]["Message"],
            "The event is not supported for notifications",
        )

    def test_configuration_round_trip(self) -> None:
        """
        Get returns what was put, with the Ids S3 made (base64 UUIDs) and
        rule names capitalized; queue, topic and EventBridge destinations
        are kept. Lambda gets no ``s3:TestEvent``: AWS sends those to topics
        and queues, and only checks a function's permissions
        (PutBucketNotificationConfiguration's API reference).
        """
        queue = "arn:aws:sqs:us-east-1:000000000000:queue"
        topic = "arn:aws:sns:us-east-1:000000000000:topic"
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {
                        "LambdaFunctionArn": self.function,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                    }
                ],
                "QueueConfigurations": [
                    {"Id": "queued", "QueueArn": queue, "Events": ["s3:ObjectRemoved:*"]}
                ],
                "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectRestore:*"]}],
                "EventBridgeConfiguration": {},
            },
        )
        got = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        got.pop("ResponseMetadata")
        made = [
            got["LambdaFunctionConfigurations"][0]["Id"],
            got["TopicConfigurations"][0]["Id"],
        ]
        for made_id in made:
            uuid.UUID(base64.b64decode(made_id, validate=True).decode())
        self.assertEqual(
            got,
            {
                "LambdaFunctionConfigurations": [
                    {
                        "Id": made[0],
                        "LambdaFunctionArn": self.function,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}]}},
                    }
                ],
                "QueueConfigurations": [
                    {"Id": "queued", "QueueArn": queue, "Events": ["s3:ObjectRemoved:*"]}
                ],
                "TopicConfigurations": [
                    {"Id": made[1], "TopicArn": topic, "Events": ["s3:ObjectRestore:*"]}
                ],
                "EventBridgeConfiguration": {},
            },
        )
        self.assertEqual(self.marked(0, settle=2), [])


class WithoutLambdaTests(S3TestCase):
    """A daemon serving S3 alone refuses function destinations, unless told not to check."""

    def test_queue_and_topic_regions(self) -> None:
        """
        Queues and topics must be in the bucket's region (S3 user guide);
        AWS refuses others as destinations it cannot publish to. ARNs of
        another form are refused as unparsable.
        """
        bucket = self.new_bucket()  # us-east-1
        queue = "arn:aws:sqs:eu-west-1:000000000000:queue"
        topic = "arn:aws:sns:us-west-2:000000000000:topic"
        configuration = {
            "QueueConfigurations": [
                {"Id": "q", "QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}
            ],
            "TopicConfigurations": [
                {"Id": "t", "TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}
            ],
        }
        error = self.assertClientError(
            self.s3.put_bucket_notification_configuration,
            "InvalidArgument",
            400,
            Bucket=bucket,
            NotificationConfiguration=configuration,
        )
        self.assertEqual(
            {name: error.get(name) for name in ("Message", "ArgumentName1", "ArgumentName2")},
            {
                "Message": "Unable to validate the following destination configurations",
                "ArgumentName1": queue,
                "ArgumentName2": topic,
            },
        )
        self.assertEqual(
            error["ArgumentValue1"],
            "Permissions on the destination queue do not allow S3 to publish notifications from "
            "this bucket",
        )
        self.assertEqual(
            error["ArgumentValue2"],
            "Permissions on the destination topic do not allow S3 to publish notifications from "
            "this bucket",
        )
        self.assertEqual(
            self.s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations"),
            None,
        )
        self.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=configuration, SkipDestinationValidation=True
        )
        local = {
            "QueueConfigurations": [
                {
                    "Id": "q",
                    "QueueArn": queue.replace("eu-west-1", "us-east-1"),
                    "Events": ["s3:ObjectCreated:*"],
                }
            ]
        }
        self.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=local
        )
        got = self.s3.get_bucket_notification_configuration(Bucket=bucket)
        self.assertEqual(got["QueueConfigurations"], local["QueueConfigurations"])
        for arn in ("arn:aws:sqs:us-east-1:0000:queue", "arn:aws:sqs:us-east-1:000000000000"):
            error = self.assertClientError(
                self.s3.put_bucket_notification_configuration,
                "InvalidArgument",
                400,
                Bucket=bucket,
                NotificationConfiguration={
                    "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
                },
            )
            self.assertEqual(
                (error["Message"], error["ArgumentName"]), ("The ARN could not be parsed", "Queue")
            )

    def test_function_destinations(self) -> None:
        bucket = self.new_bucket()
        arn = "arn:aws:lambda:us-east-1:000000000000:function:anything"
        configuration = {
            "LambdaFunctionConfigurations": [
                {"Id": "f", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        }
        error = self.assertClientError(
            self.s3.put_bucket_notification_configuration,
            "InvalidArgument",
            400,
            Bucket=bucket,
            NotificationConfiguration=configuration,
        )
        self.assertEqual(error["ArgumentName1"], f"{arn}, null")
        self.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=configuration, SkipDestinationValidation=True
        )
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        got = self.s3.get_bucket_notification_configuration(Bucket=bucket)
        self.assertEqual(
            got["LambdaFunctionConfigurations"], configuration["LambdaFunctionConfigurations"]
        )
