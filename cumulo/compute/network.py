"""``NetworkAllocator``: the compute host's own network allocation (there is no
separate network service): one VIF per instance on a flat network, with a
per-host bridge, a deterministic address from the configured subnet, a MAC the
driver's constraint allows (or one derived from the instance), and the driver's
DHCP options carried in the VIF.

Allocation is a pure function of the instance (its database ``id`` picks the
address and the default MAC), so every host of a deployment allocates without
talking to the others and without two instances ever sharing an address; the
result lives in the instance's info cache.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Final

from cumulo.model import (
    VIF,
    DhcpOption,
    DhcpOptionList,
    FixedIP,
    Instance,
    MacConstraint,
    Network,
    NetworkInfo,
    Subnet,
    VIFType,
)
from cumulo.objects import MACAddress

from .exceptions import NetworkAllocationFailed

__all__ = ["DEFAULT_SUBNET", "NETWORK_ID", "NetworkAllocator", "dhcp_options_of"]

DEFAULT_SUBNET: Final = "10.1.0.0/16"
NETWORK_ID: Final = uuid.UUID("6f0b1a4e-3c2d-5e7f-8a9b-0c1d2e3f4a5b")
"""The id of the one flat network every host allocates on."""
MAC_PREFIX: Final = "fa:16:3e"
DHCP_DETAIL_PREFIX: Final = "dhcp_opt"
"""VIF ``details`` keys ``dhcp_opt:<ip version>:<option name>`` hold DHCP options."""
HOST_DETAIL: Final = "bound_host"
"""The VIF ``details`` key naming the host the port is bound to."""


def _address_of(
    subnet: ipaddress.IPv4Network | ipaddress.IPv6Network, offset: int
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return subnet.network_address + offset


class NetworkAllocator:
    """Allocates the network of instances built on ``host``.

    Args:
        host: the compute host (its bridge is ``bridge_template`` with ``{host}``).
        subnet: the network's subnet; ``.1`` is the gateway and DHCP server, and
            instance ``id`` *n* gets the address ``n + 1`` further on.
        dns: name servers given to guests.
        mtu: the network's MTU.
        bridge_template: the host bridge VIFs plug into.
    """

    def __init__(
        self,
        host: str,
        *,
        subnet: str = DEFAULT_SUBNET,
        dns: tuple[str, ...] = ("10.1.0.1",),
        mtu: int = 1500,
        bridge_template: str = "br-{host}",
    ) -> None:
        self.host = host
        self.subnet = ipaddress.ip_network(subnet)
        if self.subnet.num_addresses < 4:
            raise ValueError(f"subnet: {subnet} leaves no address for instances")
        self.dns = tuple(ipaddress.ip_address(a) for a in dns)
        self.mtu = mtu
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
        """The instance's network: one VIF bound to this host.

        Args:
            instance: a stored instance (its ``id`` picks the address).
            macs: the MACs the driver allows (``macs_for_instance``); ``None``: any.
            dhcp_options: the extra DHCP options its port must serve.

        Raises:
            NetworkAllocationFailed: the subnet is exhausted, or the driver allows no MAC.
        """
        uuid_ = str(instance.uuid)
        offset = instance.id + 1
        last_usable = self.subnet.num_addresses - 2  # the broadcast address is not given out
        if offset > last_usable:
            raise NetworkAllocationFailed(
                uuid_, self.host, f"subnet {self.subnet} has no address for instance {instance.id}"
            )
        if macs is None:
            n = instance.id & 0xFFFFFF
            mac = f"{MAC_PREFIX}:{n >> 16 & 0xFF:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"
        elif macs.allowed:
            mac = min(macs.allowed)
        else:
            raise NetworkAllocationFailed(uuid_, self.host, "the host's driver allows no MAC")
        gateway = self.subnet.network_address + 1
        vif_id = uuid.uuid5(instance.uuid, "vif-0")
        details = {HOST_DETAIL: self.host, "port_filter": "true"}
        for option in dhcp_options.objects:
            details[f"{DHCP_DETAIL_PREFIX}:{option.ip_version}:{option.opt_name}"] = (
                option.opt_value
            )
        network = Network(
            id=NETWORK_ID,
            label="private",
            bridge=self.bridge_for(self.host),
            mtu=self.mtu,
            project_id=instance.project_id,
            subnets=[
                Subnet(
                    cidr=self.subnet,
                    gateway=gateway,
                    dhcp_server=gateway,
                    dns=list(self.dns),
                    ips=[FixedIP(address=_address_of(self.subnet, offset))],
                )
            ],
        )
        vif = VIF(
            id=vif_id,
            address=MACAddress(mac),
            network=network,
            type=VIFType.BRIDGE,
            devname=f"tap{vif_id.hex[:11]}",
            details=details,
            active=True,
        )
        return NetworkInfo(objects=[vif])

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
    """The DHCP options :meth:`NetworkAllocator.allocate_for_instance` stored in a VIF."""
    options = []
    for key, value in sorted(vif.details.items()):
        prefix, _, rest = key.partition(":")
        version, _, name = rest.partition(":")
        if prefix == DHCP_DETAIL_PREFIX and version in ("4", "6") and name:
            options.append(
                DhcpOption(opt_name=name, opt_value=value, ip_version=4 if version == "4" else 6)
            )
    return options
