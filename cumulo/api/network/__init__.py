"""The network service (a Neutron v2.0 subset) under ``/network``: the versions
document, the security groups and their rules.

Placeholder skeleton written by the security-group branch so its routes can be
served and tested; the network-api branch owns this package's skeleton.
"""

from __future__ import annotations

import falcon

from cumulo.compute.network import NETWORK_ID

from ..errors import NotFound
from ..registry import App, MountedService
from ..state import ApiState
from .common import PREFIX, V2, neutron_error_body, project_token
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


class PlaceholderNetworks:
    """``GET /network/v2.0/networks[/{id}]``: the one flat network, so that clients
    which look a network up by name in the network service (``openstack server
    create --network private``) still find it. Placeholder until the network-api
    branch's networks replace it."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    @staticmethod
    def _network(project_id: str) -> dict[str, object]:
        return {
            "id": str(NETWORK_ID),
            "name": "private",  # the compute API's label of the flat network
            "status": "ACTIVE",
            "admin_state_up": True,
            "shared": True,
            "subnets": [],
            "project_id": project_id,
            "tenant_id": project_id,
        }

    def on_get(self, req: falcon.Request, resp: falcon.Response, network_id: str = "") -> None:
        token = project_token(req, self.state)
        project_id = token.project.id if token.project else ""
        network = self._network(project_id)
        if network_id:
            if network_id not in (network["id"], network["name"]):
                raise NotFound(f"Network {network_id} could not be found.", kind="NetworkNotFound")
            resp.media = {"network": network}
            return
        names = req.get_param_as_list("name")
        wanted = req.get_param_as_list("id")
        listed = (names is None or network["name"] in names) and (
            wanted is None or network["id"] in wanted
        )
        resp.media = {"networks": [network] if listed else []}


def add_routes(app: App, state: ApiState) -> None:
    app.add_route(PREFIX, Versions(state))
    app.add_route(V2, V2Resources(state))
    add_security_group_routes(app, state)
    app.add_route(f"{V2}/networks", PlaceholderNetworks(state))
    app.add_route(f"{V2}/networks/{{network_id}}", PlaceholderNetworks(state))
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
