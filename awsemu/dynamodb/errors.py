"""
DynamoDB's errors as AWS words them, where DynamoDB Local words them
otherwise. Each difference is one row of L{REWORDINGS}: the operations it
applies to, DynamoDB Local's error code and message (checked against
DynamoDB Local 3.3.0), AWS's message, and where AWS's text comes from.
Only error answers of the operations named are looked at; anything not
in the table passes through as DynamoDB Local said it.

Some requests DynamoDB Local accepts (or fails on) and AWS refuses:
L{refusal}, L{capacity_refusal} and L{index_capacity_missing} find them
before they are forwarded.
And a request DynamoDB Local fails on with a 500 because it does not check
it (a body that is not a JSON object, a member of the wrong type) gets
DynamoDB's 400 (L{malformed_request}).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import attrs

from awsemu.protocol.codec import codec_for
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest

ERROR_TYPE_PREFIX: Final = "com.amazonaws.dynamodb.v20120810#"

_TARGET: Final = "DynamoDB_20120810."


@attrs.frozen
class Rewording:
    """One of DynamoDB Local's error messages and the one AWS gives instead."""

    operations: frozenset[str]
    """The C{X-Amz-Target}s whose errors this applies to."""
    code: str
    local: str
    """DynamoDB Local's message, or its beginning (it may go on with details)."""
    aws: str
    """AWS's message; C{{name}} stands for the C{TableName} of the request."""
    source: str
    """Where AWS's wording is documented or recorded."""


def _targets(*operations: str) -> frozenset[str]:
    return frozenset(_TARGET + operation for operation in operations)


ITEM_OPERATIONS: Final = _targets(
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
)
"""The C{X-Amz-Target}s of the operations that read and write items (PartiQL's apart)."""

REWORDINGS: Final = (
    Rewording(
        _targets("CreateTable"),
        "ResourceInUseException",
        "Cannot create preexisting table",
        "Table already exists: {name}",
        "AWS-recorded CreateTable of an existing table (issue #19)",
    ),
    Rewording(
        _targets("DescribeTable", "DeleteTable"),
        "ResourceNotFoundException",
        "Cannot do operations on a non-existent table",
        "Requested resource not found: Table: {name} not found",
        "AWS-recorded DescribeTable/DeleteTable of a missing table (issue #19)",
    ),
    Rewording(
        _targets("DescribeTimeToLive", "UpdateTimeToLive"),
        "ResourceNotFoundException",
        "Cannot do operations on a non-existent table",
        "Requested resource not found: Table: {name} not found",
        "The AWS CLI's describe-time-to-live and update-time-to-live of a missing table,"
        " as quoted in localstack/localstack#9038",
    ),
    Rewording(
        ITEM_OPERATIONS,
        "ResourceNotFoundException",
        "Cannot do operations on a non-existent table",
        "Requested resource not found",
        "AWS's answer to an item operation on a missing table, as users' logs record it:"
        " aws-sdk-go's debug log of a PutItem's response body"
        " (hashicorp-education/learn-terraform-aft-account-request#4), boto3's GetItem"
        " (boto/boto3#4101), TransactWriteItems (pynamodb/PynamoDB#809), the AWS CLI's"
        " BatchWriteItem; the table is not named, unlike DescribeTable's",
    ),
    Rewording(
        _targets("BatchWriteItem"),
        "ValidationException",
        "One of the required keys was not given a value",
        "The provided key element does not match the schema",
        "AWS-recorded BatchWriteItem with a key attribute missing",
    ),
    Rewording(
        _targets("BatchWriteItem"),
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for key",
        "The provided key element does not match the schema",
        "AWS-recorded BatchWriteItem with a key of the wrong type (a batch does not"
        " name the key, as PutItem does)",
    ),
)

REWORDED: Final = frozenset().union(*(rewording.operations for rewording in REWORDINGS))
"""The operations some of whose errors are reworded."""


def reword(target: str, body: bytes, name: Any) -> bytes:
    """
    The error ``body`` DynamoDB Local answered a ``target`` request with,
    as AWS would have worded it (``name``: the request's C{TableName}).
    """
    try:
        error = json.loads(body)
        code = error["__type"].rpartition("#")[2]
        member = "Message" if "Message" in error else "message"
        message = error[member]
    except (ValueError, KeyError, TypeError, AttributeError):
        return body
    for rewording in REWORDINGS:
        if (
            target in rewording.operations
            and code == rewording.code
            and message.startswith(rewording.local)
        ):
            error[member] = rewording.aws.format(name=name)
            return json.dumps(error, separators=(",", ":")).encode()
    return body


_EMPTY_PARAMETERS: Final = re.compile(rb'"Parameters"\s*:\s*\[\s*\]')
"""
An C{ExecuteStatement}'s empty C{Parameters}: a member, since item data
(its parameters' values) is wrapped in objects and never follows a name directly as a list.
"""


