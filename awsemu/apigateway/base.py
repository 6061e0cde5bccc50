"""
What every family of API Gateway operations shares: the store and the id
source, finding a REST API by id, patching a record, and one page of a
listing. The provider (``ApiGatewayProvider``) is made of these families.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Final

import attrs

from awsemu.apigateway.api import RestApi
from awsemu.apigateway.errors import bad_request, not_found
from awsemu.apigateway.patch import apply_patches
from awsemu.apigateway.store import ApiGatewayStore, Record
from awsemu.gateway.context import Random, RequestContext
from awsemu.gateway.services import Params

Output = dict[str, Any]

DEFAULT_LIMIT: Final = 25


def page(items: list[Record], params: Params) -> Output:
    """One page of a listing, with API Gateway's ``position``/``limit``."""
    position = params.get("position") or "0"
    if not position.isdigit():
        raise bad_request("Invalid position parameter")
    start = int(position)
    end = start + params.get("limit", DEFAULT_LIMIT)
    found: Output = {"items": items[start:end]}
    if end < len(items):
        found["position"] = str(end)
    return found


@attrs.define
class Operations:
    """The state operations work on; ``random`` makes ids."""

    store: ApiGatewayStore
    random: Random

    def _api(self, context: RequestContext, params: Params) -> RestApi:
        api_id = params["restApiId"]
        state = self.store.region(context.account_id, context.region).get(api_id)
        if state is None:
            raise not_found(f"Invalid API identifier specified {context.account_id}:{api_id}")
        return RestApi(state, self.random, context.started)

    def _patch(
        self,
        record: Record,
        shape: str,
        params: Params,
        allowed: frozenset[str],
        check: Callable[[Record], object],
    ) -> None:
        """Patch ``record`` if the result passes ``check``; a failed patch changes nothing."""
        patched = copy.deepcopy(record)
        apply_patches(patched, shape, params.get("patchOperations", []), allowed)
        check(patched)
        record.clear()
        record.update(patched)
