"""
Lambda's API: one method per operation (the control plane, and Invoke,
which hands invocations to the ``Invoker``).

Everything is kept per account and region (``Scope``). Creation and
updates finish at once, but their responses say ``Pending`` /
``InProgress`` as AWS's do, and every later read says ``Active`` /
``Successful``, so boto3's ``function_active_v2`` and
``function_updated_v2`` waiters pass on their first poll.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from base64 import b64decode, urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import attrs
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors, urls, zips
from awsemu.lambda_.functions import (
    LATEST,
    Document,
    Function,
    FunctionStore,
    Scope,
    Version,
    function_arn,
    layer_arn,
)
from awsemu.lambda_.invocations import (
    MAX_EVENT_PAYLOAD,
    MAX_PAYLOAD,
    EventQueue,
    Invocation,
    Outcome,
)
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.state.jsonfile import saving

Params = dict[str, Any]

RUNTIMES: Final = frozenset(
    {
        *(f"python3.{minor}" for minor in range(9, 14)),
        "nodejs18.x",
        "nodejs20.x",
        "nodejs22.x",
        "provided.al2",
        "provided.al2023",
    }
)
_ROLE: Final = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
_HANDLER: Final = re.compile(r"[^\s]{1,128}")
_NAME: Final = re.compile(r"[a-zA-Z0-9-_]{1,64}")
_FUNCTION_REFERENCE: Final = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:(?P<account>\d{12}):function:)?"
    r"(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?"
)
_LAYER_VERSION_ARN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9-_]+):(?P<version>[0-9]+)"
)
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
CODE_PATH: Final = "/2015-03-31/_awsemu/code/"
"""
Where ``Code.Location`` URLs point: under a Lambda API prefix, so the
gateway's routing already hands the download to this service.
"""
DEFAULT_PAGE: Final = 50


class CodeSource(Protocol):
    """Reads a package out of S3 for ``S3Bucket``/``S3Key``/``S3ObjectVersion``."""

    def fetch(
        self, context: RequestContext, bucket: str, key: str, version: str | None
    ) -> Awaitable[bytes]: ...


class Invoker(Protocol):
    """Runs invocations of stored function versions in execution environments."""

    def invoke(
        self, scope: Scope, function: Function, version: Version, invocation: Invocation
    ) -> Deferred[Outcome]: ...

    def busy(self, scope: Scope, name: str) -> int:
        """How many environments of the function are running an invocation."""

    def retire(self, scope: Scope, name: str, version: str | None) -> None:
        """Stop the environments of a version (all versions: None) once they are free."""


def _scope(context: RequestContext) -> Scope:
    return (context.account_id, context.region)


def _timestamp(seconds: float) -> str:
    """Lambda's ``LastModified`` text: ``2024-05-01T12:00:00.000+0000``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _page(
    items: Sequence[Any], params: Params, key: Callable[[Any], str]
) -> tuple[list[Any], str | None]:
    """One page of ``items`` (in order of ``key``) from ``Marker``, with the next marker."""
    marker = params.get("Marker")
    try:
        start = urlsafe_b64decode(marker.encode()).decode() if marker else ""
    except ValueError as e:  # binascii.Error and UnicodeDecodeError both are
        raise errors.invalid("Invalid Marker") from e
    remaining = [item for item in items if key(item) >= start]
    limit = params.get("MaxItems") or DEFAULT_PAGE
    if limit < 1:
        raise errors.invalid(
            f"1 validation error detected: Value '{limit}' at 'maxItems' failed to satisfy"
            " constraint: Member must have value greater than or equal to 1"
        )
    if len(remaining) <= limit:
        return remaining, None
    return remaining[:limit], urlsafe_b64encode(key(remaining[limit]).encode()).decode()


def _public(document: Document) -> Document:
    """A stored document without the store's own (``_``-prefixed) keys."""
    return {key: value for key, value in document.items() if not key.startswith("_")}


