"""
Every AWS service botocore knows, by what its requests carry: the
``X-Amz-Target`` prefix, the SigV4 signing name, the endpoint prefix of its
host, and the protocols its clients speak.

The gateway routes the services awsemu serves from their own models; this
catalog is for the rest, so that a request to a service awsemu does not
emulate (SQS, KMS, SNS...) is recognised as that service's and answered in
its own protocol. Loading all of botocore's ~450 models would take over two
seconds, but these facts are all in each model's ``metadata``, which
botocore writes first: reading only the head of each file costs about
0.1 ms a service. The catalog is read on the first request that needs it,
once per process.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

import attrs

_HEAD_BYTES: Final = 8192
"""How much of a model file is read for its metadata; the full model is the fallback."""


@attrs.frozen
class ServiceInfo:
    """What a botocore service model says about the requests of its clients."""

    name: str
    """botocore's name of the service (``sqs``, ``secretsmanager``)."""
    service_id: str
    """The service's id, as SDKs name it (``SQS``, ``Secrets Manager``)."""
    signing_name: str
    endpoint_prefix: str
    protocols: tuple[str, ...]
    """The protocols its clients may speak, most preferred first."""
    target_prefix: str | None = None

    @classmethod
    def from_metadata(cls, name: str, metadata: Mapping[str, Any]) -> ServiceInfo:
        """The facts of ``metadata``, a model's ``metadata`` member."""
        endpoint_prefix = str(metadata["endpointPrefix"])
        protocols = tuple(metadata.get("protocols") or (metadata["protocol"],))
        return cls(
            name=name,
            service_id=str(metadata.get("serviceId", name)),
            # botocore's ServiceModel.signing_name: the endpoint prefix unless named.
            signing_name=str(metadata.get("signingName", endpoint_prefix)),
            endpoint_prefix=endpoint_prefix,
            protocols=protocols,
            target_prefix=metadata.get("targetPrefix"),
        )


@attrs.frozen
class Catalog:
    """Every service of botocore's models, indexed by what a request can carry."""

    services: Mapping[str, ServiceInfo]

    @functools.cached_property
    def by_target_prefix(self) -> Mapping[str, ServiceInfo]:
        return self._first_by(lambda service: service.target_prefix)

    @functools.cached_property
    def by_signing_name(self) -> Mapping[str, tuple[ServiceInfo, ...]]:
        found: dict[str, list[ServiceInfo]] = {}
        for service in self.services.values():
            found.setdefault(service.signing_name, []).append(service)
        return {name: tuple(services) for name, services in found.items()}

    @functools.cached_property
    def by_endpoint_prefix(self) -> Mapping[str, ServiceInfo]:
        return self._first_by(lambda service: service.endpoint_prefix)

    def _first_by(self, key: Callable[[ServiceInfo], str | None]) -> Mapping[str, ServiceInfo]:
        """
        Services by ``key``; of services sharing one (Timestream's query and
        write APIs share a target prefix), the first by name, every time.
        """
        found: dict[str, ServiceInfo] = {}
        for name in sorted(self.services):
            value = key(self.services[name])
            if value:
                found.setdefault(value, self.services[name])
        return found


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _metadata_from_head(stream: _Readable) -> Mapping[str, Any] | None:
    """The ``metadata`` object of a model file, if it is whole in the file's head."""
    head = stream.read(_HEAD_BYTES).decode("utf-8", "replace")
    start = head.find('"metadata"')
    brace = head.find("{", start) if start >= 0 else -1
    if brace < 0:
        return None
    try:
        metadata, _ = json.JSONDecoder().raw_decode(head, brace)
    except ValueError:
        return None
    return metadata if isinstance(metadata, dict) else None


def _model_path(loader: Any, name: str) -> str | None:
    """The path of the newest ``service-2`` model of ``name`` that ``loader`` would load."""
    version = loader.determine_latest_version(name, "service-2")
    for root in loader.search_paths:
        base = os.path.join(root, name, version, "service-2.json")
        for path in (base, base + ".gz"):
            if os.path.isfile(path):
                return path
    return None


def _metadata(loader: Any, name: str) -> Mapping[str, Any]:
    path = _model_path(loader, name)
    if path is not None:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as stream:
            found = _metadata_from_head(stream)
        if found is not None:
            return found
    metadata: Mapping[str, Any] = loader.load_service_model(name, "service-2")["metadata"]
    return metadata


@functools.cache
def _loader() -> Any:
    from botocore.loaders import create_loader

    return create_loader()


@functools.cache
def service_info(name: str) -> ServiceInfo:
    """What the model of ``name`` says of its requests, read from the model file's head."""
    return ServiceInfo.from_metadata(name, _metadata(_loader(), name))


@functools.cache
def catalog() -> Catalog:
    """The catalog of the botocore installed, read once."""
    names = _loader().list_available_services("service-2")
    return Catalog({name: service_info(name) for name in names})


@functools.cache
def leading_segments(name: str) -> frozenset[str]:
    """
    The first path segments of the operations of ``name``, a REST-protocol
    service (``2015-03-31`` for Lambda, ``restapis`` for API Gateway): the
    paths its API owns. Reads the whole model, once.
    """
    from awsemu.protocol.model import load_service_model

    model = load_service_model(name)
    segments = set()
    for operation in model.operation_names:
        uri = model.operation_model(operation).http.get("requestUri", "/")
        segment = uri.lstrip("/").split("?")[0].split("/")[0]
        if segment and not segment.startswith("{"):
            segments.add(segment)
    return frozenset(segments)
