"""
One invocation's data and outcome, the error documents Lambda itself
produces (timeouts, crashes, oversize responses), the log lines it writes
around each invocation, and the queue behind ``Event`` invokes.
"""

from __future__ import annotations

import json
import math
from base64 import b64encode
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from awsemu.protocol.errors import ServiceError

MAX_PAYLOAD: Final = 6 * 1024 * 1024
"""Lambda's limit on a synchronous request and on a function's response."""
MAX_EVENT_PAYLOAD: Final = 256 * 1024
"""Lambda's limit on an ``Event`` invocation's payload."""
MAX_RESPONSE: Final = MAX_PAYLOAD + 100
"""What the Runtime API accepts from a runtime: AWS's own figure (6291556) in its error."""
TAIL_BYTES: Final = 4096

UNHANDLED: Final = "Unhandled"


@attrs.frozen
class Invocation:
    """
    An invocation as the Runtime API hands it to a runtime: the headers of
    ``/next`` come from these fields. ``tail`` says the caller wants the
    invocation's log (``LogType=Tail``), which is worth waiting a moment for.
    """

    request_id: str
    payload: bytes
    function_arn: str
    deadline_ms: int
    trace_id: str
    client_context: str | None = None
    cognito_identity: str | None = None
    tail: bool = False


@attrs.frozen
class Outcome:
    """
    What an invocation gave: the response payload, ``Unhandled`` when it is
    an error document, and the invocation's log (platform lines included).
    """

    payload: bytes
    function_error: str | None = None
    log: str = ""

    @property
    def tail(self) -> str:
        """``X-Amz-Log-Result``: the base64 of the log's last 4 KB."""
        return b64encode(self.log.encode("utf-8")[-TAIL_BYTES:]).decode("ascii")


def error_document(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def timed_out(request_id: str, timeout: int) -> bytes:
    return json.dumps(
        {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after"
            f" {timeout:.2f} seconds",
        }
    ).encode()


def exited(request_id: str, status: str) -> bytes:
    return error_document(
        "Runtime.ExitError",
        f"RequestId: {request_id} Error: Runtime exited with error: {status}",
    )


def response_too_large() -> bytes:
    return error_document(
        "Function.ResponseSizeTooLarge",
        f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes).",
    )


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_lines(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    used_mb: int | None,
    init_ms: float | None,
    status: str,
) -> str:
    """
    ``END`` and ``REPORT``, laid out as Lambda writes them: tab-separated
    fields, each ending with a tab (``REPORT RequestId: <id>\tDuration: 2.35
    ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 38
    MB\tInit Duration: 120.51 ms\t``; AWS's "Using CloudWatch Logs with
    Lambda" / "Lambda function logs" pages). Billed Duration is the Duration
    as written (to the hundredth) rounded up to the millisecond (AWS's 1 ms
    billing granularity since December 2020), so the line never bills
    201 ms for a "Duration: 200.00 ms". ``used_mb`` is the environment's peak memory; a field
    whose figure could not be measured is left out rather than invented.
    """
    report = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {max(1, math.ceil(round(duration_ms, 2)))} ms",
        f"Memory Size: {memory_mb} MB",
    ]
    if used_mb is not None:
        report.append(f"Max Memory Used: {used_mb} MB")
    if init_ms is not None:
        report.append(f"Init Duration: {init_ms:.2f} ms")
    if status:
        report.append(f"Status: {status}")
    return f"END RequestId: {request_id}\n" + "\t".join(report) + "\t\n"


Invoke = Callable[[], Deferred[Outcome]]
Finished = Callable[[Outcome | None, int, str], None]
"""
Told how an event ended: its last outcome (None when every attempt was
throttled, so the function never ran), how many times it was attempted,
and AWS's condition: ``Success``, ``RetriesExhausted`` or ``EventAgeExceeded``.
"""


def destination_record(
    request_id: str,
    function_arn: str,
    executed_version: str,
    payload: bytes,
    outcome: Outcome | None,
    count: int,
    condition: str,
    now: float,
) -> bytes:
    """
    What an asynchronous invocation's destination receives, in AWS's shape
    (the "invocation record" of Lambda's destinations). An event that
    never ran (throttled until it expired) has no response payload, and
    Invoke's throttle status (429) as its response's status: awsemu's
    reading, as AWS documents no record of that case.
    """
    moment = datetime.fromtimestamp(now, UTC)
    status = 429 if outcome is None else 200
    response: dict[str, Any] = {"statusCode": status, "executedVersion": executed_version}
    if outcome is not None and outcome.function_error is not None:
        response["functionError"] = outcome.function_error
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": count,
        },
        "requestPayload": _json_or_text(payload),
        "responseContext": response,
    }
    if outcome is not None:
        record["responsePayload"] = _json_or_text(outcome.payload)
    return json.dumps(record).encode()


