"""
The dashboard of a real daemon under ``--auth enforce``: it asks for a key
pair awsemu knows, checked by the gateway's own signature check, and never
shows a secret.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlencode

from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from tests.daemon import Daemon

KEY, SECRET = "AKIAALICE0000EXAMPLE", "alice-secret"
CREDENTIALS = f"[alice]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"


class EnforceTests(SynchronousTestCase):
    def setUp(self) -> None:
        credentials = FilePath(self.mktemp())
        credentials.setContent(CREDENTIALS.encode())
        self.daemon = Daemon(
            self,
            "--auth",
            "enforce",
            "--credentials",
            credentials.path,
            "--services",
            "s3,iam,sts",
        )

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, cookie: str = ""
    ) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=10)
        self.addCleanup(connection.close)
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body, headers)
        return connection.getresponse()

    def test_sign_in(self) -> None:
        """Pages need a session, which only a known key pair's signature opens."""
        refused = self.request("GET", "/_awsemu/s3")
        self.assertEqual((refused.status, refused.getheader("location")), (302, "/_awsemu/login"))
        wrong = self.request(
            "POST", "/_awsemu/login", {"access_key_id": KEY, "secret_access_key": "not-it"}
        )
        self.assertEqual(wrong.status, 403)
        unknown = self.request(
            "POST", "/_awsemu/login", {"access_key_id": "AKIAUNKNOWN", "secret_access_key": "x"}
        )
        self.assertEqual(unknown.status, 403)
        right = self.request(
            "POST", "/_awsemu/login", {"access_key_id": KEY, "secret_access_key": SECRET}
        )
        self.assertEqual(right.status, 302)
        session = (right.getheader("set-cookie") or "").partition(";")[0]
        self.assertTrue(session.startswith("awsemu_dashboard="), session)
        iam = self.daemon.client("iam", KEY, secret=SECRET)
        iam.create_user(UserName="carol")  # type: ignore[attr-defined]
        created = iam.create_access_key(UserName="carol")["AccessKey"]  # type: ignore[attr-defined]
        page = self.request("GET", "/_awsemu/iam", cookie=session)
        self.assertEqual(page.status, 200)
        text = page.read().decode()
        self.assertIn(created["AccessKeyId"], text)
        self.assertNotIn(created["SecretAccessKey"], text)
        self.assertNotIn(SECRET, text)
        out = self.request("POST", "/_awsemu/logout", cookie=session)
        self.assertEqual(out.status, 302)
        self.assertEqual(self.request("GET", "/_awsemu/s3", cookie=session).status, 302)
