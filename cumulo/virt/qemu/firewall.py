"""Security groups of QEMU guests: each guest's filter, rendered with every other
into this host's nftables table on the guests' taps (:mod:`.nftables`)."""

from __future__ import annotations

from cumulo.model import Instance, NetworkInfo, SecurityGroupList

from .. import common
from ..exceptions import InstanceNotFiltered, InstanceNotFound
from .base import QemuBase
from .guest import Filter, GuestPhase


class QemuFirewall(QemuBase):
    """Set up, refresh and remove guests' filters."""

    def ensure_filtering_rules_for_instance(
        self, instance: Instance, network_info: NetworkInfo, security_groups: SecurityGroupList
    ) -> None:
        """See :meth:`ComputeDriver.ensure_filtering_rules_for_instance`."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is GuestPhase.DEPARTED:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            rules, groups = common.flatten_security_groups(security_groups)
            self._filters[guest.uuid] = Filter(rules, groups, network_info.obj_clone())
            self._apply_firewall()

    def refresh_instance_security_rules(
        self, instance: Instance, security_groups: SecurityGroupList
    ) -> None:
        """See :meth:`ComputeDriver.refresh_instance_security_rules`."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is GuestPhase.DEPARTED:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            filt = self._filters.get(guest.uuid)
            if filt is None:
                raise InstanceNotFiltered(str(guest.uuid), self.host)
            filt.rules, filt.group_ids = common.flatten_security_groups(security_groups)
            self._apply_firewall()

    def unfilter_instance(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.unfilter_instance`."""
        with self._lock:
            self._unfilter(instance.uuid)
