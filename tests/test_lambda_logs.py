"""
Invocation logs and REPORT figures of real functions, through boto3
against a real daemon, with both executors: each ``LogResult`` holds its
own invocation's lines, in AWS's order; Duration and Max Memory Used are
measured. Also what an image that cannot be had gives the caller.
"""

from __future__ import annotations

import json
import re
import time
from base64 import b64decode
from typing import Any

from tests.lambda_support import DockerExecutor, LambdaTestCase, zipped

APP = """
import time


def chatty(event, context):
    for n in range(event["lines"]):
        print(f"{context.aws_request_id} line {n}")
    return n


def sleep(event, context):
    time.sleep(0.2)


def allocate(event, context):
    held = b"x" * (100 * 1024 * 1024)
    return len(held)
"""

REPORT = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\tDuration: (?P<duration>[\d.]+) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<size>\d+) MB\t"
    r"Max Memory Used: (?P<used>\d+) MB\t(Init Duration: (?P<init>[\d.]+) ms\t)?\Z"
)


class LogTests(LambdaTestCase):
    """Run once per executor."""

    def create_app(self, handler: str, memory: int = 128) -> str:
        return self.create(
            f"app.{handler}", Code={"ZipFile": zipped({"app.py": APP})}, MemorySize=memory
        )

    def tail(self, name: str, event: Any) -> tuple[str, list[str]]:
        response = self.client.invoke(
            FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail"
        )
        self.assertNotIn("FunctionError", response, response["Payload"].read())
        lines = b64decode(response["LogResult"]).decode().splitlines()
        starts = [line.split()[2] for line in lines if line.startswith("START RequestId: ")]
        self.assertEqual(len(starts), 1, lines)
        return starts[0], lines

    def report(self, lines: list[str]) -> dict[str, str]:
        found = REPORT.match(lines[-1])
        assert found is not None, lines[-1]
        return found.groupdict()

    def test_each_tail_holds_its_own_invocation_in_order(self) -> None:
        name = self.create_app("chatty")
        for _ in range(3):
            request_id, lines = self.tail(name, {"lines": 20})
            start = lines.index(f"START RequestId: {request_id} Version: $LATEST")
            self.assertEqual(
                lines[start + 1 : start + 21], [f"{request_id} line {n}" for n in range(20)]
            )
            self.assertEqual(lines[start + 21], f"END RequestId: {request_id}")
            self.assertEqual(self.report(lines)["id"], request_id)
            self.assertEqual(len(lines), start + 23, lines)
            # Only a cold start's runtime output may precede START, and none of it is a request's.
            self.assertFalse([line for line in lines[:start] if "line" in line], lines)

    def test_the_log_stream_holds_each_invocation_in_order(self) -> None:
        """Without ``LogType=Tail`` too, and with more output than a pipe read takes at once."""
        name = self.create_app("chatty")
        for _ in range(2):
            response = self.client.invoke(FunctionName=name, Payload=b'{"lines": 2000}')
            self.assertEqual(response["Payload"].read(), b"1999")
        pages = self.daemon.client("logs").get_paginator("filter_log_events")
        messages = [
            event["message"]
            for page in pages.paginate(logGroupName=f"/aws/lambda/{name}")
            for event in page["events"]
        ]
        ids = [line.split()[2] for line in messages if line.startswith("START ")]
        self.assertEqual(len(ids), 2)
        start = messages.index(f"START RequestId: {ids[0]} Version: $LATEST")
        expected = []
        for request_id in ids:
            expected += [
                f"START RequestId: {request_id} Version: $LATEST",
                *(f"{request_id} line {n}" for n in range(2000)),
                f"END RequestId: {request_id}",
            ]
            expected.append(messages[start + len(expected)])
            self.assertTrue(expected[-1].startswith(f"REPORT RequestId: {request_id}\t"))
        self.assertEqual(messages[start:], expected)

    def test_duration_is_the_handlers_time(self) -> None:
        name = self.create_app("sleep")
        for _ in range(2):
            _, lines = self.tail(name, {})
            figures = self.report(lines)
            self.assertTrue(200 <= float(figures["duration"]) <= 300, figures)
            self.assertEqual(int(figures["billed"]), -(-float(figures["duration"]) // 1))

    def test_max_memory_used_is_measured(self) -> None:
        name = self.create_app("allocate", memory=512)
        started = time.monotonic()
        _, lines = self.tail(name, {})
        figures = self.report(lines)
        self.assertTrue(100 < int(figures["used"]) < 512, figures)
        self.assertEqual(figures["size"], "512")
        self.assertIsNotNone(figures["init"])
        self.assertLess(float(figures["init"]), (time.monotonic() - started) * 1000)


class ProcessLogTests(LogTests):
    arguments = ("--lambda-executor", "process")


class DockerLogTests(DockerExecutor, LogTests):
    def test_an_image_that_cannot_be_had_fails_at_once(self) -> None:
        """A 200 with AWS's error document, which boto3 does not retry (a 500 took 8 s)."""
        # The registry named is on loopback: the pull fails without leaving the machine.
        name = self.name()
        self.client.create_function(
            FunctionName=name,
            PackageType="Image",
            Code={"ImageUri": "127.0.0.1:1/awsemu/no-such-image:1"},
            Role="arn:aws:iam::000000000000:role/lambda-role",
        )
        started = time.monotonic()
        response = self.client.invoke(FunctionName=name, Payload=b"{}")
        elapsed = time.monotonic() - started
        body = json.loads(response["Payload"].read())
        self.assertEqual((response["StatusCode"], response["FunctionError"]), (200, "Unhandled"))
        self.assertEqual(body["errorType"], "Runtime.InvalidEntrypoint")
        self.assertIn("127.0.0.1:1/awsemu/no-such-image:1", body["errorMessage"])
        self.assertEqual(response["ResponseMetadata"]["RetryAttempts"], 0)
        self.assertLess(elapsed, 5)
