"""
The dashboard: pages served by the daemon at ``/_awsemu/`` that show what
each service holds and let a developer poke it (upload an object, put an
item, invoke a function, tail a log group).

It keeps no state of its own. Every page asks the enabled services'
providers, in-process and with a request context of the account and region
chosen on the page, exactly as an AWS call would; DynamoDB's data lives in
DynamoDB Local, so its pages send DynamoDB requests through the service's
proxy. The overview's request table reads the gateway's ring of recent
requests (``awsemu.dashboard.recent``).

Under ``--auth enforce`` a page needs a session: the sign-in form takes an
access key pair, checked by the gateway's own signature check (see
``awsemu.dashboard.access``). Secret keys are never shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.web.resource import IResource

if TYPE_CHECKING:
    from awsemu.gateway.app import Gateway


def dashboard_resource(gateway: Gateway) -> IResource:
    """The dashboard of ``gateway``'s daemon, as a resource for its ``/_awsemu/`` branch."""
    from awsemu.dashboard.access import Access
    from awsemu.dashboard.app import Dashboard

    access = Access(gateway.authenticate, gateway.account_for_key, gateway.region, gateway.clock)
    dashboard = Dashboard(
        gateway.backends, gateway.recent, gateway.region, gateway.clock, access, gateway.started
    )
    resource: IResource = dashboard.app.resource()
    return resource
