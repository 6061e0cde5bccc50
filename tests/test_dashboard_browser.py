"""
The dashboard in a real browser: a real daemon holding resources made
with boto3, and headless Chromium clicking through its pages (see
``test_dashboard_browser.mjs``); screenshots land in ``build/screenshots``.
"""

from __future__ import annotations

import uuid
from typing import Any

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.daemon import Daemon
from tests.dashboard_support import drive, require_browser
from tests.dynamodb_support import require_dynamodb_local
from tests.lambda_support import ROLE, zipped

HANDLER = """
def handler(event, context):
    print("hello from", event.get("name"))
    return {"hello": event.get("name")}
"""


class BrowserTests(SynchronousTestCase):
    """Every page, seen and used as a developer would."""

    def setUp(self) -> None:
        require_browser()
        services = "s3,dynamodb,lambda,logs,apigateway,iam,sts"
        try:
            require_dynamodb_local()
        except SkipTest:
            services = services.replace("dynamodb,", "")
        self.with_dynamodb = "dynamodb" in services
        self.daemon = Daemon(self, "--services", services, "--lambda-executor", "process")

    def client(self, service: str) -> Any:
        return self.daemon.client(service)

    def make_resources(self) -> dict[str, Any]:
        suffix = uuid.uuid4().hex[:8]
        case: dict[str, Any] = {
            "bucket": f"dash-{suffix}",
            "function": f"dash-{suffix}",
            "upload_text": f"uploaded from the browser {suffix}",
            "tail_marker": f"tail-{suffix}",
            "live_marker": f"live-{suffix}",
            "suffix": suffix,
        }
        s3 = self.client("s3")
        s3.create_bucket(Bucket=case["bucket"])
        s3.put_object(
            Bucket=case["bucket"], Key="docs/readme.txt", Body=b"hello", Metadata={"color": "red"}
        )
        lambda_ = self.client("lambda")
        lambda_.create_function(
            FunctionName=case["function"],
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zipped({"app.py": HANDLER})},
        )
        lambda_.get_waiter("function_active_v2").wait(FunctionName=case["function"])
        apigateway = self.client("apigateway")
        api = apigateway.create_rest_api(name=f"api-{suffix}")
        root = apigateway.get_resources(restApiId=api["id"])["items"][0]["id"]
        apigateway.put_method(
            restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE"
        )
        apigateway.put_integration(
            restApiId=api["id"],
            resourceId=root,
            httpMethod="GET",
            type="MOCK",
            requestTemplates={"application/json": '{"statusCode": 200}'},
        )
        apigateway.put_method_response(
            restApiId=api["id"], resourceId=root, httpMethod="GET", statusCode="200"
        )
        apigateway.put_integration_response(
            restApiId=api["id"], resourceId=root, httpMethod="GET", statusCode="200"
        )
        apigateway.create_deployment(restApiId=api["id"], stageName="dev")
        case["api"] = api["id"]
        iam = self.client("iam")
        iam.create_user(UserName=f"user-{suffix}")
        key = iam.create_access_key(UserName=f"user-{suffix}")["AccessKey"]
        case["user"], case["key_id"], case["secret"] = (
            f"user-{suffix}",
            key["AccessKeyId"],
            key["SecretAccessKey"],
        )
        if self.with_dynamodb:
            dynamodb = self.client("dynamodb")
            case["table"] = f"dash-{suffix}"
            dynamodb.create_table(
                TableName=case["table"],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            dynamodb.put_item(TableName=case["table"], Item={"pk": {"S": "from-boto3"}})
        return case

    def test_pages(self) -> None:
        """Resources appear; upload, download, invoke, tail and put work from the pages."""
        case = self.make_resources()
        found = drive(self.daemon.url, case)
        self.assertNotIn("error", found, found.get("error"))
        self.assertIn("s3", found["overview"])
        self.assertIn(case["live_marker"], found["requests_live"])
        self.assertIn(case["bucket"], found["buckets"])
        self.assertIn("docs/", found["objects"])
        self.assertIn("uploaded.txt", found["objects_after_upload"])
        self.assertEqual(found["downloaded"], case["upload_text"])
        self.assertIn(case["function"], found["functions"])
        self.assertEqual(found["invoke_payload"], '{"hello": "browser"}')
        self.assertIn("hello from browser", found["invoke_log"])
        self.assertIn("REPORT RequestId:", found["invoke_log"])
        self.assertIn("hello from browser", found["invocations"])
        self.assertIn("Executorprocess", found["function_facts"])
        self.assertIn("Warm environments1 of $LATEST", found["function_facts"])
        self.assertIn(f"/aws/lambda/{case['function']}", found["groups"])
        self.assertIn(f"hello from {case['tail_marker']}", found["tail"])
        self.assertIn(f"/restapis/{case['api']}/dev/_user_request_/", found["stages"])
        self.assertEqual(found["stage_answer"], 200)
        self.assertIn(f"api-{case['suffix']}", found["apis"])
        self.assertIn("/GET", found["resources"])
        self.assertIn(f"GET{case['api']}/dev/", found["stage_requests"])
        self.assertNotIn("/deployments", found["stage_requests"])
        self.assertIn(case["user"], found["iam"])
        self.assertIn(case["key_id"], found["iam"])
        for page, text in found["html"].items():
            self.assertNotIn(case["secret"], text, page)
        if self.with_dynamodb:
            self.assertIn(case["table"], found["tables"])
            self.assertIn("from-boto3", found["items"])
            self.assertIn("from-browser", found["items"])
            self.assertEqual(found["item_notice"], "Item saved.")
