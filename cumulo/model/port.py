"""Fleet-wide network allocation as the compute hosts ask for it: the NICs a server
create asked for (:class:`NetworkRequest`), and :class:`PortAllocation`, whose
remotable classmethods bind an instance's ports and addresses in the database
(run by the conductor) and release them again.

Addresses are unique per network because the database says so (a unique key on
network and address), not because hosts agree: any number of hosts may allocate
at once.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from cumulo.objects import field, register, remotable_classmethod

from .base import CumuloObject, as_uuid
from .network import NetworkInfo
from .network_hints import DhcpOptionList, MacConstraint
from .storage import get_storage

DEFAULT_NETWORK_ID: Final = uuid.UUID("6f0b1a4e-3c2d-5e7f-8a9b-0c1d2e3f4a5b")
"""The shared network ``private`` (10.1.0.0/16) that migration 0006 creates; hosts of
releases 0.1 and 0.2 put this id in the VIFs they allocate themselves."""
COMPUTE_DEVICE_OWNER: Final = "compute:nova"
"""``device_owner`` of a port bound to an instance (what Neutron's clients look for)."""
REQUESTED_NETWORKS_KEY: Final = "requested_networks"
"""System metadata: the NICs ``POST /servers`` asked for (``network:<id>`` and
``port:<id>``, comma-separated, in NIC order); absent: the default network."""
DHCP_DETAIL_PREFIX: Final = "dhcp_opt"
"""VIF ``details`` keys ``dhcp_opt:<ip version>:<option name>`` hold DHCP options."""
HOST_DETAIL: Final = "bound_host"
"""The VIF ``details`` key naming the host the port is bound to."""


@register
class NetworkRequest(CumuloObject):
    """One NIC asked for: a port on ``network_id``, or the existing port ``port_id``.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    network_id: uuid.UUID | None = None
    port_id: uuid.UUID | None = None


@register
class NetworkRequestList(CumuloObject):
    """The NICs asked for, in guest NIC order.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[NetworkRequest] = field(default_factory=list)

    def to_metadata(self) -> str:
        """The system metadata value of :data:`REQUESTED_NETWORKS_KEY`."""
        return ",".join(
            f"port:{r.port_id}" if r.port_id is not None else f"network:{r.network_id}"
            for r in self.objects
        )

    @classmethod
    def from_metadata(cls, value: str | None) -> NetworkRequestList:
        """Parse :meth:`to_metadata`; ``None`` (nothing asked) is one NIC on the
        default network.

        Raises:
            ValueError: an entry is not ``network:<uuid>`` or ``port:<uuid>``.
        """
        if value is None:
            return cls(objects=[NetworkRequest(network_id=DEFAULT_NETWORK_ID)])
        requests = []
        for entry in filter(None, value.split(",")):
            kind, _, ident = entry.partition(":")
            if kind == "network":
                requests.append(NetworkRequest(network_id=as_uuid(ident, "network")))
            elif kind == "port":
                requests.append(NetworkRequest(port_id=as_uuid(ident, "port")))
            else:
                raise ValueError(f"{REQUESTED_NETWORKS_KEY}: unknown entry {entry!r}")
        return cls(objects=requests)


@register
class PortAllocation(CumuloObject):
    """The fleet-wide allocator, as the hosts call it (see the module docstring);
    its fields say which instance a port was allocated for, on which host.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    instance_uuid: uuid.UUID
    host: str

    @remotable_classmethod
    def allocate_for_instance(
        cls: type[PortAllocation],
        context: Any,
        instance_uuid: uuid.UUID | str,
        host: str,
        requested: NetworkRequestList,
        macs: MacConstraint | None,
        dhcp_options: DhcpOptionList,
    ) -> NetworkInfo:
        """Bind the instance's ports (creating those asked by network) to ``host``
        and return its network info: one VIF per request, in order, each with its
        addresses, the subnets' gateways and name servers, and ``dhcp_options`` in
        its details. Asking again returns the ports it holds, rebound to ``host``.

        Args:
            instance_uuid: a stored, not deleted instance (its ``id`` is the preferred
                address offset, as hosts of earlier releases chose it).
            host: the host the ports are bound to.
            requested: the NICs asked for (``NetworkRequestList.from_metadata``).
            macs: the MACs the driver allows (``None``: any).
            dhcp_options: extra DHCP options the ports serve.

        Raises:
            NetworkNotFound, PortNotFound: a request names nothing the instance's
                project may use.
            PortInUse: a port asked for is bound to another device.
            NoMoreIpAddresses: a network's pools are exhausted.
            MacAddressInUse: no MAC the driver allows is free on the network.
        """
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        info = get_storage().ports_allocate_for_instance(
            context, uuid_, host, list(requested.objects), macs
        )
        for vif in info.objects:
            details = dict(vif.details)
            details[HOST_DETAIL] = host
            details["port_filter"] = "true"
            for option in dhcp_options.objects:
                key = f"{DHCP_DETAIL_PREFIX}:{option.ip_version}:{option.opt_name}"
                details[key] = option.opt_value
            vif.details = details
            vif.obj_reset_changes(recursive=True)
        info.obj_reset_changes(recursive=True)
        return info

    @remotable_classmethod
    def release_for_instance(
        cls: type[PortAllocation], context: Any, instance_uuid: uuid.UUID | str
    ) -> None:
        """Give back the instance's addresses: ports made for it are deleted, ports a
        user made beforehand are unbound (kept for another server). Harmless when it
        holds none."""
        get_storage().ports_release_for_instance(context, as_uuid(instance_uuid, "instance_uuid"))
