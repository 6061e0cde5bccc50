"""
End to end, differentially: a corpus of DynamoDB and DynamoDB Streams
requests sent by boto3 both straight to DynamoDB Local and through the
daemon (to the same JVM, in another account's database) must get the same
answers, except for the ARNs the daemon rewrites and values that differ
from run to run (times, stream labels, shard ids, iterators, event ids),
which are normalized explicitly below, and what the daemon corrects on
purpose (table descriptions and errors as AWS gives them, each checked
against DynamoDB Local's answer in C{tests.test_dynamodb_fidelity}).
Tagging is left out: the daemon answers it itself, by design (see
C{tests.test_dynamodb_tables}).
"""

from __future__ import annotations

import base64
import datetime
import re
from collections.abc import Callable
from typing import Any

import attrs
from botocore import xform_name
from botocore.exceptions import ClientError
from twisted.trial.unittest import SynchronousTestCase

from tests.dynamodb_support import shared_daemon

REGION = "eu-west-1"
PROXIED_ACCOUNT = "111111111111"
DIRECT_ACCOUNT = "222222222222"
LOCAL_PREFIX = "arn:aws:dynamodb:ddblocal:000000000000:"
PUBLIC_PREFIX = f"arn:aws:dynamodb:{REGION}:{PROXIED_ACCOUNT}:"

Memo = dict[str, Any]
Params = dict[str, Any] | Callable[[Memo], dict[str, Any]]


@attrs.frozen
class Step:
    """One request to ``service`` (dynamodb or streams); ``keep`` saves what later steps use."""

    operation: str
    params: Params = attrs.field(factory=dict)
    service: str = "dynamodb"
    keep: Callable[[Memo, dict[str, Any]], None] | None = None


def _keep_table(memo: Memo, response: dict[str, Any]) -> None:
    table = response["Table"]
    memo["table_arn"], memo["stream_arn"] = table["TableArn"], table["LatestStreamArn"]


def _keep_shard(memo: Memo, response: dict[str, Any]) -> None:
    memo["shard_id"] = response["StreamDescription"]["Shards"][0]["ShardId"]


def _keep_iterator(memo: Memo, response: dict[str, Any]) -> None:
    memo["iterator"] = response["ShardIterator"]


S = "S"
MOVIES = "Movies"
COUNTERS = "Counters"


def _movie(year: int, title: str, **more: Any) -> dict[str, Any]:
    return {"year": {"N": str(year)}, "title": {S: title}, **more}


def _key(year: int, title: str) -> dict[str, Any]:
    return {"TableName": MOVIES, "Key": _movie(year, title)}


