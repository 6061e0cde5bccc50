"""Lifecycle rules: S3's checks on put, and x-amz-expiration (see s3/lifecycle)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.s3 import lifecycle
from awsemu.s3.store import ObjectVersion
from tests.s3support import S3TestCase

DAY = 86400


def rule(**members: Any) -> dict[str, Any]:
    return {"ID": "r", "Status": "Enabled", "Filter": {}, **members}


class RuleCheckTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()

    def put(self, *rules: dict[str, Any]) -> Any:
        return self.s3.put_bucket_lifecycle_configuration(
            Bucket=self.bucket, LifecycleConfiguration={"Rules": list(rules)}
        )

    def refused(self, code: str, message: str | None, *rules: dict[str, Any]) -> None:
        error = self.assertClientError(self.put, code, 400, *rules)
        if message is not None:
            self.assertEqual(error["Message"], message)

    def test_refused_rules(self) -> None:
        expire = {"Expiration": {"Days": 1}}
        cases: list[tuple[str, str | None, list[dict[str, Any]]]] = [
            ("MalformedXML", None, [{"ID": "r", "Status": "Enabled", **expire}]),
            (
                "MalformedXML",
                None,
                [rule(Filter={"Prefix": "a", "ObjectSizeGreaterThan": 1}, **expire)],
            ),
            ("MalformedXML", None, [rule(Filter={"And": {"Prefix": "a"}}, **expire)]),
            (
                "MalformedXML",
                None,
                [rule(Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True})],
            ),
            (
                "InvalidRequest",
                "At least one action needs to be specified in a rule",
                [rule()],
            ),
            (
                "InvalidArgument",
                "ID length should not exceed allowed limit of 255",
                [rule(ID="i" * 256, **expire)],
            ),
            (
                "InvalidArgument",
                "Rule ID must be unique. Found same ID for more than one rule",
                [rule(**expire), rule(Filter={"Prefix": "x"}, **expire)],
            ),
            (
                "InvalidArgument",
                "'Days' for Expiration action must be a positive integer",
                [rule(Expiration={"Days": 0})],
            ),
            (
                "InvalidArgument",
                "'Date' must be at midnight GMT",
                [rule(Expiration={"Date": datetime(2030, 1, 1, 12, tzinfo=UTC)})],
            ),
            (
                "InvalidRequest",
                "AbortIncompleteMultipartUpload cannot be specified with Tags.",
                [
                    rule(
                        Filter={"Tag": {"Key": "a", "Value": "b"}},
                        AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1},
                    )
                ],
            ),
            (
                "InvalidRequest",
                "Duplicate Tag Keys are not allowed.",
                [
                    rule(
                        Filter={
                            "And": {
                                "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]
                            }
                        },
                        **expire,
                    )
                ],
            ),
            (
                "InvalidRequest",
                "'ObjectSizeLessThan' should be between 1 and 1099511627776000.",
                [rule(Filter={"ObjectSizeLessThan": 0}, **expire)],
            ),
            (
                "InvalidArgument",
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive "
                "integer",
                [rule(NoncurrentVersionExpiration={"NoncurrentDays": 0})],
            ),
            (
                "InvalidArgument",
                "'Days' in Transition action must be greater than or equal to 30 for "
                "storageClass 'ONEZONE_IA'",
                [rule(Transitions=[{"Days": 29, "StorageClass": "ONEZONE_IA"}])],
            ),
            (
                "InvalidRequest",
                "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported "
                "in the Filter.",
                [rule(**expire), {"ID": "v1", "Status": "Enabled", "Prefix": "p", **expire}],
            ),
        ]
        for code, message, rules in cases:
            self.refused(code, message, *rules)
        self.assertClientError(
            self.s3.get_bucket_lifecycle_configuration,
            "NoSuchLifecycleConfiguration",
            404,
            Bucket=self.bucket,
        )

    def test_accepted_and_named(self) -> None:
        """Valid rules are kept; a rule without an ID gets one as S3 makes them."""
        self.put(
            {"Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 3}},
            rule(
                ID="glacier",
                Filter={"And": {"Prefix": "", "ObjectSizeGreaterThan": 10}},
                Transitions=[{"Days": 0, "StorageClass": "GLACIER_IR"}],
            ),
        )
        rules = self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)["Rules"]
        self.assertRegex(rules[0]["ID"], r"^[A-Za-z0-9+/=]{48}$")
        self.assertEqual(rules[1]["ID"], "glacier")


class ExpirationHeaderTests(S3TestCase):
    def test_header_on_writes_and_reads(self) -> None:
        bucket = self.new_bucket()
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    rule(ID="week", Filter={"Prefix": "logs/"}, Expiration={"Days": 7}),
                    rule(
                        ID="tagged rule",
                        Filter={"Tag": {"Key": "tmp", "Value": "yes"}},
                        Expiration={"Days": 1},
                    ),
                    rule(ID="off", Status="Disabled", Expiration={"Days": 1}),
                ]
            },
        )
        before = time.time()
        put = self.s3.put_object(Bucket=bucket, Key="logs/a", Body=b"x")
        due = formatdate((int(before + 7 * DAY) // DAY + 1) * DAY, usegmt=True)
        expected = f'expiry-date="{due}", rule-id="week"'
        self.assertEqual(put["Expiration"], expected)
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="logs/a")["Expiration"], expected)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="logs/a")["Expiration"], expected)
        # The earliest of two matching rules names the header.
        tagged = self.s3.put_object(Bucket=bucket, Key="logs/b", Body=b"x", Tagging="tmp=yes")
        self.assertTrue(tagged["Expiration"].endswith('rule-id="tagged rule"'))
        copied = self.s3.copy_object(
            Bucket=bucket, Key="logs/c", CopySource={"Bucket": bucket, "Key": "logs/a"}
        )
        self.assertEqual(copied["Expiration"], expected)
        other = self.s3.put_object(Bucket=bucket, Key="other", Body=b"x")
        self.assertNotIn("Expiration", other)
        self.assertRegex(put["Expiration"], re.compile(r'^expiry-date="[^"]+", rule-id="[^"]+"$'))

    def test_multipart_headers(self) -> None:
        """An abort rule dates uploads (x-amz-abort-*); a completed one gets x-amz-expiration."""
        bucket = self.new_bucket()
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    rule(
                        ID="abort",
                        Filter={"Prefix": "up/"},
                        AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2},
                    ),
                    rule(ID="gone", Filter={"Prefix": "up/"}, Expiration={"Days": 3}),
                ]
            },
        )
        before = time.time()
        created = self.s3.create_multipart_upload(Bucket=bucket, Key="up/k")
        midnight = (int(before + 2 * DAY) // DAY + 1) * DAY
        self.assertEqual(
            (created["AbortDate"].timestamp(), created["AbortRuleId"]), (midnight, "abort")
        )
        upload = created["UploadId"]
        part = self.s3.upload_part(
            Bucket=bucket, Key="up/k", UploadId=upload, PartNumber=1, Body=b"x"
        )
        listed = self.s3.list_parts(Bucket=bucket, Key="up/k", UploadId=upload)
        self.assertEqual(listed["AbortRuleId"], "abort")
        done = self.s3.complete_multipart_upload(
            Bucket=bucket,
            Key="up/k",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        self.assertTrue(done["Expiration"].endswith('rule-id="gone"'))
        other = self.s3.create_multipart_upload(Bucket=bucket, Key="elsewhere")
        self.assertNotIn("AbortDate", other)


class MatchUnitTests(SynchronousTestCase):
    def version(self, key: str, size: int = 5, **tags: str) -> ObjectVersion:
        return ObjectVersion(
            key=key, version_id="null", last_modified=DAY + 1, owner="o", size=size, tags=tags
        )

    def test_filters(self) -> None:
        config = {
            "lifecycle": {
                "Rules": [
                    rule(
                        ID="sized",
                        Filter={"And": {"ObjectSizeGreaterThan": 4, "ObjectSizeLessThan": 6}},
                        Expiration={"Days": 1},
                    ),
                    {"ID": "v1", "Status": "Enabled", "Prefix": "old/", "Expiration": {"Days": 2}},
                ]
            }
        }
        self.assertIn("sized", lifecycle.expiration(config, self.version("k"))["Expiration"])
        self.assertEqual(lifecycle.expiration(config, self.version("k", size=6)), {})
        by_prefix = lifecycle.expiration(config, self.version("old/k", size=6))["Expiration"]
        self.assertEqual(
            by_prefix, f'expiry-date="{formatdate(4 * DAY, usegmt=True)}", rule-id="v1"'
        )
