"""
S3's operations: one method per operation, given botocore-form
parameters, returning botocore-form output (see ``ModelService``), by
botocore's method name. The operations live by resource family
(``buckets``, ``objects``, ``listings``, ``multipart``, over the state they
share, ``common.Common``); stored bucket sub-resources are rows of
``configs.CONFIGURATIONS``, and ``keyed``, ``objectlock``, ``restore`` and
``torrent`` add their own. ``__getattr__`` serves them all.
"""

from __future__ import annotations

import attrs
from botocore import xform_name
from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.s3 import access, configs, errors, keyed, objectlock, restore, torrent
from awsemu.s3.buckets import Buckets
from awsemu.s3.common import Common, Handler, Output, Params, operations, parse_copy_source
from awsemu.s3.listings import Listings
from awsemu.s3.multipart import Multipart
from awsemu.s3.notifications import NAME as NOTIFICATION
from awsemu.s3.notifications import Notifier
from awsemu.s3.objects import Objects
from awsemu.s3.store import Document, Store


@attrs.define
class S3Provider:
    """
    The S3 operations over ``store``; ``clock`` dates everything written;
    ``callers`` names the principals of keys IAM and STS issued, for
    bucket policies that name users and roles; ``notifier`` checks event
    notification configurations and sends their events; every restore of
    an archived object takes ``restore_seconds``, or AWS's time for its
    tier when None; ``offload`` runs GetObjectTorrent's hashing of a body
    (in the disk thread pool when bodies are files).
    """

    store: Store
    clock: IReactorTime
    callers: access.CallerLookup = access.no_callers
    notifier: Notifier = attrs.field(kw_only=True)
    restore_seconds: float | None = attrs.field(default=None, kw_only=True)
    offload: torrent.Offload = attrs.field(default=torrent.in_place, kw_only=True)
    _operations: dict[str, Handler] = attrs.field(init=False, factory=dict)
    _authorizer: access.Authorizer = attrs.field(init=False)
    _common: Common = attrs.field(init=False)

    @_authorizer.default
    def _make_authorizer(self) -> access.Authorizer:
        return access.Authorizer(self.store, parse_copy_source, self.callers)

    @notifier.default
    def _make_notifier(self) -> Notifier:
        return Notifier(self.clock)

    @_common.default
    def _make_common(self) -> Common:
        return Common(self.store, self.clock, self.notifier)

    def __attrs_post_init__(self) -> None:
        common = self._common
        for family in (
            Buckets(common),
            Objects(common, self._authorizer),
            Listings(common),
            Multipart(common),
        ):
            self._operations.update(operations(family))
        for configuration in configs.CONFIGURATIONS:
            self._operations[xform_name(configuration.put)] = self._putter(configuration)
            self._operations[xform_name(configuration.get)] = self._getter(configuration)
            if configuration.delete is not None:
                self._operations[xform_name(configuration.delete)] = self._deleter(configuration)
        self._operations.update(keyed.handlers(common.bucket, self.store.save_bucket))
        self._operations.update(
            objectlock.handlers(common.object_version, self.store.save_version, common.now)
        )
        self._operations.update(
            restore.handlers(
                common.bucket,
                common.find,
                self.store.save_version,
                common.now,
                self.restore_seconds,
            )
        )
        self._operations.update(
            torrent.handlers(common.bucket, common.find, self.store.blobs, common.now, self.offload)
        )

    def __getattr__(self, name: str) -> Handler:
        """The operations, by botocore's method name."""
        try:
            operations: dict[str, Handler] = object.__getattribute__(self, "_operations")
            return operations[name]
        except KeyError:
            raise AttributeError(name) from None

    def _putter(self, configuration: configs.Configuration) -> Handler:
        async def put(context: RequestContext, params: Params) -> Output:
            bucket = self._common.bucket(params)
            document = params.get(configuration.member)
            if document is None:
                raise errors.malformed_xml()
            if configuration.name == NOTIFICATION:
                skip = bool(params.get("SkipDestinationValidation"))
                document = await self.notifier.configure(bucket, document, skip)
            else:
                configs.validate(configuration, document, bucket.config, bucket.name)
            if configuration.name == "logging":
                self._check_logging_target(document)
            echoed = {
                member: params.get(member) or default
                for member, default in configuration.echoed.items()
            }
            bucket.config[configuration.name] = {**document, **echoed} if echoed else document
            if configuration.name == "versioning":
                bucket.versioning = document.get("Status") or bucket.versioning
            self.store.save_bucket(bucket)
            return echoed

        return put

    def _getter(self, configuration: configs.Configuration) -> Handler:
        async def get(context: RequestContext, params: Params) -> Output:
            bucket = self._common.bucket(params)
            document = configs.stored(configuration, bucket.config, bucket.name)
            if configuration.payload is not None:
                return {configuration.payload: document}
            return dict(document)

        return get

    def _deleter(self, configuration: configs.Configuration) -> Handler:
        async def delete(context: RequestContext, params: Params) -> Output:
            bucket = self._common.bucket(params)
            bucket.config.pop(configuration.name, None)
            self.store.save_bucket(bucket)
            return {}

        return delete

    def _check_logging_target(self, document: Document) -> None:
        """AWS's error for server access logs sent to a bucket that does not exist."""
        target = (document.get("LoggingEnabled") or {}).get("TargetBucket")
        if target is not None and target not in self.store.buckets:
            raise errors.invalid_target_bucket_for_logging(target)

    def authorize(self, context: RequestContext, operation: str, params: Params) -> None:
        """``AccessDenied`` unless the caller may make this call (``ModelService`` asks first)."""
        self._authorizer.authorize(context, operation, params)
