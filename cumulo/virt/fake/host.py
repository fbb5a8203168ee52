"""The host itself: start-up, the guests it runs, its capacity and address, and the
read-only views of everything it holds (``describe_guest``, ``describe_host``)."""

from __future__ import annotations

from typing import Final
from uuid import UUID

from cumulo.model import AvailableResource, CpuInfo, CpuTopology, Instance

from .. import common
from ..config import IPAddress
from ..exceptions import InstanceNotFound
from .base import FakeBase, failure_point
from .guest import RUNS_HERE, AttachedVolume, Connection, Guest, GuestView, HostView


class FakeHost(FakeBase):
    """Start-up, inventory and capacity of the fake host, and its read-only views."""

    HYPERVISOR_VERSION: Final = 1_000_000

    @failure_point
    def init_host(self, host: str) -> None:
        """See :meth:`ComputeDriver.init_host`; ``host`` must be the driver's own.

        Args:
            host: the compute host's name.

        Returns:
            None.
        """
        if host != self.host:
            raise ValueError(f"init_host: this driver serves {self.host!r}, not {host!r}")

    @failure_point
    def shutdown(self) -> None:
        """See :meth:`ComputeDriver.shutdown`: nothing to let go of (the guests are
        books in memory); a failure point like every driver method.

        Returns:
            None.
        """

    @failure_point
    def list_instances(self) -> list[str]:
        """See :meth:`ComputeDriver.list_instances`."""
        return [g.name for g in self._guests.values() if g.phase in RUNS_HERE]

    @failure_point
    def list_instance_uuids(self) -> list[UUID]:
        """See :meth:`ComputeDriver.list_instance_uuids`."""
        return [g.uuid for g in self._guests.values() if g.phase in RUNS_HERE]

    @failure_point
    def instance_exists(self, instance: Instance) -> bool:
        """See :meth:`ComputeDriver.instance_exists`."""
        guest = self._guests.get(instance.uuid)
        return guest is not None and guest.phase in RUNS_HERE

    @failure_point
    def get_available_resource(self) -> AvailableResource:
        """See :meth:`ComputeDriver.get_available_resource`."""
        used = self._used()
        cap = self._capacity
        return common.available_resource(
            self.host,
            cap,
            used,
            hypervisor_type="fake",
            hypervisor_version=self.HYPERVISOR_VERSION,
            cpu_info=self._cpu_info(),
            host_ip=self._host_ip,
            arch=self._cpu_arch,
            supported_hypervisor_type="fake",
        )

    @failure_point
    def get_host_ip_addr(self) -> IPAddress:
        """See :meth:`ComputeDriver.get_host_ip_addr`."""
        return self._host_ip

    def _cpu_info(self) -> CpuInfo:
        return CpuInfo(
            arch=self._cpu_arch,
            model=self._cpu_model,
            vendor="Cumulo",
            topology=CpuTopology(sockets=1, cores=max(1, self._capacity.vcpus), threads=1),
            features=list(self._cpu_features),
        )

    def describe_guest(self, instance_uuid: UUID | str) -> GuestView:
        """A copy of what the fake holds for one guest, in any phase.

        Raises:
            InstanceNotFound: the host has no record of the guest.
        """
        key = instance_uuid if isinstance(instance_uuid, UUID) else UUID(instance_uuid)
        with self._lock:
            guest = self._guests.get(key)
            if guest is None:
                raise InstanceNotFound(instance_uuid=str(key), host=self.host)
            return self._view(guest)

    def describe_host(self) -> HostView:
        """A copy of everything the fake holds on its host."""
        with self._lock:
            used = self._used()
            return HostView(
                host=self.host,
                guests=tuple(self._view(g) for g in self._guests.values()),
                plugged_vifs=tuple(sorted((vid, inst) for vid, (inst, _) in self._vifs.items())),
                volume_connections=tuple(
                    self._attached(inst, vol, conn)
                    for (inst, vol), conn in sorted(self._connections.items())
                ),
                filtered_instances=tuple(sorted(self._filters)),
                instance_dirs=tuple(self._storage.dirs.sorted()),
                probes=tuple(self._storage.probes.sorted()),
                vcpus_used=used.vcpus,
                memory_mb_used=used.memory_mb,
                disk_gb_used=used.disk_gb,
            )

    def _attached(self, instance_uuid: UUID, volume_id: UUID, conn: Connection) -> AttachedVolume:
        return AttachedVolume(
            instance_uuid=instance_uuid,
            volume_id=volume_id,
            mountpoint=conn.mountpoint,
            connection_info=conn.connection_info.obj_clone(),
            disk_bus=conn.disk_bus,
            device_type=conn.device_type,
            read_only=conn.read_only,
        )

    def _view(self, guest: Guest) -> GuestView:
        uuid_ = guest.uuid
        filt = self._filters.get(uuid_)
        return GuestView(
            uuid=uuid_,
            name=guest.name,
            host=self.host,
            phase=guest.phase,
            power_state=guest.power_state,
            internal_id=guest.internal_id,
            vcpus=guest.claim.vcpus,
            memory_mb=guest.claim.memory_mb,
            disk_gb=guest.claim.disk_gb,
            volume_backed=guest.volume_backed,
            has_instance_dir=uuid_ in self._storage.dirs,
            volumes=tuple(
                self._attached(inst, vol, conn)
                for (inst, vol), conn in sorted(self._connections.items())
                if inst == uuid_
            ),
            vifs=tuple(vif.obj_clone() for inst, vif in self._vifs.values() if inst == uuid_),
            network_info=guest.network_info.obj_clone(),
            filtered=filt is not None,
            firewall_rules=tuple(r.obj_clone() for r in filt.rules) if filt else (),
            security_group_ids=tuple(filt.group_ids) if filt else (),
            injected_files=tuple(f.obj_clone() for _, f in sorted(guest.files.items())),
            admin_password_set=guest.admin_password_set,
            boot_count=guest.boot_count,
            network_injections=guest.network_injections,
            network_resets=guest.network_resets,
            image_id=guest.image_id,
            image_checksum=guest.image_checksum,
            image_os_hash_value=guest.image_os_hash_value,
        )
