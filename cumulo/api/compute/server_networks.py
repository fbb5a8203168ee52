"""The ``networks`` of ``POST /servers``: ``auto`` (or nothing, or ``[]``) is one NIC
on the default network, ``none`` no NIC, and a list names networks (by id, or the
default network by its name ``private``) and ports made beforehand, each checked
against what the project may use. The answer is what the host's allocation reads
(system metadata ``requested_networks``, ``network_allocation``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from cumulo.model import DEFAULT_NETWORK_ID, NetworkRequest, NetworkRequestList
from cumulo.model.exceptions import NetworkNotFound, PortNotFound

from ..errors import BadRequest, Conflict
from ..state import ApiState

DEFAULT_NETWORK_NAME = "private"
"""The name the default network is also known by in ``networks[].uuid``."""


@dataclass(frozen=True)
class RequestedNetworks:
    with_network: bool
    """``False`` for ``networks: none``."""
    requested: NetworkRequestList | None
    """The NICs named, in order; ``None``: the default network."""


def requested_networks(
    state: ApiState, project_id: str, values: dict[str, Any], count: int
) -> RequestedNetworks:
    """The NICs a create asks for, checked.

    Raises:
        BadRequest: a network the project may not use, a port not its own, an
            unsupported ``fixed_ip``, one port for several servers.
        Conflict: a port bound to another server already.
    """
    networks = values.get("networks", "auto")
    if networks == "none":
        return RequestedNetworks(False, None)
    if networks in ("auto", []):
        return RequestedNetworks(True, None)
    requests = []
    for index, entry in enumerate(networks):
        if entry.get("fixed_ip"):
            raise BadRequest(
                f"networks[{index}].fixed_ip is not supported: create a port with that "
                "address (POST /network/v2.0/ports with fixed_ips) and boot with the port."
            )
        if entry.get("port"):
            requests.append(NetworkRequest(port_id=_port(state, project_id, entry["port"], count)))
        elif entry.get("uuid"):
            requests.append(NetworkRequest(network_id=_network(state, project_id, entry["uuid"])))
        else:
            raise BadRequest(f"networks[{index}]: name a network (uuid) or a port.")
    return RequestedNetworks(True, NetworkRequestList(objects=requests))


def _network(state: ApiState, project_id: str, ident: str) -> uuid.UUID:
    if ident == DEFAULT_NETWORK_NAME:
        return DEFAULT_NETWORK_ID
    try:
        network = state.networks.network(uuid.UUID(ident))
    except (ValueError, NetworkNotFound):
        network = None
    if network is None or not (network.shared or network.project_id == project_id):
        raise BadRequest(f"Network {ident} could not be found.")
    return network.id


def _port(state: ApiState, project_id: str, ident: str, count: int) -> uuid.UUID:
    if count > 1:
        raise BadRequest(
            "Unable to launch multiple instances with a single configured port ID. "
            "Please launch your instance one by one with different ports."
        )
    try:
        port = state.networks.port(uuid.UUID(ident))
    except (ValueError, PortNotFound):
        port = None
    if port is None or port.project_id != project_id:
        raise BadRequest(f"Port {ident} could not be found.")
    if port.device_id:
        raise Conflict(f"Port {ident} is still in use.")
    return port.id
