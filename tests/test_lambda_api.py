"""
Lambda's control plane through boto3 against a real daemon: functions,
versions, aliases, permissions, tags, settings and layers, and the errors
AWS gives.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
from typing import Any

import boto3
from botocore.exceptions import ClientError
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config
from awsemu.daemon import make_backend
from awsemu.gateway.context import new_context
from awsemu.lambda_.service import LambdaService
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import Headers, HttpRequest
from awsemu.protocol.model import load_service_model
from awsemu.shared import SharedObjects
from tests.lambda_support import PACKAGE, ROLE, LambdaDaemon, LambdaTestCase, zipped


def _without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "ResponseMetadata"}


class ErrorsMixin:
    def assertError(self, call: Any, code: str, status: int, **params: Any) -> str:
        with self.assertRaises(ClientError) as raised:  # type: ignore[attr-defined]
            call(**params)
        error = raised.exception.response
        self.assertEqual(  # type: ignore[attr-defined]
            (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]), (code, status)
        )
        message: str = error["Error"]["Message"]
        return message

    def assertDeleted(self, delete: Any, call: Any, code: str, **params: Any) -> None:
        """``delete(**params)`` succeeds, after which ``call(**params)`` is a 404 ``code``."""
        delete(**params)
        self.assertError(call, code, 404, **params)


class FunctionTests(ErrorsMixin, LambdaTestCase):
    def test_create_get_delete(self) -> None:
        name = self.name()
        created = self.client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.echo",
            Code={"ZipFile": PACKAGE},
            Environment={"Variables": {"AA": "1"}},
            Timeout=7,
            MemorySize=256,
            Description="d",
            Tags={"team": "x"},
            Architectures=["arm64"],
        )
        self.assertEqual(created["State"], "Pending")
        self.assertEqual(
            created["FunctionArn"], f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        )
        self.client.get_waiter("function_active_v2").wait(FunctionName=name)
        found = self.client.get_function(FunctionName=name)
        config = found["Configuration"]
        self.assertEqual(
            (config["State"], config["Timeout"], config["MemorySize"], config["Architectures"]),
            ("Active", 7, 256, ["arm64"]),
        )
        self.assertEqual(config["Environment"], {"Variables": {"AA": "1"}})
        self.assertEqual(found["Tags"], {"team": "x"})
        with urllib.request.urlopen(found["Code"]["Location"]) as download:
            self.assertEqual(download.read(), PACKAGE)
        self.assertEqual(
            self.client.get_function_configuration(FunctionName=name)["CodeSize"], len(PACKAGE)
        )
        self.client.delete_function(FunctionName=name)
        message = self.assertError(
            self.client.get_function, "ResourceNotFoundException", 404, FunctionName=name
        )
        self.assertEqual(
            message, f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"
        )

    def test_create_errors(self) -> None:
        name = self.create()
        message = self.assertError(
            self.client.create_function,
            "ResourceConflictException",
            409,
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.echo",
            Code={"ZipFile": PACKAGE},
        )
        self.assertEqual(message, f"Function already exist: {name}")
        good = dict(Runtime="python3.12", Role=ROLE, Handler="app.echo", Code={"ZipFile": PACKAGE})
        for bad in (
            {"Runtime": "python9.9"},
            {"Code": {"ZipFile": b"not a zip"}},
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
        ):
            self.assertError(
                self.client.create_function,
                "InvalidParameterValueException",
                400,
                FunctionName=self.name(),
                **{**good, **bad},
            )

    def test_function_name_validation(self) -> None:
        """Names and ARNs out of the model's constraints get AWS's ValidationException."""

        def refused(call: Any, name: str, **params: Any) -> str:
            return self.assertError(call, "ValidationException", 400, FunctionName=name, **params)

        function = dict(
            Runtime="python3.12", Role=ROLE, Handler="app.echo", Code={"ZipFile": PACKAGE}
        )
        long_name = "f" * 65
        self.assertEqual(
            refused(self.client.create_function, long_name, **function),
            f"1 validation error detected: Value '{long_name}' at 'functionName' failed to"
            " satisfy constraint: Member must have length less than or equal to 64",
        )
        # The pattern is the model's, whichever botocore is installed.
        pattern = (
            load_service_model("lambda")
            .operation_model("GetFunction")
            .input_shape.members["FunctionName"]
            .metadata["pattern"]
        )
        self.assertEqual(
            refused(self.client.get_function, "bad name!"),
            "1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy"
            f" constraint: Member must satisfy regular expression pattern: {pattern}",
        )
        both = refused(self.client.create_function, "bad name" + "!" * 64, **function)
        self.assertTrue(both.startswith("2 validation errors detected: Value 'bad name!"), both)

    def test_deprecated_runtimes(self) -> None:
        """Every runtime botocore's model lists is accepted, deprecated ones too."""
        for runtime in ("nodejs16.x", "python3.8", "java8.al2", "ruby3.2"):
            created = self.client.create_function(
                FunctionName=self.name(),
                Runtime=runtime,
                Role=ROLE,
                Handler="app.echo",
                Code={"ZipFile": PACKAGE},
            )
            self.assertEqual(created["Runtime"], runtime)
            self.assertRegex(
                created["RuntimeVersionConfig"]["RuntimeVersionArn"],
                r"^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$",
            )

    def test_runtime_version_and_logging(self) -> None:
        """One runtime has one version ARN; JSON logs get log levels, text logs none."""
        first, second = self.create(), self.create()
        arns = {
            self.client.get_function_configuration(FunctionName=name)["RuntimeVersionConfig"][
                "RuntimeVersionArn"
            ]
            for name in (first, second)
        }
        self.assertEqual(len(arns), 1)
        configured = self.client.update_function_configuration(
            FunctionName=first, LoggingConfig={"LogFormat": "JSON", "SystemLogLevel": "WARN"}
        )
        self.assertEqual(
            configured["LoggingConfig"],
            {
                "LogFormat": "JSON",
                "ApplicationLogLevel": "INFO",
                "SystemLogLevel": "WARN",
                "LogGroup": f"/aws/lambda/{first}",
            },
        )
        configured = self.client.update_function_configuration(
            FunctionName=first, LoggingConfig={"LogFormat": "Text"}
        )
        self.assertEqual(
            configured["LoggingConfig"], {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{first}"}
        )

    def test_list_functions_pages(self) -> None:
        names = sorted(self.create() for _ in range(3))
        seen: list[str] = []
        marker: dict[str, str] = {}
        while True:
            page = self.client.list_functions(MaxItems=2, **marker)
            seen += [f["FunctionName"] for f in page["Functions"]]
            if "NextMarker" not in page:
                break
            marker = {"Marker": page["NextMarker"]}
        self.assertEqual([n for n in seen if n in names], names)

    def test_update_code_and_configuration(self) -> None:
        name = self.create()
        other = zipped({"app.py": "def echo(e, c):\n    return 2\n"})
        updated = self.client.update_function_code(FunctionName=name, ZipFile=other)
        self.assertEqual(updated["LastUpdateStatus"], "InProgress")
        self.client.get_waiter("function_updated_v2").wait(FunctionName=name)
        self.assertEqual(
            self.client.get_function_configuration(FunctionName=name)["CodeSize"], len(other)
        )
        updated = self.client.update_function_configuration(
            FunctionName=name, Timeout=9, Environment={"Variables": {"BB": "2"}}
        )
        self.assertEqual(
            (updated["Timeout"], updated["Environment"]["Variables"]), (9, {"BB": "2"})
        )
        self.assertError(
            self.client.update_function_configuration,
            "PreconditionFailedException",
            412,
            FunctionName=name,
            RevisionId="nope",
            Timeout=3,
        )

    def test_versions_and_aliases(self) -> None:
        name = self.create(Publish=True)
        self.client.update_function_configuration(FunctionName=name, Description="two")
        second = self.client.publish_version(FunctionName=name)
        self.assertEqual(second["Version"], "2")
        self.assertEqual(self.client.publish_version(FunctionName=name)["Version"], "2")
        versions = self.client.list_versions_by_function(FunctionName=name)["Versions"]
        self.assertEqual([v["Version"] for v in versions], ["$LATEST", "1", "2"])
        alias = self.client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        self.assertTrue(alias["AliasArn"].endswith(f":{name}:live"))
        self.assertEqual(
            self.client.get_function_configuration(FunctionName=name, Qualifier="live")["Version"],
            "1",
        )
        self.assertEqual(
            self.client.get_function(FunctionName=f"{name}:2")["Configuration"]["Description"],
            "two",
        )
        self.client.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
        self.assertEqual(
            self.client.get_alias(FunctionName=name, Name="live")["FunctionVersion"], "2"
        )
        self.assertEqual(
            [a["Name"] for a in self.client.list_aliases(FunctionName=name)["Aliases"]], ["live"]
        )
        self.assertError(
            self.client.get_function,
            "ResourceNotFoundException",
            404,
            FunctionName=name,
            Qualifier="9",
        )
        self.client.delete_alias(FunctionName=name, Name="live")
        self.client.delete_function(FunctionName=name, Qualifier="1")
        versions = self.client.list_versions_by_function(FunctionName=name)["Versions"]
        self.assertEqual([v["Version"] for v in versions], ["$LATEST", "2"])

    def test_alias_routing(self) -> None:
        """``RoutingConfig`` is shown only while it has weights, as on AWS."""
        name = self.create(Publish=True)
        self.client.update_function_configuration(FunctionName=name, Description="two")
        self.client.publish_version(FunctionName=name)
        created = self.client.create_alias(
            FunctionName=name, Name="live", FunctionVersion="1", RoutingConfig={}
        )
        self.assertNotIn("RoutingConfig", created)
        self.assertNotIn("RoutingConfig", self.client.get_alias(FunctionName=name, Name="live"))
        weights = {"AdditionalVersionWeights": {"2": 0.25}}
        updated = self.client.update_alias(FunctionName=name, Name="live", RoutingConfig=weights)
        self.assertEqual(updated["RoutingConfig"], weights)
        self.assertEqual(
            self.client.get_alias(FunctionName=name, Name="live")["RoutingConfig"], weights
        )
        cleared = self.client.update_alias(
            FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {}}
        )
        self.assertNotIn("RoutingConfig", cleared)

    def test_code_signing(self) -> None:
        """Code signing configurations: kept, attached, listed, tagged and refused in use."""
        name = self.create()
        self.assertEqual(
            _without_metadata(self.client.get_function_code_signing_config(FunctionName=name)),
            {"CodeSigningConfigArn": "", "FunctionName": ""},
        )
        profile = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abcdefghij"
        created = self.client.create_code_signing_config(
            AllowedPublishers={"SigningProfileVersionArns": [profile]}, Tags={"team": "a"}
        )["CodeSigningConfig"]
        arn = created["CodeSigningConfigArn"]
        self.assertRegex(created["CodeSigningConfigId"], r"^csc-[a-z0-9]{17}$")
        self.assertEqual(
            arn,
            "arn:aws:lambda:us-east-1:000000000000:code-signing-config:"
            + created["CodeSigningConfigId"],
        )
        self.assertEqual(
            (created["Description"], created["CodeSigningPolicies"]),
            ("", {"UntrustedArtifactOnDeployment": "Warn"}),
        )
        self.assertEqual(self.client.list_tags(Resource=arn)["Tags"], {"team": "a"})
        updated = self.client.update_code_signing_config(
            CodeSigningConfigArn=arn,
            Description="d",
            CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"},
        )["CodeSigningConfig"]
        self.assertEqual(
            self.client.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"],
            updated,
        )
        listed = self.client.list_code_signing_configs()["CodeSigningConfigs"]
        self.assertIn(updated, listed)
        attached = self.client.put_function_code_signing_config(
            FunctionName=name, CodeSigningConfigArn=arn
        )
        self.assertEqual((attached["CodeSigningConfigArn"], attached["FunctionName"]), (arn, name))
        self.assertEqual(
            self.client.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"],
            arn,
        )
        self.assertEqual(
            self.client.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)[
                "FunctionArns"
            ],
            [f"arn:aws:lambda:us-east-1:000000000000:function:{name}"],
        )
        self.assertError(
            self.client.delete_code_signing_config,
            "ResourceConflictException",
            409,
            CodeSigningConfigArn=arn,
        )
        signed = self.create(CodeSigningConfigArn=arn)
        self.assertEqual(
            self.client.get_function_code_signing_config(FunctionName=signed)[
                "CodeSigningConfigArn"
            ],
            arn,
        )
        self.client.delete_function(FunctionName=signed)
        self.client.delete_function_code_signing_config(FunctionName=name)
        self.client.delete_code_signing_config(CodeSigningConfigArn=arn)
        self.assertEqual(
            self.assertError(
                self.client.get_code_signing_config,
                "ResourceNotFoundException",
                404,
                CodeSigningConfigArn=arn,
            ),
            f"The Lambda code signing configuration {arn} can not be found.",
        )
        self.assertError(
            self.client.put_function_code_signing_config,
            "CodeSigningConfigNotFoundException",
            404,
            FunctionName=name,
            CodeSigningConfigArn=arn,
        )
        self.assertError(
            self.client.create_function,
            "CodeSigningConfigNotFoundException",
            404,
            FunctionName=self.name(),
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.echo",
            Code={"ZipFile": PACKAGE},
            CodeSigningConfigArn=arn,
        )
        message = self.assertError(
            self.client.get_code_signing_config,
            "ValidationException",
            400,
            CodeSigningConfigArn="arn:aws:lambda:us-east-1:000000000000:code-signing-config:x",
        )
        self.assertTrue(
            message.startswith(
                "1 validation error detected: Value 'arn:aws:lambda:us-east-1:000000000000:"
                "code-signing-config:x' at 'codeSigningConfigArn' failed to satisfy constraint:"
                " Member must satisfy regular expression pattern: arn:"
            ),
            message,
        )
        self.assertError(
            self.client.get_function_code_signing_config,
            "ResourceNotFoundException",
            404,
            FunctionName="missing",
        )

    def test_permissions(self) -> None:
        name = self.create()
        self.assertError(
            self.client.get_policy, "ResourceNotFoundException", 404, FunctionName=name
        )
        self.client.add_permission(
            FunctionName=name,
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn="arn:aws:s3:::bucket",
        )
        self.assertError(
            self.client.add_permission,
            "ResourceConflictException",
            409,
            FunctionName=name,
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
        )
        policy = json.loads(self.client.get_policy(FunctionName=name)["Policy"])
        statement = policy["Statement"][0]
        self.assertEqual(statement["Principal"], {"Service": "s3.amazonaws.com"})
        self.assertEqual(
            statement["Condition"], {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}
        )
        self.assertDeleted(
            self.client.remove_permission,
            self.client.remove_permission,
            "ResourceNotFoundException",
            FunctionName=name,
            StatementId="s3",
        )

    def test_tags_concurrency_event_config(self) -> None:
        name = self.create()
        arn = self.client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        self.client.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
        self.client.untag_resource(Resource=arn, TagKeys=["a"])
        self.assertEqual(self.client.list_tags(Resource=arn)["Tags"], {"b": "2"})
        self.assertNotIn(
            "ReservedConcurrentExecutions", self.client.get_function_concurrency(FunctionName=name)
        )
        self.client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
        self.assertEqual(
            self.client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"],
            5,
        )
        self.client.delete_function_concurrency(FunctionName=name)
        self.client.put_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=100
        )
        found = self.client.get_function_event_invoke_config(FunctionName=name)
        self.assertEqual(
            (found["MaximumRetryAttempts"], found["MaximumEventAgeInSeconds"]), (1, 100)
        )
        settings = self.client.get_account_settings()
        self.assertEqual(settings["AccountLimit"]["ConcurrentExecutions"], 1000)

    def test_provisioned_concurrency(self) -> None:
        """IN_PROGRESS at first, READY a moment later; only on versions and aliases."""
        name = self.create(Publish=True)
        self.client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        put = self.client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2
        )
        self.assertEqual(
            (put["Status"], put["RequestedProvisionedConcurrentExecutions"]), ("IN_PROGRESS", 2)
        )
        deadline = time.monotonic() + 10
        while True:
            found = self.client.get_provisioned_concurrency_config(
                FunctionName=name, Qualifier="live"
            )
            if found["Status"] == "READY" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(
            (found["Status"], found["AvailableProvisionedConcurrentExecutions"]), ("READY", 2)
        )
        listed = self.client.list_provisioned_concurrency_configs(FunctionName=name)
        self.assertEqual(
            [c["FunctionArn"] for c in listed["ProvisionedConcurrencyConfigs"]],
            [f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live"],
        )
        message = self.assertError(
            self.client.put_provisioned_concurrency_config,
            "InvalidParameterValueException",
            400,
            FunctionName=name,
            Qualifier="$LATEST",
            ProvisionedConcurrentExecutions=1,
        )
        self.assertEqual(
            message,
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
        )
        self.assertDeleted(
            self.client.delete_provisioned_concurrency_config,
            self.client.get_provisioned_concurrency_config,
            "ProvisionedConcurrencyConfigNotFoundException",
            FunctionName=name,
            Qualifier="live",
        )

    def test_recursion_and_runtime_management(self) -> None:
        name = self.create()
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        recursion = self.client.get_function_recursion_config(FunctionName=name)
        self.assertEqual(recursion["RecursiveLoop"], "Terminate")
        self.client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
        recursion = self.client.get_function_recursion_config(FunctionName=name)
        self.assertEqual(recursion["RecursiveLoop"], "Allow")
        managed = self.client.get_runtime_management_config(FunctionName=name)
        self.assertEqual(
            (managed["UpdateRuntimeOn"], managed["FunctionArn"], "RuntimeVersionArn" in managed),
            ("Auto", arn, False),
        )
        runtime_version = "arn:aws:lambda:us-east-1::runtime:" + "a" * 64
        self.client.put_runtime_management_config(
            FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=runtime_version
        )
        managed = self.client.get_runtime_management_config(FunctionName=name)
        self.assertEqual(
            (managed["UpdateRuntimeOn"], managed["RuntimeVersionArn"]), ("Manual", runtime_version)
        )
        self.assertNotIn(
            "_RuntimeManagement", self.client.get_function_configuration(FunctionName=name)
        )

    def test_layers(self) -> None:
        layer = zipped({"python/layered.py": "VALUE = 'from a layer'\n"})
        published = self.client.publish_layer_version(
            LayerName="deps", Content={"ZipFile": layer}, CompatibleRuntimes=["python3.12"]
        )
        number = published["Version"]
        found = self.client.get_layer_version(LayerName="deps", VersionNumber=number)
        with urllib.request.urlopen(found["Content"]["Location"]) as download:
            self.assertEqual(download.read(), layer)
        self.assertIn("deps", [entry["LayerName"] for entry in self.client.list_layers()["Layers"]])
        name = self.create(Layers=[published["LayerVersionArn"]])
        config = self.client.get_function_configuration(FunctionName=name)
        self.assertEqual(config["Layers"][0]["CodeSize"], len(layer))
        added = self.client.add_layer_version_permission(
            LayerName="deps",
            VersionNumber=number,
            StatementId="partner",
            Action="lambda:GetLayerVersion",
            Principal="111111111111",
        )
        self.assertEqual(
            json.loads(added["Statement"]),
            {
                "Sid": "partner",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "lambda:GetLayerVersion",
                "Resource": published["LayerVersionArn"],
            },
        )
        policy = self.client.get_layer_version_policy(LayerName="deps", VersionNumber=number)
        self.assertEqual(policy["RevisionId"], added["RevisionId"])
        self.assertEqual([s["Sid"] for s in json.loads(policy["Policy"])["Statement"]], ["partner"])
        self.assertError(
            self.client.add_layer_version_permission,
            "ResourceConflictException",
            409,
            LayerName="deps",
            VersionNumber=number,
            StatementId="partner",
            Action="lambda:GetLayerVersion",
            Principal="*",
        )
        self.client.remove_layer_version_permission(
            LayerName="deps", VersionNumber=number, StatementId="partner"
        )
        self.assertEqual(
            self.assertError(
                self.client.get_layer_version_policy,
                "ResourceNotFoundException",
                404,
                LayerName="deps",
                VersionNumber=number,
            ),
            "No policy is associated with the given resource.",
        )
        self.client.delete_layer_version(LayerName="deps", VersionNumber=number)
        self.assertError(
            self.client.get_layer_version,
            "ResourceNotFoundException",
            404,
            LayerName="deps",
            VersionNumber=number,
        )

    def test_accounts_are_apart(self) -> None:
        name = self.create()
        stranger = boto3.client(
            "lambda",
            endpoint_url=self.daemon.url,
            region_name="us-east-1",
            aws_access_key_id="111111111111",
            aws_secret_access_key="x",
        )
        self.assertError(stranger.get_function, "ResourceNotFoundException", 404, FunctionName=name)

    def test_another_account_by_policy(self) -> None:
        """Another account reaches a function by its ARN when its policy allows the action."""
        name = self.create()
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        stranger = boto3.client(
            "lambda",
            endpoint_url=self.daemon.url,
            region_name="us-east-1",
            aws_access_key_id="111111111111",
            aws_secret_access_key="x",
        )
        message = self.assertError(stranger.invoke, "AccessDeniedException", 403, FunctionName=arn)
        self.assertEqual(
            message,
            "User: arn:aws:iam::111111111111:root is not authorized to perform:"
            f" lambda:InvokeFunction on resource: {arn} because no resource-based policy"
            " allows the lambda:InvokeFunction action",
        )
        self.client.add_permission(
            FunctionName=name,
            StatementId="partner",
            Action="lambda:InvokeFunction",
            Principal="111111111111",
        )
        answer = stranger.invoke(FunctionName=arn, Payload=b'{"from": "partner"}')
        self.assertEqual(json.load(answer["Payload"])["event"], {"from": "partner"})
        self.assertError(stranger.get_function, "AccessDeniedException", 403, FunctionName=arn)
        self.client.add_permission(
            FunctionName=name, StatementId="all", Action="lambda:*", Principal="*"
        )
        self.assertEqual(
            stranger.get_function(FunctionName=arn)["Configuration"]["FunctionArn"], arn
        )


class S3CodeTests(SynchronousTestCase):
    """
    Code from S3, with the backends built in-process as the daemon builds
    them: Lambda reads through the S3 provider the S3 backend serves.
    """

    def test_code_from_s3(self) -> None:
        config = Config(services=("s3", "logs", "lambda"))
        reactor = MemoryReactorClock()
        shared = SharedObjects(config, reactor)
        backends = {name: make_backend(name, shared) for name in config.services}
        service = backends["lambda"]
        assert isinstance(service, LambdaService)
        context = new_context(
            HttpRequest.from_uri("GET", "/", Headers(), io.BytesIO()), "lambda", "us-east-1", 0
        )
        s3 = backends["s3"].provider  # type: ignore[attr-defined]

        def run(coroutine: Any) -> Any:
            return self.successResultOf(Deferred.fromCoroutine(coroutine))

        run(s3.create_bucket(context, {"Bucket": "code"}))
        run(
            s3.put_object(
                context, {"Bucket": "code", "Key": "app.zip", "Body": io.BytesIO(PACKAGE)}
            )
        )
        params = dict(Runtime="python3.12", Role=ROLE, Handler="app.echo")
        created = run(
            service.provider.create_function(
                context,
                {"FunctionName": "f", "Code": {"S3Bucket": "code", "S3Key": "app.zip"}, **params},
            )
        )
        self.assertEqual(created["CodeSize"], len(PACKAGE))
        failure = self.failureResultOf(
            Deferred.fromCoroutine(
                service.provider.create_function(
                    context,
                    {"FunctionName": "g", "Code": {"S3Bucket": "code", "S3Key": "nope"}, **params},
                )
            ),
            ServiceError,
        )
        self.assertEqual(failure.value.code, "InvalidParameterValueException")
        self.assertIn("S3 Error Code: NoSuchKey", failure.value.message)


class PersistenceTests(LambdaTestCase):
    def test_functions_survive_a_restart(self) -> None:
        daemon = LambdaDaemon("--lambda-executor", "process").start()
        self.addCleanup(daemon.remove)
        client = daemon.client()
        client.create_function(
            FunctionName="kept",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.echo",
            Code={"ZipFile": PACKAGE},
            Publish=True,
        )
        daemon.stop()
        daemon.start()
        client = daemon.client()
        found = client.get_function(FunctionName="kept", Qualifier="1")
        with urllib.request.urlopen(found["Code"]["Location"]) as download:
            self.assertEqual(download.read(), PACKAGE)
