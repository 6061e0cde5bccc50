"""
Tests for ``awsemu.protocol.catalog`` (every botocore service by what its
requests carry) and for the errors the gateway gives for services it does
not serve, in each protocol botocore's clients speak.
"""

# trial's assertions carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import io
import json
from typing import Any

from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol import catalog as catalog_module
from awsemu.protocol.catalog import ServiceInfo, catalog, leading_segments, service_info
from awsemu.protocol.codec import service_error_response
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.protocol.model import load_service_model


class CatalogTests(SynchronousTestCase):
    def test_heads_match_models(self) -> None:
        """What the files' heads give is what the whole models say."""
        for name in ("sqs", "s3", "cloudwatch", "sts", "dynamodbstreams", "apigatewayv2"):
            model = load_service_model(name)
            self.assertEqual(
                service_info(name),
                ServiceInfo(
                    name=name,
                    service_id=model.metadata["serviceId"],
                    signing_name=model.signing_name,
                    endpoint_prefix=model.endpoint_prefix,
                    protocols=tuple(model.metadata.get("protocols") or [model.protocol]),
                    target_prefix=model.metadata.get("targetPrefix"),
                ),
            )

    def test_every_service(self) -> None:
        """The catalog holds every service botocore can load."""
        from botocore.loaders import create_loader

        self.assertEqual(
            set(catalog().services), set(create_loader().list_available_services("service-2"))
        )
        self.assertEqual(catalog().by_target_prefix["AmazonSQS"].name, "sqs")
        self.assertEqual(catalog().by_endpoint_prefix["monitoring"].name, "cloudwatch")
        self.assertEqual(
            [info.name for info in catalog().by_signing_name["dynamodb"]],
            ["dynamodb", "dynamodbstreams"],
        )

    def test_head_without_metadata(self) -> None:
        """A file whose head does not hold the whole metadata is read whole instead."""
        cut = io.BytesIO(b'{"version":"2.0","metadata":{"apiVersion":"2012-11-05", "endp')
        self.assertIsNone(catalog_module._metadata_from_head(cut))
        late = io.BytesIO(b'{"operations":{' + b" " * 9000 + b'},"metadata":{}}')
        self.assertIsNone(catalog_module._metadata_from_head(late))
        whole = io.BytesIO(b'{"version":"2.0","metadata":{"endpointPrefix":"x"},"operations":{}}')
        self.assertEqual(catalog_module._metadata_from_head(whole), {"endpointPrefix": "x"})

    def test_leading_segments(self) -> None:
        self.assertIn("restapis", leading_segments("apigateway"))
        self.assertIn("2015-03-31", leading_segments("lambda"))
        self.assertEqual(leading_segments("apigatewayv2"), frozenset({"v2"}))


def parse_error(protocol: str, response: HttpResponse, model_name: str) -> dict[str, Any]:
    """``response`` as botocore's parser for ``protocol`` reads it."""
    assert isinstance(response.body, bytes)
    parsed: dict[str, Any] = create_parser(protocol).parse(
        {
            "status_code": response.status,
            "headers": HeadersDict(response.headers),
            "body": response.body,
        },
        load_service_model(model_name)
        .operation_model(load_service_model(model_name).operation_names[0])
        .output_shape,
    )
    return parsed


class ServiceErrorResponseTests(SynchronousTestCase):
    """``service_error_response`` answers in the protocol the request speaks."""

    def answer(self, service: str, request: HttpRequest, message: str) -> HttpResponse:
        return service_error_response(
            service, request, ServiceError("NotImplemented", message, status=501), "rid"
        )

    def test_protocols(self) -> None:
        message = "awsemu does not emulate it"
        cases = [
            (
                "cloudwatch",
                HttpRequest.from_uri(
                    "POST",
                    "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                    headers=[("smithy-protocol", "rpc-v2-cbor")],
                ),
                "smithy-rpc-v2-cbor",
            ),
            (
                "cloudwatch",
                HttpRequest.from_uri(
                    "POST", "/", headers=[("X-Amz-Target", "GraniteServiceVersion20100801.X")]
                ),
                "json",
            ),
            (
                "sns",
                HttpRequest.from_uri("POST", "/", body=b"Action=CreateTopic", headers=[FORM]),
                "query",
            ),
            (
                "ec2",
                HttpRequest.from_uri("POST", "/", body=b"Action=DescribeVpcs", headers=[FORM]),
                "ec2",
            ),
            ("apigatewayv2", HttpRequest.from_uri("GET", "/v2/apis"), "rest-json"),
            ("cloudfront", HttpRequest.from_uri("GET", "/2020-05-31/distribution"), "rest-xml"),
        ]
        answers = []
        for service, request, protocol in cases:
            response = self.answer(service, request, message)
            error = parse_error(protocol, response, service)["Error"]
            answers.append((service, protocol, response.status, error["Code"], error["Message"]))
        self.assertEqual(
            answers,
            [(service, protocol, 501, "NotImplemented", message) for service, _, protocol in cases],
        )

    def test_cbor_lengths(self) -> None:
        """Text of every CBOR length class (1, 2 and 4 byte lengths) reads back whole."""
        request = HttpRequest.from_uri("POST", "/", headers=[("smithy-protocol", "rpc-v2-cbor")])
        for size in (23, 24, 255, 256, 65535, 65536):
            message = "é" * (size // 2) + "x" * (size % 2)
            response = self.answer("cloudwatch", request, message)
            error = parse_error("smithy-rpc-v2-cbor", response, "cloudwatch")["Error"]
            self.assertEqual((size, error["Message"]), (size, message))

    def test_head(self) -> None:
        """A HEAD's error has the status and headers but no body."""
        response = self.answer(
            "cloudwatch",
            HttpRequest.from_uri("HEAD", "/", headers=[("smithy-protocol", "rpc-v2-cbor")]),
            "m",
        )
        self.assertEqual((response.status, response.body), (501, b""))

    def test_json_body(self) -> None:
        response = self.answer(
            "sqs", HttpRequest.from_uri("POST", "/", headers=[("X-Amz-Target", "AmazonSQS.X")]), "m"
        )
        assert isinstance(response.body, bytes)
        self.assertEqual(json.loads(response.body), {"__type": "NotImplemented", "message": "m"})


FORM = ("Content-Type", "application/x-www-form-urlencoded")
