"""
Resource-based policies of functions: ``AddPermission``, ``RemovePermission``
and ``GetPolicy``.
"""

from __future__ import annotations

import json

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.lambda_.common import Params, ProviderBase, scope_of
from awsemu.lambda_.functions import Document, function_arn
from awsemu.state.jsonfile import saving


class Permissions(ProviderBase):
    """A function's (or a qualifier's) policy statements."""

    @saving
    async def add_permission(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        statements = function.policies.setdefault(qualifier, [])
        sid = params["StatementId"]
        if any(statement["Sid"] == sid for statement in statements):
            raise errors.statement_exists(sid)
        principal = params["Principal"]
        condition: Document = {}
        if "SourceArn" in params:
            condition["ArnLike"] = {"AWS:SourceArn": params["SourceArn"]}
        if "SourceAccount" in params:
            condition["StringEquals"] = {"AWS:SourceAccount": params["SourceAccount"]}
        if "PrincipalOrgID" in params:
            condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = params[
                "PrincipalOrgID"
            ]
        if "FunctionUrlAuthType" in params:
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = params[
                "FunctionUrlAuthType"
            ]
        statement: Document = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal
            if principal == "*"
            else (
                {"Service": principal}
                if principal.endswith(".amazonaws.com")
                else {"AWS": principal}
            ),
            "Action": params["Action"],
            "Resource": function_arn(scope_of(context), function.name, qualifier or None),
        }
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
        return {"Statement": json.dumps(statement)}

    @saving
    async def remove_permission(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        statements = function.policies.get(qualifier, [])
        sid = params["StatementId"]
        kept = [statement for statement in statements if statement["Sid"] != sid]
        if len(kept) == len(statements):
            raise errors.statement_missing(sid)
        function.policies[qualifier] = kept
        return {}

    async def get_policy(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        statements = function.policies.get(qualifier)
        if not statements:
            raise errors.not_found("The resource you requested does not exist.")
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        return {"Policy": json.dumps(policy), "RevisionId": function.latest.revision}
