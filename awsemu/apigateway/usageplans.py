"""
Usage plans and API keys (per account and region, as in AWS): the plans
with the API stages they cover and their throttle and quota limits, the
keys, and which keys each plan holds. The data plane checks a call's
``x-api-key`` against them (see ``awsemu.apigateway.metering``).
"""

from __future__ import annotations

import calendar
import datetime
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any, Final

from awsemu.apigateway.api import given
from awsemu.apigateway.base import Operations, Output, page
from awsemu.apigateway.errors import bad_request, conflict, invalid_identifier, not_found
from awsemu.apigateway.metering import quota_window
from awsemu.apigateway.store import Plans, Record
from awsemu.gateway.context import RequestContext
from awsemu.gateway.services import Params
from awsemu.protocol.errors import ServiceError
from awsemu.state.ids import short_id
from awsemu.state.jsonfile import saving

PLAN_FIELDS: Final = ("name", "description", "apiStages", "throttle", "quota", "tags")
KEY_FIELDS: Final = ("name", "description", "enabled", "customerId", "tags")
PLAN_PATCHABLE: Final = frozenset({"name", "description", "productCode", "throttle", "quota"})
KEY_PATCHABLE: Final = frozenset({"name", "description", "enabled", "customerId"})
QUOTA_PERIODS: Final = frozenset({"DAY", "WEEK", "MONTH"})
_KEY_ALPHABET: Final = string.ascii_letters + string.digits
KEY_LENGTH: Final = 40
"""Generated API key values are 40 letters and digits, as AWS's are."""
MIN_KEY_LENGTH: Final = 20
MAX_KEY_LENGTH: Final = 128
MAX_NAME_LENGTH: Final = 1024
"""Imported keys' limits, from AWS's "API Gateway API key file format"."""


def _key_value(random: Any) -> str:
    return "".join(_KEY_ALPHABET[byte % len(_KEY_ALPHABET)] for byte in random(KEY_LENGTH))


_CSV_FIELD: Final = re.compile(r"""\s*(?:"((?:[^"]|"")*)"|'((?:[^']|'')*)'|([^,]*))\s*(,|$)""")
"""A field of an API key file: double-quoted, single-quoted (as AWS allows), or bare."""


