"""
The AWS managed policies deploy scripts attach most, with their documents
as AWS publishes them, so ``arn:aws:iam::aws:policy/...`` ARNs resolve in
AttachRolePolicy, GetPolicy and GetPolicyVersion.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import attrs

_LOGS_WRITE: Final = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]


@attrs.frozen
class ManagedPolicy:
    """One AWS managed policy: its path, ids, default version and that version's document."""

    name: str
    path: str
    policy_id: str
    version_id: str
    created: str
    updated: str
    statements: tuple[Mapping[str, Any], ...]

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::aws:policy{self.path}{self.name}"

    @property
    def document(self) -> str:
        """The default version's document as AWS serializes it."""
        return json.dumps({"Version": "2012-10-17", "Statement": list(self.statements)})


def _allow(actions: list[str] | str, resource: str | list[str] = "*") -> Mapping[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


_POLICIES: Final = (
    ManagedPolicy(
        "AdministratorAccess",
        "/",
        "ANPAIWMBCKSKIEE64ZLYK",
        "v1",
        "2015-02-06T18:39:46Z",
        "2015-02-06T18:39:46Z",
        (_allow("*"),),
    ),
    ManagedPolicy(
        "AWSLambdaBasicExecutionRole",
        "/service-role/",
        "ANPAJNCQGXC42545SKXIK",
        "v1",
        "2015-04-09T15:03:43Z",
        "2015-04-09T15:03:43Z",
        (_allow(_LOGS_WRITE),),
    ),
    ManagedPolicy(
        "AWSLambdaVPCAccessExecutionRole",
        "/service-role/",
        "ANPAJVTME3YLVNL72YR2K",
        "v3",
        "2016-02-11T23:15:26Z",
        "2024-01-05T22:37:17Z",
        (
            _allow(
                [
                    *_LOGS_WRITE,
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ]
            ),
        ),
    ),
    ManagedPolicy(
        "AWSLambdaDynamoDBExecutionRole",
        "/service-role/",
        "ANPAIP7WNAGMIPYNW4WQG",
        "v1",
        "2015-04-09T15:09:29Z",
        "2015-04-09T15:09:29Z",
        (
            _allow(
                [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                    *_LOGS_WRITE,
                ]
            ),
        ),
    ),
    ManagedPolicy(
        "AWSLambdaSQSQueueExecutionRole",
        "/service-role/",
        "ANPAJFWJZI6JNND4TSELK",
        "v2",
        "2016-06-14T21:26:34Z",
        "2023-06-28T16:23:59Z",
        (
            _allow(
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS_WRITE]
            ),
        ),
    ),
    ManagedPolicy(
        "AWSLambdaRole",
        "/service-role/",
        "ANPAJX4DPCRGTC4NFDUXI",
        "v1",
        "2015-02-06T18:41:28Z",
        "2015-02-06T18:41:28Z",
        (_allow(["lambda:InvokeFunction"], ["*"]),),
    ),
    ManagedPolicy(
        "AWSLambdaExecute",
        "/",
        "ANPAJE5FX7FQZSU5XAKGO",
        "v1",
        "2015-02-06T18:40:46Z",
        "2015-02-06T18:40:46Z",
        (
            _allow(["logs:*"], "arn:aws:logs:*:*:*"),
            _allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::*"),
        ),
    ),
    ManagedPolicy(
        "AmazonAPIGatewayPushToCloudWatchLogs",
        "/service-role/",
        "ANPAIK4GFO7HLKYN64ASK",
        "v1",
        "2015-11-11T23:41:46Z",
        "2015-11-11T23:41:46Z",
        (
            _allow(
                [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                ]
            ),
        ),
    ),
    ManagedPolicy(
        "AmazonS3FullAccess",
        "/",
        "ANPAIFIR6V6BVTRAHWINE",
        "v2",
        "2015-02-06T18:40:58Z",
        "2021-09-27T20:16:37Z",
        (_allow(["s3:*", "s3-object-lambda:*"]),),
    ),
    ManagedPolicy(
        "AmazonS3ReadOnlyAccess",
        "/",
        "ANPAIZTJ4DXE7G6AGAE6M",
        "v3",
        "2015-02-06T18:40:59Z",
        "2023-08-10T21:31:39Z",
        (
            _allow(
                [
                    "s3:Get*",
                    "s3:List*",
                    "s3:Describe*",
                    "s3-object-lambda:Get*",
                    "s3-object-lambda:List*",
                ]
            ),
        ),
    ),
    ManagedPolicy(
        "AmazonDynamoDBFullAccess",
        "/",
        "ANPAINUGF2JSOSUY76KYA",
        "v1",
        "2015-02-06T18:40:11Z",
        "2015-02-06T18:40:11Z",
        (_allow(["dynamodb:*"]),),
    ),
    ManagedPolicy(
        "CloudWatchLogsFullAccess",
        "/",
        "ANPAJ3ZGNWK2R5HW5BQFO",
        "v1",
        "2015-02-06T18:40:02Z",
        "2015-02-06T18:40:02Z",
        (_allow(["logs:*"]),),
    ),
    ManagedPolicy(
        "AWSXRayDaemonWriteAccess",
        "/",
        "ANPAIOE47HSUE5AVBNEDM",
        "v1",
        "2018-08-28T23:00:33Z",
        "2018-08-28T23:00:33Z",
        (
            _allow(
                [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ]
            ),
        ),
    ),
)

MANAGED_POLICIES: Final[Mapping[str, ManagedPolicy]] = {policy.arn: policy for policy in _POLICIES}
"""The table by ARN."""
