"""
Layers: ``PublishLayerVersion``, the operations that read, list and
delete layer versions, and their usage policies
(``AddLayerVersionPermission``...; kept and reported, not enforced).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Final

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors, zips
from awsemu.lambda_.code import Code
from awsemu.lambda_.common import Params, paged, public, scope_of, timestamp
from awsemu.lambda_.functions import Document, Scope, layer_arn
from awsemu.state.jsonfile import saving

LAYER_VERSION_ARN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9-_]+):(?P<version>[0-9]+)"
)


class Layers(Code):
    """Layer versions, kept per scope and name."""

    def _layer_version(self, scope: Scope, name: str, number: int) -> Document | None:
        for layer in self.store.layers.get(scope, {}).get(name, []):
            if layer["Version"] == number and not layer.get("_deleted"):
                return layer
        return None

    def _layer_output(self, layer: Document) -> Document:
        output = public(layer)
        output["Content"] = {**layer["Content"], "Location": self.code_url(layer["_package"])}
        return output

    @saving
    async def publish_layer_version(self, context: RequestContext, params: Params) -> Document:
        scope = scope_of(context)
        name = params["LayerName"]
        data = await self._package(context, params["Content"])
        versions = self.store.layer_versions(scope, name)
        number = len(versions) + 1
        arn = layer_arn(scope, name)
        layer: Document = {
            "LayerArn": arn,
            "LayerVersionArn": f"{arn}:{number}",
            "Description": params.get("Description", ""),
            "CreatedDate": timestamp(self.clock.seconds()),
            "Version": number,
            "Content": {"CodeSha256": zips.code_sha256(data), "CodeSize": len(data)},
            "_package": self.store.packages.put(data),
        }
        for member in ("CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"):
            if member in params:
                layer[member] = params[member]
        versions.append(layer)
        return self._layer_output(layer)

    def _found_layer(self, scope: Scope, name: str, number: int) -> Document:
        layer = self._layer_version(scope, name, number)
        if layer is None:
            raise errors.not_found("The resource you requested does not exist.")
        return layer

    def _layer_name(self, text: str) -> str:
        return text.rpartition(":layer:")[2] if ":layer:" in text else text

    async def get_layer_version(self, context: RequestContext, params: Params) -> Document:
        name = self._layer_name(params["LayerName"])
        return self._layer_output(
            self._found_layer(scope_of(context), name, params["VersionNumber"])
        )

    async def get_layer_version_by_arn(self, context: RequestContext, params: Params) -> Document:
        found = LAYER_VERSION_ARN.fullmatch(params["Arn"])
        if found is None:
            raise errors.invalid(f"Invalid layer version ARN: {params['Arn']}")
        scope = (found.group("account"), found.group("region"))
        return self._layer_output(
            self._found_layer(scope, found.group("name"), int(found.group("version")))
        )

    def _matching(self, layers: Iterable[Document], params: Params) -> list[Document]:
        runtime = params.get("CompatibleRuntime")
        architecture = params.get("CompatibleArchitecture")
        return [
            layer
            for layer in layers
            if not layer.get("_deleted")
            and (runtime is None or runtime in layer.get("CompatibleRuntimes", ()))
            and (architecture is None or architecture in layer.get("CompatibleArchitectures", ()))
        ]

    async def list_layers(self, context: RequestContext, params: Params) -> Document:
        entries = []
        for name, versions in sorted(self.store.layers.get(scope_of(context), {}).items()):
            matching = self._matching(versions, params)
            if matching:
                latest = public(matching[-1])
                del latest["Content"], latest["LayerArn"]
                entries.append(
                    {
                        "LayerName": name,
                        "LayerArn": matching[-1]["LayerArn"],
                        "LatestMatchingVersion": latest,
                    }
                )
        return paged("Layers", entries, params, lambda e: str(e["LayerName"]))

    async def list_layer_versions(self, context: RequestContext, params: Params) -> Document:
        name = self._layer_name(params["LayerName"])
        versions = self._matching(
            self.store.layers.get(scope_of(context), {}).get(name, []), params
        )
        documents = []
        for layer in reversed(versions):
            document = public(layer)
            del document["Content"]
            documents.append(document)
        return paged(
            "LayerVersions", documents, params, lambda d: str(10**9 - d["Version"]).rjust(10, "0")
        )

    @saving
    async def delete_layer_version(self, context: RequestContext, params: Params) -> Document:
        name = self._layer_name(params["LayerName"])
        layer = self._layer_version(scope_of(context), name, params["VersionNumber"])
        if layer is not None:
            layer["_deleted"] = True
        return {}

    def _policy_layer(self, context: RequestContext, params: Params) -> Document:
        name = self._layer_name(params["LayerName"])
        layer = self._layer_version(scope_of(context), name, params["VersionNumber"])
        if layer is None:
            arn = f"{layer_arn(scope_of(context), name)}:{params['VersionNumber']}"
            raise errors.not_found(f"Layer version {arn} does not exist.")
        revision = params.get("RevisionId")
        if revision is not None and revision != layer.get("_PolicyRevision"):
            raise errors.precondition_failed()
        return layer

    @saving
    async def add_layer_version_permission(
        self, context: RequestContext, params: Params
    ) -> Document:
        layer = self._policy_layer(context, params)
        statements: list[Document] = layer.setdefault("_Policy", [])
        sid = params["StatementId"]
        if any(statement["Sid"] == sid for statement in statements):
            raise errors.statement_exists(sid)
        principal = params["Principal"]
        statement: Document = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal
            if principal == "*"
            else {
                "AWS": principal
                if principal.startswith("arn:")
                else f"arn:aws:iam::{principal}:root"
            },
            "Action": params["Action"],
            "Resource": layer["LayerVersionArn"],
        }
        if "OrganizationId" in params:
            statement["Condition"] = {
                "StringEquals": {"aws:PrincipalOrgID": params["OrganizationId"]}
            }
        statements.append(statement)
        layer["_PolicyRevision"] = self.new_id()
        return {"Statement": json.dumps(statement), "RevisionId": layer["_PolicyRevision"]}

    async def get_layer_version_policy(self, context: RequestContext, params: Params) -> Document:
        layer = self._policy_layer(context, params)
        if not layer.get("_Policy"):
            raise errors.not_found("No policy is associated with the given resource.")
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": layer["_Policy"]}
        return {"Policy": json.dumps(policy), "RevisionId": layer["_PolicyRevision"]}

    @saving
    async def remove_layer_version_permission(
        self, context: RequestContext, params: Params
    ) -> Document:
        layer = self._policy_layer(context, params)
        statements = layer.get("_Policy", [])
        kept = [statement for statement in statements if statement["Sid"] != params["StatementId"]]
        if len(kept) == len(statements):
            raise errors.statement_missing(params["StatementId"])
        layer["_Policy"] = kept
        layer["_PolicyRevision"] = self.new_id()
        return {}
