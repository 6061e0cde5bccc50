"""
Every service awsemu can serve, by the name ``--services`` uses, and where
its factory lives. Factories are imported only for the services enabled,
so a daemon that serves S3 alone never imports Lambda's dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: Service name → ``module:function`` of
#: ``make_service(config, reactor, shared: SharedObjects) -> ServiceBackend``.
SERVICE_FACTORIES: Final[Mapping[str, str]] = {
    "s3": "awsemu.s3:make_service",
    "sts": "awsemu.sts:make_service",
    "dynamodb": "awsemu.dynamodb.service:make_service",
    "logs": "awsemu.logs:make_service",
    "iam": "awsemu.iam:make_service",
    "apigateway": "awsemu.apigateway:make_service",
    "lambda": "awsemu.lambda_:make_service",
}

#: Service name → the botocore models whose operations it serves, the one
#: that shapes its errors first. Routing reads what requests carry (paths,
#: ``X-Amz-Target`` prefixes, signing names, actions) from these models.
SERVICE_MODELS: Final[Mapping[str, tuple[str, ...]]] = {
    "s3": ("s3",),
    "sts": ("sts",),
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "logs": ("logs",),
    "iam": ("iam",),
    "apigateway": ("apigateway",),
    "lambda": ("lambda",),
}
