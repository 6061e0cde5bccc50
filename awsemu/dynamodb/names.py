"""
Tables named by ARN where a name is expected. AWS accepts a table's ARN as
its C{TableName} (and as the keys of C{BatchGetItem}'s and
C{BatchWriteItem}'s C{RequestItems}), and answers with the ARN wherever
it would have named the table: "If you had specified the Amazon Resource
Name (ARN) of a table in the input, you'll see the table ARN in the
response" (botocore's model, C{ConsumedCapacity.TableName}), and the
batch answers' maps are keyed "by table name or table ARN".

DynamoDB Local takes the name after C{table/} of some ARNs and refuses
them in transactions, whatever their account and region. So the proxy
puts the name in their place before forwarding, after checking that the
table is the caller's: another account's table is refused as AWS refuses
it without a resource policy that lets the caller in. Answers of
requests that named a table by ARN get the ARN back.

As elsewhere in the proxy, only members are rewritten, never item data:
a C{TableName} member is followed by a string, an item attribute by an
object; a batch's table key is followed by a list or by an object
beginning with one of C{KeysAndAttributes}' members, an attribute's value
by an object beginning with its type.
"""

from __future__ import annotations

import re
from typing import Final

from awsemu.dynamodb.errors import client_error
from awsemu.gateway.context import RequestContext

ARN_MARK: Final = b'"arn:aws:dynamodb:'
"""What a request that names a table by ARN contains: the only ones looked into here."""

_BATCHES: Final = frozenset({"DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.BatchWriteItem"})

_BATCH_VALUE: Final = (
    rb'\s*:\s*(?=\[|\{\s*"(?:Keys|ProjectionExpression|ConsistentRead|AttributesToGet'
    rb'|ExpressionAttributeNames)")'
)
"""What follows a batch's table key: a list of writes, or keys and attributes to get."""

_ARN: Final = rb'arn:aws:dynamodb:([^:"\\]*):([^:"\\]*):table/([^"/\\]+)"'
_NAME_MEMBER: Final = re.compile(rb'("TableName"\s*:\s*")' + _ARN)
_BATCH_KEY: Final = re.compile(rb'(")' + _ARN + rb"(?=" + _BATCH_VALUE + rb")")


def to_names(target: str, body: bytes, context: RequestContext) -> tuple[bytes, dict[bytes, bytes]]:
    """
    ``body`` with the caller's table ARNs in C{TableName} members (and
    batch keys) replaced by the tables' names, and the ARN each name stood
    for; L{ServiceError} for another account's or region's table.
    """
    arns: dict[bytes, bytes] = {}

    def named(match: re.Match[bytes]) -> bytes:
        region, account, name = (part.decode() for part in match.group(2, 3, 4))
        arn = match.group(0)[len(match.group(1)) : -1]
        if account != context.account_id:
            # AWS's AccessDeniedException, for a table no resource policy opens to the caller.
            raise client_error(
                "AccessDeniedException",
                f"User: arn:aws:iam::{context.account_id}:root is not authorized to perform:"
                f" dynamodb:{context.operation} on resource: {arn.decode()} because no"
                f" resource-based policy allows the dynamodb:{context.operation} action",
            )
        if region != context.region:
            raise client_error("ResourceNotFoundException", "Requested resource not found")
        arns[match.group(4)] = arn
        return match.group(1) + match.group(4) + b'"'

    body = _NAME_MEMBER.sub(named, body)
    if target in _BATCHES:
        body = _BATCH_KEY.sub(named, body)
    return body, arns


def to_arns(target: str, body: bytes, arns: dict[bytes, bytes]) -> bytes:
    """An answer with the tables ``arns`` maps named by those ARNs again."""
    names = b"|".join(re.escape(name) for name in arns)
    members = re.compile(rb'("TableName"\s*:\s*")(' + names + rb')"')
    body = members.sub(lambda match: match.group(1) + arns[match.group(2)] + b'"', body)
    if target in _BATCHES:
        keys = re.compile(rb'"(' + names + rb')"(?=' + _BATCH_VALUE + rb")")
        body = keys.sub(lambda match: b'"' + arns[match.group(1)] + b'"', body)
    return body
