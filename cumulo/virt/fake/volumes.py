"""Volumes on the fake host: attaching and detaching them, the host's connector, and
the device names (the interface's defaults, as failure points)."""

from __future__ import annotations

from cumulo.model import (
    BlockDeviceMapping,
    Context,
    DeviceType,
    DiskBus,
    ImageMeta,
    Instance,
    OsType,
    PowerState,
    VolumeConnectionInfo,
    VolumeConnector,
)

from .. import device_names
from ..exceptions import VolumeNotAttached
from .base import FakeBase, failure_point, forbid_state


class FakeVolumes(FakeBase):
    """Attach and detach volumes, describe the host's connector, name disks."""

    @failure_point
    def attach_volume(
        self,
        context: Context,
        connection_info: VolumeConnectionInfo,
        instance: Instance,
        mountpoint: str,
        disk_bus: DiskBus | None = None,
        device_type: DeviceType | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.attach_volume`."""
        guest = self._runs_here(instance.uuid, "attach a volume to")
        forbid_state(guest, "attach a volume to", (PowerState.SUSPENDED,))
        mount = device_names.normalize(mountpoint)
        self._check_connectable(guest.uuid, connection_info, mount)
        conn = self._connect(guest.uuid, guest, connection_info, mount, None, disk_bus, device_type)
        access = " read-only" if conn.read_only else ""
        bus = f" on bus {conn.disk_bus}" if conn.disk_bus else ""
        guest.write_console(
            f"volume {connection_info.volume_id} attached{access} as {conn.mountpoint}{bus}"
        )

    @failure_point
    def detach_volume(
        self,
        context: Context,
        connection_info: VolumeConnectionInfo,
        instance: Instance,
        mountpoint: str,
    ) -> None:
        """See :meth:`ComputeDriver.detach_volume`."""
        guest = self._runs_here(instance.uuid, "detach a volume from")
        forbid_state(guest, "detach a volume from", (PowerState.SUSPENDED,))
        mount = device_names.normalize(mountpoint)
        key = (guest.uuid, connection_info.volume_id)
        conn = self._connections.get(key)
        if conn is None or conn.mountpoint != mount:
            raise VolumeNotAttached(str(connection_info.volume_id), str(guest.uuid), mount)
        del self._connections[key]
        guest.write_console(f"volume {connection_info.volume_id} detached from {mount}")

    @failure_point
    def get_volume_connector(self, instance: Instance) -> VolumeConnector:
        """See :meth:`ComputeDriver.get_volume_connector`."""
        return VolumeConnector(
            host=self.host,
            ip=self._host_ip,
            initiator=f"iqn.2010-10.org.cumulo:{self.host}",
            platform=self._cpu_arch,
            os_type=OsType.LINUX,
        )

    @failure_point
    def default_root_device_name(
        self, instance: Instance, image_meta: ImageMeta, root_bdm: BlockDeviceMapping
    ) -> str:
        """See :meth:`ComputeDriver.default_root_device_name`."""
        return super().default_root_device_name(instance, image_meta, root_bdm)

    @failure_point
    def default_device_names_for_instance(
        self,
        instance: Instance,
        root_device_name: str,
        *block_device_lists: list[BlockDeviceMapping],
    ) -> None:
        """See :meth:`ComputeDriver.default_device_names_for_instance`."""
        super().default_device_names_for_instance(instance, root_device_name, *block_device_lists)
