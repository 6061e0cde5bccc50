"""
Lambda's request validation: the model's constraints on every member of
CreateFunction, UpdateFunctionConfiguration, PublishVersion, CreateAlias
and AddPermission (units on ``validation.problems``), and the service's
own limits, through boto3 against a real daemon.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_.validation import problems
from awsemu.protocol.model import load_service_model
from tests.lambda_support import PACKAGE, ROLE, LambdaTestCase, zipped
from tests.test_lambda_api import ErrorsMixin

FUNCTION = {
    "FunctionName": "f",
    "Runtime": "python3.12",
    "Role": ROLE,
    "Handler": "app.echo",
    "Code": {"ZipFile": b"zip"},
}


def constraint(shape: str, key: str) -> Any:
    """A constraint botocore's Lambda model gives a shape."""
    return load_service_model("lambda").shape_for(shape).metadata[key]


class ProblemsTests(SynchronousTestCase):
    def test_a_valid_request(self) -> None:
        self.assertEqual(problems("CreateFunction", FUNCTION), [])

    def test_bounds(self) -> None:
        found = problems(
            "CreateFunction",
            {**FUNCTION, "Timeout": 0, "MemorySize": 64, "EphemeralStorage": {"Size": 100}},
        )
        self.assertEqual(
            found,
            [
                "Value '0' at 'timeout' failed to satisfy constraint: Member must have value"
                " greater than or equal to 1",
                "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value"
                " greater than or equal to 128",
                "Value '100' at 'ephemeralStorage.size' failed to satisfy constraint: Member must"
                " have value greater than or equal to 512",
            ],
        )
        high = constraint("MemorySize", "max") + 1
        self.assertEqual(
            problems("UpdateFunctionConfiguration", {"FunctionName": "f", "MemorySize": high}),
            [
                f"Value '{high}' at 'memorySize' failed to satisfy constraint: Member must have"
                f" value less than or equal to {high - 1}"
            ],
        )

    def test_strings_and_enums(self) -> None:
        found = problems(
            "CreateFunction",
            {
                **FUNCTION,
                "Handler": "has space",
                "Description": "d" * 257,
                "PackageType": "Zap",
                "KMSKeyArn": "key",
                "LoggingConfig": {"LogFormat": "XML"},
            },
        )
        self.assertEqual(
            found,
            [
                "Value 'has space' at 'handler' failed to satisfy constraint: Member must satisfy"
                f" regular expression pattern: {constraint('Handler', 'pattern')}",
                f"Value '{'d' * 257}' at 'description' failed to satisfy constraint: Member must"
                " have length less than or equal to 256",
                "Value 'Zap' at 'packageType' failed to satisfy constraint: Member must satisfy"
                " enum value set: [Zip, Image]",
                "Value 'key' at 'kMSKeyArn' failed to satisfy constraint: Member must satisfy"
                f" regular expression pattern: {constraint('KMSKeyArn', 'pattern')}",
                "Value 'XML' at 'loggingConfig.logFormat' failed to satisfy constraint: Member"
                " must satisfy enum value set: [JSON, Text]",
            ],
        )

    def test_runtime_is_the_services(self) -> None:
        self.assertEqual(problems("CreateFunction", {**FUNCTION, "Runtime": "python9.9"}), [])

    def test_lists_and_maps(self) -> None:
        found = problems(
            "CreateFunction",
            {
                **FUNCTION,
                "Architectures": ["x86"],
                "Layers": ["not-a-layer"],
                "Environment": {"Variables": {"1A": "x"}},
            },
        )
        self.assertEqual(
            found,
            [
                "Value at 'environment.variables' failed to satisfy constraint: Map keys must"
                " satisfy constraint: [Member must satisfy regular expression pattern:"
                f" {constraint('EnvironmentVariableName', 'pattern')}]",
                "Value '[not-a-layer]' at 'layers' failed to satisfy constraint: Member must"
                " satisfy constraint: [Member must have length less than or equal to"
                f" {constraint('LayerVersionArn', 'max')}, Member must have length greater than"
                f" or equal to {constraint('LayerVersionArn', 'min')}, Member must satisfy regular"
                f" expression pattern: {constraint('LayerVersionArn', 'pattern')}, Member must not"
                " be null]",
                "Value '[x86]' at 'architectures' failed to satisfy constraint: Member must"
                " satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64],"
                " Member must not be null]",
            ],
        )
        self.assertEqual(
            problems("CreateFunction", {**FUNCTION, "Architectures": ["x86_64", "arm64"]}),
            [
                "Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member"
                " must have length less than or equal to 1"
            ],
        )

    def test_other_operations(self) -> None:
        self.assertEqual(
            problems(
                "AddPermission",
                {
                    "FunctionName": "f",
                    "StatementId": "bad id!",
                    "Action": "lambda:InvokeFunction",
                    "Principal": "*",
                },
            ),
            [
                "Value 'bad id!' at 'statementId' failed to satisfy constraint: Member must"
                f" satisfy regular expression pattern: {constraint('StatementId', 'pattern')}"
            ],
        )
        self.assertEqual(
            problems("CreateAlias", {"FunctionName": "f", "Name": "1", "FunctionVersion": "1"}),
            [
                "Value '1' at 'name' failed to satisfy constraint: Member must satisfy regular"
                f" expression pattern: {constraint('Alias', 'pattern')}"
            ],
        )
        self.assertEqual(
            len(problems("PublishVersion", {"FunctionName": "f", "Description": "d" * 300})), 1
        )
        self.assertEqual(
            problems("ListFunctions", {"MaxItems": 0}),
            [
                "Value '0' at 'maxItems' failed to satisfy constraint: Member must have value"
                " greater than or equal to 1"
            ],
        )

    def test_patterns_re_cannot_read_are_left_out(self) -> None:
        """Tag keys' pattern uses Java's ``\\p{L}``: no refusal rather than a wrong one."""
        self.assertEqual(problems("CreateFunction", {**FUNCTION, "Tags": {"é key": "v"}}), [])


