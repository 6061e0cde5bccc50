"""
Terraform's AWS provider against a real daemon: a Flask-on-Lambda stack
(a zip function with a layer and a code signing configuration, an alias with
provisioned concurrency, an event invoke configuration, a function URL, a
permission, a DynamoDB table whose stream feeds the function through an
event source mapping, and the REST API in front of it) is applied,
planned again with no change, used, and destroyed.

Needs the ``terraform`` binary and a filesystem mirror of the
``hashicorp/aws`` provider (``/opt/tf-plugins`` unless
``AWSEMU_TERRAFORM_MIRROR`` says otherwise), and DynamoDB Local; skipped
without them, unless ``AWSEMU_REQUIRE_TERRAFORM`` is set (CI sets it).
Terraform runs offline, in a temporary directory, with debug logging to
a file that a failure prints the end of.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import wait_for
from tests.lambda_support import zipped
from tests.terraform_support import TerraformStack, lambda_role

SERVICES = "s3,dynamodb,lambda,iam,sts,logs,apigateway"

HANDLER = """
import json

from greeting import WORD


def handler(event, context):
    if "Records" in event:
        print("records", json.dumps(event["Records"]))
        return None
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"path": event["path"], "word": WORD}),
    }
"""

RESOURCES = (
    lambda_role("flask-lambda")
    + """
resource "aws_dynamodb_table" "items" {
  name             = "flask-items"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "id"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_lambda_code_signing_config" "app" {
  description = "signed by the build"
  allowed_publishers {
    signing_profile_version_arns = [
      "arn:aws:signer:us-east-1:000000000000:/signing-profiles/build/abcdefghij",
    ]
  }
  policies {
    untrusted_artifact_on_deployment = "Warn"
  }
}

resource "aws_lambda_layer_version" "deps" {
  layer_name          = "flask-deps"
  filename            = "%(layer)s"
  source_code_hash    = filebase64sha256("%(layer)s")
  compatible_runtimes = ["python3.11"]
}

resource "aws_lambda_layer_version_permission" "deps" {
  layer_name     = aws_lambda_layer_version.deps.layer_arn
  version_number = aws_lambda_layer_version.deps.version
  statement_id   = "partner"
  action         = "lambda:GetLayerVersion"
  principal      = "111111111111"
}

resource "aws_lambda_function" "app" {
  layers           = [aws_lambda_layer_version.deps.arn]
  function_name    = "flask-app"
  code_signing_config_arn = aws_lambda_code_signing_config.app.arn
  publish          = true
  role             = aws_iam_role.lambda.arn
  handler          = "index.handler"
  runtime          = "python3.11"
  filename         = "%(package)s"
  source_code_hash = filebase64sha256("%(package)s")
  timeout          = 10
  environment {
    variables = { TABLE_NAME = aws_dynamodb_table.items.name }
  }
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.app.function_name
  function_version = aws_lambda_function.app.version
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  function_name                     = aws_lambda_alias.live.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = 1
}

resource "aws_lambda_function_event_invoke_config" "app" {
  function_name                = aws_lambda_function.app.function_name
  maximum_retry_attempts       = 1
  maximum_event_age_in_seconds = 120
}

resource "aws_lambda_function_url" "live" {
  function_name      = aws_lambda_function.app.function_name
  qualifier          = aws_lambda_alias.live.name
  authorization_type = "NONE"
}

resource "aws_lambda_event_source_mapping" "items" {
  event_source_arn  = aws_dynamodb_table.items.stream_arn
  function_name     = aws_lambda_function.app.arn
  starting_position = "LATEST"
  batch_size        = 10
}

resource "aws_api_gateway_rest_api" "app" {
  name = "flask-app"
}

resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.app.id
  parent_id   = aws_api_gateway_rest_api.app.root_resource_id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "proxy" {
  rest_api_id   = aws_api_gateway_rest_api.app.id
  resource_id   = aws_api_gateway_resource.proxy.id
  http_method   = "ANY"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.app.id
  resource_id             = aws_api_gateway_resource.proxy.id
  http_method             = aws_api_gateway_method.proxy.http_method
  integration_http_method = "POST"
  type                    = "AWS_PROXY"
  uri                     = aws_lambda_function.app.invoke_arn
}

resource "aws_lambda_permission" "apigateway" {
  statement_id  = "AllowAPIGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.app.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.app.execution_arn}/*/*"
}

resource "aws_api_gateway_deployment" "app" {
  rest_api_id = aws_api_gateway_rest_api.app.id
  depends_on  = [aws_api_gateway_integration.proxy]
}

resource "aws_api_gateway_stage" "dev" {
  rest_api_id   = aws_api_gateway_rest_api.app.id
  deployment_id = aws_api_gateway_deployment.app.id
  stage_name    = "dev"
}

output "api_id" {
  value = aws_api_gateway_rest_api.app.id
}

output "mapping_uuid" {
  value = aws_lambda_event_source_mapping.items.uuid
}
"""
)


class TerraformTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.stack = TerraformStack(self, SERVICES, "awsemu-terraform-")
        self.daemon = self.stack.daemon
        package = self.stack.directory / "app.zip"
        package.write_bytes(zipped({"index.py": HANDLER}))
        layer = self.stack.directory / "layer.zip"
        layer.write_bytes(zipped({"python/greeting.py": "WORD = 'hello'\n"}))
        self.stack.configure(RESOURCES % {"package": package, "layer": layer})

    def run_terraform(self, *arguments: str) -> str:
        return self.stack.run(*arguments)

    def client(self, service: str) -> Any:
        return self.stack.client(service)

    def test_apply_plan_destroy(self) -> None:
        self.run_terraform("init", "-input=false")
        self.run_terraform("apply", "-input=false", "-auto-approve")
        self.run_terraform("plan", "-input=false", "-detailed-exitcode")
        outputs = json.loads(self.run_terraform("output", "-json"))

        lambda_ = self.client("lambda")
        mapping = lambda_.get_event_source_mapping(UUID=outputs["mapping_uuid"]["value"])
        self.assertEqual((mapping["State"], mapping["BatchSize"]), ("Enabled", 10))
        self.assertEqual(
            lambda_.get_alias(FunctionName="flask-app", Name="live").get("RoutingConfig"), None
        )

        # The stack works: the API answers through the function, and a
        # write reaches the function through the stream.
        api = outputs["api_id"]["value"]
        url = f"{self.daemon.url}/restapis/{api}/dev/_user_request_/hello"
        with urllib.request.urlopen(url, timeout=30) as response:
            self.assertEqual(json.load(response), {"path": "/hello", "word": "hello"})
        self.client("dynamodb").put_item(TableName="flask-items", Item={"id": {"S": "a"}})
        logs = self.client("logs")

        def delivered() -> bool:
            events = logs.filter_log_events(
                logGroupName="/aws/lambda/flask-app", filterPattern="records"
            )["events"]
            return any('"eventName": "INSERT"' in event["message"] for event in events)

        wait_for(delivered, 30, "the stream record to reach the function")

        self.run_terraform("destroy", "-input=false", "-auto-approve")
        self.assertEqual(lambda_.list_functions()["Functions"], [])
        self.assertEqual(self.client("apigateway").get_rest_apis()["items"], [])

        def mappings_gone() -> bool:
            return not lambda_.list_event_source_mappings()["EventSourceMappings"]

        wait_for(mappings_gone, 10, "the event source mapping to be deleted")
