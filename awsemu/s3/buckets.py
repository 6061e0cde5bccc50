"""
S3's bucket operations: create, delete, head, location, ListBuckets, the
bucket ACL and policy status. Stored sub-resources are ``configs`` rows,
served by ``provider.S3Provider``.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from awsemu.gateway.context import RequestContext
from awsemu.s3 import configs, errors
from awsemu.s3.common import Common, Output, Params
from awsemu.s3.listings import decode_token, encode_token
from awsemu.s3.store import Bucket, Document

_BUCKET_NAME: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS: Final = re.compile(r"\d+\.\d+\.\d+\.\d+")


def valid_bucket_name(name: str) -> bool:
    """AWS's naming rules for general purpose buckets."""
    return (
        _BUCKET_NAME.fullmatch(name) is not None
        and ".." not in name
        and ".-" not in name
        and "-." not in name
        and not _IP_ADDRESS.fullmatch(name)
        and not name.startswith(("xn--", "sthree-"))
        and not name.endswith(("-s3alias", "--ol-s3"))
    )


@attrs.define
class Buckets:
    """The bucket operations over ``common``."""

    common: Common

    # Buckets

    async def create_bucket(self, context: RequestContext, params: Params) -> Output:
        name = params["Bucket"]
        if not valid_bucket_name(name):
            raise errors.invalid_bucket_name(name)
        region = self._bucket_region(context.region, params.get("CreateBucketConfiguration") or {})
        existing = self.common.store.buckets.get(name)
        if existing is not None:
            if existing.owner != context.account_id:
                raise errors.bucket_already_exists(name)
            if context.region != "us-east-1" or existing.region != region:
                raise errors.bucket_already_owned_by_you(name)
            configs.reset_bucket_acl(params, existing.config, context.account_id)
            self.common.store.save_bucket(existing)
        else:
            config = configs.new_bucket_config(
                params.get("ObjectOwnership"), bool(params.get("ObjectLockEnabledForBucket"))
            )
            acl = configs.bucket_acl(params, config, context.account_id, creating=True)
            if acl is not None:
                config["acl"] = acl
            versioning = (config.get("versioning") or {}).get("Status")
            self.common.store.add_bucket(
                Bucket(name, context.account_id, region, self.common.now(), versioning, config)
            )
        location = f"/{name}" if region == "us-east-1" else f"http://{name}.s3.amazonaws.com/"
        return {"Location": location}

    @staticmethod
    def _bucket_region(endpoint_region: str, configuration: Document) -> str:
        """
        The region a new bucket goes to. The us-east-1 endpoint accepts any
        other region's constraint; a regional endpoint only its own.
        """
        constraint = configuration.get("LocationConstraint")
        if constraint is not None and not configs.is_bucket_region(constraint):
            raise errors.invalid_location_constraint(constraint)
        if endpoint_region == "us-east-1":
            return constraint or "us-east-1"
        if constraint != endpoint_region:
            raise errors.illegal_location_constraint(endpoint_region, constraint)
        return endpoint_region

    async def delete_bucket(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        if not bucket.is_empty():
            raise errors.bucket_not_empty(bucket.name)
        self.common.store.remove_bucket(bucket)
        return {}

    async def head_bucket(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        return {"BucketRegion": bucket.region}

    async def get_bucket_location(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        return {"LocationConstraint": None if bucket.region == "us-east-1" else bucket.region}

    async def list_buckets(self, context: RequestContext, params: Params) -> Output:
        prefix = params.get("Prefix") or ""
        region = params.get("BucketRegion")
        after = ""
        if params.get("ContinuationToken"):
            after = decode_token(params["ContinuationToken"])
        buckets = sorted(
            (
                bucket
                for bucket in self.common.store.buckets.values()
                if bucket.owner == context.account_id
                and bucket.name.startswith(prefix)
                and bucket.name > after
                and (region is None or bucket.region == region)
            ),
            key=lambda bucket: bucket.name,
        )
        limit = params.get("MaxBuckets")
        output: Output = {"Owner": configs.owner(context.account_id)}
        if limit is not None:
            if not 1 <= limit <= 10000:
                raise errors.invalid_argument(
                    "Argument max-buckets must be an integer between 1 and 10000",
                    "max-buckets",
                    limit,
                )
            if len(buckets) > limit:
                buckets = buckets[:limit]
                output["ContinuationToken"] = encode_token(buckets[-1].name)
        output["Buckets"] = [
            {"Name": bucket.name, "CreationDate": bucket.created, "BucketRegion": bucket.region}
            for bucket in buckets
        ]
        if "Prefix" in params:
            output["Prefix"] = prefix
        return output

    async def put_bucket_acl(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        if not configs.sets_acl(params):
            raise errors.malformed_xml()
        acl = configs.bucket_acl(params, bucket.config, bucket.owner)
        bucket.config["acl"] = acl or configs.default_acl(bucket.owner)
        self.common.store.save_bucket(bucket)
        return {}

    async def get_bucket_policy_status(self, context: RequestContext, params: Params) -> Output:
        bucket = self.common.bucket(params)
        return configs.policy_status(bucket.config, bucket.name)

    async def get_bucket_acl(self, context: RequestContext, params: Params) -> Output:
        """With ACLs disabled, AWS shows the bucket owner's full control whatever is stored."""
        bucket = self.common.bucket(params)
        if not configs.acls_enabled(bucket.config):
            return configs.default_acl(bucket.owner)
        return configs.shown_acl(bucket.config.get("acl") or configs.default_acl(bucket.owner))
