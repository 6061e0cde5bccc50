"""
The access keys awsemu knows and the signature check of every service but
S3, on requests botocore itself signed (``SigV4Auth``, ``SigV4QueryAuth``),
without a daemon.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping

import botocore.auth
from botocore.auth import SigV2Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from awsemu.auth import sigv4
from awsemu.auth.keys import KeyDirectory, KeyRefused, KnownKey, Mode, Problem, read_credentials
from awsemu.auth.verify import WORDINGS, Authenticator, accept_all, authenticator
from awsemu.gateway.context import new_context
from awsemu.iam.store import IamStore
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest

KEY_ID = "AKIAALICE0000EXAMPLE"
SECRET = "alice-secret"
ACCOUNT = "111111111111"
SIGNED_AT = datetime.datetime(2026, 12, 3, 4, 0, 0)
NOW = SIGNED_AT.replace(tzinfo=datetime.UTC).timestamp()
HOST = "localhost:4566"


def sign(
    service: str,
    method: str = "POST",
    path: str = "/",
    body: bytes = b"{}",
    headers: Mapping[str, str] | None = None,
    key_id: str = KEY_ID,
    secret: str = SECRET,
    token: str | None = None,
    presign: bool = False,
) -> HttpRequest:
    """A request as botocore signs it at ``SIGNED_AT``, in the gateway's form."""
    request = AWSRequest(method, f"http://{HOST}{path}", dict(headers or {}), body)
    signer_class = SigV4QueryAuth if presign else SigV4Auth
    original = botocore.auth.get_current_datetime
    botocore.auth.get_current_datetime = lambda: SIGNED_AT
    try:
        signer_class(Credentials(key_id, secret, token), service, "us-east-1").add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original
    prepared = request.prepare()
    target = prepared.url.split(HOST, 1)[1]
    pairs = [(name, value) for name, value in prepared.headers.items()]
    if "host" not in {name.lower() for name, _ in pairs}:
        pairs.append(("Host", HOST))
    return HttpRequest.from_uri(method, target, pairs, prepared.body or b"", host=HOST)


def directory(mode: Mode, now: float = NOW, iam: IamStore | None = None) -> KeyDirectory:
    clock = Clock()
    clock.advance(now)
    return KeyDirectory(mode, clock, {KEY_ID: KnownKey(SECRET, ACCOUNT)}, iam)


def add_session(iam: IamStore, expires: float) -> IamStore:
    """``iam`` with the session ``ASIASESSION`` (secret ``session-secret``, token ``token``)."""
    iam.add_session(
        "ASIASESSION",
        {
            "Account": ACCOUNT,
            "RoleName": "r",
            "RoleId": "AROA",
            "SessionName": "s",
            "SecretAccessKey": "session-secret",
            "SessionToken": "token",
            "Expiration": expires,
        },
    )
    return iam


def check(
    request: HttpRequest, service: str, mode: Mode = Mode.VERIFY, now: float = NOW, **kw: object
) -> ServiceError | None:
    keys = directory(mode, now, **kw)  # type: ignore[arg-type]
    context = new_context(request, service, "us-east-1", now)
    return Authenticator(keys, keys.clock)(context, request)


class NormalizedPathTests(SynchronousTestCase):
    """Every service but S3 signs the path normalised and encoded once more."""

    def test_paths(self) -> None:
        for raw, canonical in [
            ("/", "/"),
            ("", "/"),
            (
                "/2015-03-31/functions/f%3A1/invocations",
                "/2015-03-31/functions/f%253A1/invocations",
            ),
            ("/a//b/./c/../d/", "/a/b/d/"),
            ("/restapis/a b", "/restapis/a%20b"),
        ]:
            self.assertEqual(sigv4.normalized_path(raw), canonical, raw)


