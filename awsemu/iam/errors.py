"""IAM's and STS's errors, worded and coded as AWS's."""

from __future__ import annotations

import json

from awsemu.protocol.errors import ServiceError


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, status=404)


def entity_not_found(kind: str, name: str) -> ServiceError:
    """``kind`` is AWS's lowercase word: ``role``, ``user``, ``role policy``."""
    return no_such_entity(f"The {kind} with name {name} cannot be found.")


def already_exists(message: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", message, status=409)


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, status=409)


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message)


def check_policy_document(text: str) -> None:
    """
    Reject what IAM rejects as ``MalformedPolicyDocument``: text that is not
    JSON, or JSON that is not a policy (an object with a ``Statement``).
    Statements themselves are not checked: no policy is enforced.
    """
    try:
        document = json.loads(text)
    except ValueError:
        raise ServiceError("MalformedPolicyDocument", "This policy contains invalid Json") from None
    if not isinstance(document, dict) or not document.get("Statement"):
        raise ServiceError("MalformedPolicyDocument", "Syntax errors in policy.")
