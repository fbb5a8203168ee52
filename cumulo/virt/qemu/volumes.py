"""Volumes on the QEMU host: hot-plugged as ``scsi-hd`` on the virtio-scsi controller and
unplugged again, the host's connector, and the device names on that controller."""

from __future__ import annotations

from typing import Any

from cumulo.model import (
    Architecture,
    BlockDeviceMapping,
    Context,
    DeviceType,
    DiskBus,
    Instance,
    OsType,
    PowerState,
    VolumeConnectionInfo,
    VolumeConnector,
)

from .. import device_names
from ..exceptions import InvalidPowerState, VolumeNotAttached
from .base import QemuBase
from .guest import Guest, Volume, poll
from .monitor import MonitorError, MonitorSession


class QemuVolumes(QemuBase):
    """Hot-plug and unplug volumes, describe the host's connector, name disks."""

    def attach_volume(
        self,
        context: Context,
        connection_info: VolumeConnectionInfo,
        instance: Instance,
        mountpoint: str,
        disk_bus: DiskBus | None = None,
        device_type: DeviceType | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.attach_volume`: ``blockdev-add`` of the volume's
        file (read-only when ``connection_info.access_mode`` is ``ro``) and
        ``device_add`` of a ``scsi-hd`` on the virtio-scsi controller (a guest that
        is off gets it at its next start).

        Raises:
            DiskBusNotSupported: ``disk_bus`` is NVMe (or ``mountpoint`` an NVMe
                name): this driver puts volumes on virtio-scsi, and an NVMe
                controller is a PCI device that a guest without ACPI hot-plug
                support never lets go of on detach.
        """
        with self._lock:
            guest = self._active(instance.uuid, "attach a volume to")
            self._check_bus(guest, disk_bus, mountpoint)
            state = self._power_state(guest)
            if state is PowerState.SUSPENDED:
                raise InvalidPowerState(
                    str(guest.uuid),
                    "attach a volume to",
                    state.name,
                    ["RUNNING", "PAUSED", "SHUTDOWN"],
                )
            mount = device_names.normalize(mountpoint)
            self._check_connectable(guest, connection_info, mount)
            volume = self._make_volume(connection_info, mount, disk_bus, device_type)
            if guest.alive():
                self._hotplug(guest, volume)
            connection_info.device_path = volume.connection_info.path
            volume.connection_info.device_path = connection_info.device_path
            guest.volumes[volume.volume_id] = volume

    def detach_volume(
        self,
        context: Context,
        connection_info: VolumeConnectionInfo,
        instance: Instance,
        mountpoint: str,
    ) -> None:
        """See :meth:`ComputeDriver.detach_volume`: ``device_del``, wait for the
        device to go, ``blockdev-del``."""
        with self._lock:
            guest = self._active(instance.uuid, "detach a volume from")
            mount = device_names.normalize(mountpoint)
            volume = guest.volumes.get(connection_info.volume_id)
            if volume is None or volume.mountpoint != mount:
                raise VolumeNotAttached(str(connection_info.volume_id), str(guest.uuid), mount)
            if self._power_state(guest) is PowerState.SUSPENDED:
                raise InvalidPowerState(
                    str(guest.uuid),
                    "detach a volume from",
                    "SUSPENDED",
                    ["RUNNING", "PAUSED", "SHUTDOWN"],
                )
            if guest.alive():
                self._unhotplug(guest, volume)
            del guest.volumes[volume.volume_id]

    def get_volume_connector(self, instance: Instance) -> VolumeConnector:
        """See :meth:`ComputeDriver.get_volume_connector`."""
        return VolumeConnector(
            host=self.host,
            ip=self._host_ip,
            initiator=f"iqn.2010-10.org.cumulo:{self.host}",
            platform=Architecture.X86_64,
            os_type=OsType.LINUX,
        )

    def default_device_names_for_instance(
        self,
        instance: Instance,
        root_device_name: str,
        *block_device_lists: list[BlockDeviceMapping],
    ) -> None:
        """See :meth:`ComputeDriver.default_device_names_for_instance`. Volumes sit on
        the virtio-scsi controller (hot-pluggable without guest help), so a volume
        with no bus named is ``/dev/sdX``; ``/dev/sda`` is taken by the config drive
        (LUN 0); local disks default to virtio. A mapping on the NVMe bus is named
        ``/dev/nvmeXn1`` all the same, and refused when attached (see
        :meth:`attach_volume`)."""
        used = {device_names.normalize(root_device_name), "/dev/sda"}
        for bdms in block_device_lists:
            used.update(device_names.normalize(b.device_name) for b in bdms if b.device_name)
        for bdms in block_device_lists:
            for bdm in bdms:
                if bdm.device_name:
                    continue
                if bdm.disk_bus is None and bdm.is_volume:
                    bdm.disk_bus = DiskBus.SCSI
                name = device_names.next_device_name(
                    device_names.prefix_for_bus(bdm.disk_bus), used
                )
                bdm.device_name = name
                used.add(name)

    def _hotplug(self, guest: Guest, volume: Volume) -> None:
        assert guest.monitor is not None
        read_only = str(volume.connection_info.access_mode) == "ro"
        with guest.monitor.session() as qmp:
            qmp.cmd(
                "blockdev-add",
                driver="raw",
                **{"node-name": volume.ident, "read-only": read_only},
                file={"driver": "file", "filename": volume.connection_info.path},
            )
            try:
                qmp.cmd(
                    "device_add",
                    driver="scsi-hd",
                    id=volume.ident,
                    bus="scsi0.0",
                    drive=volume.ident,
                    channel=0,
                    **{"scsi-id": 0},
                    lun=volume.lun,
                    serial=volume.connection_info.serial[:36],
                )
            except MonitorError:
                qmp.cmd("blockdev-del", **{"node-name": volume.ident})
                raise

    def _unhotplug(self, guest: Guest, volume: Volume) -> None:
        assert guest.monitor is not None
        with guest.monitor.session() as qmp:
            qmp.cmd("device_del", id=volume.ident)

            def gone(s: MonitorSession) -> bool | None:
                present = any(
                    str(b.get("qdev", "")).endswith(volume.ident) for b in s.cmd("query-block")
                )
                return None if present else True

            poll(qmp, gone, 30, f"device {volume.ident} to go")
            for node in (volume.ident, f"{volume.ident}-file"):
                nodes = {n["node-name"] for n in s_nodes(qmp)}
                if node in nodes:
                    qmp.cmd("blockdev-del", **{"node-name": node})


def s_nodes(qmp: MonitorSession) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = qmp.cmd("query-named-block-nodes")
    return nodes
