"""``NetworkAllocator``: the compute host's side of network allocation. Addresses are
fleet-wide, in the database: the host asks the conductor
(``PortAllocation.allocate_for_instance``) for the ports the server create asked for,
within the driver's MAC constraint and with its DHCP options, and plugs the VIFs it
gets back into this host's bridge. The result lives in the instance's info cache.

Hosts of releases 0.1 and 0.2 do not know ``PortAllocation``: they still give
instance *n* the address *n* + 1 of 10.1.0.0/16 on the default network, without a
port in the database. The fleet-wide allocator prefers that same address for every
instance, so the two agree unless a user took such an address by hand (see
``docs/network-api.md``).
"""

from __future__ import annotations

from typing import Final

from cumulo.model import (
    DEFAULT_NETWORK_ID,
    REQUESTED_NETWORKS_KEY,
    DhcpOption,
    DhcpOptionList,
    Instance,
    MacConstraint,
    NetworkInfo,
    NetworkRequestList,
    PortAllocation,
)
from cumulo.model.exceptions import ModelError
from cumulo.model.network import VIF
from cumulo.model.port import DHCP_DETAIL_PREFIX, HOST_DETAIL

from .exceptions import NetworkAllocationFailed

__all__ = [
    "DEFAULT_SUBNET",
    "DHCP_DETAIL_PREFIX",
    "HOST_DETAIL",
    "NETWORK_ID",
    "NetworkAllocator",
    "dhcp_options_of",
]

DEFAULT_SUBNET: Final = "10.1.0.0/16"
"""The subnet of the default network (migration 0006 creates it)."""
NETWORK_ID: Final = DEFAULT_NETWORK_ID
"""The id of the default shared network ``private``."""


class NetworkAllocator:
    """Allocates the network of instances built on ``host``.

    Args:
        host: the compute host (its bridge is ``bridge_template`` with ``{host}``).
        bridge_template: the host bridge VIFs plug into.
    """

    def __init__(self, host: str, *, bridge_template: str = "br-{host}") -> None:
        self.host = host
        self.bridge_template = bridge_template

    def bridge_for(self, host: str) -> str:
        """The bridge VIFs plug into on ``host``."""
        return self.bridge_template.format(host=host)

    def allocate_for_instance(
        self,
        instance: Instance,
        macs: MacConstraint | None,
        dhcp_options: DhcpOptionList,
    ) -> NetworkInfo:
        """The instance's network: a VIF per NIC its create asked for (system metadata
        ``requested_networks``; one on the default network when absent), bound to
        this host. Asking again (a retried build) gives the same VIFs.

        Args:
            instance: a stored instance.
            macs: the MACs the driver allows (``macs_for_instance``); ``None``: any.
            dhcp_options: the extra DHCP options its ports must serve.

        Raises:
            NetworkAllocationFailed: the driver allows no MAC, or the network service
                refused (a pool exhausted, a port in use, a network not found...).
        """
        uuid_ = str(instance.uuid)
        if macs is not None and not macs.allowed:
            raise NetworkAllocationFailed(uuid_, self.host, "the host's driver allows no MAC")
        try:
            requested = NetworkRequestList.from_metadata(
                instance.system_metadata.get(REQUESTED_NETWORKS_KEY)
            )
            info = PortAllocation.allocate_for_instance(
                instance.obj_context, instance.uuid, self.host, requested, macs, dhcp_options
            )
        except (ModelError, ValueError) as exc:
            raise NetworkAllocationFailed(uuid_, self.host, str(exc)) from exc
        return self.bind_to_host(info, self.host)

    def deallocate_for_instance(self, instance: Instance) -> None:
        """Give the instance's ports back (a failed build): the addresses are free for
        other instances at once."""
        PortAllocation.release_for_instance(instance.obj_context, instance.uuid)

    def bind_to_host(self, network_info: NetworkInfo, host: str) -> NetworkInfo:
        """``network_info`` with every VIF bound to ``host`` (its bridge and binding),
        as the destination of a live migration plugs it."""
        bound = network_info.obj_clone()
        for vif in bound.objects:
            details = dict(vif.details)
            details[HOST_DETAIL] = host
            vif.details = details
            if vif.network is not None:
                vif.network.bridge = self.bridge_for(host)
        return bound


def dhcp_options_of(vif: VIF) -> list[DhcpOption]:
    """The DHCP options allocation stored in a VIF's details."""
    options = []
    for key, value in sorted(vif.details.items()):
        prefix, _, rest = key.partition(":")
        version, _, name = rest.partition(":")
        if prefix == DHCP_DETAIL_PREFIX and version in ("4", "6") and name:
            options.append(
                DhcpOption(opt_name=name, opt_value=value, ip_version=4 if version == "4" else 6)
            )
    return options
