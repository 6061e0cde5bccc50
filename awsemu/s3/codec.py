"""
S3's wire details beyond botocore's model: root element names, the bare
``LocationConstraint`` document, 206 for ranges, ``MalformedXML`` for
bodies that do not parse, and 304 without a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from xml.sax.saxutils import escape

from awsemu.protocol import xmlshapes
from awsemu.protocol.codec import RestXmlCodec
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpResponse
from awsemu.protocol.model import load_service_model
from awsemu.s3 import errors, restore

NAMESPACE: Final = "http://s3.amazonaws.com/doc/2006-03-01/"

#: Response root elements AWS uses where they differ from ``<Operation>Result``.
ROOT_NAMES: Final[Mapping[str, str]] = {
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjectVersions": "ListVersionsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "ListParts": "ListPartsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "DeleteObjects": "DeleteResult",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
}


class S3Codec(RestXmlCodec):
    """The rest-xml codec with S3's exceptions to the model; see the module docstring."""

    def __init__(self, service_model: Any) -> None:
        super().__init__(service_model, namespace=NAMESPACE, root_names=ROOT_NAMES)

    def _decode_body(self, shape: Any, raw: bytes) -> Any:
        try:
            return super()._decode_body(shape, raw)
        except ValueError:
            raise errors.malformed_xml() from None

    def _response(self, operation: Any, output: Mapping[str, Any], request_id: str) -> HttpResponse:
        if operation.name == "GetBucketLocation":
            region = output.get("LocationConstraint")
            body = (
                f'{xmlshapes.XML_DECLARATION}<LocationConstraint xmlns="{NAMESPACE}">'
                f"{escape(region or '')}</LocationConstraint>"
            )
            return HttpResponse(200, [("Content-Type", "application/xml")], body.encode())
        response = super()._response(operation, output, request_id)
        if operation.name == "GetObject" and output.get("ContentRange"):
            response.status = 206
        if operation.name == "RestoreObject" and output.get(restore.ACCEPTED):
            response.status = 202
        return response

    def serialize_error(
        self,
        error: ServiceError,
        operation: Any | None,
        request_id: str,
        *,
        head: bool = False,
        host_id: str = "",
    ) -> HttpResponse:
        return super().serialize_error(
            error, operation, request_id, head=head or error.status == 304, host_id=host_id
        )


def make_codec() -> S3Codec:
    return S3Codec(load_service_model("s3"))
