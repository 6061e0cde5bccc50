"""
The daemon's own endpoints beside health: ``/_awsemu/info`` (and
LocalStack's ``/_localstack/info``), the state listing ``/_awsemu/state``,
and the resets ``POST /_awsemu/reset`` and ``POST /_localstack/state/reset``,
against a real daemon holding real resources.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu import __version__
from awsemu.dynamodb.installer import default_cache_dir
from awsemu.lambda_.node_ric import describe, find_node_ric
from tests.daemon import Daemon
from tests.dynamodb_support import require_dynamodb_local
from tests.lambda_support import LAMBDA_TRUST as TRUST
from tests.lambda_support import PACKAGE

ROLE = "arn:aws:iam::000000000000:role/lambda"


def call(daemon: Daemon, path: str, method: str = "GET") -> tuple[int, Any]:
    """The status and JSON document of one call of the daemon's own endpoints."""
    request = urllib.request.Request(daemon.url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def populate(daemon: Daemon, account: str = "000000000000") -> None:
    """A bucket with an object, a log group, a role, a REST API and a function."""
    s3: Any = daemon.client("s3", access_key_id=account)
    s3.create_bucket(Bucket=f"bucket-{account}")
    s3.put_object(Bucket=f"bucket-{account}", Key="k", Body=b"x")
    logs: Any = daemon.client("logs", access_key_id=account)
    logs.create_log_group(logGroupName="group")
    iam: Any = daemon.client("iam", access_key_id=account)
    iam.create_role(RoleName="role", AssumeRolePolicyDocument=TRUST)
    lambda_: Any = daemon.client("lambda", access_key_id=account)
    lambda_.create_function(
        FunctionName="fn",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.echo",
        Code={"ZipFile": PACKAGE},
    )


class InternalEndpointTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.daemon = Daemon(
            self, "--services", "s3,logs,iam,sts,apigateway,lambda", "--lambda-executor", "process"
        )

    def test_health_details(self) -> None:
        """
        The health document says how Lambda runs functions (no images: local
        processes; Node.js with the client in the cache, if installed).
        """
        health = self.daemon.health()
        client = describe(find_node_ric(default_cache_dir(os.environ)))
        self.assertEqual(
            health["details"],
            {
                "lambda": {
                    "executor": "process",
                    "runtimes_with_images": None,
                    "node_runtime_client": client,
                }
            },
        )

    def test_info(self) -> None:
        """Both info paths give the version, uptime, settings and each service's state."""
        for path in ("/_awsemu/info", "/_localstack/info"):
            status, document = call(self.daemon, path)
            self.assertEqual(status, 200)
            self.assertEqual(document["version"], __version__)
            self.assertGreater(document["uptime"], 0)
            self.assertEqual(
                document["config"]["port"], f"tcp:{self.daemon.port}:interface=127.0.0.1"
            )
            self.assertEqual(document["config"]["lambda-executor"], "process")
            self.assertIsNone(document["config"]["data-dir"])
            self.assertEqual(
                sorted(document["services"]), ["apigateway", "iam", "lambda", "logs", "s3", "sts"]
            )

    def test_state_and_reset(self) -> None:
        """
        The state lists every resource by account, region, service and
        kind; a reset forgets them all, fast, and the services go on working.
        """
        populate(self.daemon)
        populate(self.daemon, "111122223333")
        api: Any = self.daemon.client("apigateway")
        api_id = api.create_rest_api(name="api")["id"]
        status, document = call(self.daemon, "/_awsemu/state")
        self.assertEqual(status, 200)
        expected = {
            account: {
                "us-east-1": {
                    "s3": {"buckets": [f"bucket-{account}"]},
                    "logs": {"log-groups": ["group"]},
                    "lambda": {"functions": ["fn"]},
                },
                "global": {"iam": {"roles": ["role"]}},
            }
            for account in ("000000000000", "111122223333")
        }
        expected["000000000000"]["us-east-1"]["apigateway"] = {"restapis": [api_id]}
        self.assertEqual(document, {"accounts": expected})

        started = time.monotonic()
        status, document = call(self.daemon, "/_localstack/state/reset", "POST")
        elapsed = time.monotonic() - started
        self.assertEqual(status, 200)
        self.assertEqual(
            sorted(document["reset"]), ["apigateway", "iam", "lambda", "logs", "s3", "sts"]
        )
        self.assertLess(elapsed, 1.0)
        self.assertEqual(call(self.daemon, "/_awsemu/state"), (200, {"accounts": {}}))
        s3: Any = self.daemon.client("s3")
        self.assertEqual(s3.list_buckets()["Buckets"], [])
        populate(self.daemon)

    def test_reset_one_service(self) -> None:
        """``?service=`` resets that service alone."""
        populate(self.daemon)
        status, document = call(self.daemon, "/_awsemu/reset?service=s3,logs", "POST")
        self.assertEqual((status, document["reset"]), (200, ["s3", "logs"]))
        status, document = call(self.daemon, "/_awsemu/state")
        self.assertEqual(
            document["accounts"]["000000000000"],
            {
                "us-east-1": {"lambda": {"functions": ["fn"]}},
                "global": {"iam": {"roles": ["role"]}},
            },
        )

    def test_reset_unknown_service(self) -> None:
        """A service that is not served is a 400 naming those that keep state."""
        status, document = call(self.daemon, "/_awsemu/reset?service=ec2", "POST")
        self.assertEqual(status, 400)
        self.assertEqual(
            document["error"],
            "no service ec2 keeps state here"
            " (services that do: s3, logs, iam, sts, apigateway, lambda)",
        )

    def test_reset_needs_post(self) -> None:
        """A GET does not reset."""
        populate(self.daemon)
        request = urllib.request.Request(self.daemon.url + "/_awsemu/reset")
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=10)
        self.assertIn(raised.exception.code, (404, 405))
        self.assertNotEqual(call(self.daemon, "/_awsemu/state")[1], {"accounts": {}})