@attrs.define
class LambdaProvider:
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
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())

    # Names and qualifiers

    def _reference(self, params: Params, qualified: bool = True) -> tuple[str, str | None]:
        """
        The function name and qualifier a ``FunctionName`` (a name, a partial
        or full ARN, any of them with ``:qualifier``) and ``Qualifier`` give.
        """
        text = params["FunctionName"]
        found = _FUNCTION_REFERENCE.fullmatch(text)
        if found is None:
            raise errors.invalid(f"Invalid function name: {text}")
        name, qualifier = found.group("name"), found.group("qualifier")
        given = params.get("Qualifier")
        if qualifier is not None and given is not None and given != qualifier:
            raise errors.invalid(
                "The derived qualifier from the function name does not match the specified"
                " qualifier."
            )
        qualifier = qualifier or given
        if qualifier is not None and not qualified:
            raise errors.invalid(f"Unqualified function name expected: {text}")
        return name, qualifier

    def _function(self, context: RequestContext, params: Params) -> tuple[Function, str | None]:
        name, qualifier = self._reference(params)
        return self.store.function(_scope(context), name), qualifier

    def _version(self, context: RequestContext, params: Params) -> tuple[Function, Version]:
        function, qualifier = self._function(context, params)
        version = function.version(qualifier)
        if version is None:
            raise errors.function_not_found(function_arn(_scope(context), function.name, qualifier))
        return function, version

    # Code

    async def _package(self, context: RequestContext, code: Params) -> bytes:
        if "ZipFile" in code:
            data: bytes = code["ZipFile"]
            zips.check_zipped_size(data)
        elif "S3Bucket" in code and "S3Key" in code:
            if self.code_source is None:
                raise errors.invalid("S3 is not served by this awsemu: upload the code as ZipFile.")
            data = await self.code_source.fetch(
                context, code["S3Bucket"], code["S3Key"], code.get("S3ObjectVersion")
            )
        else:
            raise errors.invalid("Please provide a source for function code.")
        zips.unzipped_size(data)
        return data

    def code_url(self, key: str) -> str:
        return f"{self.endpoint_url}{CODE_PATH}{key}.zip"

    def package(self, path: str) -> bytes | None:
        """The package a ``Code.Location`` path names, for the download; None if none."""
        key = path.removeprefix(CODE_PATH).removesuffix(".zip")
        try:
            return self.store.packages.get(key)
        except (KeyError, OSError):
            return None

    # Configuration

    def _checked(self, params: Params) -> None:
        runtime = params.get("Runtime")
        if runtime is not None and runtime not in RUNTIMES:
            raise errors.invalid(
                f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy"
                f" enum value set: [{', '.join(sorted(RUNTIMES))}] or be a valid ARN"
            )
        handler = params.get("Handler")
        if handler is not None and not _HANDLER.fullmatch(handler):
            raise errors.invalid(
                f"Value {handler} at 'handler' failed to satisfy constraint: Member must satisfy"
                r" regular expression pattern: [^\s]+"
            )
        role = params.get("Role")
        if role is not None and not _ROLE.fullmatch(role):
            raise errors.invalid(
                f"Value {role} at 'role' failed to satisfy constraint: Member must satisfy"
                r" regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?"
                r"[a-zA-Z_0-9+=,.@\-_/]+"
            )
        timeout = params.get("Timeout")
        if timeout is not None and not 1 <= timeout <= 900:
            raise errors.invalid(f"Value {timeout} at 'timeout' failed to satisfy constraint")
        memory = params.get("MemorySize")
        if memory is not None and not 128 <= memory <= 10240:
            raise errors.invalid(f"Value {memory} at 'memorySize' failed to satisfy constraint")
        variables = (params.get("Environment") or {}).get("Variables") or {}
        reserved = sorted(RESERVED_VARIABLES & set(variables))
        if reserved:
            raise errors.invalid(
                "Lambda was unable to configure your environment variables because the"
                " environment variables you have provided contains reserved keys that are"
                f" currently not supported for modification. Reserved keys used in this request:"
                f" {', '.join(reserved)}"
            )

    def _layers(self, version: Version, arns: Iterable[str]) -> None:
        """Attach layer versions: shown by ARN and size, kept by package (deleting a layer
        version does not take it from the functions using it)."""
        layers, packages = [], []
        for arn in arns:
            found = _LAYER_VERSION_ARN.fullmatch(arn)
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
        if "LoggingConfig" in params:
            config["LoggingConfig"] = {**config["LoggingConfig"], **params["LoggingConfig"]}
        if "VpcConfig" in params:
            config["VpcConfig"] = {**params["VpcConfig"], "VpcId": ""}
        config["LastModified"] = _timestamp(self.clock.seconds())
        config["RevisionId"] = self.new_id()

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
        return _public({**version.config, **state})

    # Functions

    @saving
    async def create_function(self, context: RequestContext, params: Params) -> Document:
        scope = _scope(context)
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
        function = Function(name=name, latest=latest, tags=dict(params.get("Tags") or {}))
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
        function, version = self._version(context, params)
        output: Document = {"Configuration": _public(version.config)}
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
        return _public(self._version(context, params)[1].config)

    async def list_functions(self, context: RequestContext, params: Params) -> Document:
        functions = sorted(self.store.in_scope(_scope(context)).values(), key=lambda f: f.name)
        every_version = params.get("FunctionVersion") == "ALL"
        configs = [
            _public(version.config)
            for function in functions
            for version in (function.all_versions() if every_version else [function.latest])
        ]
        page, marker = _page(
            configs, params, lambda c: f"{c['FunctionName']}\0{c['Version'].rjust(10, '0')}"
        )
        output: Document = {"Functions": page}
        if marker is not None:
            output["NextMarker"] = marker
        return output

    @saving
    async def delete_function(self, context: RequestContext, params: Params) -> Document:
        scope = _scope(context)
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

    def _check_revision(self, version: Version, params: Params) -> None:
        revision = params.get("RevisionId")
        if revision is not None and revision != version.revision:
            raise errors.precondition_failed()

    @saving
    async def update_function_code(self, context: RequestContext, params: Params) -> Document:
        scope = _scope(context)
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
                return _public(latest.config)
            self._set_code(latest, data, None)
        if "Architectures" in params:
            latest.config["Architectures"] = params["Architectures"]
        latest.config["LastModified"] = _timestamp(self.clock.seconds())
        latest.config["RevisionId"] = self.new_id()
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
        scope = _scope(context)
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope, name)
        self._check_revision(function.latest, params)
        self._checked(params)
        self._configure(function.latest, params)
        self.invoker.retire(scope, name, LATEST)
        return self._updating(function)

    # Versions

    def _publish(self, scope: Scope, function: Function, description: str) -> Version:
        latest = function.latest
        if function.published_from == latest.revision and function.versions:
            return function.versions[str(function.next_version - 1)]
        number = str(function.next_version)
        function.next_version += 1
        config = copy.deepcopy(latest.config)
        config["Version"] = number
        config["FunctionArn"] = function_arn(scope, function.name, number)
        config["RevisionId"] = self.new_id()
        if description:
            config["Description"] = description
        version = Version(config, latest.code, list(latest.layers))
        function.versions[number] = version
        function.published_from = latest.revision
        return version

    @saving
    async def publish_version(self, context: RequestContext, params: Params) -> Document:
        scope = _scope(context)
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope, name)
        self._check_revision(function.latest, params)
        expected = params.get("CodeSha256")
        if expected is not None and expected != function.latest.config["CodeSha256"]:
            raise errors.invalid(
                f"CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST"
                f" ({function.latest.config['CodeSha256']}). Please try again."
            )
        version = self._publish(scope, function, params.get("Description", ""))
        return _public(version.config)

    async def list_versions_by_function(self, context: RequestContext, params: Params) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(_scope(context), name)
        configs = [_public(v.config) for v in function.all_versions()]
        page, marker = _page(
            configs, params, lambda c: "" if c["Version"] == LATEST else c["Version"].rjust(10, "0")
        )
        output: Document = {"Versions": page}
        if marker is not None:
            output["NextMarker"] = marker
        return output

    # Aliases

    def _alias(self, context: RequestContext, params: Params) -> tuple[Function, Document]:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(_scope(context), name)
        alias = function.aliases.get(params["Name"])
        if alias is None:
            raise errors.not_found(
                f"Cannot find alias arn: {function_arn(_scope(context), name, params['Name'])}"
            )
        return function, alias

    def _check_version(self, scope: Scope, function: Function, number: str) -> None:
        if number != LATEST and number not in function.versions:
            raise errors.function_not_found(function_arn(scope, function.name, number))

    @saving
    async def create_alias(self, context: RequestContext, params: Params) -> Document:
        scope = _scope(context)
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
        if "RoutingConfig" in params:
            alias["RoutingConfig"] = params["RoutingConfig"]
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
            self._check_version(_scope(context), function, params["FunctionVersion"])
        for member in ("FunctionVersion", "Description", "RoutingConfig"):
            if member in params:
                alias[member] = params[member]
        alias["RevisionId"] = self.new_id()
        return alias

    @saving
    async def delete_alias(self, context: RequestContext, params: Params) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(_scope(context), name)
        function.aliases.pop(params["Name"], None)
        return {}

    async def list_aliases(self, context: RequestContext, params: Params) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(_scope(context), name)
        aliases = sorted(function.aliases.values(), key=lambda a: str(a["Name"]))
        if "FunctionVersion" in params:
            aliases = [a for a in aliases if a["FunctionVersion"] == params["FunctionVersion"]]
        page, marker = _page(aliases, params, lambda a: str(a["Name"]))
        output: Document = {"Aliases": page}
        if marker is not None:
            output["NextMarker"] = marker
        return output

    # Permissions

    def _policy_target(self, context: RequestContext, params: Params) -> tuple[Function, str]:
        function, qualifier = self._function(context, params)
        if qualifier is not None and function.version(qualifier) is None:
            raise errors.function_not_found(function_arn(_scope(context), function.name, qualifier))
        return function, qualifier or ""

    @saving
    async def add_permission(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        statements = function.policies.setdefault(qualifier, [])
        sid = params["StatementId"]
        if any(statement["Sid"] == sid for statement in statements):
            raise errors.conflict(
                f"The statement id ({sid}) provided already exists. Please provide a new"
                " statement id, or remove the existing statement."
            )
        principal = params["Principal"]
        condition: Document = {}
        if "SourceArn" in params:
            condition["ArnLike"] = {"AWS:SourceArn": params["SourceArn"]}
        if "SourceAccount" in params:
            condition["StringEquals"] = {"AWS:SourceAccount": params["SourceAccount"]}
        if "PrincipalOrgID" in params:
            condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = params[
                "PrincipalOrgID"
            ]
        if "FunctionUrlAuthType" in params:
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = params[
                "FunctionUrlAuthType"
            ]
        statement: Document = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal
            if principal == "*"
            else (
                {"Service": principal}
                if principal.endswith(".amazonaws.com")
                else {"AWS": principal}
            ),
            "Action": params["Action"],
            "Resource": function_arn(_scope(context), function.name, qualifier or None),
        }
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
        return {"Statement": json.dumps(statement)}

    @saving
    async def remove_permission(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        statements = function.policies.get(qualifier, [])
        sid = params["StatementId"]
        kept = [statement for statement in statements if statement["Sid"] != sid]
        if len(kept) == len(statements):
            raise errors.not_found(f"Statement {sid} is not found in resource policy.")
        function.policies[qualifier] = kept
        return {}

    async def get_policy(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        statements = function.policies.get(qualifier)
        if not statements:
            raise errors.not_found("The resource you requested does not exist.")
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        return {"Policy": json.dumps(policy), "RevisionId": function.latest.revision}

    # Tags

    def _tagged(self, context: RequestContext, params: Params) -> Function:
        return self._function(context, {"FunctionName": params["Resource"]})[0]

    @saving
    async def tag_resource(self, context: RequestContext, params: Params) -> Document:
        self._tagged(context, params).tags.update(params["Tags"])
        return {}

    @saving
    async def untag_resource(self, context: RequestContext, params: Params) -> Document:
        tags = self._tagged(context, params).tags
        for key in params["TagKeys"]:
            tags.pop(key, None)
        return {}

    async def list_tags(self, context: RequestContext, params: Params) -> Document:
        return {"Tags": dict(self._tagged(context, params).tags)}

    # Concurrency and asynchronous invocation settings

    @saving
    async def put_function_concurrency(self, context: RequestContext, params: Params) -> Document:
        function, _ = self._function(context, params)
        function.reserved_concurrency = params["ReservedConcurrentExecutions"]
        return {"ReservedConcurrentExecutions": function.reserved_concurrency}

    async def get_function_concurrency(self, context: RequestContext, params: Params) -> Document:
        function, _ = self._function(context, params)
        if function.reserved_concurrency is None:
            return {}
        return {"ReservedConcurrentExecutions": function.reserved_concurrency}

    @saving
    async def delete_function_concurrency(
        self, context: RequestContext, params: Params
    ) -> Document:
        function, _ = self._function(context, params)
        function.reserved_concurrency = None
        return {}

    def _event_config_output(
        self, context: RequestContext, function: Function, qualifier: str
    ) -> Document:
        settings = function.event_configs.get(qualifier)
        if settings is None:
            raise errors.not_found(
                f"The function {function_arn(_scope(context), function.name, qualifier or None)}"
                " doesn't have an EventInvokeConfig"
            )
        return {
            **settings,
            "FunctionArn": function_arn(_scope(context), function.name, qualifier or None),
            "LastModified": datetime.fromtimestamp(settings["LastModified"], UTC),
        }

    def _set_event_config(self, context: RequestContext, params: Params, merge: bool) -> Document:
        function, qualifier = self._policy_target(context, params)
        settings = dict(function.event_configs.get(qualifier, {})) if merge else {}
        for member in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"):
            if member in params:
                settings[member] = params[member]
        settings["LastModified"] = self.clock.seconds()
        function.event_configs[qualifier] = settings
        return self._event_config_output(context, function, qualifier)

    @saving
    async def put_function_event_invoke_config(
        self, context: RequestContext, params: Params
    ) -> Document:
        return self._set_event_config(context, params, merge=False)

    @saving
    async def update_function_event_invoke_config(
        self, context: RequestContext, params: Params
    ) -> Document:
        return self._set_event_config(context, params, merge=True)

    async def get_function_event_invoke_config(
        self, context: RequestContext, params: Params
    ) -> Document:
        function, qualifier = self._policy_target(context, params)
        return self._event_config_output(context, function, qualifier)

    @saving
    async def delete_function_event_invoke_config(
        self, context: RequestContext, params: Params
    ) -> Document:
        function, qualifier = self._policy_target(context, params)
        self._event_config_output(context, function, qualifier)
        del function.event_configs[qualifier]
        return {}

    async def list_function_event_invoke_configs(
        self, context: RequestContext, params: Params
    ) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(_scope(context), name)
        configs = [
            self._event_config_output(context, function, qualifier)
            for qualifier in sorted(function.event_configs)
        ]
        return {"FunctionEventInvokeConfigs": configs}

    async def get_account_settings(self, context: RequestContext, params: Params) -> Document:
        functions = self.store.in_scope(_scope(context)).values()
        total = sum(v.config["CodeSize"] for f in functions for v in f.all_versions())
        reserved = sum(f.reserved_concurrency or 0 for f in functions)
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": 1000,
                "UnreservedConcurrentExecutions": 1000 - reserved,
            },
            "AccountUsage": {"TotalCodeSize": total, "FunctionCount": len(functions)},
        }

    # Layers

    def _layer_version(self, scope: Scope, name: str, number: int) -> Document | None:
        for layer in self.store.layers.get(scope, {}).get(name, []):
            if layer["Version"] == number and not layer.get("_deleted"):
                return layer
        return None

    def _layer_output(self, layer: Document) -> Document:
        output = _public(layer)
        output["Content"] = {**layer["Content"], "Location": self.code_url(layer["_package"])}
        return output

    @saving
    async def publish_layer_version(self, context: RequestContext, params: Params) -> Document:
        scope = _scope(context)
        name = params["LayerName"]
        data = await self._package(context, params["Content"])
        versions = self.store.layer_versions(scope, name)
        number = len(versions) + 1
        arn = layer_arn(scope, name)
        layer: Document = {
            "LayerArn": arn,
            "LayerVersionArn": f"{arn}:{number}",
            "Description": params.get("Description", ""),
            "CreatedDate": _timestamp(self.clock.seconds()),
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
        return self._layer_output(self._found_layer(_scope(context), name, params["VersionNumber"]))

    async def get_layer_version_by_arn(self, context: RequestContext, params: Params) -> Document:
        found = _LAYER_VERSION_ARN.fullmatch(params["Arn"])
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
        for name, versions in sorted(self.store.layers.get(_scope(context), {}).items()):
            matching = self._matching(versions, params)
            if matching:
                latest = _public(matching[-1])
                del latest["Content"], latest["LayerArn"]
                entries.append(
                    {
                        "LayerName": name,
                        "LayerArn": matching[-1]["LayerArn"],
                        "LatestMatchingVersion": latest,
                    }
                )
        page, marker = _page(entries, params, lambda e: str(e["LayerName"]))
        output: Document = {"Layers": page}
        if marker is not None:
            output["NextMarker"] = marker
        return output

    async def list_layer_versions(self, context: RequestContext, params: Params) -> Document:
        name = self._layer_name(params["LayerName"])
        versions = self._matching(self.store.layers.get(_scope(context), {}).get(name, []), params)
        documents = []
        for layer in reversed(versions):
            document = _public(layer)
            del document["Content"]
            documents.append(document)
        page, marker = _page(documents, params, lambda d: str(10**9 - d["Version"]).rjust(10, "0"))
        output: Document = {"LayerVersions": page}
        if marker is not None:
            output["NextMarker"] = marker
        return output

    @saving
    async def delete_layer_version(self, context: RequestContext, params: Params) -> Document:
        name = self._layer_name(params["LayerName"])
        layer = self._layer_version(_scope(context), name, params["VersionNumber"])
        if layer is not None:
            layer["_deleted"] = True
        return {}

    # Invoke

    async def invoke(self, context: RequestContext, params: Params) -> Document:
        scope = _scope(context)
        function, version = self._version(context, params)
        _, qualifier = self._reference(params)
        kind = params.get("InvocationType") or "RequestResponse"
        payload: bytes = params.get("Payload") or b"{}"
        if kind == "Event":
            if len(payload) > MAX_EVENT_PAYLOAD:
                raise errors.too_large(MAX_EVENT_PAYLOAD, "InvokeAsync")
        elif len(payload) > MAX_PAYLOAD:
            raise errors.too_large(MAX_PAYLOAD, "InvokeFunction")
        if kind == "DryRun":
            return {"StatusCode": 204}
        client_context = params.get("ClientContext")
        if client_context is not None:
            try:
                client_context = b64decode(client_context, validate=True).decode("utf-8")
            except ValueError as e:
                raise errors.invalid(
                    "Client context must be a valid Base64-encoded JSON object."
                ) from e
        tail = params.get("LogType") == "Tail"
        run = self._runner(scope, function, version, qualifier, payload, client_context, tail)
        if kind == "Event":
            self.events.submit(run, function.event_configs.get(qualifier or "", {}))
            return {"StatusCode": 202}
        outcome = await run()
        output: Document = {
            "StatusCode": 200,
            "Payload": outcome.payload,
            "ExecutedVersion": version.number,
        }
        if outcome.function_error is not None:
            output["FunctionError"] = outcome.function_error
        if tail:
            output["LogResult"] = outcome.tail
        return output

    def _runner(
        self,
        scope: Scope,
        function: Function,
        version: Version,
        qualifier: str | None,
        payload: bytes,
        client_context: str | None = None,
        tail: bool = False,
    ) -> Callable[[], Deferred[Outcome]]:
        """
        How to run one invocation (``Event`` invocations run it again on
        retries, with the same request id, as AWS does); throttled first
        when the function's reserved concurrency is used up.
        """
        reserved = function.reserved_concurrency
        if reserved is not None and self.invoker.busy(scope, function.name) >= reserved:
            raise errors.throttled()
        request_id = self.new_id()
        arn = function_arn(scope, function.name, qualifier)
        timeout = int(version.config["Timeout"])

        def run() -> Deferred[Outcome]:
            now = self.clock.seconds()
            invocation = Invocation(
                request_id=request_id,
                payload=payload,
                function_arn=arn,
                deadline_ms=int((now + timeout) * 1000),
                trace_id=_trace_id(now, request_id),
                client_context=client_context,
                tail=tail,
            )
            return self.invoker.invoke(scope, function, version, invocation)

        return run

    # Function URLs

    def _url_target(self, context: RequestContext, params: Params) -> tuple[Function, str]:
        function, qualifier = self._policy_target(context, params)
        if qualifier == LATEST or qualifier in function.versions:
            raise errors.invalid("Function URLs can only be created for an alias or $LATEST.")
        return function, qualifier

    def _url_output(self, context: RequestContext, function: Function, qualifier: str) -> Document:
        settings = function.url_configs.get(qualifier)
        if settings is None:
            raise errors.not_found("The resource you requested does not exist.")
        return {
            **_public(settings),
            "FunctionArn": function_arn(_scope(context), function.name, qualifier or None),
        }

    @saving
    async def create_function_url_config(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._url_target(context, params)
        if qualifier in function.url_configs:
            raise errors.conflict(
                "Failed to create function url config for [functionArn ="
                f" {function_arn(_scope(context), function.name, qualifier or None)}]. Error"
                " message:  FunctionUrlConfig exists for this Lambda function"
            )
        url_id = urls.new_url_id(self.new_id)
        now = _timestamp(self.clock.seconds())
        function.url_configs[qualifier] = {
            "FunctionUrl": urls.function_url(url_id, context.region, self.endpoint_url),
            "AuthType": params["AuthType"],
            "Cors": params.get("Cors", {}),
            "InvokeMode": params.get("InvokeMode", "BUFFERED"),
            "CreationTime": now,
            "LastModifiedTime": now,
            "_UrlId": url_id,
        }
        output = self._url_output(context, function, qualifier)
        del output["LastModifiedTime"]
        return output

    async def get_function_url_config(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        return self._url_output(context, function, qualifier)

    @saving
    async def update_function_url_config(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        self._url_output(context, function, qualifier)
        settings = function.url_configs[qualifier]
        for member in ("AuthType", "Cors", "InvokeMode"):
            if member in params:
                settings[member] = params[member]
        settings["LastModifiedTime"] = _timestamp(self.clock.seconds())
        return self._url_output(context, function, qualifier)

    @saving
    async def delete_function_url_config(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        self._url_output(context, function, qualifier)
        del function.url_configs[qualifier]
        return {}

    async def list_function_url_configs(self, context: RequestContext, params: Params) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(_scope(context), name)
        configs = [self._url_output(context, function, q) for q in sorted(function.url_configs)]
        return {"FunctionUrlConfigs": configs}

    async def invoke_url(self, request: HttpRequest, url_id: str) -> HttpResponse:
        """
        A call of a function URL: the request as a payload 2.0 event, the
        function's answer mapped back to HTTP as AWS does.
        """
        found = self.store.find_url(url_id)
        if found is None:
            return urls.not_found()
        scope, function, qualifier = found
        version = function.version(qualifier or None)
        if version is None:
            return urls.not_found()
        cors = function.url_configs[qualifier].get("Cors") or {}
        answer = urls.preflight(cors, request)
        if answer is not None:
            return answer
        response = await self._call_url(request, url_id, scope, function, version, qualifier)
        urls.decorate(cors, request, response)
        return response

    async def _call_url(
        self,
        request: HttpRequest,
        url_id: str,
        scope: Scope,
        function: Function,
        version: Version,
        qualifier: str,
    ) -> HttpResponse:
        request_id = self.new_id()
        event = urls.event(request, url_id, scope[0], request_id, self.clock.seconds())
        try:
            run = self._runner(scope, function, version, qualifier or None, event)
            outcome = await run()
        except ServiceError:
            return urls.internal_error()
        if outcome.function_error is not None:
            return urls.internal_error()
        return urls.response(outcome.payload)


def _trace_id(now: float, request_id: str) -> str:
    """An X-Ray trace header as Lambda passes it: root id from the time and the request id."""
    root = f"1-{int(now):08x}-{request_id.replace('-', '')[:24]}"
    return f"Root={root};Parent={request_id[-16:]};Sampled=0"
