"""
Event source mappings: the control plane (``*EventSourceMapping``).

A mapping is kept as the ``EventSourceMappingConfiguration`` document AWS
returns, plus ``_Enabled`` (the state asked for). Changes answer at once
with a transitional ``State`` (``Creating``, ``Enabling``, ``Disabling``,
``Updating``, ``Deleting``) that the ``MappingPoller`` settles a moment
later (``Enabled``, ``Disabled``, or gone), as AWS's do; the poller also
delivers the records of DynamoDB streams to the functions.

Sources are validated as AWS validates them: a DynamoDB stream must exist
in the daemon's DynamoDB. Every other source with an ARN (SQS, Kinesis,
Amazon MQ, MSK, DocumentDB) names a resource awsemu does not serve, so
it is refused with AWS's error for a source that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any, Final, Protocol

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.lambda_.common import Params, ProviderBase, paged, public, scope_of
from awsemu.lambda_.functions import Document, Scope, function_arn
from awsemu.protocol.errors import ServiceError
from awsemu.state.jsonfile import saving

STREAMS: Final = frozenset({"dynamodb", "kinesis"})
"""Sources read by position (``StartingPosition`` required, retries and bisection)."""

DEFAULT_BATCH: Final = {"sqs": 10, "dynamodb": 100, "kinesis": 100, "mq": 100, "docdb": 100}
"""``BatchSize`` when none is given, by source (AWS's documented defaults); 100 otherwise."""

TRANSITIONAL: Final = frozenset({"Creating", "Enabling", "Disabling", "Updating", "Deleting"})

_SETTINGS: Final = (
    "ScalingConfig",
    "SourceAccessConfigurations",
    "KMSKeyArn",
    "MetricsConfig",
    "ProvisionedPollerConfig",
    "DocumentDBEventSourceConfig",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
)
"""Members kept as given, on creation and on update, with no default."""

_UPDATABLE: Final = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
    *_SETTINGS,
)
"""Members an update replaces as given (``FilterCriteria`` and ``Enabled`` have rules)."""


class StreamCheck(Protocol):
    """Whether a DynamoDB stream exists (``StreamReader.describe``: raises if it does not)."""

    def describe(self, arn: str) -> Awaitable[Document]: ...


def source_service(arn: str) -> str:
    """The service an event source ARN names (``arn:aws:dynamodb:...`` → ``dynamodb``)."""
    parts = arn.split(":")
    return parts[2] if len(parts) > 5 and parts[0] == "arn" else ""


def mapping_arn(scope: Scope, uuid: str) -> str:
    account_id, region = scope
    return f"arn:aws:lambda:{region}:{account_id}:event-source-mapping:{uuid}"


def _missing_mapping() -> ServiceError:
    return errors.not_found("The resource you requested does not exist.")


def _check_filters(criteria: Any) -> None:
    """Every filter pattern is a JSON object, or AWS's error."""
    for entry in (criteria or {}).get("Filters") or ():
        try:
            pattern = json.loads(entry.get("Pattern") or "")
        except ValueError:
            pattern = None
        if not isinstance(pattern, dict):
            raise errors.invalid("Invalid filter pattern definition.")


def _check_bounds(params: Params) -> None:
    """Numeric members within the bounds botocore's model gives them, with AWS's message."""
    from awsemu.protocol.model import load_service_model

    shape = load_service_model("lambda").shape_for("EventSourceMappingConfiguration")
    for member, value in params.items():
        if not isinstance(value, int) or isinstance(value, bool) or member not in shape.members:
            continue
        metadata = shape.members[member].metadata
        name = member[0].lower() + member[1:]
        if "min" in metadata and value < metadata["min"]:
            raise errors.validation(
                value, name, f"Member must have value greater than or equal to {metadata['min']}"
            )
        if "max" in metadata and value > metadata["max"]:
            raise errors.validation(
                value, name, f"Member must have value less than or equal to {metadata['max']}"
            )


