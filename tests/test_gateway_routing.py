"""
Tests for ``awsemu.gateway.routing``: every rule of the routing table,
the order between them, and the tables' completeness against botocore's
own service models (so a botocore upgrade that adds an API version date
or an STS action fails here rather than misroutes in use).
"""

# trial's assertions carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from io import BytesIO

from twisted.trial.unittest import SynchronousTestCase

from awsemu.gateway.routing import Route, route_request, to_path_style
from awsemu.protocol.catalog import catalog
from awsemu.protocol.http import HttpRequest
from awsemu.protocol.model import load_service_model
from awsemu.services import SERVICE_MODELS

S3 = Route("s3")
DYNAMODB = Route("dynamodb")
LAMBDA = Route("lambda")
LOGS = Route("logs")
APIGATEWAY = Route("apigateway")
EXECUTE_API = Route("apigateway", data_plane=True)
IAM = Route("iam")
STS = Route("sts")

FORM = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")


def request(
    uri: str = "/",
    *,
    method: str = "GET",
    host: str = "localhost:4566",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
) -> HttpRequest:
    """A request as the gateway hands it over, to the shared endpoint by default."""
    return HttpRequest.from_uri(method, uri, headers=headers, body=body, host=host)


def signed(service: str, region: str = "us-east-1") -> tuple[str, str]:
    """A SigV4 ``Authorization`` header for ``service``."""
    return (
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/{region}/"
        f"{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123",
    )


def target(name: str) -> tuple[str, str]:
    return ("X-Amz-Target", name)


def execute_api(api_id: str) -> Route:
    return Route("apigateway", data_plane=True, resource_id=api_id)


def function_url(url_id: str) -> Route:
    return Route("lambda", data_plane=True, resource_id=url_id)


def bucket(name: str) -> Route:
    return Route("s3", bucket=name)


def website(name: str) -> Route:
    return Route("s3", data_plane=True, resource_id=name)


class RoutingTestCase(SynchronousTestCase):
    """Shared assertion: a whole table of requests against the routes expected."""

    def assertRoutes(self, cases: Sequence[tuple[HttpRequest, Route]]) -> None:
        """Every case routes as expected; all mismatches are reported at once."""
        wrong = [
            (case, expected, actual)
            for case, expected in cases
            if (actual := route_request(case)) != expected
        ]
        self.assertEqual(wrong, [])


class HostTests(RoutingTestCase):
    """Rule 1: a service's own domain in the Host header."""

    def test_service_hosts(self) -> None:
        hosts = [
            ("abc123.execute-api.localhost.localstack.cloud:4566", execute_api("abc123")),
            ("abc123.execute-api.us-east-1.amazonaws.com", execute_api("abc123")),
            ("abc123.execute-api.localhost", execute_api("abc123")),
            ("ABC123.Execute-API.localhost:4566", execute_api("abc123")),
            ("u1.lambda-url.us-east-1.localhost.localstack.cloud:4566", function_url("u1")),
            ("u1.lambda-url.eu-west-1.localhost", function_url("u1")),
            ("u1.lambda-url.eu-west-1.localhost:4566", function_url("u1")),
            ("s3.localhost.localstack.cloud", S3),
            ("s3.localhost.localstack.cloud:4566", S3),
            ("S3.LocalHost.LocalStack.Cloud:4566", S3),
            ("s3.amazonaws.com", S3),
            ("s3.us-west-2.amazonaws.com", S3),
            ("s3-us-west-2.amazonaws.com:443", S3),
            ("b.s3.localhost.localstack.cloud:4566", bucket("b")),
            ("my.bucket.s3.localhost.localstack.cloud", bucket("my.bucket")),
            ("My-Bucket.S3.localhost.localstack.cloud", bucket("my-bucket")),
            ("my.bucket.s3.amazonaws.com", bucket("my.bucket")),
            ("my.bucket.s3.eu-central-1.amazonaws.com:443", bucket("my.bucket")),
            ("my-bucket.s3-eu-central-1.amazonaws.com", bucket("my-bucket")),
            ("bucket.localhost", bucket("bucket")),
            ("bucket.localhost:4566", bucket("bucket")),
            ("a.b.c.localhost:4566", bucket("a.b.c")),
            ("site.s3-website-us-east-1.amazonaws.com", website("site")),
            ("my.site.s3-website.eu-west-1.amazonaws.com:80", website("my.site")),
            ("site.s3-website.localhost.localstack.cloud:4566", website("site")),
        ]
        self.assertRoutes([(request("/", host=host), route) for host, route in hosts])

    def test_shared_hosts_are_not_buckets(self) -> None:
        """
        The emulator's own names fall through to the other rules (here the
        path, which is Lambda's), whatever their case or port.
        """
        hosts = [
            "",
            "localhost",
            "localhost:4566",
            "LOCALHOST:4566",
            "127.0.0.1",
            "127.0.0.1:4566",
            "[::1]:4566",
            "localhost.localstack.cloud",
            "localhost.localstack.cloud:4566",
            "example.com",
        ]
        self.assertRoutes([(request("/2015-03-31/functions", host=host), LAMBDA) for host in hosts])


