"""
Function URLs' data plane: a request as the payload 2.0 event the
function receives, and the function's answer as the HTTP response, mapped
the way AWS maps it.
"""

from __future__ import annotations

import json
import time
from base64 import b64decode, b64encode
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

from awsemu.protocol.http import HttpRequest, HttpResponse

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def new_url_id(new_id: Callable[[], str]) -> str:
    """A URL id: 32 lowercase letters and digits, like AWS's."""
    return (new_id().replace("-", "") + new_id().replace("-", ""))[:32].lower()


def function_url(url_id: str, region: str, endpoint_url: str) -> str:
    """
    The URL as LocalStack gives it, which tools expect:
    ``http://<id>.lambda-url.<region>.localhost.localstack.cloud:<port>/``
    (that domain resolves to 127.0.0.1). The daemon also answers the same
    URL with ``.localhost`` as the domain, for machines without DNS.
    """
    port = urlsplit(endpoint_url).port
    suffix = "" if port is None else f":{port}"
    return f"http://{url_id}.lambda-url.{region}.localhost.localstack.cloud{suffix}/"


def _is_text(content_type: str) -> bool:
    return not content_type or content_type.startswith(_TEXT_TYPES)


def event(request: HttpRequest, url_id: str, account_id: str, request_id: str, now: float) -> bytes:
    """The payload 2.0 event of ``request``."""
    headers = {name: request.headers[name] for name in request.headers}
    query: dict[str, str] = {}
    for key, value in request.query:
        query[key] = f"{query[key]},{value}" if key in query else value
    body = request.read_body()
    document: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": urlencode(request.query),
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": request.host,
            "domainPrefix": url_id,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if "cookie" in headers:
        document["cookies"] = [c.strip() for c in headers.pop("cookie").split(";")]
    if query:
        document["queryStringParameters"] = query
    if body:
        if _is_text(headers.get("content-type", "")):
            document["body"] = body.decode("utf-8", "replace")
        else:
            document["body"] = b64encode(body).decode("ascii")
            document["isBase64Encoded"] = True
    return json.dumps(document).encode()


def response(payload: bytes) -> HttpResponse:
    """
    The function's result as HTTP: a ``{"statusCode", "headers", "body",
    "cookies", "isBase64Encoded"}`` object as it says, anything else as a
    200 JSON body (AWS's inference for payload 2.0).
    """
    try:
        result = json.loads(payload)
    except ValueError:
        return internal_error()
    if not isinstance(result, dict) or "statusCode" not in result:
        return HttpResponse(200, [("Content-Type", "application/json")], payload)
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ()]
    body = result.get("body")
    if body is None:
        body = ""
    elif not isinstance(body, str):
        # A dict or list body (``"body": {"ok": true}``) is sent as JSON.
        body = json.dumps(body)
    raw = b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(int(result["statusCode"]), headers, raw)


def internal_error() -> HttpResponse:
    """What a function URL answers when the function fails or answers nonsense."""
    return HttpResponse(502, [("Content-Type", "application/json")], b'{"Message":null}')


def throttled() -> HttpResponse:
    """
    What a function URL answers when the function's concurrency is used up:
    429 with the body and error type Lambda gives a throttled Invoke
    (``{"message":"Rate Exceeded."}``, ``x-amzn-ErrorType:
    TooManyRequestsException``). The body's spelling is the one a function
    URL's own throttle answer was recorded with (the "lambda-provisioned-
    throttling" report, huntharo on GitHub, 2022); the status and error type
    are Invoke's (AWS's "Lambda function URLs" page: reserved concurrency
    throttles a URL's requests as it throttles Invoke).
    """
    return HttpResponse(
        429,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "TooManyRequestsException")],
        b'{"message":"Rate Exceeded."}',
    )


def not_found() -> HttpResponse:
    return HttpResponse(
        404, [("Content-Type", "application/json")], b'{"Message":"Function URL not found"}'
    )


def _allowed(patterns: Sequence[str], value: str) -> bool:
    return "*" in patterns or value.lower() in (pattern.lower() for pattern in patterns)


def preflight(cors: Mapping[str, Any], request: HttpRequest) -> HttpResponse | None:
    """
    The answer to a CORS preflight, which Lambda gives itself (the function
    is not invoked) when the URL has a CORS configuration; None when the
    request is no preflight or the URL has none.
    """
    origin = request.headers.get("origin")
    method = request.headers.get("access-control-request-method")
    if not cors or request.method != "OPTIONS" or origin is None or method is None:
        return None
    headers: list[tuple[str, str]] = []
    if _allowed(cors.get("AllowOrigins") or (), origin) and _allowed(
        cors.get("AllowMethods") or (), method
    ):
        headers = _origin_headers(cors, origin)
        headers.append(("Access-Control-Allow-Methods", ",".join(cors["AllowMethods"])))
        if cors.get("AllowHeaders"):
            headers.append(("Access-Control-Allow-Headers", ",".join(cors["AllowHeaders"])))
        if cors.get("MaxAge") is not None:
            headers.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
    return HttpResponse(200, headers)


def decorate(cors: Mapping[str, Any], request: HttpRequest, response: HttpResponse) -> None:
    """Add the CORS headers for an allowed ``Origin`` to a function's response."""
    origin = request.headers.get("origin")
    if cors and origin is not None and _allowed(cors.get("AllowOrigins") or (), origin):
        response.headers.extend(_origin_headers(cors, origin))


def _origin_headers(cors: Mapping[str, Any], origin: str) -> list[tuple[str, str]]:
    allowed = "*" if "*" in (cors.get("AllowOrigins") or ()) else origin
    headers = [("Access-Control-Allow-Origin", allowed)]
    if cors.get("AllowCredentials"):
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if cors.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ",".join(cors["ExposeHeaders"])))
    return headers
