"""Usage plans and API keys: the control plane, then the keys and limits the data plane applies."""

from __future__ import annotations

from typing import Any

from awsemu.apigateway.metering import quota_window
from tests.test_apigateway import context
from tests.test_apigateway_dataplane import AUTHORIZER, DataPlaneCase

DAY = 86400.0


class PlanCase(DataPlaneCase):
    def setUp(self) -> None:
        super().setUp()
        self.named_method = self.method("pets", "GET", method={"apiKeyRequired": True})
        self.deploy()
        self.url = f"/restapis/{self.rest['id']}/dev/_user_request_/pets"
        self.functions.answer({"statusCode": 200, "body": "ok"})

    def plan(self, **fields: Any) -> dict[str, Any]:
        stages = [{"apiId": self.rest["id"], "stage": "dev"}]
        return self.call(
            self.provider.create_usage_plan(
                context(), {"name": "plan", "apiStages": stages, **fields}
            )
        )

    def key(self, plan: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
        key = self.call(self.provider.create_api_key(context(), {"enabled": True, **fields}))
        if plan is not None:
            self.call(
                self.provider.create_usage_plan_key(
                    context(), {"usagePlanId": plan["id"], "keyId": key["id"], "keyType": "API_KEY"}
                )
            )
        return key

    def status(self, key: str | None) -> int:
        headers = [] if key is None else [("x-api-key", key)]
        return self.answered("GET", self.url, headers=headers).status


class ControlPlaneTests(PlanCase):
    def test_usage_plans(self) -> None:
        """Create, list (also by key), patch and delete plans, with AWS's checks."""
        plan = self.plan(throttle={"rateLimit": 10.0, "burstLimit": 5})
        self.assertRegex(plan["id"], "^[a-z0-9]{6}$")
        self.assertEqual(self.call(self.provider.get_usage_plans(context(), {}))["items"], [plan])
        self.assertError(
            self.provider.create_usage_plan(
                context(), {"name": "p", "apiStages": [{"apiId": self.rest["id"], "stage": "x"}]}
            ),
            "NotFoundException",
            f"Invalid stage identifier specified {self.rest['id']}:x",
            404,
        )
        self.assertEqual(
            self.error(
                self.provider.create_usage_plan(
                    context(), {"name": "p", "quota": {"limit": 5, "period": "YEAR"}}
                )
            ).code,
            "BadRequestException",
        )
        patched = self.call(
            self.provider.update_usage_plan(
                context(),
                {
                    "usagePlanId": plan["id"],
                    "patchOperations": [
                        {"op": "replace", "path": "/throttle/rateLimit", "value": "2.5"},
                        {"op": "replace", "path": "/quota/limit", "value": "100"},
                        {"op": "replace", "path": "/quota/period", "value": "WEEK"},
                        {"op": "remove", "path": "/apiStages", "value": f"{self.rest['id']}:dev"},
                    ],
                },
            )
        )
        self.assertEqual(
            (patched["throttle"], patched["quota"], patched["apiStages"]),
            ({"rateLimit": 2.5, "burstLimit": 5}, {"limit": 100, "period": "WEEK"}, []),
        )
        key = self.key(plan)
        self.key(None)
        found = self.call(self.provider.get_usage_plans(context(), {"keyId": key["id"]}))
        self.assertEqual([p["id"] for p in found["items"]], [plan["id"]])
        for arn in (
            f"arn:aws:apigateway:us-east-1::/usageplans/{plan['id']}",
            f"arn:aws:apigateway:us-east-1::/apikeys/{key['id']}",
        ):
            self.call(
                self.provider.tag_resource(context(), {"resourceArn": arn, "tags": {"a": "1"}})
            )
            self.assertEqual(
                self.call(self.provider.get_tags(context(), {"resourceArn": arn})),
                {"tags": {"a": "1"}},
            )
        self.assertEqual(
            self.call(self.provider.get_usage_plan(context(), {"usagePlanId": plan["id"]}))["tags"],
            {"a": "1"},
        )
        self.call(self.provider.delete_usage_plan(context(), {"usagePlanId": plan["id"]}))
        self.assertError(
            self.provider.get_usage_plan(context(), {"usagePlanId": plan["id"]}),
            "NotFoundException",
            f"Invalid Usage Plan ID specified {plan['id']}",
            404,
        )
        self.assertEqual(self.call(self.provider.get_usage_plans(context(), {}))["items"], [])

    def test_api_keys(self) -> None:
        """Keys: generated values, shown only when asked, filters, plan membership, deletion."""
        plan = self.plan()
        key = self.key(plan, name="alpha", customerId="c1")
        self.assertRegex(key["value"], "^[A-Za-z0-9]{40}$")
        off = self.call(self.provider.create_api_key(context(), {"name": "beta"}))
        self.assertIs(off["enabled"], False)
        got = self.call(self.provider.get_api_key(context(), {"apiKey": key["id"]}))
        self.assertNotIn("value", got)
        shown = self.call(
            self.provider.get_api_key(context(), {"apiKey": key["id"], "includeValue": True})
        )
        self.assertEqual(shown["value"], key["value"])
        listed = self.call(self.provider.get_api_keys(context(), {"nameQuery": "al"}))
        self.assertEqual([k["id"] for k in listed["items"]], [key["id"]])
        by_customer = self.call(self.provider.get_api_keys(context(), {"customerId": "c1"}))
        self.assertEqual([k["id"] for k in by_customer["items"]], [key["id"]])
        self.assertError(
            self.provider.create_api_key(context(), {"value": "short"}),
            "BadRequestException",
            "API Key value should be at least 20 characters",
        )
        plan_keys = self.call(
            self.provider.get_usage_plan_keys(context(), {"usagePlanId": plan["id"]})
        )
        self.assertEqual(
            plan_keys["items"],
            [{"id": key["id"], "type": "API_KEY", "value": key["value"], "name": "alpha"}],
        )
        self.assertEqual(
            self.error(
                self.provider.create_usage_plan_key(
                    context(), {"usagePlanId": plan["id"], "keyId": key["id"], "keyType": "API_KEY"}
                )
            ).code,
            "ConflictException",
        )
        other = self.plan(name="other")
        self.assertError(
            self.provider.create_usage_plan_key(
                context(), {"usagePlanId": other["id"], "keyId": key["id"], "keyType": "API_KEY"}
            ),
            "ConflictException",
            f"Usage Plan {other['id']} cannot be added because API Key {key['id']} cannot "
            f"reference multiple Usage Plans with the same API Stage: {self.rest['id']}:dev",
            409,
        )
        renamed = self.call(
            self.provider.update_api_key(
                context(),
                {
                    "apiKey": key["id"],
                    "patchOperations": [
                        {"op": "replace", "path": "/name", "value": "gamma"},
                        {"op": "replace", "path": "/enabled", "value": "false"},
                    ],
                },
            )
        )
        self.assertEqual((renamed["name"], renamed["enabled"]), ("gamma", False))
        self.call(self.provider.delete_api_key(context(), {"apiKey": key["id"]}))
        self.assertError(
            self.provider.get_api_key(context(), {"apiKey": key["id"]}),
            "NotFoundException",
            "Invalid API Key identifier specified",
            404,
        )
        self.assertEqual(
            self.call(self.provider.get_usage_plan_keys(context(), {"usagePlanId": plan["id"]}))[
                "items"
            ],
            [],
        )


class KeyTests(PlanCase):
    def test_required_key(self) -> None:
        """Without an enabled key of a plan covering the stage: 403 Forbidden; with one: served."""
        plan = self.plan()
        key = self.key(plan)
        elsewhere = self.key(None)
        disabled = self.key(plan, enabled=False)
        forbidden = self.answered("GET", self.url)
        self.assertAnswer(forbidden, 403, {"message": "Forbidden"})
        self.assertEqual(forbidden.header("x-amzn-ErrorType"), "ForbiddenException")
        for refused in ("nope-nope-nope-nope-nope", elsewhere["value"], disabled["value"]):
            self.assertEqual(self.status(refused), 403)
        self.assertEqual(self.functions.events, [])
        self.assertEqual(self.status(key["value"]), 200)
        [(_, event)] = self.functions.events
        identity = event["requestContext"]["identity"]
        self.assertEqual((identity["apiKey"], identity["apiKeyId"]), (key["value"], key["id"]))

    def test_throttle(self) -> None:
        """A plan's burst, then its rate: 429 Too Many Requests; a method's own throttle first."""
        plan = self.plan(throttle={"burstLimit": 2, "rateLimit": 1.0})
        key = self.key(plan)["value"]
        self.assertEqual([self.status(key) for _ in range(3)], [200, 200, 429])
        throttled = self.answered("GET", self.url, headers=[("x-api-key", key)])
        self.assertAnswer(throttled, 429, {"message": "Too Many Requests"})
        self.assertEqual(throttled.header("x-amzn-ErrorType"), "TooManyRequestsException")
        self.clock.advance(1)
        self.assertEqual([self.status(key), self.status(key)], [200, 429])
        self.call(
            self.provider.update_usage_plan(
                context(),
                {
                    "usagePlanId": plan["id"],
                    "patchOperations": [
                        {"op": "remove", "path": "/throttle"},
                    ],
                },
            )
        )
        self.clock.advance(10)
        self.assertEqual([self.status(key) for _ in range(5)], [200] * 5)

    def test_stage_throttle(self) -> None:
        """A stage's ``*/*`` throttle applies to every call; a method's own settings win."""
        key = self.key(self.plan())["value"]

        def throttle(path: str, burst: str) -> None:
            self.call(
                self.provider.update_stage(
                    context(),
                    {
                        **self.named,
                        "stageName": "dev",
                        "patchOperations": [
                            {
                                "op": "replace",
                                "path": f"{path}/throttling/burstLimit",
                                "value": burst,
                            },
                            {"op": "replace", "path": f"{path}/throttling/rateLimit", "value": "1"},
                        ],
                    },
                )
            )

        throttle("/*/*", "1")
        self.assertEqual([self.status(key), self.status(key)], [200, 429])
        self.assertEqual(self.status(None), 429)
        throttle("/~1pets/GET", "3")
        self.clock.advance(5)
        self.assertEqual([self.status(key) for _ in range(4)], [200, 200, 200, 429])

    def test_quota(self) -> None:
        """Past the plan's quota: 429 Limit Exceeded until the next period."""
        plan = self.plan(quota={"limit": 2, "period": "DAY"})
        created = self.key(plan)
        key, key_id = created["value"], created["id"]
        self.assertEqual([self.status(key) for _ in range(2)], [200, 200])
        exceeded = self.answered("GET", self.url, headers=[("x-api-key", key)])
        self.assertAnswer(exceeded, 429, {"message": "Limit Exceeded"})
        self.assertEqual(exceeded.header("x-amzn-ErrorType"), "LimitExceededException")
        self.clock.advance(DAY)
        self.assertEqual(self.status(key), 200)
        # NOW is 2026-01-01: two calls that day, one the next.
        usage = self.call(
            self.provider.get_usage(
                context(),
                {"usagePlanId": plan["id"], "startDate": "2025-12-31", "endDate": "2026-01-03"},
            )
        )
        self.assertEqual(
            usage,
            {
                "usagePlanId": plan["id"],
                "startDate": "2025-12-31",
                "endDate": "2026-01-03",
                "items": {key_id: [[0, 2], [2, 0], [1, 1], [0, 2]]},
            },
        )

    def test_authorizer_source(self) -> None:
        """With ``apiKeySource: AUTHORIZER`` the key is the authorizer's ``usageIdentifierKey``."""
        key = self.key(self.plan())["value"]
        created = self.call(
            self.provider.create_authorizer(
                context(),
                {
                    **self.named,
                    "name": "auth",
                    "type": "TOKEN",
                    "authorizerUri": self.uri(AUTHORIZER),
                    "identitySource": "method.request.header.Authorization",
                    "authorizerResultTtlInSeconds": 0,
                },
            )
        )
        self.call(
            self.provider.update_method(
                context(),
                {
                    **self.named_method,
                    "patchOperations": [
                        {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
                        {"op": "replace", "path": "/authorizerId", "value": created["id"]},
                    ],
                },
            )
        )
        self.call(
            self.provider.update_rest_api(
                context(),
                {
                    **self.named,
                    "patchOperations": [
                        {"op": "replace", "path": "/apiKeySource", "value": "AUTHORIZER"}
                    ],
                },
            )
        )
        self.deploy()
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}
        answer = {"principalId": "me", "policyDocument": {"Statement": [statement]}}
        token = [("Authorization", "t"), ("x-api-key", key)]
        self.functions.answer(answer, arn=AUTHORIZER)
        self.assertEqual(self.answered("GET", self.url, headers=token).status, 403)
        self.functions.answer({**answer, "usageIdentifierKey": key}, arn=AUTHORIZER)
        self.assertEqual(self.answered("GET", self.url, headers=token[:1]).status, 200)

    def test_quota_windows(self) -> None:
        """Quota periods: days, weeks from Sunday (plus offset days), months."""
        sunday = 3 * DAY  # 1970-01-04
        week = {"period": "WEEK", "limit": 1}
        self.assertEqual(quota_window(week, sunday), quota_window(week, sunday + 6.9 * DAY))
        self.assertNotEqual(quota_window(week, sunday - 1), quota_window(week, sunday))
        monday = {**week, "offset": 1}
        self.assertNotEqual(quota_window(monday, sunday), quota_window(monday, sunday + DAY))
        month = {"period": "MONTH", "limit": 1}
        self.assertEqual(quota_window(month, 0), quota_window(month, 30 * DAY))
        self.assertNotEqual(quota_window(month, 30 * DAY), quota_window(month, 31 * DAY))


class ImportApiKeysTests(PlanCase):
    """``ImportApiKeys``: the CSV file format AWS documents."""

    def imported(self, body: bytes, **params: Any) -> dict[str, Any]:
        return self.call(
            self.provider.import_api_keys(context(), {"body": body, "format": "csv", **params})
        )

    def test_import(self) -> None:
        """
        Columns in any case and order, unknown ones ignored, plan ids quoted
        either way; the keys work at once, and a value imported again
        updates its key.
        """
        first, second = self.plan(), self.plan(apiStages=[])
        body = (
            b"Name,key,description,Enabled,usageplanIds,Other\r\n"
            b"one,apikey1234abcdefghij0123456789,An imported key,TRUE,"
            + f'"{first["id"]},{second["id"]}",x\r\n'.encode()
            + b"two,apikey1234abcdefghij9876543210,,false,"
            + f"'{first['id']}',y\n".encode()
        )
        result = self.imported(body)
        self.assertEqual(result["warnings"], [])
        keys = {
            key["name"]: key
            for key in self.call(self.provider.get_api_keys(context(), {"includeValues": True}))[
                "items"
            ]
        }
        self.assertEqual(result["ids"], [keys["one"]["id"], keys["two"]["id"]])
        self.assertEqual(
            (keys["one"]["value"], keys["one"]["description"], keys["one"]["enabled"]),
            ("apikey1234abcdefghij0123456789", "An imported key", True),
        )
        self.assertEqual(keys["two"]["enabled"], False)
        self.assertEqual(self.status("apikey1234abcdefghij0123456789"), 200)
        self.assertEqual(self.status("apikey1234abcdefghij9876543210"), 403)
        plan_keys = self.call(
            self.provider.get_usage_plan_keys(context(), {"usagePlanId": second["id"]})
        )
        self.assertEqual([key["name"] for key in plan_keys["items"]], ["one"])

        again = self.imported(b"key,name,enabled\napikey1234abcdefghij0123456789,renamed,false\n")
        self.assertEqual(again["ids"], [keys["one"]["id"]])
        key = self.call(self.provider.get_api_key(context(), {"apiKey": keys["one"]["id"]}))
        self.assertEqual((key["name"], key["enabled"]), ("renamed", False))

    def test_warnings(self) -> None:
        """Rows AWS refuses are warnings, or the error with ``failOnWarnings``."""
        body = b"key,name,usageplanids\nshort,a,\napikey1234abcdefghij0123456789,b,nosuch\n"
        result = self.imported(body)
        self.assertEqual(result["ids"], [])
        self.assertEqual(
            result["warnings"],
            [
                "Line 2: API Key value should be between 20 and 128 characters",
                "Line 3: Invalid Usage Plan ID specified nosuch",
            ],
        )
        self.assertError(
            self.provider.import_api_keys(
                context(), {"body": body, "format": "csv", "failOnWarnings": True}
            ),
            "BadRequestException",
            "Line 2: API Key value should be between 20 and 128 characters",
            400,
        )
        self.assertEqual(
            self.error(
                self.provider.import_api_keys(context(), {"body": b"key\nx\n", "format": "csv"})
            ).message,
            "The API key file has no name column",
        )

    def test_refused_row_changes_nothing(self) -> None:
        """A row whose second plan conflicts leaves no key and no first plan holding it."""
        free, first, second = self.plan(apiStages=[]), self.plan(), self.plan()
        plans = f'"{free["id"]},{first["id"]},{second["id"]}"'.encode()
        result = self.imported(b"key,name,usageplanids\napikey1234abcdefghij0123456789,a," + plans)
        self.assertEqual(result["ids"], [])
        self.assertEqual(len(result["warnings"]), 1)
        self.assertIn("cannot reference multiple Usage Plans", result["warnings"][0])
        self.assertEqual(self.call(self.provider.get_api_keys(context(), {}))["items"], [])
        for plan in (free, first):
            held = self.provider.get_usage_plan_keys(context(), {"usagePlanId": plan["id"]})
            self.assertEqual(self.call(held)["items"], [])
