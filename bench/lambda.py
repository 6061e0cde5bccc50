"""
Lambda invocation costs, per executor: the warm overhead of invoking a
no-op function (raw HTTP on a keep-alive connection, so the client's own
cost stays out of it, and boto3 for reference) and the cold start (the
first invoke of a new function: environment start, runtime init, invoke).

    python bench/lambda.py [process|docker ...]

Docker needs the image ci/lambda-image.sh builds ($AWSEMU_LAMBDA_IMAGE).
"""

from __future__ import annotations

import http.client
import io
import os
import statistics
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _daemon import boto_client, daemon, percentile, wait_running  # noqa: E402

IMAGE = os.environ.get("AWSEMU_LAMBDA_IMAGE", "awsemu/lambda-python:3.11")
ROLE = "arn:aws:iam::000000000000:role/bench"
WARM = 500
COLD = 8


def package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def noop(event, context):\n    return None\n")
    return buffer.getvalue()


def bench(executor: str) -> None:
    arguments = ["--services", "lambda", "--lambda-executor", executor]
    arguments += ["--lambda-image", f"python3.11={IMAGE}"]
    with daemon(arguments) as (_, port):
        wait_running(port, "lambda")
        client = boto_client(port, "lambda")
        code = package()
        colds = []
        for index in range(COLD):
            name = f"cold{index}"
            client.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=ROLE,
                Handler="app.noop",
                Code={"ZipFile": code},
            )
            started = time.perf_counter()
            client.invoke(FunctionName=name, Payload=b"{}")
            colds.append(time.perf_counter() - started)
        connection = http.client.HTTPConnection("127.0.0.1", port)
        raw = []
        for _ in range(WARM):
            started = time.perf_counter()
            connection.request("POST", "/2015-03-31/functions/cold0/invocations", body=b"{}")
            answer = connection.getresponse()
            answer.read()
            raw.append(time.perf_counter() - started)
            assert answer.status == 200, answer.status
        with_boto3 = []
        for _ in range(WARM // 5):
            started = time.perf_counter()
            client.invoke(FunctionName="cold0", Payload=b"{}")["Payload"].read()
            with_boto3.append(time.perf_counter() - started)
        print(
            f"{executor}: warm invoke p50 {statistics.median(raw) * 1000:.2f} ms"
            f" (p90 {percentile(raw, 0.9) * 1000:.2f} ms; boto3 p50"
            f" {statistics.median(with_boto3) * 1000:.2f} ms);"
            f" cold start p50 {statistics.median(colds) * 1000:.0f} ms"
            f" (min {min(colds) * 1000:.0f}, max {max(colds) * 1000:.0f} ms, {COLD} functions)"
        )


if __name__ == "__main__":
    for name in sys.argv[1:] or ["process", "docker"]:
        bench(name)
