"""The network service (a Neutron v2.0 subset) under ``/network``: the versions
document, the security groups and their rules.

Placeholder skeleton written by the security-group branch so its routes can be
served and tested; the network-api branch owns this package's skeleton.
"""

from __future__ import annotations

import falcon

from ..registry import App, MountedService
from ..state import ApiState
from .common import PREFIX, V2, neutron_error_body
from .policies import RULES
from .quotas import add_quota_routes
from .security_groups import add_security_group_routes


class Versions:
    """``GET /network``: Neutron's versions document, without a token."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        link = [{"rel": "self", "href": f"{self.state.base_url(req)}{V2}/"}]
        resp.media = {"versions": [{"id": "v2.0", "status": "CURRENT", "links": link}]}


class V2Resources:
    """``GET /network/v2.0``: the resources this Neutron subset serves."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        base = f"{self.state.base_url(req)}{V2}"
        resp.media = {
            "resources": [
                {
                    "name": name.replace("-", "_")[:-1],
                    "collection": name.replace("-", "_"),
                    "links": [{"rel": "self", "href": f"{base}/{name}"}],
                }
                for name in ("security-groups", "security-group-rules")
            ]
        }


def add_routes(app: App, state: ApiState) -> None:
    app.add_route(PREFIX, Versions(state))
    app.add_route(V2, V2Resources(state))
    add_security_group_routes(app, state)
    add_quota_routes(app, state)


SERVICE = MountedService(
    type="network",
    name="neutron",
    prefix=PREFIX,
    catalog_path="",
    add_routes=add_routes,
    error_body=neutron_error_body,
    policies=RULES,
)