_MOVIES_TABLE = {
    "TableName": MOVIES,
    "KeySchema": [
        {"AttributeName": "year", "KeyType": "HASH"},
        {"AttributeName": "title", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "year", "AttributeType": "N"},
        {"AttributeName": "title", "AttributeType": "S"},
        {"AttributeName": "rating", "AttributeType": "N"},
        {"AttributeName": "genre", "AttributeType": "S"},
    ],
    "LocalSecondaryIndexes": [
        {
            "IndexName": "ByRating",
            "KeySchema": [
                {"AttributeName": "year", "KeyType": "HASH"},
                {"AttributeName": "rating", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "ByGenre",
            "KeySchema": [
                {"AttributeName": "genre", "KeyType": "HASH"},
                {"AttributeName": "rating", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["plot"]},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
}

_COUNTERS_TABLE = {
    "TableName": COUNTERS,
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
}

_RICH_ITEM = _movie(
    2013,
    "Rush",
    rating={"N": "8.1"},
    genre={S: "drama"},
    plot={S: "Hunt and Lauda"},
    cast={"L": [{S: "Chris"}, {S: "Daniel"}]},
    info={"M": {"budget": {"N": "38000000"}, "sequel": {"BOOL": False}, "none": {"NULL": True}}},
    tags={"SS": ["f1", "racing"]},
    scores={"NS": ["1", "2.5"]},
    blob={"B": base64.b64decode("AAEC")},
    blobs={"BS": [b"\x00", b"\x01"]},
)

CORPUS: tuple[Step, ...] = (
    # Tables
    Step("CreateTable", _MOVIES_TABLE),
    Step("CreateTable", _COUNTERS_TABLE),
    Step("CreateTable", _MOVIES_TABLE),
    Step("DescribeTable", {"TableName": MOVIES}, keep=_keep_table),
    Step("ListTables"),
    Step("ListTables", {"Limit": 1}),
    Step(
        "UpdateTable",
        {
            "TableName": COUNTERS,
            "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        },
    ),
    Step(
        "UpdateTable",
        {
            "TableName": COUNTERS,
            "AttributeDefinitions": [{"AttributeName": "kind", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [
                {
                    "Create": {
                        "IndexName": "ByKind",
                        "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                    }
                }
            ],
        },
    ),
    Step("DescribeTable", {"TableName": COUNTERS}),
    Step("CreateTable", {**_COUNTERS_TABLE, "TableName": "x"}),
    Step("DescribeTable", {"TableName": "Missing"}),
    Step("DescribeLimits"),
    # Items
    Step("PutItem", {"TableName": MOVIES, "Item": _movie(2013, "Gravity", rating={"N": "7.7"})}),
    Step("PutItem", {"TableName": MOVIES, "Item": _RICH_ITEM}),
    Step(
        "PutItem",
        {
            "TableName": MOVIES,
            "Item": _movie(2014, "Interstellar", rating={"N": "8.6"}, genre={S: "scifi"}),
            "ConditionExpression": "attribute_not_exists(#y)",
            "ExpressionAttributeNames": {"#y": "year"},
        },
    ),
    Step(
        "PutItem",
        {
            "TableName": MOVIES,
            "Item": _movie(2014, "Interstellar"),
            "ConditionExpression": "attribute_not_exists(#y)",
            "ExpressionAttributeNames": {"#y": "year"},
        },
    ),
    Step(
        "PutItem",
        {
            "TableName": MOVIES,
            "Item": _movie(2013, "Gravity", rating={"N": "7.8"}, genre={S: "scifi"}),
            "ReturnValues": "ALL_OLD",
        },
    ),
    Step(
        "PutItem",
        {
            "TableName": MOVIES,
            "Item": _movie(2013, "Gravity"),
            "ConditionExpression": "rating < :r",
            "ExpressionAttributeValues": {":r": {"N": "5"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    ),
    Step(
        "PutItem",
        {
            "TableName": MOVIES,
            "Item": _movie(
                1999,
                "ddblocal",
                arn={S: LOCAL_PREFIX + "table/Movies"},
                TableArn={S: LOCAL_PREFIX + "table/Movies"},
                genre={S: "ddblocal"},
                rating={"N": "1"},
            ),
        },
    ),
    Step("GetItem", _key(1999, "ddblocal")),
    Step("GetItem", _key(2013, "Rush")),
    Step(
        "GetItem",
        {
            **_key(2013, "Rush"),
            "ProjectionExpression": "#t, info.budget, #c[1]",
            "ExpressionAttributeNames": {"#t": "title", "#c": "cast"},
        },
    ),
    Step("GetItem", {**_key(2000, "Nothing"), "ConsistentRead": True}),
    Step("GetItem", {"TableName": MOVIES, "Key": {"year": {"N": "1"}}}),
    Step(
        "UpdateItem",
        {
            **_key(2013, "Rush"),
            "UpdateExpression": "SET rating = rating + :d, info.sequel = :t"
            " REMOVE plot ADD #views :one",
            "ExpressionAttributeNames": {"#views": "views"},
            "ExpressionAttributeValues": {
                ":d": {"N": "0.1"},
                ":t": {"BOOL": True},
                ":one": {"N": "1"},
            },
            "ReturnValues": "ALL_NEW",
        },
    ),
    Step(
        "UpdateItem",
        {
            **_key(2013, "Rush"),
            "UpdateExpression": "SET #c = list_append(#c, :more),"
            " awards = if_not_exists(awards, :z)",
            "ExpressionAttributeNames": {"#c": "cast"},
            "ExpressionAttributeValues": {":more": {"L": [{S: "Olivia"}]}, ":z": {"N": "0"}},
            "ReturnValues": "UPDATED_OLD",
        },
    ),
    Step(
        "UpdateItem",
        {
            **_key(2013, "Rush"),
            "UpdateExpression": "SET rating = :r",
            "ConditionExpression": "rating > :r",
            "ExpressionAttributeValues": {":r": {"N": "9"}},
        },
    ),
    Step(
        "UpdateItem",
        {
            **_key(2013, "Rush"),
            "UpdateExpression": "ADD tags :new DELETE scores :gone",
            "ExpressionAttributeValues": {":new": {"SS": ["hunt"]}, ":gone": {"NS": ["1"]}},
            "ReturnValues": "UPDATED_NEW",
        },
    ),
    Step(
        "UpdateItem",
        {
            "TableName": COUNTERS,
            "Key": {"id": {S: "hits"}},
            "UpdateExpression": "ADD n :one SET label = :k",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":k": {S: "counter"}},
            "ReturnValues": "UPDATED_NEW",
        },
    ),
    Step("PutItem", {"TableName": MOVIES, "Item": _movie(2010, "Inception", genre={S: "scifi"})}),
    Step("DeleteItem", {**_key(2010, "Inception"), "ReturnValues": "ALL_OLD"}),
    Step(
        "DeleteItem",
        {
            **_key(2013, "Gravity"),
            "ConditionExpression": "attribute_not_exists(rating)",
        },
    ),
    # Queries and scans
    Step(
        "Query",
        {
            "TableName": MOVIES,
            "KeyConditionExpression": "#y = :y",
            "ExpressionAttributeNames": {"#y": "year"},
            "ExpressionAttributeValues": {":y": {"N": "2013"}},
        },
    ),
    Step(
        "Query",
        {
            "TableName": MOVIES,
            "KeyConditionExpression": "#y = :y AND begins_with(title, :p)",
            "ExpressionAttributeNames": {"#y": "year"},
            "ExpressionAttributeValues": {":y": {"N": "2013"}, ":p": {S: "R"}},
            "ScanIndexForward": False,
            "Limit": 1,
        },
    ),
    Step(
        "Query",
        {
            "TableName": MOVIES,
            "IndexName": "ByRating",
            "KeyConditionExpression": "#y = :y AND rating > :r",
            "ExpressionAttributeNames": {"#y": "year"},
            "ExpressionAttributeValues": {":y": {"N": "2013"}, ":r": {"N": "7"}},
            "ReturnConsumedCapacity": "INDEXES",
        },
    ),
    Step(
        "Query",
        {
            "TableName": MOVIES,
            "IndexName": "ByGenre",
            "KeyConditionExpression": "genre = :g",
            "FilterExpression": "attribute_not_exists(plot) AND #t <> :t",
            "ExpressionAttributeNames": {"#t": "title"},
            "ExpressionAttributeValues": {":g": {S: "scifi"}, ":t": {S: "Gravity"}},
        },
    ),
    Step(
        "Query",
        {
            "TableName": MOVIES,
            "KeyConditionExpression": "#y = :y",
            "ExpressionAttributeNames": {"#y": "year"},
            "ExpressionAttributeValues": {":y": {"N": "2013"}},
            "Select": "COUNT",
            "ReturnConsumedCapacity": "TOTAL",
        },
    ),
    Step(
        "Query",
        {
            "TableName": MOVIES,
            "KeyConditionExpression": "title = :t",
            "ExpressionAttributeValues": {":t": {S: "Rush"}},
        },
    ),
    Step("Scan", {"TableName": MOVIES}),
    Step(
        "Scan",
        {
            "TableName": MOVIES,
            "FilterExpression": "contains(tags, :t) OR size(title) > :n",
            "ExpressionAttributeValues": {":t": {S: "f1"}, ":n": {"N": "9"}},
        },
    ),
    Step("Scan", {"TableName": MOVIES, "Segment": 1, "TotalSegments": 2}),
    Step("Scan", {"TableName": MOVIES, "ProjectionExpression": "title, genre", "Limit": 2}),
    # Batches
    Step(
        "BatchWriteItem",
        {
            "RequestItems": {
                MOVIES: [
                    {"PutRequest": {"Item": _movie(2001, f"Movie {n}", rating={"N": str(n)})}}
                    for n in range(4)
                ],
                COUNTERS: [{"PutRequest": {"Item": {"id": {S: "batch"}}}}],
            }
        },
    ),
    Step(
        "BatchWriteItem",
        {"RequestItems": {MOVIES: [{"DeleteRequest": {"Key": _movie(2001, "Movie 0")}}]}},
    ),
    Step(
        "BatchGetItem",
        {
            "RequestItems": {
                MOVIES: {
                    "Keys": [_movie(2001, "Movie 1"), _movie(2013, "Rush")],
                    "ProjectionExpression": "title, rating",
                },
                COUNTERS: {"Keys": [{"id": {S: "batch"}}, {"id": {S: "hits"}}]},
            }
        },
    ),
    Step("BatchGetItem", {"RequestItems": {"Missing": {"Keys": [{"id": {S: "a"}}]}}}),
    # Transactions
    Step(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": COUNTERS, "Item": {"id": {S: "tx"}, "n": {"N": "1"}}}},
                {
                    "Update": {
                        **_key(2001, "Movie 1"),
                        "UpdateExpression": "SET seen = :t",
                        "ExpressionAttributeValues": {":t": {"BOOL": True}},
                    }
                },
                {
                    "ConditionCheck": {
                        **_key(2013, "Rush"),
                        "ConditionExpression": "attribute_exists(rating)",
                    }
                },
            ]
        },
    ),
    Step(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": COUNTERS, "Item": {"id": {S: "tx2"}}}},
                {
                    "ConditionCheck": {
                        **_key(2013, "Rush"),
                        "ConditionExpression": "attribute_not_exists(rating)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        },
    ),
    Step(
        "TransactGetItems",
        {
            "TransactItems": [
                {"Get": _key(2001, "Movie 1")},
                {"Get": {"TableName": COUNTERS, "Key": {"id": {S: "tx"}}}},
            ]
        },
    ),
    Step(
        "TransactWriteItems",
        {
            "ClientRequestToken": "token-1",
            "TransactItems": [
                {"Put": {"TableName": COUNTERS, "Item": {"id": {S: "idem"}, "n": {"N": "5"}}}}
            ],
        },
    ),
    Step(
        "TransactWriteItems",
        {
            "ClientRequestToken": "token-1",
            "TransactItems": [
                {"Put": {"TableName": COUNTERS, "Item": {"id": {S: "idem"}, "n": {"N": "5"}}}}
            ],
        },
    ),
    # PartiQL
    Step(
        "ExecuteStatement",
        {"Statement": f'SELECT title, rating FROM "{MOVIES}" WHERE "year" = 2013'},
    ),
    Step(
        "ExecuteStatement",
        {"Statement": f"INSERT INTO \"{COUNTERS}\" VALUE {{'id': 'partiql', 'n': 1}}"},
    ),
    Step(
        "ExecuteStatement",
        {"Statement": f"UPDATE \"{COUNTERS}\" SET n = n + 1 WHERE id = 'partiql'"},
    ),
    Step(
        "ExecuteStatement",
        {"Statement": f'SELECT * FROM "{COUNTERS}" WHERE id = ?', "Parameters": [{S: "partiql"}]},
    ),
    Step(
        "BatchExecuteStatement",
        {
            "Statements": [
                {"Statement": f"UPDATE \"{COUNTERS}\" SET n = 7 WHERE id = 'hits'"},
                {"Statement": f"INSERT INTO \"{COUNTERS}\" VALUE {{'id': 'partiql'}}"},
            ]
        },
    ),
    Step(
        "ExecuteTransaction",
        {
            "TransactStatements": [
                {"Statement": f"INSERT INTO \"{COUNTERS}\" VALUE {{'id': 'ptx'}}"},
                {"Statement": f"UPDATE \"{COUNTERS}\" SET n = 9 WHERE id = 'tx'"},
            ]
        },
    ),
    Step("ExecuteStatement", {"Statement": "SELEKT * FROM nowhere"}),
    # Time to live
    Step(
        "UpdateTimeToLive",
        {
            "TableName": COUNTERS,
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"},
        },
    ),
    Step("DescribeTimeToLive", {"TableName": COUNTERS}),
    # Streams
    Step("ListStreams", {"TableName": MOVIES}, service="streams"),
    Step(
        "DescribeStream",
        lambda memo: {"StreamArn": memo["stream_arn"]},
        service="streams",
        keep=_keep_shard,
    ),
    Step(
        "GetShardIterator",
        lambda memo: {
            "StreamArn": memo["stream_arn"],
            "ShardId": memo["shard_id"],
            "ShardIteratorType": "TRIM_HORIZON",
        },
        service="streams",
        keep=_keep_iterator,
    ),
    Step("GetRecords", lambda memo: {"ShardIterator": memo["iterator"]}, service="streams"),
    Step(
        "GetShardIterator",
        lambda memo: {
            "StreamArn": memo["stream_arn"],
            "ShardId": "shardId-00000000000000000000-00000000",
            "ShardIteratorType": "LATEST",
        },
        service="streams",
    ),
    Step(
        "DescribeStream",
        lambda memo: {"StreamArn": memo["table_arn"] + "/stream/2000-01-01T00:00:00.000"},
        service="streams",
    ),
    # Deleting
    Step("DeleteTable", {"TableName": COUNTERS}),
    Step("DescribeTable", {"TableName": COUNTERS}),
    Step("ListTables"),
)

_VOLATILE = (
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}"), "<stream label>"),
    (re.compile(r"shardId-\d{20}-[0-9a-f]{8}"), "<shard id>"),
)
_VOLATILE_MEMBERS = frozenset(
    {"ShardIterator", "NextShardIterator", "eventID", "SequenceNumber", "IndexStatus"}
)
"""Members whose values differ from run to run: a new index becomes ACTIVE a moment after."""
_BUILDING_INDEX_MEMBERS = frozenset({"Backfilling", "IndexSizeBytes", "ItemCount"})
"""Members of an index description that come and go as a new index is built."""
_CORRECTED_MEMBERS = frozenset(
    {
        "TableId",
        "WarmThroughput",
        "LastIncreaseDateTime",
        "LastDecreaseDateTime",
        "NumberOfDecreasesToday",
    }
)
"""Members the daemon adds to or drops from table descriptions (C{tests.test_dynamodb_fidelity})."""
_ON_DEMAND_INDEX_THROUGHPUT = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
_REWORDED = {
    "Table already exists: Movies": "Cannot create preexisting table",
    "Requested resource not found: Table: Missing not found": (
        "Cannot do operations on a non-existent table"
    ),
    "Requested resource not found: Table: Counters not found": (
        "Cannot do operations on a non-existent table"
    ),
    "Requested resource not found": "Cannot do operations on a non-existent table",
}
"""The daemon's (AWS's) error messages in the corpus, and DynamoDB Local's."""


def normalize(value: Any, public_prefix: str | None) -> Any:
    """
    ``value`` with volatile values replaced by placeholders, and (through
    the daemon) the caller's ARN prefix put back to DynamoDB Local's.
    """
    if isinstance(value, dict):
        left_out = _BUILDING_INDEX_MEMBERS if "IndexStatus" in value else {"ResponseMetadata"}
        normalized = {
            key: f"<{key}>" if key in _VOLATILE_MEMBERS else normalize(item, public_prefix)
            for key, item in value.items()
            if key not in left_out | _CORRECTED_MEMBERS
        }
        if "IndexStatus" in value and normalized.get("ProvisionedThroughput") == (
            _ON_DEMAND_INDEX_THROUGHPUT
        ):
            del normalized["ProvisionedThroughput"]
        message = normalized.get("Message")
        if public_prefix is not None and isinstance(message, str):
            # Messages quote ARNs anywhere in their text.
            message = _REWORDED.get(message, message)
            normalized["Message"] = message.replace(public_prefix, LOCAL_PREFIX)
        if public_prefix is not None and normalized.get("awsRegion") == REGION:
            normalized["awsRegion"] = "ddblocal"
        return normalized
    if isinstance(value, list):
        return [normalize(item, public_prefix) for item in value]
    if isinstance(value, datetime.datetime):
        return "<time>"
    if isinstance(value, str):
        if public_prefix is not None and value.startswith(public_prefix):
            value = LOCAL_PREFIX + value[len(public_prefix) :]
        for pattern, placeholder in _VOLATILE:
            value = pattern.sub(placeholder, value)
    return value


def run_corpus(dynamodb: Any, streams: Any) -> list[dict[str, Any]]:
    """Send every step; return what came back for each (a response, or an error's)."""
    memo: Memo = {}
    raw: list[Any] = []
    for step in CORPUS:
        client = dynamodb if step.service == "dynamodb" else streams
        params = step.params(memo) if callable(step.params) else step.params
        try:
            response = getattr(client, xform_name(step.operation))(**params)
        except ClientError as e:
            raw.append({"status": e.response["ResponseMetadata"]["HTTPStatusCode"], **e.response})
            continue
        if step.keep is not None:
            step.keep(memo, response)
        raw.append({"status": response["ResponseMetadata"]["HTTPStatusCode"], **response})
    return raw


class DifferentialTests(SynchronousTestCase):
    """The daemon answers as DynamoDB Local does, in the caller's account and region."""

    def setUp(self) -> None:
        self.daemon = shared_daemon()

    def clients(self, account: str, url: str | None = None) -> tuple[Any, Any]:
        return (
            self.daemon.client("dynamodb", account, REGION, url),
            self.daemon.client("dynamodbstreams", account, REGION, url),
        )

    def test_corpus(self) -> None:
        """Every request of the corpus gets the same answer both ways."""
        self.assertGreaterEqual(len(CORPUS), 60)
        direct = run_corpus(*self.clients(DIRECT_ACCOUNT, self.daemon.jvm_url()))
        proxied = run_corpus(*self.clients(PROXIED_ACCOUNT))
        for step, expected, actual in zip(CORPUS, direct, proxied, strict=True):
            self.assertEqual(
                normalize(actual, PUBLIC_PREFIX), normalize(expected, None), step.operation
            )
        # The corpus did reach DynamoDB Local's every operation family, errors included.
        self.assertEqual(sum(answer["status"] >= 400 for answer in proxied), 15)

    def test_arns(self) -> None:
        """Tables and streams are named with the caller's region and account."""
        dynamodb, streams = self.clients("333333333333")
        dynamodb.create_table(**{**_COUNTERS_TABLE, "TableName": "Named"})
        dynamodb.create_table(**{**_MOVIES_TABLE, "TableName": "Streamed"})
        prefix = f"arn:aws:dynamodb:{REGION}:333333333333:table/"
        table = dynamodb.describe_table(TableName="Streamed")["Table"]
        self.assertEqual(table["TableArn"], prefix + "Streamed")
        self.assertTrue(table["LatestStreamArn"].startswith(prefix + "Streamed/stream/"))
        self.assertEqual(
            [index["IndexArn"] for index in table["GlobalSecondaryIndexes"]],
            [prefix + "Streamed/index/ByGenre"],
        )
        stream = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]
        self.assertEqual(stream["StreamArn"], table["LatestStreamArn"])
        iterator = streams.get_shard_iterator(
            StreamArn=stream["StreamArn"],
            ShardId=stream["Shards"][0]["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        self.assertTrue(iterator.startswith(table["LatestStreamArn"] + "|"))
        self.assertEqual(streams.get_records(ShardIterator=iterator)["Records"], [])

    def test_isolation(self) -> None:
        """Each account, and each region of an account, has its own tables."""
        mine = self.daemon.client("dynamodb", "444444444444", REGION)
        mine.create_table(**{**_COUNTERS_TABLE, "TableName": "Mine"})
        self.assertEqual(mine.list_tables()["TableNames"], ["Mine"])
        for account, region in (("555555555555", REGION), ("444444444444", "us-west-2")):
            other = self.daemon.client("dynamodb", account, region)
            self.assertEqual(other.list_tables()["TableNames"], [])
            with self.assertRaises(ClientError) as raised:
                other.describe_table(TableName="Mine")
            self.assertEqual(
                raised.exception.response["Error"]["Code"], "ResourceNotFoundException"
            )
