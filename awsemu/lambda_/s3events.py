"""
Lambda as the destination of S3 event notifications (the ``Functions``
that ``awsemu.s3.notifications`` asks for): whether a function's
resource-based policy lets S3 invoke it, and the ``Event`` invocations
that deliver records, both through Lambda's API (``GetPolicy``,
``Invoke``) as S3 itself would call it, so records queue and retry as any
asynchronous invocation does.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any, Final

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from awsemu.gateway.context import RequestContext, internal_context
from awsemu.protocol.errors import ServiceError

S3_PRINCIPAL: Final = "s3.amazonaws.com"
_ACTIONS: Final = frozenset({"lambda:InvokeFunction", "lambda:*", "*"})


def _listed(value: object) -> list[str]:
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _condition_holds(condition: object, bucket_arn: str, bucket_owner: str) -> bool:
    """
    Whether a statement's ``Condition`` holds for S3 notifying from the
    bucket: the keys ``AddPermission`` writes, ``AWS:SourceArn`` (ArnLike,
    ArnEquals, String*) and ``AWS:SourceAccount``; any other key does not
    hold, as nothing S3 sends could satisfy it.
    """
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return False
    facts = {"aws:sourcearn": bucket_arn, "aws:sourceaccount": bucket_owner}
    for operator, block in condition.items():
        if not isinstance(block, dict):
            return False
        for key, values in block.items():
            fact = facts.get(str(key).lower())
            if fact is None:
                return False
            if operator in ("ArnLike", "StringLike"):
                held = any(fnmatch.fnmatchcase(fact, value) for value in _listed(values))
            elif operator in ("ArnEquals", "StringEquals"):
                held = fact in _listed(values)
            else:
                return False
            if not held:
                return False
    return True


def allows_s3(statements: list[Any], bucket_arn: str, bucket_owner: str) -> bool:
    """Whether a function policy's ``statements`` let S3 invoke it for the bucket."""
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if not _ACTIONS & set(_listed(statement.get("Action"))):
            continue
        principal = statement.get("Principal")
        named = (
            _listed(principal.get("Service")) + _listed(principal.get("AWS"))
            if isinstance(principal, dict)
            else _listed(principal)
        )
        if not {S3_PRINCIPAL, "*"} & set(named):
            continue
        if _condition_holds(statement.get("Condition"), bucket_arn, bucket_owner):
            return True
    return False


@attrs.frozen
class S3Notifications:
    """The ``Functions`` of S3's notifier over an ``awsemu.lambda_.provider.LambdaProvider``."""

    provider: Any
    clock: IReactorTime
    _log: Logger = attrs.field(factory=Logger, init=False)

    def _context(self, arn: str) -> RequestContext:
        """A call in the function's own account and region, as S3 makes it."""
        region, account = arn.split(":")[3:5]
        return internal_context(
            self.provider.new_id(), account, region, "lambda", self.clock.seconds()
        )

    async def allows_s3(self, arn: str, bucket_arn: str, bucket_owner: str) -> bool:
        try:
            output = await self.provider.get_policy(self._context(arn), {"FunctionName": arn})
        except ServiceError:
            return False
        statements: list[Any] = json.loads(output["Policy"])["Statement"]
        return allows_s3(statements, bucket_arn, bucket_owner)

    def send(self, arn: str, payload: bytes) -> None:
        params = {"FunctionName": arn, "InvocationType": "Event", "Payload": payload}
        invoked: Deferred[Any] = Deferred.fromCoroutine(
            self.provider.invoke(self._context(arn), params)
        )

        def dropped(reason: Failure) -> None:
            if reason.check(ServiceError):
                self._log.warn(
                    "S3 event for {arn} not delivered: {error}", arn=arn, error=reason.value
                )
            else:
                self._log.failure("S3 event for {arn} not delivered", reason, arn=arn)

        invoked.addErrback(dropped)
