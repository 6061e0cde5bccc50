"""
Published versions and aliases: ``PublishVersion``, ``ListVersionsByFunction``
and the ``*Alias*`` operations.
"""

from __future__ import annotations

import copy

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.lambda_.common import Params, ProviderBase, paged, public, scope_of
from awsemu.lambda_.functions import LATEST, Document, Function, Scope, Version, function_arn
from awsemu.state.jsonfile import saving


class Versions(ProviderBase):
    """Versions and aliases."""

    def _publish(self, scope: Scope, function: Function, description: str) -> Version:
        """
        A new version from ``$LATEST``, or the newest one if ``$LATEST`` did
        not change since it was published, as AWS does. Versions have no
        ``LastUpdateStatus`` (AWS reports none for them).
        """
        latest = function.latest
        if function.published_from == latest.content_revision and function.versions:
            return function.versions[str(function.next_version - 1)]
        number = str(function.next_version)
        function.next_version += 1
        config = {
            key: value
            for key, value in copy.deepcopy(latest.config).items()
            if not key.startswith("LastUpdateStatus")
        }
        config["Version"] = number
        config["FunctionArn"] = function_arn(scope, function.name, number)
        config["RevisionId"] = self.new_id()
        if description:
            config["Description"] = description
        version = Version(config, latest.code, list(latest.layers))
        function.versions[number] = version
        function.published_from = latest.content_revision
        return version

    @saving
    async def publish_version(self, context: RequestContext, params: Params) -> Document:
        scope = scope_of(context)
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope, name)
        self._check_revision(function.latest, params)
        expected = params.get("CodeSha256")
        if expected is not None and expected != function.latest.config["CodeSha256"]:
            # AWS's message, as LocalStack's AWS-validated tests record it.
            raise errors.invalid(
                f"CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST"
                f" ({function.latest.config['CodeSha256']}). Please try again with the"
                " CodeSHA256 in $LATEST."
            )
        newest = function.versions.get(str(function.next_version - 1))
        version = self._publish(scope, function, params.get("Description", ""))
        if version is newest:
            return public(version.config)
        # A new version gives $LATEST a new revision too (as LocalStack's
        # AWS-validated tests find), and starts as a new function does.
        function.latest.config["RevisionId"] = self.new_id()
        return public(
            {
                **version.config,
                "State": "Pending",
                "StateReason": "The function is being created.",
                "StateReasonCode": "Creating",
            }
        )

    async def list_versions_by_function(self, context: RequestContext, params: Params) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope_of(context), name)
        configs = [public(v.config) for v in function.all_versions()]
        return paged(
            "Versions",
            configs,
            params,
            lambda c: "" if c["Version"] == LATEST else c["Version"].rjust(10, "0"),
        )

    def _alias(self, context: RequestContext, params: Params) -> tuple[Function, Document]:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope_of(context), name)
        alias = function.aliases.get(params["Name"])
        if alias is None:
            raise errors.not_found(
                f"Cannot find alias arn: {function_arn(scope_of(context), name, params['Name'])}"
            )
        return function, alias

    def _check_version(self, scope: Scope, function: Function, number: str) -> None:
        if number != LATEST and number not in function.versions:
            raise errors.function_not_found(function_arn(scope, function.name, number))

    @saving
    async def create_alias(self, context: RequestContext, params: Params) -> Document:
        scope = scope_of(context)
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope, name)
        alias_name = params["Name"]
        if alias_name in function.aliases:
            raise errors.conflict(f"Alias already exists: {function_arn(scope, name, alias_name)}")
        self._check_version(scope, function, params["FunctionVersion"])
        alias = {
            "AliasArn": function_arn(scope, name, alias_name),
            "Name": alias_name,
            "FunctionVersion": params["FunctionVersion"],
            "Description": params.get("Description", ""),
            "RevisionId": self.new_id(),
        }
        _route(alias, params)
        function.aliases[alias_name] = alias
        return alias

    async def get_alias(self, context: RequestContext, params: Params) -> Document:
        return self._alias(context, params)[1]

    @saving
    async def update_alias(self, context: RequestContext, params: Params) -> Document:
        function, alias = self._alias(context, params)
        revision = params.get("RevisionId")
        if revision is not None and revision != alias["RevisionId"]:
            raise errors.precondition_failed()
        if "FunctionVersion" in params:
            self._check_version(scope_of(context), function, params["FunctionVersion"])
        for member in ("FunctionVersion", "Description"):
            if member in params:
                alias[member] = params[member]
        _route(alias, params)
        alias["RevisionId"] = self.new_id()
        return alias

    @saving
    async def delete_alias(self, context: RequestContext, params: Params) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope_of(context), name)
        function.aliases.pop(params["Name"], None)
        return {}

    async def list_aliases(self, context: RequestContext, params: Params) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope_of(context), name)
        aliases = sorted(function.aliases.values(), key=lambda a: str(a["Name"]))
        if "FunctionVersion" in params:
            aliases = [a for a in aliases if a["FunctionVersion"] == params["FunctionVersion"]]
        return paged("Aliases", aliases, params, lambda a: str(a["Name"]))


def _route(alias: Document, params: Params) -> None:
    """
    Keep an alias's ``RoutingConfig`` only while it shifts traffic: AWS
    leaves the member out when there are no additional version weights
    (Terraform sends ``{}`` and would otherwise see a difference forever).
    """
    if "RoutingConfig" not in params:
        return
    if (params["RoutingConfig"] or {}).get("AdditionalVersionWeights"):
        alias["RoutingConfig"] = params["RoutingConfig"]
    else:
        alias.pop("RoutingConfig", None)
