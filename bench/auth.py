"""
What signature checks cost the daemon: its CPU time per DynamoDB GetItem
(``/proc/<pid>/stat`` around the run, the least of three rounds) under ``--auth off`` and ``--auth
verify``, signed with a key awsemu does not know (checked for nothing: the
common case) and with a key of its ``--credentials`` file (the whole SigV4
check: body hash, canonical request, HMAC).

Requests are signed with botocore's ``SigV4Auth`` before the run and sent
over one keep-alive ``http.client`` connection, so the client's cost stays
out of the numbers. Needs DynamoDB Local (``awsemu install dynamodb-local``).

Usage: python bench/auth.py [--requests N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._daemon import cpu_seconds, daemon, wait_running  # noqa: E402

KNOWN = ("AKIABENCH00000000001", "bench-secret")
UNKNOWN = ("test", "test")
TARGET = "DynamoDB_20120810.GetItem"
ROUNDS = 3
MODES = ("off", "verify")
BODY = json.dumps({"TableName": "Bench", "Key": {"k": {"S": "key"}}}).encode()


def signed(
    port: int, key: tuple[str, str], target: str, body: bytes
) -> tuple[bytes, dict[str, str]]:
    request = AWSRequest(
        "POST",
        f"http://127.0.0.1:{port}/",
        {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
        body,
    )
    SigV4Auth(Credentials(*key), "dynamodb", "us-east-1").add_auth(request)
    return body, dict(request.headers.items())


def cpu_per_request(pid: int, port: int, key: tuple[str, str], n: int) -> float:
    """Server CPU seconds per GetItem signed with ``key`` (after a warm-up of n/4)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    requests = [signed(port, key, TARGET, BODY) for _ in range(n + n // 4)]

    def send(body: bytes, headers: dict[str, str]) -> None:
        connection.request("POST", "/", body, headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status} {answer!r}")

    for body, headers in requests[n:]:
        send(body, headers)
    before = cpu_seconds(pid)
    for body, headers in requests[:n]:
        send(body, headers)
    return (cpu_seconds(pid) - before) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    n = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as directory:
        credentials = Path(directory) / "credentials"
        credentials.write_text(
            f"[bench]\naws_access_key_id = {KNOWN[0]}\naws_secret_access_key = {KNOWN[1]}\n"
        )
        print(f"{n} GetItem requests per row, server CPU µs/request")
        for mode in MODES:
            arguments = [
                "--services",
                "dynamodb",
                "--auth",
                mode,
                "--credentials",
                str(credentials),
            ]
            with daemon(arguments) as (process, port):
                wait_running(port, "dynamodb")
                create = json.dumps(
                    {
                        "TableName": "Bench",
                        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                        "BillingMode": "PAY_PER_REQUEST",
                    }
                ).encode()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                body, headers = signed(port, KNOWN, "DynamoDB_20120810.CreateTable", create)
                connection.request("POST", "/", body, headers)
                connection.getresponse().read()
                keys = {"unknown key": UNKNOWN, "known key": KNOWN}
                best = dict.fromkeys(keys, float("inf"))
                # Rounds alternate between the keys; the least of each is the
                # least disturbed by whatever else the machine runs.
                for _ in range(ROUNDS):
                    for label, key in keys.items():
                        cpu = cpu_per_request(process.pid, port, key, n)
                        best[label] = min(best[label], cpu)
                for label, cpu in best.items():
                    print(f"--auth {mode:7} {label:12} {cpu * 1e6:8.0f}")


if __name__ == "__main__":
    main()
