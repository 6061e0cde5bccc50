"""
Lambda's API: one method per operation (the control plane, and Invoke,
which hands invocations to the ``Invoker``). This module holds functions
and their configuration; ``LambdaProvider`` puts together the families
kept in their own modules (versions and aliases, permissions, settings,
layers, invocation, function URLs, code signing, event source mappings).

Everything is kept per account and region (``Scope``). Creation and
updates finish at once, but their responses say ``Pending`` /
``InProgress`` as AWS's do, and every later read says ``Active`` /
``Successful``, so boto3's ``function_active_v2`` and
``function_updated_v2`` waiters pass on their first poll.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Final

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors, zips
from awsemu.lambda_.code import Code, CodeSource
from awsemu.lambda_.common import Params, ProviderBase, paged, public, scope_of, timestamp
from awsemu.lambda_.concurrency import Running
from awsemu.lambda_.functions import (
    LATEST,
    Document,
    Function,
    FunctionStore,
    Version,
    function_arn,
)
from awsemu.lambda_.invocations import EventQueue
from awsemu.lambda_.invoking import Invoker, Invoking
from awsemu.lambda_.layers import LAYER_VERSION_ARN, Layers
from awsemu.lambda_.mappings import EventSourceMappings, StreamCheck
from awsemu.lambda_.permissions import Permissions
from awsemu.lambda_.settings import FunctionSettings
from awsemu.lambda_.signing import CodeSigning
from awsemu.lambda_.url_configs import FunctionUrls
from awsemu.lambda_.versions import Versions
from awsemu.state.jsonfile import saving

_NAME: Final = re.compile(r"[a-zA-Z0-9-_]{1,64}")
MAX_TIMEOUT: Final = 900
"""Seconds a function runs at most, unless it runs on a capacity provider."""
MAX_MEMORY: Final = 10240
"""MB of memory (and of ephemeral storage) a function has at most, likewise."""
MAX_LAYERS: Final = 5
ENVIRONMENT_LIMIT: Final = 4096
"""Bytes the environment variables take at most, as JSON (AWS's "4 KB")."""
RESERVED_VARIABLES: Final = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


@functools.cache
def runtimes() -> frozenset[str]:
    """Every runtime botocore's model lists, deprecated ones included, as AWS accepts them."""
    from awsemu.protocol.model import load_service_model

    return frozenset(load_service_model("lambda").shape_for("Runtime").enum)


def runtime_version_arn(region: str, runtime: str) -> str:
    """A runtime version's ARN, AWS's shape (64 hex digits), the same for every use of a runtime."""
    return f"arn:aws:lambda:{region}::runtime:{zips.sha256_hex(runtime.encode())}"


def _logging(current: Document, given: Document) -> Document:
    """
    ``LoggingConfig`` after an update: log levels exist only with the JSON
    format (``INFO`` unless given), as AWS reports them.
    """
    merged = {**current, **given}
    if merged.get("LogFormat") == "JSON":
        merged.setdefault("ApplicationLogLevel", "INFO")
        merged.setdefault("SystemLogLevel", "INFO")
    else:
        merged.pop("ApplicationLogLevel", None)
        merged.pop("SystemLogLevel", None)
    return merged


@attrs.define
class LambdaProvider(
    Versions,
    Permissions,
    FunctionSettings,
    Layers,
    FunctionUrls,
    Invoking,
    CodeSigning,
    EventSourceMappings,
    Code,
    ProviderBase,
):
    """
    See the module docstring. ``endpoint_url`` is the daemon's own address
    (for ``Code.Location``); ``code_source`` is None when S3 is not served.
    """

    store: FunctionStore
    clock: IReactorTime
    invoker: Invoker
    events: EventQueue
    endpoint_url: str
    code_source: CodeSource | None = None
    streams: StreamCheck | None = None
    running: Running = attrs.Factory(Running)
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())

    # Configuration

    def _checked(self, params: Params) -> None:
        """
        The checks Lambda's service makes once a request passed the model's
        constraints (``validation``): the runtime, the limits of functions
        that do not run on capacity providers, and the environment's keys and size.
        """
        runtime = params.get("Runtime")
        known = runtimes()
        if runtime is not None and runtime not in known:
            raise errors.invalid(
                f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy"
                f" enum value set: [{', '.join(sorted(known))}] or be a valid ARN"
            )
        if "CapacityProviderConfig" not in params:
            for value, member, limit in (
                (params.get("Timeout"), "timeout", MAX_TIMEOUT),
                (params.get("MemorySize"), "memorySize", MAX_MEMORY),
                (
                    (params.get("EphemeralStorage") or {}).get("Size"),
                    "ephemeralStorage.size",
                    MAX_MEMORY,
                ),
            ):
                if value is not None and value > limit:
                    # The model allows more (for capacity providers); AWS's
                    # wording for this refusal is not documented: awsemu's,
                    # in the request validator's words.
                    raise errors.invalid(
                        f"Value '{value}' at '{member}' failed to satisfy constraint: Member must"
                        f" have value less than or equal to {limit}"
                    )
        variables = (params.get("Environment") or {}).get("Variables") or {}
        reserved = sorted(RESERVED_VARIABLES & set(variables))
        if reserved:
            raise errors.invalid(
                "Lambda was unable to configure your environment variables because the"
                " environment variables you have provided contains reserved keys that are"
                f" currently not supported for modification. Reserved keys used in this request:"
                f" {', '.join(reserved)}"
            )
        measured = json.dumps(variables, separators=(",", ":"))
        if len(measured.encode()) > ENVIRONMENT_LIMIT:
            # AWS's message (recalled; quoted in many deploy reports): the
            # variables as JSON, measured against 4 KB.
            raise errors.invalid(
                "Lambda was unable to configure your environment variables because the"
                " environment variables you have provided exceeded the 4KB limit. String"
                f" measured: {measured}"
            )

    def _layers(self, version: Version, arns: Iterable[str]) -> None:
        """Attach layer versions: shown by ARN and size, kept by package (deleting a layer
        version does not take it from the functions using it)."""
        arns = list(arns)
        if len(arns) > MAX_LAYERS:
            # AWS's message, as the Serverless Framework matches it.
            raise errors.invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
        layers, packages = [], []
        seen: dict[str, str] = {}
        for arn in arns:
            same = seen.setdefault(arn.rpartition(":")[0], arn)
            if same != arn:
                # AWS's message, as LocalStack's AWS-validated tests record it.
                raise errors.invalid(
                    "Two different versions of the same layer are not allowed to be referenced"
                    f" in the same function. {same} and {arn} are versions of the same layer."
                )
            found = LAYER_VERSION_ARN.fullmatch(arn)
            layer = None
            if found is not None:
                layer = self._layer_version(
                    (found.group("account"), found.group("region")),
                    found.group("name"),
                    int(found.group("version")),
                )
            if layer is None:
                raise errors.invalid(f"Layer version {arn} does not exist.")
            layers.append({"Arn": arn, "CodeSize": layer["Content"]["CodeSize"]})
            packages.append(layer["_package"])
        version.config["Layers"] = layers
        version.layers = packages

    def _configure(self, version: Version, params: Params) -> None:
        """Apply the configuration members of a Create or UpdateFunctionConfiguration."""
        config = version.config
        for member in (
            "Runtime",
            "Role",
            "Handler",
            "Description",
            "Timeout",
            "MemorySize",
            "DeadLetterConfig",
            "KMSKeyArn",
            "TracingConfig",
            "EphemeralStorage",
            "FileSystemConfigs",
        ):
            if member in params:
                config[member] = params[member]
        if "Environment" in params:
            config["Environment"] = {
                "Variables": dict(params["Environment"].get("Variables") or {})
            }
        if "Layers" in params:
            self._layers(version, params["Layers"])
        if "ImageConfig" in params:
            config["ImageConfigResponse"] = {"ImageConfig": params["ImageConfig"]}
        if "Runtime" in params:
            region = config["FunctionArn"].split(":")[3]
            config["RuntimeVersionConfig"] = {
                "RuntimeVersionArn": runtime_version_arn(region, params["Runtime"])
            }
        if "LoggingConfig" in params:
            config["LoggingConfig"] = _logging(config["LoggingConfig"], params["LoggingConfig"])
        if "VpcConfig" in params:
            config["VpcConfig"] = {**params["VpcConfig"], "VpcId": ""}
        self._changed(version)

    def _changed(self, version: Version) -> None:
        """The version's code or configuration changed: a new revision, as AWS gives one."""
        version.config["LastModified"] = timestamp(self.clock.seconds())
        version.config["RevisionId"] = version.config["_ContentRevision"] = self.new_id()

    def _set_code(self, version: Version, data: bytes | None, image_uri: str | None) -> None:
        config = version.config
        if data is not None:
            version.code = self.store.packages.put(data)
            config["CodeSize"] = len(data)
            config["CodeSha256"] = zips.code_sha256(data)
        else:
            version.code = None
            config["CodeSize"] = 0
            config["CodeSha256"] = zips.sha256_hex((image_uri or "").encode())

    def _output(self, version: Version, **state: str) -> Document:
        """A version's configuration as a response that reports a change in progress."""
        return public({**version.config, **state})

    # Functions

    @saving
    async def create_function(self, context: RequestContext, params: Params) -> Document:
        scope = scope_of(context)
        name = params["FunctionName"]
        if not _NAME.fullmatch(name):
            name, _ = self._reference(params, qualified=False)
        package_type = params.get("PackageType", "Zip")
        code = params.get("Code") or {}
        if package_type == "Zip":
            for member in ("Runtime", "Handler"):
                if member not in params:
                    raise errors.invalid(f"{member} is required for .zip file deployment package.")
        elif "ImageUri" not in code:
            raise errors.invalid("ImageUri is required for image deployment package.")
        if "Role" not in params:
            raise errors.invalid("Role is required.")
        self._checked(params)
        if "CodeSigningConfigArn" in params:
            self._attachable(context, params["CodeSigningConfigArn"])
        functions = self.store.in_scope(scope)
        if name in functions:
            raise errors.function_exists(name)
        data = await self._package(context, code) if package_type == "Zip" else None
        if name in functions:
            raise errors.function_exists(name)
        config: Document = {
            "FunctionName": name,
            "FunctionArn": function_arn(scope, name),
            "Description": "",
            "Timeout": 3,
            "MemorySize": 128,
            "Version": LATEST,
            "TracingConfig": {"Mode": "PassThrough"},
            "PackageType": package_type,
            "Architectures": params.get("Architectures") or ["x86_64"],
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
            "State": "Active",
            "LastUpdateStatus": "Successful",
        }
        if package_type == "Image":
            config["_ImageUri"] = code["ImageUri"]
        latest = Version(config)
        self._configure(latest, params)
        function = Function(
            name=name,
            latest=latest,
            tags=dict(params.get("Tags") or {}),
            code_signing_config=params.get("CodeSigningConfigArn"),
        )
        self._set_code(function.latest, data, code.get("ImageUri"))
        functions[name] = function
        if params.get("Publish"):
            self._publish(scope, function, "")
        return self._output(
            function.latest,
            State="Pending",
            StateReason="The function is being created.",
            StateReasonCode="Creating",
        )

    async def get_function(self, context: RequestContext, params: Params) -> Document:
        _, function, version = self._shared_version(context, params)
        output: Document = {"Configuration": public(version.config)}
        image_uri = version.config.get("_ImageUri")
        if image_uri is not None:
            output["Code"] = {
                "RepositoryType": "ECR",
                "ImageUri": image_uri,
                "ResolvedImageUri": image_uri,
            }
        else:
            assert version.code is not None
            output["Code"] = {"RepositoryType": "S3", "Location": self.code_url(version.code)}
        if function.tags:
            output["Tags"] = dict(function.tags)
        if function.reserved_concurrency is not None:
            output["Concurrency"] = {"ReservedConcurrentExecutions": function.reserved_concurrency}
        return output

    async def get_function_configuration(self, context: RequestContext, params: Params) -> Document:
        return public(self._shared_version(context, params)[2].config)

    async def list_functions(self, context: RequestContext, params: Params) -> Document:
        functions = sorted(self.store.in_scope(scope_of(context)).values(), key=lambda f: f.name)
        every_version = params.get("FunctionVersion") == "ALL"
        configs = [
            public(version.config)
            for function in functions
            for version in (function.all_versions() if every_version else [function.latest])
        ]
        return paged(
            "Functions",
            configs,
            params,
            lambda c: f"{c['FunctionName']}\0{c['Version'].rjust(10, '0')}",
        )

    @saving
    async def delete_function(self, context: RequestContext, params: Params) -> Document:
        scope = scope_of(context)
        function, qualifier = self._function(context, params)
        if qualifier is None:
            del self.store.in_scope(scope)[function.name]
            self.invoker.retire(scope, function.name, None)
        elif qualifier == LATEST:
            raise errors.invalid("$LATEST version cannot be deleted without deleting the function.")
        else:
            if qualifier not in function.versions:
                raise errors.function_not_found(function_arn(scope, function.name, qualifier))
            in_use = [
                a for a, alias in function.aliases.items() if alias["FunctionVersion"] == qualifier
            ]
            if in_use:
                raise errors.conflict(
                    f"Unable to delete version because the following aliases reference it: {in_use}"
                )
            del function.versions[qualifier]
            self.invoker.retire(scope, function.name, qualifier)
        return {"StatusCode": 204}

    @saving
    async def update_function_code(self, context: RequestContext, params: Params) -> Document:
        scope = scope_of(context)
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope, name)
        latest = function.latest
        self._check_revision(latest, params)
        if "ImageUri" in params:
            if latest.config["PackageType"] != "Image":
                raise errors.invalid(
                    "Please don't provide ImageUri when updating a function with packageType Zip."
                )
            latest.config["_ImageUri"] = params["ImageUri"]
            self._set_code(latest, None, params["ImageUri"])
        else:
            if latest.config["PackageType"] == "Image":
                raise errors.invalid(
                    "Please provide ImageUri when updating a function with packageType Image."
                )
            data = await self._package(context, params)
            if params.get("DryRun"):
                return public(latest.config)
            self._set_code(latest, data, None)
        if "Architectures" in params:
            latest.config["Architectures"] = params["Architectures"]
        self._changed(latest)
        self.invoker.retire(scope, name, LATEST)
        if params.get("Publish"):
            self._publish(scope, function, "")
        return self._updating(function)

    def _updating(self, function: Function) -> Document:
        return self._output(
            function.latest,
            LastUpdateStatus="InProgress",
            LastUpdateStatusReason="The function is being created.",
            LastUpdateStatusReasonCode="Creating",
        )

    @saving
    async def update_function_configuration(
        self, context: RequestContext, params: Params
    ) -> Document:
        scope = scope_of(context)
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope, name)
        self._check_revision(function.latest, params)
        self._checked(params)
        self._configure(function.latest, params)
        self.invoker.retire(scope, name, LATEST)
        return self._updating(function)

    # Tags

    def _tagged(self, context: RequestContext, params: Params) -> dict[str, str]:
        """
        The tags of the resource ``Resource`` names: a function, an event
        source mapping or a code signing configuration (kept in their
        documents as ``_Tags``).
        """
        arn = params["Resource"]
        kind, _, resource_id = arn.rpartition(":")
        if kind.endswith(":event-source-mapping"):
            document = self._mapping(context, {"UUID": resource_id})
        elif kind.endswith(":code-signing-config"):
            document = self._config(context, arn)
        else:
            return self._function(context, {"FunctionName": arn})[0].tags
        tags: dict[str, str] = document.setdefault("_Tags", {})
        return tags

    @saving
    async def tag_resource(self, context: RequestContext, params: Params) -> Document:
        self._tagged(context, params).update(params["Tags"])
        return {}

    @saving
    async def untag_resource(self, context: RequestContext, params: Params) -> Document:
        tags = self._tagged(context, params)
        for key in params["TagKeys"]:
            tags.pop(key, None)
        return {}

    async def list_tags(self, context: RequestContext, params: Params) -> Document:
        return {"Tags": dict(self._tagged(context, params))}
