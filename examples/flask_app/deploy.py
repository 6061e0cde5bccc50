"""
Package the Flask application and deploy it behind API Gateway with
plain boto3, as you would on AWS:

    python deploy.py --endpoint-url http://localhost:4566

1. ``pip install --target`` the requirements next to ``app.py`` and zip them;
2. an IAM role for the function, a bucket holding the zip, a DynamoDB
   table and a bucket for the application's files;
3. the function, created from the zip in S3;
4. a REST API: ``/{proxy+}`` (ANY) and ``/`` (ANY) with Lambda proxy
   integrations, deployed to the ``prod`` stage.

It prints the URL to call. Without ``--endpoint-url`` it deploys to AWS
itself (then give the role a real trust and S3/DynamoDB policy).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import boto3

HERE = Path(__file__).resolve().parent
NAME = "flask-app"
STAGE = "prod"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def build_package(destination: Path) -> Path:
    """``destination``: a zip of app.py and its requirements, as Lambda wants it."""
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                work,
                "-r",
                str(HERE / "requirements.txt"),
            ],
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        shutil.copy(HERE / "app.py", work)
        with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(work).rglob("*")):
                if "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(work))
    return destination


def deploy(package: Path, endpoint_url: str | None, region: str = "us-east-1") -> str:
    """Deploy ``package``; the URL of the deployed stage."""
    session = boto3.session.Session(region_name=region)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    account = client("sts").get_caller_identity()["Account"]
    role = client("iam").create_role(
        RoleName=f"{NAME}-role", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]

    s3 = client("s3")
    code_bucket, files_bucket = f"{NAME}-code-{account}", f"{NAME}-files-{account}"
    s3.create_bucket(Bucket=code_bucket)
    s3.create_bucket(Bucket=files_bucket)
    s3.upload_file(str(package), code_bucket, "app.zip")

    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=f"{NAME}-items",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=f"{NAME}-items")

    functions = client("lambda")
    function = functions.create_function(
        FunctionName=NAME,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"S3Bucket": code_bucket, "S3Key": "app.zip"},
        Timeout=30,
        MemorySize=512,
        Environment={"Variables": {"TABLE_NAME": f"{NAME}-items", "BUCKET_NAME": files_bucket}},
    )
    functions.get_waiter("function_active_v2").wait(FunctionName=NAME)

    apigateway = client("apigateway")
    api = apigateway.create_rest_api(
        name=NAME,
        binaryMediaTypes=["image/*", "application/octet-stream"],
        endpointConfiguration={"types": ["REGIONAL"]},
    )
    root = api["rootResourceId"]
    proxy = apigateway.create_resource(restApiId=api["id"], parentId=root, pathPart="{proxy+}")
    uri = (
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
        f"{function['FunctionArn']}/invocations"
    )
    for resource_id in (root, proxy["id"]):
        apigateway.put_method(
            restApiId=api["id"], resourceId=resource_id, httpMethod="ANY", authorizationType="NONE"
        )
        apigateway.put_integration(
            restApiId=api["id"],
            resourceId=resource_id,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=uri,
        )
    functions.add_permission(
        FunctionName=NAME,
        StatementId="apigateway",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{region}:{account}:{api['id']}/*",
    )
    apigateway.create_deployment(restApiId=api["id"], stageName=STAGE)
    if endpoint_url is None:
        return f"https://{api['id']}.execute-api.{region}.amazonaws.com/{STAGE}"
    return f"{endpoint_url.rstrip('/')}/restapis/{api['id']}/{STAGE}/_user_request_"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--endpoint-url", help="awsemu's address, e.g. http://localhost:4566")
    parser.add_argument("--region", default="us-east-1")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        package = build_package(Path(work) / "app.zip")
        print(deploy(package, arguments.endpoint_url, arguments.region))


if __name__ == "__main__":
    main()