def _json_or_text(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")


THROTTLE_DELAY_LIMIT: Final = 300.0
"""The longest wait between two attempts of a throttled event (AWS's five minutes)."""


@attrs.define
class EventQueue:
    """
    ``Event`` invocations: accepted at once, run in the background, and on
    a function error retried up to ``MaximumRetryAttempts`` times (AWS's
    default: two) with a delay between attempts, unless the event has grown
    older than ``MaximumEventAgeInSeconds``. ``retry_delay`` is AWS's one
    minute by default; tests shorten it.

    A throttled attempt (the function's concurrency is used up) does not
    count as a retry: the event waits and runs again, as AWS's do, "for up
    to 6 hours. The retry interval increases exponentially from 1 second
    after the first attempt to a maximum of 5 minutes" (AWS's "How Lambda
    handles errors and retries with asynchronous invocation"), here up to
    the event's maximum age; an event throttled past it ends as
    ``EventAgeExceeded`` (its record goes to the ``OnFailure`` destination),
    each throttled attempt counted in ``approximateInvokeCount``.
    """

    clock: IReactorTime
    retry_delay: float = 60.0
    throttle_delay: float = 1.0
    _log: Logger = attrs.field(factory=Logger, init=False)
    _timers: set[IDelayedCall] = attrs.field(factory=set, init=False)

    def submit(
        self, invoke: Invoke, settings: Mapping[str, Any], finished: Finished | None = None
    ) -> None:
        """
        Run ``invoke`` now and retry it as ``settings`` (the event invoke
        config) say; ``finished`` is told how the event ended.
        """
        retries = settings.get("MaximumRetryAttempts", 2)
        max_age = settings.get("MaximumEventAgeInSeconds", 6 * 3600)
        self._attempt(invoke, retries, self.clock.seconds() + max_age, finished, 1, 0, None)

    def _later(self, delay: float, attempt: Callable[[], None]) -> None:
        timer: IDelayedCall

        def again() -> None:
            self._timers.discard(timer)
            attempt()

        timer = self.clock.callLater(delay, again)
        self._timers.add(timer)

    def _attempt(
        self,
        invoke: Invoke,
        retries: int,
        expires: float,
        finished: Finished | None,
        count: int,
        throttles: int,
        last: Outcome | None,
    ) -> None:
        """
        One attempt: the ``count``th, after ``throttles`` throttled ones
        since the last that ran, which gave ``last``.
        """
        attempt = invoke()

        def end(outcome: Outcome | None, condition: str) -> None:
            if finished is not None:
                finished(outcome, count, condition)

        def done(outcome: Outcome) -> None:
            if outcome.function_error is None:
                end(outcome, "Success")
                return
            if retries <= 0:
                end(outcome, "RetriesExhausted")
                return
            if self.clock.seconds() + self.retry_delay > expires:
                self._log.info("event dropped: older than its maximum age")
                end(outcome, "EventAgeExceeded")
                return
            self._later(
                self.retry_delay,
                lambda: self._attempt(
                    invoke, retries - 1, expires, finished, count + 1, 0, outcome
                ),
            )

        def failed(reason: Failure) -> None:
            error = reason.check(ServiceError) and reason.value
            if not isinstance(error, ServiceError):
                self._log.failure("event invocation failed", reason)
            elif error.code != "TooManyRequestsException":
                self._log.info("event dropped: {error}", error=error)
            else:
                delay = min(self.throttle_delay * 2**throttles, THROTTLE_DELAY_LIMIT)
                if self.clock.seconds() + delay > expires:
                    self._log.info("event dropped: throttled until past its maximum age")
                    end(last, "EventAgeExceeded")
                    return
                self._later(
                    delay,
                    lambda: self._attempt(
                        invoke, retries, expires, finished, count + 1, throttles + 1, last
                    ),
                )

        attempt.addCallbacks(done, failed)

    def stop(self) -> None:
        """Forget the retries not yet due: the daemon is stopping."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
