"""
Invoking real functions through boto3 against a real daemon, with both
executors: local processes, and Docker containers of the image
ci/lambda-image.sh builds (skipped when there is no engine or image, unless
``AWSEMU_REQUIRE_DOCKER`` is set).
"""

from __future__ import annotations

import json
import time
import uuid
from base64 import b64decode, b64encode
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from tests.lambda_support import (
    IMAGE,
    PACKAGE,
    ROLE,
    LambdaDaemon,
    LambdaTestCase,
    labelled_containers,
    require_docker,
    zipped,
)


class InvokeTests(LambdaTestCase):
    """Invocations as a boto3 user sees them; run once per executor."""

    def invoke(self, name: str, event: Any = None, **params: Any) -> dict[str, Any]:
        response: dict[str, Any] = self.client.invoke(
            FunctionName=name, Payload=json.dumps(event or {}).encode(), **params
        )
        if "Payload" in response:
            response["body"] = json.loads(response["Payload"].read() or b"null")
        return response

    def test_request_response(self) -> None:
        name = self.create(Environment={"Variables": {"MINE": "yes"}})
        custom = b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
        response = self.invoke(name, {"a": 1}, LogType="Tail", ClientContext=custom)
        body = response["body"]
        self.assertEqual((response["StatusCode"], response["ExecutedVersion"]), (200, "$LATEST"))
        self.assertNotIn("FunctionError", response)
        self.assertEqual((body["event"], body["vendored"]), ({"a": 1}, 42))
        self.assertEqual(body["client_context"], {"k": "v"})
        self.assertEqual(body["arn"], f"arn:aws:lambda:us-east-1:000000000000:function:{name}")
        self.assertTrue(0 < body["remaining"] <= 3000)
        environment = body["environment"]
        self.assertEqual(environment["MINE"], "yes")
        self.assertEqual(environment["AWS_LAMBDA_FUNCTION_NAME"], name)
        self.assertEqual(environment["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST")
        self.assertEqual(environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128")
        self.assertEqual(environment["AWS_REGION"], "us-east-1")
        self.assertEqual(environment["_HANDLER"], "app.echo")
        self.assertEqual(environment["AWS_LAMBDA_LOG_GROUP_NAME"], f"/aws/lambda/{name}")
        self.assertEqual(environment["AWS_ENDPOINT_URL"], self.daemon.url)
        log = b64decode(response["LogResult"]).decode()
        request_id = body["request_id"]
        self.assertTrue(log.startswith(f"START RequestId: {request_id} Version: $LATEST"), log)
        self.assertIn('event {"a": 1}', log)
        self.assertIn(f"END RequestId: {request_id}", log)
        self.assertIn(f"REPORT RequestId: {request_id}\tDuration: ", log)
        events = self.daemon.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")
        messages = [event["message"] for event in events["events"]]
        self.assertIn(f"END RequestId: {request_id}", messages)
        stream = environment["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.assertRegex(stream, r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual({event["logStreamName"] for event in events["events"]}, {stream})

    def test_function_error(self) -> None:
        name = self.create("app.fail")
        response = self.invoke(name)
        self.assertEqual((response["StatusCode"], response["FunctionError"]), (200, "Unhandled"))
        body = response["body"]
        self.assertEqual((body["errorType"], body["errorMessage"]), ("ValueError", "boom"))
        self.assertIn("requestId", body)
        self.assertIsInstance(body["stackTrace"], list)

    def test_timeout_destroys_the_environment(self) -> None:
        name = self.create("app.sleep", Timeout=1)
        started = time.monotonic()
        response = self.invoke(name, {"seconds": 5}, LogType="Tail")
        self.assertLess(time.monotonic() - started, 4.5)
        body = response["body"]
        self.assertEqual(body["errorType"], "Sandbox.Timedout")
        self.assertRegex(
            body["errorMessage"], r"RequestId: \S+ Error: Task timed out after 1\.00 seconds"
        )
        self.assertEqual(response["FunctionError"], "Unhandled")
        self.assertIn(
            "Task timed out after 1.00 seconds", b64decode(response["LogResult"]).decode()
        )
        first = response
        second = self.invoke(name, {"seconds": 0})
        self.assertNotIn("FunctionError", second)
        self.assertIsInstance(second["body"], str)
        del first

    def test_crash(self) -> None:
        name = self.create("app.crash")
        body = self.invoke(name)["body"]
        self.assertEqual(body["errorType"], "Runtime.ExitError")
        self.assertRegex(
            body["errorMessage"], r"RequestId: \S+ Error: Runtime exited with error: exit status 3"
        )

    def test_init_error(self) -> None:
        name = self.create("broken.handler")
        response = self.invoke(name)
        self.assertEqual(response["FunctionError"], "Unhandled")
        self.assertEqual(response["body"]["errorType"], "Runtime.ImportModuleError")
        self.assertIn("not_a_module", response["body"]["errorMessage"])

    def test_response_too_large(self) -> None:
        name = self.create("app.big")
        body = self.invoke(name)["body"]
        self.assertEqual(body["errorType"], "Function.ResponseSizeTooLarge")

    def test_request_limits_and_dry_run(self) -> None:
        name = self.create()
        self.assertEqual(self.invoke(name, InvocationType="DryRun")["StatusCode"], 204)
        with self.assertRaises(ClientError) as raised:
            self.client.invoke(FunctionName=name, Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
        self.assertEqual(raised.exception.response["Error"]["Code"], "RequestTooLargeException")
        with self.assertRaises(ClientError) as raised:
            self.client.invoke(
                FunctionName=name, InvocationType="Event", Payload=b'"' + b"x" * 300_000 + b'"'
            )
        self.assertEqual(raised.exception.response["ResponseMetadata"]["HTTPStatusCode"], 413)

    def test_concurrent_invocations_run_in_parallel(self) -> None:
        name = self.create("app.sleep", Timeout=30)
        self.invoke(name, {"seconds": 0})
        started = time.monotonic()
        with ThreadPoolExecutor(10) as pool:
            responses = list(pool.map(lambda _: self.invoke(name, {"seconds": 1}), range(10)))
        elapsed = time.monotonic() - started
        streams = {response["body"] for response in responses}
        self.assertEqual(len(streams), 10, responses)
        self.assertLess(elapsed, 8)
        # Warm now: ten more run in the same ten environments.
        with ThreadPoolExecutor(10) as pool:
            again = list(pool.map(lambda _: self.invoke(name, {"seconds": 0.3}), range(10)))
        self.assertEqual({response["body"] for response in again}, streams)

    def test_update_retires_warm_environments(self) -> None:
        name = self.create("app.sleep")
        first = self.invoke(name, {"seconds": 0})["body"]
        self.assertEqual(self.invoke(name, {"seconds": 0})["body"], first)
        self.client.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"VV": "2"}}
        )
        second = self.invoke(name, {"seconds": 0})["body"]
        self.assertNotEqual(second, first)
        self.client.update_function_code(
            FunctionName=name,
            ZipFile=zipped({"app.py": "def sleep(event, context):\n    return 'new code'\n"}),
        )
        self.assertEqual(self.invoke(name)["body"], "new code")

    def test_layers_are_importable(self) -> None:
        layer = self.client.publish_layer_version(
            LayerName=self.name(),
            Content={"ZipFile": zipped({"python/layered.py": "VALUE = 'from a layer'\n"})},
        )
        code = zipped(
            {"app.py": "import layered\n\ndef handler(e, c):\n    return layered.VALUE\n"}
        )
        name = self.create("app.handler", Code={"ZipFile": code}, Layers=[layer["LayerVersionArn"]])
        self.assertEqual(self.invoke(name)["body"], "from a layer")

    def test_boto3_is_included(self) -> None:
        """
        As in AWS's Python runtimes, a function imports boto3 without
        packaging it, and its clients reach this daemon (``AWS_ENDPOINT_URL``).
        """
        bucket = f"b-{uuid.uuid4().hex[:12]}"
        self.daemon.client("s3").create_bucket(Bucket=bucket)
        code = zipped(
            {
                "app.py": "import boto3\n\n"
                "def handler(event, context):\n"
                "    buckets = boto3.client('s3').list_buckets()['Buckets']\n"
                "    return [bucket['Name'] for bucket in buckets]\n"
            }
        )
        name = self.create("app.handler", Code={"ZipFile": code})
        response = self.invoke(name)
        self.assertNotIn("FunctionError", response, response["body"])
        self.assertIn(bucket, response["body"])

    def test_packaged_boto3_comes_first(self) -> None:
        """A boto3 in the function's package (or a layer) is the one imported, as on AWS."""
        layer = self.client.publish_layer_version(
            LayerName=self.name(),
            Content={"ZipFile": zipped({"python/botocore/__init__.py": "LAYERED = True\n"})},
        )
        code = zipped(
            {
                "boto3/__init__.py": "PACKAGED = True\n",
                "app.py": "import boto3, botocore\n\n"
                "def handler(event, context):\n"
                "    return [boto3.PACKAGED, botocore.LAYERED]\n",
            }
        )
        name = self.create("app.handler", Code={"ZipFile": code}, Layers=[layer["LayerVersionArn"]])
        self.assertEqual(self.invoke(name)["body"], [True, True])

    def test_versions_and_aliases_run_their_code(self) -> None:
        name = self.create("app.sleep", Publish=True)
        self.client.update_function_code(
            FunctionName=name,
            ZipFile=zipped({"app.py": "def sleep(event, context):\n    return 'two'\n"}),
            Publish=True,
        )
        self.client.create_alias(FunctionName=name, Name="old", FunctionVersion="1")
        response = self.invoke(name, {"seconds": 0}, Qualifier="old")
        self.assertEqual(response["ExecutedVersion"], "1")
        self.assertIn("[1]", response["body"])
        self.assertEqual(self.invoke(f"{name}:2")["body"], "two")

    def test_event_invocations_are_retried(self) -> None:
        failing = self.create("app.fail")
        response = self.client.invoke(FunctionName=failing, InvocationType="Event", Payload=b"{}")
        self.assertEqual(response["StatusCode"], 202)
        once = self.create("app.fail")
        self.client.put_function_event_invoke_config(FunctionName=once, MaximumRetryAttempts=0)
        self.client.invoke(FunctionName=once, InvocationType="Event", Payload=b"{}")
        self.assertEqual(self.log_starts(failing, 3), 3)
        self.assertEqual(self.log_starts(once, 1), 1)


class ProcessInvokeTests(InvokeTests):
    arguments = ("--lambda-executor", "process")

    def test_other_runtimes_are_refused(self) -> None:
        """Runtimes the process executor has no runtime client for (Java, .NET, Ruby)."""
        name = self.create("example.Handler::handleRequest", Runtime="java21")
        with self.assertRaises(ClientError) as raised:
            self.client.invoke(FunctionName=name, Payload=b"{}")
        self.assertEqual(raised.exception.response["Error"]["Code"], "InvalidRuntimeException")


class DockerInvokeTests(InvokeTests):
    arguments = (
        "--lambda-executor",
        "docker",
        "--lambda-image",
        ",".join(f"python3.{minor}={IMAGE}" for minor in range(9, 14)),
    )

    def setUp(self) -> None:
        require_docker()
        super().setUp()

    def test_image_functions_run_their_image(self) -> None:
        name = self.name()
        self.client.create_function(
            FunctionName=name,
            PackageType="Image",
            Code={"ImageUri": IMAGE},
            Role=ROLE,
            ImageConfig={"Command": ["missing.handler"]},
        )
        response = self.invoke(name)
        self.assertEqual(response["body"]["errorType"], "Runtime.ImportModuleError")
        self.assertIn("missing", response["body"]["errorMessage"])

    def test_containers_are_labelled(self) -> None:
        name = self.create()
        self.invoke(name)
        mine = [c for c in labelled_containers() if c.labels.get("awsemu.function") == name]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0].labels["awsemu"], "lambda")

    def test_stop_removes_containers_and_start_removes_orphans(self) -> None:
        import socket
        import subprocess
        import sys

        import docker

        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        client = docker.from_env()
        self.addCleanup(client.close)
        orphan = client.containers.run(
            IMAGE,
            ["60"],
            entrypoint=["sleep"],
            detach=True,
            network_mode="none",
            labels={"awsemu": "lambda", "awsemu.owner": f"{socket.gethostname()}:{dead.pid}"},
        )
        self.addCleanup(
            lambda: [
                c.remove(force=True)
                for c in client.containers.list(all=True, filters={"id": orphan.id})
            ]
        )
        daemon = LambdaDaemon(*self.arguments).start()
        self.addCleanup(daemon.remove)
        self.assertEqual(client.containers.list(all=True, filters={"id": orphan.id}), [])
        lambdas = daemon.client()
        lambdas.create_function(
            FunctionName="kept-warm",
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.noop",
            Code={"ZipFile": PACKAGE},
        )
        lambdas.invoke(FunctionName="kept-warm")
        owner = f"{socket.gethostname()}:{daemon.process.pid if daemon.process else 0}"
        mine = client.containers.list(all=True, filters={"label": f"awsemu.owner={owner}"})
        self.assertEqual(len(mine), 1)
        daemon.stop()
        self.assertEqual(
            client.containers.list(all=True, filters={"label": f"awsemu.owner={owner}"}), []
        )


del InvokeTests
