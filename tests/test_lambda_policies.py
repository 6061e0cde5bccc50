"""
Resource-based policies through boto3 against a real daemon: the
``*ResourcePolicy`` operations of botocore's newest model, sharing one
policy with ``AddPermission``/``GetPolicy``/``RemovePermission``, their
revisions, their checks, and the cross-account access they grant or deny;
and the answer of the model's operations awsemu does not serve.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_.common import allows, model_pattern
from tests.lambda_support import LambdaTestCase
from tests.test_lambda_api import ErrorsMixin

STRANGER = "111111111111"
STALE = "00000000-0000-0000-0000-000000000000"


def statement(arn: str, sid: str = "partner", effect: str = "Allow", **extra: Any) -> Any:
    return {
        "Sid": sid,
        "Effect": effect,
        "Principal": {"AWS": f"arn:aws:iam::{STRANGER}:root"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn,
        **extra,
    }


def policy(*statements: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class ResourcePolicyTests(ErrorsMixin, LambdaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.function = self.create()
        self.arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function}"

    def revision(self) -> str:
        found: str = self.client.get_function(FunctionName=self.function)["Configuration"][
            "RevisionId"
        ]
        return found

    def test_shared_with_add_permission(self) -> None:
        before = self.revision()
        put = self.client.put_resource_policy(
            ResourceArn=self.arn, Policy=policy(statement(self.arn))
        )
        expected = {
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": [statement(self.arn)],
        }
        self.assertEqual(json.loads(put["Policy"]), expected)
        # The policy's revision is the function's, new with each change.
        self.assertNotEqual(put["RevisionId"], before)
        self.assertEqual(put["RevisionId"], self.revision())
        got = self.client.get_resource_policy(ResourceArn=self.arn)
        self.assertEqual((got["Policy"], got["RevisionId"]), (put["Policy"], put["RevisionId"]))
        legacy = self.client.get_policy(FunctionName=self.function)
        self.assertEqual(
            (legacy["Policy"], legacy["RevisionId"]), (got["Policy"], got["RevisionId"])
        )
        self.client.add_permission(
            FunctionName=self.function,
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            RevisionId=got["RevisionId"],
        )
        both = self.client.get_resource_policy(ResourceArn=self.arn)
        self.assertEqual(
            [s["Sid"] for s in json.loads(both["Policy"])["Statement"]], ["partner", "s3"]
        )
        self.assertNotEqual(both["RevisionId"], got["RevisionId"])
        # A new document replaces what AddPermission added.
        self.client.put_resource_policy(
            ResourceArn=self.arn, Policy=policy(statement(self.arn, "other"))
        )
        replaced = json.loads(self.client.get_policy(FunctionName=self.function)["Policy"])
        self.assertEqual([s["Sid"] for s in replaced["Statement"]], ["other"])
        self.client.remove_permission(FunctionName=self.function, StatementId="other")
        message = self.assertError(
            self.client.get_resource_policy, "ResourceNotFoundException", 404, ResourceArn=self.arn
        )
        self.assertEqual(message, "The resource you requested does not exist.")

    def test_delete(self) -> None:
        self.client.put_resource_policy(ResourceArn=self.arn, Policy=policy(statement(self.arn)))
        revision = self.revision()
        answer = self.client.delete_resource_policy(ResourceArn=self.arn)
        self.assertEqual(answer["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertNotEqual(self.revision(), revision)
        self.assertError(
            self.client.get_policy, "ResourceNotFoundException", 404, FunctionName=self.function
        )
        message = self.assertError(
            self.client.delete_resource_policy,
            "ResourceNotFoundException",
            404,
            ResourceArn=self.arn,
        )
        self.assertEqual(message, "The resource you requested does not exist.")

    def test_revision_ids(self) -> None:
        self.client.put_resource_policy(ResourceArn=self.arn, Policy=policy(statement(self.arn)))
        current = self.revision()
        for call, params in (
            (self.client.put_resource_policy, {"Policy": policy(statement(self.arn))}),
            (self.client.delete_resource_policy, {}),
        ):
            message = self.assertError(
                call,
                "PreconditionFailedException",
                412,
                ResourceArn=self.arn,
                RevisionId=STALE,
                **params,
            )
            self.assertEqual(
                message,
                "The Revision Id provided does not match the latest Revision Id. Call the"
                " GetResourcePolicy API to retrieve the latest Revision Id",
            )
        message = self.assertError(
            self.client.add_permission,
            "PreconditionFailedException",
            412,
            FunctionName=self.function,
            StatementId="x",
            Action="lambda:InvokeFunction",
            Principal="*",
            RevisionId=STALE,
        )
        self.assertEqual(
            message,
            "The Revision Id provided does not match the latest Revision Id. Call the"
            " GetPolicy API to retrieve the latest Revision Id",
        )
        # Refused changes change nothing; reads change no revision.
        self.client.get_resource_policy(ResourceArn=self.arn)
        self.assertEqual(self.revision(), current)
        self.client.delete_resource_policy(ResourceArn=self.arn, RevisionId=current)

    def test_versions_and_aliases_have_their_own(self) -> None:
        self.client.publish_version(FunctionName=self.function)
        alias = self.client.create_alias(
            FunctionName=self.function, Name="live", FunctionVersion="1"
        )
        alias_arn = f"{self.arn}:live"
        put = self.client.put_resource_policy(
            ResourceArn=alias_arn, Policy=policy(statement(alias_arn))
        )
        now = self.client.get_alias(FunctionName=self.function, Name="live")["RevisionId"]
        self.assertEqual(put["RevisionId"], now)
        self.assertNotEqual(now, alias["RevisionId"])
        self.assertError(
            self.client.get_resource_policy, "ResourceNotFoundException", 404, ResourceArn=self.arn
        )
        self.assertEqual(
            self.client.get_policy(FunctionName=self.function, Qualifier="live")["RevisionId"], now
        )
        self.assertError(
            self.client.get_resource_policy,
            "ResourceNotFoundException",
            404,
            ResourceArn=f"{self.arn}:1",
        )

    def test_refused(self) -> None:
        for text, message in (
            ("{not json", "The policy is not a valid JSON document."),
            ('["Statement"]', "The policy must be a JSON object with a Statement."),
            (policy(), "The policy must have at least one statement."),
            (
                policy(statement(self.arn, effect="Maybe")),
                "A statement's Effect must be Allow or Deny.",
            ),
            (
                policy({**statement(self.arn), "Action": "s3:GetObject"}),
                "A statement's Action must be one or more Lambda actions.",
            ),
            (
                policy(statement(f"{self.arn}-other")),
                f"A statement's Resource must be {self.arn}.",
            ),
        ):
            found = self.assertError(
                self.client.put_resource_policy,
                "InvalidParameterValueException",
                400,
                ResourceArn=self.arn,
                Policy=text,
            )
            self.assertEqual(found, message)
        self.assertError(
            self.client.get_resource_policy, "ResourceNotFoundException", 404, ResourceArn=self.arn
        )
        found = self.assertError(
            self.client.get_resource_policy, "ValidationException", 400, ResourceArn=self.function
        )
        self.assertEqual(
            found,
            f"1 validation error detected: Value '{self.function}' at 'resourceArn' failed to"
            " satisfy constraint: Member must satisfy regular expression pattern:"
            f" {model_pattern('PolicyResourceArn')}",
        )
        missing = f"{self.arn}-missing"
        found = self.assertError(
            self.client.get_resource_policy, "ResourceNotFoundException", 404, ResourceArn=missing
        )
        self.assertEqual(found, f"Function not found: {missing}")
        found = self.assertError(
            self.client.put_resource_policy,
            "InvalidParameterValueException",
            400,
            ResourceArn=f"{self.arn}:$LATEST",
            Policy=policy(statement(self.arn)),
        )
        self.assertEqual(found, "We currently do not support adding policies for $LATEST.")

    def test_enforced_across_accounts(self) -> None:
        stranger = self.daemon.client(key_id=STRANGER)
        self.assertError(stranger.invoke, "AccessDeniedException", 403, FunctionName=self.arn)
        self.client.put_resource_policy(ResourceArn=self.arn, Policy=policy(statement(self.arn)))
        answer = stranger.invoke(FunctionName=self.arn, Payload=b'{"from": "partner"}')
        self.assertEqual(json.load(answer["Payload"])["event"], {"from": "partner"})
        self.assertError(stranger.get_function, "AccessDeniedException", 403, FunctionName=self.arn)
        self.client.put_resource_policy(
            ResourceArn=self.arn,
            Policy=policy(
                {**statement(self.arn, "all"), "Action": "lambda:*"},
                statement(self.arn, "no", effect="Deny"),
            ),
        )
        self.assertEqual(
            stranger.get_function(FunctionName=self.arn)["Configuration"]["FunctionArn"],
            self.arn,
        )
        self.assertError(stranger.invoke, "AccessDeniedException", 403, FunctionName=self.arn)


class UnservedOperationsTests(ErrorsMixin, LambdaTestCase):
    def test_the_newest_models_other_operations(self) -> None:
        """Capacity providers, durable executions and scaling configs: AWS-shaped 501s."""
        name = self.create()
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        for call, params in (
            (self.client.list_capacity_providers, {}),
            (self.client.get_function_scaling_config, {"FunctionName": name, "Qualifier": "1"}),
            (self.client.put_function_scaling_config, {"FunctionName": name, "Qualifier": "1"}),
            (
                self.client.get_durable_execution,
                {"DurableExecutionArn": f"{arn}:1/durable-execution/a/b"},
            ),
        ):
            message = self.assertError(call, "NotImplemented", 501, **params)
            operation = call.__name__.title().replace("_", "")
            self.assertEqual(
                message, f"The operation {operation} of lambda is not implemented by awsemu."
            )


class AllowsTests(SynchronousTestCase):
    def test_wildcards_and_denials(self) -> None:
        allow = {"Effect": "Allow", "Principal": "*", "Action": "lambda:Get*"}
        self.assertTrue(allows([allow], STRANGER, "lambda:GetFunction"))
        self.assertTrue(
            allows([{**allow, "Action": "Lambda:getfunction"}], STRANGER, "lambda:GetFunction")
        )
        self.assertFalse(allows([allow], STRANGER, "lambda:InvokeFunction"))
        deny = {**allow, "Effect": "Deny", "Principal": {"AWS": [STRANGER]}}
        self.assertFalse(allows([allow, deny], STRANGER, "lambda:GetFunction"))
        self.assertTrue(allows([allow, deny], "222222222222", "lambda:GetFunction"))
        self.assertFalse(allows([], STRANGER, "lambda:GetFunction"))
