"""
Invoking functions: ``Invoke`` (synchronous, ``Event`` and ``DryRun``) and
the invocations of event source mappings and function URLs, handed to the
``Invoker`` that runs execution environments. An ``Event`` invocation's
record goes to its ``OnSuccess``/``OnFailure`` destination when that is
another function (other destinations are services awsemu does not serve).
"""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Callable
from typing import Protocol

import attrs
from twisted.internet.defer import Deferred, fail
from twisted.logger import Logger
from twisted.python.failure import Failure

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.lambda_.common import FUNCTION_REFERENCE, Params, ProviderBase
from awsemu.lambda_.concurrency import Running
from awsemu.lambda_.functions import LATEST, Document, Function, Scope, Version, function_arn
from awsemu.lambda_.invocations import (
    MAX_EVENT_PAYLOAD,
    MAX_PAYLOAD,
    EventQueue,
    Invocation,
    Outcome,
    destination_record,
)
from awsemu.protocol.errors import ServiceError


class Invoker(Protocol):
    """Runs invocations of stored function versions in execution environments."""

    def invoke(
        self, scope: Scope, function: Function, version: Version, invocation: Invocation
    ) -> Deferred[Outcome]: ...

    def retire(self, scope: Scope, name: str, version: str | None) -> None:
        """Stop the environments of a version (all versions: None) once they are free."""


@attrs.frozen
class Call:
    """One invocation to run: a function's version, as the caller qualified it, and its payload."""

    scope: Scope
    function: Function
    version: Version
    qualifier: str | None
    payload: bytes


class Invoking(ProviderBase):
    """``Invoke``, and invocations for event source mappings and function URLs."""

    invoker: Invoker
    events: EventQueue
    running: Running
    _log: Logger = Logger()

    async def invoke(self, context: RequestContext, params: Params) -> Document:
        scope, function, version = self._shared_version(context, params)
        _, qualifier = self._reference(params)
        kind = params.get("InvocationType") or "RequestResponse"
        payload: bytes = params.get("Payload") or b"{}"
        if kind == "Event":
            if len(payload) > MAX_EVENT_PAYLOAD:
                raise errors.too_large(MAX_EVENT_PAYLOAD, "InvokeAsync")
        elif len(payload) > MAX_PAYLOAD:
            raise errors.too_large(MAX_PAYLOAD, "InvokeFunction")
        if kind == "DryRun":
            return {"StatusCode": 204}
        client_context = params.get("ClientContext")
        if client_context is not None:
            try:
                client_context = b64decode(client_context, validate=True).decode("utf-8")
            except ValueError as e:
                raise errors.invalid(
                    "Client context must be a valid Base64-encoded JSON object."
                ) from e
        call = Call(scope, function, version, qualifier, payload)
        if kind == "Event":
            self._enqueue(call)
            return {"StatusCode": 202}
        tail = params.get("LogType") == "Tail"
        run = self._runner(call, client_context, tail)
        outcome = await run()
        output: Document = {
            "StatusCode": 200,
            "Payload": outcome.payload,
            "ExecutedVersion": version.number,
        }
        if outcome.function_error is not None:
            output["FunctionError"] = outcome.function_error
        if tail:
            output["LogResult"] = outcome.tail
        return output

    def _enqueue(self, call: Call) -> None:
        """
        Queue an ``Event`` invocation, whose record goes to the destination
        its event invoke config names for how it ended.
        """
        request_id = self.new_id()
        run = self._runner(call, request_id=request_id)
        settings = call.function.event_configs.get(call.qualifier or "", {})
        arn = function_arn(call.scope, call.function.name, call.qualifier or LATEST)

        def finished(outcome: Outcome | None, count: int, condition: str) -> None:
            destinations = settings.get("DestinationConfig") or {}
            chosen = destinations.get("OnSuccess" if condition == "Success" else "OnFailure")
            target = (chosen or {}).get("Destination")
            if target is None:
                return
            record = destination_record(
                request_id,
                arn,
                call.version.number,
                call.payload,
                outcome,
                count,
                condition,
                self.clock.seconds(),
            )
            self._send_to_destination(call.scope, target, record)

        self.events.submit(run, settings, finished)

    def _send_to_destination(self, scope: Scope, target: str, record: bytes) -> None:
        """An invocation record to a destination: another function, invoked as an event."""
        found = FUNCTION_REFERENCE.fullmatch(target)
        if not target.startswith("arn:aws:lambda:") or found is None:
            self._log.warn("awsemu does not deliver to the destination {target}", target=target)
            return
        try:
            function, version = self._version_in(scope, {"FunctionName": target})
            self._enqueue(Call(scope, function, version, found.group("qualifier"), record))
        except ServiceError as e:
            self._log.warn("destination {target} not invoked: {e}", target=target, e=e)

    def deliver(self, scope: Scope, arn: str, payload: bytes) -> Deferred[Outcome]:
        """Invoke the function (or version, or alias) ``arn`` for an event source mapping."""

        async def run() -> Outcome:
            function, version = self._version_in(scope, {"FunctionName": arn})
            _, qualifier = self._reference({"FunctionName": arn})
            return await self._runner(Call(scope, function, version, qualifier, payload))()

        return Deferred.fromCoroutine(run())

    def _runner(
        self,
        call: Call,
        client_context: str | None = None,
        tail: bool = False,
        request_id: str | None = None,
    ) -> Callable[[], Deferred[Outcome]]:
        """
        How to run one invocation (``Event`` invocations run it again on
        retries, with the same request id, as AWS does); throttled when
        the function's concurrency is used up (``Running``).
        """
        scope, function, version = call.scope, call.function, call.version
        request_id = request_id or self.new_id()
        arn = function_arn(scope, function.name, call.qualifier)
        timeout = int(version.config["Timeout"])

        def run() -> Deferred[Outcome]:
            current = self.store.functions.get(scope, {}).get(function.name)
            if current is not function or all(v is not version for v in function.all_versions()):
                # Deleted while the invocation waited (an event's retry):
                # its package may be gone with it.
                return fail(errors.function_not_found(arn))
            try:
                done = self.running.start(
                    scope, function, list(self.store.in_scope(scope).values())
                )
            except ServiceError as e:
                return fail(e)
            now = self.clock.seconds()
            invocation = Invocation(
                request_id=request_id,
                payload=call.payload,
                function_arn=arn,
                deadline_ms=int((now + timeout) * 1000),
                trace_id=_trace_id(now, request_id),
                client_context=client_context,
                tail=tail,
            )
            invoked = self.invoker.invoke(scope, function, version, invocation)
            invoked.addBoth(_after, done)
            return invoked

        return run


def _after(result: Outcome | Failure, done: Callable[[], None]) -> Outcome | Failure:
    done()
    return result


def _trace_id(now: float, request_id: str) -> str:
    """An X-Ray trace header as Lambda passes it: root id from the time and the request id."""
    root = f"1-{int(now):08x}-{request_id.replace('-', '')[:24]}"
    return f"Root={root};Parent={request_id[-16:]};Sampled=0"
