"""
Who may see the dashboard. Under ``--auth off`` and ``verify`` anyone who
reaches the port may, as anyone may call the APIs. Under ``enforce`` a
page needs a session cookie, which signing in with an access key pair
awsemu knows gives.

The pair is checked by the gateway's own check of AWS requests: a
GetCallerIdentity call signed with it (as botocore signs) must pass. So
the dashboard knows no rule of its own about keys, and whether it asks
for one at all is found the same way: by whether an unsigned call passes.
"""

from __future__ import annotations

import os
from typing import Final

import attrs
from twisted.internet.interfaces import IReactorTime

from awsemu.auth.verify import Authenticate
from awsemu.gateway.context import AccountForKey, Random, new_context
from awsemu.protocol.http import HttpRequest

COOKIE: Final = b"awsemu_dashboard"
_SESSION_SECONDS: Final = 12 * 3600
_BODY: Final = b"Action=GetCallerIdentity&Version=2011-06-15"


def _sts_request(region: str, key_id: str | None, secret: str, token: str | None) -> HttpRequest:
    """A GetCallerIdentity request, signed with the key pair if one is given."""
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": "sts"}
    if key_id is not None:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        signed = AWSRequest("POST", "http://sts/", data=_BODY, headers=headers)
        SigV4Auth(Credentials(key_id, secret, token), "sts", region).add_auth(signed)
        headers = {name: str(value) for name, value in signed.headers.items()}
    return HttpRequest.from_uri("POST", "/", list(headers.items()), _BODY, host="sts")


@attrs.define
class Access:
    """The dashboard's sessions, and the check that opens one."""

    authenticate: Authenticate
    account_for_key: AccountForKey
    region: str
    clock: IReactorTime
    random: Random = os.urandom
    _sessions: dict[str, float] = attrs.field(factory=dict, init=False)
    _required: bool | None = attrs.field(default=None, init=False)

    def _passes(self, request: HttpRequest) -> bool:
        context = new_context(
            request, "sts", self.region, self.clock.seconds(), self.random, self.account_for_key
        )
        return self.authenticate(context, request) is None

    @property
    def required(self) -> bool:
        """Whether pages need a session: whether the gateway refuses unsigned calls."""
        if self._required is None:
            self._required = not self._passes(_sts_request(self.region, None, "", None))
        return self._required

    def sign_in(self, key_id: str, secret: str, token: str | None = None) -> str | None:
        """A new session's id if the key pair passes the gateway's check, else None."""
        if (
            not key_id
            or not secret
            or not self._passes(_sts_request(self.region, key_id, secret, token))
        ):
            return None
        session = self.random(24).hex()
        self._sessions[session] = self.clock.seconds() + _SESSION_SECONDS
        return session

    def allows(self, session: str | None) -> bool:
        """Whether a request carrying ``session`` may see the pages."""
        if not self.required:
            return True
        expires = None if session is None else self._sessions.get(session)
        if expires is None:
            return False
        if expires < self.clock.seconds():
            del self._sessions[session or ""]
            return False
        return True

    def sign_out(self, session: str | None) -> None:
        self._sessions.pop(session or "", None)
