"""
What the Terraform tests share: finding the ``terraform`` binary and the
filesystem mirror of the ``hashicorp/aws`` provider (skipping, or failing
when CI requires them), and a stack: a real daemon, a temporary directory
holding the configuration, and ``terraform`` run offline in it with debug
logging to a file that a failure prints the end of.

Terraform never reaches a registry: the CLI configuration file names only
the mirror (``/opt/tf-plugins`` unless ``AWSEMU_TERRAFORM_MIRROR`` says
otherwise), and the provider block sends every service to the daemon. The
provider asks STS for the account id (``GetCallerIdentity``): resources such
as ``aws_dynamodb_contributor_insights`` build their ids from it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.dynamodb_support import DynamoDBDaemon, require_dynamodb_local

MIRROR = Path(os.environ.get("AWSEMU_TERRAFORM_MIRROR", "/opt/tf-plugins"))
REQUIRED_VARIABLE = "AWSEMU_REQUIRE_TERRAFORM"

PROVIDER = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

provider "aws" {
  region                      = "%(region)s"
  access_key                  = "test"
  secret_key                  = "test"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {
%(endpoints)s
  }
}
"""
"""The provider block (``%%(region)s``, ``%%(endpoints)s``) that a configuration starts with."""


ENDPOINTS = ("s3", "dynamodb", "lambda", "iam", "sts", "logs", "apigateway", "kms")
"""
Every service the provider may call, sent to the daemon even when it does
not serve it: the provider looks up DynamoDB's AWS-managed KMS key
(``DescribeKey``) for a table with replicas and lives with an error, but
must not reach out to AWS for it.
"""


def lambda_role(name: str) -> str:
    """The HCL of an IAM role ``aws_iam_role.lambda`` named ``name`` that Lambda may assume."""
    return f"""
resource "aws_iam_role" "lambda" {{
  name = "{name}"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = {{ Service = "lambda.amazonaws.com" }}
      Action    = "sts:AssumeRole"
    }}]
  }})
}}
"""


def provider_block(url: str, region: str = "us-east-1") -> str:
    """The ``terraform`` and ``provider`` blocks sending every one of ``ENDPOINTS`` to ``url``."""
    endpoints = "\n".join(f'    {name} = "{url}"' for name in ENDPOINTS)
    return PROVIDER % {"region": region, "endpoints": endpoints}


def require_terraform() -> str:
    """The ``terraform`` binary; skip without it or the mirror (fail when CI requires them)."""
    binary = shutil.which("terraform")
    missing = []
    if binary is None:
        missing.append("the terraform binary")
    if not MIRROR.is_dir():
        missing.append(f"a provider mirror at {MIRROR}")
    if binary is not None and not missing:
        return binary
    why = "not installed: " + ", ".join(missing)
    if os.environ.get(REQUIRED_VARIABLE):
        raise AssertionError(f"{REQUIRED_VARIABLE} is set but {why}")
    raise SkipTest(why)


class TerraformStack:
    """
    A daemon serving ``services`` (Lambda in local processes) and a
    temporary directory for one configuration, both removed when ``case``
    ends. Skips ``case`` without terraform, its mirror or DynamoDB Local.
    """

    def __init__(self, case: SynchronousTestCase, services: str, prefix: str) -> None:
        self.case = case
        self.terraform = require_terraform()
        require_dynamodb_local()
        self.directory = Path(tempfile.mkdtemp(prefix=prefix))
        case.addCleanup(shutil.rmtree, self.directory, True)
        self.daemon = DynamoDBDaemon(
            self.directory / "awsemu.log", "--services", services, "--lambda-executor", "process"
        )
        case.addCleanup(self.daemon.stop)
        self.daemon.wait_running()
        self.log = self.directory / "terraform.log"
        (self.directory / "cli.tfrc").write_text(
            f'provider_installation {{ filesystem_mirror {{ path = "{MIRROR}" }} }}\n'
        )

    def configure(self, resources: str) -> None:
        """Write ``main.tf``: the provider block, then ``resources``."""
        configuration = provider_block(self.daemon.url) + resources
        (self.directory / "main.tf").write_text(configuration)

    def run(self, *arguments: str, allowed: tuple[int, ...] = (0,)) -> str:
        """``terraform`` with ``arguments``: its output; fails ``case`` on another exit status."""
        result = subprocess.run(
            [self.terraform, *arguments, "-no-color"],
            cwd=self.directory,
            env={
                **os.environ,
                "TF_CLI_CONFIG_FILE": str(self.directory / "cli.tfrc"),
                "TF_IN_AUTOMATION": "1",
                "TF_LOG": "DEBUG",
                "TF_LOG_PATH": str(self.log),
                "CHECKPOINT_DISABLE": "1",
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode not in allowed:
            tail = self.log.read_text()[-20000:] if self.log.exists() else ""
            self.case.fail(
                f"terraform {' '.join(arguments)} exited {result.returncode}:\n"
                f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}\n--- debug log ---\n{tail}"
            )
        return result.stdout

    def client(self, service: str, region: str = "us-east-1") -> Any:
        """A boto3 client of the daemon for the default account."""
        return self.daemon.client(service, "000000000000", region)
