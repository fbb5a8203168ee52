"""NICs of QEMU guests: taps on the VIFs' bridges (hot-added to a running guest), the MACs
and DHCP options of this host, and the network data on the config drive."""

from __future__ import annotations

import contextlib
import time

from cumulo.model import DhcpOptionList, Instance, MacConstraint, NetworkInfo, PowerState

from ..exceptions import InstanceNotFound
from .base import QemuBase
from .guest import Guest, GuestPhase, vif_ident
from .monitor import MonitorError
from .netdev import tap_name


class QemuNetworking(QemuBase):
    """Plug and unplug VIFs, shape allocation (MACs, DHCP options), inject and reset."""

    def plug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.plug_vifs`: taps on the VIFs' bridges (NICs of a
        running guest are hot-added)."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is GuestPhase.DEPARTED:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            self._check_pluggable(guest.uuid, network_info)
            self._plug(guest, network_info)
            if guest.alive() and guest.phase is GuestPhase.ACTIVE:
                self._hotplug_nics(guest, network_info)
            guest.network_info = network_info.obj_clone()

    def unplug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.unplug_vifs`."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            for vif in network_info:
                if guest is not None and guest.alive() and guest.monitor is not None:
                    ident = vif_ident(vif.id)
                    # PCIe hot-unplug needs the guest OS to agree; a guest without
                    # one keeps the NIC (unlinked from the host once the tap goes).
                    with guest.monitor.session() as qmp, contextlib.suppress(MonitorError):
                        qmp.cmd("device_del", id=f"nic-{ident}")
                        deadline = time.monotonic() + 1
                        while time.monotonic() < deadline:
                            names = {n["name"] for n in qmp.cmd("query-rx-filter")}
                            if f"nic-{ident}" not in names:
                                qmp.cmd("netdev_del", id=f"net-{ident}")
                                break
                            time.sleep(0.05)
                tap = guest.taps.pop(vif.id, None) if guest else None
                self._taps_remove(tap or tap_name(self.host, str(vif.id)))
            if guest is not None:
                guest.network_info = NetworkInfo(
                    objects=[
                        v for v in guest.network_info if v.id not in {x.id for x in network_info}
                    ]
                )
            self._apply_firewall()

    def macs_for_instance(self, instance: Instance) -> MacConstraint | None:
        """See :meth:`ComputeDriver.macs_for_instance`: the configured MAC pool
        minus the MACs other guests hold."""
        with self._lock:
            if self._mac_pool is None:
                return None
            taken = {
                vif.address
                for g in self._guests.values()
                if g.uuid != instance.uuid
                for vif in g.network_info
            }
            return MacConstraint(allowed=set(self._mac_pool - taken))

    def dhcp_options_for_instance(self, instance: Instance) -> DhcpOptionList:
        """See :meth:`ComputeDriver.dhcp_options_for_instance`: the host's options."""
        return DhcpOptionList(objects=[o.obj_clone() for o in self._dhcp_options])

    def inject_network_info(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.inject_network_info`: rewrites ``network_data.json``
        on the config drive and reattaches it."""
        with self._lock:
            guest = self._active(instance.uuid, "inject network info into")
            guest.network_info = network_info.obj_clone()
            self._refresh_config_drive(guest)

    def reset_network(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.reset_network`: re-plugs the taps, rewrites the
        config drive from the last network info and reattaches it."""
        with self._lock:
            guest = self._active(instance.uuid, "reset the network of")
            self._require(guest, "reset the network of", (PowerState.RUNNING,))
            self._plug(guest, guest.network_info)
            self._refresh_config_drive(guest)

    def _hotplug_nics(self, guest: Guest, network_info: NetworkInfo) -> None:
        assert guest.monitor is not None
        with guest.monitor.session() as qmp:
            present = {str(n.get("name", "")) for n in qmp.cmd("query-rx-filter")}
            for index, vif in enumerate(network_info):
                ident = vif_ident(vif.id)
                if f"nic-{ident}" in present:
                    continue
                tap = guest.taps.get(vif.id)
                if tap is not None:
                    qmp.cmd(
                        "netdev_add",
                        type="tap",
                        id=f"net-{ident}",
                        ifname=tap,
                        script="no",
                        downscript="no",
                    )
                else:
                    qmp.cmd("netdev_add", type="user", id=f"net-{ident}")
                qmp.cmd(
                    "device_add",
                    driver="virtio-net-pci",
                    id=f"nic-{ident}",
                    netdev=f"net-{ident}",
                    mac=str(vif.address),
                    bus=f"nicport{index}",
                )