def _csv_rows(text: str) -> list[list[str]]:
    """The non-blank rows of an API key file, each the values of its fields."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        row, position = [], 0
        while True:
            found = _CSV_FIELD.match(line, position)
            assert found is not None  # the bare alternative matches anything up to a comma
            double, single, bare, end = found.groups()
            if double is not None:
                row.append(double.replace('""', '"'))
            elif single is not None:
                row.append(single.replace("''", "'"))
            else:
                row.append(bare)
            position = found.end()
            if not end:
                break
        rows.append(row)
    return rows


def _stage_key(value: str) -> tuple[str, str]:
    """``restApiId/stageName`` (stage keys) or ``restApiId:stageName`` (plan patch values)."""
    for separator in ("/", ":"):
        api_id, found, stage = value.partition(separator)
        if found and api_id and stage:
            return api_id, stage
    raise bad_request(f"Invalid API stage specified: {value}")


def _check_limits(plan: Record) -> None:
    """AWS's checks of a plan's throttle and quota."""
    quota = plan.get("quota")
    if quota is not None:
        if quota.get("period") not in QUOTA_PERIODS:
            raise bad_request("Invalid quota period specified: must be one of DAY, WEEK, MONTH")
        if quota.get("limit", 0) <= 0:
            raise bad_request("Quota limit should be greater than 0")
        offset = quota.get("offset", 0)
        largest = {"DAY": 0, "WEEK": 6, "MONTH": 27}[quota["period"]]
        if not 0 <= offset <= largest:
            raise bad_request(f"Invalid quota offset specified for period {quota['period']}")
    throttle = plan.get("throttle")
    if throttle is not None and (
        throttle.get("burstLimit", 0) < 0 or throttle.get("rateLimit", 0) < 0
    ):
        raise bad_request("Throttle limits must not be negative")


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise bad_request(f"Invalid date specified: {text}. Dates are yyyy-MM-dd") from None


def _daily_log(
    quota: Record | None, days: Mapping[str, int], start: datetime.date, end: datetime.date
) -> list[list[int]]:
    """
    ``[used, remaining]`` for each day from ``start`` to ``end``:
    remaining is what the plan's quota left at that day's end (0 without a quota).
    """
    log = []
    day = start
    while day <= end:
        used = days.get(day.isoformat(), 0)
        remaining = 0
        if quota:
            moment = calendar.timegm(day.timetuple())
            window = quota_window(quota, moment)
            spent = sum(
                count
                for other, count in days.items()
                if other <= day.isoformat()
                and quota_window(quota, calendar.timegm(_date(other).timetuple())) == window
            )
            remaining = max(0, quota["limit"] - spent)
        log.append([used, remaining])
        day += datetime.timedelta(days=1)
    return log


class UsagePlanOperations(Operations):
    """The usage plan and API key operations of ``ApiGatewayProvider``."""

    def _plans(self, context: RequestContext) -> Plans:
        return self.store.regional_plans(context.account_id, context.region)

    def _check_stages(self, context: RequestContext, stages: Iterable[Record]) -> None:
        """Every API stage a plan names exists in the caller's account and region."""
        for stage in stages:
            api = self._api(context, {"restApiId": stage.get("apiId", "")})
            if stage.get("stage") not in api.state["stages"]:
                raise not_found(
                    f"Invalid stage identifier specified {stage.get('apiId')}:{stage.get('stage')}"
                )

    def _plan(self, context: RequestContext, plan_id: str) -> Record:
        try:
            return self._plans(context)["usagePlans"][plan_id]
        except KeyError:
            raise not_found(f"Invalid Usage Plan ID specified {plan_id}") from None

    def _key(self, context: RequestContext, key_id: str) -> Record:
        try:
            return self._plans(context)["apiKeys"][key_id]
        except KeyError:
            raise invalid_identifier("API Key") from None

    # Usage plans

    @saving
    async def create_usage_plan(self, context: RequestContext, params: Params) -> Output:
        fields = given(params, PLAN_FIELDS)
        if not fields.get("name"):
            raise bad_request("Usage Plan name must be non-empty")
        _check_limits(fields)
        self._check_stages(context, fields.get("apiStages", []))
        plans = self._plans(context)
        plan_id = short_id(self.random, plans["usagePlans"], length=6)
        plan: Record = {"id": plan_id, "apiStages": [], **fields}
        plans["usagePlans"][plan_id] = plan
        plans["planKeys"][plan_id] = []
        return plan

    async def get_usage_plan(self, context: RequestContext, params: Params) -> Output:
        return self._plan(context, params["usagePlanId"])

    async def get_usage_plans(self, context: RequestContext, params: Params) -> Output:
        plans = self._plans(context)
        key_id = params.get("keyId")
        if key_id is not None:
            self._key(context, key_id)
        found = [
            plan
            for plan_id, plan in plans["usagePlans"].items()
            if key_id is None or key_id in plans["planKeys"].get(plan_id, [])
        ]
        return page(found, params)

    @saving
    async def update_usage_plan(self, context: RequestContext, params: Params) -> Output:
        plan = self._plan(context, params["usagePlanId"])
        stage_operations = [
            op for op in params.get("patchOperations", []) if op.get("path", "") == "/apiStages"
        ]
        others = [op for op in params.get("patchOperations", []) if op not in stage_operations]
        stages = [dict(stage) for stage in plan.get("apiStages", [])]
        for operation in stage_operations:
            api_id, stage_name = _stage_key(operation.get("value") or "")
            wanted = {"apiId": api_id, "stage": stage_name}
            present = [s for s in stages if (s["apiId"], s["stage"]) == (api_id, stage_name)]
            if operation.get("op") == "add":
                self._check_stages(context, [wanted])
                if not present:
                    stages.append(wanted)
            elif operation.get("op") == "remove":
                if not present:
                    raise not_found(
                        f"Invalid API stage specified: {api_id}:{stage_name} is not in the plan"
                    )
                stages.remove(present[0])
            else:
                raise bad_request(f"Invalid patch operation specified: {operation.get('op')}")
        self._patch(plan, "UsagePlan", {"patchOperations": others}, PLAN_PATCHABLE, _check_limits)
        plan["apiStages"] = stages
        return plan

    @saving
    async def delete_usage_plan(self, context: RequestContext, params: Params) -> Output:
        plan_id = self._plan(context, params["usagePlanId"])["id"]
        plans = self._plans(context)
        del plans["usagePlans"][plan_id]
        plans["planKeys"].pop(plan_id, None)
        return {}

    async def get_usage(self, context: RequestContext, params: Params) -> Output:
        """Each key's calls counted against the plan, day by day, and the quota they left."""
        plan = self._plan(context, params["usagePlanId"])
        start, end = _date(params["startDate"]), _date(params["endDate"])
        if end < start:
            raise bad_request("The end date must not be before the start date")
        if "keyId" in params:
            key_ids = [self._key(context, params["keyId"])["id"]]
        else:
            key_ids = self._plans(context)["planKeys"].get(plan["id"], [])
        usage = self.store.usage(context.account_id, context.region).get(plan["id"], {})
        return {
            "usagePlanId": plan["id"],
            "startDate": params["startDate"],
            "endDate": params["endDate"],
            "items": {
                key_id: _daily_log(plan.get("quota"), usage.get(key_id, {}), start, end)
                for key_id in key_ids
            },
        }

    # Keys of a usage plan

    def _plan_key_output(self, key: Record) -> Record:
        return {"id": key["id"], "type": "API_KEY", "value": key["value"], "name": key.get("name")}

    @saving
    async def create_usage_plan_key(self, context: RequestContext, params: Params) -> Output:
        plan_id = self._plan(context, params["usagePlanId"])["id"]
        if params.get("keyType") != "API_KEY":
            raise bad_request(f"Invalid key type specified: {params.get('keyType')}")
        key = self._key(context, params["keyId"])
        self._hold(context, plan_id, key)
        return self._plan_key_output(key)

    def _hold(self, context: RequestContext, plan_id: str, key: Record) -> None:
        """Add ``key`` to the plan ``plan_id`` (which exists), or raise AWS's conflict."""
        plans = self._plans(context)
        held = plans["planKeys"].setdefault(plan_id, [])
        if key["id"] in held:
            raise conflict(f"Usage Plan {plan_id} already contains API Key {key['id']}")
        stages = {(s["apiId"], s["stage"]) for s in plans["usagePlans"][plan_id]["apiStages"]}
        for other_id, keys in plans["planKeys"].items():
            if key["id"] not in keys:
                continue
            for stage in plans["usagePlans"][other_id]["apiStages"]:
                if (stage["apiId"], stage["stage"]) in stages:
                    raise conflict(
                        f"Usage Plan {plan_id} cannot be added because API Key {key['id']} "
                        "cannot reference multiple Usage Plans with the same API Stage: "
                        f"{stage['apiId']}:{stage['stage']}"
                    )
        held.append(key["id"])

    def _plan_key(self, context: RequestContext, params: Params) -> Record:
        plan_id = self._plan(context, params["usagePlanId"])["id"]
        key_id = params["keyId"]
        if key_id not in self._plans(context)["planKeys"].get(plan_id, []):
            raise invalid_identifier("Usage Plan Key")
        return self._key(context, key_id)

    async def get_usage_plan_key(self, context: RequestContext, params: Params) -> Output:
        return self._plan_key_output(self._plan_key(context, params))

    async def get_usage_plan_keys(self, context: RequestContext, params: Params) -> Output:
        plan_id = self._plan(context, params["usagePlanId"])["id"]
        plans = self._plans(context)
        prefix = params.get("nameQuery") or ""
        keys = [plans["apiKeys"][key_id] for key_id in plans["planKeys"].get(plan_id, [])]
        return page(
            [self._plan_key_output(k) for k in keys if k.get("name", "").startswith(prefix)],
            params,
        )

    @saving
    async def delete_usage_plan_key(self, context: RequestContext, params: Params) -> Output:
        key = self._plan_key(context, params)
        self._plans(context)["planKeys"][params["usagePlanId"]].remove(key["id"])
        return {}

    # API keys

    @saving
    async def create_api_key(self, context: RequestContext, params: Params) -> Output:
        value = params.get("value") or _key_value(self.random)
        if len(value) < MIN_KEY_LENGTH:
            raise bad_request("API Key value should be at least 20 characters")
        plans = self._plans(context)
        stage_keys = []
        for stage_key in params.get("stageKeys", []):
            api_id, stage_name = stage_key.get("restApiId", ""), stage_key.get("stageName", "")
            self._check_stages(context, [{"apiId": api_id, "stage": stage_name}])
            stage_keys.append(f"{api_id}/{stage_name}")
        key: Record = {
            "id": short_id(self.random, plans["apiKeys"]),
            "value": value,
            "enabled": False,
            "createdDate": context.started,
            "lastUpdatedDate": context.started,
            "stageKeys": stage_keys,
            **given(params, KEY_FIELDS),
        }
        plans["apiKeys"][key["id"]] = key
        return key

    @saving
    async def import_api_keys(self, context: RequestContext, params: Params) -> Output:
        """
        Keys from a CSV file, as AWS's "API Gateway API key file format"
        describes it: a header row naming ``Key`` and ``Name`` (and maybe
        ``Description``, ``Enabled``, ``UsagePlanIds``) in any case and
        order, other columns ignored; a key value imported again updates
        the key that has it. A row AWS would refuse is a warning, or the
        call's error with ``failOnWarnings``.
        """
        if params.get("format") != "csv":
            raise bad_request(f"Invalid format specified: {params.get('format')}")
        body: bytes = params.get("body") or b""
        rows = _csv_rows(body.decode("utf-8", "replace"))
        if not rows:
            raise bad_request("The API key file is empty")
        columns = [name.strip().lower() for name in rows[0]]
        missing = [name for name in ("key", "name") if name not in columns]
        if missing:
            raise bad_request(f"The API key file has no {' or '.join(missing)} column")
        ids, warnings = [], []
        for number, row in enumerate(rows[1:], start=2):
            fields = dict(zip(columns, row, strict=False))
            try:
                ids.append(self._import_key(context, fields))
            except ServiceError as e:
                if params.get("failOnWarnings"):
                    raise bad_request(f"Line {number}: {e.message}") from None
                warnings.append(f"Line {number}: {e.message}")
        return {"ids": ids, "warnings": warnings}

    def _import_key(self, context: RequestContext, fields: Mapping[str, str]) -> str:
        """The id of the key one row of an API key file creates or updates."""
        value, name = fields.get("key", ""), fields.get("name", "")
        if not MIN_KEY_LENGTH <= len(value) <= MAX_KEY_LENGTH:
            raise bad_request("API Key value should be between 20 and 128 characters")
        if len(name) > MAX_NAME_LENGTH:
            raise bad_request("API Key name should be at most 1024 characters")
        enabled = fields.get("enabled", "").strip().lower()
        if enabled not in ("", "true", "false"):
            raise bad_request(f"Invalid enabled value: {fields['enabled']}")
        plan_ids = [plan.strip() for plan in fields.get("usageplanids", "").split(",")]
        plans = [self._plan(context, plan_id)["id"] for plan_id in plan_ids if plan_id]
        stored = self._plans(context)["apiKeys"]
        key = next((key for key in stored.values() if key["value"] == value), None)
        if key is None:
            key = {
                "id": short_id(self.random, stored),
                "value": value,
                "createdDate": context.started,
                "stageKeys": [],
            }
        plan_keys = self._plans(context)["planKeys"]
        added: list[str] = []
        try:
            for plan_id in plans:
                if key["id"] not in plan_keys.get(plan_id, []):
                    self._hold(context, plan_id, key)
                    added.append(plan_id)
        except ServiceError:
            # A refused row changes nothing: the plans it was added to so far let it go.
            for plan_id in added:
                plan_keys[plan_id].remove(key["id"])
            raise
        stored[key["id"]] = key
        key.update(
            name=name,
            description=fields.get("description", ""),
            enabled=enabled != "false",
            lastUpdatedDate=context.started,
        )
        return str(key["id"])

    def _key_output(self, key: Record, include_value: bool) -> Record:
        if include_value:
            return key
        return {name: value for name, value in key.items() if name != "value"}

    async def get_api_key(self, context: RequestContext, params: Params) -> Output:
        key = self._key(context, params["apiKey"])
        return self._key_output(key, params.get("includeValue", False))

    async def get_api_keys(self, context: RequestContext, params: Params) -> Output:
        prefix = params.get("nameQuery") or ""
        customer = params.get("customerId")
        keys = [
            self._key_output(key, params.get("includeValues", False))
            for key in self._plans(context)["apiKeys"].values()
            if key.get("name", "").startswith(prefix) and customer in (None, key.get("customerId"))
        ]
        return page(keys, params)

    @saving
    async def update_api_key(self, context: RequestContext, params: Params) -> Output:
        key = self._key(context, params["apiKey"])
        operations = params.get("patchOperations", [])
        stage_operations = [op for op in operations if op.get("path") == "/stageKeys"]
        stage_keys = list(key.get("stageKeys", []))
        for operation in stage_operations:
            api_id, stage_name = _stage_key(operation.get("value") or "")
            value = f"{api_id}/{stage_name}"
            if operation.get("op") == "add":
                self._check_stages(context, [{"apiId": api_id, "stage": stage_name}])
                if value not in stage_keys:
                    stage_keys.append(value)
            elif operation.get("op") == "remove" and value in stage_keys:
                stage_keys.remove(value)
        others = {"patchOperations": [op for op in operations if op not in stage_operations]}
        self._patch(key, "ApiKey", others, KEY_PATCHABLE, lambda patched: None)
        key["stageKeys"] = stage_keys
        key["lastUpdatedDate"] = context.started
        return self._key_output(key, False)

    @saving
    async def delete_api_key(self, context: RequestContext, params: Params) -> Output:
        key_id = self._key(context, params["apiKey"])["id"]
        plans = self._plans(context)
        del plans["apiKeys"][key_id]
        for held in plans["planKeys"].values():
            if key_id in held:
                held.remove(key_id)
        return {}
