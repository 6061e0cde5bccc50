"""
S3 Object Lock on object versions: retention (GOVERNANCE or COMPLIANCE,
until a date) and legal holds, set by PutObject's headers, a bucket's
default retention, or PutObjectRetention / PutObjectLegalHold, and
enforced when a version is deleted. The bucket-level configuration is a
row of ``configs.CONFIGURATIONS``.

A version keeps its lock in its stored ``headers`` under the botocore
member names GetObject and HeadObject answer with
(``ObjectLockMode``, ``ObjectLockRetainUntilDate``,
``ObjectLockLegalHoldStatus``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from botocore import xform_name

from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.values import to_datetime
from awsemu.s3 import configs, errors
from awsemu.s3.store import Bucket, Document, ObjectVersion

Params = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[RequestContext, Params], Awaitable[Output]]

MODE: Final = "ObjectLockMode"
UNTIL: Final = "ObjectLockRetainUntilDate"
HOLD: Final = "ObjectLockLegalHoldStatus"
_DAY: Final = 86400


def enabled(config: Document) -> bool:
    """Whether the bucket holding ``config`` was created with Object Lock."""
    return configs.OBJECT_LOCK.name in config


def _not_enabled() -> ServiceError:
    # AWS's answer to an object-level lock request on a bucket without Object Lock.
    return errors.invalid_request("Bucket is missing Object Lock Configuration")


def _no_configuration() -> ServiceError:
    # S3 API reference, "List of error codes": NoSuchObjectLockConfiguration.
    return ServiceError(
        "NoSuchObjectLockConfiguration",
        "The specified object does not have a ObjectLock configuration",
        404,
    )


def new_version_lock(params: Params, config: Document, now: float) -> Document:
    """
    The lock headers a new version gets: those the write sets (refused on
    a bucket without Object Lock), else the bucket's default retention.
    """
    asked = {name: params[name] for name in (MODE, UNTIL, HOLD) if params.get(name) is not None}
    if asked and not enabled(config):
        raise _not_enabled()
    if UNTIL in asked:
        asked[UNTIL] = to_datetime(asked[UNTIL]).timestamp()
    if MODE in asked or not enabled(config):
        return asked
    rule = (config[configs.OBJECT_LOCK.name].get("Rule") or {}).get("DefaultRetention")
    if not rule:
        return asked
    days = rule.get("Days") or 365 * (rule.get("Years") or 0)
    return {**asked, MODE: rule["Mode"], UNTIL: now + days * _DAY}


def unlocked(headers: Document) -> Document:
    """A version's stored headers without its lock: what a copy of it starts from."""
    return {name: value for name, value in headers.items() if name not in (MODE, UNTIL, HOLD)}


def check_delete(version: ObjectVersion, bypass: bool, now: float) -> None:
    """
    Refuse deleting a version under a legal hold or an unexpired retention
    (GOVERNANCE gives way to ``x-amz-bypass-governance-retention``), with
    AWS's 403.
    """
    headers = version.headers
    # The message AWS gives for a protected version.
    protected = errors.access_denied("Access Denied because object protected by object lock.")
    if headers.get(HOLD) == "ON":
        raise protected
    if headers.get(UNTIL) is None or float(headers[UNTIL]) <= now:
        return
    if headers.get(MODE) == "COMPLIANCE" or not bypass:
        raise protected


def handlers(
    find: Callable[[Params, str], tuple[Bucket, ObjectVersion]],
    save: Callable[[Bucket, ObjectVersion], None],
    now: Callable[[], float],
) -> dict[str, Handler]:
    """
    Put/GetObjectRetention and Put/GetObjectLegalHold by botocore's method
    name, finding the version a request names with ``find`` (HTTP method
    given) and keeping it with ``save``.
    """

    def locked(params: Params, method: str) -> tuple[Bucket, ObjectVersion]:
        bucket, version = find(params, method)
        if not enabled(bucket.config):
            raise _not_enabled()
        return bucket, version

    async def put_retention(context: RequestContext, params: Params) -> Output:
        bucket, version = locked(params, "PUT")
        retention = params.get("Retention") or {}
        until = retention.get("RetainUntilDate")
        new_until = to_datetime(until).timestamp() if until is not None else None
        old_until = version.headers.get(UNTIL)
        if old_until is not None and float(old_until) > now():
            weakened = new_until is None or new_until < float(old_until)
            if version.headers.get(MODE) == "COMPLIANCE" and (
                weakened or retention.get("Mode") != "COMPLIANCE"
            ):
                raise errors.access_denied()
            if weakened and not params.get("BypassGovernanceRetention"):
                raise errors.access_denied()
        version.headers.pop(MODE, None)
        version.headers.pop(UNTIL, None)
        if retention.get("Mode") is not None and new_until is not None:
            version.headers.update({MODE: retention["Mode"], UNTIL: new_until})
        save(bucket, version)
        return {}

    def holding(params: Params, header: str) -> ObjectVersion:
        """The version a Get names, if it has ``header`` set."""
        _, version = locked(params, "GET")
        if version.headers.get(header) is None:
            raise _no_configuration()
        return version

    async def get_retention(context: RequestContext, params: Params) -> Output:
        version = holding(params, MODE)
        return {
            "Retention": {
                "Mode": version.headers[MODE],
                "RetainUntilDate": float(version.headers[UNTIL]),
            }
        }

    async def put_legal_hold(context: RequestContext, params: Params) -> Output:
        bucket, version = locked(params, "PUT")
        status = (params.get("LegalHold") or {}).get("Status")
        if status is None:
            raise errors.malformed_xml()
        version.headers[HOLD] = status
        save(bucket, version)
        return {}

    async def get_legal_hold(context: RequestContext, params: Params) -> Output:
        version = holding(params, HOLD)
        return {"LegalHold": {"Status": version.headers[HOLD]}}

    return {
        xform_name("PutObjectRetention"): put_retention,
        xform_name("GetObjectRetention"): get_retention,
        xform_name("PutObjectLegalHold"): put_legal_hold,
        xform_name("GetObjectLegalHold"): get_legal_hold,
    }
