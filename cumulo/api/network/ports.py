"""``/network/v2.0/ports``: the project's ports (every port for admins), filtered by
``device_id`` (a server's ports, as ``openstack port list --server`` asks) or
``network_id``; one port; creating a port (with ``fixed_ips`` asked or an address
from each IP version's pools; an exhausted pool is a 409
``IpAddressGenerationFailure``) to boot a server with; deleting one."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

import falcon

from cumulo.db.ipam import FixedIpRequest
from cumulo.identity import Token
from cumulo.model.exceptions import InvalidNetworkRequest, PortNotFound
from cumulo.network import PortRecord

from ..errors import Forbidden
from ..media import read_json
from ..state import ApiState
from .common import (
    V20,
    Route,
    filtered,
    is_admin,
    only_fields,
    owns,
    parse_id,
    project_of,
    project_token,
    timestamp,
)
from .networks import visible_network
from .schemas import CREATE_PORT


def render(port: PortRecord, token: Token) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(port.id),
        "name": port.name,
        "tenant_id": port.project_id,
        "project_id": port.project_id,
        "network_id": str(port.network_id),
        "mac_address": port.mac_address,
        "admin_state_up": True,
        "status": port.status,
        "device_id": port.device_id,
        "device_owner": port.device_owner,
        "fixed_ips": [
            {"subnet_id": str(subnet), "ip_address": str(address)}
            for subnet, address in port.fixed_ips
        ],
        "allowed_address_pairs": [],
        "extra_dhcp_opts": [],
        "security_groups": [],
        "port_security_enabled": True,
        "binding:vnic_type": "normal",
        "description": "",
        "tags": [],
        "revision_number": 0,
        "created_at": timestamp(port.created_at),
        "updated_at": timestamp(port.updated_at or port.created_at),
    }
    if is_admin(token):  # where a port is bound is the operator's business
        body["binding:host_id"] = port.binding_host or ""
        body["binding:vif_type"] = "bridge" if port.binding_host else "unbound"
    return body


FILTERS = (
    "id",
    "name",
    "tenant_id",
    "project_id",
    "network_id",
    "mac_address",
    "status",
    "device_id",
    "device_owner",
    "admin_state_up",
    "description",
    "binding:host_id",
)


def visible_port(state: ApiState, token: Token, port_id: str) -> PortRecord:
    port = state.networks.port(parse_id(port_id, "port"))
    if not owns(token, port.project_id):
        raise PortNotFound(id=port_id)
    return port


def _fixed_ips(values: list[dict[str, Any]]) -> list[FixedIpRequest]:
    asked: list[FixedIpRequest] = []
    for index, entry in enumerate(values):
        subnet = uuid.UUID(entry["subnet_id"]) if "subnet_id" in entry else None
        address = None
        if "ip_address" in entry:
            try:
                address = ipaddress.ip_address(entry["ip_address"])
            except ValueError:
                raise InvalidNetworkRequest(
                    f"Invalid input for fixed_ips[{index}].ip_address: "
                    f"'{entry['ip_address']}' is not a valid IP address."
                ) from None
        asked.append((subnet, address))
    return asked


class Ports:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state, "get_port")
        device_ids = req.get_param_as_list("device_id")
        network_id = req.get_param("network_id")
        ports = self.state.networks.ports(
            device_ids=device_ids,
            network_id=_maybe_uuid(network_id),
            project_id=None if is_admin(token) else project_of(token),
        )
        if network_id is not None and _maybe_uuid(network_id) is None:
            ports = []  # not an id: names no network
        rendered = [render(p, token) for p in ports]
        resp.media = {"ports": filtered(req, rendered, FILTERS)}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state, "create_port")
        values: dict[str, Any] = read_json(req, CREATE_PORT)["port"]
        network = visible_network(self.state, token, values["network_id"])
        project = values.get("project_id") or values.get("tenant_id") or project_of(token)
        if project != project_of(token) and not is_admin(token):
            raise Forbidden("Only admins create ports of another project.")
        fixed_ips = _fixed_ips(values["fixed_ips"]) if "fixed_ips" in values else None
        port = self.state.networks.create_port(
            network.id,
            project,
            name=values.get("name", ""),
            mac_address=values["mac_address"].lower() if "mac_address" in values else None,
            fixed_ips=fixed_ips,
            device_id=values.get("device_id", ""),
            device_owner=values.get("device_owner", ""),
        )
        resp.status = falcon.HTTP_201
        resp.media = {"port": render(port, token)}


def _maybe_uuid(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class PortResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, port_id: str) -> None:
        token = project_token(req, self.state, "get_port")
        port = visible_port(self.state, token, port_id)
        resp.media = {"port": only_fields(req, render(port, token))}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, port_id: str) -> None:
        token = project_token(req, self.state, "delete_port")
        port = visible_port(self.state, token, port_id)
        self.state.networks.delete_port(port.id)
        resp.status = falcon.HTTP_204


ROUTES: tuple[Route, ...] = (
    (f"{V20}/ports", Ports),
    (f"{V20}/ports/{{port_id}}", PortResource),
)