class DynamoDBResetTests(SynchronousTestCase):
    def test_tables(self) -> None:
        """Every account's tables are listed, and a reset deletes them in DynamoDB Local."""
        require_dynamodb_local()
        daemon = Daemon(self, "--services", "dynamodb")
        daemon.wait_ready()
        for account in ("000000000000", "111122223333"):
            dynamodb: Any = daemon.client("dynamodb", access_key_id=account)
            dynamodb.create_table(
                TableName="table",
                KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                Tags=[{"Key": "team", "Value": "a"}],
            )
        status, document = call(daemon, "/_awsemu/state")
        self.assertEqual(
            document["accounts"],
            {
                account: {"us-east-1": {"dynamodb": {"tables": ["table"]}}}
                for account in ("000000000000", "111122223333")
            },
        )
        status, document = call(daemon, "/_awsemu/reset", "POST")
        self.assertEqual((status, document["reset"]), (200, ["dynamodb"]))
        self.assertLess(document["seconds"], 1.0)
        dynamodb = daemon.client("dynamodb", access_key_id="111122223333")
        self.assertEqual(dynamodb.list_tables()["TableNames"], [])
        dynamodb.create_table(
            TableName="table",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        arn = dynamodb.describe_table(TableName="table")["Table"]["TableArn"]
        self.assertEqual(dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"], [])


class PersistedResetTests(SynchronousTestCase):
    def test_data_dir(self) -> None:
        """Under ``--data-dir`` a reset empties the files too: a restart finds nothing."""
        data = Path(self.mktemp()).resolve()
        arguments = ("--services", "s3,logs,iam,apigateway,lambda", "--data-dir", str(data))
        daemon = Daemon(self, *arguments, "--lambda-executor", "process")
        populate(daemon)
        api: Any = daemon.client("apigateway")
        api.create_rest_api(name="api")
        self.assertEqual(call(daemon, "/_awsemu/reset", "POST")[0], 200)
        daemon.stop()
        again = Daemon(self, *arguments, "--lambda-executor", "process")
        self.assertEqual(call(again, "/_awsemu/state"), (200, {"accounts": {}}))
