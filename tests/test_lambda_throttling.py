"""
What a throttled invocation becomes outside ``Invoke``, through boto3 and
plain HTTP against a real daemon (process executor): a function URL's 429,
an ``Event`` invocation throttled past its maximum age sent to its
``OnFailure`` destination, and the refusals that keep provisioned
concurrency within the reservation.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

from tests.lambda_support import LambdaTestCase
from tests.test_lambda_api import ErrorsMixin


class ThrottledElsewhereTests(ErrorsMixin, LambdaTestCase):
    def test_function_url(self) -> None:
        """A throttled URL call answers 429 with Lambda's throttle body and error type."""
        name = self.create()
        url = self.client.create_function_url_config(FunctionName=name, AuthType="NONE")
        self.client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        host = url["FunctionUrl"].removeprefix("http://").rstrip("/")
        connection = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=30)
        self.addCleanup(connection.close)
        connection.request("GET", "/", headers={"Host": host})
        response = connection.getresponse()
        self.assertEqual(
            (
                response.status,
                response.getheader("x-amzn-ErrorType"),
                response.getheader("Content-Type"),
                json.loads(response.read()),
            ),
            (429, "TooManyRequestsException", "application/json", {"message": "Rate Exceeded."}),
        )
        self.assertEqual(self.log_starts(name, 1), 0)

    def test_event_throttled_past_its_age_goes_to_on_failure(self) -> None:
        """
        An event throttled until it is older than ``MaximumEventAgeInSeconds``
        (60 s, the least allowed: attempts at 0, 1, 3, 7, 15 and 31 s, the
        next would be past it) sends its record to the ``OnFailure`` function.
        """
        name, destination = self.create(), self.create()
        arn = self.client.get_function(FunctionName=destination)["Configuration"]["FunctionArn"]
        self.client.put_function_event_invoke_config(
            FunctionName=name,
            MaximumEventAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": arn}},
        )
        self.client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        self.client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
        logs = self.daemon.client("logs")
        records: list[Any] = []
        deadline = time.monotonic() + 60
        while not records and time.monotonic() < deadline:
            time.sleep(1)
            try:
                events = logs.filter_log_events(
                    logGroupName=f"/aws/lambda/{destination}", filterPattern="event"
                )["events"]
            except logs.exceptions.ResourceNotFoundException:
                continue
            records = [json.loads(e["message"].split(" ", 1)[1]) for e in events]
        (record,) = records
        function_arn = f"{arn.replace(destination, name)}:$LATEST"
        self.assertEqual(
            {key: record[key] for key in ("requestPayload", "responseContext")},
            {
                "requestPayload": {"n": 1},
                "responseContext": {"statusCode": 429, "executedVersion": "$LATEST"},
            },
        )
        self.assertEqual(
            {key: record["requestContext"][key] for key in ("functionArn", "condition")},
            {"functionArn": function_arn, "condition": "EventAgeExceeded"},
        )
        self.assertEqual(record["requestContext"]["approximateInvokeCount"], 6)
        self.assertNotIn("responsePayload", record)
        self.assertEqual(self.log_starts(name, 1), 0)

    def test_reservation_and_provisioned_concurrency(self) -> None:
        """Neither may leave the function's provisioned concurrency above its reservation."""
        name = self.create()
        self.client.publish_version(FunctionName=name)
        self.client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=5
        )
        message = self.assertError(
            self.client.put_function_concurrency,
            "InvalidParameterValueException",
            400,
            FunctionName=name,
            ReservedConcurrentExecutions=4,
        )
        self.assertEqual(
            message,
            "ReservedConcurrentExecutions  4 should not be lower than function's total"
            " provisioned concurrency [5].",
        )
        self.assertNotIn("Concurrency", self.client.get_function(FunctionName=name))
        self.client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
        message = self.assertError(
            self.client.put_provisioned_concurrency_config,
            "InvalidParameterValueException",
            400,
            FunctionName=name,
            Qualifier="1",
            ProvisionedConcurrentExecutions=6,
        )
        self.assertEqual(
            message,
            "Requested Provisioned Concurrency should not be greater than the"
            " reservedConcurrentExecution for function",
        )
        answer = self.client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        self.assertEqual(answer["RequestedProvisionedConcurrentExecutions"], 5)
