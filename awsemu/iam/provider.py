"""
IAM operations: roles with inline and attached policies, customer managed
policies (and AWS's, read-only), users and their access keys.

Nothing is enforced: policies are stored and returned, never evaluated.
Names of roles and users are case-insensitive in IAM (``Admin`` and
``admin`` are the same role), so the store keys them by lowercased name.
Timestamps are the request's arrival time (``context.started``, a reading
of the gateway's clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar
from urllib.parse import quote

import attrs

from awsemu.gateway.context import Random, RequestContext
from awsemu.gateway.services import Params
from awsemu.iam.errors import (
    already_exists,
    check_policy_document,
    delete_conflict,
    entity_not_found,
    no_such_entity,
    validation_error,
)
from awsemu.iam.managed import MANAGED_POLICIES
from awsemu.iam.store import (
    AccessKeyRecord,
    AccountState,
    IamStore,
    Policies,
    PolicyState,
    RoleState,
    UserState,
)
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.values import to_datetime
from awsemu.state.ids import iam_unique_id, secret
from awsemu.state.jsonfile import saving

Output = dict[str, Any]
T = TypeVar("T")

DEFAULT_PAGE_SIZE: Final = 100
ACCESS_KEYS_PER_USER: Final = 2
POLICY_VERSIONS: Final = 5


def _encoded(document: str) -> str:
    """A policy document as IAM returns it: URL-encoded (botocore decodes it)."""
    return quote(document, safe="")


def _find(entities: Mapping[str, T], kind: str, name: str) -> T:
    try:
        return entities[name.lower()]
    except KeyError:
        raise entity_not_found(kind, name) from None


def _check_new(entities: Mapping[str, object], title: str, name: str) -> None:
    if name.lower() in entities:
        raise already_exists(f"{title} with name {name} already exists.")


def _page(items: list[Any], params: Params, key: str) -> Output:
    """One page of a listing, with IAM's ``Marker``/``MaxItems``/``IsTruncated``."""
    marker = params.get("Marker") or "0"
    if not (marker.isascii() and marker.isdigit()):
        raise validation_error("Invalid Marker.")
    start = int(marker)
    end = start + params.get("MaxItems", DEFAULT_PAGE_SIZE)
    page: Output = {key: items[start:end], "IsTruncated": end < len(items)}
    if page["IsTruncated"]:
        page["Marker"] = str(end)
    return page


def _path(params: Params) -> str:
    """The entity's path (``/`` by default), which IAM wants between slashes."""
    path: str = params.get("Path", "/")
    if not (path.startswith("/") and path.endswith("/")):
        raise validation_error(
            "The specified value for path is invalid. It must begin and end with / and "
            "contain only alphanumeric characters and/or / characters."
        )
    return path


def _under(path_prefix: str | None, path: str) -> bool:
    return path.startswith(path_prefix or "/")


def _role_output(state: RoleState, *, listing: bool = False) -> Output:
    """A ``Role``; listings leave out tags, as AWS's do, and so does a role without any."""
    role = state["role"]
    output: Output = {
        **role,
        "AssumeRolePolicyDocument": _encoded(role["AssumeRolePolicyDocument"]),
    }
    if listing or not role["Tags"]:
        del output["Tags"]
    return output


def _user_output(state: UserState) -> Output:
    user = state["user"]
    return {key: value for key, value in user.items() if key != "Tags" or value}


def _key_metadata(key: AccessKeyRecord) -> Output:
    return {name: value for name, value in key.items() if name != "SecretAccessKey"}


def _attached(account: AccountState, arn: str) -> int:
    """How many roles and users of the account have the policy ``arn`` attached."""
    holders: list[Policies] = [*account["roles"].values(), *account["users"].values()]
    return sum(arn in holder["attached"] for holder in holders)


def _check_no_policies(holder: Policies) -> None:
    """IAM deletes a role or user only once it holds no policy."""
    if holder["attached"]:
        raise delete_conflict("Cannot delete entity, must detach all policies first.")
    if holder["inline"]:
        raise delete_conflict("Cannot delete entity, must delete policies first.")


def _policy_output(account: AccountState, state: PolicyState) -> Output:
    policy = state["policy"]
    return {
        **policy,
        "AttachmentCount": _attached(account, policy["Arn"]),
        "PermissionsBoundaryUsageCount": 0,
    }


