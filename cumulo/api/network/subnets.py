"""``/network/v2.0/subnets``: the subnets of the networks the project sees, one
subnet, and creating (v4 or v6; a CIDR overlapping another subnet of the network
is a 400; pools inside the CIDR) and deleting subnets of the project's networks."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.identity import Token
from cumulo.model.exceptions import SubnetNotFound
from cumulo.network import SubnetRecord, subnet_spec
from cumulo.network.subnets import NO_GATEWAY

from ..errors import Forbidden
from ..media import read_json
from ..state import ApiState
from .common import (
    V20,
    Route,
    filtered,
    network_visible,
    only_fields,
    owns,
    parse_id,
    project_token,
    timestamp,
)
from .networks import visible_network
from .schemas import CREATE_SUBNET


def render(subnet: SubnetRecord) -> dict[str, Any]:
    project = subnet.project_id or ""
    return {
        "id": str(subnet.id),
        "name": subnet.name,
        "tenant_id": project,
        "project_id": project,
        "network_id": str(subnet.network_id),
        "ip_version": subnet.ip_version,
        "cidr": str(subnet.cidr),
        "gateway_ip": None if subnet.gateway_ip is None else str(subnet.gateway_ip),
        "allocation_pools": [p.as_dict() for p in subnet.allocation_pools],
        "dns_nameservers": [str(a) for a in subnet.dns_nameservers],
        "host_routes": [],
        "enable_dhcp": subnet.enable_dhcp,
        "ipv6_ra_mode": None,
        "ipv6_address_mode": None,
        "subnetpool_id": None,
        "service_types": [],
        "description": "",
        "tags": [],
        "revision_number": 0,
        "created_at": timestamp(subnet.created_at),
        "updated_at": timestamp(subnet.updated_at or subnet.created_at),
    }


FILTERS = (
    "id",
    "name",
    "tenant_id",
    "project_id",
    "network_id",
    "ip_version",
    "cidr",
    "gateway_ip",
    "enable_dhcp",
    "description",
)


def visible_subnet(state: ApiState, token: Token, subnet_id: str) -> SubnetRecord:
    """The subnet if its network is one the token's project sees (404 otherwise)."""
    subnet = state.networks.subnet(parse_id(subnet_id, "subnet"))
    if not network_visible(token, state.networks.network(subnet.network_id)):
        raise SubnetNotFound(id=subnet_id)
    return subnet


class Subnets:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state, "get_subnet")
        seen = {n.id for n in self.state.networks.networks() if network_visible(token, n)}
        subnets = [render(s) for s in self.state.networks.subnets() if s.network_id in seen]
        resp.media = {"subnets": filtered(req, subnets, FILTERS)}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state, "create_subnet")
        values: dict[str, Any] = read_json(req, CREATE_SUBNET)["subnet"]
        network = visible_network(self.state, token, values["network_id"])
        if not owns(token, network.project_id):
            raise Forbidden(f"Only the owner of network {network.id} adds subnets to it.")
        gateway = values.get("gateway_ip") if "gateway_ip" in values else None
        spec = subnet_spec(
            cidr=values["cidr"],
            ip_version=values["ip_version"],
            gateway_ip=NO_GATEWAY if "gateway_ip" in values and gateway is None else gateway,
            allocation_pools=values.get("allocation_pools"),
            dns_nameservers=values.get("dns_nameservers", ()),
            enable_dhcp=values.get("enable_dhcp", True),
            name=values.get("name", ""),
        )
        subnet = self.state.networks.create_subnet(network.id, network.project_id, spec)
        resp.status = falcon.HTTP_201
        resp.media = {"subnet": render(subnet)}


class SubnetResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, subnet_id: str) -> None:
        token = project_token(req, self.state, "get_subnet")
        resp.media = {
            "subnet": only_fields(req, render(visible_subnet(self.state, token, subnet_id)))
        }

    def on_delete(self, req: falcon.Request, resp: falcon.Response, subnet_id: str) -> None:
        token = project_token(req, self.state, "delete_subnet")
        subnet = visible_subnet(self.state, token, subnet_id)
        if not owns(token, subnet.project_id):
            raise Forbidden(f"Only the owner of subnet {subnet.id} deletes it.")
        self.state.networks.delete_subnet(subnet.id)
        resp.status = falcon.HTTP_204


ROUTES: tuple[Route, ...] = (
    (f"{V20}/subnets", Subnets),
    (f"{V20}/subnets/{{subnet_id}}", SubnetResource),
)
