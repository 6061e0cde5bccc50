"""
IAM's state, and the identity directory built on it.

IAM is global: one namespace per account, whatever the region. Records are
kept in the shape of AWS's own output structures (``Role``, ``User``,
``Policy``...), with policy documents as the JSON text the caller sent, so
the provider hands them back with little translation and the whole state
is one JSON document, saved whole after each change when ``--data-dir``
is set (IAM state is small; deploy scripts create tens of entities, not
millions).

The directory part (``caller``, ``account_for_key``, ``start_session``)
is what STS and the gateway use: which account and principal an access
key id belongs to, whether IAM created it for a user or STS issued it for
an assumed role.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

import attrs

from awsemu.state.jsonfile import JsonFile


class Tag(TypedDict):
    Key: str
    Value: str


class RoleRecord(TypedDict):
    """AWS's ``Role``: the trust policy as JSON text, ``CreateDate`` in epoch seconds."""

    Path: str
    RoleName: str
    RoleId: str
    Arn: str
    CreateDate: float
    AssumeRolePolicyDocument: str
    MaxSessionDuration: int
    Tags: list[Tag]
    Description: NotRequired[str]


class Policies(TypedDict):
    """What roles and users alike hold: inline and attached policies."""

    #: Inline policies: name → document text.
    inline: dict[str, str]
    #: Attached managed policies' ARNs, in attachment order.
    attached: list[str]


class RoleState(Policies):
    role: RoleRecord


class AccessKeyRecord(TypedDict):
    """AWS's ``AccessKey`` (``AccessKeyMetadata`` is the same without the secret)."""

    UserName: str
    AccessKeyId: str
    Status: str
    SecretAccessKey: str
    CreateDate: float


class UserRecord(TypedDict):
    Path: str
    UserName: str
    UserId: str
    Arn: str
    CreateDate: float
    Tags: list[Tag]


class UserState(Policies):
    user: UserRecord
    keys: dict[str, AccessKeyRecord]


class PolicyRecord(TypedDict):
    """AWS's ``Policy`` less ``AttachmentCount``, which is counted when asked for."""

    PolicyName: str
    PolicyId: str
    Arn: str
    Path: str
    DefaultVersionId: str
    IsAttachable: bool
    CreateDate: float
    UpdateDate: float
    Tags: list[Tag]
    Description: NotRequired[str]


class PolicyVersionRecord(TypedDict):
    Document: str
    VersionId: str
    CreateDate: float


class PolicyState(TypedDict):
    policy: PolicyRecord
    versions: dict[str, PolicyVersionRecord]


class AccountState(TypedDict):
    roles: dict[str, RoleState]
    users: dict[str, UserState]
    #: Customer managed policies by ARN.
    policies: dict[str, PolicyState]


class SessionRecord(TypedDict):
    """Temporary credentials STS issued for an assumed role."""

    Account: str
    RoleName: str
    RoleId: str
    SessionName: str
    SecretAccessKey: str
    SessionToken: str
    Expiration: float


@attrs.frozen
class IssuedKey:
    """
    An access key IAM or STS issued: its secret; ``active`` is IAM's Status;
    a session's key is used with its ``token`` and expires.
    """

    secret: str
    active: bool = True
    expires: float | None = None
    token: str | None = None


@attrs.frozen
class Caller:
    """Who holds an access key: what GetCallerIdentity reports; ``user_name`` for IAM users."""

    account: str
    user_id: str
    arn: str
    user_name: str | None = None


def root(account: str) -> Caller:
    """The account's root user, which AWS reports with the account id as ``UserId``."""
    return Caller(account, account, f"arn:aws:iam::{account}:root")


def _empty_account() -> AccountState:
    return {"roles": {}, "users": {}, "policies": {}}


