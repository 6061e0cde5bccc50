"""
Storage classes and archive restores (S3 user guide, "Working with
archived objects" and "Understanding archive retrieval options").

Writes may name any storage class a general purpose bucket offers (the
model's ``StorageClass`` enumeration, less the classes of Outposts,
Snow, directory buckets, FSx and AWS Backup). An object in ``GLACIER`` or
``DEEP_ARCHIVE`` is not readable (GetObject, copies) until RestoreObject
has made a temporary copy. The restore takes, on the injected clock,
the time the daemon is given (``--s3-restore-seconds``: none by default,
as other emulators' users expect) or the time its tier takes on AWS;
the copy lasts the requested days, to the next midnight UTC.
HeadObject's ``x-amz-restore`` tells the state.

A version keeps its restore as ``ObjectVersion.restore``: when the copy
is (or was) ready and when it expires, in epoch seconds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any, Final

from botocore import xform_name

from awsemu.gateway.context import RequestContext
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.model import load_service_model
from awsemu.s3 import errors
from awsemu.s3.store import Bucket, ObjectVersion

Params = dict[str, Any]
Output = dict[str, Any]
Handler = Callable[[RequestContext, Params], Awaitable[Output]]

ARCHIVED: Final = frozenset({"GLACIER", "DEEP_ARCHIVE"})
"""The classes whose objects must be restored before they are read."""

_OTHER_BUCKET_KINDS: Final = frozenset(
    {
        "OUTPOSTS",
        "SNOW",
        "EXPRESS_ONEZONE",
        "FSX_OPENZFS",
        "FSX_ONTAP",
        "AWS_BACKUP_WARM",
        "AWS_BACKUP_LOW_COST_WARM",
    }
)
"""Classes of Outposts, Snow, directory buckets, FSx and AWS Backup, not of a general bucket."""

ACCEPTED: Final = "RestoreAccepted"
"""Set in RestoreObject's output when a restore starts, which S3 answers with 202."""

_HOUR: Final = 3600
_DAY: Final = 86400

#: How long a restore takes, by class and tier: the shortest times the user
#: guide gives ("Understanding archive retrieval options"). Deep Archive has
#: no Expedited tier; its Standard time serves.
DURATIONS: Final = {
    ("GLACIER", "Expedited"): 60,
    ("GLACIER", "Standard"): 3 * _HOUR,
    ("GLACIER", "Bulk"): 5 * _HOUR,
    ("DEEP_ARCHIVE", "Expedited"): 12 * _HOUR,
    ("DEEP_ARCHIVE", "Standard"): 12 * _HOUR,
    ("DEEP_ARCHIVE", "Bulk"): 48 * _HOUR,
}


@functools.cache
def general_purpose_classes() -> frozenset[str]:
    """The storage classes a general purpose bucket accepts, from botocore's model."""
    enum = load_service_model("s3").shape_for("StorageClass").enum
    return frozenset(enum) - _OTHER_BUCKET_KINDS


def check_storage_class(params: Params) -> None:
    """S3's ``InvalidStorageClass`` for a write naming a class a general bucket lacks."""
    requested = params.get("StorageClass")
    if requested is not None and requested not in general_purpose_classes():
        # S3 API reference, "List of error codes": InvalidStorageClass.
        raise ServiceError(
            "InvalidStorageClass",
            "The storage class you specified is not valid",
            fields={"StorageClassRequested": requested},
        )


def _invalid_object_state(message: str, storage_class: str) -> ServiceError:
    return ServiceError("InvalidObjectState", message, 403, fields={"StorageClass": storage_class})


def _phase(version: ObjectVersion, now: float) -> str | None:
    """Where a version's restore is: "ongoing", "ready" (a restored copy), or None."""
    state = version.restore
    if not state or now >= state["expires"]:
        return None
    return "ongoing" if now < state["ready"] else "ready"


def restored(version: ObjectVersion, now: float) -> bool:
    """Whether an archived version has a restored copy now."""
    return _phase(version, now) == "ready"


