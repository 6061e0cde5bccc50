"""
Tests for ``awsemu.gateway.context``: what a request's credentials say
about the caller, and the request ids each service hands out.
"""

# trial's assertions carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import mypy.api
from twisted.trial.unittest import SynchronousTestCase

import awsemu
from awsemu.gateway.context import (
    ANONYMOUS_ACCOUNT,
    DEFAULT_ACCOUNT_ID,
    AccountForKey,
    CredentialScope,
    PooledRandom,
    RequestContext,
    credential_scope,
    new_context,
)
from awsemu.protocol.http import HttpRequest

FIXED = (
    "request_id",
    "account_id",
    "region",
    "service",
    "access_key_id",
    "started",
    "host_id",
    "source_ip",
)
"""The attributes of a L{RequestContext} known on arrival, which nothing assigns."""

S3_REQUEST_ID = re.compile(r"[0-9A-F]{16}")
S3_HOST_ID = re.compile(r"[A-Za-z0-9+/]{76}")
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def counting(size: int) -> bytes:
    """A stand-in for ``os.urandom``: the bytes 0, 1, 2..."""
    return bytes(range(size))


def request(uri: str = "/", headers: Iterable[tuple[str, str]] = ()) -> HttpRequest:
    return HttpRequest.from_uri("GET", uri, headers=headers, host="localhost:4566")


def sigv4(key: str, region: str = "eu-west-1", service: str = "s3") -> tuple[str, str]:
    return (
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={key}/20250101/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc123",
    )


def presigned(key: str, region: str = "eu-west-1") -> str:
    return (
        "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={key}%2F20250101%2F{region}%2Fs3%2Faws4_request"
        "&X-Amz-Signature=abc"
    )


def sigv2(key: str) -> tuple[str, str]:
    return ("Authorization", f"AWS {key}:c2lnbmF0dXJl")


def no_accounts(access_key_id: str) -> str | None:
    return None


def context(
    case: HttpRequest,
    service: str = "s3",
    now: float = 12.5,
    account_for_key: AccountForKey = no_accounts,
) -> RequestContext:
    """The context of ``case`` with counting randomness and the default region us-east-1."""
    return new_context(
        case, service, "us-east-1", now, random=counting, account_for_key=account_for_key
    )


class CredentialScopeTests(SynchronousTestCase):
    """``credential_scope`` reads SigV4 credentials and nothing else."""

    def test_forms(self) -> None:
        scope = CredentialScope("AKID", "eu-west-1", "s3")
        cases = [
            (request(headers=[sigv4("AKID")]), scope),
            (
                request(
                    headers=[
                        (
                            "Authorization",
                            "AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/s3/aws4_request,"
                            "SignedHeaders=host,Signature=abc",
                        )
                    ]
                ),
                scope,
            ),
            (request(presigned("AKID")), scope),
            (request(), None),
            (request(headers=[sigv2("AKID")]), None),
            (request("/?AWSAccessKeyId=AKID&Signature=x"), None),
            (
                request(
                    headers=[("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/s3")]
                ),
                None,
            ),
            (
                request(
                    headers=[
                        (
                            "Authorization",
                            "AWS4-HMAC-SHA256 Credential=/20250101/eu-west-1/s3/aws4_request",
                        )
                    ]
                ),
                None,
            ),
            (request("/?X-Amz-Credential=AKID%2F20250101%2Feu-west-1%2Fs3%2Fother"), None),
        ]
        self.assertEqual([(case, credential_scope(case)) for case, _ in cases], cases)


