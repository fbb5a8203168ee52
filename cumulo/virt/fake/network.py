"""VIFs on the fake host: plugging and unplugging them, the MACs and DHCP options
network allocation must use, and the guest's view of its network."""

from __future__ import annotations

from cumulo.model import DhcpOptionList, Instance, MacConstraint, NetworkInfo, PowerState

from .base import FakeBase, failure_point, require_state
from .guest import DHCP_EXCHANGE_BYTES, RUNS_HERE, GuestPhase


class FakeNetworking(FakeBase):
    """Plug and unplug VIFs, shape allocation (MACs, DHCP options), inject and reset."""

    @failure_point
    def plug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.plug_vifs`."""
        guest = self._guest_in(instance.uuid, (*RUNS_HERE, GuestPhase.INCOMING))
        self._check_pluggable(guest.uuid, network_info)
        self._plug(guest.uuid, network_info)
        guest.network_info = network_info.obj_clone()

    @failure_point
    def unplug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.unplug_vifs`."""
        self._unplug(instance.uuid, [vif.id for vif in network_info])

    @failure_point
    def macs_for_instance(self, instance: Instance) -> MacConstraint | None:
        """See :meth:`ComputeDriver.macs_for_instance`: the host's MAC pool minus the
        MACs other guests' VIFs hold (``None`` without a pool)."""
        if self._mac_pool is None:
            return None
        taken = {vif.address for owner, vif in self._vifs.values() if owner != instance.uuid}
        return MacConstraint(allowed=set(self._mac_pool - taken))

    @failure_point
    def dhcp_options_for_instance(self, instance: Instance) -> DhcpOptionList:
        """See :meth:`ComputeDriver.dhcp_options_for_instance`: the host's options."""
        return DhcpOptionList(objects=[o.obj_clone() for o in self._dhcp_options])

    @failure_point
    def inject_network_info(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.inject_network_info`."""
        guest = self._runs_here(instance.uuid, "inject network info into")
        guest.network_info = network_info.obj_clone()
        guest.network_injections += 1
        # The guest's network config is part of its config data.
        guest.config_write_bytes += len(network_info.obj_to_json())
        guest.config_write_requests += 1

    @failure_point
    def reset_network(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.reset_network`."""
        guest = self._runs_here(instance.uuid, "reset the network of")
        require_state(guest, "reset the network of", (PowerState.RUNNING,))
        self._check_pluggable(guest.uuid, guest.network_info)
        self._plug(guest.uuid, guest.network_info)
        guest.network_resets += 1
        for vif in guest.network_info:
            extra = guest.nic_extra.setdefault(vif.id, [0, 0, 0, 0])
            half = DHCP_EXCHANGE_BYTES // 2
            extra[0] += half
            extra[1] += 2
            extra[2] += half
            extra[3] += 2
