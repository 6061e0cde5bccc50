"""
The DynamoDB proxy's own requests to DynamoDB Local and the JSON
documents it reads and answers with, shared by its families of
operations (L{awsemu.dynamodb.proxy}, L{awsemu.dynamodb.tableops}).
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Final

from awsemu.dynamodb.errors import client_error
from awsemu.protocol.http import HttpRequest, HttpResponse

JSON_CONTENT_TYPE: Final = "application/x-amz-json-1.0"


def json_document(body: bytes) -> dict[str, Any]:
    """A request's JSON object, for the few operations that are looked into here."""
    try:
        document = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise client_error("SerializationException", "The request body is not a JSON object")
    return document


def with_body(response: HttpResponse, body: bytes) -> HttpResponse:
    """``response`` with ``body`` instead of its own, and that body's checksum."""
    if body is response.body:
        return response
    headers = [(name, value) for name, value in response.headers if name.lower() != "x-amz-crc32"]
    headers.append(("x-amz-crc32", str(zlib.crc32(body))))
    return HttpResponse(response.status, headers, body)


def own_request(operation: str, document: dict[str, Any]) -> HttpRequest:
    """A request of the proxy's own to DynamoDB Local."""
    return HttpRequest.from_uri(
        "POST",
        "/",
        [
            ("X-Amz-Target", "DynamoDB_20120810." + operation),
            ("Content-Type", JSON_CONTENT_TYPE),
        ],
        json.dumps(document).encode(),
    )


def describe_table(name: Any) -> HttpRequest:
    """A C{DescribeTable} of table ``name``: how the proxy learns whether it exists."""
    return own_request("DescribeTable", {"TableName": name})
