"""
Exports of tables to awsemu's S3 and imports from it
(L{awsemu.dynamodb.exports}), through boto3 and a daemon serving DynamoDB
(with its JVM) and S3.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import DynamoDBDaemon, require_dynamodb_local

REGION = "eu-north-1"
ACCOUNT = "121212121212"
KEYS = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


class ExportImportTests(SynchronousTestCase):
    def setUp(self) -> None:
        require_dynamodb_local()
        log = Path(self.mktemp() + ".log").absolute()
        daemon = DynamoDBDaemon(log, "--services", "dynamodb,s3")
        self.addCleanup(daemon.stop)
        daemon.wait_running()
        self.dynamodb = daemon.client("dynamodb", ACCOUNT, REGION)
        self.s3 = daemon.client("s3", ACCOUNT, REGION)
        self.s3.create_bucket(
            Bucket="exports", CreateBucketConfiguration={"LocationConstraint": REGION}
        )

    def read(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket="exports", Key=key)["Body"].read()
        return body

    def test_export_then_import(self) -> None:
        arn = self.dynamodb.create_table(TableName="Source", **KEYS)["TableDescription"]["TableArn"]
        items = [
            {"id": {"S": f"i{n}"}, "n": {"N": str(n)}, "l": {"L": [{"BOOL": True}]}}
            for n in range(5)
        ]
        for item in items:
            self.dynamodb.put_item(TableName="Source", Item=item)
        with self.assertRaises(ClientError) as off:
            self.dynamodb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports")
        self.assertEqual(
            off.exception.response["Error"]["Code"], "PointInTimeRecoveryUnavailableException"
        )
        self.dynamodb.update_continuous_backups(
            TableName="Source",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        export = self.dynamodb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket="exports", S3Prefix="backups"
        )["ExportDescription"]
        self.assertEqual((export["ExportStatus"], export["ItemCount"]), ("COMPLETED", 5))
        self.assertRegex(export["ExportArn"], rf"^{arn}/export/\d{{13}}-[0-9a-f]{{8}}$")
        for other, code in [
            (arn.replace(ACCOUNT, "121212121213"), "AccessDeniedException"),
            (arn.replace(REGION, "eu-west-3"), "TableNotFoundException"),
        ]:
            with self.assertRaises(ClientError) as refused:
                self.dynamodb.export_table_to_point_in_time(TableArn=other, S3Bucket="exports")
            self.assertEqual(refused.exception.response["Error"]["Code"], code)
        described = self.dynamodb.describe_export(ExportArn=export["ExportArn"])
        self.assertEqual(described["ExportDescription"], export)
        listed = self.dynamodb.list_exports(TableArn=arn)["ExportSummaries"]
        self.assertEqual(
            listed,
            [
                {
                    "ExportArn": export["ExportArn"],
                    "ExportStatus": "COMPLETED",
                    "ExportType": "FULL_EXPORT",
                }
            ],
        )
        # What AWS writes: a summary, a manifest of data files, gzipped DynamoDB JSON lines.
        summary = json.loads(self.read(export["ExportManifest"]))
        self.assertTrue(export["ExportManifest"].startswith("backups/AWSDynamoDB/"))
        self.assertEqual((summary["itemCount"], summary["outputFormat"]), (5, "DYNAMODB_JSON"))
        [manifest] = [
            json.loads(line) for line in self.read(summary["manifestFilesS3Key"]).splitlines()
        ]
        lines = gzip.decompress(self.read(manifest["dataFileS3Key"])).splitlines()
        exported = sorted((json.loads(line)["Item"] for line in lines), key=lambda i: i["id"]["S"])
        self.assertEqual(exported, [json.loads(json.dumps(item)) for item in items])

        data_prefix = manifest["dataFileS3Key"].rpartition("/")[0]
        imported = self.dynamodb.import_table(
            S3BucketSource={"S3Bucket": "exports", "S3KeyPrefix": data_prefix},
            InputFormat="DYNAMODB_JSON",
            InputCompressionType="GZIP",
            TableCreationParameters={"TableName": "Imported", **KEYS},
        )["ImportTableDescription"]
        self.assertEqual(
            (imported["ImportStatus"], imported["ImportedItemCount"], imported["ErrorCount"]),
            ("COMPLETED", 5, 0),
        )
        self.assertEqual(
            self.dynamodb.describe_import(ImportArn=imported["ImportArn"])[
                "ImportTableDescription"
            ]["ImportArn"],
            imported["ImportArn"],
        )
        self.assertEqual(len(self.dynamodb.list_imports()["ImportSummaryList"]), 1)
        copied = self.dynamodb.scan(TableName="Imported")["Items"]
        self.assertEqual(sorted(copied, key=lambda i: i["id"]["S"]), items)

    def test_import_plain_with_errors(self) -> None:
        """Plain DynamoDB JSON lines; lines that are not items are counted, not imported."""
        lines = b'{"Item":{"id":{"S":"a"}}}\nnot json\n{"Item":{"id":{"S":"b"}}}\n'
        self.s3.put_object(Bucket="exports", Key="in/part-1", Body=lines)
        imported = self.dynamodb.import_table(
            S3BucketSource={"S3Bucket": "exports", "S3KeyPrefix": "in/"},
            InputFormat="DYNAMODB_JSON",
            TableCreationParameters={"TableName": "Plain", **KEYS},
        )["ImportTableDescription"]
        self.assertEqual((imported["ImportedItemCount"], imported["ErrorCount"]), (2, 1))
        self.assertEqual(self.dynamodb.scan(TableName="Plain")["Count"], 2)

    def test_missing_bucket(self) -> None:
        """An import from a bucket that does not exist fails with S3's error."""
        imported: dict[str, Any] = self.dynamodb.import_table(
            S3BucketSource={"S3Bucket": "nowhere-bucket"},
            InputFormat="DYNAMODB_JSON",
            TableCreationParameters={"TableName": "Failed", **KEYS},
        )["ImportTableDescription"]
        self.assertEqual(
            (imported["ImportStatus"], imported["FailureCode"]), ("FAILED", "NoSuchBucket")
        )
