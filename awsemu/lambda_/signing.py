"""
Code signing configurations and their attachment to functions.

Nothing is ever verified (awsemu has no AWS Signer): the configurations
are kept and reported as AWS reports them, because deploy tools read them
back. Terraform's ``aws_lambda_function`` calls
``GetFunctionCodeSigningConfig`` on every read of a zip function, and
CloudFormation and the CDK manage ``AWS::Lambda::CodeSigningConfig``.
"""

from __future__ import annotations

import re

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.lambda_.common import (
    Params,
    ProviderBase,
    model_pattern,
    paged,
    public,
    scope_of,
    timestamp,
)
from awsemu.lambda_.functions import Document, Scope
from awsemu.protocol.errors import ServiceError
from awsemu.state.jsonfile import saving


def _config_arn(scope: Scope, config_id: str) -> str:
    account_id, region = scope
    return f"arn:aws:lambda:{region}:{account_id}:code-signing-config:{config_id}"


def _missing(arn: str) -> ServiceError:
    return errors.not_found(f"The Lambda code signing configuration {arn} can not be found.")


class CodeSigning(ProviderBase):
    """``*CodeSigningConfig*`` operations."""

    def _new_config_id(self) -> str:
        """``csc-`` and 17 lowercase letters and digits, as AWS's ids are."""
        return "csc-" + self.new_id().replace("-", "")[:17]

    def _config(self, context: RequestContext, arn: str) -> Document:
        expected = model_pattern("CodeSigningConfigArn")
        if re.fullmatch(expected, arn) is None:
            raise errors.validation(arn, "codeSigningConfigArn", errors.pattern(expected))
        _, _, _, region, account_id, _, config_id = arn.split(":")
        scope = scope_of(context)
        config = self.store.code_signing_configs.get(scope, {}).get(config_id)
        if config is None or (account_id, region) != scope:
            raise _missing(arn)
        return config

    def _attachable(self, context: RequestContext, arn: str) -> None:
        """Check that a function may name the configuration ``arn``: it exists."""
        try:
            self._config(context, arn)
        except ServiceError as e:
            if e.code != "ResourceNotFoundException":
                raise
            raise ServiceError(
                "CodeSigningConfigNotFoundException",
                "The code signing configuration cannot be found. Check that the provided"
                f" configuration is not deleted: {arn}.",
                404,
            ) from e

    @saving
    async def create_code_signing_config(self, context: RequestContext, params: Params) -> Document:
        scope = scope_of(context)
        config_id = self._new_config_id()
        config: Document = {
            "CodeSigningConfigId": config_id,
            "CodeSigningConfigArn": _config_arn(scope, config_id),
            "Description": params.get("Description", ""),
            "AllowedPublishers": params["AllowedPublishers"],
            "CodeSigningPolicies": params.get("CodeSigningPolicies")
            or {"UntrustedArtifactOnDeployment": "Warn"},
            "LastModified": timestamp(self.clock.seconds()),
            "_Tags": dict(params.get("Tags") or {}),
        }
        self.store.code_signing_configs.setdefault(scope, {})[config_id] = config
        return {"CodeSigningConfig": public(config)}

    async def get_code_signing_config(self, context: RequestContext, params: Params) -> Document:
        return {"CodeSigningConfig": public(self._config(context, params["CodeSigningConfigArn"]))}

    @saving
    async def update_code_signing_config(self, context: RequestContext, params: Params) -> Document:
        config = self._config(context, params["CodeSigningConfigArn"])
        for member in ("Description", "AllowedPublishers", "CodeSigningPolicies"):
            if member in params:
                config[member] = params[member]
        config["LastModified"] = timestamp(self.clock.seconds())
        return {"CodeSigningConfig": public(config)}

    @saving
    async def delete_code_signing_config(self, context: RequestContext, params: Params) -> Document:
        arn = params["CodeSigningConfigArn"]
        config = self._config(context, arn)
        functions = self.store.in_scope(scope_of(context)).values()
        if any(function.code_signing_config == arn for function in functions):
            raise errors.conflict(
                f"The code signing configuration {arn} cannot be deleted because it is"
                " used by one or more functions."
            )
        del self.store.code_signing_configs[scope_of(context)][config["CodeSigningConfigId"]]
        return {}

    async def list_code_signing_configs(self, context: RequestContext, params: Params) -> Document:
        configs = sorted(
            self.store.code_signing_configs.get(scope_of(context), {}).values(),
            key=lambda config: str(config["CodeSigningConfigId"]),
        )
        return paged("CodeSigningConfigs", configs, params, lambda c: str(c["CodeSigningConfigId"]))

    async def list_functions_by_code_signing_config(
        self, context: RequestContext, params: Params
    ) -> Document:
        arn = params["CodeSigningConfigArn"]
        self._config(context, arn)
        scope = scope_of(context)
        arns = sorted(
            function.latest.config["FunctionArn"]
            for function in self.store.in_scope(scope).values()
            if function.code_signing_config == arn
        )
        return paged("FunctionArns", arns, params, str)

    @saving
    async def put_function_code_signing_config(
        self, context: RequestContext, params: Params
    ) -> Document:
        function = self._unqualified(context, params)
        arn = params["CodeSigningConfigArn"]
        self._attachable(context, arn)
        function.code_signing_config = arn
        return {"CodeSigningConfigArn": arn, "FunctionName": function.name}

    async def get_function_code_signing_config(
        self, context: RequestContext, params: Params
    ) -> Document:
        """Without a configuration, both members (required in the model) are empty."""
        function = self._unqualified(context, params)
        if function.code_signing_config is None:
            return {"CodeSigningConfigArn": "", "FunctionName": ""}
        return {"CodeSigningConfigArn": function.code_signing_config, "FunctionName": function.name}

    @saving
    async def delete_function_code_signing_config(
        self, context: RequestContext, params: Params
    ) -> Document:
        self._unqualified(context, params).code_signing_config = None
        return {}
