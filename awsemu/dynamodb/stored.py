"""
Operations DynamoDB Local lacks (it answers them with
C{UnknownOperationException}), answered by awsemu from its table store
once a forwarded C{DescribeTable} has shown that the table exists:

- contributor insights (C{DescribeContributorInsights},
  C{UpdateContributorInsights}, C{ListContributorInsights}): the setting
  of the table and of each index, which takes effect at once (AWS goes
  through C{ENABLING}); no insight is ever computed;
- Kinesis streaming destinations (C{Enable}/C{Disable}/C{Describe}/
  C{UpdateKinesisStreamingDestination}): kept and described; awsemu has no
  Kinesis, so nothing is sent to the stream;
- resource policies (C{Put}/C{Get}/C{DeleteResourcePolicy}) of tables:
  kept with a revision id, checked against C{ExpectedRevisionId}; not
  enforced, as awsemu enforces no IAM.

Each operation is one L{Stored} row: what names its table and a function
from the request and the table's record to the answer and the settings
to keep. Deployment tools read these back on every plan (Terraform reads
the Kinesis destinations, contributor insights and resource policy of
every table), which is why they must be kept rather than refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import attrs

from awsemu.dynamodb.errors import client_error
from awsemu.dynamodb.tables import TableRecord
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.model import load_service_model

Answer = tuple[dict[str, Any], dict[str, Any]]
"""An operation's answer, and the settings to keep (for L{TableStore.settle})."""


@attrs.frozen
class Request:
    """A stored operation's request: its body, the table's name and record, and the time."""

    document: dict[str, Any]
    name: str
    arn: str
    record: TableRecord
    now: float


@attrs.frozen
class Stored:
    """One operation answered from the table store."""

    names_table_by: str
    """C{TableName}, or C{ResourceArn} for the operations that take an ARN."""
    answer: Callable[[Request], Answer]


def _enum(document: dict[str, Any], member: str, shape: str) -> str:
    """The value of ``member``, if it is one of enum ``shape``'s values; DynamoDB's error if not."""
    values = load_service_model("dynamodb").shape_for(shape).enum
    value = document.get(member)
    if value not in values:
        wire = member[0].lower() + member[1:]
        raise client_error(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{wire}' failed to satisfy"
            f" constraint: Member must satisfy enum value set: [{', '.join(values)}]",
        )
    return str(value)


def _insights_of(request: Request) -> tuple[str, dict[str, Any]]:
    """The index (empty for the table) a request is about, and what is kept of its insights."""
    index = request.document.get("IndexName") or ""
    return index, dict(request.record.get("Insights", {}).get(index, {}))


def _named(request: Request, index: str, **members: Any) -> dict[str, Any]:
    named = {"TableName": request.name, **({"IndexName": index} if index else {})}
    return {**named, **members}


def describe_contributor_insights(request: Request) -> Answer:
    index, insights = _insights_of(request)
    answer = _named(request, index, ContributorInsightsStatus="DISABLED")
    if insights:
        answer["ContributorInsightsStatus"] = insights["Status"]
        answer["LastUpdateDateTime"] = insights["Since"]
        if insights.get("Mode"):
            answer["ContributorInsightsMode"] = insights["Mode"]
    return answer, {}


def update_contributor_insights(request: Request) -> Answer:
    action = _enum(request.document, "ContributorInsightsAction", "ContributorInsightsAction")
    index, _ = _insights_of(request)
    status = "ENABLED" if action == "ENABLE" else "DISABLED"
    mode = request.document.get("ContributorInsightsMode")
    if mode is not None:
        mode = _enum(request.document, "ContributorInsightsMode", "ContributorInsightsMode")
    kept = {"Status": status, "Since": request.now, **({"Mode": mode} if mode else {})}
    insights = {**request.record.get("Insights", {}), index: kept}
    answer = _named(request, index, ContributorInsightsStatus=status)
    if mode:
        answer["ContributorInsightsMode"] = mode
    return answer, {"Insights": insights}


def contributor_insights_summaries(table_name: str, record: TableRecord) -> list[dict[str, Any]]:
    """The C{ListContributorInsights} summaries of one table."""
    summaries = []
    for index, insights in sorted(record.get("Insights", {}).items()):
        summary: dict[str, Any] = {"TableName": table_name}
        if index:
            summary["IndexName"] = index
        summary["ContributorInsightsStatus"] = insights["Status"]
        if insights.get("Mode"):
            summary["ContributorInsightsMode"] = insights["Mode"]
        summaries.append(summary)
    return summaries


_PRECISION: Final = "ApproximateCreationDateTimePrecision"
_DEFAULT_PRECISION: Final = "MILLISECOND"
"""AWS's default C{ApproximateCreationDateTimePrecision}."""


def _stream_arn(request: Request) -> str:
    """The request's Kinesis stream ARN, if it is one."""
    arn = request.document.get("StreamArn")
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if (
        len(parts) != 6
        or parts[:3] != ["arn", "aws", "kinesis"]
        or not parts[5].startswith("stream/")
    ):
        raise client_error("ValidationException", f"Invalid StreamArn provided as input {arn}")
    return str(arn)


