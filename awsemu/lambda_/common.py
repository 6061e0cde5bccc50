"""
What every family of Lambda's operations shares: the scope of a request,
Lambda's timestamps and paging, and ``ProviderBase``, which turns a
``FunctionName`` (a name, a partial or full ARN, with or without a
qualifier) into the stored function it names. The families (functions,
versions and aliases, permissions, URLs, code signing, event source
mappings...) are mixins over it that ``LambdaProvider`` puts together.
"""

from __future__ import annotations

import fnmatch
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from twisted.internet.interfaces import IReactorTime

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors
from awsemu.lambda_.functions import Document, Function, FunctionStore, Scope, Version, function_arn

Params = dict[str, Any]

FUNCTION_REFERENCE: Final = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:(?P<account>\d{12}):function:)?"
    r"(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?"
)
DEFAULT_PAGE: Final = 50


def model_pattern(shape: str) -> str:
    """The ``pattern`` botocore's Lambda model gives a string shape."""
    from awsemu.protocol.model import load_service_model

    pattern: str = load_service_model("lambda").shape_for(shape).metadata["pattern"]
    return pattern


def scope_of(context: RequestContext) -> Scope:
    return (context.account_id, context.region)


def timestamp(seconds: float) -> str:
    """Lambda's ``LastModified`` text: ``2024-05-01T12:00:00.000+0000``."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def page(
    items: Sequence[Any], params: Params, key: Callable[[Any], str]
) -> tuple[list[Any], str | None]:
    """One page of ``items`` (in order of ``key``) from ``Marker``, with the next marker."""
    marker = params.get("Marker")
    try:
        start = urlsafe_b64decode(marker.encode()).decode() if marker else ""
    except ValueError as e:  # binascii.Error and UnicodeDecodeError both are
        raise errors.invalid("Invalid Marker") from e
    remaining = [item for item in items if key(item) >= start]
    limit = params.get("MaxItems") or DEFAULT_PAGE
    if len(remaining) <= limit:
        return remaining, None
    return remaining[:limit], urlsafe_b64encode(key(remaining[limit]).encode()).decode()


def paged(member: str, items: Sequence[Any], params: Params, key: Callable[[Any], str]) -> Document:
    """A list operation's answer: one page of ``items`` as ``member``, and ``NextMarker``."""
    found, marker = page(items, params, key)
    output: Document = {member: found}
    if marker is not None:
        output["NextMarker"] = marker
    return output


def public(document: Document) -> Document:
    """A stored document without the store's own (``_``-prefixed) keys."""
    return {key: value for key, value in document.items() if not key.startswith("_")}


def _listed(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def allows(statements: list[Document], account_id: str, action: str) -> bool:
    """
    Whether a function's policy lets ``account_id`` (another account) do
    ``action``: a statement naming the action (``lambda:*`` and other
    wildcards match, case aside, as IAM matches actions) for ``*``, the
    account, or its root allows it, unless another such statement denies
    it (an explicit ``Deny`` wins, as in IAM's policy evaluation).
    """
    principals = {"*", account_id, f"arn:aws:iam::{account_id}:root"}
    effects = set()
    for statement in statements:
        actions = [str(a).lower() for a in _listed(statement.get("Action"))]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        principal = statement.get("Principal")
        named = principal.get("AWS") if isinstance(principal, dict) else principal
        if principals & set(map(str, _listed(named))):
            effects.add(statement.get("Effect"))
    return effects == {"Allow"}


class ProviderBase:
    """What the operation families read: the store, the clock, the id source."""

    store: FunctionStore
    clock: IReactorTime
    new_id: Callable[[], str]

    def _reference(self, params: Params, qualified: bool = True) -> tuple[str, str | None]:
        """
        The function name and qualifier a ``FunctionName`` (a name, a partial
        or full ARN, any of them with ``:qualifier``) and ``Qualifier`` give.
        """
        text = params["FunctionName"]
        found = FUNCTION_REFERENCE.fullmatch(text)
        if found is None:
            raise errors.invalid(f"Invalid function name: {text}")
        name, qualifier = found.group("name"), found.group("qualifier")
        given = params.get("Qualifier")
        if qualifier is not None and given is not None and given != qualifier:
            raise errors.invalid(
                "The derived qualifier from the function name does not match the specified"
                " qualifier."
            )
        qualifier = qualifier or given
        if qualifier is not None and not qualified:
            raise errors.invalid(f"Unqualified function name expected: {text}")
        return name, qualifier

    def _function(self, context: RequestContext, params: Params) -> tuple[Function, str | None]:
        name, qualifier = self._reference(params)
        return self.store.function(scope_of(context), name), qualifier

    def _unqualified(self, context: RequestContext, params: Params) -> Function:
        name, _ = self._reference(params, qualified=False)
        return self.store.function(scope_of(context), name)

    def _shared_version(
        self, context: RequestContext, params: Params
    ) -> tuple[Scope, Function, Version]:
        """
        The version ``FunctionName`` names, with the scope it lives in:
        another account's too, when a full ARN names it and its
        resource-based policy lets the caller's account do the operation's
        action (``Invoke`` is ``lambda:InvokeFunction``), as AWS does.
        """
        found = FUNCTION_REFERENCE.fullmatch(params["FunctionName"])
        owner = None if found is None else found.group("account")
        if owner is None or owner == context.account_id:
            return (scope_of(context), *self._version_in(scope_of(context), params))
        scope = (owner, context.region)
        function, version = self._version_in(scope, params)
        operation = context.operation or ""
        action = "lambda:InvokeFunction" if operation == "Invoke" else f"lambda:{operation}"
        _, qualifier = self._reference(params)
        if not allows(function.policies.get(qualifier or "", []), context.account_id, action):
            raise errors.access_denied(
                f"User: arn:aws:iam::{context.account_id}:root is not authorized to perform:"
                f" {action} on resource: {function_arn(scope, function.name, qualifier)} because"
                f" no resource-based policy allows the {action} action"
            )
        return scope, function, version

    def _version_in(self, scope: Scope, params: Params) -> tuple[Function, Version]:
        name, qualifier = self._reference(params)
        function = self.store.function(scope, name)
        version = function.version(qualifier)
        if version is None:
            raise errors.function_not_found(function_arn(scope, function.name, qualifier))
        return function, version

    def _policy_target(self, context: RequestContext, params: Params) -> tuple[Function, str]:
        function, qualifier = self._function(context, params)
        if qualifier is not None and function.version(qualifier) is None:
            raise errors.function_not_found(
                function_arn(scope_of(context), function.name, qualifier)
            )
        return function, qualifier or ""

    def _check_revision(self, version: Version, params: Params) -> None:
        revision = params.get("RevisionId")
        if revision is not None and revision != version.revision:
            raise errors.precondition_failed()
