"""STS operations."""

from __future__ import annotations

import os
import re
from typing import Any, Final

import attrs

from awsemu.gateway.context import Random, RequestContext
from awsemu.iam.errors import validation_error
from awsemu.iam.store import Caller, IamStore, SessionRecord, assumed_role_arn, root
from awsemu.protocol.errors import ServiceError
from awsemu.state.ids import iam_unique_id, secret

_ROLE_ARN: Final = re.compile(r"arn:aws:iam::([0-9]{12}):role/(?:.*/)?([^/]+)")
MIN_DURATION: Final = 900
DEFAULT_DURATION: Final = 3600
SESSION_TOKEN_LENGTH: Final = 356
"""About the length of a real session token; SDKs only pass it back."""


@attrs.define
class StsProvider:
    """
    STS over the IAM store: a key IAM created is its user, a key AssumeRole
    issued is the assumed role's session, and any other key is its
    account's root (AWS reports the account id as the root's ``UserId``).
    Sessions expire: their keys are refused afterwards (see ``awsemu.auth``).
    The defaults (an empty store of its own) suit an STS without IAM.
    """

    store: IamStore = attrs.field(factory=IamStore)
    random: Random = os.urandom

    def _caller(self, context: RequestContext) -> Caller:
        key = context.access_key_id
        found = None if key is None else self.store.caller(key)
        return found or root(context.account_id)

    async def get_caller_identity(
        self, context: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        caller = self._caller(context)
        return {"UserId": caller.user_id, "Account": caller.account, "Arn": caller.arn}

    async def assume_role(self, context: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role_arn, session_name = params["RoleArn"], params["RoleSessionName"]
        found = _ROLE_ARN.fullmatch(role_arn)
        state = None
        if found is not None:
            account, role_name = found.groups()
            state = self.store.account(account)["roles"].get(role_name.lower())
        if found is None or state is None:
            raise ServiceError(
                "AccessDenied",
                f"User: {self._caller(context).arn} is not authorized to perform: "
                f"sts:AssumeRole on resource: {role_arn}",
                status=403,
            )
        role = state["role"]
        duration = params.get("DurationSeconds", DEFAULT_DURATION)
        if duration < MIN_DURATION:
            raise validation_error(
                f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed "
                f"to satisfy constraint: Member must have value greater than or equal to "
                f"{MIN_DURATION}"
            )
        if duration > role["MaxSessionDuration"]:
            raise validation_error(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        key_id = iam_unique_id(self.random, "ASIA", 20)
        session: SessionRecord = {
            "Account": account,
            "RoleName": role["RoleName"],
            "RoleId": role["RoleId"],
            "SessionName": session_name,
            "SecretAccessKey": secret(self.random, 40),
            "SessionToken": secret(self.random, SESSION_TOKEN_LENGTH),
            "Expiration": context.started + duration,
        }
        self.store.add_session(key_id, session)
        self.store.save()
        return {
            "Credentials": {
                "AccessKeyId": key_id,
                "SecretAccessKey": session["SecretAccessKey"],
                "SessionToken": session["SessionToken"],
                "Expiration": session["Expiration"],
            },
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role['RoleId']}:{session_name}",
                "Arn": assumed_role_arn(account, role["RoleName"], session_name),
            },
        }
