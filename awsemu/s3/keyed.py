"""
Bucket sub-resources a bucket holds several of, each under its ``Id``:
metrics, inventory, analytics and S3 Intelligent-Tiering configurations.
Each family has the same four operations (``PutBucket{Noun}Configuration``,
Get, Delete, ``ListBucket{Noun}Configurations``), so one row names a
family and the handlers are built from it, as ``configs`` does for the
sub-resources a bucket holds one of.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import attrs
from botocore import xform_name

from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.s3 import configs
from awsemu.s3.store import Bucket

Params = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[RequestContext, Params], Awaitable[Output]]

PAGE: Final = 100
"""How many configurations one List answer holds (AWS's page for each family)."""


@attrs.frozen
class Family:
    """One family: its key in the bucket's ``config`` and the noun of its operations."""

    name: str
    noun: str

    @property
    def member(self) -> str:
        """The Put input's and Get output's document member."""
        return f"{self.noun}Configuration"


FAMILIES: Final = (
    Family("metrics", "Metrics"),
    Family("inventory", "Inventory"),
    Family("analytics", "Analytics"),
    Family("intelligent-tiering", "IntelligentTiering"),
)


def no_such_configuration() -> ServiceError:
    # S3 API reference, "List of error codes": NoSuchConfiguration.
    return ServiceError("NoSuchConfiguration", "The specified configuration does not exist.", 404)


def handlers(
    lookup: Callable[[Params], Bucket], save: Callable[[Bucket], None]
) -> dict[str, Handler]:
    """
    Every family's operations by botocore's method name, reading buckets
    with ``lookup`` (which checks ``ExpectedBucketOwner``) and keeping them
    with ``save``.
    """
    found: dict[str, Handler] = {}
    for family in FAMILIES:
        found.update(_family_handlers(family, lookup, save))
    return found


def _family_handlers(
    family: Family, lookup: Callable[[Params], Bucket], save: Callable[[Bucket], None]
) -> dict[str, Handler]:
    def stored(bucket: Bucket) -> dict[str, Any]:
        table: dict[str, Any] = bucket.config.get(family.name) or {}
        return table

    async def put(context: RequestContext, params: Params) -> Output:
        bucket = lookup(params)
        configs.check_enums(f"PutBucket{family.member}", family.member, params[family.member])
        bucket.config[family.name] = {**stored(bucket), params["Id"]: params[family.member]}
        save(bucket)
        return {}

    async def get(context: RequestContext, params: Params) -> Output:
        document = stored(lookup(params)).get(params["Id"])
        if document is None:
            raise no_such_configuration()
        return {family.member: document}

    async def delete(context: RequestContext, params: Params) -> Output:
        bucket = lookup(params)
        table = stored(bucket)
        if params["Id"] not in table:
            raise no_such_configuration()
        bucket.config[family.name] = {k: v for k, v in table.items() if k != params["Id"]}
        save(bucket)
        return {}

    async def list_(context: RequestContext, params: Params) -> Output:
        after = params.get("ContinuationToken") or ""
        table = stored(lookup(params))
        ids = sorted(key for key in table if key > after)
        page = ids[:PAGE]
        output: Output = {"IsTruncated": len(ids) > PAGE}
        if after:
            output["ContinuationToken"] = after
        if len(ids) > PAGE:
            output["NextContinuationToken"] = page[-1]
        if page:
            output[f"{family.member}List"] = [table[key] for key in page]
        return output

    return {
        xform_name(f"PutBucket{family.member}"): put,
        xform_name(f"GetBucket{family.member}"): get,
        xform_name(f"DeleteBucket{family.member}"): delete,
        xform_name(f"ListBucket{family.member}s"): list_,
    }