def _destinations(request: Request) -> list[dict[str, Any]]:
    return [dict(destination) for destination in request.record.get("Kinesis", [])]


def _streaming(request: Request, status: str, configuration: str) -> Answer:
    """Set the request's destination to ``status``, with the precision the request gives."""
    arn = _stream_arn(request)
    destinations = _destinations(request)
    current = next((d for d in destinations if d["StreamArn"] == arn), None)
    given = request.document.get(configuration) or {}
    precision = given.get("ApproximateCreationDateTimePrecision")
    if precision is not None:
        precision = _enum(given, _PRECISION, _PRECISION)
    if status == "ACTIVE" and configuration.startswith("Enable"):
        if current is not None and current["DestinationStatus"] == "ACTIVE":
            raise client_error(
                "ResourceInUseException",
                f"Table {request.name} is already streaming to {arn}",
            )
    elif current is None or current["DestinationStatus"] != "ACTIVE":
        raise client_error(
            "ValidationException",
            f"Table {request.name} is not streaming to {arn}",
        )
    if current is None:
        current = {"StreamArn": arn}
        destinations.append(current)
    current["DestinationStatus"] = status
    current["ApproximateCreationDateTimePrecision"] = (
        precision or current.get("ApproximateCreationDateTimePrecision") or _DEFAULT_PRECISION
    )
    answer = {
        "TableName": request.name,
        "StreamArn": arn,
        "DestinationStatus": status,
        configuration: {
            "ApproximateCreationDateTimePrecision": current["ApproximateCreationDateTimePrecision"]
        },
    }
    return answer, {"Kinesis": destinations}


def describe_kinesis_streaming_destination(request: Request) -> Answer:
    return {
        "TableName": request.name,
        "KinesisDataStreamDestinations": _destinations(request),
    }, {}


def _revision(request: Request) -> str:
    """A new policy revision id: milliseconds since the epoch, as AWS's, always increasing."""
    kept = request.record.get("Policy")
    new = int(request.now * 1000)
    return str(max(new, int(kept["RevisionId"]) + 1) if kept else new)


def _check_revision(request: Request) -> None:
    """
    botocore's model: a C{ExpectedRevisionId} that does not match the
    policy's "will fail and return a C{PolicyNotFoundException}".
    """
    expected = request.document.get("ExpectedRevisionId")
    kept = request.record.get("Policy")
    if expected is not None and (kept is None or kept["RevisionId"] != expected):
        raise client_error(
            "PolicyNotFoundException",
            f"Resource-based policy not found for the provided ResourceArn: revision id"
            f" {expected} does not match the policy of {request.arn}",
        )


def _no_policy(request: Request) -> ServiceError:
    return client_error(
        "PolicyNotFoundException",
        f"Resource-based policy not found for the provided ResourceArn: {request.arn}",
    )


def put_resource_policy(request: Request) -> Answer:
    policy = request.document.get("Policy")
    try:
        parsed = json.loads(policy) if isinstance(policy, str) else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise client_error("ValidationException", "Invalid policy document: not a JSON object")
    _check_revision(request)
    revision = _revision(request)
    return {"RevisionId": revision}, {"Policy": {"Policy": policy, "RevisionId": revision}}


def get_resource_policy(request: Request) -> Answer:
    kept = request.record.get("Policy")
    if kept is None:
        raise _no_policy(request)
    return {"Policy": kept["Policy"], "RevisionId": kept["RevisionId"]}, {}


def delete_resource_policy(request: Request) -> Answer:
    kept = request.record.get("Policy")
    if kept is None:
        raise _no_policy(request)
    _check_revision(request)
    return {"RevisionId": _revision(request)}, {"Policy": None}


_TARGET: Final = "DynamoDB_20120810."

STORED: Final = {
    _TARGET + "DescribeContributorInsights": Stored("TableName", describe_contributor_insights),
    _TARGET + "UpdateContributorInsights": Stored("TableName", update_contributor_insights),
    _TARGET + "EnableKinesisStreamingDestination": Stored(
        "TableName",
        lambda request: _streaming(request, "ACTIVE", "EnableKinesisStreamingConfiguration"),
    ),
    _TARGET + "DisableKinesisStreamingDestination": Stored(
        "TableName",
        lambda request: _streaming(request, "DISABLED", "EnableKinesisStreamingConfiguration"),
    ),
    _TARGET + "UpdateKinesisStreamingDestination": Stored(
        "TableName",
        lambda request: _streaming(request, "ACTIVE", "UpdateKinesisStreamingConfiguration"),
    ),
    _TARGET + "DescribeKinesisStreamingDestination": Stored(
        "TableName", describe_kinesis_streaming_destination
    ),
    _TARGET + "PutResourcePolicy": Stored("ResourceArn", put_resource_policy),
    _TARGET + "GetResourcePolicy": Stored("ResourceArn", get_resource_policy),
    _TARGET + "DeleteResourcePolicy": Stored("ResourceArn", delete_resource_policy),
}
"""The operations answered from a table's record, by C{X-Amz-Target}."""