class TargetTests(RoutingTestCase):
    """Rule 2: ``X-Amz-Target``."""

    def test_targets(self) -> None:
        targets = [
            ("DynamoDB_20120810.GetItem", DYNAMODB),
            ("DynamoDBStreams_20120810.GetRecords", DYNAMODB),
            ("Logs_20140328.PutLogEvents", LOGS),
        ]
        self.assertRoutes(
            [(request(method="POST", headers=[target(name)]), route) for name, route in targets]
        )

    def test_foreign_targets(self) -> None:
        """A target of a service awsemu does not emulate routes to that service."""
        targets = [
            ("Kinesis_20131202.ListStreams", "kinesis"),
            ("AmazonSQS.CreateQueue", "sqs"),
            ("AmazonSSM.GetParameter", "ssm"),
            ("TrentService.CreateKey", "kms"),
            ("secretsmanager.GetSecretValue", "secretsmanager"),
        ]
        self.assertRoutes(
            [
                (request(method="POST", headers=[target(name)]), Route(service))
                for name, service in targets
            ]
        )

    def test_unknown_target(self) -> None:
        """A target prefix no service has decides nothing."""
        self.assertRoutes([(request(method="POST", headers=[target("Nobody_2020.Do")]), S3)])

    def test_every_target_prefix(self) -> None:
        """
        Every JSON service of botocore's models is recognised by its target
        prefix (a prefix two services share goes to one of them).
        """
        owners: dict[str, set[Route]] = {}
        for info in catalog().services.values():
            if info.target_prefix:
                owners.setdefault(info.target_prefix, set()).add(Route(owner(info.name)))
        wrong = [
            (prefix, routes)
            for prefix, routes in owners.items()
            if route_request(request(method="POST", headers=[target(f"{prefix}.Op")])) not in routes
        ]
        self.assertEqual(wrong, [])

    def test_model_target_prefixes(self) -> None:
        """Each JSON service's model-declared prefix routes to its service."""
        services = [
            ("dynamodb", DYNAMODB),
            ("dynamodbstreams", DYNAMODB),
            ("logs", LOGS),
        ]
        self.assertRoutes(
            [
                (
                    request(
                        method="POST",
                        headers=[target(f"{load_service_model(name).metadata['targetPrefix']}.Op")],
                    ),
                    route,
                )
                for name, route in services
            ]
        )


