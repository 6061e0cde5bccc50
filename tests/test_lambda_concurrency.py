"""
Reserved and provisioned concurrency through boto3 against a real daemon
(process executor): concurrent invocations past a reservation are
throttled as AWS throttles them, ``Event`` invocations wait instead, and
the account's settings count what reservations and provisioned concurrency
take; the accounting itself on units.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_.concurrency import Running, unreserved
from awsemu.lambda_.functions import Function, Version
from awsemu.protocol.errors import ServiceError
from tests.lambda_support import PACKAGE, ROLE, LambdaTestCase
from tests.test_lambda_api import ErrorsMixin

SCOPE = ("000000000000", "us-east-1")


class ThrottleTests(ErrorsMixin, LambdaTestCase):
    def account(self) -> Any:
        """A client of an account of its own, whose settings no other test changes."""
        return self.daemon.client(key_id=str(uuid.uuid4().int)[:12])

    def test_invocations_past_the_reservation_are_throttled(self) -> None:
        """Four invocations at once of a function reserved two: two run, two get AWS's 429."""
        name = self.create("app.sleep", Timeout=30)
        self.client.invoke(FunctionName=name, Payload=b'{"seconds": 0}')
        self.client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)

        def invoke(_: int) -> Any:
            try:
                return self.client.invoke(FunctionName=name, Payload=b'{"seconds": 3}')
            except ClientError as e:
                return e.response

        with ThreadPoolExecutor(4) as threads:
            answers = list(threads.map(invoke, range(4)))
        ran = [a for a in answers if a["ResponseMetadata"]["HTTPStatusCode"] == 200]
        refused = [a for a in answers if a["ResponseMetadata"]["HTTPStatusCode"] == 429]
        self.assertEqual((len(ran), len(refused)), (2, 2))
        for answer in ran:
            self.assertNotIn("FunctionError", answer)
        for answer in refused:
            self.assertEqual(
                (answer["Error"], answer["Reason"], answer["Type"]),
                (
                    {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."},
                    "ReservedFunctionConcurrentInvocationLimitExceeded",
                    "User",
                ),
            )
        # The slots are free again once the invocations ended.
        answer = self.client.invoke(FunctionName=name, Payload=b'{"seconds": 0}')
        self.assertEqual(answer["StatusCode"], 200)

    def test_a_reservation_of_zero(self) -> None:
        """Every synchronous invocation is throttled; an event waits and runs once allowed."""
        name = self.create()
        self.client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        message = self.assertError(
            self.client.invoke, "TooManyRequestsException", 429, FunctionName=name
        )
        self.assertEqual(message, "Rate Exceeded.")
        answer = self.client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
        self.assertEqual(answer["StatusCode"], 202)
        self.assertEqual(self.log_starts(name, 1), 0)
        self.client.delete_function_concurrency(FunctionName=name)
        self.assertEqual(self.log_starts(name, 1), 1)

    def test_account_settings_count_reservations_and_provisioning(self) -> None:
        client = self.account()
        limits = client.get_account_settings()["AccountLimit"]
        self.assertEqual(
            (limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]),
            (1000, 1000),
        )
        reserved, provisioned = self.name(), self.name()
        for name in (reserved, provisioned):
            client.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=ROLE,
                Handler="app.echo",
                Code={"ZipFile": PACKAGE},
            )
            client.publish_version(FunctionName=name)
        client.put_function_concurrency(FunctionName=reserved, ReservedConcurrentExecutions=300)
        client.put_provisioned_concurrency_config(
            FunctionName=reserved, Qualifier="1", ProvisionedConcurrentExecutions=300
        )
        client.put_provisioned_concurrency_config(
            FunctionName=provisioned, Qualifier="1", ProvisionedConcurrentExecutions=50
        )

        def left() -> int:
            found: int = client.get_account_settings()["AccountLimit"][
                "UnreservedConcurrentExecutions"
            ]
            return found

        # 300 reserved (its provisioning inside it) and 50 provisioned elsewhere.
        self.assertEqual(left(), 650)
        message = self.assertError(
            client.put_provisioned_concurrency_config,
            "InvalidParameterValueException",
            400,
            FunctionName=reserved,
            Qualifier="1",
            ProvisionedConcurrentExecutions=301,
        )
        self.assertEqual(
            message,
            "Requested Provisioned Concurrency should not be greater than the"
            " reservedConcurrentExecution for function",
        )
        message = self.assertError(
            client.put_function_concurrency,
            "InvalidParameterValueException",
            400,
            FunctionName=provisioned,
            ReservedConcurrentExecutions=601,
        )
        self.assertEqual(
            message,
            "Specified ReservedConcurrentExecutions for function decreases account's"
            " UnreservedConcurrentExecution below its minimum value of [100].",
        )
        message = self.assertError(
            client.put_provisioned_concurrency_config,
            "InvalidParameterValueException",
            400,
            FunctionName=provisioned,
            Qualifier="1",
            ProvisionedConcurrentExecutions=601,
        )
        self.assertEqual(
            message,
            "Specified ConcurrentExecutions for function decreases account's"
            " UnreservedConcurrentExecution below its minimum value of [100].",
        )
        # A refused change leaves what was there.
        self.assertEqual(left(), 650)
        client.put_function_concurrency(FunctionName=provisioned, ReservedConcurrentExecutions=600)
        self.assertEqual(left(), 100)
        client.delete_function_concurrency(FunctionName=reserved)
        self.assertEqual(left(), 100)
        client.delete_provisioned_concurrency_config(FunctionName=reserved, Qualifier="1")
        self.assertEqual(left(), 400)


def _function(name: str, reserved: int | None = None, **provisioned: int) -> Function:
    config = {"FunctionName": name, "Version": "$LATEST", "RevisionId": "r"}
    function = Function(name, Version(config, None))
    function.reserved_concurrency = reserved
    function.provisioned = {
        q: {"RequestedProvisionedConcurrentExecutions": n} for q, n in provisioned.items()
    }
    return function


class RunningTests(SynchronousTestCase):
    def test_reserved(self) -> None:
        running = Running()
        f = _function("f", 1)
        done = running.start(SCOPE, f, [f])
        with self.assertRaises(ServiceError) as raised:
            running.start(SCOPE, f, [f])
        self.assertEqual(
            (raised.exception.status, raised.exception.fields),
            (429, {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User"}),
        )
        done()
        running.start(SCOPE, f, [f])

    def test_other_scopes_and_functions_count_apart(self) -> None:
        running = Running()
        f, g = _function("f", 1), _function("g", 1)
        running.start(SCOPE, f, [f, g])
        running.start(SCOPE, g, [f, g])
        running.start(("111111111111", "us-east-1"), f, [f])

    def test_unreserved_functions_share_what_reservations_leave(self) -> None:
        running = Running()
        big, f, g = _function("big", 998), _function("f"), _function("g")
        everything = [big, f, g]
        running.start(SCOPE, f, everything)
        running.start(SCOPE, g, everything)
        with self.assertRaises(ServiceError) as raised:
            running.start(SCOPE, f, everything)
        self.assertEqual(raised.exception.fields["Reason"], "ConcurrentInvocationLimitExceeded")

    def test_unreserved(self) -> None:
        functions = [_function("a", 10, **{"1": 5}), _function("b", None, **{"1": 7, "2": 3})]
        self.assertEqual(unreserved(functions), 1000 - 10 - 10)
