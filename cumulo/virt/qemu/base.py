"""``QemuBase``: the state the QEMU driver's capabilities share and the steps they repeat
(QEMU processes and monitors, disks and config drives, volume records, taps, nftables)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from uuid import UUID

from cumulo.model import (
    Architecture,
    CpuInfo,
    CpuTopology,
    DeviceType,
    DhcpOption,
    DiskBus,
    Instance,
    NetworkInfo,
    PowerState,
    VolumeConnectionInfo,
)
from cumulo.objects import MACAddress

from .. import common, device_names
from ..config import IPAddress
from ..driver import ComputeDriver
from ..exceptions import (
    DeviceInUse,
    DiskBusNotSupported,
    HypervisorUnavailable,
    InstanceExists,
    InstanceNotFound,
    InvalidPowerState,
    VifPlugFailed,
    VirtDriverError,
    VolumeAlreadyAttached,
)
from . import configdrive, nftables, process
from .config import Accel, FirewallMode, NetworkMode
from .guest import (
    CLOCK_TICKS,
    GIB,
    STATUS,
    Filter,
    Guest,
    GuestPhase,
    Volume,
    lun_of,
    meminfo_mb,
    safe_child,
    vif_ident,
)
from .monitor import Monitor, MonitorError
from .netdev import NetdevError, TapManager, tap_name


class ImageNotFound(VirtDriverError, LookupError):
    """The instance's image is not in the driver's image directory."""

    def __init__(self, image_ref: str | None, images_path: Path) -> None:
        super().__init__(
            f"image {image_ref!r}: no file {images_path}/<image_ref> and no default image"
        )


class QemuBase(ComputeDriver):
    """The state every capability of the QEMU driver shares, and the steps they
    repeat: capacity and claims, finding a guest, its QEMU process and monitor, its
    disks and config drive, volume records, taps and the host's firewall table.
    ``QemuDriver`` sets it up."""

    _instances: Path
    _images: Path
    _default_image: Path | None
    _run: Path
    _salt: str
    _accel_wanted: Accel
    _network_wanted: NetworkMode
    _firewall_wanted: FirewallMode
    _capacity_override: tuple[int | None, int | None, int | None]
    _host_ip: IPAddress
    _mac_pool: frozenset[MACAddress] | None
    _dhcp_options: list[DhcpOption]
    _config_drive_bytes: int
    _migration_bandwidth: int | None
    _power_off_timeout: float
    _kernel: Path | None
    _initrd: Path | None
    _qemu_name: str
    _lock: threading.RLock
    _guests: dict[UUID, Guest]
    _filters: dict[UUID, Filter]
    _taps: TapManager
    _ready: bool
    _binary: str
    accel: str
    network_mode: str
    firewall_mode: str
    firewall_stateful: bool
    unavailable: dict[str, str]
    """Capabilities this host could not enable, and why (for the operator)."""
    _qemu_version: tuple[int, int, int]
    _ruleset: str

    def _require_ready(self) -> None:
        if not self._ready:
            raise HypervisorUnavailable(self.host, "init_host was not called")

    def _capacity(self) -> tuple[int, int, int]:
        vcpus, memory_mb, disk_gb = self._capacity_override
        if vcpus is None:
            vcpus = os.cpu_count() or 1
        if memory_mb is None:
            memory_mb = meminfo_mb("MemTotal")
        if disk_gb is None:
            stat = os.statvfs(self._instances if self._instances.exists() else "/")
            disk_gb = stat.f_blocks * stat.f_frsize // GIB
        return vcpus, memory_mb, disk_gb

    def _used(self) -> tuple[int, int, int]:
        vcpus = memory = disk = 0
        for guest in self._guests.values():
            if guest.phase is not GuestPhase.DEPARTED:
                vcpus += guest.vcpus
                memory += guest.memory_mb
            disk += guest.disk_gb
        return vcpus, memory, disk

    def _check_fits(self, instance_uuid: UUID, vcpus: int, memory_mb: int, disk_gb: int) -> None:
        cap, used = self._capacity(), self._used()
        free = common.Resources(*(c - u for c, u in zip(cap, used, strict=True)))
        common.check_fits(
            self.host, instance_uuid, common.Resources(vcpus, memory_mb, disk_gb), free
        )

    def _refuse_known(self, instance_uuid: UUID, where: str = "") -> None:
        """Refuse a guest this host already has a record of (``where`` ends the
        reason of :class:`InstanceExists`)."""
        existing = self._guests.get(instance_uuid)
        if existing is not None:
            reason = f"a guest ({existing.phase}){where}"
            raise InstanceExists(str(instance_uuid), self.host, reason)

    def _arriving(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        phase: GuestPhase,
        volume_backed: bool,
        *,
        local_disk: bool = True,
    ) -> Guest:
        """The record of a guest coming to this host (built here, or migrating here
        with its disks copied unless ``local_disk`` is false: they are shared), once
        its claim fits and its VIFs can be plugged; not yet kept."""
        uuid_ = instance.uuid
        vcpus, memory_mb, disk_gb = common.claim_of(instance, volume_backed).as_tuple()
        disk_gb = disk_gb if local_disk else 0
        self._check_fits(uuid_, vcpus, memory_mb, disk_gb)
        self._check_pluggable(uuid_, network_info)
        return Guest(
            uuid=uuid_,
            name=instance.name,
            directory=self._instances / str(uuid_),
            phase=phase,
            vcpus=vcpus,
            memory_mb=memory_mb,
            disk_gb=disk_gb,
            volume_backed=volume_backed,
            instance=instance.obj_clone(),
            network_info=network_info.obj_clone(),
        )

    def _discard(self, guest: Guest) -> None:
        """Forget the guest's record, stop its process and remove its taps."""
        self._guests.pop(guest.uuid, None)
        self._stop_process(guest)
        self._unplug_all(guest)

    def _cpu_model(self) -> str:
        # qemu64 on both accelerators: a model every x86 host offers, so guests move
        # between hosts of different CPU generations.
        return "qemu64"

    def _version_text(self) -> str:
        return ".".join(map(str, self._qemu_version))

    def _cpu_info(self) -> CpuInfo:
        return CpuInfo(
            arch=Architecture.X86_64,
            model=f"{self._cpu_model()}/{process.MACHINE}/qemu-{self._version_text()}",
            vendor="QEMU",
            topology=CpuTopology(sockets=1, cores=self._capacity()[0], threads=1),
            features=[],
        )

    def _active(self, instance_uuid: UUID, action: str) -> Guest:
        guest = self._guests.get(instance_uuid)
        if guest is None or guest.phase is not GuestPhase.ACTIVE:
            raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
        return guest

    def _spec(self, guest: Guest, *, incoming: bool) -> process.GuestSpec:
        nics = tuple(
            process.NicSpec(
                ident=vif_ident(vif.id), mac=str(vif.address), tap=guest.taps.get(vif.id)
            )
            for vif in guest.network_info
        )
        volumes = tuple(
            process.VolumeSpec(
                ident=v.ident,
                path=v.connection_info.path or "",
                serial=v.connection_info.serial,
                lun=v.lun,
                read_only=str(v.connection_info.access_mode) == "ro",
                boot=v.boot,
            )
            for v in sorted(guest.volumes.values(), key=lambda v: v.lun)
        )
        qmp = self._run / f"{self._salt}-{guest.uuid.hex[:20]}.qmp"
        return process.GuestSpec(
            name=guest.name,
            uuid=str(guest.uuid),
            accel=self.accel,
            cpu_model=self._cpu_model(),
            vcpus=guest.vcpus,
            memory_mb=guest.memory_mb,
            qmp_path=qmp,
            console_path=guest.console,
            log_path=guest.directory / "qemu.log",
            root_disk=None if guest.volume_backed else guest.root_disk,
            config_drive=guest.config_drive,
            nics=nics,
            volumes=volumes,
            kernel=self._kernel,
            initrd=self._initrd,
            incoming=incoming,
        )

    def _start(self, guest: Guest, *, incoming: bool = False) -> None:
        spec = self._spec(guest, incoming=incoming)
        guest.process = process.launch(self._binary, spec)
        guest.monitor = Monitor(spec.qmp_path)
        guest.started_at = time.monotonic()
        try:
            with guest.monitor.session(connect_timeout=30) as qmp:
                qmp.cmd("query-status")
        except MonitorError as error:
            self._stop_process(guest)
            log = (guest.directory / "qemu.log").read_text(errors="replace")[-2000:]
            raise VirtDriverError(f"QEMU for {guest.uuid} did not start: {error}\n{log}") from error

    def _stop_process(self, guest: Guest) -> None:
        proc = guest.process
        if proc is None:
            return
        if proc.poll() is None and guest.monitor is not None:
            try:
                guest.monitor.timeout = 5
                guest.monitor.cmd("quit")
            except MonitorError:
                pass
            deadline = time.monotonic() + 5
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
        process.terminate(proc)
        if guest.monitor is not None:
            guest.monitor.path.unlink(missing_ok=True)
        guest.process = None
        guest.monitor = None
        guest.started_at = None

    def _acpi_shutdown(self, guest: Guest, timeout: float, retry_interval: float = 0) -> bool:
        """Press the ACPI power button until the guest goes down or ``timeout``
        passes; whether it went down."""
        if not guest.alive() or guest.monitor is None or timeout <= 0:
            return False
        deadline = time.monotonic() + timeout
        next_press = 0.0
        proc = guest.process
        assert proc is not None
        while time.monotonic() < deadline:
            if time.monotonic() >= next_press:
                try:
                    guest.monitor.cmd("system_powerdown")
                except MonitorError:
                    break
                next_press = time.monotonic() + (retry_interval or timeout)
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            return False
        self._stop_process(guest)
        return True

    def _qmp(self, guest: Guest) -> Monitor:
        if guest.monitor is None or not guest.alive():
            raise InvalidPowerState(
                str(guest.uuid), "talk to", self._power_state(guest).name, ["RUNNING"]
            )
        return guest.monitor

    def _power_state(self, guest: Guest) -> PowerState:
        if guest.suspended:
            return PowerState.SUSPENDED
        if not guest.alive() or guest.monitor is None:
            if guest.process is not None and guest.process.returncode not in (0, None):
                return PowerState.CRASHED
            return PowerState.SHUTDOWN
        try:
            status = guest.monitor.cmd("query-status")["status"]
        except MonitorError:
            return PowerState.NOSTATE
        return STATUS.get(status, PowerState.NOSTATE)

    def _require(self, guest: Guest, action: str, allowed: tuple[PowerState, ...]) -> None:
        state = self._power_state(guest)
        if state not in allowed:
            raise InvalidPowerState(str(guest.uuid), action, state.name, [s.name for s in allowed])

    def _vcpu_times(self, guest: Guest) -> dict[int, int]:
        """vCPU index → nanoseconds its thread ran (``/proc/<pid>/task/<tid>/stat``)."""
        assert guest.monitor is not None and guest.process is not None
        result: dict[int, int] = {}
        for cpu in guest.monitor.cmd("query-cpus-fast"):
            tid = cpu["thread-id"]
            try:
                fields = Path(f"/proc/{guest.process.pid}/task/{tid}/stat").read_text()
            except OSError:
                continue
            parts = fields.rsplit(")", 1)[1].split()
            ticks = int(parts[11]) + int(parts[12])
            result[int(cpu["cpu-index"])] = ticks * 1_000_000_000 // CLOCK_TICKS
        return result

    def _base_image(self, image_ref: str | None) -> Path:
        if image_ref:
            candidate = safe_child(self._images, image_ref)
            if candidate.is_file():
                return candidate
        if self._default_image is not None and self._default_image.is_file():
            return self._default_image
        raise ImageNotFound(image_ref, self._images)

    def _write_config_drive(self, guest: Guest) -> None:
        files = list(guest.files.values())
        configdrive.build_config_drive(
            guest.config_drive,
            meta=configdrive.meta_data(guest.instance, files, guest.admin_pass_hash),
            network=configdrive.network_data(guest.network_info),
            files=files,
            size_bytes=self._config_drive_bytes,
        )
        guest.config_writes += 1

    def _refresh_config_drive(self, guest: Guest) -> None:
        """Rebuild the ISO and, in a running process, swap the medium."""
        generation = guest.config_writes + 1
        final = guest.config_drive
        staged = guest.directory / f"config-{generation}.iso"
        files = list(guest.files.values())
        configdrive.build_config_drive(
            staged,
            meta=configdrive.meta_data(guest.instance, files, guest.admin_pass_hash),
            network=configdrive.network_data(guest.network_info),
            files=files,
            size_bytes=self._config_drive_bytes,
        )
        guest.config_writes = generation
        os.replace(staged, final)
        if guest.alive() and guest.monitor is not None:
            # The open file is the replaced inode; reopen the medium at the new one.
            with guest.monitor.session() as qmp:
                qmp.cmd(
                    "blockdev-change-medium",
                    id="config-cd",
                    filename=str(final),
                    format="raw",
                    force=True,
                )

    def _record_volume(self, guest: Guest, to_connect: common.VolumeToConnect) -> Volume:
        bdm, info, mount = to_connect.bdm, to_connect.connection_info, to_connect.mountpoint
        self._check_bus(guest, bdm.disk_bus, mount)
        self._check_connectable(guest, info, mount)
        volume = self._make_volume(info, mount, bdm.disk_bus, bdm.device_type)
        volume.boot = bdm.is_root
        info.device_path = info.path
        volume.connection_info.device_path = info.path
        guest.volumes[volume.volume_id] = volume
        return volume

    def _check_bus(self, guest: Guest, disk_bus: DiskBus | None, mountpoint: str) -> None:
        """Refuse a volume on the NVMe bus (see :meth:`attach_volume`)."""
        if disk_bus is DiskBus.NVME or device_names.nvme_controller(mountpoint) is not None:
            raise DiskBusNotSupported(
                str(guest.uuid),
                self.host,
                str(DiskBus.NVME),
                device_names.normalize(mountpoint),
                "the QEMU driver attaches volumes on its virtio-scsi controller; an NVMe "
                "disk would be a PCI controller, and hot-unplugging it needs the guest's "
                "cooperation (ACPI), so a detach could hang. Use the scsi bus (/dev/sdX).",
            )

    def _make_volume(
        self,
        connection_info: VolumeConnectionInfo,
        mount: str,
        disk_bus: DiskBus | None,
        device_type: DeviceType | None,
    ) -> Volume:
        path = connection_info.path
        if path is None or not Path(path).exists():
            raise VirtDriverError(
                f"volume {connection_info.volume_id}: connection info path {path!r} "
                "is not a file here"
            )
        return Volume(
            volume_id=connection_info.volume_id,
            mountpoint=mount,
            connection_info=connection_info.obj_clone(),
            ident=f"vol-{connection_info.volume_id.hex[:16]}",
            lun=lun_of(mount),
            disk_bus=disk_bus,
            device_type=device_type,
        )

    def _check_connectable(
        self, guest: Guest, connection_info: VolumeConnectionInfo, mount: str
    ) -> None:
        lun = lun_of(mount)
        for other in guest.volumes.values():
            if other.mountpoint == mount or other.lun == lun:
                raise DeviceInUse(str(guest.uuid), mount, str(other.volume_id))
        for owner in self._guests.values():
            if owner.phase is GuestPhase.DEPARTED:
                continue
            existing = owner.volumes.get(connection_info.volume_id)
            if existing is not None and (owner is guest or not connection_info.multiattach):
                raise VolumeAlreadyAttached(
                    str(connection_info.volume_id), str(owner.uuid), existing.mountpoint
                )

    def _check_pluggable(self, instance_uuid: UUID, network_info: NetworkInfo) -> None:
        plugged = [
            (guest.uuid, vif)
            for guest in self._guests.values()
            if guest.phase is not GuestPhase.DEPARTED
            for vif in guest.network_info
        ]
        common.check_pluggable(
            self.host,
            instance_uuid,
            network_info,
            plugged,
            mac_pool=self._mac_pool,
            max_vifs=process.NIC_PORTS,
        )

    def _plug(self, guest: Guest, network_info: NetworkInfo) -> None:
        if self.network_mode != "tap":
            return
        for vif in network_info:
            tap = tap_name(self.host, str(vif.id))
            bridge = (vif.network.bridge if vif.network else None) or "cumulobr0"
            try:
                self._taps.ensure_tap(tap, bridge[:15], vif.network.mtu if vif.network else None)
            except NetdevError as error:
                raise VifPlugFailed(str(vif.id), self.host, str(error)) from error
            guest.taps[vif.id] = tap

    def _unplug_all(self, guest: Guest) -> None:
        for tap in guest.taps.values():
            self._taps_remove(tap)
        guest.taps.clear()

    def _taps_remove(self, tap: str) -> None:
        if self.network_mode == "tap":
            self._taps.remove_tap(tap)

    def _unfilter(self, instance_uuid: UUID) -> None:
        if self._filters.pop(instance_uuid, None) is not None:
            self._apply_firewall()

    def _apply_firewall(self) -> None:
        filters = []
        for uuid_, filt in sorted(self._filters.items()):
            guest = self._guests.get(uuid_)
            taps = []
            for vif in filt.network_info:
                tap = guest.taps.get(vif.id) if guest else None
                taps.append(tap or tap_name(self.host, str(vif.id)))
            filters.append(
                nftables.InstanceFilter(
                    instance_uuid=uuid_,
                    taps=taps,
                    rules=filt.rules,
                    group_ids=filt.group_ids,
                    addresses=[ip.address for ip in filt.network_info.fixed_ips()],
                )
            )
        self._ruleset = nftables.render_table(self.host, filters, stateful=self.firewall_stateful)
        if self.firewall_mode == "nft":
            nftables.apply_ruleset(self._ruleset)