class ScopeTests(RoutingTestCase):
    """Rule 3: the service of the SigV4 credential scope."""

    SIGNING_NAMES = [
        ("s3", S3),
        ("dynamodb", DYNAMODB),
        ("lambda", LAMBDA),
        ("logs", LOGS),
        ("apigateway", APIGATEWAY),
        ("execute-api", EXECUTE_API),
        ("iam", IAM),
        ("sts", STS),
    ]

    def test_authorization_header(self) -> None:
        self.assertRoutes(
            [
                (request("/thing", method="POST", headers=[signed(name)]), route)
                for name, route in self.SIGNING_NAMES
            ]
        )

    def test_presigned_query(self) -> None:
        self.assertRoutes(
            [
                (
                    request(
                        "/thing?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                        f"AKID%2F20250101%2Fus-east-1%2F{name}%2Faws4_request"
                    ),
                    route,
                )
                for name, route in self.SIGNING_NAMES
            ]
        )

    def test_model_signing_names(self) -> None:
        """Each served model's signing name routes to the service serving it."""
        services = [
            ("s3", S3),
            ("dynamodb", DYNAMODB),
            ("dynamodbstreams", DYNAMODB),
            ("lambda", LAMBDA),
            ("logs", LOGS),
            ("apigateway", APIGATEWAY),
            ("iam", IAM),
            ("sts", STS),
        ]
        self.assertRoutes(
            [
                (request("/thing", headers=[signed(load_service_model(name).signing_name)]), route)
                for name, route in services
            ]
        )

    def test_execute_api_path(self) -> None:
        """An IAM-signed call of a deployed API learns the API id from the path."""
        self.assertRoutes(
            [
                (
                    request(
                        "/restapis/abc/prod/_user_request_/pets",
                        headers=[signed("execute-api")],
                    ),
                    execute_api("abc"),
                ),
                (
                    request("/_aws/execute-api/abc/prod/pets", headers=[signed("execute-api")]),
                    execute_api("abc"),
                ),
                (request("/pets", headers=[signed("execute-api")]), EXECUTE_API),
            ]
        )

    def test_foreign_scopes(self) -> None:
        """A request signed for a service awsemu does not emulate routes to that service."""
        self.assertRoutes(
            [
                (request("/", method="POST", headers=[signed(name)]), Route(service))
                for name, service in [
                    ("sns", "sns"),
                    ("cloudformation", "cloudformation"),
                    ("kinesis", "kinesis"),
                    ("monitoring", "cloudwatch"),
                    ("ec2", "ec2"),
                ]
            ]
        )

    def test_shared_signing_names(self) -> None:
        """
        A path the served API never uses goes to the other service of the
        same signing name whose API does (API Gateway v2, S3 Control's is
        not told from a bucket: S3 owns every path).
        """
        self.assertRoutes(
            [
                (request("/v2/apis", headers=[signed("apigateway")]), Route("apigatewayv2")),
                (request("/restapis", headers=[signed("apigateway")]), APIGATEWAY),
                (request("/unknown", headers=[signed("apigateway")]), APIGATEWAY),
                (request("/v20180820/jobs", headers=[signed("s3")]), S3),
            ]
        )

    def test_unusable_scopes(self) -> None:
        """Unknown services and malformed credentials decide nothing."""
        headers = [
            signed("nosuchservice"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/lambda"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101//lambda/aws4_request"),
            ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:c2lnbmF0dXJl"),
        ]
        self.assertRoutes([(request("/thing", headers=[header]), S3) for header in headers])


class PathTests(RoutingTestCase):
    """Rule 4: paths only one service's API uses."""

    def test_paths(self) -> None:
        paths = [
            ("/2015-03-31/functions", LAMBDA),
            ("/2015-03-31/functions/f/invocations", LAMBDA),
            ("/2015-03-31", LAMBDA),
            ("/2018-10-31/layers", LAMBDA),
            ("/2018-10-31/layers/l/versions", LAMBDA),
            ("/2018-10-31/other", LAMBDA),
            ("/2015-03-31x/functions", S3),
            ("/restapis", APIGATEWAY),
            ("/restapis/abc", APIGATEWAY),
            ("/restapis/abc/stages/prod", APIGATEWAY),
            ("/restapis-old/key", S3),
            ("/tags/arn%3Aaws%3Aapigateway%3A%3A%2Frestapis%2Fabc", APIGATEWAY),
            ("/tags", APIGATEWAY),
            ("/tagsbucket/key", S3),
            ("/restapis/abc/prod/_user_request_/pets", execute_api("abc")),
            ("/restapis/abc/prod/_user_request_", execute_api("abc")),
            ("/restapis/abc/prod/_user_request_/", execute_api("abc")),
            ("/_aws/execute-api/abc/prod/pets/1", execute_api("abc")),
            ("/_aws/execute-api/abc/prod", execute_api("abc")),
            ("/_aws/execute-api/abc", S3),
            ("/_aws/s3-website/site", website("site")),
            ("/_aws/s3-website/site/docs/a.html", website("site")),
            ("/bucket/2015-03-31/key", S3),
        ]
        self.assertRoutes([(request(path), route) for path, route in paths])