class EventSourceMappings(ProviderBase):
    """``*EventSourceMapping`` operations; ``streams`` is None when DynamoDB is not served."""

    streams: StreamCheck | None

    def _mappings(self, context: RequestContext) -> dict[str, Document]:
        return self.store.mappings.setdefault(scope_of(context), {})

    def _mapping(self, context: RequestContext, params: Params) -> Document:
        mapping = self._mappings(context).get(params["UUID"])
        if mapping is None:
            raise _missing_mapping()
        return mapping

    def _target(self, context: RequestContext, params: Params) -> str:
        """The ARN of the function (or version, or alias) ``FunctionName`` names."""
        name, qualifier = self._reference(params)
        scope = scope_of(context)
        function = self.store.in_scope(scope).get(name)
        if function is None or function.version(qualifier) is None:
            raise errors.invalid("Function does not exist")
        return function_arn(scope, name, qualifier)

    async def _check_source(self, arn: str, service: str) -> None:
        if service == "dynamodb" and self.streams is not None:
            try:
                await self.streams.describe(arn)
            except ServiceError as e:
                if e.code not in ("ResourceNotFoundException", "ValidationException"):
                    raise
            else:
                return
        if service == "sqs":
            raise errors.invalid(
                "Error occurred while ReceiveMessage. SQS Error Code:"
                " AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified"
                " queue does not exist for this wsdl version."
            )
        if service in STREAMS:
            raise errors.invalid(f"Stream not found: {arn}")
        raise errors.invalid(f"The event source {arn} does not exist.")

    def _check_stream_members(self, params: Params, service: str, arn: str) -> None:
        if service in STREAMS:
            position = params.get("StartingPosition")
            if position is None:
                # AWS answers this one as InvalidParameterValueException.
                raise errors.invalid(
                    "1 validation error detected: Value null at 'startingPosition' failed to"
                    " satisfy constraint: Member must not be null."
                )
            if service == "dynamodb" and position == "AT_TIMESTAMP":
                raise errors.invalid(f"Unsupported starting position for arn type: {arn}")
            if "OnSuccess" in (params.get("DestinationConfig") or {}):
                raise errors.invalid(
                    "Unsupported DestinationConfig parameter for given event source mapping type."
                )
        elif service == "sqs" and params.get("BatchSize", 10) > 10:
            if not params.get("MaximumBatchingWindowInSeconds"):
                raise errors.invalid(
                    "Maximum batch window in seconds must be greater than 0 if maximum batch"
                    " size is greater than 10"
                )

    @saving
    async def create_event_source_mapping(
        self, context: RequestContext, params: Params
    ) -> Document:
        scope = scope_of(context)
        arn = params.get("EventSourceArn")
        if arn is None and "SelfManagedEventSource" not in params:
            raise errors.invalid("Unrecognized event source.")
        service = "kafka" if arn is None else source_service(arn)
        _check_bounds(params)
        self._check_stream_members(params, service, arn or "")
        _check_filters(params.get("FilterCriteria"))
        target = self._target(context, params)
        if arn is not None:
            await self._check_source(arn, service)
            for uuid, other in self._mappings(context).items():
                if other["EventSourceArn"] == arn and other["FunctionArn"] == target:
                    raise errors.conflict(
                        f'The event source arn (" {arn} ") and function'
                        f' (" {self._reference(params)[0]} ") provided mapping already exists.'
                        f" Please update or delete the existing mapping with UUID {uuid}"
                    )
        uuid = self.new_id()
        mapping: Document = {
            "UUID": uuid,
            "BatchSize": params.get("BatchSize") or DEFAULT_BATCH.get(service, 100),
            "MaximumBatchingWindowInSeconds": params.get("MaximumBatchingWindowInSeconds", 0),
            "FunctionArn": target,
            "LastModified": self.clock.seconds(),
            "State": "Creating",
            "StateTransitionReason": "User action" if service in STREAMS else "USER_INITIATED",
            "FunctionResponseTypes": params.get("FunctionResponseTypes") or [],
            "EventSourceMappingArn": mapping_arn(scope, uuid),
            "_Enabled": params.get("Enabled", True),
            "_Tags": dict(params.get("Tags") or {}),
        }
        if arn is not None:
            mapping["EventSourceArn"] = arn
        if service in STREAMS:
            mapping.update(
                StartingPosition=params["StartingPosition"],
                ParallelizationFactor=params.get("ParallelizationFactor", 1),
                LastProcessingResult="No records processed",
                DestinationConfig=params.get("DestinationConfig") or {"OnFailure": {}},
                MaximumRecordAgeInSeconds=params.get("MaximumRecordAgeInSeconds", -1),
                BisectBatchOnFunctionError=params.get("BisectBatchOnFunctionError", False),
                MaximumRetryAttempts=params.get("MaximumRetryAttempts", -1),
                TumblingWindowInSeconds=params.get("TumblingWindowInSeconds", 0),
            )
            if "StartingPositionTimestamp" in params:
                mapping["StartingPositionTimestamp"] = params[
                    "StartingPositionTimestamp"
                ].timestamp()
        for member in ("Topics", "Queues", "SelfManagedEventSource", *_SETTINGS):
            if member in params:
                mapping[member] = params[member]
        if (params.get("FilterCriteria") or {}).get("Filters"):
            mapping["FilterCriteria"] = params["FilterCriteria"]
        self._mappings(context)[uuid] = mapping
        return public(mapping)

    async def get_event_source_mapping(self, context: RequestContext, params: Params) -> Document:
        return public(self._mapping(context, params))

    async def list_event_source_mappings(self, context: RequestContext, params: Params) -> Document:
        mappings = sorted(self._mappings(context).values(), key=lambda m: str(m["UUID"]))
        if "EventSourceArn" in params:
            mappings = [m for m in mappings if m.get("EventSourceArn") == params["EventSourceArn"]]
        if "FunctionName" in params:
            name, qualifier = self._reference(params)
            wanted = function_arn(scope_of(context), name, qualifier)
            mappings = [
                m
                for m in mappings
                if m["FunctionArn"] == wanted
                or (qualifier is None and m["FunctionArn"].startswith(wanted + ":"))
            ]
        return paged(
            "EventSourceMappings", [public(m) for m in mappings], params, lambda m: str(m["UUID"])
        )

    @saving
    async def update_event_source_mapping(
        self, context: RequestContext, params: Params
    ) -> Document:
        mapping = self._mapping(context, params)
        if mapping["State"] in TRANSITIONAL:
            raise ServiceError(
                "ResourceInUseException",
                f"Cannot update the event source mapping because it is in use."
                f" Current state: {mapping['State']}",
                400,
            )
        _check_bounds(params)
        arn = mapping.get("EventSourceArn", "")
        service = source_service(arn)
        self._check_stream_members(
            {"StartingPosition": mapping.get("StartingPosition"), **params}, service, arn
        )
        _check_filters(params.get("FilterCriteria"))
        if "FunctionName" in params:
            mapping["FunctionArn"] = self._target(context, params)
        for member in _UPDATABLE:
            if member in params:
                mapping[member] = params[member]
        if "FilterCriteria" in params:
            if (params["FilterCriteria"] or {}).get("Filters"):
                mapping["FilterCriteria"] = params["FilterCriteria"]
            else:
                mapping.pop("FilterCriteria", None)
        enabled = params.get("Enabled", mapping["_Enabled"])
        if enabled != mapping["_Enabled"]:
            mapping["State"] = "Enabling" if enabled else "Disabling"
        else:
            mapping["State"] = "Updating"
        mapping["_Enabled"] = enabled
        mapping["LastModified"] = self.clock.seconds()
        return public(mapping)

    @saving
    async def delete_event_source_mapping(
        self, context: RequestContext, params: Params
    ) -> Document:
        mapping = self._mapping(context, params)
        mapping["State"] = "Deleting"
        return public(mapping)
