"""
Resource-based policies of functions, versions and aliases: the statements
``AddPermission`` adds and ``RemovePermission`` takes out (``GetPolicy``
shows them), and the whole documents of ``Put``/``Get``/``DeleteResourcePolicy``
(botocore's model: "This operation replaces any existing policy on the
Lambda resource. If you previously added permissions using the
AddPermission operation, the new policy overwrites those permissions").
Both families keep one policy per qualifier, which every change gives a new
``RevisionId``: the revision of the version or alias it belongs to (the
function's ``$LATEST`` for the unqualified function), as AWS's do. The
cross-account checks (``common.allows``) read the same statements.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.lambda_.common import Params, ProviderBase, model_pattern, scope_of
from awsemu.lambda_.functions import LATEST, Document, Function, function_arn
from awsemu.state.jsonfile import saving

_RESOURCE_POLICY_READ: Final = "GetResourcePolicy"


def _policy_document(statements: list[Document]) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements})


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(text: str, resource: str) -> list[Document]:
    """
    The statements of a ``PutResourcePolicy`` document, checked: a JSON
    object whose ``Statement`` (one or a list) each has an ``Effect`` of
    ``Allow`` or ``Deny``, a ``Principal``, Lambda actions and, if it names
    one, this resource. AWS does not document its wording for these
    refusals: the messages are awsemu's, in the InvalidParameterValueException
    the model lists.
    """
    try:
        document = json.loads(text)
    except ValueError as e:
        raise errors.invalid("The policy is not a valid JSON document.") from e
    if not isinstance(document, dict) or "Statement" not in document:
        raise errors.invalid("The policy must be a JSON object with a Statement.")
    statements = _listed(document["Statement"])
    if not statements:
        raise errors.invalid("The policy must have at least one statement.")
    for statement in statements:
        if not isinstance(statement, dict):
            raise errors.invalid("Each statement of the policy must be a JSON object.")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise errors.invalid("A statement's Effect must be Allow or Deny.")
        if not statement.get("Principal"):
            raise errors.invalid("A statement must name a Principal.")
        actions = _listed(statement.get("Action"))
        if not all(isinstance(a, str) and re.fullmatch(r"lambda:[\w*]+", a) for a in actions):
            raise errors.invalid("A statement's Action must be one or more Lambda actions.")
        named = _listed(statement.get("Resource", resource))
        if not all(isinstance(r, str) and r in (resource, "*") for r in named):
            raise errors.invalid(f"A statement's Resource must be {resource}.")
    return statements


class Permissions(ProviderBase):
    """A function's (or a qualifier's) policy."""

    def _policy_revision(self, function: Function, qualifier: str) -> str:
        """The revision of the version or alias whose policy this is."""
        alias = function.aliases.get(qualifier)
        if alias is not None:
            return str(alias["RevisionId"])
        version = function.version(qualifier or None)
        assert version is not None
        return version.revision

    def _policy_changed(self, function: Function, qualifier: str) -> str:
        """A new revision for the version or alias whose policy changed."""
        revision = self.new_id()
        alias = function.aliases.get(qualifier)
        if alias is not None:
            alias["RevisionId"] = revision
        else:
            version = function.version(qualifier or None)
            assert version is not None
            version.config["RevisionId"] = revision
        return revision

    def _policy_precondition(
        self, function: Function, qualifier: str, params: Params, read_with: str
    ) -> None:
        revision = params.get("RevisionId")
        if revision is not None and revision != self._policy_revision(function, qualifier):
            raise errors.precondition_failed(read_with)

    @saving
    async def add_permission(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        if qualifier == LATEST:
            # AWS's answer, as LocalStack's AWS-validated tests record it.
            raise errors.invalid("We currently do not support adding policies for $LATEST.")
        self._policy_precondition(function, qualifier, params, "GetPolicy")
        statements = function.policies.setdefault(qualifier, [])
        sid = params["StatementId"]
        if any(statement.get("Sid") == sid for statement in statements):
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
        self._policy_changed(function, qualifier)
        return {"Statement": json.dumps(statement)}

    @saving
    async def remove_permission(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        self._policy_precondition(function, qualifier, params, "GetPolicy")
        statements = function.policies.get(qualifier, [])
        sid = params["StatementId"]
        kept = [statement for statement in statements if statement.get("Sid") != sid]
        if len(kept) == len(statements):
            raise errors.statement_missing(sid)
        function.policies[qualifier] = kept
        self._policy_changed(function, qualifier)
        return {}

    def _policy_output(self, function: Function, qualifier: str) -> Document:
        statements = function.policies.get(qualifier)
        if not statements:
            raise errors.not_found("The resource you requested does not exist.")
        return {
            "Policy": _policy_document(statements),
            "RevisionId": self._policy_revision(function, qualifier),
        }

    async def get_policy(self, context: RequestContext, params: Params) -> Document:
        return self._policy_output(*self._policy_target(context, params))

    # The resource policy operations

    def _policy_resource(self, context: RequestContext, params: Params) -> tuple[Function, str]:
        """
        The function and qualifier ``ResourceArn`` names: a full ARN, as
        the model's pattern wants it (the ``runtime/`` resources it also
        allows are not resources awsemu has).
        """
        arn = params["ResourceArn"]
        if re.fullmatch(model_pattern("PolicyResourceArn"), arn) is None:
            raise errors.validation(
                arn, "resourceArn", errors.pattern(model_pattern("PolicyResourceArn"))
            )
        if ":function:" not in arn:
            raise errors.not_found("The resource you requested does not exist.")
        return self._policy_target(context, {"FunctionName": arn})

    @saving
    async def put_resource_policy(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_resource(context, params)
        if qualifier == LATEST:
            raise errors.invalid("We currently do not support adding policies for $LATEST.")
        self._policy_precondition(function, qualifier, params, _RESOURCE_POLICY_READ)
        resource = function_arn(scope_of(context), function.name, qualifier or None)
        function.policies[qualifier] = _statements(params["Policy"], resource)
        self._policy_changed(function, qualifier)
        return self._policy_output(function, qualifier)

    async def get_resource_policy(self, context: RequestContext, params: Params) -> Document:
        return self._policy_output(*self._policy_resource(context, params))

    @saving
    async def delete_resource_policy(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_resource(context, params)
        self._policy_output(function, qualifier)
        self._policy_precondition(function, qualifier, params, _RESOURCE_POLICY_READ)
        del function.policies[qualifier]
        self._policy_changed(function, qualifier)
        return {}