class CallerTests(SynchronousTestCase):
    """Access key, account and region of ``new_context``."""

    def test_access_key_id(self) -> None:
        cases = [
            (request(headers=[sigv4("AKIASIGV4")]), "AKIASIGV4"),
            (request(presigned("AKIAPRESIGNED")), "AKIAPRESIGNED"),
            (request(headers=[sigv2("AKIASIGV2")]), "AKIASIGV2"),
            (request("/b/k?AWSAccessKeyId=AKIAV2QUERY&Signature=x&Expires=1"), "AKIAV2QUERY"),
            (request(), None),
            (request(headers=[("Authorization", "Bearer token")]), None),
        ]
        self.assertEqual([(case, context(case).access_key_id) for case, _ in cases], cases)

    def test_query_sigv2_form(self) -> None:
        """IAM's and STS's SigV2 requests name their key in the form body; S3's never do."""
        form = HttpRequest.from_uri(
            "POST",
            "/",
            [("Content-Type", "application/x-www-form-urlencoded")],
            b"Action=GetCallerIdentity&AWSAccessKeyId=111122223333&SignatureVersion=2",
        )
        self.assertEqual(context(form, "sts").account_id, "111122223333")
        self.assertEqual(context(form, "iam").access_key_id, "111122223333")
        self.assertIsNone(context(form, "s3").access_key_id)

    def test_unsigned_account(self) -> None:
        """An unsigned request belongs to the account the gateway says (anonymous S3 callers)."""
        found = new_context(request(), "s3", "us-east-1", 0.0, unsigned_account=ANONYMOUS_ACCOUNT)
        self.assertEqual(found.account_id, ANONYMOUS_ACCOUNT)
        signed = new_context(
            request(headers=[sigv4("test")]), "s3", "us-east-1", 0.0, unsigned_account="x"
        )
        self.assertEqual(signed.account_id, DEFAULT_ACCOUNT_ID)

    def test_account_id(self) -> None:
        """A 12-digit access key id is the account; any other key is the default's."""
        cases = [
            (request(headers=[sigv4("111122223333")]), "111122223333"),
            (request(presigned("111122223333")), "111122223333"),
            (request(headers=[sigv2("444455556666")]), "444455556666"),
            (request("/?AWSAccessKeyId=777788889999"), "777788889999"),
            (request(headers=[sigv4("AKIAIOSFODNN7EXAMPLE")]), DEFAULT_ACCOUNT_ID),
            (request(headers=[sigv4("test")]), DEFAULT_ACCOUNT_ID),
            (request(headers=[sigv4("11112222333")]), DEFAULT_ACCOUNT_ID),
            (request(headers=[sigv4("1111222233334")]), DEFAULT_ACCOUNT_ID),
            (request(headers=[sigv4("١١١١٢٢٢٢٣٣٣٣")]), DEFAULT_ACCOUNT_ID),
            (request(), DEFAULT_ACCOUNT_ID),
        ]
        self.assertEqual([(case, context(case).account_id) for case, _ in cases], cases)
        self.assertEqual(DEFAULT_ACCOUNT_ID, "000000000000")

    def test_account_for_key(self) -> None:
        """
        The hook maps other keys to their account; it is not asked about
        12-digit keys or unsigned requests, and its None means the default.
        """
        asked: list[str] = []

        def account_for_key(key: str) -> str | None:
            asked.append(key)
            return {"AKIAKNOWN": "123456789012"}.get(key)

        accounts = [
            context(request(headers=[sigv4(key)]), account_for_key=account_for_key).account_id
            for key in ["AKIAKNOWN", "AKIAUNKNOWN", "210987654321"]
        ]
        accounts.append(context(request(), account_for_key=account_for_key).account_id)
        self.assertEqual(
            accounts, ["123456789012", DEFAULT_ACCOUNT_ID, "210987654321", DEFAULT_ACCOUNT_ID]
        )
        self.assertEqual(asked, ["AKIAKNOWN", "AKIAUNKNOWN"])

    def test_region(self) -> None:
        """The SigV4 scope's region, else the default (SigV2 carries none)."""
        cases = [
            (request(headers=[sigv4("AKID", region="ap-south-1")]), "ap-south-1"),
            (request(presigned("AKID", region="sa-east-1")), "sa-east-1"),
            (request(headers=[sigv2("AKID")]), "us-east-1"),
            (request("/?AWSAccessKeyId=AKID"), "us-east-1"),
            (request(), "us-east-1"),
        ]
        self.assertEqual([(case, context(case).region) for case, _ in cases], cases)

    def test_fields(self) -> None:
        self.assertEqual(
            context(request(headers=[sigv4("111122223333")]), service="lambda", now=99.25),
            RequestContext(
                request_id="00010203-0405-4607-8809-0a0b0c0d0e0f",
                account_id="111122223333",
                region="eu-west-1",
                service="lambda",
                access_key_id="111122223333",
                started=99.25,
            ),
        )


