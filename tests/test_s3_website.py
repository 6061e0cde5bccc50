"""
Website endpoints over real sockets: a bucket configured with boto3, read
as a browser would, by the website Host and by the daemon's path form.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.s3support import S3TestCase, allow_public, raw


class WebsiteTests(S3TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.bucket = self.new_bucket()
        self.host = f"{self.bucket}.s3-website-us-east-1.amazonaws.com"
        objects = {
            "index.html": b"<p>home</p>",
            "docs/index.html": b"<p>docs</p>",
            "docs/a.html": b"<p>a</p>",
            "error.html": b"<p>oops</p>",
        }
        for key, body in objects.items():
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="text/html")
        self.s3.put_object(Bucket=self.bucket, Key="private/x.html", Body=b"x")
        self.s3.put_object(
            Bucket=self.bucket, Key="moved.html", Body=b"", WebsiteRedirectLocation="/docs/a.html"
        )
        allow_public(self.s3, self.bucket)
        # Everything but private/ is public.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "NotResource": f"arn:aws:s3:::{self.bucket}/private/*",
                }
            ],
        }
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))

    def configure(self, **configuration: Any) -> None:
        self.s3.put_bucket_website(Bucket=self.bucket, WebsiteConfiguration=configuration)

    def get(
        self, path: str, method: str = "GET", **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        return raw(self.endpoint, method, path, headers={"Host": self.host, **headers})

    def assertErrorPage(
        self, answer: tuple[int, dict[str, str], bytes], status: int, title: str, *items: str
    ) -> None:
        got, headers, body = answer
        self.assertEqual(got, status)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        text = body.decode()
        self.assertIn(f"<head><title>{status} {title}</title></head>", text)
        self.assertIn(f"<h1>{status} {title}</h1>", text)
        for item in items:
            self.assertIn(f"<li>{item}</li>", text)
        self.assertRegex(text, r"<li>RequestId: [0-9A-F]{16}</li>\n<li>HostId: [^<]+</li>")
        self.assertNotIn("<?xml", text)

    def test_index_documents(self) -> None:
        self.configure(IndexDocument={"Suffix": "index.html"})
        status, headers, body = self.get("/")
        self.assertEqual((status, body), (200, b"<p>home</p>"))
        self.assertEqual(headers["content-type"], "text/html")
        self.assertIn("etag", headers)
        self.assertEqual(self.get("/docs/")[2], b"<p>docs</p>")
        self.assertEqual(self.get("/docs/a.html")[2], b"<p>a</p>")
        status, headers, _ = self.get("/docs")
        self.assertEqual((status, headers["location"]), (302, "/docs/"))
        status, headers, body = self.get("/docs/a.html", method="HEAD")
        self.assertEqual((status, body, headers["content-length"]), (200, b"", "8"))
        etag = self.get("/")[1]["etag"]
        self.assertEqual(self.get("/", **{"If-None-Match": etag})[0], 304)

    def test_missing_and_private(self) -> None:
        """Without an error document: AWS's HTML pages; private objects are 403."""
        self.configure(IndexDocument={"Suffix": "index.html"})
        # Without public s3:ListBucket, a missing key is a 403, as for any anonymous GET.
        self.assertErrorPage(
            self.get("/nothing.html"),
            403,
            "Forbidden",
            "Code: AccessDenied",
            "Message: Access Denied",
        )
        self.assertErrorPage(self.get("/private/x.html"), 403, "Forbidden", "Code: AccessDenied")
        listing = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{self.bucket}",
        }
        document = json.loads(self.s3.get_bucket_policy(Bucket=self.bucket)["Policy"])
        document["Statement"].append(listing)
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(document))
        self.assertErrorPage(
            self.get("/nothing.html"),
            404,
            "Not Found",
            "Code: NoSuchKey",
            "Message: The specified key does not exist.",
            "Key: nothing.html",
        )
        status, _, body = self.get("/nothing.html", method="HEAD")
        self.assertEqual((status, body), (404, b""))

    def test_error_document(self) -> None:
        self.configure(IndexDocument={"Suffix": "index.html"}, ErrorDocument={"Key": "error.html"})
        status, headers, body = self.get("/private/x.html")
        self.assertEqual(
            (status, body, headers["content-type"]), (403, b"<p>oops</p>", "text/html")
        )
        self.assertEqual(self.get("/nothing.html")[:3:2], (403, b"<p>oops</p>"))

    def test_error_document_unreadable(self) -> None:
        """A missing or private error document: AWS's page, with a second list saying why."""
        self.configure(
            IndexDocument={"Suffix": "index.html"}, ErrorDocument={"Key": "private/x.html"}
        )
        answer = self.get("/nothing.html")
        self.assertErrorPage(answer, 403, "Forbidden", "Code: AccessDenied")
        self.assertIn(
            "</ul>\n<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>"
            "\n<ul>\n<li>Code: AccessDenied</li>\n<li>Message: Access Denied</li>\n</ul>\n<hr/>",
            answer[2].decode(),
        )

    def test_no_configuration_or_bucket(self) -> None:
        self.assertErrorPage(
            self.get("/"),
            404,
            "Not Found",
            "Code: NoSuchWebsiteConfiguration",
            "Message: The specified bucket does not have a website configuration",
            f"BucketName: {self.bucket}",
        )
        self.host = "no-such-bucket-here.s3-website.us-east-1.amazonaws.com"
        self.assertErrorPage(
            self.get("/"),
            404,
            "Not Found",
            "Code: NoSuchBucket",
            "BucketName: no-such-bucket-here",
        )

    def test_methods(self) -> None:
        self.configure(IndexDocument={"Suffix": "index.html"})
        self.assertErrorPage(
            self.get("/index.html", method="PUT"),
            405,
            "Method Not Allowed",
            "Code: MethodNotAllowed",
            "Method: PUT",
        )
        self.assertEqual(
            self.s3.get_object(Bucket=self.bucket, Key="index.html")["Body"].read(), b"<p>home</p>"
        )

    def test_object_redirect(self) -> None:
        self.configure(IndexDocument={"Suffix": "index.html"})
        status, headers, body = self.get("/moved.html")
        self.assertEqual((status, headers["location"], body), (301, "/docs/a.html", b""))

    def test_redirect_all(self) -> None:
        self.configure(RedirectAllRequestsTo={"HostName": "example.com", "Protocol": "https"})
        status, headers, _ = self.get("/docs/a.html")
        self.assertEqual((status, headers["location"]), (301, "https://example.com/docs/a.html"))
        self.configure(RedirectAllRequestsTo={"HostName": "example.com"})
        self.assertEqual(self.get("/")[1]["location"], "http://example.com/")

    def test_routing_rules(self) -> None:
        self.configure(
            IndexDocument={"Suffix": "index.html"},
            RoutingRules=[
                {
                    "Condition": {"KeyPrefixEquals": "old/"},
                    "Redirect": {"ReplaceKeyPrefixWith": "docs/"},
                },
                {
                    "Condition": {"KeyPrefixEquals": "gone"},
                    "Redirect": {
                        "HostName": "example.com",
                        "Protocol": "https",
                        "ReplaceKeyWith": "moved.html",
                        "HttpRedirectCode": "307",
                    },
                },
                {
                    "Condition": {"HttpErrorCodeReturnedEquals": "403"},
                    "Redirect": {
                        "HostName": "fallback.example",
                        "ReplaceKeyPrefixWith": "missing/",
                    },
                },
            ],
        )
        status, headers, _ = self.get("/old/a.html")
        self.assertEqual((status, headers["location"]), (301, f"http://{self.host}/docs/a.html"))
        status, headers, _ = self.get("/gone/page")
        self.assertEqual((status, headers["location"]), (307, "https://example.com/moved.html"))
        # Applied only once the object failed with that status.
        self.assertEqual(self.get("/docs/a.html")[0], 200)
        status, headers, _ = self.get("/private/x.html")
        self.assertEqual(
            (status, headers["location"]), (301, "http://fallback.example/missing/private/x.html")
        )

    def test_path_form_and_localstack_host(self) -> None:
        """The daemon's path form and LocalStack's website host serve the same site."""
        self.configure(IndexDocument={"Suffix": "index.html"})
        prefix = f"/_aws/s3-website/{self.bucket}"
        for path, body in ((f"{prefix}/", b"<p>home</p>"), (f"{prefix}/docs/", b"<p>docs</p>")):
            status, _, got = raw(self.endpoint, "GET", path)
            self.assertEqual((status, got), (200, body))
        status, headers, _ = raw(self.endpoint, "GET", f"{prefix}/docs")
        self.assertEqual((status, headers["location"]), (302, f"{prefix}/docs/"))
        self.host = f"{self.bucket}.s3-website.localhost.localstack.cloud:4566"
        self.assertEqual(self.get("/docs/a.html")[2], b"<p>a</p>")
        self.host = f"{self.bucket}.s3-website.eu-west-1.amazonaws.com"
        self.assertEqual(self.get("/")[2], b"<p>home</p>")
        self.assertTrue(re.match(r"<html>", self.get("/private/x.html")[2].decode()))