class ValidationTests(ErrorsMixin, LambdaTestCase):
    def test_several_errors_are_counted(self) -> None:
        client = self.daemon.client(parameter_validation=False)
        message = self.assertError(
            client.create_function,
            "ValidationException",
            400,
            **{**FUNCTION, "FunctionName": self.name(), "Code": {"ZipFile": PACKAGE}},
            Timeout=0,
            MemorySize=64,
        )
        self.assertEqual(
            message,
            "2 validation errors detected: Value '0' at 'timeout' failed to satisfy constraint:"
            " Member must have value greater than or equal to 1; Value '64' at 'memorySize'"
            " failed to satisfy constraint: Member must have value greater than or equal to 128",
        )
        message = self.assertError(client.list_functions, "ValidationException", 400, MaxItems=0)
        self.assertTrue(message.startswith("1 validation error detected: Value '0' at 'maxItems'"))

    def test_handler_and_role(self) -> None:
        members = load_service_model("lambda").operation_model("CreateFunction").input_shape.members
        for member, value in (("Handler", "has space"), ("Role", "not-a-role")):
            message = self.assertError(
                self.client.create_function,
                "ValidationException",
                400,
                **{**FUNCTION, "FunctionName": self.name(), member: value},
            )
            self.assertEqual(
                message,
                f"1 validation error detected: Value '{value}' at '{member.lower()}' failed to"
                " satisfy constraint: Member must satisfy regular expression pattern:"
                f" {members[member].metadata['pattern']}",
            )

    def test_limits_of_functions(self) -> None:
        name = self.create()
        for params, member, limit in (
            ({"Timeout": 901}, "timeout", 900),
            ({"MemorySize": 10241}, "memorySize", 10240),
            ({"EphemeralStorage": {"Size": 10241}}, "ephemeralStorage.size", 10240),
        ):
            message = self.assertError(
                self.client.update_function_configuration,
                "InvalidParameterValueException",
                400,
                FunctionName=name,
                **params,
            )
            value = limit + 1
            self.assertEqual(
                message,
                f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have"
                f" value less than or equal to {limit}",
            )
        config = self.client.get_function_configuration(FunctionName=name)
        self.assertEqual((config["Timeout"], config["MemorySize"]), (3, 128))

    def test_environment_over_4_kb(self) -> None:
        variables = {"BIG": "x" * 4087}
        message = self.assertError(
            self.client.create_function,
            "InvalidParameterValueException",
            400,
            **{**FUNCTION, "FunctionName": self.name(), "Code": {"ZipFile": PACKAGE}},
            Environment={"Variables": variables},
        )
        measured = json.dumps(variables, separators=(",", ":"))
        self.assertEqual(len(measured), 4097)
        self.assertEqual(
            message,
            "Lambda was unable to configure your environment variables because the environment"
            f" variables you have provided exceeded the 4KB limit. String measured: {measured}",
        )
        # 4 KB exactly is accepted.
        name = self.create(Environment={"Variables": {"BIG": "x" * 4086}})
        self.assertEqual(
            len(
                self.client.get_function_configuration(FunctionName=name)["Environment"][
                    "Variables"
                ]["BIG"]
            ),
            4086,
        )

    def test_layers(self) -> None:
        layer = zipped({"python/layered.py": "VALUE = 1\n"})
        first, second = (
            self.client.publish_layer_version(LayerName="twice", Content={"ZipFile": layer})[
                "LayerVersionArn"
            ]
            for _ in range(2)
        )
        message = self.assertError(
            self.client.create_function,
            "InvalidParameterValueException",
            400,
            **{**FUNCTION, "FunctionName": self.name(), "Code": {"ZipFile": PACKAGE}},
            Layers=[first] * 6,
        )
        self.assertEqual(message, "Cannot reference more than 5 layers.")
        message = self.assertError(
            self.client.create_function,
            "InvalidParameterValueException",
            400,
            **{**FUNCTION, "FunctionName": self.name(), "Code": {"ZipFile": PACKAGE}},
            Layers=[first, second],
        )
        self.assertEqual(
            message,
            "Two different versions of the same layer are not allowed to be referenced in the"
            f" same function. {first} and {second} are versions of the same layer.",
        )

    def test_alias_and_permission(self) -> None:
        name = self.create()
        message = self.assertError(
            self.client.create_alias,
            "ValidationException",
            400,
            FunctionName=name,
            Name="bad name!",
            FunctionVersion="$LATEST",
        )
        self.assertTrue(
            message.startswith("1 validation error detected: Value 'bad name!' at 'name'")
        )
        message = self.assertError(
            self.client.add_permission,
            "ValidationException",
            400,
            FunctionName=name,
            StatementId="bad id!",
            Action="lambda:InvokeFunction",
            Principal="*",
        )
        self.assertTrue(
            message.startswith("1 validation error detected: Value 'bad id!' at 'statementId'")
        )
