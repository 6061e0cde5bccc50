"""
The S3 backend the gateway talks to: the model-driven operations
(``ModelService`` over ``S3Provider``) wrapped with what lives outside
botocore's model — CORS preflights and headers, browser POST uploads,
signature checks (on a request's head alone when it waits for ``100
Continue``), aws-chunked decoding and website endpoints — and the thread
pool that disk work runs in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from twisted.application.service import Service
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from awsemu.gateway.context import AccountForKey, RequestContext, no_known_keys
from awsemu.gateway.services import RUNNING, ModelService, Resource, ServiceState
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.s3 import authorization, cors, post, website
from awsemu.s3.provider import S3Provider
from awsemu.s3.signature import SecretLookup, no_secrets
from awsemu.s3.store import Bucket


def _bucket_name(request: HttpRequest) -> str | None:
    """The bucket a (path-style) request addresses, if any."""
    name = request.path.lstrip("/").partition("/")[0]
    return name or None


@attrs.define(slots=False, eq=False)
class S3Service(Service):
    """
    See the module docstring. ``secrets`` knows the secret access keys
    whose signatures are checked; ``accounts`` the account of an access key
    that signs a browser upload's form. ``reactor`` dates requests and, with
    ``pool`` (None for the memory store, which never blocks on disk), runs
    body checks and aws-chunked decoding off the reactor thread: a large
    body is hashed, or copied from one file to another, there.
    """

    model: ModelService
    provider: S3Provider
    reactor: Any
    secrets: SecretLookup = no_secrets
    accounts: AccountForKey = no_known_keys
    pool: ThreadPool | None = None
    name: str = "s3"

    def state(self) -> ServiceState:
        return RUNNING

    async def reset(self) -> None:
        await self.model.reset()

    async def inventory(self) -> list[Resource]:
        return await self.model.inventory()

    def startService(self) -> None:
        super().startService()
        if self.pool is not None:
            self.pool.start()

    def stopService(self) -> Any:
        if self.pool is not None:
            self.pool.stop()
        return super().stopService()

    def _bucket(self, request: HttpRequest) -> Bucket | None:
        name = _bucket_name(request)
        return None if name is None else self.provider.store.buckets.get(name)

    def _cors_rules(self, request: HttpRequest) -> list[dict[str, Any]] | None:
        bucket = self._bucket(request)
        if bucket is None or "cors" not in bucket.config:
            return None
        rules: list[dict[str, Any]] = bucket.config["cors"].get("CORSRules", [])
        return rules

    async def handle(self, context: RequestContext, request: HttpRequest) -> HttpResponse:
        try:
            if request.method == "OPTIONS":
                return cors.preflight(self._cors_rules(request), request)
            if post.is_form_upload(request):
                response = await post.upload(
                    self.provider,
                    context,
                    request,
                    self.reactor.seconds(),
                    self.secrets,
                    self.accounts,
                )
                cors.decorate(self._cors_rules(request), request, response)
                return response
            payload = authorization.authenticate(
                request, self.reactor.seconds(), self.secrets, _bucket_name(request)
            )
            if payload.needs_reading(request):
                request = await self._read(payload, request)
        except ServiceError as error:
            response = self.error_response(context, request, error)
        else:
            response = await self.model.handle(context, request)
        cors.decorate(self._cors_rules(request), request, response)
        return response

    async def handle_data_plane(
        self, context: RequestContext, request: HttpRequest, resource_id: str
    ) -> HttpResponse:
        """A request of the website endpoint of the bucket ``resource_id`` (see ``website``)."""
        return await website.serve(self.model, self.provider, context, request, resource_id)

    def refuse_head(
        self, context: Callable[[], RequestContext], request: HttpRequest
    ) -> HttpResponse | None:
        """
        AWS's refusal of a badly signed, expired or skewed request, given its
        head only: S3 answers it instead of ``100 Continue``, so the body of
        a refused upload is never sent. A browser upload's signature is in
        its body, and is checked when it arrives.
        """
        if request.method == "OPTIONS" or post.is_form_upload(request):
            return None
        try:
            authorization.authenticate(
                request, self.reactor.seconds(), self.secrets, _bucket_name(request)
            )
        except ServiceError as error:
            response = self.error_response(context(), request, error)
            cors.decorate(self._cors_rules(request), request, response)
            return response
        return None

    async def _read(self, payload: authorization.Payload, request: HttpRequest) -> HttpRequest:
        if self.pool is None:
            return payload.read(request)
        decoded: HttpRequest = await deferToThreadPool(
            self.reactor, self.pool, payload.read, request
        )
        return decoded

    def error_response(
        self, context: RequestContext, request: HttpRequest, error: ServiceError
    ) -> HttpResponse:
        return self.model.error_response(context, request, error)
