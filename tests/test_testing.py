"""
``awsemu.testing``: the pytest plugin (run by pytest in a subprocess, as
pytest is no dependency of awsemu) and the trial/unittest test case.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from tests.daemon import ROOT
from tests.dynamodb_support import require_dynamodb_local

PYTEST_TESTS = """
import os
import boto3

def test_first(awsemu):
    assert os.environ["AWS_ENDPOINT_URL"] == awsemu.endpoint_url
    assert os.environ["AWS_ACCESS_KEY_ID"] == "test"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="first")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["first"]

def test_second(awsemu):
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    assert awsemu.state() == {}

def test_without_fixture():
    assert "AWS_ENDPOINT_URL" not in os.environ
"""

TRIAL_TESTS = """
import os
import boto3
from awsemu.testing import AwsemuTestCase

class Tests(AwsemuTestCase):
    def test_a(self):
        self.assertEqual(os.environ["AWS_ENDPOINT_URL"], self.awsemu.endpoint_url)
        boto3.client("s3").create_bucket(Bucket="from-a")

    def test_b(self):
        self.assertEqual(boto3.client("s3").list_buckets()["Buckets"], [])
"""


def run(
    test: SynchronousTestCase,
    argv: list[str],
    files: dict[str, str],
    variables: dict[str, str] | None = None,
) -> str:
    """
    Run ``argv`` in a directory holding ``files``, as a user would, with
    ``variables`` (by default, a daemon serving S3 alone); its output.
    """
    directory = Path(test.mktemp())
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name != "PYTEST_ADDOPTS"
    }
    environment.update(PYTHONPATH=str(ROOT), **(variables or {"AWSEMU_SERVICES": "s3"}))
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=directory,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    test.assertEqual(done.returncode, 0, done.stdout)
    return done.stdout


class PytestPluginTests(SynchronousTestCase):
    def test_fixture(self) -> None:
        """
        ``pytest -p awsemu.testing``: each test asking for ``awsemu`` runs
        with the endpoint and test credentials set and a fresh state.
        """
        output = run(
            self,
            ["-m", "pytest", "-p", "awsemu.testing", "-p", "no:cacheprovider", "-q"],
            {"test_uses_awsemu.py": PYTEST_TESTS},
        )
        self.assertIn("3 passed", output)

    def test_entry_point(self) -> None:
        """The ``pytest11`` entry point is named like the module, as ``-p`` needs."""
        setup = configparser.ConfigParser()
        setup.read(ROOT / "setup.cfg")
        entries = setup["options.entry_points"]["pytest11"].strip().splitlines()
        self.assertEqual(entries, ["awsemu.testing = awsemu.testing"])

    def test_flask_example(self) -> None:
        """The Flask example's own tests pass with the fixture (Lambda as local processes)."""
        require_dynamodb_local()
        example = ROOT / "examples" / "flask_app"
        files = {p.name: p.read_text() for p in example.iterdir() if p.is_file()}
        output = run(
            self,
            ["-m", "pytest", "-p", "awsemu.testing", "-p", "no:cacheprovider", "-q", "test_app.py"],
            files,
            {"AWSEMU_SERVICES": "", "AWSEMU_LAMBDA_EXECUTOR": "process"},
        )
        self.assertIn("2 passed", output)


class TestCaseTests(SynchronousTestCase):
    def test_trial(self) -> None:
        """``AwsemuTestCase`` under trial: the endpoint set, state reset before each test."""
        output = run(
            self, ["-m", "twisted.trial", "test_with_awsemu"], {"test_with_awsemu.py": TRIAL_TESTS}
        )
        self.assertIn("PASSED (successes=2)", output)
