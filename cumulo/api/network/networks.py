"""``/network/v2.0/networks``: the list (the project's own and the shared networks;
every network for admins) and one network; admins create and delete them (a
network with ports is refused, 409)."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.identity import Token
from cumulo.model import DEFAULT_NETWORK_ID
from cumulo.model.exceptions import NetworkNotFound
from cumulo.network import NetworkRecord

from ..errors import Conflict, Forbidden
from ..media import read_json
from ..state import ApiState
from .common import (
    V20,
    Route,
    filtered,
    is_admin,
    network_visible,
    only_fields,
    parse_id,
    project_of,
    project_token,
    timestamp,
)
from .schemas import CREATE_NETWORK

DEFAULT_MTU = 1500


def render(network: NetworkRecord) -> dict[str, Any]:
    project = network.project_id or ""
    return {
        "id": str(network.id),
        "name": network.name,
        "tenant_id": project,
        "project_id": project,
        "status": "ACTIVE",
        "admin_state_up": network.admin_state_up,
        "shared": network.shared,
        "subnets": [str(s) for s in network.subnet_ids],
        "mtu": network.mtu,
        "router:external": False,
        "port_security_enabled": True,
        "availability_zones": [],
        "availability_zone_hints": [],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "description": "",
        "tags": [],
        "revision_number": 0,
        "created_at": timestamp(network.created_at),
        "updated_at": timestamp(network.updated_at or network.created_at),
    }


FILTERS = (
    "id",
    "name",
    "tenant_id",
    "project_id",
    "status",
    "admin_state_up",
    "shared",
    "mtu",
    "router:external",
    "description",
)


def visible_network(state: ApiState, token: Token, network_id: str) -> NetworkRecord:
    """The network if the token's project may see it (404 otherwise, as for none)."""
    network = state.networks.network(parse_id(network_id, "network"))
    if not network_visible(token, network):
        raise NetworkNotFound(id=network_id)
    return network


class Networks:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state, "get_network")
        seen = [render(n) for n in self.state.networks.networks() if network_visible(token, n)]
        resp.media = {"networks": filtered(req, seen, FILTERS)}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state, "create_network")
        values: dict[str, Any] = read_json(req, CREATE_NETWORK)["network"]
        project = values.get("project_id") or values.get("tenant_id") or project_of(token)
        if project != project_of(token) and not is_admin(token):
            raise Forbidden("Only admins create networks of another project.")
        network = self.state.networks.create_network(
            values.get("name", ""),
            project,
            shared=values.get("shared", False),
            admin_state_up=values.get("admin_state_up", True),
            mtu=values.get("mtu", DEFAULT_MTU),
        )
        resp.status = falcon.HTTP_201
        resp.media = {"network": render(network)}


class NetworkResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        token = project_token(req, self.state, "get_network")
        network = visible_network(self.state, token, network_id)
        resp.media = {"network": only_fields(req, render(network))}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        token = project_token(req, self.state, "delete_network")
        network = visible_network(self.state, token, network_id)
        if network.id == DEFAULT_NETWORK_ID:
            # Servers asked without networks are built on it: it stays.
            raise Conflict(
                f"Network {network.id} is the default network of servers and cannot be deleted.",
                kind="NetworkInUse",
            )
        self.state.networks.delete_network(network.id)
        resp.status = falcon.HTTP_204


ROUTES: tuple[Route, ...] = (
    (f"{V20}/networks", Networks),
    (f"{V20}/networks/{{network_id}}", NetworkResource),
)