def _version_output(state: PolicyState, version_id: str, *, document: bool = True) -> Output:
    """A ``PolicyVersion``; listings and CreatePolicyVersion leave the document out, as AWS does."""
    version = state["versions"][version_id]
    output: Output = {
        **version,
        "Document": _encoded(version["Document"]),
        "IsDefaultVersion": version_id == state["policy"]["DefaultVersionId"],
    }
    if not document:
        del output["Document"]
    return output


def _aws_managed() -> dict[str, PolicyState]:
    """AWS's managed policies in the store's shape, so lookups need no special case."""
    return {
        arn: {
            "policy": {
                "PolicyName": policy.name,
                "PolicyId": policy.policy_id,
                "Arn": arn,
                "Path": policy.path,
                "DefaultVersionId": policy.version_id,
                "IsAttachable": True,
                "CreateDate": to_datetime(policy.created).timestamp(),
                "UpdateDate": to_datetime(policy.updated).timestamp(),
                "Tags": [],
            },
            "versions": {
                policy.version_id: {
                    "Document": policy.document,
                    "VersionId": policy.version_id,
                    "CreateDate": to_datetime(policy.updated).timestamp(),
                }
            },
        }
        for arn, policy in MANAGED_POLICIES.items()
    }


@attrs.define
class IamProvider:
    """See the module docstring. ``random`` makes ids and secrets."""

    store: IamStore
    random: Random
    _managed: dict[str, PolicyState] = attrs.field(factory=_aws_managed, init=False)

    def _account(self, context: RequestContext) -> AccountState:
        return self.store.account(context.account_id)

    def _role(self, context: RequestContext, params: Params) -> RoleState:
        return _find(self._account(context)["roles"], "role", params["RoleName"])

    def _policy(self, context: RequestContext, arn: str) -> PolicyState:
        state = self._managed.get(arn) or self._account(context)["policies"].get(arn)
        if state is None:
            raise no_such_entity(f"Policy {arn} was not found.")
        return state

    def _user_name(self, context: RequestContext, params: Params) -> str:
        """The user named, else the calling user (a user's key was used)."""
        if "UserName" in params:
            return str(params["UserName"])
        caller = self._caller_user(context)
        if caller is None:
            raise validation_error("Must specify userName when calling with non-User credentials")
        return caller["user"]["UserName"]

    def _caller_user(self, context: RequestContext) -> UserState | None:
        key = context.access_key_id
        caller = None if key is None else self.store.caller(key)
        if caller is None or caller.user_name is None:
            return None
        return self._account(context)["users"].get(caller.user_name.lower())

    # Roles

    @saving
    async def create_role(self, context: RequestContext, params: Params) -> Output:
        roles = self._account(context)["roles"]
        name, path = params["RoleName"], _path(params)
        _check_new(roles, "Role", name)
        check_policy_document(params["AssumeRolePolicyDocument"])
        state: RoleState = {
            "role": {
                "Path": path,
                "RoleName": name,
                "RoleId": iam_unique_id(self.random, "AROA"),
                "Arn": f"arn:aws:iam::{context.account_id}:role{path}{name}",
                "CreateDate": context.started,
                "AssumeRolePolicyDocument": params["AssumeRolePolicyDocument"],
                "MaxSessionDuration": params.get("MaxSessionDuration", 3600),
                "Tags": params.get("Tags", []),
            },
            "inline": {},
            "attached": [],
        }
        if "Description" in params:
            state["role"]["Description"] = params["Description"]
        roles[name.lower()] = state
        return {"Role": _role_output(state)}

    async def get_role(self, context: RequestContext, params: Params) -> Output:
        return {"Role": _role_output(self._role(context, params))}

    async def list_roles(self, context: RequestContext, params: Params) -> Output:
        roles = [
            _role_output(state, listing=True)
            for state in self._account(context)["roles"].values()
            if _under(params.get("PathPrefix"), state["role"]["Path"])
        ]
        return _page(roles, params, "Roles")

    @saving
    async def delete_role(self, context: RequestContext, params: Params) -> Output:
        _check_no_policies(self._role(context, params))
        del self._account(context)["roles"][params["RoleName"].lower()]
        return {}

    @saving
    async def update_assume_role_policy(self, context: RequestContext, params: Params) -> Output:
        state = self._role(context, params)
        check_policy_document(params["PolicyDocument"])
        state["role"]["AssumeRolePolicyDocument"] = params["PolicyDocument"]
        return {}

    @saving
    async def update_role(self, context: RequestContext, params: Params) -> Output:
        role = self._role(context, params)["role"]
        if "Description" in params:
            role["Description"] = params["Description"]
        if "MaxSessionDuration" in params:
            role["MaxSessionDuration"] = params["MaxSessionDuration"]
        return {}

    @saving
    async def tag_role(self, context: RequestContext, params: Params) -> Output:
        role = self._role(context, params)["role"]
        added = {tag["Key"]: tag for tag in params["Tags"]}
        role["Tags"] = [t for t in role["Tags"] if t["Key"] not in added] + list(added.values())
        return {}

    @saving
    async def untag_role(self, context: RequestContext, params: Params) -> Output:
        role = self._role(context, params)["role"]
        role["Tags"] = [t for t in role["Tags"] if t["Key"] not in params["TagKeys"]]
        return {}

    async def list_role_tags(self, context: RequestContext, params: Params) -> Output:
        return _page(self._role(context, params)["role"]["Tags"], params, "Tags")

    async def list_instance_profiles_for_role(
        self, context: RequestContext, params: Params
    ) -> Output:
        """Always none (instance profiles are EC2's); Terraform asks before deleting a role."""
        self._role(context, params)
        return _page([], params, "InstanceProfiles")

    # Inline and attached policies, of roles and users alike

    def _holder(self, context: RequestContext, params: Params) -> tuple[Policies, str, str]:
        """
        The role or user a policy operation names (``RoleName`` or
        ``UserName``), with that member's name and the entity's own name.
        """
        if "RoleName" in params:
            role = self._role(context, params)
            return role, "RoleName", role["role"]["RoleName"]
        user = self._user(context, params)
        return user, "UserName", user["user"]["UserName"]

    @saving
    async def put_role_policy(self, context: RequestContext, params: Params) -> Output:
        holder, _, _ = self._holder(context, params)
        check_policy_document(params["PolicyDocument"])
        holder["inline"][params["PolicyName"]] = params["PolicyDocument"]
        return {}

    def _inline(self, context: RequestContext, params: Params) -> tuple[Policies, str, str, str]:
        """The holder, its name member and name, and the inline policy's name, which exists."""
        holder, member, entity = self._holder(context, params)
        name = params["PolicyName"]
        if name not in holder["inline"]:
            kind = member.removesuffix("Name").lower()
            raise entity_not_found(f"{kind} policy", name)
        return holder, member, entity, name

    async def get_role_policy(self, context: RequestContext, params: Params) -> Output:
        holder, member, entity, name = self._inline(context, params)
        return {
            member: entity,
            "PolicyName": name,
            "PolicyDocument": _encoded(holder["inline"][name]),
        }

    @saving
    async def delete_role_policy(self, context: RequestContext, params: Params) -> Output:
        holder, _, _, name = self._inline(context, params)
        del holder["inline"][name]
        return {}

    async def list_role_policies(self, context: RequestContext, params: Params) -> Output:
        holder, _, _ = self._holder(context, params)
        return _page(sorted(holder["inline"]), params, "PolicyNames")

    @saving
    async def attach_role_policy(self, context: RequestContext, params: Params) -> Output:
        holder, _, _ = self._holder(context, params)
        arn = params["PolicyArn"]
        try:
            self._policy(context, arn)
        except ServiceError:
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.") from None
        if arn not in holder["attached"]:
            holder["attached"].append(arn)
        return {}

    @saving
    async def detach_role_policy(self, context: RequestContext, params: Params) -> Output:
        holder, _, _ = self._holder(context, params)
        arn = params["PolicyArn"]
        if arn not in holder["attached"]:
            raise no_such_entity(f"Policy {arn} was not attached.")
        holder["attached"].remove(arn)
        return {}

    async def list_attached_role_policies(self, context: RequestContext, params: Params) -> Output:
        holder, _, _ = self._holder(context, params)
        attached = [
            {"PolicyName": arn.rpartition("/")[2], "PolicyArn": arn}
            for arn in holder["attached"]
            if _under(params.get("PathPrefix"), arn.partition(":policy")[2])
        ]
        return _page(attached, params, "AttachedPolicies")

    put_user_policy = put_role_policy
    get_user_policy = get_role_policy
    delete_user_policy = delete_role_policy
    list_user_policies = list_role_policies
    attach_user_policy = attach_role_policy
    detach_user_policy = detach_role_policy
    list_attached_user_policies = list_attached_role_policies

    # Managed policies

    @saving
    async def create_policy(self, context: RequestContext, params: Params) -> Output:
        account = self._account(context)
        name, path = params["PolicyName"], _path(params)
        arn = f"arn:aws:iam::{context.account_id}:policy{path}{name}"
        if any(
            p["policy"]["PolicyName"].lower() == name.lower() for p in account["policies"].values()
        ):
            raise already_exists(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            )
        check_policy_document(params["PolicyDocument"])
        state: PolicyState = {
            "policy": {
                "PolicyName": name,
                "PolicyId": iam_unique_id(self.random, "ANPA"),
                "Arn": arn,
                "Path": path,
                "DefaultVersionId": "v1",
                "IsAttachable": True,
                "CreateDate": context.started,
                "UpdateDate": context.started,
                "Tags": params.get("Tags", []),
            },
            "versions": {
                "v1": {
                    "Document": params["PolicyDocument"],
                    "VersionId": "v1",
                    "CreateDate": context.started,
                }
            },
        }
        if "Description" in params:
            state["policy"]["Description"] = params["Description"]
        account["policies"][arn] = state
        return {"Policy": _policy_output(account, state)}

    async def get_policy(self, context: RequestContext, params: Params) -> Output:
        state = self._policy(context, params["PolicyArn"])
        return {"Policy": _policy_output(self._account(context), state)}

    async def get_policy_version(self, context: RequestContext, params: Params) -> Output:
        state, version_id = self._version(context, params)
        return {"PolicyVersion": _version_output(state, version_id)}

    def _customer_policy(self, context: RequestContext, arn: str) -> PolicyState:
        """A policy of the caller's account: AWS's own cannot be changed."""
        state = self._account(context)["policies"].get(arn)
        if state is None:
            raise no_such_entity(f"Policy {arn} was not found.")
        return state

    @saving
    async def delete_policy(self, context: RequestContext, params: Params) -> Output:
        arn = params["PolicyArn"]
        account = self._account(context)
        state = self._customer_policy(context, arn)
        if _attached(account, arn):
            raise delete_conflict("Cannot delete a policy attached to entities.")
        if len(state["versions"]) > 1:
            raise delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        del account["policies"][arn]
        return {}

    @saving
    async def create_policy_version(self, context: RequestContext, params: Params) -> Output:
        state = self._customer_policy(context, params["PolicyArn"])
        versions = state["versions"]
        if len(versions) >= POLICY_VERSIONS:
            raise ServiceError(
                "LimitExceeded",
                f"A managed policy can have up to {POLICY_VERSIONS} versions. Before you create "
                "a new version, you must delete an existing version.",
                status=409,
            )
        check_policy_document(params["PolicyDocument"])
        version_id = f"v{max(int(v.removeprefix('v')) for v in versions) + 1}"
        versions[version_id] = {
            "Document": params["PolicyDocument"],
            "VersionId": version_id,
            "CreateDate": context.started,
        }
        if params.get("SetAsDefault"):
            state["policy"]["DefaultVersionId"] = version_id
            state["policy"]["UpdateDate"] = context.started
        return {"PolicyVersion": _version_output(state, version_id, document=False)}

    async def list_policy_versions(self, context: RequestContext, params: Params) -> Output:
        state = self._policy(context, params["PolicyArn"])
        versions = [_version_output(state, v, document=False) for v in reversed(state["versions"])]
        return _page(versions, params, "Versions")

    def _version(self, context: RequestContext, params: Params) -> tuple[PolicyState, str]:
        arn, version_id = params["PolicyArn"], params["VersionId"]
        state = self._policy(context, arn)
        if version_id not in state["versions"]:
            raise no_such_entity(f"Policy {arn} version {version_id} does not exist.")
        return state, version_id

    @saving
    async def delete_policy_version(self, context: RequestContext, params: Params) -> Output:
        self._customer_policy(context, params["PolicyArn"])
        state, version_id = self._version(context, params)
        if version_id == state["policy"]["DefaultVersionId"]:
            raise delete_conflict("Cannot delete the default version of a policy.")
        del state["versions"][version_id]
        return {}

    @saving
    async def set_default_policy_version(self, context: RequestContext, params: Params) -> Output:
        self._customer_policy(context, params["PolicyArn"])
        state, version_id = self._version(context, params)
        state["policy"]["DefaultVersionId"] = version_id
        state["policy"]["UpdateDate"] = context.started
        return {}

    async def list_policies(self, context: RequestContext, params: Params) -> Output:
        account = self._account(context)
        scope = params.get("Scope", "All")
        scopes = {
            "All": [*self._managed.values(), *account["policies"].values()],
            "AWS": list(self._managed.values()),
            "Local": list(account["policies"].values()),
        }
        if scope not in scopes:
            raise validation_error(
                f"1 validation error detected: Value '{scope}' at 'scope' failed to satisfy"
                f" constraint: Member must satisfy enum value set: [{', '.join(scopes)}]"
            )
        sources = scopes[scope]
        policies = [
            _policy_output(account, state)
            for state in sources
            if _under(params.get("PathPrefix"), state["policy"]["Path"])
        ]
        if params.get("OnlyAttached"):
            policies = [policy for policy in policies if policy["AttachmentCount"]]
        return _page(policies, params, "Policies")

    # Users and access keys

    @saving
    async def create_user(self, context: RequestContext, params: Params) -> Output:
        users = self._account(context)["users"]
        name, path = params["UserName"], _path(params)
        _check_new(users, "User", name)
        state: UserState = {
            "user": {
                "Path": path,
                "UserName": name,
                "UserId": iam_unique_id(self.random, "AIDA"),
                "Arn": f"arn:aws:iam::{context.account_id}:user{path}{name}",
                "CreateDate": context.started,
                "Tags": params.get("Tags", []),
            },
            "keys": {},
            "inline": {},
            "attached": [],
        }
        users[name.lower()] = state
        return {"User": _user_output(state)}

    async def get_user(self, context: RequestContext, params: Params) -> Output:
        if "UserName" in params:
            return {
                "User": _user_output(
                    _find(self._account(context)["users"], "user", params["UserName"])
                )
            }
        caller = self._caller_user(context)
        if caller is not None:
            return {"User": _user_output(caller)}
        account = context.account_id
        return {
            "User": {
                "UserId": account,
                "Arn": f"arn:aws:iam::{account}:root",
                "CreateDate": context.started,
            }
        }

    async def list_users(self, context: RequestContext, params: Params) -> Output:
        users = [
            _user_output(state)
            for state in self._account(context)["users"].values()
            if _under(params.get("PathPrefix"), state["user"]["Path"])
        ]
        return _page(users, params, "Users")

    @saving
    async def delete_user(self, context: RequestContext, params: Params) -> Output:
        users = self._account(context)["users"]
        state = _find(users, "user", params["UserName"])
        if state["keys"]:
            raise delete_conflict("Cannot delete entity, must delete access keys first.")
        _check_no_policies(state)
        del users[params["UserName"].lower()]
        return {}

    def _user(self, context: RequestContext, params: Params) -> UserState:
        name = self._user_name(context, params)
        return _find(self._account(context)["users"], "user", name)

    @saving
    async def create_access_key(self, context: RequestContext, params: Params) -> Output:
        state = self._user(context, params)
        if len(state["keys"]) >= ACCESS_KEYS_PER_USER:
            raise ServiceError(
                "LimitExceeded",
                f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}",
                status=409,
            )
        key: AccessKeyRecord = {
            "UserName": state["user"]["UserName"],
            "AccessKeyId": iam_unique_id(self.random, "AKIA", 20),
            "Status": "Active",
            "SecretAccessKey": secret(self.random, 40),
            "CreateDate": context.started,
        }
        self.store.add_key(context.account_id, key)
        return {"AccessKey": dict(key)}

    async def list_access_keys(self, context: RequestContext, params: Params) -> Output:
        keys = [_key_metadata(key) for key in self._user(context, params)["keys"].values()]
        return _page(keys, params, "AccessKeyMetadata")

    def _key(self, state: UserState, params: Params) -> AccessKeyRecord:
        key_id = params["AccessKeyId"]
        if key_id not in state["keys"]:
            raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        return state["keys"][key_id]

    @saving
    async def update_access_key(self, context: RequestContext, params: Params) -> Output:
        """Make a key ``Active`` or ``Inactive``; S3 refuses an inactive key's signatures."""
        self._key(self._user(context, params), params)["Status"] = params["Status"]
        return {}

    @saving
    async def delete_access_key(self, context: RequestContext, params: Params) -> Output:
        state = self._user(context, params)
        key = self._key(state, params)
        self.store.remove_key(context.account_id, state["user"]["UserName"], key["AccessKeyId"])
        return {}
