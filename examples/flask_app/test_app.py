"""
The Flask application, tested against awsemu with its pytest fixture:
deployed as ``deploy.py`` deploys it, then called over HTTP. Run with::

    pip install awsemu pytest boto3
    pytest -p awsemu.testing examples/flask_app/test_app.py

(``-p awsemu.testing`` is only needed where awsemu is not installed: the
installed package registers the plugin itself.) Every test gets a fresh
emulator state, so each deploys anew; the zip is built once.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deploy  # noqa: E402  (the example's own deploy script)


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The application's zip (``pip install --target`` takes a few seconds): built once."""
    built: Path = deploy.build_package(tmp_path_factory.mktemp("flask") / "app.zip")
    return built


def call(method: str, url: str, document: object = None) -> tuple[int, Any]:
    body = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.load(response)


def test_items(awsemu: Any, package: Path) -> None:
    """An item posted is listed, and lands in the application's DynamoDB table."""
    url = deploy.deploy(package, awsemu.endpoint_url)
    status, created = call("POST", url + "/items", {"name": "pen"})
    assert status == 201
    assert call("GET", url + "/items")[1] == {"items": [created]}
    table = awsemu.client("dynamodb").scan(TableName="flask-app-items")
    assert [item["name"]["S"] for item in table["Items"]] == ["pen"]


def test_fresh_state(awsemu: Any) -> None:
    """The previous test's function, table and API are gone."""
    assert awsemu.client("lambda").list_functions()["Functions"] == []
    assert awsemu.client("dynamodb").list_tables()["TableNames"] == []
