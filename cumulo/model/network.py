"""The network model of an instance: its VIFs, their networks, subnets and IPs.

``NetworkInfo`` is what network allocation produces, what the instance's info
cache stores and what drivers plug, filter and inject. Nova kept it as a list
of unversioned dicts; here every level is a versioned object.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator

from cumulo.objects import MACAddress, field, register

from .base import CumuloObject
from .hardware import VIFModel, VIFType, VnicType


@register
class FixedIP(CumuloObject):
    """An address of a VIF on a subnet, with the floating IPs that map to it.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    floating_ips: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = field(default_factory=list)


@register
class Route(CumuloObject):
    """A static route given to the guest: ``cidr`` via ``gateway``.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network
    gateway: ipaddress.IPv4Address | ipaddress.IPv6Address


@register
class Subnet(CumuloObject):
    """An IP subnet of a network and the addresses a VIF holds on it.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network
    gateway: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    ips: list[FixedIP] = field(default_factory=list)
    dns: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    dhcp_server: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None

    @property
    def version(self) -> int:
        """4 or 6, from ``cidr``."""
        return self.cidr.version


@register
class Network(CumuloObject):
    """The network a VIF is on: its id, host bridge, label, subnets and MTU.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: uuid.UUID
    label: str = ""
    bridge: str | None = None
    """The host bridge VIFs of this network plug into (bridge/OVS VIF types)."""
    subnets: list[Subnet] = field(default_factory=list)
    mtu: int | None = None
    project_id: str | None = None


@register
class VIF(CumuloObject):
    """A virtual interface of an instance: a port on a network, with its MAC and
    how the host plugs it.

    ``details`` and ``profile`` are the port binding's string attributes (for
    example ``port_filter``, ``ovs_hybrid_plug``); typed fields hold everything
    Cumulo itself reads.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: uuid.UUID
    address: MACAddress
    network: Network | None = None
    type: VIFType = VIFType.BRIDGE
    devname: str | None = None
    """The host-side device name (``tap1a2b3c4d-5e``)."""
    vnic_type: VnicType = VnicType.NORMAL
    model: VIFModel | None = None
    """The NIC model the guest sees (``None``: the driver's default)."""
    details: dict[str, str] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)
    active: bool = False
    preserve_on_delete: bool = False

    def fixed_ips(self) -> list[FixedIP]:
        """Every fixed IP of the VIF, over all subnets."""
        if self.network is None:
            return []
        return [ip for subnet in self.network.subnets for ip in subnet.ips]


@register
class NetworkInfo(CumuloObject):
    """Every VIF of an instance, in guest NIC order.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[VIF] = field(default_factory=list)

    def __iter__(self) -> Iterator[VIF]:
        return iter(self.objects)

    def fixed_ips(self) -> list[FixedIP]:
        """Every fixed IP of every VIF."""
        return [ip for vif in self.objects for ip in vif.fixed_ips()]

    def vif(self, vif_id: uuid.UUID) -> VIF | None:
        """The VIF with id ``vif_id``, if present."""
        for vif in self.objects:
            if vif.id == vif_id:
                return vif
        return None
