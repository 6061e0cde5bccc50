"""
Terraform's AWS provider against a real daemon, for S3 and DynamoDB: a
bucket carrying every stored sub-resource the provider manages
(versioning, KMS default encryption, lifecycle, policy, Block Public
Access, ownership controls, CORS, website, logging to a second bucket, an
event notification to a Lambda function, replication to a third bucket,
transfer acceleration, request payment, an object), an Object Lock bucket,
an on-demand DynamoDB table with every option the provider offers (indexes,
TTL, point-in-time recovery, encryption, deletion protection, a stream,
tags, a replica in another region, contributor insights, a resource policy,
an item) and a provisioned one is applied, planned again with no change
(``-detailed-exitcode``), used, and destroyed.

Needs what ``tests.terraform_support`` names; skipped without it unless
``AWSEMU_REQUIRE_TERRAFORM`` is set.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import wait_for
from tests.lambda_support import zipped
from tests.terraform_support import TerraformStack, lambda_role

SERVICES = "s3,dynamodb,lambda,iam,sts,logs"
REPLICA_REGION = "us-west-2"
KMS_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KMS_KEY_ARN = f"arn:aws:kms:us-east-1:000000000000:key/{KMS_KEY_ID}"
ORDERS_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/tf-orders"

#: Each S3 event the function receives becomes an object named after the
#: event and the key in the ``MARKERS`` bucket.
RECORDER = """
import json
import os

import boto3


def handler(event, context):
    for record in event.get("Records", []):
        key = record["eventName"] + "/" + record["s3"]["object"]["key"]
        boto3.client("s3").put_object(
            Bucket=os.environ["MARKERS"], Key=key, Body=json.dumps(record).encode()
        )
"""

RESOURCES = (
    """
variable "protect" {
  type    = bool
  default = true
}

resource "aws_s3_bucket" "data" {
  bucket        = "tf-data"
  force_destroy = true
  tags          = { team = "storage", stage = "test" }
}

resource "aws_s3_bucket" "logs" {
  bucket        = "tf-logs"
  force_destroy = true
}

resource "aws_s3_bucket" "markers" {
  bucket        = "tf-markers"
  force_destroy = true
}

resource "aws_s3_bucket" "copies" {
  bucket        = "tf-copies"
  force_destroy = true
}

resource "aws_s3_bucket" "locked" {
  bucket              = "tf-locked"
  object_lock_enabled = true
  force_destroy       = true
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration { status = "Enabled" }
}

resource "aws_s3_bucket_versioning" "copies" {
  bucket = aws_s3_bucket.copies.id
  versioning_configuration { status = "Enabled" }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "%(kms_key_id)s"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket                                 = aws_s3_bucket.data.id
  transition_default_minimum_object_size = "varies_by_storage_class"
  depends_on                             = [aws_s3_bucket_versioning.data]

  rule {
    id     = "expire-tmp"
    status = "Enabled"
    filter { prefix = "tmp/" }
    expiration { days = 7 }
    noncurrent_version_expiration {
      noncurrent_days           = 30
      newer_noncurrent_versions = 2
    }
  }

  rule {
    id     = "archive-logs"
    status = "Enabled"
    filter {
      and {
        prefix                   = "logs/"
        tags                     = { archive = "yes" }
        object_size_greater_than = 1024
      }
    }
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    noncurrent_version_transition {
      noncurrent_days = 60
      storage_class   = "GLACIER"
    }
  }

  rule {
    id     = "abort-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload { days_after_initiation = 3 }
  }
}

resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "KeepProtected"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:DeleteObject"
      Resource  = "${aws_s3_bucket.data.arn}/protected/*"
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id
  rule { object_ownership = "BucketOwnerEnforced" }
}

resource "aws_s3_bucket_cors_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  cors_rule {
    allowed_headers = ["*"]
    allowed_methods = ["GET", "PUT"]
    allowed_origins = ["https://example.com"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }
}

resource "aws_s3_bucket_website_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  index_document { suffix = "index.html" }
  error_document { key = "error.html" }
  routing_rule {
    condition { key_prefix_equals = "docs/" }
    redirect { replace_key_prefix_with = "documents/" }
  }
}

resource "aws_s3_bucket_logging" "data" {
  bucket        = aws_s3_bucket.data.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "access/"
}

resource "aws_s3_bucket_accelerate_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  status = "Enabled"
}

resource "aws_s3_bucket_request_payment_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  payer  = "Requester"
}

resource "aws_s3_object" "readme" {
  bucket                 = aws_s3_bucket.data.id
  key                    = "docs/readme.txt"
  content                = "read me"
  content_type           = "text/plain"
  server_side_encryption = "aws:kms"
  kms_key_id             = "%(kms_key_arn)s"
  tags                   = { kind = "doc" }
  depends_on             = [aws_s3_bucket_versioning.data]
}

