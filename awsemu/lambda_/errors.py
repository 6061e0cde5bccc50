"""
Lambda's errors, worded as AWS words them, so that SDK error handling and
snapshot tests written against AWS behave the same here.
"""

from __future__ import annotations

from awsemu.protocol.errors import ServiceError


def function_not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Function not found: {arn}", 404)


def function_exists(name: str) -> ServiceError:
    return ServiceError("ResourceConflictException", f"Function already exist: {name}", 409)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404)


def conflict(message: str) -> ServiceError:
    return ServiceError("ResourceConflictException", message, 409)


def access_denied(message: str) -> ServiceError:
    return ServiceError("AccessDeniedException", message, 403)


def statement_exists(sid: str) -> ServiceError:
    return conflict(
        f"The statement id ({sid}) provided already exists. Please provide a new statement id,"
        " or remove the existing statement."
    )


def statement_missing(sid: str) -> ServiceError:
    return not_found(f"Statement {sid} is not found in resource policy.")


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message, 400)


def validation(value: object, member: str, constraint: str) -> ServiceError:
    """
    The request validator's error, as AWS words it for one failed member:
    ``1 validation error detected: Value 'x' at 'functionName' failed to
    satisfy constraint: Member must ...``.
    """
    return ServiceError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy"
        f" constraint: {constraint}",
        400,
    )


def pattern(regex: str) -> str:
    return f"Member must satisfy regular expression pattern: {regex}"


def unzippable() -> ServiceError:
    return invalid(
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )


def too_large(limit: int, operation: str) -> ServiceError:
    return ServiceError(
        "RequestTooLargeException",
        f"Request must be smaller than {limit} bytes for the {operation} operation",
        413,
    )


def precondition_failed(read_with: str = "GetFunction/GetAlias") -> ServiceError:
    """
    A ``RevisionId`` that is not the current one. The operation to read it
    with is ``GetPolicy`` for ``AddPermission``/``RemovePermission`` (as
    botocore's documentation of the error says; the text as LocalStack's
    AWS-validated snapshots record it).
    """
    return ServiceError(
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the"
        f" {read_with} API to retrieve the latest Revision Id",
        412,
    )


def throttled(reason: str) -> ServiceError:
    """
    Invoke's answer when the function (``ReservedFunctionConcurrentInvocationLimitExceeded``)
    or the account (``ConcurrentInvocationLimitExceeded``) has no concurrency left. The body
    AWS sends, as recorded in Arc XP's PageBuilder documentation (KB0011308):
    ``{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User",
    "message":"Rate Exceeded."}``.
    """
    return ServiceError(
        "TooManyRequestsException",
        "Rate Exceeded.",
        429,
        fields={"Reason": reason, "Type": "User"},
    )


def unsupported_runtime(runtime: str, executor: str) -> ServiceError:
    return ServiceError(
        "InvalidRuntimeException",
        f"The runtime {runtime} is not supported by awsemu's {executor} executor;"
        " run the daemon with a Docker engine (--lambda-executor docker) for it.",
        502,
        sender_fault=False,
    )


def environment_failed(reason: str) -> ServiceError:
    return ServiceError(
        "ServiceException",
        f"awsemu could not start an execution environment: {reason}",
        500,
        sender_fault=False,
    )
