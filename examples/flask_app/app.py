"""
A small Flask application run on Lambda behind API Gateway: JSON items
kept in DynamoDB, files uploaded and downloaded through presigned S3
URLs, a PNG, cookies, and the errors every web application has.

``handler`` is what Lambda calls: apig-wsgi turns API Gateway's proxy
event into a WSGI request and Flask's answer into a proxy response.
boto3 finds awsemu (or AWS) by itself: awsemu sets ``AWS_ENDPOINT_URL``
in every function's environment.
"""

from __future__ import annotations

import os
import struct
import uuid
import zlib

import boto3
from apig_wsgi import make_lambda_handler
from flask import Flask, Response, abort, jsonify, request

app = Flask(__name__)
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
s3 = boto3.client("s3")
BUCKET = os.environ["BUCKET_NAME"]


def _png(width: int, height: int) -> bytes:
    """A red ``width`` x ``height`` PNG, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


LOGO = _png(4, 4)


@app.get("/")
def index() -> Response:
    return jsonify(service="items", path=request.path)


@app.post("/items")
def create_item() -> tuple[Response, int]:
    item = {"id": uuid.uuid4().hex, **request.get_json()}
    table.put_item(Item=item)
    return jsonify(item), 201


@app.get("/items")
def list_items() -> Response:
    return jsonify(items=table.scan()["Items"])


@app.get("/items/<item_id>")
def get_item(item_id: str) -> Response:
    item = table.get_item(Key={"id": item_id}).get("Item")
    if item is None:
        abort(404)
    return jsonify(item)


@app.put("/items/<item_id>")
def replace_item(item_id: str) -> Response:
    item = {**request.get_json(), "id": item_id}
    table.put_item(Item=item)
    return jsonify(item)


@app.delete("/items/<item_id>")
def delete_item(item_id: str) -> tuple[str, int]:
    table.delete_item(Key={"id": item_id})
    return "", 204


@app.post("/files/<name>")
def upload_url(name: str) -> Response:
    """Where to PUT a file: the client sends the bytes to S3, not through Lambda."""
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": name}, ExpiresIn=300
    )
    return jsonify(upload_url=url)


@app.get("/files/<name>")
def download(name: str) -> Response:
    """A redirect to a presigned download URL."""
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": name}, ExpiresIn=300
    )
    return Response(status=302, headers={"Location": url})


@app.get("/logo.png")
def logo() -> Response:
    return Response(LOGO, mimetype="image/png")


@app.get("/login")
def login() -> Response:
    response = jsonify(logged_in=True)
    response.set_cookie("session", "s3cr3t", httponly=True)
    response.set_cookie("theme", "dark")
    return response


@app.get("/boom")
def boom() -> Response:
    raise RuntimeError("the application failed")


handler = make_lambda_handler(app, binary_support=True)
