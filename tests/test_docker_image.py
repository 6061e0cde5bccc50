"""
awsemu's own container image (the top-level ``Dockerfile``, built offline
by ``ci/awsemu-image.sh``): run as a user would run it, then driven with
boto3 through S3, DynamoDB and a Lambda invoke (functions in sibling
containers on the host's engine, their code copied in).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from typing import Any

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.daemon import ROOT, free_port
from tests.lambda_support import IMAGE as LAMBDA_IMAGE
from tests.lambda_support import PACKAGE, require_docker

IMAGE = os.environ.get("AWSEMU_IMAGE", "awsemu/awsemu:dev")
REQUIRED = "AWSEMU_REQUIRE_DOCKER_IMAGE"
SOCKET = "/var/run/docker.sock"


def docker(*argv: str) -> str:
    """``docker ARGV``'s output (standard output and error, as ``docker logs`` splits them)."""
    done = subprocess.run(
        ["docker", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"docker {' '.join(argv)} failed: {done.stdout}")
    return done.stdout.strip()


def require_image() -> None:
    """Skip unless the image is built; with ``AWSEMU_REQUIRE_DOCKER_IMAGE`` set, fail instead."""
    require_docker()
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode:
        reason = f"the image {IMAGE} is not built (ci/awsemu-image.sh)"
        if os.environ.get(REQUIRED):
            raise AssertionError(f"{REQUIRED} is set but {reason}")
        raise SkipTest(reason)


class ContainerTests(SynchronousTestCase):
    def setUp(self) -> None:
        require_image()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Host networking: this machine's engine has no bridge, and function
        # containers must reach the daemon's Runtime API on the host's loopback.
        self.container = docker(
            "run",
            "--detach",
            "--network",
            "host",
            "--volume",
            f"{SOCKET}:{SOCKET}",
            "--group-add",
            str(os.stat(SOCKET).st_gid),
            IMAGE,
            "--port",
            f"tcp:{self.port}:interface=127.0.0.1",
            "--lambda-image",
            f"python3.11={LAMBDA_IMAGE}",
        )
        self.addCleanup(self.remove)
        self.health = self.wait_running()

    def remove(self) -> None:
        docker("stop", "--time", "30", self.container)
        self.logs = docker("logs", self.container)
        docker("rm", "--volumes", self.container)

    def wait_running(self) -> dict[str, Any]:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(self.url + "/_awsemu/health", timeout=5) as answer:
                    health: dict[str, Any] = json.load(answer)
                if "starting" not in health["services"].values():
                    return health
            except OSError:
                pass
            if time.monotonic() > deadline or "true" != docker(
                "inspect", "--format", "{{.State.Running}}", self.container
            ):
                raise AssertionError(docker("logs", self.container))
            time.sleep(0.2)

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def test_services(self) -> None:
        """Every service runs, as a non-root user, with state in the volume."""
        self.assertEqual(set(self.health["services"].values()), {"running"}, self.health)
        self.assertEqual(
            self.health["details"],
            {
                "dynamodb": {
                    "dynamodb_local": "/opt/awsemu-cache/dynamodb-local/DynamoDBLocal.jar"
                },
                "lambda": {"executor": "docker", "runtimes_with_images": ["python3.11"]},
            },
        )
        self.assertNotEqual(docker("exec", self.container, "id", "-u"), "0")
        config = json.loads(docker("inspect", "--format", "{{json .Config}}", self.container))
        self.assertIn("/var/lib/awsemu", config["Volumes"])
        self.assertIn("4566/tcp", config["ExposedPorts"])
        self.assertIn("/_awsemu/health", " ".join(config["Healthcheck"]["Test"]))
        with urllib.request.urlopen(self.url + "/_awsemu/info") as answer:
            self.assertEqual(json.load(answer)["config"]["data-dir"], "/var/lib/awsemu")

    def test_s3_dynamodb_lambda(self) -> None:
        """S3, DynamoDB and a Lambda invoke work through the container."""
        s3 = self.client("s3")
        s3.create_bucket(Bucket="in-docker")
        s3.put_object(Bucket="in-docker", Key="k", Body=b"hello")
        self.assertEqual(s3.get_object(Bucket="in-docker", Key="k")["Body"].read(), b"hello")

        dynamodb = self.client("dynamodb")
        dynamodb.create_table(
            TableName="in-docker",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="in-docker", Item={"k": {"S": "a"}, "v": {"N": "1"}})
        item = dynamodb.get_item(TableName="in-docker", Key={"k": {"S": "a"}})["Item"]
        self.assertEqual(item, {"k": {"S": "a"}, "v": {"N": "1"}})

        lambda_ = self.client("lambda")
        lambda_.create_function(
            FunctionName="in-docker",
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/lambda",
            Handler="app.echo",
            Code={"ZipFile": PACKAGE},
        )
        answer = lambda_.invoke(FunctionName="in-docker", Payload=b'{"hello": "docker"}')
        payload = json.loads(answer["Payload"].read())
        self.assertNotIn("FunctionError", answer, payload)
        self.assertEqual(payload["event"], {"hello": "docker"})


COMPOSE_FILE = ROOT / "contrib" / "docker" / "compose.yaml"


class ComposeTests(SynchronousTestCase):
    """``contrib/docker/compose.yaml`` brought up with Docker Compose, as its comment says."""

    def test_up(self) -> None:
        require_image()
        compose = shutil.which("docker-compose")
        if compose is None:
            reason = "docker-compose is not installed (apt-get install docker-compose)"
            if os.environ.get(REQUIRED):
                raise AssertionError(f"{REQUIRED} is set but {reason}")
            raise SkipTest(reason)
        port = free_port()
        project = f"awsemu-test-{port}"
        environment = {
            **os.environ,
            "AWSEMU_PORT": str(port),
            "DOCKER_GID": str(os.stat(SOCKET).st_gid),
        }

        def run(*argv: str) -> str:
            done = subprocess.run(
                [compose, "--project-name", project, "--file", str(COMPOSE_FILE), *argv],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=180,
            )
            if done.returncode != 0:
                raise AssertionError(f"docker-compose {' '.join(argv)} failed: {done.stdout}")
            return done.stdout

        run("up", "--detach", "--no-build")
        self.addCleanup(run, "down", "--volumes", "--timeout", "30")
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_awsemu/health", timeout=5
                ) as answer:
                    health: dict[str, Any] = json.load(answer)
                if "starting" not in health["services"].values():
                    break
            except OSError:
                pass
            self.assertLess(time.monotonic(), deadline, run("logs"))
            time.sleep(0.2)
        self.assertEqual(set(health["services"].values()), {"running"}, health)
        # The named volume holds the state: /var/lib/awsemu is the data directory.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_awsemu/info") as answer:
            self.assertEqual(json.load(answer)["config"]["data-dir"], "/var/lib/awsemu")