class TimestampTests(SynchronousTestCase):
    """``amz_timestamp`` reads ``X-Amz-Date`` and nothing else."""

    def test_times(self) -> None:
        self.assertEqual(sigv4.amz_timestamp("20261203T040000Z"), NOW)
        self.assertEqual(sigv4.amz_timestamp("19700101T000001Z"), 1.0)
        for bad in ("20261303T040000Z", "20261203T250000Z", "2026-12-03T04:00:00Z", "", "x"):
            self.assertRaises(ValueError, sigv4.amz_timestamp, bad)


class CredentialsFileTests(SynchronousTestCase):
    """``read_credentials`` reads the AWS CLI's credentials file."""

    def test_profiles(self) -> None:
        """Each profile's key; ``aws_account_id`` picks its account, else the default one."""
        keys = read_credentials(
            "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s1\n"
            "aws_session_token = ignored\n\n"
            "[bob]\naws_access_key_id=AKIA2\naws_secret_access_key=s2%x\n"
            "aws_account_id = 222222222222\n\n[profile-without-keys]\nregion = eu-west-1\n"
        )
        self.assertEqual(
            keys,
            {
                "AKIA1": KnownKey("s1", "000000000000"),
                "AKIA2": KnownKey("s2%x", "222222222222"),
            },
        )

    def test_errors(self) -> None:
        for text, message in [
            ("no section", "not a credentials file (File contains no section headers.)"),
            ("[a]\nregion = x\n", "no profile has aws_access_key_id and aws_secret_access_key"),
            (
                "[a]\naws_access_key_id = K\naws_secret_access_key = s\naws_account_id = 12\n",
                "profile 'a': aws_account_id '12' is not 12 digits",
            ),
            (
                "[a]\naws_access_key_id = K\naws_secret_access_key = s\n"
                "[b]\naws_access_key_id = K\naws_secret_access_key = t\n",
                "profile 'b' repeats the access key id K",
            ),
        ]:
            e = self.assertRaises(ValueError, read_credentials, text)
            self.assertEqual(str(e), message)


class KeyDirectoryTests(SynchronousTestCase):
    """What ``KeyDirectory.check`` concludes in each mode."""

    def refused(self, keys: KeyDirectory, key_id: str | None, token: str | None) -> Problem:
        refused: KeyRefused = self.assertRaises(KeyRefused, keys.check, key_id, token)
        return refused.problem

    def test_off(self) -> None:
        """Nothing is checked, not even a known key."""
        self.assertIsNone(directory(Mode.OFF).check(KEY_ID, None))

    def test_verify(self) -> None:
        """A known key is to be checked; unknown keys and unsigned requests pass."""
        keys = directory(Mode.VERIFY)
        self.assertEqual(keys.check(KEY_ID, None), KnownKey(SECRET, ACCOUNT))
        self.assertIsNone(keys.check("test", None))
        self.assertIsNone(keys.check(None, None))

    def test_enforce(self) -> None:
        keys = directory(Mode.ENFORCE)
        self.assertEqual(keys.check(KEY_ID, None), KnownKey(SECRET, ACCOUNT))
        self.assertIs(self.refused(keys, "test", None), Problem.UNKNOWN_KEY)
        self.assertIs(self.refused(keys, None, None), Problem.UNSIGNED)

    def test_iam_keys(self) -> None:
        """IAM users' keys and STS sessions, with their accounts, activity and expiry."""
        iam = IamStore()
        iam.account(ACCOUNT)["users"]["ci"] = {
            "user": {
                "Path": "/",
                "UserName": "ci",
                "UserId": "AIDA",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                "CreateDate": 0.0,
                "Tags": [],
            },
            "keys": {},
            "inline": {},
            "attached": [],
        }
        iam.add_key(
            ACCOUNT,
            {
                "UserName": "ci",
                "AccessKeyId": "AKIACI",
                "Status": "Inactive",
                "SecretAccessKey": "ci-secret",
                "CreateDate": 0.0,
            },
        )
        add_session(iam, NOW + 10)
        keys = directory(Mode.VERIFY, iam=iam)
        self.assertEqual(keys.account_for_key("ASIASESSION"), ACCOUNT)
        self.assertEqual(keys.account_for_key(KEY_ID), ACCOUNT)
        self.assertIsNone(keys.account_for_key("test"))
        self.assertEqual(
            keys.check("ASIASESSION", "token"),
            KnownKey("session-secret", ACCOUNT, expires=NOW + 10, token="token"),
        )
        self.assertIs(self.refused(keys, "AKIACI", None), Problem.UNKNOWN_KEY)
        self.assertIs(self.refused(keys, "ASIASESSION", None), Problem.UNKNOWN_KEY)
        self.assertIs(self.refused(keys, "ASIASESSION", "other"), Problem.INVALID_TOKEN)
        keys.clock.advance(10)  # type: ignore[attr-defined]
        self.assertIs(self.refused(keys, "ASIASESSION", "token"), Problem.EXPIRED_TOKEN)

    def test_function_credentials(self) -> None:
        """
        Under ``enforce`` functions get a session key of their account, made
        once and known from then on; otherwise their account id as key id.
        """
        self.assertEqual(
            directory(Mode.VERIFY).function_credentials(ACCOUNT), (ACCOUNT, "test", "test")
        )
        keys = directory(Mode.ENFORCE)
        key_id, secret, token = keys.function_credentials(ACCOUNT)
        self.assertEqual(keys.function_credentials(ACCOUNT), (key_id, secret, token))
        self.assertTrue(key_id.startswith("ASIA"))
        self.assertEqual(keys.check(key_id, token), KnownKey(secret, ACCOUNT, token=token))
        self.assertNotEqual(keys.function_credentials("222222222222")[0], key_id)


