"""S3: buckets and objects, in memory or under ``--data-dir``."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from awsemu.config import Config
from awsemu.s3 import errors, torrent
from awsemu.s3.access import CallerLookup, no_callers
from awsemu.s3.notifications import Notifier, Principals, no_principals
from awsemu.s3.provider import S3Provider
from awsemu.s3.service import S3Service
from awsemu.s3.signature import SecretLookup, no_secrets
from awsemu.shared import SharedObjects

if TYPE_CHECKING:
    from awsemu.iam.store import IamStore


@attrs.frozen
class S3Core:
    """
    What other services may use of S3: its provider (Lambda reads function
    code through it), the thread pool its disk store works in (None for
    the memory store), and its notifier, to which Lambda, when served,
    gives itself as the destination of event notifications.
    """

    provider: S3Provider
    pool: ThreadPool | None

    @property
    def notifier(self) -> Notifier:
        return self.provider.notifier


def core(shared: SharedObjects) -> S3Core:
    """
    S3's provider over a memory store, or a disk store under ``--data-dir``;
    bucket policies naming IAM users and roles find them in IAM's store;
    restores take ``--s3-restore-seconds``.
    """
    from awsemu.s3.disk import DiskBlobs, SqliteJournal, referenced_blobs
    from awsemu.s3.store import MemoryBlobs, Store

    config, reactor = shared.config, shared.reactor

    pool: ThreadPool | None = None
    if config.data_dir is None:
        store = Store(MemoryBlobs(reactor))
    else:
        root = config.data_dir.child("s3")
        if not root.isdir():
            root.makedirs()
        pool = ThreadPool(minthreads=0, maxthreads=4, name="awsemu-s3-disk")
        blobs = DiskBlobs(root.child("blobs"), reactor, pool)
        store = Store.open(blobs, SqliteJournal.open(root.child("metadata.sqlite")))
        blobs.sweep(
            referenced_blobs(
                (
                    v
                    for bucket in store.buckets.values()
                    for vs in bucket.versions.values()
                    for v in vs
                ),
                store.uploads.values(),
            )
        )
    notifier = Notifier(reactor, principals=principal_lookup(shared))
    provider = S3Provider(
        store,
        reactor,
        caller_lookup(shared),
        notifier=notifier,
        restore_seconds=config.s3_restore_seconds,
        offload=torrent.in_place if pool is None else partial(deferToThreadPool, reactor, pool),
    )
    return S3Core(provider, pool)


def _iam_store(shared: SharedObjects) -> IamStore | None:
    """IAM's and STS's shared store, when either service is enabled."""
    if not {"iam", "sts"} & set(shared.config.services):
        return None
    from awsemu.iam import directory

    return shared.obtain(directory)


def secret_lookup(shared: SharedObjects) -> SecretLookup:
    """
    The secrets of the access keys awsemu knows (IAM's, STS's,
    ``--credentials``): signatures made with those keys are checked, and a
    key that may not be used is refused as S3 refuses it. Any other key is
    accepted unchecked, or refused under ``--auth enforce``.
    """
    from awsemu.auth.keys import KeyRefused, Mode, Problem, directory

    keys = shared.assemble(directory)
    if keys.mode is Mode.OFF:
        return no_secrets

    def secret(key_id: str, token: str | None) -> str | None:
        try:
            found = keys.check(key_id, token)
        except KeyRefused as refused:
            if refused.problem is Problem.INVALID_TOKEN:
                raise errors.invalid_token(token or "") from None
            if refused.problem is Problem.EXPIRED_TOKEN:
                raise errors.expired_token(token) from None
            raise errors.invalid_access_key_id(key_id) from None
        return None if found is None else found.secret

    return secret


def caller_lookup(shared: SharedObjects) -> CallerLookup:
    """The principals holding the access keys IAM and STS issued."""
    store = _iam_store(shared)
    return no_callers if store is None else store.caller


def principal_lookup(shared: SharedObjects) -> Principals:
    """
    The principal id event records give for an access key IAM or STS
    issued: ``AWS:`` and its user's (or role session's) id, as AWS's do.
    """
    store = _iam_store(shared)
    if store is None:
        return no_principals

    def principal(key_id: str) -> str | None:
        found = store.caller(key_id)
        return None if found is None else f"AWS:{found.user_id}"

    return principal


def make_service(config: Config, reactor: Any, shared: SharedObjects) -> S3Service:
    """The S3 backend, with the daemon's shared S3 core."""
    from awsemu.gateway.services import ModelService
    from awsemu.s3.codec import make_codec

    s3 = shared.assemble(core)
    model = ModelService(
        "s3", s3.provider, codec_factory=lambda name: make_codec(), stored=s3.provider.store
    )
    from awsemu.daemon import account_lookup

    return S3Service(
        model,
        s3.provider,
        reactor,
        secret_lookup(shared),
        account_lookup(shared),
        pool=s3.pool,
    )
