"""
The operations DynamoDB Local lacks, answered by the daemon from its table
store (L{awsemu.dynamodb.stored}), through boto3, the daemon and its JVM.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import shared_daemon

REGION = "sa-east-1"
ACCOUNT = "888888888881"
TABLE = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [
        {"AttributeName": "id", "AttributeType": "S"},
        {"AttributeName": "g", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "byG",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
}
STREAM = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/changes"


class StoredTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.client = shared_daemon().client("dynamodb", ACCOUNT, REGION)

    def create(self, name: str) -> str:
        """Create table ``name`` (deleted after the test); its ARN."""
        table = self.client.create_table(TableName=name, **TABLE)["TableDescription"]
        self.addCleanup(self.client.delete_table, TableName=name)
        arn: str = table["TableArn"]
        return arn

    def assertClientError(self, code: str, message: str, call: Any, **params: Any) -> None:
        with self.assertRaises(ClientError) as raised:
            call(**params)
        self.assertEqual(raised.exception.response["Error"], {"Code": code, "Message": message})

    def test_contributor_insights(self) -> None:
        self.create("Insights")
        described = self.client.describe_contributor_insights(TableName="Insights")
        self.assertEqual(described["ContributorInsightsStatus"], "DISABLED")
        updated = self.client.update_contributor_insights(
            TableName="Insights", IndexName="byG", ContributorInsightsAction="ENABLE"
        )
        self.assertEqual(
            (updated["TableName"], updated["IndexName"], updated["ContributorInsightsStatus"]),
            ("Insights", "byG", "ENABLED"),
        )
        index = self.client.describe_contributor_insights(TableName="Insights", IndexName="byG")
        self.assertEqual(index["ContributorInsightsStatus"], "ENABLED")
        self.assertIn("LastUpdateDateTime", index)
        table = self.client.describe_contributor_insights(TableName="Insights")
        self.assertEqual(table["ContributorInsightsStatus"], "DISABLED")
        listed = self.client.list_contributor_insights(TableName="Insights")
        self.assertEqual(
            listed["ContributorInsightsSummaries"],
            [{"TableName": "Insights", "IndexName": "byG", "ContributorInsightsStatus": "ENABLED"}],
        )
        everywhere = self.client.list_contributor_insights()["ContributorInsightsSummaries"]
        self.assertIn(listed["ContributorInsightsSummaries"][0], everywhere)
        self.client.update_contributor_insights(
            TableName="Insights", IndexName="byG", ContributorInsightsAction="DISABLE"
        )
        index = self.client.describe_contributor_insights(TableName="Insights", IndexName="byG")
        self.assertEqual(index["ContributorInsightsStatus"], "DISABLED")
        self.assertClientError(
            "ResourceNotFoundException",
            "Requested resource not found: Table: Nowhere not found",
            self.client.describe_contributor_insights,
            TableName="Nowhere",
        )

    def test_kinesis_destinations(self) -> None:
        self.create("Streaming")
        described = self.client.describe_kinesis_streaming_destination(TableName="Streaming")
        self.assertEqual(described["KinesisDataStreamDestinations"], [])
        enabled = self.client.enable_kinesis_streaming_destination(
            TableName="Streaming", StreamArn=STREAM
        )
        self.assertEqual((enabled["StreamArn"], enabled["DestinationStatus"]), (STREAM, "ACTIVE"))
        self.client.update_kinesis_streaming_destination(
            TableName="Streaming",
            StreamArn=STREAM,
            UpdateKinesisStreamingConfiguration={
                "ApproximateCreationDateTimePrecision": "MICROSECOND"
            },
        )
        described = self.client.describe_kinesis_streaming_destination(TableName="Streaming")
        self.assertEqual(
            described["KinesisDataStreamDestinations"],
            [
                {
                    "StreamArn": STREAM,
                    "DestinationStatus": "ACTIVE",
                    "ApproximateCreationDateTimePrecision": "MICROSECOND",
                }
            ],
        )
        with self.assertRaises(ClientError) as twice:
            self.client.enable_kinesis_streaming_destination(
                TableName="Streaming", StreamArn=STREAM
            )
        self.assertEqual(twice.exception.response["Error"]["Code"], "ResourceInUseException")
        disabled = self.client.disable_kinesis_streaming_destination(
            TableName="Streaming", StreamArn=STREAM
        )
        self.assertEqual(disabled["DestinationStatus"], "DISABLED")
        described = self.client.describe_kinesis_streaming_destination(TableName="Streaming")
        self.assertEqual(
            described["KinesisDataStreamDestinations"][0]["DestinationStatus"], "DISABLED"
        )
        self.assertClientError(
            "ValidationException",
            f"Table Streaming is not streaming to {STREAM}",
            self.client.disable_kinesis_streaming_destination,
            TableName="Streaming",
            StreamArn=STREAM,
        )
        self.assertClientError(
            "ValidationException",
            "1 validation error detected: Value 'NANOSECOND' at"
            " 'approximateCreationDateTimePrecision' failed to satisfy constraint: Member must"
            " satisfy enum value set: [MILLISECOND, MICROSECOND]",
            self.client.enable_kinesis_streaming_destination,
            TableName="Streaming",
            StreamArn=STREAM,
            EnableKinesisStreamingConfiguration={
                "ApproximateCreationDateTimePrecision": "NANOSECOND"
            },
        )
        self.assertClientError(
            "ValidationException",
            "Invalid StreamArn provided as input arn:aws:sqs:sa-east-1:888888888881:q-long-enough",
            self.client.enable_kinesis_streaming_destination,
            TableName="Streaming",
            StreamArn="arn:aws:sqs:sa-east-1:888888888881:q-long-enough",
        )

    def test_resource_policies(self) -> None:
        arn = self.create("Policed")
        missing = f"Resource-based policy not found for the provided ResourceArn: {arn}"
        self.assertClientError(
            "PolicyNotFoundException", missing, self.client.get_resource_policy, ResourceArn=arn
        )
        policy = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "dynamodb:GetItem",
                        "Resource": arn,
                    }
                ],
            }
        )
        first = self.client.put_resource_policy(ResourceArn=arn, Policy=policy)["RevisionId"]
        got = self.client.get_resource_policy(ResourceArn=arn)
        self.assertEqual((got["Policy"], got["RevisionId"]), (policy, first))
        second = self.client.put_resource_policy(
            ResourceArn=arn, Policy=policy, ExpectedRevisionId=first
        )["RevisionId"]
        self.assertGreater(int(second), int(first))
        with self.assertRaises(ClientError) as stale:
            self.client.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=first)
        self.assertEqual(stale.exception.response["Error"]["Code"], "PolicyNotFoundException")
        self.client.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=second)
        self.assertClientError(
            "PolicyNotFoundException", missing, self.client.get_resource_policy, ResourceArn=arn
        )
        with self.assertRaises(ClientError) as invalid:
            self.client.put_resource_policy(ResourceArn=arn, Policy="not json")
        self.assertEqual(invalid.exception.response["Error"]["Code"], "ValidationException")

    def test_describe_endpoints(self) -> None:
        """Endpoint discovery is pointed at the daemon itself, not at AWS."""
        endpoints = self.client.describe_endpoints()["Endpoints"]
        address = self.client.meta.endpoint_url.removeprefix("http://")
        self.assertEqual(endpoints, [{"Address": address, "CachePeriodInMinutes": 1440}])