"""
    + lambda_role("tf-recorder")
    + """
resource "aws_lambda_function" "recorder" {
  function_name    = "tf-recorder"
  role             = aws_iam_role.lambda.arn
  handler          = "index.handler"
  runtime          = "python3.11"
  filename         = "%(package)s"
  source_code_hash = filebase64sha256("%(package)s")
  timeout          = 30
  environment {
    variables = { MARKERS = aws_s3_bucket.markers.id }
  }
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowS3Invoke"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.recorder.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.data.arn
  source_account = "000000000000"
}

resource "aws_s3_bucket_notification" "data" {
  bucket = aws_s3_bucket.data.id
  lambda_function {
    id                  = "uploads"
    lambda_function_arn = aws_lambda_function.recorder.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "uploads/"
    filter_suffix       = ".txt"
  }
  depends_on = [aws_lambda_permission.s3]
}

resource "aws_s3_bucket_object_lock_configuration" "locked" {
  bucket = aws_s3_bucket.locked.id
  rule {
    default_retention {
      mode = "GOVERNANCE"
      days = 1
    }
  }
}

resource "aws_iam_role" "replication" {
  name = "tf-replication"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_s3_bucket_replication_configuration" "data" {
  bucket     = aws_s3_bucket.data.id
  role       = aws_iam_role.replication.arn
  depends_on = [aws_s3_bucket_versioning.data, aws_s3_bucket_versioning.copies]

  rule {
    id       = "copy-reports"
    status   = "Enabled"
    priority = 1
    filter { prefix = "reports/" }
    delete_marker_replication { status = "Disabled" }
    destination {
      bucket        = aws_s3_bucket.copies.arn
      storage_class = "STANDARD_IA"
    }
  }
}

resource "aws_dynamodb_table" "orders" {
  name                        = "tf-orders"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  stream_enabled              = true
  stream_view_type            = "NEW_AND_OLD_IMAGES"
  deletion_protection_enabled = var.protect
  tags                        = { team = "orders" }

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "customer"
    type = "S"
  }
  attribute {
    name = "placed"
    type = "N"
  }

  global_secondary_index {
    name            = "by-customer"
    hash_key        = "customer"
    range_key       = "placed"
    projection_type = "INCLUDE"
    non_key_attributes = ["total"]
  }

  local_secondary_index {
    name            = "by-placed"
    range_key       = "placed"
    projection_type = "KEYS_ONLY"
  }

  ttl {
    attribute_name = "expires"
    enabled        = true
  }

  point_in_time_recovery { enabled = true }
  server_side_encryption { enabled = true }

  replica { region_name = "%(replica_region)s" }
}

resource "aws_dynamodb_table" "counters" {
  name           = "tf-counters"
  billing_mode   = "PROVISIONED"
  read_capacity  = 5
  write_capacity = 3
  hash_key       = "name"

  attribute {
    name = "name"
    type = "S"
  }
  attribute {
    name = "group"
    type = "S"
  }

  global_secondary_index {
    name            = "by-group"
    hash_key        = "group"
    projection_type = "KEYS_ONLY"
    read_capacity   = 2
    write_capacity  = 1
  }
}

resource "aws_dynamodb_table_item" "first" {
  table_name = aws_dynamodb_table.orders.name
  hash_key   = aws_dynamodb_table.orders.hash_key
  range_key  = aws_dynamodb_table.orders.range_key
  item = jsonencode({
    pk       = { S = "order#1" }
    sk       = { S = "meta" }
    customer = { S = "ada" }
    placed   = { N = "100" }
    total    = { N = "42" }
  })
}

resource "aws_dynamodb_contributor_insights" "orders" {
  table_name = aws_dynamodb_table.orders.name
}

resource "aws_dynamodb_resource_policy" "orders" {
  resource_arn = aws_dynamodb_table.orders.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111111111111:root" }
      Action    = "dynamodb:GetItem"
      Resource  = aws_dynamodb_table.orders.arn
    }]
  })
}