class RequestIdTests(SynchronousTestCase):
    """Request ids in each service's format, from the injected randomness."""

    def test_s3(self) -> None:
        s3 = context(request(), service="s3")
        self.assertEqual(
            (s3.request_id, s3.host_id),
            (
                "0001020304050607",
                "CAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9A",
            ),
        )

    def test_other_services(self) -> None:
        services = ["dynamodb", "lambda", "logs", "apigateway", "iam", "sts"]
        self.assertEqual(
            [(name, context(request(), service=name).request_id) for name in services],
            [(name, "00010203-0405-4607-8809-0a0b0c0d0e0f") for name in services],
        )
        self.assertEqual({context(request(), service=name).host_id for name in services}, {None})

    def test_formats(self) -> None:
        """With real randomness, ids have AWS's shapes and differ per request."""
        s3 = [new_context(request(), "s3", "us-east-1", 0.0) for _ in range(2)]
        others = [new_context(request(), "dynamodb", "us-east-1", 0.0) for _ in range(2)]
        for each in s3:
            self.assertRegex(each.request_id, S3_REQUEST_ID)
            self.assertRegex(each.host_id or "", S3_HOST_ID)
        for each in others:
            self.assertRegex(each.request_id, UUID4)
        self.assertNotEqual(s3[0].request_id, s3[1].request_id)
        self.assertNotEqual(s3[0].host_id, s3[1].host_id)
        self.assertNotEqual(others[0].request_id, others[1].request_id)

    def test_deterministic(self) -> None:
        """The same randomness gives the same ids."""
        self.assertEqual(context(request()), context(request()))


class MutabilityTests(SynchronousTestCase):
    """Only ``operation`` and ``resource`` may change after the context is made."""

    def test_operation(self) -> None:
        each = context(request())
        self.assertIsNone(each.operation)
        each.operation = "GetObject"
        self.assertEqual(each.operation, "GetObject")

    def test_others_final(self) -> None:
        """
        The type checker refuses an assignment of any other attribute (the
        attributes are ``Final``, see L{RequestContext}), and takes those of
        ``operation`` and ``resource``.
        """
        checked = (
            "from awsemu.gateway.context import RequestContext\n"
            "def change(context: RequestContext) -> None:\n"
            "    context.operation = 'GetItem'\n"
            "    context.resource = 'Table'\n"
            + "".join(f"    context.{name} = context.{name}\n" for name in FIXED)
        )
        # The source tree, where the checker finds awsemu from any directory.
        source = str(Path(awsemu.__file__).parent.parent)
        self.patch(os, "environ", {**os.environ, "MYPYPATH": source})
        report, _, status = mypy.api.run(
            [
                "--config-file=",
                "--strict",
                "--no-incremental",
                "--follow-imports=silent",
                "-c",
                checked,
            ]
        )
        self.assertEqual(status, 1)
        refused = re.findall(r'Cannot assign to final attribute "(\w+)"', report)
        self.assertEqual(refused, list(FIXED))
        self.assertEqual(report.count("error:"), len(FIXED), report)


class PooledRandomTests(SynchronousTestCase):
    """L{PooledRandom} hands out the bytes of one C{os.urandom} read, never the same twice."""

    def test_takes(self) -> None:
        random = PooledRandom(pool_size=64)
        taken = [random(16) for _ in range(4)]  # The first pool, to its last byte.
        self.assertEqual([len(t) for t in taken], [16, 16, 16, 16])
        self.assertEqual(len(set(taken)), 4)
        following = random(16)  # From a new pool.
        self.assertEqual(len(following), 16)
        self.assertNotIn(following, taken)

    def test_larger_than_pool(self) -> None:
        """A request for more than a pool holds gets all it asked for."""
        random = PooledRandom(pool_size=8)
        self.assertEqual(len(random(65)), 65)
        self.assertEqual(len(random(3)), 3)