@attrs.define
class IamStore:
    """
    Every account's IAM entities and STS's sessions, with an index of
    access key ids to their accounts. ``file`` is None to keep state in
    memory only.
    """

    accounts: dict[str, AccountState] = attrs.field(factory=dict)
    sessions: dict[str, SessionRecord] = attrs.field(factory=dict)
    file: JsonFile | None = None
    _key_accounts: dict[str, str] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        for account_id, account in self.accounts.items():
            for user in account["users"].values():
                for key_id in user["keys"]:
                    self._key_accounts[key_id] = account_id
        for key_id, session in self.sessions.items():
            self._key_accounts[key_id] = session["Account"]

    @classmethod
    def open(cls, file: JsonFile) -> IamStore:
        """The store saved in ``file`` (empty if there is none yet), saving back there."""
        document: dict[str, Any] = file.load() or {}
        return cls(document.get("accounts", {}), document.get("sessions", {}), file)

    def save(self) -> None:
        """Write the whole state, if it is kept on disk; providers call it after each change."""
        if self.file is not None:
            self.file.save({"accounts": self.accounts, "sessions": self.sessions})

    def clear(self) -> None:
        """Forget every account's entities and every session."""
        self.accounts.clear()
        self.sessions.clear()
        self._key_accounts.clear()
        self.save()

    def inventory(self) -> list[tuple[str, str, str, str]]:
        """Every role, user and customer managed policy (IAM is global), and every session."""
        found = [
            (account_id, "global", kind, name)
            for account_id, account in self.accounts.items()
            for kind in ("roles", "users", "policies")
            for name in account[kind]
        ]
        found += [(s["Account"], "global", "sessions", key) for key, s in self.sessions.items()]
        return found

    def account(self, account_id: str) -> AccountState:
        """The entities of ``account_id``, an empty namespace on first use."""
        try:
            return self.accounts[account_id]
        except KeyError:
            account = self.accounts[account_id] = _empty_account()
            return account

    def add_key(self, account_id: str, key: AccessKeyRecord) -> None:
        """Give a user ``key``; its id then selects ``account_id``."""
        self.account(account_id)["users"][key["UserName"].lower()]["keys"][key["AccessKeyId"]] = key
        self._key_accounts[key["AccessKeyId"]] = account_id

    def remove_key(self, account_id: str, user_name: str, key_id: str) -> None:
        del self.account(account_id)["users"][user_name.lower()]["keys"][key_id]
        del self._key_accounts[key_id]

    def add_session(self, key_id: str, session: SessionRecord) -> None:
        """Record temporary credentials; ``key_id`` then selects the role's account."""
        self.sessions[key_id] = session
        self._key_accounts[key_id] = session["Account"]

    def account_for_key(self, key_id: str) -> str | None:
        """The account an IAM or STS access key id belongs to, or None for keys we never made."""
        return self._key_accounts.get(key_id)

    def issued_key(self, key_id: str) -> IssuedKey | None:
        """
        What other services need to check a signature made with an IAM or
        STS access key id: its secret, whether it may still be used, and
        until when; None for keys we never made.
        """
        session = self.sessions.get(key_id)
        if session is not None:
            return IssuedKey(
                session["SecretAccessKey"],
                expires=session["Expiration"],
                token=session["SessionToken"],
            )
        account_id = self._key_accounts.get(key_id)
        if account_id is None:
            return None
        for user in self.account(account_id)["users"].values():
            key = user["keys"].get(key_id)
            if key is not None:
                return IssuedKey(key["SecretAccessKey"], active=key["Status"] == "Active")
        return None

    def caller(self, key_id: str) -> Caller | None:
        """The principal holding ``key_id``, or None for keys we never made."""
        session = self.sessions.get(key_id)
        if session is not None:
            account = session["Account"]
            return Caller(
                account,
                f"{session['RoleId']}:{session['SessionName']}",
                assumed_role_arn(account, session["RoleName"], session["SessionName"]),
            )
        account_id = self._key_accounts.get(key_id)
        if account_id is None:
            return None
        for user in self.account(account_id)["users"].values():
            if key_id in user["keys"]:
                record = user["user"]
                return Caller(account_id, record["UserId"], record["Arn"], record["UserName"])
        return None


def assumed_role_arn(account: str, role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
