"""
``--auth enforce`` and ``--auth verify`` against a real daemon with real
boto3 clients: the right key works, a wrong secret, an unknown key and an
unsigned request are refused with each service's own error, anonymous S3
users get only what a bucket grants everyone, and functions awsemu runs
can still call it back.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from functools import partial
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.auth import SigV2Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from tests.daemon import Daemon
from tests.dynamodb_support import require_dynamodb_local

ALICE, ALICE_SECRET, ALICE_ACCOUNT = "AKIAALICE0000EXAMPLE", "alice-secret", "111111111111"
BOB, BOB_SECRET = "AKIABOB00000EXAMPLE", "bob-secret"
CREDENTIALS = f"""
[alice]
aws_access_key_id = {ALICE}
aws_secret_access_key = {ALICE_SECRET}
aws_account_id = {ALICE_ACCOUNT}

[bob]
aws_access_key_id = {BOB}
aws_secret_access_key = {BOB_SECRET}
"""

#: A cheap read of each service, and its errors: wrong secret, unsigned, unknown key; status.
CALLS: dict[str, tuple[Callable[[Any], object], str, str, str, int]] = {
    "sts": (
        lambda c: c.get_caller_identity(),
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
        "InvalidClientTokenId",
        403,
    ),
    "iam": (
        lambda c: c.list_users(),
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
        "InvalidClientTokenId",
        403,
    ),
    "logs": (
        lambda c: c.describe_log_groups(),
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "UnrecognizedClientException",
        400,
    ),
    "lambda": (
        lambda c: c.list_functions(),
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "UnrecognizedClientException",
        403,
    ),
    "apigateway": (
        lambda c: c.get_rest_apis(),
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "UnrecognizedClientException",
        403,
    ),
    "s3": (
        lambda c: c.list_buckets(),
        "SignatureDoesNotMatch",
        "AccessDenied",
        "InvalidAccessKeyId",
        403,
    ),
}

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ALICE_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)

FUNCTION = """
import boto3

def handler(event, context):
    boto3.client("s3").put_object(Bucket=event["bucket"], Key="from-lambda", Body=b"hi")
    return boto3.client("sts").get_caller_identity()["Account"]
