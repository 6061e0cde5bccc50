"""
A Lambda account's concurrency: how many invocations of each function are
in flight, which invocation is throttled, and how much of the account's
concurrency reserved and provisioned concurrency leave to the others.

AWS's rules ("Lambda function scaling", "Configuring reserved
concurrency", "Configuring provisioned concurrency" in the Lambda
developer guide): a function with reserved concurrency N runs at most N
invocations at once (N = 0 throttles every one); the functions without a
reservation share what the reservations leave of the account's 1,000
concurrent executions, and at least 100 must stay unreserved. Provisioned
concurrency counts against its function's reservation, or, for a function
without one, against the unreserved pool.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Final

import attrs

from awsemu.lambda_ import errors
from awsemu.lambda_.functions import Function, Scope

ACCOUNT_LIMIT: Final = 1000
"""An account's concurrent executions per region (AWS's default quota)."""

UNRESERVED_MINIMUM: Final = 100
"""What reservations must leave unreserved of ``ACCOUNT_LIMIT``."""


def provisioned(function: Function) -> int:
    """The provisioned concurrency the function's versions and aliases ask for together."""
    return sum(
        settings["RequestedProvisionedConcurrentExecutions"]
        for settings in function.provisioned.values()
    )


def unreserved(functions: Iterable[Function]) -> int:
    """
    ``UnreservedConcurrentExecutions``: the account's concurrency less the
    reservations and the provisioned concurrency of functions without one.
    """
    taken = 0
    for function in functions:
        reserved = function.reserved_concurrency
        taken += provisioned(function) if reserved is None else reserved
    return ACCOUNT_LIMIT - taken


@attrs.define
class Running:
    """The invocations in flight, by function, in every account and region."""

    _counts: dict[tuple[Scope, str], int] = attrs.field(factory=dict)

    def start(
        self, scope: Scope, function: Function, functions: Collection[Function]
    ) -> Callable[[], None]:
        """
        Count one more invocation of ``function`` (``functions``: every
        function of its scope), or raise AWS's throttling error if it has no
        concurrency left; the callable given back counts it out.
        """
        key = (scope, function.name)
        reserved = function.reserved_concurrency
        if reserved is not None:
            if self._counts.get(key, 0) >= reserved:
                raise errors.throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        else:
            shared = [f for f in functions if f.reserved_concurrency is None]
            in_use = sum(self._counts.get((scope, f.name), 0) for f in shared)
            limit = ACCOUNT_LIMIT - sum(f.reserved_concurrency or 0 for f in functions)
            if in_use >= limit:
                raise errors.throttled("ConcurrentInvocationLimitExceeded")
        self._counts[key] = self._counts.get(key, 0) + 1

        def done() -> None:
            left = self._counts[key] - 1
            if left:
                self._counts[key] = left
            else:
                del self._counts[key]

        return done
