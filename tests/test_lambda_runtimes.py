"""
Runtimes other than Python on the process executor, through a real daemon
and boto3: a custom runtime (``provided.al2023``) whose ``bootstrap``
speaks the Runtime API itself, and Node.js run by AWS's ``aws-lambda-ric``
(``awsemu install lambda-node-ric``; with ``AWSEMU_REQUIRE_LAMBDA_NODE``
set, its absence fails these tests instead of skipping them).
"""

from __future__ import annotations

import atexit
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile
from unittest import SkipTest

from botocore.exceptions import ClientError

from awsemu.dynamodb.installer import default_cache_dir
from awsemu.lambda_.node_ric import INSTALL_COMMAND, find_node_ric
from tests.lambda_support import LambdaTestCase, zipped

# A custom runtime as AWS documents it (runtimes-custom.html): loop on
# next, answer with the invocation's id. Python stands in for curl.
BOOTSTRAP = f"""#!{sys.executable}
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as answer:
        request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(answer)
    result = {{
        "event": event,
        "handler": os.environ["_HANDLER"],
        "root": os.environ["LAMBDA_TASK_ROOT"] == os.getcwd(),
    }}
    urllib.request.urlopen(api + request_id + "/response", json.dumps(result).encode()).read()
"""

NODE_HANDLER = """\
exports.handler = async (event, context) => ({
  doubled: event.n * 2,
  node: process.version,
  requestId: context.awsRequestId,
});
exports.fails = async () => {
  throw new TypeError("not a number: ≠");
};
"""

GREET = "module.exports = (who) => `hello, ${who}`;\n"


EMPTY_CACHE = tempfile.mkdtemp(prefix="awsemu-empty-cache-")
atexit.register(shutil.rmtree, EMPTY_CACHE, True)


def executable_package(name: str, content: str) -> bytes:
    """A deployment package holding one executable file, as ``zip`` keeps its mode."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entry = zipfile.ZipInfo(name)
        entry.external_attr = 0o755 << 16
        archive.writestr(entry, content)
    return buffer.getvalue()


def invoke(client: object, name: str, event: object) -> dict[str, object]:
    answer = client.invoke(FunctionName=name, Payload=json.dumps(event))  # type: ignore[attr-defined]
    answer["Payload"] = json.loads(answer["Payload"].read())
    return answer  # type: ignore[no-any-return]


class CustomRuntimeTests(LambdaTestCase):
    def test_bootstrap_answers_an_invocation(self) -> None:
        name = self.create(
            "function.handler",
            Runtime="provided.al2023",
            Code={"ZipFile": executable_package("bootstrap", BOOTSTRAP)},
        )
        answer = invoke(self.client, name, {"n": 21})
        self.assertEqual(answer["StatusCode"], 200)
        self.assertNotIn("FunctionError", answer)
        self.assertEqual(
            answer["Payload"], {"event": {"n": 21}, "handler": "function.handler", "root": True}
        )


def require_node() -> None:
    """Skip unless node and the installed client are here; fail instead when required."""
    reason = None
    if shutil.which("node") is None:
        reason = "node is not on the PATH"
    elif find_node_ric(default_cache_dir(os.environ)) is None:
        reason = f"AWS's Node.js runtime client is not installed ({INSTALL_COMMAND})"
    if reason is None:
        return
    if os.environ.get("AWSEMU_REQUIRE_LAMBDA_NODE"):
        raise AssertionError(f"AWSEMU_REQUIRE_LAMBDA_NODE is set but {reason}")
    raise SkipTest(reason)


class NodeRuntimeTests(LambdaTestCase):
    def setUp(self) -> None:
        require_node()
        super().setUp()

    def test_a_handler_returns_a_value(self) -> None:
        name = self.create(
            "index.handler",
            Runtime="nodejs20.x",
            Code={"ZipFile": zipped({"index.js": NODE_HANDLER})},
        )
        answer = invoke(self.client, name, {"n": 21})
        self.assertEqual(answer["StatusCode"], 200)
        self.assertNotIn("FunctionError", answer)
        payload = answer["Payload"]
        assert isinstance(payload, dict)
        self.assertEqual(payload["doubled"], 42)
        self.assertTrue(str(payload["node"]).startswith("v"))
        self.assertRegex(str(payload["requestId"]), r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")

    def test_layers_modules_are_required(self) -> None:
        """A layer's nodejs/node_modules is on NODE_PATH, as in AWS's Node.js images."""
        layer = self.client.publish_layer_version(
            LayerName=self.name(),
            Content={"ZipFile": zipped({"nodejs/node_modules/greet/index.js": GREET})},
        )
        code = zipped({"index.js": "exports.handler = async (e) => require('greet')(e.who);\n"})
        name = self.create(
            "index.handler",
            Runtime="nodejs20.x",
            Code={"ZipFile": code},
            Layers=[layer["LayerVersionArn"]],
        )
        self.assertEqual(invoke(self.client, name, {"who": "layer"})["Payload"], "hello, layer")

    def test_a_thrown_error_is_the_function_error(self) -> None:
        name = self.create(
            "index.fails",
            Runtime="nodejs20.x",
            Code={"ZipFile": zipped({"index.js": NODE_HANDLER})},
        )
        answer = invoke(self.client, name, {})
        self.assertEqual(answer["FunctionError"], "Unhandled")
        payload = answer["Payload"]
        assert isinstance(payload, dict)
        self.assertEqual(payload["errorType"], "TypeError")
        self.assertEqual(payload["errorMessage"], "not a number: ≠")


class NotInstalledTests(LambdaTestCase):
    """A daemon whose cache holds no client says what to run, at the first invocation."""

    arguments = ("--lambda-executor", "process", "--cache-dir", EMPTY_CACHE)

    def test_the_error_names_the_install_command(self) -> None:
        name = self.create(
            "index.handler",
            Runtime="nodejs20.x",
            Code={"ZipFile": zipped({"index.js": NODE_HANDLER})},
        )
        with self.assertRaises(ClientError) as raised:
            self.client.invoke(FunctionName=name, Payload=b"{}")
        error = raised.exception.response
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 500)
        self.assertEqual(error["Error"]["Code"], "ServiceException")
        self.assertEqual(
            error["Error"]["Message"],
            "awsemu could not start an execution environment: AWS's Node.js runtime client"
            " is not installed: run awsemu install lambda-node-ric",
        )