def refusal(target: str, body: bytes) -> ServiceError | None:
    """
    AWS's error for a ``target`` request with ``body`` that DynamoDB Local
    would carry out but AWS refuses, or None (see also L{capacity_refusal}).
    """
    if target == _TARGET + "ExecuteStatement" and _EMPTY_PARAMETERS.search(body):
        # botocore's model: PreparedStatementParameters has "min": 1; AWS's
        # wording of a length constraint on a list member.
        return _validation(
            "1 validation error detected: Value '[]' at 'parameters' failed to satisfy"
            " constraint: Member must have length greater than or equal to 1"
        )
    return None


def index_actions(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """
    What a C{CreateTable} or C{UpdateTable} ``document`` does to global
    secondary indexes: C{Create} (each of a new table's indexes, or of its
    C{GlobalSecondaryIndexUpdates}), C{Update} or C{Delete}, and the index
    it names.
    """
    indexes = document.get("GlobalSecondaryIndexes")
    updates = document.get("GlobalSecondaryIndexUpdates")
    actions = [("Create", index) for index in indexes] if isinstance(indexes, list) else []
    for update in updates if isinstance(updates, list) else ():
        if isinstance(update, dict):
            actions += list(update.items())
    return [(kind, index) for kind, index in actions if isinstance(index, dict)]


def capacity_indexes(document: dict[str, Any]) -> list[Any]:
    """
    The names of the global secondary indexes a C{CreateTable} or
    C{UpdateTable} ``document`` creates or updates with capacities.
    """
    return [
        index.get("IndexName")
        for kind, index in index_actions(document)
        if kind != "Delete" and "ProvisionedThroughput" in index
    ]


def capacity_refusal(document: dict[str, Any], creating: bool) -> ServiceError | None:
    """
    AWS's error for a C{CreateTable} (``creating``) or C{UpdateTable}
    ``document`` that gives capacities to a table, or to one of its
    indexes, that is on demand once it is carried out; None if it gives
    none. DynamoDB Local takes them, and describes the table with zero
    capacities.
    """
    invalid = "One or more parameter values were invalid:"
    if "ProvisionedThroughput" in document:
        # AWS's answer, as recorded in users' reports: CreateTable (aws-cdk,
        # serverless), UpdateTable (dynamoose/dynamoose#1406).
        return _validation(
            f"{invalid} Neither ReadCapacityUnits nor WriteCapacityUnits can be specified"
            " when BillingMode is PAY_PER_REQUEST"
        )
    for index in capacity_indexes(document):
        if creating:
            # AWS's answer to a CreateTable, as recorded in bchew/dynamodump#266 (2024).
            return _validation(
                f"{invalid} ProvisionedThroughput should not be specified for index: {index}"
                " when BillingMode is PAY_PER_REQUEST"
            )
        # AWS's answer to an UpdateTable creating an index, as recorded in
        # circles-learning-labs/ecto_adapters_dynamodb#11.
        return _validation(
            f"{invalid} Neither ReadCapacityUnits nor WriteCapacityUnits can be specified"
            f" for index: {index} when BillingMode is PAY_PER_REQUEST"
        )
    return None


def index_capacity_missing(index: str) -> ServiceError:
    """
    AWS's error for an index of a provisioned table without capacities
    (AWS's answer to a CreateTable, as recorded in
    awsdocs/amazon-dynamodb-developer-guide#246). DynamoDB Local answers
    such a C{CreateTable} with "No provisioned throughput specified for the
    global secondary index", and fails with a 500 when an C{UpdateTable}
    makes an on-demand table with indexes provisioned without giving them
    capacities.
    """
    return _validation(
        "One or more parameter values were invalid:"
        f" ProvisionedThroughput is not specified for index: {index}"
    )


def client_error(code: str, message: str) -> ServiceError:
    """DynamoDB's error ``code``: a 400, the caller's fault."""
    return ServiceError(ERROR_TYPE_PREFIX + code, message, status=400)


def _validation(message: str) -> ServiceError:
    return client_error("ValidationException", message)


def malformed_request(request: HttpRequest) -> ServiceError | None:
    """
    DynamoDB's 400 for a request DynamoDB Local failed on with a 500 because
    it does not check it: a body that is not a JSON object (none, junk, one
    nested a thousand deep), a member of the wrong type or a required one
    missing, checked against botocore's model. None if the request is sound
    (the 500 is then DynamoDB Local's own).
    """
    try:
        document = json.loads(request.read_body())
    except (ValueError, RecursionError):
        document = None
    # Python 3.12 and later parse far deeper documents than DynamoDB Local's
    # parser takes (Jackson stops at 1,000 levels).
    if not isinstance(document, dict) or _deeper_than(document, _LOCAL_NESTING):
        return client_error("SerializationException", "The request body is not a JSON object")
    codec = codec_for("dynamodb")
    try:
        codec.parse_request(codec.find_operation(request), request)
    except ServiceError as e:
        return client_error(e.code, e.message)
    return None


_LOCAL_NESTING: Final = 1000
"""How deep DynamoDB Local's JSON parser (Jackson's default limit) nests documents."""


def _deeper_than(document: object, limit: int) -> bool:
    """Whether ``document`` nests lists and objects more than ``limit`` deep (no recursion)."""
    level: list[dict[str, object] | list[object]] = (
        [document] if isinstance(document, dict | list) else []
    )
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
    return False
