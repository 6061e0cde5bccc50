"""
DynamoDB's ARNs, as DynamoDB Local writes them and as AWS does, and their
rewriting between the two in bodies (see L{awsemu.dynamodb.proxy}).
Only values of ARN-bearing members are rewritten, never item data.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

from awsemu.dynamodb.errors import client_error
from awsemu.gateway.context import RequestContext

LOCAL_ARN_PREFIX: Final = b"arn:aws:dynamodb:ddblocal:000000000000:"
"""How DynamoDB Local begins every ARN, whoever asks."""


def arn_prefix(region: str, account_id: str) -> bytes:
    """The beginning of every DynamoDB ARN in ``region`` of ``account_id``."""
    return f"arn:aws:dynamodb:{region}:{account_id}:".encode()


@functools.lru_cache(maxsize=256)
def _arn_member(prefix: bytes) -> re.Pattern[bytes]:
    """A JSON member named ``...Arn`` or ``...ShardIterator`` whose value starts with ``prefix``."""
    return re.compile(rb'("[A-Za-z]*(?:Arn|ShardIterator)"\s*:\s*")' + re.escape(prefix))


def rewrite_arns(body: bytes, old: bytes, new: bytes) -> bytes:
    """``body`` with the ARN prefix ``old`` of every ARN-bearing member replaced by ``new``."""
    if old not in body:
        return body
    return _arn_member(old).sub(lambda match: match.group(1) + new, body)


_LOCAL_RECORD_REGION: Final = re.compile(rb'("awsRegion"\s*:\s*")ddblocal"')
"""Where DynamoDB Local names its region in stream records (``GetRecords``)."""


_LOCAL_ITERATOR: Final = re.compile(rb'("(?:Next)?ShardIterator"\s*:\s*"[^"|\\]*)\|001\|')
_PUBLIC_ITERATOR: Final = re.compile(rb'("ShardIterator"\s*:\s*"[^"|\\]*)\|1\|')
"""
Shard iterators: C{<stream ARN>|001|<position>} in DynamoDB Local's,
C{<stream ARN>|1|<position>} in AWS's (as in the DynamoDB Streams API
reference's C{GetShardIterator} example).
"""


def to_public(body: bytes, region: str, account_id: str) -> bytes:
    """
    A response body as AWS would send it: ARNs, shard iterators and stream
    records in the caller's region, iterators in AWS's form.
    """
    if b"ddblocal" not in body:
        return body
    body = rewrite_arns(body, LOCAL_ARN_PREFIX, arn_prefix(region, account_id))
    if b"|001|" in body:
        body = _LOCAL_ITERATOR.sub(rb"\1|1|", body)
    quoted_region = region.encode() + b'"'
    return _LOCAL_RECORD_REGION.sub(lambda match: match.group(1) + quoted_region, body)


def to_local(body: bytes, prefix: bytes) -> bytes:
    """
    A request body as DynamoDB Local takes it, from a caller whose ARNs
    begin with ``prefix`` (L{arn_prefix}): the reverse of L{to_public}.
    """
    body = rewrite_arns(body, prefix, LOCAL_ARN_PREFIX)
    if b"|1|" in body:
        body = _PUBLIC_ITERATOR.sub(rb"\1|001|", body)
    return body


_ERROR_MESSAGE: Final = re.compile(rb'("[Mm]essage"\s*:\s*")((?:[^"\\]|\\.)*)')
"""An error's message (or a cancellation reason's): a member whose value is a string."""


def error_to_public(body: bytes, region: str, account_id: str) -> bytes:
    """
    An error body as AWS would send it: ARNs in its messages in the
    caller's region and account (DynamoDB Local quotes its own, as in
    "Stream: arn:aws:dynamodb:ddblocal:... not found"). Only messages: an
    error may also carry items (``ReturnValuesOnConditionCheckFailure``,
    a transaction's cancellation reasons), whose data is never touched.
    """
    if LOCAL_ARN_PREFIX not in body:
        return body
    public = arn_prefix(region, account_id)
    return _ERROR_MESSAGE.sub(
        lambda match: match.group(1) + match.group(2).replace(LOCAL_ARN_PREFIX, public), body
    )


def table_arn(arn: Any, context: RequestContext) -> tuple[str, str]:
    """
    ``arn`` and the name of the table it names, if it is a table of the
    caller's account and region: the only resources DynamoDB tags. As in
    AWS, another account's table is a matter of permission, not validity.
    """
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb":
        raise client_error("ValidationException", f"Invalid ResourceArn provided as input {arn}")
    if parts[4] != context.account_id:
        raise client_error(
            "AccessDeniedException",
            f"User: arn:aws:iam::{context.account_id}:root is not authorized to perform:"
            f" dynamodb:{context.operation} on resource: {arn}",
        )
    kind, _, name = parts[5].partition("/")
    if parts[3] != context.region or kind != "table" or not name or "/" in name:
        raise client_error(
            "ValidationException",
            f"Invalid ResourceArn provided as input {arn}: only tables of"
            f" {context.region} can be tagged here",
        )
    return arn, name
