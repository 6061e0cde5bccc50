"""
botocore's service models, loaded lazily and once per service.

Loading S3's model costs about 100 ms, so nothing loads a model until a
request for that service arrives (or a test asks for it).
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def load_service_model(service_name: str) -> Any:
    """The ``botocore.model.ServiceModel`` of ``service_name`` (e.g. ``"s3"``)."""
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    data = create_loader().load_service_model(service_name, "service-2")
    return ServiceModel(data, service_name=service_name)
