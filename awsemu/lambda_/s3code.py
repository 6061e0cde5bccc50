"""
Function and layer code given as ``S3Bucket``/``S3Key``: read through the
S3 service's provider (its API, not its store's internals), with S3's
errors reported the way Lambda reports them.
"""

from __future__ import annotations

from typing import Any

import attrs

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.protocol.errors import ServiceError
from awsemu.s3.common import body_bytes


@attrs.frozen
class S3CodeSource:
    """A ``CodeSource`` over an ``awsemu.s3.provider.S3Provider``."""

    provider: Any

    async def fetch(
        self, context: RequestContext, bucket: str, key: str, version: str | None
    ) -> bytes:
        params = {"Bucket": bucket, "Key": key}
        if version is not None:
            params["VersionId"] = version
        try:
            output = await self.provider.get_object(context, params)
        except ServiceError as e:
            raise errors.invalid(
                f"Error occurred while GetObject. S3 Error Code: {e.code}. S3 Error Message:"
                f" {e.message}"
            ) from e
        return body_bytes(output)