class SignatureTests(SynchronousTestCase):
    """The gateway's check of requests botocore signed, in each service's words."""

    def assertRefused(
        self, error: ServiceError | None, code: str, status: int, message: str | None = None
    ) -> None:
        assert error is not None
        self.assertEqual((error.code, error.status), (code, status))
        if message is not None:
            self.assertEqual(error.message, message)

    def test_right_secret(self) -> None:
        """Requests of each protocol's shape, signed with the right secret, pass."""
        json_headers = {"Content-Type": "application/x-amz-json-1.0"}
        requests = {
            "dynamodb": sign("dynamodb", headers={**json_headers, "X-Amz-Target": "x.Scan"}),
            "logs": sign("logs", headers=json_headers),
            "lambda": sign(
                "lambda", path="/2015-03-31/functions/f%3A1/invocations", body=b'{"a": 1}'
            ),
            "apigateway": sign("apigateway", method="GET", path="/restapis?limit=5", body=b""),
            "iam": sign(
                "iam",
                body=b"Action=CreateUser&Version=2010-05-08&UserName=a%20b",
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            ),
            "sts": sign(
                "sts", method="GET", path="/?Action=GetCallerIdentity&Version=2011-06-15", body=b""
            ),
        }
        for service, request in requests.items():
            for mode in (Mode.VERIFY, Mode.ENFORCE):
                self.assertIsNone(check(request, service, mode), service)

    def test_wrong_secret(self) -> None:
        """A known key with a wrong secret is refused by every service, in its words."""
        expected = {
            "dynamodb": ("InvalidSignatureException", 400),
            "logs": ("InvalidSignatureException", 400),
            "lambda": ("InvalidSignatureException", 403),
            "apigateway": ("InvalidSignatureException", 403),
            "iam": ("SignatureDoesNotMatch", 403),
            "sts": ("SignatureDoesNotMatch", 403),
        }
        self.assertEqual(set(expected), set(WORDINGS))
        for service, (code, status) in expected.items():
            request = sign(service, secret="wrong")
            self.assertRefused(
                check(request, service),
                code,
                status,
                "The request signature we calculated does not match the signature you provided."
                " Check your AWS Secret Access Key and signing method. Consult the service"
                " documentation for details.",
            )

    def test_tampered(self) -> None:
        """A body, path or signed header changed after signing breaks the signature."""
        request = sign("lambda", path="/2015-03-31/functions/f/invocations", body=b'{"a": 1}')
        request.body.write(b"  ")
        self.assertRefused(check(request, "lambda"), "InvalidSignatureException", 403)
        request = sign("lambda", path="/2015-03-31/functions/f/invocations")
        self.assertRefused(
            check(
                HttpRequest.from_uri(
                    "POST",
                    "/2015-03-31/functions/g/invocations",
                    request.headers.as_sent(),
                    b"{}",
                    host=HOST,
                ),
                "lambda",
            ),
            "InvalidSignatureException",
            403,
        )

    def test_unsigned(self) -> None:
        """Unsigned requests pass under ``verify``; under ``enforce`` each service refuses."""
        expected = {
            "dynamodb": (
                "MissingAuthenticationTokenException",
                400,
                "Request is missing Authentication Token",
            ),
            "logs": (
                "MissingAuthenticationTokenException",
                400,
                "Request is missing Authentication Token",
            ),
            "lambda": ("MissingAuthenticationTokenException", 403, "Missing Authentication Token"),
            "apigateway": (
                "MissingAuthenticationTokenException",
                403,
                "Missing Authentication Token",
            ),
            "iam": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
            "sts": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        }
        request = HttpRequest.from_uri("POST", "/", [("Host", HOST)], b"{}", host=HOST)
        for service, (code, status, message) in expected.items():
            self.assertIsNone(check(request, service, Mode.VERIFY))
            self.assertRefused(check(request, service, Mode.ENFORCE), code, status, message)

    def test_unknown_key(self) -> None:
        """Unknown keys pass under ``verify``; under ``enforce`` each service refuses."""
        expected = {
            "dynamodb": ("UnrecognizedClientException", 400),
            "logs": ("UnrecognizedClientException", 400),
            "lambda": ("UnrecognizedClientException", 403),
            "apigateway": ("UnrecognizedClientException", 403),
            "iam": ("InvalidClientTokenId", 403),
            "sts": ("InvalidClientTokenId", 403),
        }
        for service, (code, status) in expected.items():
            request = sign(service, key_id="test", secret="test")
            self.assertIsNone(check(request, service, Mode.VERIFY))
            self.assertRefused(
                check(request, service, Mode.ENFORCE),
                code,
                status,
                "The security token included in the request is invalid.",
            )

    def test_clock_skew(self) -> None:
        """A request signed more than 15 minutes away from the server's time is refused."""
        request = sign("dynamodb")
        self.assertIsNone(check(request, "dynamodb", now=NOW + 15 * 60))
        self.assertRefused(
            check(request, "dynamodb", now=NOW + 15 * 60 + 1),
            "InvalidSignatureException",
            400,
            "Signature expired: 20261203T040000Z is now earlier than 20261203T040001Z"
            " (20261203T041501Z - 15 min.)",
        )
        self.assertRefused(
            check(request, "sts", now=NOW - 16 * 60),
            "SignatureDoesNotMatch",
            403,
            "Signature not yet current: 20261203T040000Z is still later than 20261203T035900Z"
            " (20261203T034400Z + 15 min.)",
        )

    def test_undated(self) -> None:
        """A signature without ``X-Amz-Date`` or ``Date`` is incomplete; ``Date`` alone will do."""
        request = sign("logs")
        headers = [(n, v) for n, v in request.headers.as_sent() if n.lower() != "x-amz-date"]
        undated = HttpRequest.from_uri("POST", "/", headers, b"{}", host=HOST)
        self.assertRefused(
            check(undated, "logs"),
            "IncompleteSignatureException",
            400,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
        dated = HttpRequest.from_uri(
            "POST", "/", [*headers, ("Date", "Thu, 03 Dec 2026 04:00:00 GMT")], b"{}", host=HOST
        )
        # Signed with X-Amz-Date among its headers, so the signature no longer matches.
        self.assertRefused(check(dated, "logs"), "InvalidSignatureException", 400)

    def test_presigned(self) -> None:
        """A presigned URL (STS GetCallerIdentity, as EKS tokens are) is checked, and expires."""
        request = sign(
            "sts",
            method="GET",
            path="/?Action=GetCallerIdentity&Version=2011-06-15",
            body=b"",
            presign=True,
        )
        self.assertIsNone(request.headers.get("authorization"))
        self.assertIsNone(check(request, "sts", Mode.ENFORCE))
        self.assertRefused(
            check(request, "sts", now=NOW + 3601), "SignatureDoesNotMatch", 403, "Signature expired"
        )
        forged = sign(
            "sts",
            method="GET",
            path="/?Action=GetCallerIdentity",
            body=b"",
            secret="wrong",
            presign=True,
        )
        self.assertRefused(check(forged, "sts"), "SignatureDoesNotMatch", 403)

    def test_session(self) -> None:
        """An STS session's key needs its token; an expired one is refused as such."""
        iam = add_session(IamStore(), NOW + 60)
        good = sign("logs", key_id="ASIASESSION", secret="session-secret", token="token")
        self.assertIsNone(check(good, "logs", iam=iam))
        self.assertRefused(
            check(good, "logs", now=NOW + 60, iam=iam),
            "ExpiredTokenException",
            400,
            "The security token included in the request is expired",
        )
        tokenless = sign("logs", key_id="ASIASESSION", secret="session-secret")
        self.assertRefused(check(tokenless, "logs", iam=iam), "UnrecognizedClientException", 400)

    def test_s3_and_off_unchecked(self) -> None:
        """S3 checks its own requests; ``off`` checks nothing."""
        request = sign("s3", secret="wrong")
        self.assertIsNone(check(request, "s3", Mode.ENFORCE))
        keys = directory(Mode.OFF)
        self.assertIs(authenticator(keys, keys.clock), accept_all)

    def test_query_sigv2(self) -> None:
        """IAM and STS take the query protocol's SigV2, as botocore's ``SigV2Auth`` signs."""
        for secret, token, expected in [
            (SECRET, None, None),
            ("wrong", None, "SignatureDoesNotMatch"),
            (SECRET, "token", "InvalidClientTokenId"),
        ]:
            request = AWSRequest(
                "POST",
                f"http://{HOST}/",
                {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                {"Action": "ListUsers", "Version": "2010-05-08", "PathPrefix": "/a b/"},
            )
            SigV2Auth(Credentials(KEY_ID, secret, token)).add_auth(request)
            prepared = request.prepare()
            signed = HttpRequest.from_uri(
                "POST",
                "/",
                [*prepared.headers.items(), ("Host", HOST)],
                prepared.body.encode(),
                host=HOST,
            )
            stamp = sigv4.amz_timestamp(
                signed.form()["Timestamp"].replace("-", "").replace(":", "")
            )
            error = check(signed, "iam", Mode.ENFORCE, now=stamp)
            if expected is None:
                self.assertIsNone(error)
                self.assertRefused(
                    check(signed, "sts", Mode.ENFORCE, now=stamp + 901),
                    "SignatureDoesNotMatch",
                    403,
                )
            else:
                self.assertRefused(error, expected, 403)

    def test_sigv2_of_known_key(self) -> None:
        """A known key must sign with SigV4 (or IAM's and STS's SigV2): others are refused."""
        request = HttpRequest.from_uri(
            "GET",
            "/?Action=GetCallerIdentity",
            [("Host", HOST), ("Authorization", f"AWS {KEY_ID}:c2lnbmF0dXJl")],
            host=HOST,
        )
        self.assertRefused(check(request, "sts"), "SignatureDoesNotMatch", 403)


class CostTests(SynchronousTestCase):
    """The check adds next to nothing for unknown keys (verify mode's common case)."""

    def test_unknown_key_is_cheap(self) -> None:
        request = sign("dynamodb", key_id="test", secret="test")
        keys = directory(Mode.VERIFY)
        context = new_context(request, "dynamodb", "us-east-1", NOW)
        check_request = Authenticator(keys, keys.clock)
        rounds = 2000
        started = time.process_time()
        for _ in range(rounds):
            check_request(context, request)
        per_request = (time.process_time() - started) / rounds
        self.assertLess(per_request, 50e-6)
