"""
Deployment packages: where a function's or a layer's code comes from
(``ZipFile``, or ``S3Bucket``/``S3Key`` read through S3), and the
``Code.Location`` URLs it is downloaded from again.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Final, Protocol

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors, zips
from awsemu.lambda_.common import Params, ProviderBase

CODE_PATH: Final = "/2015-03-31/_awsemu/code/"
"""
Where ``Code.Location`` URLs point: under a Lambda API prefix, so the
gateway's routing already hands the download to this service.
"""


class CodeSource(Protocol):
    """Reads a package out of S3 for ``S3Bucket``/``S3Key``/``S3ObjectVersion``."""

    def fetch(
        self, context: RequestContext, bucket: str, key: str, version: str | None
    ) -> Awaitable[bytes]: ...


class Code(ProviderBase):
    """Reading packages in, and serving them back."""

    endpoint_url: str
    code_source: CodeSource | None

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
