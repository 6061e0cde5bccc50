"""
Dashboard benchmark: a daemon holding 1,000 buckets, 1,000 objects in one
bucket, 1,000 items in one table and 1,000 functions, and each dashboard
page fetched over a keep-alive connection; the server's CPU time per page
(from /proc) and the wall-clock time per page, median and worst.

    python bench/dashboard.py [--count N] [--data-dir DIR]

The target: every page under 100 ms of server time.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import statistics
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._daemon import boto_client, cpu_seconds, daemon, wait_running  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/bench"
PACKAGE = io.BytesIO()
with zipfile.ZipFile(PACKAGE, "w") as _zip:
    _zip.writestr("app.py", "def handler(event, context):\n    return event\n")


def client(port: int, service: str) -> Any:
    return boto_client(port, service, Config(retries={"max_attempts": 0}, max_pool_connections=8))


def fill(port: int, count: int) -> None:
    """``count`` buckets, objects, items and functions."""
    s3, dynamodb, lambda_ = client(port, "s3"), client(port, "dynamodb"), client(port, "lambda")
    dynamodb.create_table(
        TableName="bench",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    s3.create_bucket(Bucket="bench-objects")
    code = PACKAGE.getvalue()

    def one(n: int) -> None:
        s3.create_bucket(Bucket=f"bench-{n:05}")
        s3.put_object(Bucket="bench-objects", Key=f"dir{n % 10}/object-{n:05}", Body=b"x" * 100)
        lambda_.create_function(
            FunctionName=f"bench-{n:05}",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": code},
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(count)))
    for start in range(0, count, 25):
        dynamodb.batch_write_item(
            RequestItems={
                "bench": [
                    {"PutRequest": {"Item": {"pk": {"S": f"item-{n:05}"}, "n": {"N": str(n)}}}}
                    for n in range(start, min(count, start + 25))
                ]
            }
        )


PAGES = (
    "",
    "requests.json",
    "s3",
    "s3/bench-objects",
    "s3/bench-objects?prefix=dir3/",
    "s3/bench-objects/object?key=dir3/object-00003",
    "dynamodb",
    "dynamodb/bench",
    "dynamodb/bench?mode=query&expression=pk+%3D+%3Ap&values=%7B%22%3Ap%22%3A%7B%22S%22%3A%22item-00007%22%7D%7D",
    "lambda",
    "lambda/bench-00000",
    "logs",
    "iam",
    "apigateway",
)


def measure(pid: int, port: int, rounds: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    print(f"{'page':<60} {'cpu ms':>8} {'median ms':>10} {'max ms':>8} {'bytes':>8}")
    for page in PAGES:
        path = "/_awsemu/" + page
        connection.request("GET", path)
        size = len(connection.getresponse().read())  # warm up
        walls = []
        cpu_before = cpu_seconds(pid)
        for _ in range(rounds):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            walls.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise SystemExit(f"{path}: {response.status}")
        cpu = (cpu_seconds(pid) - cpu_before) * 1000 / rounds
        label = page if len(page) < 58 else page[:55] + "..."
        print(
            f"/_awsemu/{label:<51} {cpu:8.1f} {statistics.median(walls):10.1f}"
            f" {max(walls):8.1f} {size:8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--data-dir")
    options = parser.parse_args()
    arguments = ["--lambda-executor", "process"]
    if options.data_dir:
        arguments += ["--data-dir", options.data_dir]
    with daemon(arguments) as (process, port):
        wait_running(port, "dynamodb")
        started = time.monotonic()
        fill(port, options.count)
        print(f"filled {options.count} of each in {time.monotonic() - started:.1f} s")
        measure(process.pid, port, options.rounds)


if __name__ == "__main__":
    main()