def check_readable(version: ObjectVersion, now: float) -> None:
    """A read (GetObject) of an archived version without a restored copy is refused."""
    if version.storage_class in ARCHIVED and not restored(version, now):
        # S3 API reference, GetObject: InvalidObjectState for archived objects
        # not restored (the text is S3's, as its users quote it).
        raise _invalid_object_state(
            "The operation is not valid for the object's storage class", version.storage_class
        )


def check_copy_source(version: ObjectVersion, now: float) -> None:
    """A copy (or part copy) from an archived version without a restored copy is refused."""
    if version.storage_class in ARCHIVED and not restored(version, now):
        # Recalled: S3's text for an archived copy source.
        raise _invalid_object_state(
            "The source object of the COPY operation is not in the active tier and is only "
            "stored in Amazon S3 Glacier.",
            version.storage_class,
        )


def header(version: ObjectVersion, now: float) -> Output:
    """HeadObject's and GetObject's ``Restore`` (``x-amz-restore``), while a restore lasts."""
    phase = _phase(version, now)
    if phase is None:
        return {}
    if phase == "ongoing":
        return {"Restore": 'ongoing-request="true"'}
    expiry = formatdate(version.restore["expires"], usegmt=True)
    return {"Restore": f'ongoing-request="false", expiry-date="{expiry}"'}


def listed_status(version: ObjectVersion, params: Params, now: float) -> Output:
    """
    A listing entry's ``RestoreStatus``, when the listing asks for it
    (``x-amz-optional-object-attributes: RestoreStatus``) and the version
    has a restore under way or a restored copy.
    """
    phase = _phase(version, now)
    if phase is None or "RestoreStatus" not in (params.get("OptionalObjectAttributes") or ()):
        return {}
    if phase == "ongoing":
        return {"RestoreStatus": {"IsRestoreInProgress": True}}
    expiry = version.restore["expires"]
    return {"RestoreStatus": {"IsRestoreInProgress": False, "RestoreExpiryDate": expiry}}


def _next_midnight(moment: float) -> float:
    return math.ceil(moment / _DAY) * _DAY


def handlers(
    lookup: Callable[[Params], Bucket],
    find: Callable[[Bucket, str, str | None, str], ObjectVersion],
    save: Callable[[Bucket, ObjectVersion], None],
    now: Callable[[], float],
    seconds: float | None,
) -> dict[str, Handler]:
    """
    RestoreObject, by botocore's method name, over the provider's lookups;
    every restore takes ``seconds``, or, for None, AWS's time for its class
    and tier (``DURATIONS``).
    """

    def duration(storage_class: str, tier: str) -> float:
        if seconds is not None:
            return seconds
        return DURATIONS.get((storage_class, tier), DURATIONS[(storage_class, "Standard")])

    async def restore_object(context: RequestContext, params: Params) -> Output:
        bucket = lookup(params)
        version = find(bucket, params["Key"], params.get("VersionId"), "POST")
        if version.storage_class not in ARCHIVED:
            # Recalled: S3's answer for an object that is not archived.
            raise _invalid_object_state(
                "Restore is not allowed for the object's current storage class",
                version.storage_class,
            )
        request = params.get("RestoreRequest") or {}
        days = request.get("Days")
        if not isinstance(days, int) or days < 1:
            raise errors.malformed_xml()
        tier = (request.get("GlacierJobParameters") or {}).get("Tier") or "Standard"
        moment = now()
        state = version.restore
        if state and moment < state["ready"]:
            # S3 API reference, "List of error codes": RestoreAlreadyInProgress.
            raise ServiceError(
                "RestoreAlreadyInProgress", "Object restore is already in progress", 409
            )
        output: Output = {}
        if state and moment < state["expires"]:
            # A restored copy's life is extended, answered with 200.
            state["expires"] = _next_midnight(moment + days * _DAY)
        else:
            ready = moment + duration(version.storage_class, tier)
            version.restore = {"ready": ready, "expires": _next_midnight(ready + days * _DAY)}
            output[ACCEPTED] = True
        save(bucket, version)
        return output

    return {xform_name("RestoreObject"): restore_object}