output "orders_stream" {
  value = aws_dynamodb_table.orders.stream_arn
}
"""
)


class TerraformStorageTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.stack = TerraformStack(self, SERVICES, "awsemu-terraform-storage-")
        package = self.stack.directory / "recorder.zip"
        package.write_bytes(zipped({"index.py": RECORDER}))
        self.stack.configure(
            RESOURCES
            % {
                "package": package,
                "kms_key_id": KMS_KEY_ID,
                "kms_key_arn": KMS_KEY_ARN,
                "replica_region": REPLICA_REGION,
            }
        )

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return self.stack.client(service, region)

    def test_apply_plan_destroy(self) -> None:
        run = self.stack.run
        run("init", "-input=false")
        run("apply", "-input=false", "-auto-approve")
        run("plan", "-input=false", "-detailed-exitcode")

        self.use_bucket()
        self.use_tables()

        # Deletion protection refuses a destroy (as on AWS); turning it off
        # is one more apply, of that table alone, after which the stack goes.
        run(
            "apply",
            "-input=false",
            "-auto-approve",
            "-var",
            "protect=false",
            "-target",
            "aws_dynamodb_table.orders",
        )
        run("destroy", "-input=false", "-auto-approve", "-var", "protect=false")
        self.assertEqual(self.client("s3").list_buckets()["Buckets"], [])
        self.assertEqual(self.client("dynamodb").list_tables()["TableNames"], [])
        self.assertEqual(self.client("dynamodb", REPLICA_REGION).list_tables()["TableNames"], [])
        self.assertEqual(self.client("lambda").list_functions()["Functions"], [])

    def use_bucket(self) -> None:
        """An upload reaches the function; the policy and the stored settings hold."""
        s3 = self.client("s3")
        s3.put_object(Bucket="tf-data", Key="uploads/a.txt", Body=b"hello")

        def marked() -> bool:
            listed = s3.list_objects_v2(Bucket="tf-markers").get("Contents", [])
            return [item["Key"] for item in listed] == ["ObjectCreated:Put/uploads/a.txt"]

        wait_for(marked, 60, "the upload's event to reach the function")
        record = json.loads(
            s3.get_object(Bucket="tf-markers", Key="ObjectCreated:Put/uploads/a.txt")["Body"].read()
        )
        self.assertEqual(
            (record["eventSource"], record["s3"]["bucket"]["name"], record["s3"]["object"]["size"]),
            ("aws:s3", "tf-data", 5),
        )
        self.assertEqual(record["s3"]["configurationId"], "uploads")

        # Objects take the bucket's default encryption; the policy denies
        # deletes under protected/ even to the owner.
        head = s3.head_object(Bucket="tf-data", Key="uploads/a.txt")
        self.assertEqual(
            (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["BucketKeyEnabled"]),
            ("aws:kms", KMS_KEY_ID, True),
        )
        with self.assertRaises(ClientError) as denied:
            s3.delete_object(Bucket="tf-data", Key="protected/x")
        self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDenied")

        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket="tf-data")
        self.assertEqual(
            (lifecycle["TransitionDefaultMinimumObjectSize"], len(lifecycle["Rules"])),
            ("varies_by_storage_class", 3),
        )

        # The Object Lock bucket's default retention holds a new object,
        # which force_destroy removes (bypassing governance) at the end.
        s3.put_object(Bucket="tf-locked", Key="kept", Body=b"k")
        locked = s3.head_object(Bucket="tf-locked", Key="kept")
        self.assertEqual(locked["ObjectLockMode"], "GOVERNANCE")
        with self.assertRaises(ClientError) as held:
            s3.delete_object(Bucket="tf-locked", Key="kept", VersionId=locked["VersionId"])
        self.assertEqual(held.exception.response["Error"]["Code"], "AccessDenied")

        readme = s3.get_object(Bucket="tf-data", Key="docs/readme.txt")
        self.assertEqual(
            (readme["Body"].read(), readme["ContentType"], readme["SSEKMSKeyId"]),
            (b"read me", "text/plain", KMS_KEY_ARN),
        )

    def use_tables(self) -> None:
        """The item is there, the GSI answers, and writes reach the replica."""
        dynamodb = self.client("dynamodb")
        found = dynamodb.query(
            TableName="tf-orders",
            IndexName="by-customer",
            KeyConditionExpression="customer = :c",
            ExpressionAttributeValues={":c": {"S": "ada"}},
        )["Items"]
        self.assertEqual([item["total"] for item in found], [{"N": "42"}])
        with self.assertRaises(ClientError) as refused:
            dynamodb.delete_table(TableName="tf-orders")
        self.assertEqual(refused.exception.response["Error"]["Code"], "ValidationException")

        dynamodb.put_item(TableName="tf-orders", Item={"pk": {"S": "order#2"}, "sk": {"S": "m"}})
        replica = self.client("dynamodb", REPLICA_REGION)

        def replicated() -> bool:
            key = {"pk": {"S": "order#2"}, "sk": {"S": "m"}}
            return "Item" in replica.get_item(TableName="tf-orders", Key=key)

        wait_for(replicated, 30, "the write to reach the replica")
        insights = dynamodb.describe_contributor_insights(TableName="tf-orders")
        self.assertEqual(insights["ContributorInsightsStatus"], "ENABLED")
        policy = json.loads(dynamodb.get_resource_policy(ResourceArn=ORDERS_ARN)["Policy"])
        self.assertEqual(policy["Statement"][0]["Action"], "dynamodb:GetItem")
        counters = dynamodb.describe_table(TableName="tf-counters")["Table"]
        self.assertEqual(
            (
                counters["ProvisionedThroughput"]["ReadCapacityUnits"],
                counters["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"][
                    "WriteCapacityUnits"
                ],
            ),
            (5, 1),
        )