"""


def client(
    daemon: Daemon,
    service: str,
    key: str | None = ALICE,
    secret: str = ALICE_SECRET,
    token: str | None = None,
) -> Any:
    """A boto3 client signing with ``key`` and ``secret``, or unsigned (``key`` None)."""
    config = BotoConfig(retries={"max_attempts": 1}, read_timeout=60)
    if key is None:
        config = config.merge(BotoConfig(signature_version=UNSIGNED))
    return boto3.session.Session().client(
        service,
        endpoint_url=daemon.url,
        region_name="us-east-1",
        aws_access_key_id=key or "unused",
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=config,
    )


class AuthTestCase(SynchronousTestCase):
    def assertRefused(self, call: Callable[[], object], code: str, status: int) -> None:
        with self.assertRaises(ClientError) as raised:
            call()
        response = raised.exception.response
        self.assertEqual(
            (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]),
            (code, status),
        )

    def start(self, *arguments: str) -> Daemon:
        credentials = FilePath(self.mktemp())
        credentials.setContent(CREDENTIALS.encode())
        return Daemon(self, "--credentials", credentials.path, *arguments)


class EnforceTests(AuthTestCase):
    """``--auth enforce`` with a credentials file."""

    def setUp(self) -> None:
        self.daemon = self.start(
            "--auth",
            "enforce",
            "--services",
            "s3,iam,sts,logs,lambda,apigateway",
            "--lambda-executor",
            "process",
        )

    def test_every_service(self) -> None:
        """Each service serves a known key and refuses the rest, in its own words."""
        for service, (call, wrong, unsigned, unknown, status) in CALLS.items():
            call(client(self.daemon, service))
            call(client(self.daemon, service, BOB, BOB_SECRET))
            unsigned_status = 403 if service != "logs" else 400
            self.assertRefused(
                partial(call, client(self.daemon, service, ALICE, "wrong")), wrong, status
            )
            self.assertRefused(
                partial(call, client(self.daemon, service, None)), unsigned, unsigned_status
            )
            self.assertRefused(
                partial(call, client(self.daemon, service, "test", "test")), unknown, status
            )
        self.assertEqual(
            self.daemon.health()["services"],
            {name: "running" for name in ("apigateway", "iam", "lambda", "logs", "s3", "sts")},
        )

    def test_accounts(self) -> None:
        """Each key of the file is its account's root user."""
        alice = client(self.daemon, "sts").get_caller_identity()
        self.assertEqual(
            (alice["Account"], alice["Arn"]), (ALICE_ACCOUNT, f"arn:aws:iam::{ALICE_ACCOUNT}:root")
        )
        bob = client(self.daemon, "sts", BOB, BOB_SECRET).get_caller_identity()
        self.assertEqual(bob["Account"], "000000000000")

    def test_query_sigv2(self) -> None:
        """STS and IAM take SigV2-signed forms too; the key's account is the caller's."""
        for secret, status in ((ALICE_SECRET, 200), ("wrong", 403)):
            request = AWSRequest(
                "POST",
                self.daemon.url + "/",
                {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                {"Action": "GetCallerIdentity", "Version": "2011-06-15"},
            )
            SigV2Auth(Credentials(ALICE, secret)).add_auth(request)
            prepared = request.prepare()
            answer = urllib.request.Request(
                prepared.url, prepared.body.encode(), dict(prepared.headers.items())
            )
            try:
                with urllib.request.urlopen(answer, timeout=10) as response:
                    code, body = response.status, response.read()
            except urllib.error.HTTPError as e:
                code, body = e.code, e.read()
            self.assertEqual(code, status, body)
            expected = (
                f"<Account>{ALICE_ACCOUNT}</Account>" if status == 200 else "SignatureDoesNotMatch"
            )
            self.assertIn(expected.encode(), body)

    def test_iam_users_and_sessions(self) -> None:
        """Keys IAM and STS issue are known: used right they work, used wrong they do not."""
        iam = client(self.daemon, "iam")
        iam.create_user(UserName="ci")
        key = iam.create_access_key(UserName="ci")["AccessKey"]
        as_ci = client(self.daemon, "logs", key["AccessKeyId"], key["SecretAccessKey"])
        as_ci.create_log_group(logGroupName="ci")
        self.assertRefused(
            lambda: client(self.daemon, "iam", key["AccessKeyId"], "wrong").create_access_key(
                UserName="ci"
            ),
            "SignatureDoesNotMatch",
            403,
        )
        iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST)
        as_ci_sts = client(self.daemon, "sts", key["AccessKeyId"], key["SecretAccessKey"])
        role_arn = f"arn:aws:iam::{ALICE_ACCOUNT}:role/deployer"
        assumed = as_ci_sts.assume_role(RoleArn=role_arn, RoleSessionName="deploy")
        credentials = assumed["Credentials"]
        session = client(
            self.daemon,
            "lambda",
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
        )
        self.assertEqual(session.list_functions()["Functions"], [])
        tokenless = client(
            self.daemon, "lambda", credentials["AccessKeyId"], credentials["SecretAccessKey"]
        )
        self.assertRefused(tokenless.list_functions, "UnrecognizedClientException", 403)
        iam.update_access_key(UserName="ci", AccessKeyId=key["AccessKeyId"], Status="Inactive")
        self.assertRefused(as_ci.describe_log_groups, "UnrecognizedClientException", 400)

    def test_anonymous_s3(self) -> None:
        """Unsigned S3 requests are anonymous: only what a bucket grants everyone."""
        s3 = client(self.daemon, "s3")
        s3.create_bucket(Bucket="private")
        s3.put_object(Bucket="private", Key="k", Body=b"secret")
        s3.create_bucket(Bucket="public")
        s3.put_object(Bucket="public", Key="k", Body=b"hello")
        s3.delete_public_access_block(Bucket="public")
        s3.put_bucket_policy(
            Bucket="public",
            Policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::public/*",
                        }
                    ],
                }
            ),
        )
        anonymous = client(self.daemon, "s3", None)
        self.assertEqual(anonymous.get_object(Bucket="public", Key="k")["Body"].read(), b"hello")
        self.assertRefused(
            lambda: anonymous.get_object(Bucket="private", Key="k"), "AccessDenied", 403
        )
        self.assertRefused(
            lambda: anonymous.put_object(Bucket="public", Key="k", Body=b"x"), "AccessDenied", 403
        )
        self.assertRefused(lambda: anonymous.create_bucket(Bucket="mine"), "AccessDenied", 403)
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "private", "Key": "k"})
        with urllib.request.urlopen(url, timeout=10) as answer:
            self.assertEqual(answer.read(), b"secret")

    def test_data_plane_open(self) -> None:
        """A deployed API answers unsigned calls: its own authorization is its own matter."""
        apigateway = client(self.daemon, "apigateway")
        api = apigateway.create_rest_api(name="open")["id"]
        root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
        resource = apigateway.create_resource(restApiId=api, parentId=root, pathPart="ping")["id"]
        method = {"restApiId": api, "resourceId": resource, "httpMethod": "GET"}
        apigateway.put_method(**method, authorizationType="NONE")
        apigateway.put_integration(
            **method, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'}
        )
        apigateway.put_method_response(**method, statusCode="200")
        apigateway.put_integration_response(
            **method, statusCode="200", responseTemplates={"application/json": '{"ok": true}'}
        )
        apigateway.create_deployment(restApiId=api, stageName="dev")
        url = f"{self.daemon.url}/restapis/{api}/dev/_user_request_/ping"
        with urllib.request.urlopen(url, timeout=10) as answer:
            self.assertEqual(json.loads(answer.read()), {"ok": True})

    def test_function_calls_back(self) -> None:
        """A function's own SDK calls, with the keys awsemu gave it, are served."""
        s3 = client(self.daemon, "s3")
        s3.create_bucket(Bucket="out")
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("app.py", FUNCTION)
        lambda_ = client(self.daemon, "lambda")
        lambda_.create_function(
            FunctionName="caller",
            Runtime="python3.11",
            Role=f"arn:aws:iam::{ALICE_ACCOUNT}:role/fn",
            Handler="app.handler",
            Code={"ZipFile": package.getvalue()},
            Timeout=30,
        )
        response = lambda_.invoke(FunctionName="caller", Payload=json.dumps({"bucket": "out"}))
        payload = json.loads(response["Payload"].read())
        self.assertNotIn("FunctionError", response, payload)
        self.assertEqual(payload, ALICE_ACCOUNT)
        self.assertEqual(s3.get_object(Bucket="out", Key="from-lambda")["Body"].read(), b"hi")


class VerifyTests(AuthTestCase):
    """The default, ``--auth verify``: known keys must sign right, others pass as before."""

    def test_known_keys_checked(self) -> None:
        daemon = self.start("--services", "s3,iam,sts,logs,lambda,apigateway")
        iam = client(daemon, "iam", "test", "test")
        iam.create_user(UserName="ci")
        key = iam.create_access_key(UserName="ci")["AccessKey"]["AccessKeyId"]
        for service, (call, wrong, _, _, status) in CALLS.items():
            call(client(daemon, service, "test", "test"))
            call(client(daemon, service, None))
            call(client(daemon, service))
            self.assertRefused(
                partial(call, client(daemon, service, ALICE, "wrong")), wrong, status
            )
            self.assertRefused(partial(call, client(daemon, service, key, "wrong")), wrong, status)


class DynamoDBTests(AuthTestCase):
    """DynamoDB's requests, forwarded to DynamoDB Local, are checked first."""

    def test_dynamodb(self) -> None:
        require_dynamodb_local()
        for mode in ("verify", "enforce"):
            daemon = self.start("--auth", mode, "--services", "dynamodb")
            client(daemon, "dynamodb").list_tables()
            self.assertRefused(
                partial(client(daemon, "dynamodb", ALICE, "wrong").scan, TableName="t"),
                "InvalidSignatureException",
                400,
            )
            if mode == "enforce":
                self.assertRefused(
                    client(daemon, "dynamodb", None).list_tables,
                    "MissingAuthenticationTokenException",
                    400,
                )
                self.assertRefused(
                    client(daemon, "dynamodb", "test", "test").list_tables,
                    "UnrecognizedClientException",
                    400,
                )
            else:
                client(daemon, "dynamodb", "test", "test").list_tables()
            daemon.stop()
