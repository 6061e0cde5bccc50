"""
Serialization plans (``xmlshapes.encoder``) write the very bytes of the
model walk they replace (``xmlshapes.encode_structure``): for random S3
listings, large and with text that needs escaping, and for every output of
the services that speak XML.
"""

# trial's assertions carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.model import OperationModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from awsemu.protocol import xmlshapes
from awsemu.protocol.model import load_service_model
from tests.protocol_strategies import output_params

_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
_NAMESPACE = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'

#: Keys as S3 stores them: any text, including what XML must escape.
_KEYS = st.text(st.characters(exclude_categories=["Cs"]) | st.sampled_from("&<>\r\"'/"))
_TIMES = st.integers(0, 4_000_000_000).map(
    lambda seconds: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=7)
)
_CONTENT = st.fixed_dictionaries(
    {
        "Key": _KEYS,
        "LastModified": _TIMES,
        "ETag": st.text(max_size=40),
        "Size": st.integers(0, 2**62),
        "StorageClass": st.sampled_from(["STANDARD", "GLACIER"]),
    },
    optional={
        "ChecksumAlgorithm": st.lists(st.sampled_from(["CRC32", "CRC64NVME"]), max_size=2),
        "ChecksumType": st.sampled_from(["FULL_OBJECT", "COMPOSITE"]),
        "Owner": st.fixed_dictionaries({"ID": _KEYS, "DisplayName": _KEYS}),
    },
)
_LISTINGS = st.fixed_dictionaries(
    {
        "Name": _KEYS,
        "Prefix": _KEYS,
        "MaxKeys": st.integers(0, 1000),
        "IsTruncated": st.booleans(),
        "Contents": st.lists(_CONTENT, max_size=60),
        "CommonPrefixes": st.lists(st.fixed_dictionaries({"Prefix": _KEYS}), max_size=5),
        "KeyCount": st.integers(0, 1000),
    },
    optional={"Delimiter": _KEYS, "EncodingType": st.just("url"), "StartAfter": _KEYS},
)


def _both(shape: Any, value: Any, name: str, extra_attributes: str = "") -> tuple[str, str]:
    walked: list[str] = []
    xmlshapes.encode_structure(shape, value, name, walked, extra_attributes)
    planned: list[str] = []
    xmlshapes.encoder(shape)(value, name, planned, extra_attributes)
    return "".join(walked), "".join(planned)


class PlanTests(SynchronousTestCase):
    def _operation(self, service: str, name: str) -> OperationModel:
        operation: OperationModel = load_service_model(service).operation_model(name)
        return operation

    def test_listings(self) -> None:
        """Random ListObjectsV2 outputs serialize to the same bytes either way."""
        shape = self._operation("s3", "ListObjectsV2").output_shape

        @_SETTINGS
        @given(_LISTINGS)
        def check(listing: dict[str, Any]) -> None:
            walked, planned = _both(shape, listing, "ListBucketResult", _NAMESPACE)
            self.assertEqual(planned, walked)

        check()

    def test_escaping(self) -> None:
        """Text XML must escape is escaped as the walk does, carriage returns included."""
        shape = self._operation("s3", "ListObjectsV2").output_shape
        listing = {"Name": "b", "Contents": [{"Key": "a&b<c>d\re'f\"", "Size": 1}]}
        walked, planned = _both(shape, listing, "ListBucketResult")
        self.assertEqual(planned, walked)
        self.assertIn("<Key>a&amp;b&lt;c&gt;d&#xD;e'f\"</Key>", planned)

    def test_every_output(self) -> None:
        """
        Every output of S3 (attributes such as ``xsi:type``, flattened lists,
        maps) and of the query services (wrapped lists, ``entry`` maps).
        """
        for service in ("s3", "iam", "sts"):
            model = load_service_model(service)
            for name in model.operation_names:
                operation = model.operation_model(name)
                shape = operation.output_shape
                # Event streams are framed events, not one document.
                if shape is not None and shape.members and not operation.has_event_stream_output:
                    self._check_outputs(operation)

    def _check_outputs(self, operation: OperationModel) -> None:
        shape = operation.output_shape

        @settings(_SETTINGS, max_examples=5)
        @given(output_params(operation))
        def check(output: dict[str, Any]) -> None:
            walked, planned = _both(shape, output, "Result", _NAMESPACE)
            self.assertEqual(planned, walked)

        check()
