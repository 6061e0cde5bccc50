"""
The end-to-end proof: ``examples/flask_app`` — a Flask application
wrapped with apig-wsgi, packaged with its dependencies, deployed by its
plain boto3 script — answering real HTTP requests through API Gateway and
Lambda, with the items and files it writes checked in DynamoDB and S3.
Once with each Lambda executor.
"""

from __future__ import annotations

import atexit
import functools
import http.client
import importlib.util
import json
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from twisted.trial.unittest import SynchronousTestCase

from tests.daemon import ROOT
from tests.dynamodb_support import require_dynamodb_local, wait_for
from tests.lambda_support import DockerExecutor, LambdaDaemon, shared_daemon


def _example(name: str) -> ModuleType:
    """A module of the example, loaded from its file as a user would run it."""
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "examples" / "flask_app" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


deploy = _example("deploy")

SERVICES = ("--services", "lambda,logs,s3,apigateway,dynamodb,iam,sts")
"""Given after LambdaDaemon's own ``--services``: the last one counts."""


@functools.cache
def package() -> Path:
    """The application's zip, built once per test run (pip takes a few seconds)."""
    directory = tempfile.mkdtemp(prefix="awsemu-flask-")
    atexit.register(shutil.rmtree, directory, True)
    built: Path = deploy.build_package(Path(directory) / "app.zip")
    return built


@functools.cache
def deployed(daemon: LambdaDaemon) -> str:
    """The stage URL of the application deployed on ``daemon`` (once per daemon)."""
    wait_for(lambda: b'"dynamodb": "running"' in _health(daemon), 60, "DynamoDB to run")
    saved = dict(os.environ)
    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    try:
        url: str = deploy.deploy(package(), daemon.url)
        return url
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _health(daemon: LambdaDaemon) -> bytes:
    with urllib.request.urlopen(daemon.url + "/_awsemu/health", timeout=2) as answer:
        body: bytes = answer.read()
        return body


def fetch(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One real HTTP request (redirects not followed): status, headers, body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=60)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class FlaskAppMixin:
    """The test body, run by each executor's class."""

    arguments: tuple[str, ...]

    def setUp(self) -> None:
        require_dynamodb_local()
        self.daemon = shared_daemon(*self.arguments, *SERVICES)
        self.url = deployed(self.daemon)

    def json(self, method: str, path: str, document: object = None) -> tuple[int, Any]:
        body = None if document is None else json.dumps(document).encode()
        status, headers, raw = fetch(
            method, self.url + path, body, {"Content-Type": "application/json"}
        )
        return status, json.loads(raw) if raw else None

    def test_flask_app(self: Any) -> None:
        status, headers, body = fetch("GET", self.url + "/")
        self.assertEqual((status, json.loads(body)), (200, {"service": "items", "path": "/"}))
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertTrue(headers["x-amzn-RequestId"] and headers["x-amz-apigw-id"])

        # JSON CRUD, checked in DynamoDB itself.
        status, item = self.json("POST", "/items", {"name": "pen", "color": "blue"})
        self.assertEqual(status, 201)
        table = self.daemon.client("dynamodb")
        stored = table.get_item(TableName="flask-app-items", Key={"id": {"S": item["id"]}})
        self.assertEqual(stored["Item"]["name"], {"S": "pen"})
        self.assertEqual(self.json("GET", f"/items/{item['id']}"), (200, item))
        changed = {**item, "color": "red"}
        self.assertEqual(self.json("PUT", f"/items/{item['id']}", changed), (200, changed))
        self.assertEqual(self.json("GET", "/items")[1]["items"], [changed])
        self.assertEqual(self.json("DELETE", f"/items/{item['id']}"), (204, None))
        self.assertEqual(fetch("GET", f"{self.url}/items/{item['id']}")[0], 404)

        # Files go straight to S3 through presigned URLs the app hands out.
        data = bytes(range(256)) * 64
        status, answer = self.json("POST", "/files/report.bin")
        self.assertEqual(fetch("PUT", answer["upload_url"], data)[0], 200)
        s3 = self.daemon.client("s3")
        self.assertEqual(
            s3.get_object(Bucket="flask-app-files-000000000000", Key="report.bin")["Body"].read(),
            data,
        )
        status, headers, _ = fetch("GET", self.url + "/files/report.bin")
        self.assertEqual(status, 302)
        self.assertEqual(fetch("GET", headers["Location"])[2], data)

        # Binary bytes, cookies, the application's own errors.
        status, headers, body = fetch("GET", self.url + "/logo.png")
        self.assertEqual((status, headers["Content-Type"]), (200, "image/png"))
        self.assertEqual(body[:16], b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        self.assertEqual(len(body), int(headers["Content-Length"]))
        status, headers, _ = fetch("GET", self.url + "/login")
        cookies = sorted(headers.get_all("Set-Cookie") or [])
        self.assertEqual(cookies, ["session=s3cr3t; HttpOnly; Path=/", "theme=dark; Path=/"])
        self.assertEqual(fetch("GET", self.url + "/no/such/page")[0], 404)
        self.assertEqual(fetch("GET", self.url + "/boom")[0], 500)

        # The API's own host names it too.
        api_id = self.url.split("/restapis/")[1].split("/")[0]
        status, _, body = fetch(
            "GET",
            f"{self.daemon.url}/prod/items",
            headers={"Host": f"{api_id}.execute-api.localhost.localstack.cloud:4566"},
        )
        self.assertEqual((status, json.loads(body)), (200, {"items": []}))


class ProcessFlaskAppTests(FlaskAppMixin, SynchronousTestCase):
    arguments = ("--lambda-executor", "process")


class DockerFlaskAppTests(DockerExecutor, FlaskAppMixin, SynchronousTestCase):
    """The example app with its function in Docker."""
