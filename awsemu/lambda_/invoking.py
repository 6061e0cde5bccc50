"""
Invoking functions: ``Invoke`` (synchronous, ``Event`` and ``DryRun``) and
the invocations of event source mappings and function URLs, handed to the
``Invoker`` that runs execution environments.
"""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Callable
from typing import Protocol

from twisted.internet.defer import Deferred, fail

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.lambda_.common import Params, ProviderBase, scope_of
from awsemu.lambda_.functions import (
    Document,
    Function,
    Scope,
    Version,
    function_arn,
)
from awsemu.lambda_.invocations import (
    MAX_EVENT_PAYLOAD,
    MAX_PAYLOAD,
    EventQueue,
    Invocation,
    Outcome,
)


class Invoker(Protocol):
    """Runs invocations of stored function versions in execution environments."""

    def invoke(
        self, scope: Scope, function: Function, version: Version, invocation: Invocation
    ) -> Deferred[Outcome]: ...

    def busy(self, scope: Scope, name: str) -> int:
        """How many environments of the function are running an invocation."""

    def retire(self, scope: Scope, name: str, version: str | None) -> None:
        """Stop the environments of a version (all versions: None) once they are free."""


class Invoking(ProviderBase):
    """``Invoke``, and invocations for event source mappings and function URLs."""

    invoker: Invoker
    events: EventQueue

    async def invoke(self, context: RequestContext, params: Params) -> Document:
        scope = scope_of(context)
        function, version = self._version(context, params)
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
        tail = params.get("LogType") == "Tail"
        run = self._runner(scope, function, version, qualifier, payload, client_context, tail)
        if kind == "Event":
            self.events.submit(run, function.event_configs.get(qualifier or "", {}))
            return {"StatusCode": 202}
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

    def deliver(self, scope: Scope, arn: str, payload: bytes) -> Deferred[Outcome]:
        """Invoke the function (or version, or alias) ``arn`` for an event source mapping."""

        async def run() -> Outcome:
            function, version = self._version_in(scope, {"FunctionName": arn})
            _, qualifier = self._reference({"FunctionName": arn})
            return await self._runner(scope, function, version, qualifier, payload)()

        return Deferred.fromCoroutine(run())

    def _runner(
        self,
        scope: Scope,
        function: Function,
        version: Version,
        qualifier: str | None,
        payload: bytes,
        client_context: str | None = None,
        tail: bool = False,
    ) -> Callable[[], Deferred[Outcome]]:
        """
        How to run one invocation (``Event`` invocations run it again on
        retries, with the same request id, as AWS does); throttled first
        when the function's reserved concurrency is used up.
        """
        reserved = function.reserved_concurrency
        if reserved is not None and self.invoker.busy(scope, function.name) >= reserved:
            raise errors.throttled()
        request_id = self.new_id()
        arn = function_arn(scope, function.name, qualifier)
        timeout = int(version.config["Timeout"])

        def run() -> Deferred[Outcome]:
            current = self.store.functions.get(scope, {}).get(function.name)
            if current is not function or all(v is not version for v in function.all_versions()):
                # Deleted while the invocation waited (an event's retry):
                # its package may be gone with it.
                return fail(errors.function_not_found(arn))
            now = self.clock.seconds()
            invocation = Invocation(
                request_id=request_id,
                payload=payload,
                function_arn=arn,
                deadline_ms=int((now + timeout) * 1000),
                trace_id=_trace_id(now, request_id),
                client_context=client_context,
                tail=tail,
            )
            return self.invoker.invoke(scope, function, version, invocation)

        return run


def _trace_id(now: float, request_id: str) -> str:
    """An X-Ray trace header as Lambda passes it: root id from the time and the request id."""
    root = f"1-{int(now):08x}-{request_id.replace('-', '')[:24]}"
    return f"Root={root};Parent={request_id[-16:]};Sampled=0"
