"""Security-group filters of the fake host's guests, and whether one flow passes
(:mod:`cumulo.virt.firewall` has the semantics)."""

from __future__ import annotations

import ipaddress
from uuid import UUID

from cumulo.model import Direction, Instance, NetworkInfo, Protocol, SecurityGroupList

from .. import common, firewall
from ..config import IPAddress
from ..exceptions import InstanceNotFiltered
from .base import FakeBase, failure_point
from .guest import RUNS_HERE, Filter, GuestPhase


class FakeFirewall(FakeBase):
    """Set up, refresh and remove guests' filters; answer whether traffic passes."""

    @failure_point
    def ensure_filtering_rules_for_instance(
        self, instance: Instance, network_info: NetworkInfo, security_groups: SecurityGroupList
    ) -> None:
        """See :meth:`ComputeDriver.ensure_filtering_rules_for_instance`."""
        guest = self._guest_in(instance.uuid, (*RUNS_HERE, GuestPhase.INCOMING))
        rules, group_ids = common.flatten_security_groups(security_groups)
        self._filters[guest.uuid] = Filter(rules, group_ids, network_info.obj_clone())

    @failure_point
    def refresh_instance_security_rules(
        self, instance: Instance, security_groups: SecurityGroupList
    ) -> None:
        """See :meth:`ComputeDriver.refresh_instance_security_rules`."""
        guest = self._guest_in(instance.uuid, (*RUNS_HERE, GuestPhase.INCOMING))
        filt = self._filters.get(guest.uuid)
        if filt is None:
            raise InstanceNotFiltered(str(guest.uuid), self.host)
        filt.rules, filt.group_ids = common.flatten_security_groups(security_groups)

    @failure_point
    def unfilter_instance(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.unfilter_instance`."""
        self._filters.pop(instance.uuid, None)

    def firewall_allows(
        self,
        instance_uuid: UUID,
        *,
        protocol: Protocol,
        port: int | None,
        remote_ip: IPAddress | str,
        direction: Direction = Direction.INGRESS,
    ) -> bool:
        """Whether the guest's filter lets one flow through (unfiltered: everything
        passes). Remote-group rules match peers in that group on any host of the
        network. See :mod:`cumulo.virt.firewall` for the semantics.
        """
        address = ipaddress.ip_address(remote_ip)
        groups = self._network.group_addresses() if self._network else self.group_addresses()
        peer_groups = {gid for gid, addresses in groups.items() if address in addresses}
        with self._lock:
            filt = self._filters.get(instance_uuid)
            if filt is None:
                return True
            rules = list(filt.rules)
        return firewall.traffic_allowed(
            rules,
            protocol=protocol,
            port=port,
            remote_ip=address,
            direction=direction,
            remote_group_ids=peer_groups,
        )

    def group_addresses(self) -> dict[int, set[IPAddress]]:
        """Security group id → fixed IPs of this host's filtered guests in the group."""
        with self._lock:
            result: dict[int, set[IPAddress]] = {}
            for filt in self._filters.values():
                addresses = {ip.address for ip in filt.network_info.fixed_ips()}
                for group_id in filt.group_ids:
                    result.setdefault(group_id, set()).update(addresses)
            return result
