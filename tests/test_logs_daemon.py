"""
End to end: CloudWatch Logs in the real daemon, through real boto3
clients and botocore's paginators, in memory and under ``--data-dir``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.daemon import Daemon


def now_ms() -> int:
    return int(time.time() * 1000)


class LogsDaemonTests(SynchronousTestCase):
    def test_logs(self) -> None:
        """
        Groups, streams and events through boto3, with AWS's errors and
        botocore's paginators walking DescribeLogGroups and FilterLogEvents.
        """
        daemon = Daemon(self, "--services", "logs,sts")
        logs: Any = daemon.client("logs", access_key_id="123456789012", region="eu-west-1")
        for index in range(5):
            logs.create_log_group(logGroupName=f"/app/{index}")
        logs.create_log_stream(logGroupName="/app/0", logStreamName="web")
        start = now_ms()
        events = [
            {"timestamp": start + i, "message": f"event {i} {'ERROR' if i % 2 else 'ok'}"}
            for i in range(7)
        ]
        output = logs.put_log_events(logGroupName="/app/0", logStreamName="web", logEvents=events)
        self.assertRegex(output["nextSequenceToken"], "^[0-9]{56}$")
        too_new = logs.put_log_events(
            logGroupName="/app/0",
            logStreamName="web",
            logEvents=[{"timestamp": start + 3 * 3600 * 1000, "message": "future"}],
        )
        self.assertEqual(too_new["rejectedLogEventsInfo"], {"tooNewLogEventStartIndex": 0})

        pages = list(
            logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 2})
        )
        self.assertEqual(len(pages), 3)
        groups = [group for page in pages for group in page["logGroups"]]
        self.assertEqual([g["logGroupName"] for g in groups], [f"/app/{i}" for i in range(5)])
        self.assertEqual(groups[0]["arn"], "arn:aws:logs:eu-west-1:123456789012:log-group:/app/0:*")

        [stream] = logs.describe_log_streams(logGroupName="/app/0")["logStreams"]
        self.assertEqual(
            (stream["firstEventTimestamp"], stream["lastEventTimestamp"]), (start, start + 6)
        )

        filtered = [
            event["message"]
            for page in logs.get_paginator("filter_log_events").paginate(
                logGroupName="/app/0", filterPattern="ERROR", PaginationConfig={"PageSize": 2}
            )
            for event in page["events"]
        ]
        self.assertEqual(filtered, ["event 1 ERROR", "event 3 ERROR", "event 5 ERROR"])

        read: list[str] = []
        token: dict[str, str] = {}
        while True:
            page = logs.get_log_events(
                logGroupName="/app/0", logStreamName="web", startFromHead=True, limit=3, **token
            )
            read.extend(event["message"] for event in page["events"])
            if token.get("nextToken") == page["nextForwardToken"]:
                break
            token = {"nextToken": page["nextForwardToken"]}
        self.assertEqual(read, [event["message"] for event in events])

        with self.assertRaises(ClientError) as raised:
            logs.create_log_group(logGroupName="/app/0")
        self.assertEqual(
            raised.exception.response["Error"],
            {
                "Code": "ResourceAlreadyExistsException",
                "Message": "The specified log group already exists.",
            },
        )
        with self.assertRaises(logs.exceptions.ResourceNotFoundException) as missing:
            logs.get_log_events(logGroupName="/app/0", logStreamName="nope")
        self.assertEqual(
            missing.exception.response["Error"]["Message"],
            "The specified log stream does not exist.",
        )
        with self.assertRaises(logs.exceptions.InvalidParameterException):
            logs.create_log_group(logGroupName="no spaces")
        # Another account sees none of it.
        other: Any = daemon.client("logs", region="eu-west-1")
        self.assertEqual(other.describe_log_groups()["logGroups"], [])
        self.assertEqual(daemon.health()["services"], {"logs": "running", "sts": "running"})

    def test_restart(self) -> None:
        """Under ``--data-dir``, groups, streams, events and tags outlive the daemon."""
        data_dir = os.path.abspath(self.mktemp())
        first = Daemon(self, "--services", "logs", "--data-dir", data_dir)
        logs: Any = first.client("logs")
        logs.create_log_group(logGroupName="kept", tags={"k": "v"})
        logs.put_retention_policy(logGroupName="kept", retentionInDays=7)
        logs.create_log_stream(logGroupName="kept", logStreamName="s")
        timestamp = now_ms()
        logs.put_log_events(
            logGroupName="kept",
            logStreamName="s",
            logEvents=[{"timestamp": timestamp, "message": "survives"}],
        )
        first.stop()

        second = Daemon(self, "--services", "logs", "--data-dir", data_dir)
        logs = second.client("logs")
        [group] = logs.describe_log_groups()["logGroups"]
        self.assertEqual((group["logGroupName"], group["retentionInDays"]), ("kept", 7))
        self.assertEqual(logs.list_tags_log_group(logGroupName="kept")["tags"], {"k": "v"})
        events = logs.get_log_events(logGroupName="kept", logStreamName="s")["events"]
        self.assertEqual(
            [(e["timestamp"], e["message"]) for e in events], [(timestamp, "survives")]
        )
