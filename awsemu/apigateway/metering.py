"""
API keys at call time: a method with ``apiKeyRequired`` serves only a
call whose key (``x-api-key``, or the authorizer's ``usageIdentifierKey``
when the API's ``apiKeySource`` is ``AUTHORIZER``) is enabled and held by
a usage plan that covers the stage; then the plan's limits apply, as in
AWS: a token bucket (``rateLimit`` tokens a second, at most
``burstLimit``; a method's own throttle in the plan's API stage first)
answers 429 ``Too Many Requests``, and the quota (``limit`` calls a
``DAY``/``WEEK``/``MONTH``, the period starting ``offset`` days late)
429 ``Limit Exceeded``. A stage's own throttle (``methodSettings``)
applies to every call, key or not.

Counters live in memory, as throttling state does in AWS's front ends.
"""

from __future__ import annotations

import time
from typing import Final

import attrs

from awsemu.apigateway.errors import CallFailed
from awsemu.apigateway.store import DeployedStage, Record

ACCOUNT_RATE_LIMIT: Final = 10000.0
ACCOUNT_BURST_LIMIT: Final = 5000
"""An account's default throttle in a region (requests a second, burst)."""
_DAY: Final = 86400
_FIRST_SUNDAY: Final = 3
"""1970-01-04, the first Sunday since the epoch: with offset 0, AWS's weeks start on Sunday."""


@attrs.frozen
class UsedKey:
    """The key a call used, as ``requestContext.identity`` reports it."""

    id: str
    value: str


def quota_window(quota: Record, now: float) -> int:
    """Which quota period ``now`` falls in (a number that changes when a new period starts)."""
    offset = int(quota.get("offset", 0))
    day = int(now // _DAY) - offset
    if quota["period"] == "DAY":
        return day
    if quota["period"] == "WEEK":
        return (day - _FIRST_SUNDAY) // 7
    moment = time.gmtime(day * _DAY)
    return moment.tm_year * 12 + moment.tm_mon


def day_of(moment: float) -> str:
    """The UTC day of ``moment``, as GetUsage names days."""
    return time.strftime("%Y-%m-%d", time.gmtime(moment))


@attrs.define
class _Bucket:
    tokens: float
    updated: float


@attrs.define
class Meter:
    """The data plane's key checks and counters (see the module docstring)."""

    _buckets: dict[tuple[str, str, str], _Bucket] = attrs.field(factory=dict)
    _used: dict[tuple[str, str], tuple[int, int]] = attrs.field(factory=dict)

    def check(
        self, deployed: DeployedStage, method_key: str, value: str | None, now: float
    ) -> UsedKey:
        """
        The key with ``value`` if it may make this call, counted; raises
        ``CallFailed``. ``method_key`` is ``/resource/path/METHOD``, as a
        plan's per-method throttles name methods.
        """
        plans = deployed.plans
        keys = [
            key
            for key in plans["apiKeys"].values()
            if value and key["value"] == value and key.get("enabled")
        ]
        api_id, stage_name = deployed.api["id"], deployed.stage["stageName"]
        for key in keys:
            for plan_id, held in plans["planKeys"].items():
                plan = plans["usagePlans"].get(plan_id)
                if plan is None or key["id"] not in held:
                    continue
                for stage in plan.get("apiStages", []):
                    if (stage.get("apiId"), stage.get("stage")) == (api_id, stage_name):
                        throttle = (stage.get("throttle") or {}).get(method_key)
                        self._limit(deployed, plan, key["id"], throttle, method_key, now)
                        return UsedKey(key["id"], key["value"])
        raise CallFailed("invalid_api_key")

    def check_stage(
        self, deployed: DeployedStage, resource_path: str, http_method: str, now: float
    ) -> None:
        """
        The stage's own throttle, for every call: the method's
        ``methodSettings`` (``pets/GET``) or the stage's (``*/*``); a limit
        left out is the account's (10,000 a second, bursts of 5,000), a
        negative one none. Raises ``CallFailed`` when exceeded.
        """
        settings = deployed.stage.get("methodSettings") or {}
        key = f"{resource_path.lstrip('/')}/{http_method}"
        method = settings.get(key) or settings.get("*/*") or {}
        if "throttlingRateLimit" not in method and "throttlingBurstLimit" not in method:
            return
        rate = method.get("throttlingRateLimit", ACCOUNT_RATE_LIMIT)
        burst = method.get("throttlingBurstLimit", ACCOUNT_BURST_LIMIT)
        if rate < 0 or burst < 0:
            return
        scope = (f"stage:{deployed.api['id']}", deployed.stage["stageName"], key)
        if not self._take({"rateLimit": rate, "burstLimit": burst}, scope, now):
            raise CallFailed("throttled")

    def _limit(
        self,
        deployed: DeployedStage,
        plan: Record,
        key_id: str,
        method_throttle: Record | None,
        method_key: str,
        now: float,
    ) -> None:
        """Apply the plan's limits to a call with its key, and count it (GetUsage)."""
        for throttle, scope in ((method_throttle, method_key), (plan.get("throttle"), "")):
            if throttle and not self._take(throttle, (plan["id"], key_id, scope), now):
                raise CallFailed("throttled")
        quota = plan.get("quota")
        if quota:
            window = quota_window(quota, now)
            used_window, used = self._used.get((plan["id"], key_id), (window, 0))
            if used_window != window:
                used = 0
            if used >= quota["limit"]:
                raise CallFailed("quota_exceeded")
            self._used[plan["id"], key_id] = (window, used + 1)
        days = deployed.usage.setdefault(plan["id"], {}).setdefault(key_id, {})
        day = day_of(now)
        days[day] = days.get(day, 0) + 1

    def _take(self, throttle: Record, scope: tuple[str, str, str], now: float) -> bool:
        """Take a token from the scope's bucket; False when it is empty."""
        burst = float(throttle.get("burstLimit", 0))
        rate = float(throttle.get("rateLimit", 0))
        bucket = self._buckets.get(scope)
        if bucket is None:
            bucket = self._buckets[scope] = _Bucket(burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True
