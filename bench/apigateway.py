"""
What API Gateway adds to a warm Lambda proxy call: the same function
called through a deployed stage (``/{proxy+}`` → AWS_PROXY) and invoked
directly (Lambda's Invoke), both as raw HTTP on keep-alive connections so
the client's own cost stays out; the overhead is the difference of the
medians. The daemon's CPU time per call is printed too (/proc).

    python bench/apigateway.py [process|docker ...]

Target: overhead p50 ≤ 10 ms. Docker needs ci/lambda-image.sh's image.
"""

from __future__ import annotations

import http.client
import io
import os
import statistics
import sys
import time
import zipfile
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _daemon import boto_client, cpu_seconds, daemon, percentile, wait_running  # noqa: E402

IMAGE = os.environ.get("AWSEMU_LAMBDA_IMAGE", "awsemu/lambda-python:3.11")
ROLE = "arn:aws:iam::000000000000:role/bench"
CALLS = 400
FUNCTION = """
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}
"""


def package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", FUNCTION)
    return buffer.getvalue()


def timed(pid: int, call: Callable[[], None]) -> tuple[list[float], float]:
    """Latencies of ``CALLS`` calls (after warming up), and the daemon's CPU ms per call."""
    for _ in range(20):
        call()
    samples = []
    cpu = cpu_seconds(pid)
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples, (cpu_seconds(pid) - cpu) / CALLS * 1000


def caller(port: int, method: str, path: str, body: bytes | None) -> Callable[[], None]:
    connection = http.client.HTTPConnection("127.0.0.1", port)

    def call() -> None:
        connection.request(method, path, body=body)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200, answer.status

    return call


def deploy(port: int) -> tuple[str, str]:
    """The function and a stage proxying every path to it: (function name, stage path)."""
    functions, apigateway = boto_client(port, "lambda"), boto_client(port, "apigateway")
    arn = functions.create_function(
        FunctionName="bench",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": package()},
    )["FunctionArn"]
    api = apigateway.create_rest_api(name="bench")
    proxy = apigateway.create_resource(
        restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{proxy+}"
    )
    named = {"restApiId": api["id"], "resourceId": proxy["id"], "httpMethod": "ANY"}
    apigateway.put_method(**named, authorizationType="NONE")
    apigateway.put_integration(
        **named,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations",
    )
    apigateway.create_deployment(restApiId=api["id"], stageName="prod")
    return "bench", f"/_aws/execute-api/{api['id']}/prod/hello/world?x=1"


def bench(executor: str) -> None:
    arguments = ["--services", "lambda,apigateway", "--lambda-executor", executor]
    arguments += ["--lambda-image", f"python3.11={IMAGE}"]
    with daemon(arguments) as (process, port):
        wait_running(port, "lambda")
        name, stage_path = deploy(port)
        payload = b'{"path": "/hello/world", "httpMethod": "GET"}'
        invoke = caller(port, "POST", f"/2015-03-31/functions/{name}/invocations", payload)
        through = caller(port, "GET", stage_path, None)
        direct, direct_cpu = timed(process.pid, invoke)
        proxied, proxied_cpu = timed(process.pid, through)
        overhead = (statistics.median(proxied) - statistics.median(direct)) * 1000
        print(
            f"{executor}: API Gateway → Lambda p50 {statistics.median(proxied) * 1000:.2f} ms"
            f" (p90 {percentile(proxied, 0.9) * 1000:.2f}); direct Invoke p50"
            f" {statistics.median(direct) * 1000:.2f} ms"
            f" (p90 {percentile(direct, 0.9) * 1000:.2f});"
            f" overhead p50 {overhead:.2f} ms (target ≤ 10 ms);"
            f" daemon CPU per call {proxied_cpu:.2f} ms vs {direct_cpu:.2f} ms"
        )


if __name__ == "__main__":
    for executor in sys.argv[1:] or ["process", "docker"]:
        bench(executor)