class ActionTests(RoutingTestCase):
    """Rule 5: the query protocol's ``Action``."""

    def test_query(self) -> None:
        self.assertRoutes(
            [
                (request("/?Action=GetCallerIdentity&Version=2011-06-15"), STS),
                (request("/?Action=CreateRole&Version=2010-05-08"), IAM),
                (request("/?Action="), S3),
            ]
        )

    def test_form_body(self) -> None:
        """
        The form body's Action routes the request, and the body is left
        readable from its start for the protocol layer.
        """
        bodies = [
            (b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn", STS),
            (b"Version=2010-05-08&Action=CreateRole&Path=%2F", IAM),
            (b"Version=2010-05-08&RoleName=r", S3),
            (b"Action=&Version=2010-05-08", S3),
            (b"", S3),
        ]
        for body, route in bodies:
            case = request(method="POST", headers=[FORM], body=body)
            self.assertEqual((body, route_request(case)), (body, route))
            self.assertEqual(case.body.tell(), 0)
            self.assertEqual(case.body.read(), body)

    def test_form_content_type_case(self) -> None:
        self.assertRoutes(
            [
                (
                    request(
                        method="POST",
                        headers=[("content-type", "Application/X-WWW-Form-URLEncoded")],
                        body=b"Action=GetSessionToken",
                    ),
                    STS,
                )
            ]
        )

    def test_other_bodies_unread(self) -> None:
        """Only form bodies are looked into: an S3 upload stays unread."""
        body = BytesIO(b"Action=CreateRole")
        case = HttpRequest.from_uri(
            "PUT", "/bucket/key", headers=[("Content-Type", "text/plain")], body=body
        )
        self.assertEqual(route_request(case), S3)
        self.assertEqual(body.tell(), 0)

    def test_foreign_action(self) -> None:
        """An unsigned Action no served model has goes to IAM, which answers InvalidAction."""
        self.assertRoutes([(request("/?Action=CreateTopic"), IAM)])


class ModelTests(RoutingTestCase):
    """
    Every operation of every model awsemu serves routes to its service, as
    a client would send it, signed and unsigned, whatever botocore's models
    hold today: an operation a newer botocore adds reaches its service,
    which answers ``NotImplemented`` until it is built.
    """

    def test_signed(self) -> None:
        self.assertRoutes(list(served_requests(signature=True)))

    def test_unsigned(self) -> None:
        """
        Without a signature, REST paths, targets and actions still name the
        service (S3's paths are buckets: S3 is the default).
        """
        self.assertRoutes(list(served_requests(signature=False)))

    def test_own_host(self) -> None:
        """A served service's AWS host routes to it; an unknown one's to that service."""
        self.assertRoutes(
            [
                (request("/", host="dynamodb.us-east-1.amazonaws.com"), DYNAMODB),
                (request("/", host="lambda.eu-west-1.amazonaws.com:443"), LAMBDA),
                (request("/", host="sqs.us-east-1.amazonaws.com"), Route("sqs")),
                (request("/", host="nosuch.us-east-1.amazonaws.com"), S3),
            ]
        )


def owner(model_name: str) -> str:
    """The awsemu service serving ``model_name``, or the model's own name."""
    for service, models in SERVICE_MODELS.items():
        if model_name in models:
            return service
    return model_name


def served_requests(*, signature: bool) -> Iterator[tuple[HttpRequest, Route]]:
    """A request for each operation of each served model, as its client sends it."""
    for service, models in SERVICE_MODELS.items():
        for name in models:
            model = load_service_model(name)
            protocol = model.metadata["protocol"]
            headers = [signed(model.signing_name)] if signature else []
            for operation in model.operation_names:
                if protocol == "json":
                    case = request(
                        method="POST",
                        headers=[*headers, target(f"{model.metadata['targetPrefix']}.{operation}")],
                    )
                elif protocol == "query":
                    case = request(
                        method="POST", headers=[*headers, FORM], body=f"Action={operation}".encode()
                    )
                else:
                    http = model.operation_model(operation).http
                    path = re.sub(r"\{[^}]+\}", "x", http["requestUri"]).partition("?")[0]
                    case = request(path, method=http["method"], headers=headers)
                yield case, Route(service)


class OrderTests(RoutingTestCase):
    """Which rule wins when a request carries several signs."""

    def test_order(self) -> None:
        cases = [
            # Host beats everything after it.
            (request("/2015-03-31/functions", host="b.s3.localhost.localstack.cloud"), bucket("b")),
            (
                request(
                    "/2015-03-31/functions",
                    host="b.localhost:4566",
                    headers=[signed("lambda"), target("DynamoDB_20120810.GetItem")],
                ),
                bucket("b"),
            ),
            (
                request(
                    "/2015-03-31/functions",
                    host="u1.lambda-url.us-east-1.localhost:4566",
                    headers=[signed("lambda")],
                ),
                function_url("u1"),
            ),
            (
                request("/restapis/x", host="abc.execute-api.localhost", headers=[signed("s3")]),
                execute_api("abc"),
            ),
            # Target beats scope.
            (
                request(
                    method="POST",
                    headers=[signed("dynamodb"), target("DynamoDBStreams_20120810.ListStreams")],
                ),
                DYNAMODB,
            ),
            (
                request(method="POST", headers=[signed("s3"), target("Logs_20140328.X")]),
                LOGS,
            ),
            # Scope beats path: a signed S3 call of buckets that look like APIs.
            (request("/restapis/key", headers=[signed("s3")]), S3),
            (request("/2015-03-31/functions", headers=[signed("s3")]), S3),
            (request("/restapis/abc/prod/_user_request_/x", headers=[signed("s3")]), S3),
            # Scope beats Action.
            (request("/?Action=CreateRole", headers=[signed("sts")]), STS),
            (request("/b?Action=CreateRole", headers=[signed("s3")]), S3),
            # Path beats Action.
            (request("/restapis?Action=CreateRole"), APIGATEWAY),
            # The execute-api path is tried before the control plane's /restapis.
            (request("/restapis/abc/prod/_user_request_/"), execute_api("abc")),
            # Nothing at all: path-style S3.
            (request("/bucket/key"), S3),
            (request("/"), S3),
        ]
        self.assertRoutes(cases)

    def test_unsigned_form_post(self) -> None:
        """An unsigned form POST with a query Action goes to IAM, body intact."""
        body = b"Action=CreateRole&RoleName=r&AssumeRolePolicyDocument=%7B%7D"
        case = request(method="POST", headers=[FORM], body=body)
        self.assertEqual(route_request(case), IAM)
        self.assertEqual(case.read_body(), body)


class ToPathStyleTests(SynchronousTestCase):
    """``to_path_style``: the bucket goes in front, the raw path stays as it is."""

    def test_paths(self) -> None:
        paths = [
            ("/", "/b"),
            ("/key", "/b/key"),
            ("/dir/", "/b/dir/"),
            ("/a%2Fb", "/b/a%2Fb"),
            ("//", "/b//"),
            ("//double//slash//", "/b//double//slash//"),
            ("/caf%C3%A9/%E2%9C%93", "/b/caf%C3%A9/%E2%9C%93"),
            ("/a%20b+c", "/b/a%20b+c"),
            ("/.././x", "/b/.././x"),
        ]
        self.assertEqual(
            [(path, to_path_style(request(path), "b").path) for path, _ in paths], paths
        )

    def test_dotted_bucket(self) -> None:
        self.assertEqual(to_path_style(request("/k"), "my.bucket").path, "/my.bucket/k")

    def test_rest_kept(self) -> None:
        """Everything but the path is the original request's; the original is unchanged."""
        original = request(
            "/key?versionId=1&x-id=GetObject",
            method="PUT",
            host="b.localhost:4566",
            headers=[("Content-Type", "text/plain")],
            body=b"data",
        )
        rewritten = to_path_style(original, "b")
        self.assertEqual(
            (rewritten.method, rewritten.query, rewritten.headers, rewritten.host),
            (original.method, original.query, original.headers, original.host),
        )
        self.assertIs(rewritten.body, original.body)
        self.assertEqual(original.path, "/key")
