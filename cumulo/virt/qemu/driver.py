"""``QemuDriver``: each guest is a QEMU process controlled over QMP.

Per guest, the host's instance directory holds a qcow2 overlay on a base image,
a config drive ISO (metadata, injected files, network data), the serial console
log and, while suspended, the saved memory. Volumes from the volume store are
hot-plugged on a virtio-scsi controller (``blockdev-add`` + ``device_add``; the NVMe
bus is refused: unplugging a PCI controller needs the guest's help); NICs
are taps on Linux bridges (or QEMU user networking where taps cannot be made);
security groups become nftables rules on the taps. Live migration runs QEMU's own:
the destination waits with ``-incoming defer``, local disks are mirrored to it
over NBD, and the source polls ``query-migrate`` into the ``Migration`` object.
``get_console_output`` reads the end of the serial console log.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid as uuidlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from cumulo.model import (
    Architecture,
    AvailableResource,
    BlockDeviceInfo,
    BlockDeviceMapping,
    ComputeNode,
    Context,
    CpuDiagnostics,
    CpuInfo,
    CpuTopology,
    DeviceType,
    DhcpOption,
    DhcpOptionList,
    Diagnostics,
    DiskBus,
    DiskDiagnostics,
    ImageMeta,
    InjectedFile,
    Instance,
    InstanceInfo,
    LiveMigrateData,
    MacConstraint,
    MemoryDiagnostics,
    NetworkInfo,
    NicDiagnostics,
    OsType,
    PowerState,
    RebootType,
    SecurityGroupList,
    SharedStorageProbe,
    VolumeConnectionInfo,
    VolumeConnector,
)
from cumulo.objects import MACAddress

from .. import common, device_names
from ..driver import ComputeDriver
from ..exceptions import (
    DeviceInUse,
    DiskBusNotSupported,
    HypervisorUnavailable,
    InstanceExists,
    InstanceNotFiltered,
    InstanceNotFound,
    InvalidPowerState,
    MigrationError,
    MigrationPreCheckError,
    VifPlugFailed,
    VirtDriverError,
    VolumeAlreadyAttached,
    VolumeNotAttached,
)
from . import configdrive, console, endpoints, images, nftables, process
from .monitor import Monitor, MonitorError, MonitorSession
from .netdev import NetdevError, TapManager, tap_name

__all__ = ["GuestPhase", "ImageNotFound", "QemuDriver", "QemuGuestView", "kvm_usable"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MIB: Final = 1024**2
GIB: Final = 1024**3
CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


class ImageNotFound(VirtDriverError, LookupError):
    """The instance's image is not in the driver's image directory."""

    def __init__(self, image_ref: str | None, images_path: Path) -> None:
        super().__init__(
            f"image {image_ref!r}: no file {images_path}/<image_ref> and no default image"
        )


class GuestPhase(enum.StrEnum):
    ACTIVE = "active"
    """Defined on this host (running, paused, shut down or suspended)."""
    INCOMING = "incoming"
    """``pre_live_migration`` started a QEMU waiting for the guest."""
    DEPARTED = "departed"
    """Live-migrated away; leftovers await the post steps and cleanup."""


@dataclasses.dataclass
class _Volume:
    volume_id: UUID
    mountpoint: str
    connection_info: VolumeConnectionInfo
    ident: str
    lun: int
    disk_bus: DiskBus | None
    device_type: DeviceType | None
    boot: bool = False


@dataclasses.dataclass
class _Filter:
    rules: list[Any]
    group_ids: list[int]
    network_info: NetworkInfo


@dataclasses.dataclass
class _Guest:
    uuid: UUID
    name: str
    directory: Path
    phase: GuestPhase
    vcpus: int
    memory_mb: int
    disk_gb: int
    volume_backed: bool
    instance: Instance
    network_info: NetworkInfo
    files: dict[str, InjectedFile] = dataclasses.field(default_factory=dict)
    admin_pass_hash: str | None = None
    volumes: dict[UUID, _Volume] = dataclasses.field(default_factory=dict)
    taps: dict[UUID, str] = dataclasses.field(default_factory=dict)
    """VIF id → tap plugged on this host (VIFs on user networking have none)."""
    process: subprocess.Popen[bytes] | None = None
    monitor: Monitor | None = None
    started_at: float | None = None
    suspended: bool = False
    incoming_port: int | None = None
    config_writes: int = 0

    @property
    def root_disk(self) -> Path:
        return self.directory / "disk.qcow2"

    @property
    def config_drive(self) -> Path:
        return self.directory / "config.iso"

    @property
    def console(self) -> Path:
        return self.directory / "console.log"

    @property
    def saved_state(self) -> Path:
        return self.directory / "suspended.state"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclasses.dataclass(frozen=True)
class QemuGuestView:
    """A read-only view of one guest (for tests, benchmarks and the demo)."""

    uuid: UUID
    phase: GuestPhase
    pid: int | None
    qmp_path: Path | None
    directory: Path
    console_path: Path
    config_drive_path: Path
    taps: tuple[str, ...]
    volume_nodes: tuple[str, ...]


def _accel_usable(kind: str, binary: str) -> bool:
    if kind == "tcg":
        return True
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        result = subprocess.run(
            [
                binary,
                "-machine",
                "none,accel=kvm",
                "-nodefaults",
                "-display",
                "none",
                "-S",
                "-qmp",
                "stdio",
            ],
            input=b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def kvm_usable(binary: str | None = None) -> bool:
    """Whether QEMU can open KVM here."""
    try:
        return _accel_usable("kvm", binary or process.find_qemu())
    except process.QemuNotInstalled:
        return False


class QemuDriver(ComputeDriver):
    """QEMU/KVM (or TCG) guests on one compute host.

    Args:
        host: the compute host it serves.
        instances_path: the host's instance directory (one sub-directory per guest).
            Two drivers given the same path share instance storage.
        images_path: base images, one file per ``image_ref`` (raw or qcow2).
        default_image: the base image for an ``image_ref`` not in ``images_path``.
        run_path: where QMP sockets live (short paths: UNIX sockets have a limit).
        accel: ``"kvm"``, ``"tcg"`` or ``"auto"`` (KVM when usable).
        network_mode: ``"tap"`` (taps on bridges), ``"user"`` (QEMU user networking)
            or ``"auto"`` (taps when this process may create them).
        firewall: ``"nft"`` (apply nftables rules), ``"render"`` (only generate
            them) or ``"auto"`` (apply when ``nft`` works here).
        vcpus, memory_mb, disk_gb: capacity (``None``: what the host has).
        host_ip: the address other hosts reach this one at.
        mac_pool, dhcp_options: answers of ``macs_for_instance`` /
            ``dhcp_options_for_instance`` (host configuration).
        config_drive_mb: the fixed size of every config drive.
        migration_max_bandwidth: bytes/s for live migration (``None``: QEMU's default).
        power_off_timeout: seconds an ACPI shutdown may take before a hard stop
            when ``power_off`` is given no timeout of its own.
        guest_kernel, guest_initrd: boot this kernel directly instead of the disk.
    """

    driver_name = "qemu"

    def __init__(
        self,
        host: str,
        *,
        instances_path: str | os.PathLike[str],
        images_path: str | os.PathLike[str] | None = None,
        default_image: str | os.PathLike[str] | None = None,
        run_path: str | os.PathLike[str] | None = None,
        accel: str = "auto",
        network_mode: str = "auto",
        firewall: str = "auto",
        vcpus: int | None = None,
        memory_mb: int | None = None,
        disk_gb: int | None = None,
        host_ip: IPAddress | str | None = None,
        mac_pool: Iterable[str] | None = None,
        dhcp_options: Iterable[DhcpOption] = (),
        config_drive_mb: int = 4,
        migration_max_bandwidth: int | None = None,
        power_off_timeout: float = 0.0,
        guest_kernel: str | os.PathLike[str] | None = None,
        guest_initrd: str | os.PathLike[str] | None = None,
        qemu_binary: str = process.BIN,
    ) -> None:
        super().__init__(host)
        for name, value in (
            ("accel", accel),
            ("network_mode", network_mode),
            ("firewall", firewall),
        ):
            allowed = {
                "accel": ("auto", "kvm", "tcg"),
                "network_mode": ("auto", "tap", "user"),
                "firewall": ("auto", "nft", "render"),
            }[name]
            if value not in allowed:
                raise ValueError(f"{name}: expected one of {allowed}, got {value!r}")
        self._instances = Path(instances_path).resolve()
        self._images = Path(images_path).resolve() if images_path else self._instances / "_base"
        self._default_image = Path(default_image) if default_image else None
        salt = hashlib.sha1(host.encode()).hexdigest()[:6]
        self._run = Path(run_path) if run_path else Path(tempfile.gettempdir()) / "cumulo-qemu"
        self._salt = salt
        self._accel_wanted = accel
        self._network_wanted = network_mode
        self._firewall_wanted = firewall
        self._capacity_override = (vcpus, memory_mb, disk_gb)
        self._host_ip: IPAddress = ipaddress.ip_address(host_ip or "127.0.0.1")
        self._mac_pool = (
            None if mac_pool is None else frozenset(MACAddress(m.lower()) for m in mac_pool)
        )
        self._dhcp_options = [o.obj_clone() for o in dhcp_options]
        self._config_drive_bytes = config_drive_mb * MIB
        self._migration_bandwidth = migration_max_bandwidth
        self._power_off_timeout = power_off_timeout
        self._kernel = Path(guest_kernel) if guest_kernel else None
        self._initrd = Path(guest_initrd) if guest_initrd else None
        self._qemu_name = qemu_binary
        self._lock = threading.RLock()
        self._guests: dict[UUID, _Guest] = {}
        self._filters: dict[UUID, _Filter] = {}
        self._taps = TapManager()
        self._ready = False
        # Set by init_host:
        self._binary = ""
        self.accel = ""
        self.network_mode = ""
        self.firewall_mode = ""
        self.firewall_stateful = False
        self.unavailable: dict[str, str] = {}
        """Capabilities this host could not enable, and why (for the operator)."""
        self._qemu_version = (0, 0, 0)
        self._ruleset = ""

    # --- views for tests and tools --------------------------------------------------------

    def describe_guest(self, instance_uuid: UUID) -> QemuGuestView:
        with self._lock:
            guest = self._guests.get(instance_uuid)
            if guest is None:
                raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
            return QemuGuestView(
                uuid=guest.uuid,
                phase=guest.phase,
                pid=guest.process.pid if guest.alive() and guest.process else None,
                qmp_path=guest.monitor.path if guest.monitor else None,
                directory=guest.directory,
                console_path=guest.console,
                config_drive_path=guest.config_drive,
                taps=tuple(guest.taps.values()),
                volume_nodes=tuple(v.ident for v in guest.volumes.values()),
            )

    def monitor(self, instance_uuid: UUID) -> Monitor:
        """The QMP monitor of a guest whose process runs here."""
        with self._lock:
            guest = self._guests.get(instance_uuid)
            if guest is None or guest.monitor is None or not guest.alive():
                raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
            return guest.monitor

    @property
    def ruleset(self) -> str:
        """The nftables script last generated for this host."""
        with self._lock:
            return self._ruleset

    @property
    def instances_path(self) -> Path:
        return self._instances

    # --- host -----------------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        """See :meth:`ComputeDriver.init_host`: finds QEMU, picks the accelerator,
        the networking and the firewall this host allows.

        Raises:
            HypervisorUnavailable: QEMU or qemu-img is not installed.
        """
        if host != self.host:
            raise ValueError(f"init_host: this driver serves {self.host!r}, not {host!r}")
        with self._lock:
            try:
                self._binary = process.find_qemu(self._qemu_name)
                images.qemu_img("--version")
            except (process.QemuNotInstalled, images.ImageError) as error:
                raise HypervisorUnavailable(self.host, str(error)) from error
            version = subprocess.run(
                [self._binary, "--version"], capture_output=True, text=True, check=False
            ).stdout.split()
            numbers = version[3].split(".") if len(version) > 3 else ["0"]
            self._qemu_version = tuple(int(n) for n in ([*numbers, "0", "0"])[:3])  # type: ignore[assignment]
            if self._accel_wanted == "auto":
                self.accel = "kvm" if _accel_usable("kvm", self._binary) else "tcg"
                if self.accel == "tcg":
                    self.unavailable["kvm"] = "/dev/kvm is missing or QEMU cannot use it"
            else:
                if not _accel_usable(self._accel_wanted, self._binary):
                    raise HypervisorUnavailable(
                        self.host, f"accelerator {self._accel_wanted} unusable"
                    )
                self.accel = self._accel_wanted
            why_not_tap = None if self._network_wanted == "user" else self._taps.probe()
            if self._network_wanted == "tap" and why_not_tap:
                raise HypervisorUnavailable(self.host, f"tap networking: {why_not_tap}")
            self.network_mode = (
                "tap" if self._network_wanted != "user" and not why_not_tap else "user"
            )
            if why_not_tap:
                self.unavailable["tap"] = why_not_tap
            why_not_nft = None if self._firewall_wanted == "render" else nftables.nft_available()
            if self._firewall_wanted == "nft" and why_not_nft:
                raise HypervisorUnavailable(self.host, f"nftables: {why_not_nft}")
            self.firewall_mode = (
                "nft" if self._firewall_wanted != "render" and not why_not_nft else "render"
            )
            if why_not_nft:
                self.unavailable["nftables"] = why_not_nft
            if self.firewall_mode == "nft":
                self.firewall_stateful = nftables.conntrack_available()
                if not self.firewall_stateful:
                    self.unavailable["conntrack"] = "no bridge conntrack: filters are stateless"
            if self.network_mode == "user":
                self.unavailable.setdefault(
                    "filtering",
                    "user networking bypasses the host's netfilter: rules are not enforced",
                )
            self._instances.mkdir(parents=True, exist_ok=True)
            self._run.mkdir(parents=True, exist_ok=True)
            self._ready = True

    def _require_ready(self) -> None:
        if not self._ready:
            raise HypervisorUnavailable(self.host, "init_host was not called")

    def list_instances(self) -> list[str]:
        """See :meth:`ComputeDriver.list_instances`."""
        with self._lock:
            return [g.name for g in self._guests.values() if g.phase is GuestPhase.ACTIVE]

    def list_instance_uuids(self) -> list[UUID]:
        """See :meth:`ComputeDriver.list_instance_uuids`."""
        with self._lock:
            return [g.uuid for g in self._guests.values() if g.phase is GuestPhase.ACTIVE]

    def _capacity(self) -> tuple[int, int, int]:
        vcpus, memory_mb, disk_gb = self._capacity_override
        if vcpus is None:
            vcpus = os.cpu_count() or 1
        if memory_mb is None:
            memory_mb = _meminfo_mb("MemTotal")
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

    def get_available_resource(self) -> AvailableResource:
        """See :meth:`ComputeDriver.get_available_resource`."""
        with self._lock:
            cap = self._capacity()
            used = self._used()
            major, minor, micro = self._qemu_version
            return common.available_resource(
                self.host,
                common.Resources(*cap),
                common.Resources(*used),
                hypervisor_type="QEMU" if self.accel != "kvm" else "KVM",
                hypervisor_version=major * 1_000_000 + minor * 1_000 + micro,
                cpu_info=self._cpu_info(),
                host_ip=self._host_ip,
                arch=Architecture.X86_64,
                supported_hypervisor_type="qemu",
            )

    def get_host_ip_addr(self) -> IPAddress:
        """See :meth:`ComputeDriver.get_host_ip_addr`."""
        return self._host_ip

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

    # --- lifecycle ------------------------------------------------------------------------

    def spawn(
        self,
        context: Context,
        instance: Instance,
        image_meta: ImageMeta,
        injected_files: list[InjectedFile],
        admin_password: str | None,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        power_on: bool = True,
    ) -> None:
        """See :meth:`ComputeDriver.spawn`: overlay disk, config drive, taps, volumes
        and a QEMU process (started paused-free when ``power_on``)."""
        self._require_ready()
        with self._lock:
            uuid_ = instance.uuid
            if uuid_ in self._guests:
                raise InstanceExists(
                    str(uuid_), self.host, f"a guest ({self._guests[uuid_].phase}) is here"
                )
            volume_backed = common.is_volume_backed(instance, block_device_info)
            vcpus, memory_mb, disk_gb = common.claim_of(instance, volume_backed).as_tuple()
            self._check_fits(uuid_, vcpus, memory_mb, disk_gb)
            self._check_pluggable(uuid_, network_info)
            directory = self._instances / str(uuid_)
            if directory.exists() and any(directory.iterdir()):
                raise InstanceExists(str(uuid_), self.host, f"{directory} already holds files")
            guest = _Guest(
                uuid=uuid_,
                name=instance.name,
                directory=directory,
                phase=GuestPhase.ACTIVE,
                vcpus=vcpus,
                memory_mb=memory_mb,
                disk_gb=disk_gb,
                volume_backed=volume_backed,
                instance=instance.obj_clone(),
                network_info=network_info.obj_clone(),
                files={f.path: f.obj_clone() for f in injected_files},
                admin_pass_hash=configdrive.hash_password(admin_password)
                if admin_password
                else None,
            )
            try:
                directory.mkdir(parents=True, exist_ok=True)
                if not volume_backed:
                    base = self._base_image(instance.image_ref)
                    images.create_overlay(guest.root_disk, base, instance_root_bytes(instance))
                self._write_config_drive(guest)
                self._plug(guest, network_info)
                for volume in common.volumes_to_connect(uuid_, block_device_info, needs_path=True):
                    self._record_volume(guest, volume)
                self._guests[uuid_] = guest
                if power_on:
                    self._start(guest)
            except BaseException:
                self._guests.pop(uuid_, None)
                self._stop_process(guest)
                self._unplug_all(guest)
                shutil.rmtree(directory, ignore_errors=True)
                raise

    def reboot(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        reboot_type: RebootType,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.reboot`. SOFT asks the guest (ACPI power button)
        and, when it does not go down within ``power_off_timeout``, resets it; HARD
        resets the machine (``system_reset``), or starts it when it was off."""
        with self._lock:
            guest = self._active(instance.uuid, "reboot")
            state = self._power_state(guest)
            if reboot_type is RebootType.SOFT:
                if state is not PowerState.RUNNING:
                    raise InvalidPowerState(str(guest.uuid), "soft-reboot", state.name, ["RUNNING"])
                if self._acpi_shutdown(guest, self._power_off_timeout):
                    self._start(guest)
                    guest.network_info = network_info.obj_clone()
                    return
            else:
                self._check_pluggable(guest.uuid, network_info)
                self._plug(guest, network_info)
            guest.network_info = network_info.obj_clone()
            if guest.suspended:
                guest.saved_state.unlink(missing_ok=True)
                guest.suspended = False
            if guest.alive():
                assert guest.monitor is not None
                with guest.monitor.session() as qmp:
                    qmp.cmd("system_reset")
                    if qmp.cmd("query-status")["status"] != "running":
                        qmp.cmd("cont")
                guest.started_at = time.monotonic()
            else:
                self._start(guest)

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        """See :meth:`ComputeDriver.power_off`: ACPI power button, repeated every
        ``retry_interval`` seconds within ``timeout``, then the process is stopped."""
        with self._lock:
            guest = self._active(instance.uuid, "power off")
            if guest.suspended:
                guest.saved_state.unlink(missing_ok=True)
                guest.suspended = False
            if not guest.alive():
                return
            wait = float(timeout) if timeout else self._power_off_timeout
            if not self._acpi_shutdown(guest, wait, retry_interval):
                self._stop_process(guest)

    def power_on(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.power_on`."""
        with self._lock:
            guest = self._active(instance.uuid, "power on")
            state = self._power_state(guest)
            if state is PowerState.RUNNING:
                return
            if state in (PowerState.PAUSED, PowerState.SUSPENDED):
                raise InvalidPowerState(
                    str(guest.uuid), "power on", state.name, ["SHUTDOWN", "CRASHED"]
                )
            self._stop_process(guest)
            self._check_pluggable(guest.uuid, network_info)
            self._plug(guest, network_info)
            guest.network_info = network_info.obj_clone()
            self._start(guest)

    def pause(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.pause`: QMP ``stop``."""
        with self._lock:
            guest = self._active(instance.uuid, "pause")
            self._require(guest, "pause", (PowerState.RUNNING,))
            self._qmp(guest).cmd("stop")

    def unpause(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.unpause`: QMP ``cont``."""
        with self._lock:
            guest = self._active(instance.uuid, "unpause")
            self._require(guest, "unpause", (PowerState.PAUSED,))
            self._qmp(guest).cmd("cont")

    def suspend(self, context: Context, instance: Instance) -> None:
        """See :meth:`ComputeDriver.suspend`: the guest's state is migrated into a
        file of its instance directory and the process ends."""
        with self._lock:
            guest = self._active(instance.uuid, "suspend")
            self._require(guest, "suspend", (PowerState.RUNNING, PowerState.PAUSED))
            monitor = self._qmp(guest)
            target = guest.saved_state
            target.unlink(missing_ok=True)
            with monitor.session() as qmp:
                qmp.cmd("stop")
                qmp.cmd("migrate", uri=f"exec:cat > {_shell_quote(str(target))}")
                status = _wait_migration(qmp, timeout=120)
                if status["status"] != "completed":
                    qmp.cmd("cont")
                    raise VirtDriverError(f"suspend of {guest.uuid}: {status}")
            self._stop_process(guest)
            guest.suspended = True

    def resume(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.resume`: a new process loads the saved state."""
        with self._lock:
            guest = self._active(instance.uuid, "resume")
            self._require(guest, "resume", (PowerState.SUSPENDED,))
            self._plug(guest, network_info)
            guest.network_info = network_info.obj_clone()
            self._start(guest, incoming=True)
            monitor = self._qmp(guest)
            with monitor.session() as qmp:
                qmp.cmd("migrate-incoming", uri=f"exec:cat {_shell_quote(str(guest.saved_state))}")

                def loaded(s: MonitorSession) -> bool | None:
                    status = s.cmd("query-status")["status"]
                    return True if status not in ("inmigrate",) else None

                _poll(qmp, loaded, 120, "the saved state to load")
                qmp.cmd("cont")
            guest.saved_state.unlink(missing_ok=True)
            guest.suspended = False

    def destroy(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        """See :meth:`ComputeDriver.destroy`: the process is stopped, taps, volume
        connections and filter removed, and (``destroy_disks``) the directory."""
        with self._lock:
            guest = self._guests.pop(instance.uuid, None)
            if guest is not None:
                self._stop_process(guest)
                self._unplug_all(guest)
                directory = guest.directory
            else:
                directory = self._instances / str(instance.uuid)
            for vif in network_info:
                self._taps_remove(tap_name(self.host, str(vif.id)))
            self._unfilter(instance.uuid)
            if destroy_disks:
                shutil.rmtree(directory, ignore_errors=True)

    def cleanup(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
        migrate_data: LiveMigrateData | None = None,
        destroy_vifs: bool = True,
    ) -> None:
        """See :meth:`ComputeDriver.cleanup`."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None and guest.phase is GuestPhase.ACTIVE and guest.alive():
                raise InstanceExists(str(guest.uuid), self.host, "the guest still runs; destroy it")
            if guest is not None:
                self._stop_process(guest)
                self._guests.pop(instance.uuid, None)
                if destroy_vifs:
                    self._unplug_all(guest)
            self._unfilter(instance.uuid)
            if destroy_disks:
                shutil.rmtree(self._instances / str(instance.uuid), ignore_errors=True)

    def inject_file(self, instance: Instance, injected_file: InjectedFile) -> None:
        """See :meth:`ComputeDriver.inject_file`: rewrites the config drive and
        swaps the medium in the guest's CD drive."""
        with self._lock:
            guest = self._active(instance.uuid, "inject a file into")
            _ = injected_file.contents  # validates the base64
            guest.files[injected_file.path] = injected_file.obj_clone()
            self._refresh_config_drive(guest)

    # --- volumes --------------------------------------------------------------------------

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

    # --- network --------------------------------------------------------------------------

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
                    ident = _ident(vif.id)
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

    # --- firewall -------------------------------------------------------------------------

    def ensure_filtering_rules_for_instance(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        security_groups: SecurityGroupList,
    ) -> None:
        """See :meth:`ComputeDriver.ensure_filtering_rules_for_instance`."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is GuestPhase.DEPARTED:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            rules, groups = common.flatten_security_groups(security_groups)
            self._filters[guest.uuid] = _Filter(rules, groups, network_info.obj_clone())
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

    # --- diagnostics ----------------------------------------------------------------------

    def get_info(self, instance: Instance) -> InstanceInfo:
        """See :meth:`ComputeDriver.get_info`: the QMP run state, and CPU time of
        the vCPU threads."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is not GuestPhase.ACTIVE:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            state = self._power_state(guest)
            cpu_ns = 0
            mem_kb = 0
            if guest.alive():
                cpu_ns = sum(self._vcpu_times(guest).values())
                mem_kb = min(guest.memory_mb * 1024, _rss_kb(guest))
            return InstanceInfo(
                state=state,
                internal_id=str(guest.process.pid) if guest.alive() and guest.process else None,
                max_mem_kb=guest.memory_mb * 1024,
                mem_kb=mem_kb,
                num_cpu=guest.vcpus,
                cpu_time_ns=cpu_ns,
            )

    def get_diagnostics(self, instance: Instance) -> Diagnostics:
        """See :meth:`ComputeDriver.get_diagnostics`: vCPU thread times
        (``query-cpus-fast`` + ``/proc``), ``query-blockstats`` per disk, tap counters
        per NIC, ``query-balloon`` and the process RSS for memory."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is not GuestPhase.ACTIVE:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            state = self._power_state(guest)
            cpus: list[CpuDiagnostics] = []
            disks: list[DiskDiagnostics] = []
            memory = MemoryDiagnostics(maximum=guest.memory_mb, used=0)
            if guest.alive():
                assert guest.monitor is not None
                times = self._vcpu_times(guest)
                cpus = [CpuDiagnostics(id=i, time=t) for i, t in sorted(times.items())]
                with guest.monitor.session() as qmp:
                    stats = qmp.cmd("query-blockstats")
                    balloon = qmp.cmd("query-balloon")
                names = {"root-disk": "vda", "config-cd": "config"}
                names.update(
                    {v.ident: v.mountpoint.removeprefix("/dev/") for v in guest.volumes.values()}
                )
                for entry in stats:
                    qdev = str(entry.get("qdev", ""))
                    ident = qdev.rsplit("/", 2)[-2] if qdev.endswith("/virtio-backend") else qdev
                    if ident not in names:
                        continue
                    s = entry["stats"]
                    disks.append(
                        DiskDiagnostics(
                            device=names[ident],
                            read_bytes=s["rd_bytes"],
                            read_requests=s["rd_operations"],
                            write_bytes=s["wr_bytes"],
                            write_requests=s["wr_operations"],
                            errors_count=s.get("failed_rd_operations", 0)
                            + s.get("failed_wr_operations", 0),
                        )
                    )
                used_mb = min(guest.memory_mb, _rss_kb(guest) // 1024)
                memory = MemoryDiagnostics(maximum=int(balloon["actual"]) // MIB, used=used_mb)
            nics = []
            for vif in guest.network_info:
                tap = guest.taps.get(vif.id)
                c = self._taps.counters(tap) if tap else {}
                # The tap's transmit is the guest's receive.
                nics.append(
                    NicDiagnostics(
                        mac_address=vif.address,
                        rx_octets=c.get("tx_bytes", 0),
                        rx_packets=c.get("tx_packets", 0),
                        rx_errors=c.get("tx_errors", 0),
                        rx_drop=c.get("tx_dropped", 0),
                        tx_octets=c.get("rx_bytes", 0),
                        tx_packets=c.get("rx_packets", 0),
                        tx_errors=c.get("rx_errors", 0),
                        tx_drop=c.get("rx_dropped", 0),
                    )
                )
            return Diagnostics(
                state=state,
                driver=self.driver_name,
                hypervisor=self.accel,
                hypervisor_os="linux",
                uptime=int(time.monotonic() - guest.started_at)
                if guest.started_at and guest.alive()
                else None,
                config_drive=True,
                memory_details=memory,
                cpu_details=cpus,
                nic_details=nics,
                disk_details=disks,
            )

    def get_console_output(self, instance: Instance, tail_lines: int | None = None) -> str:
        """See :meth:`ComputeDriver.get_console_output`: the end of the guest's serial
        console log (``console.log`` in its instance directory, appended to by every
        QEMU process the guest had here), at most
        :data:`~cumulo.virt.qemu.console.CONSOLE_MAX_BYTES` of it; ``\r\n`` become
        ``\n``, and the last line may be one the guest is still writing.

        Raises:
            InstanceNotFound: no such guest on this host (or not arrived yet).
            ValueError: ``tail_lines`` is negative.
        """
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is not GuestPhase.ACTIVE:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            path = guest.console
        return console.read_console(path, tail_lines)

    # --- shared storage -------------------------------------------------------------------

    def check_instance_shared_storage_local(
        self, context: Context, instance: Instance
    ) -> SharedStorageProbe | None:
        """See :meth:`ComputeDriver.check_instance_shared_storage_local`: a marker
        file in the instance's directory."""
        directory = self._instances / str(instance.uuid)
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{instance.uuid}/.cumulo-probe-{uuidlib.uuid4().hex}"
        (self._instances / name).write_text(self.host)
        return SharedStorageProbe(host=self.host, filename=name)

    def check_instance_shared_storage_remote(
        self, context: Context, probe: SharedStorageProbe
    ) -> bool:
        """See :meth:`ComputeDriver.check_instance_shared_storage_remote`."""
        return _safe_child(self._instances, probe.filename).is_file()

    def check_instance_shared_storage_cleanup(
        self, context: Context, probe: SharedStorageProbe
    ) -> None:
        """See :meth:`ComputeDriver.check_instance_shared_storage_cleanup`; the
        instance directory goes too when the probe was all it held."""
        path = _safe_child(self._instances, probe.filename)
        path.unlink(missing_ok=True)
        parent = path.parent
        if parent != self._instances:
            with self._lock:
                in_use = any(g.directory == parent for g in self._guests.values())
            if not in_use:
                with contextlib.suppress(OSError):
                    parent.rmdir()

    # --- live migration -------------------------------------------------------------------

    def check_can_live_migrate_destination(
        self,
        context: Context,
        instance: Instance,
        src_compute_info: ComputeNode | None,
        dst_compute_info: ComputeNode | None,
        block_migration: bool = False,
        disk_over_commit: bool = False,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.check_can_live_migrate_destination`: same QEMU
        version, machine type and CPU model as the source; free vCPUs and RAM here
        (the driver's claims and the host's available memory); a probe file for
        the source to look for."""
        self._require_ready()
        with self._lock:
            uuid_ = instance.uuid

            def refuse(reason: str) -> MigrationPreCheckError:
                return MigrationPreCheckError(str(uuid_), self.host, reason)

            if uuid_ in self._guests:
                raise refuse(f"this host already has the guest ({self._guests[uuid_].phase})")
            if src_compute_info is not None:
                if src_compute_info.host == self.host:
                    raise refuse("source and destination are the same host")
                mine = self._cpu_info().model
                theirs = src_compute_info.cpu_info.model
                if theirs != mine:
                    raise refuse(f"CPU model/machine/QEMU differ: source {theirs!r}, here {mine!r}")
            vcpus, memory_mb, _ = common.claim_of(instance, True).as_tuple()
            cap, used = self._capacity(), self._used()
            free_mem = min(cap[1] - used[1], _meminfo_mb("MemAvailable"))
            if vcpus > cap[0] - used[0] or memory_mb > free_mem:
                raise refuse(
                    f"not enough room: vcpus {vcpus} needed, {cap[0] - used[0]} free; "
                    f"memory_mb {memory_mb} needed, {free_mem} free"
                )
            probe = f".cumulo-probe-{uuidlib.uuid4().hex}"
            (self._instances / probe).write_text(self.host)
            stat = os.statvfs(self._instances)
            return common.dest_check_data(
                self.host,
                self._host_ip,
                block_migration=block_migration,
                disk_over_commit=disk_over_commit,
                disk_available_mb=min(
                    (cap[2] - self._used()[2]) * 1024, stat.f_bavail * stat.f_frsize // MIB
                ),
                probe=probe,
            )

    def cleanup_live_migration_destination_check(
        self, context: Context, dest_check_data: LiveMigrateData
    ) -> None:
        """See :meth:`ComputeDriver.cleanup_live_migration_destination_check`."""
        if dest_check_data.filename:
            _safe_child(self._instances, dest_check_data.filename).unlink(missing_ok=True)

    def check_can_live_migrate_source(
        self,
        context: Context,
        instance: Instance,
        dest_check_data: LiveMigrateData,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.check_can_live_migrate_source`. Local disks on
        storage the destination does not share are copied (NBD mirror) whether or not
        ``block_migration`` was asked: that is how this driver migrates them."""
        with self._lock:
            uuid_ = instance.uuid

            def refuse(reason: str) -> MigrationPreCheckError:
                return MigrationPreCheckError(str(uuid_), self.host, reason)

            guest = self._guests.get(uuid_)
            if guest is None or guest.phase is not GuestPhase.ACTIVE:
                raise refuse("the guest does not run on this host")
            state = self._power_state(guest)
            if state not in (PowerState.RUNNING, PowerState.PAUSED):
                raise refuse(f"the guest is {state.name}, not running or paused")
            if dest_check_data.dest_host == self.host:
                raise refuse("source and destination are the same host")
            data = dest_check_data.obj_clone()
            filename = dest_check_data.filename
            shared = bool(filename) and _safe_child(self._instances, filename or "").is_file()
            data.is_shared_instance_path = shared
            data.is_volume_backed = guest.volume_backed
            data.is_shared_block_storage = shared
            data.instance_relative_path = str(uuid_)
            if not shared and not data.disk_over_commit:
                need_mb = guest.disk_gb * 1024
                have = data.disk_available_mb or 0
                if need_mb > have:
                    raise refuse(
                        f"the destination has {have} MiB free, the guest needs {need_mb} MiB"
                    )
            return data

    def pre_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        network_info: NetworkInfo,
        migrate_data: LiveMigrateData,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.pre_live_migration`: the disks (an empty overlay
        on the same base, a config-drive placeholder) unless storage is shared; taps;
        a QEMU with ``-incoming defer -S`` listening for the migration stream on a
        port and serving its local disks over NBD on the next port.

        The ports come back in ``migration_port`` and ``nbd_port`` (``None`` with
        shared storage: no disk is served) and, for release 0.1 sources, in
        ``target_connect_addr`` as ``address:port`` (NBD at port + 1)."""
        self._require_ready()
        with self._lock:
            uuid_ = instance.uuid
            if uuid_ in self._guests:
                raise InstanceExists(
                    str(uuid_), self.host, f"a guest ({self._guests[uuid_].phase})"
                )
            volume_backed = bool(migrate_data.is_volume_backed) or common.is_volume_backed(
                instance, block_device_info
            )
            vcpus, memory_mb, disk_gb = common.claim_of(instance, volume_backed).as_tuple()
            shared = bool(migrate_data.is_shared_instance_path)
            self._check_fits(uuid_, vcpus, memory_mb, 0 if shared else disk_gb)
            self._check_pluggable(uuid_, network_info)
            directory = self._instances / str(uuid_)
            guest = _Guest(
                uuid=uuid_,
                name=instance.name,
                directory=directory,
                phase=GuestPhase.INCOMING,
                vcpus=vcpus,
                memory_mb=memory_mb,
                disk_gb=0 if shared else disk_gb,
                volume_backed=volume_backed,
                instance=instance.obj_clone(),
                network_info=network_info.obj_clone(),
            )
            created_dir = not directory.exists()
            try:
                directory.mkdir(parents=True, exist_ok=True)
                if not shared:
                    if not volume_backed:
                        base = self._base_image(instance.image_ref)
                        images.create_overlay(guest.root_disk, base, instance_root_bytes(instance))
                    with guest.config_drive.open("wb") as f:
                        f.truncate(self._config_drive_bytes)
                self._plug(guest, network_info)
                data = migrate_data.obj_clone()
                data.bdms = common.live_migrate_bdms(
                    common.volumes_to_connect(uuid_, block_device_info, needs_path=True),
                    lambda volume: self._record_volume(guest, volume).connection_info,
                    default_bus=DiskBus.SCSI,
                )
                self._guests[uuid_] = guest
                port = _free_port_pair(str(self._host_ip))
                listen = f"{endpoints.uri_host(str(self._host_ip))}:{port}"
                guest.incoming_port = port
                self._start(guest, incoming=True)
                with self._qmp(guest).session() as qmp:
                    qmp.cmd(
                        "migrate-set-capabilities",
                        capabilities=[{"capability": "events", "state": True}],
                    )
                    qmp.cmd(
                        "migrate-incoming",
                        uri=f"tcp:{endpoints.uri_host(str(self._host_ip))}:{port}",
                    )
                    if not shared:
                        qmp.cmd(
                            "nbd-server-start",
                            addr={
                                "type": "inet",
                                "data": {"host": str(self._host_ip), "port": str(port + 1)},
                            },
                        )
                        for node in self._local_nodes(guest):
                            qmp.cmd(
                                "block-export-add",
                                type="nbd",
                                id=f"export-{node}",
                                **{"node-name": node},
                                name=node,
                                writable=True,
                            )
            except BaseException:
                self._guests.pop(uuid_, None)
                self._stop_process(guest)
                self._unplug_all(guest)
                if created_dir or not shared:
                    guest.root_disk.unlink(missing_ok=True)
                    guest.config_drive.unlink(missing_ok=True)
                if created_dir:
                    shutil.rmtree(directory, ignore_errors=True)
                raise
            data.vifs = common.vif_migrate_data(network_info, self.host)
            data.serial_listen_addr = self._host_ip
            data.target_connect_addr = listen
            data.migration_port = port
            data.nbd_port = None if shared else port + 1
            data.dest_host = self.host
            return data

    def _local_nodes(self, guest: _Guest) -> list[str]:
        nodes = [] if guest.volume_backed else ["root"]
        return [*nodes, "config"]

    def _migrate_guest(
        self,
        context: Context,
        instance: Instance,
        dest: str,
        block_migration: bool,
        migrate_data: LiveMigrateData,
    ) -> None:
        """See :meth:`ComputeDriver._migrate_guest`: mirror the local disks to the
        destination's NBD exports, ``migrate`` with progress from ``query-migrate``
        written into ``migrate_data.migration``, then end the source process.

        The destination is ``migrate_data.target_connect_addr``'s address, on
        ``migration_port`` and ``nbd_port``; from a release 0.1 destination (which
        leaves them ``None``), on the port of ``target_connect_addr`` and that port
        + 1 (see :mod:`cumulo.virt.qemu.endpoints`)."""
        data = migrate_data
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is not GuestPhase.ACTIVE or not guest.alive():
                raise MigrationError(str(instance.uuid), self.host, "the guest does not run here")
            monitor = self._qmp(guest)
        try:
            target = endpoints.endpoints_of(data)
        except ValueError as error:
            raise MigrationError(str(guest.uuid), self.host, str(error)) from error
        shared = bool(data.is_shared_instance_path)
        migration = data.migration
        jobs: list[str] = []
        nbd_nodes: list[str] = []
        with monitor.session() as qmp:
            was_running = qmp.cmd("query-status")["status"] == "running"
            try:
                if not shared:
                    devices = {"root-disk": "root", "config-cd": "config"}
                    inserted = {
                        str(b.get("qdev", "")).rsplit("/", 2)[-2]
                        if str(b.get("qdev", "")).endswith("/virtio-backend")
                        else str(b.get("qdev", "")): b["inserted"]["node-name"]
                        for b in qmp.cmd("query-block")
                        if b.get("inserted")
                    }
                    for export in self._local_nodes(guest):
                        device = next(d for d, e in devices.items() if e == export)
                        node = f"nbd-{export}"
                        qmp.cmd(
                            "blockdev-add",
                            driver="nbd",
                            **{"node-name": node},
                            server={
                                "type": "inet",
                                "host": target.host,
                                "port": str(target.nbd_port),
                            },
                            export=export,
                        )
                        nbd_nodes.append(node)
                        job = f"mirror-{export}"
                        qmp.cmd(
                            "blockdev-mirror",
                            **{"job-id": job},
                            device=inserted[device],
                            target=node,
                            sync="top" if export == "root" else "full",
                        )
                        jobs.append(job)

                    def mirrors_ready(s: MonitorSession) -> bool | None:
                        listing = {j["device"]: j for j in s.cmd("query-block-jobs")}
                        if migration is not None:
                            total = sum(int(j["len"]) for j in listing.values())
                            done = sum(int(j["offset"]) for j in listing.values())
                            migration.disk_total, migration.disk_processed = total, done
                            migration.disk_remaining = total - done
                        missing = [j for j in jobs if j not in listing]
                        if missing:
                            raise MigrationError(
                                str(guest.uuid), self.host, f"disk mirror {missing} stopped"
                            )
                        return True if all(listing[j]["ready"] for j in jobs) else None

                    _poll(qmp, mirrors_ready, 300, "the disk mirrors to be ready")
                if self._migration_bandwidth:
                    qmp.cmd(
                        "migrate-set-parameters", **{"max-bandwidth": self._migration_bandwidth}
                    )
                qmp.cmd("migrate", uri=target.migration_uri)

                def finished(s: MonitorSession) -> dict[str, Any] | None:
                    info: dict[str, Any] = s.cmd("query-migrate")
                    ram = info.get("ram")
                    if migration is not None and ram:
                        migration.memory_total = int(ram["total"])
                        migration.memory_processed = int(ram["transferred"])
                        migration.memory_remaining = int(ram["remaining"])
                    if info.get("status") in ("completed", "failed", "cancelled"):
                        return info
                    return None

                info = _poll(qmp, finished, 600, "the migration to finish", interval=0.02)
                if info["status"] != "completed":
                    raise MigrationError(
                        str(guest.uuid),
                        self.host,
                        f"migration {info['status']}: {info.get('error-desc', 'no reason given')}",
                    )
                for job in jobs:
                    qmp.cmd("block-job-cancel", device=job)

                def jobs_gone(s: MonitorSession) -> bool | None:
                    left = {j["device"] for j in s.cmd("query-block-jobs")} & set(jobs)
                    return None if left else True

                _poll(qmp, jobs_gone, 60, "the disk mirrors to finish")
                if migration is not None:
                    migration.memory_remaining = 0
                    if migration.disk_total is not None:
                        migration.disk_processed = migration.disk_total
                        migration.disk_remaining = 0
                self.last_migration_stats = info
            except BaseException:
                _recover_source(qmp, jobs, nbd_nodes, was_running)
                raise
        with self._lock:
            self._stop_process(guest)
            guest.phase = GuestPhase.DEPARTED
            guest.vcpus = guest.memory_mb = 0

    last_migration_stats: dict[str, Any] | None = None
    """The final ``query-migrate`` of the last live migration from this host
    (total time, downtime, RAM transferred), for tools and benchmarks."""

    def post_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration`: forgets the volume
        connections of this host (the process that held them is gone)."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            if guest.phase is not GuestPhase.DEPARTED:
                raise MigrationError(str(guest.uuid), self.host, "the guest still runs here")
            guest.volumes.clear()

    def post_live_migration_at_source(
        self, context: Context, instance: Instance, network_info: NetworkInfo
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration_at_source`: removes the taps."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None and guest.phase is GuestPhase.ACTIVE:
                raise MigrationError(str(guest.uuid), self.host, "the guest still runs here")
            for vif in network_info:
                tap = guest.taps.pop(vif.id, None) if guest else None
                self._taps_remove(tap or tap_name(self.host, str(vif.id)))

    def post_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_migration: bool = False,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration_at_destination`: stops the NBD
        server and lets the guest run (``cont``) unless it was paused at the source
        (``instance.power_state``)."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is GuestPhase.DEPARTED or not guest.alive():
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            with self._qmp(guest).session() as qmp:

                def arrived(s: MonitorSession) -> bool | None:
                    return None if s.cmd("query-status")["status"] == "inmigrate" else True

                _poll(qmp, arrived, 60, "the guest to arrive")
                # With shared storage no NBD server was started.
                with contextlib.suppress(MonitorError):
                    qmp.cmd("nbd-server-stop")
                paused = (
                    instance.obj_attr_is_set("power_state")
                    and instance.power_state is PowerState.PAUSED
                )
                if not paused and qmp.cmd("query-status")["status"] != "running":
                    qmp.cmd("cont")
            guest.phase = GuestPhase.ACTIVE
            guest.started_at = time.monotonic()
            self._check_pluggable(guest.uuid, network_info)
            self._plug(guest, network_info)
            guest.network_info = network_info.obj_clone()
            self._write_config_drive_if_needed(guest)

    def rollback_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None,
        destroy_disks: bool = True,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.rollback_live_migration_at_destination`: stops
        the waiting QEMU, removes taps, filter and (``destroy_disks``) the disks."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:
                return
            if guest.phase is not GuestPhase.INCOMING:
                raise MigrationError(
                    str(guest.uuid), self.host, f"cannot roll back: the guest is {guest.phase} here"
                )
            del self._guests[guest.uuid]
            self._stop_process(guest)
            self._unplug_all(guest)
            self._unfilter(guest.uuid)
            if destroy_disks:
                shutil.rmtree(guest.directory, ignore_errors=True)

    # --- internals: processes -------------------------------------------------------------

    def _spec(self, guest: _Guest, *, incoming: bool) -> process.GuestSpec:
        nics = tuple(
            process.NicSpec(ident=_ident(vif.id), mac=str(vif.address), tap=guest.taps.get(vif.id))
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

    def _start(self, guest: _Guest, *, incoming: bool = False) -> None:
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

    def _stop_process(self, guest: _Guest) -> None:
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

    def _acpi_shutdown(self, guest: _Guest, timeout: float, retry_interval: float = 0) -> bool:
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

    def _qmp(self, guest: _Guest) -> Monitor:
        if guest.monitor is None or not guest.alive():
            raise InvalidPowerState(
                str(guest.uuid), "talk to", self._power_state(guest).name, ["RUNNING"]
            )
        return guest.monitor

    def _power_state(self, guest: _Guest) -> PowerState:
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
        return _STATUS.get(status, PowerState.NOSTATE)

    def _require(self, guest: _Guest, action: str, allowed: tuple[PowerState, ...]) -> None:
        state = self._power_state(guest)
        if state not in allowed:
            raise InvalidPowerState(str(guest.uuid), action, state.name, [s.name for s in allowed])

    def _active(self, instance_uuid: UUID, action: str) -> _Guest:
        guest = self._guests.get(instance_uuid)
        if guest is None or guest.phase is not GuestPhase.ACTIVE:
            raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
        return guest

    def _vcpu_times(self, guest: _Guest) -> dict[int, int]:
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

    # --- internals: disks -----------------------------------------------------------------

    def _base_image(self, image_ref: str | None) -> Path:
        if image_ref:
            candidate = _safe_child(self._images, image_ref)
            if candidate.is_file():
                return candidate
        if self._default_image is not None and self._default_image.is_file():
            return self._default_image
        raise ImageNotFound(image_ref, self._images)

    def _write_config_drive(self, guest: _Guest) -> None:
        files = list(guest.files.values())
        configdrive.build_config_drive(
            guest.config_drive,
            meta=configdrive.meta_data(guest.instance, files, guest.admin_pass_hash),
            network=configdrive.network_data(guest.network_info),
            files=files,
            size_bytes=self._config_drive_bytes,
        )
        guest.config_writes += 1

    def _write_config_drive_if_needed(self, guest: _Guest) -> None:
        """After a migration the mirrored ISO holds the files; re-read them so later
        injections keep them."""
        if guest.files or not guest.config_drive.is_file():
            return
        try:
            found = configdrive.read_config_drive(guest.config_drive)
        except Exception:  # a placeholder that never got mirrored: nothing to keep
            return
        meta = found.get(configdrive.META_DATA)
        if meta is None:
            return
        import json

        doc = json.loads(meta)
        for entry in doc.get("files", []):
            body = found.get("/openstack" + entry["content_path"])
            if body is not None:
                guest.files[entry["path"]] = InjectedFile.of(entry["path"], body)
        guest.admin_pass_hash = doc.get("admin_pass_hash")

    def _refresh_config_drive(self, guest: _Guest) -> None:
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

    def _record_volume(self, guest: _Guest, to_connect: common.VolumeToConnect) -> _Volume:
        bdm, info, mount = to_connect.bdm, to_connect.connection_info, to_connect.mountpoint
        self._check_bus(guest, bdm.disk_bus, mount)
        self._check_connectable(guest, info, mount)
        volume = self._make_volume(info, mount, bdm.disk_bus, bdm.device_type)
        volume.boot = bdm.is_root
        info.device_path = info.path
        volume.connection_info.device_path = info.path
        guest.volumes[volume.volume_id] = volume
        return volume

    def _check_bus(self, guest: _Guest, disk_bus: DiskBus | None, mountpoint: str) -> None:
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
    ) -> _Volume:
        path = connection_info.path
        if path is None or not Path(path).exists():
            raise VirtDriverError(
                f"volume {connection_info.volume_id}: connection info path {path!r} "
                "is not a file here"
            )
        return _Volume(
            volume_id=connection_info.volume_id,
            mountpoint=mount,
            connection_info=connection_info.obj_clone(),
            ident=f"vol-{connection_info.volume_id.hex[:16]}",
            lun=_lun_of(mount),
            disk_bus=disk_bus,
            device_type=device_type,
        )

    def _check_connectable(
        self, guest: _Guest, connection_info: VolumeConnectionInfo, mount: str
    ) -> None:
        lun = _lun_of(mount)
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

    def _hotplug(self, guest: _Guest, volume: _Volume) -> None:
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

    def _unhotplug(self, guest: _Guest, volume: _Volume) -> None:
        assert guest.monitor is not None
        with guest.monitor.session() as qmp:
            qmp.cmd("device_del", id=volume.ident)

            def gone(s: MonitorSession) -> bool | None:
                present = any(
                    str(b.get("qdev", "")).endswith(volume.ident) for b in s.cmd("query-block")
                )
                return None if present else True

            _poll(qmp, gone, 30, f"device {volume.ident} to go")
            for node in (volume.ident, f"{volume.ident}-file"):
                nodes = {n["node-name"] for n in s_nodes(qmp)}
                if node in nodes:
                    qmp.cmd("blockdev-del", **{"node-name": node})

    # --- internals: network ---------------------------------------------------------------

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

    def _plug(self, guest: _Guest, network_info: NetworkInfo) -> None:
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

    def _hotplug_nics(self, guest: _Guest, network_info: NetworkInfo) -> None:
        assert guest.monitor is not None
        with guest.monitor.session() as qmp:
            present = {str(n.get("name", "")) for n in qmp.cmd("query-rx-filter")}
            for index, vif in enumerate(network_info):
                ident = _ident(vif.id)
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

    def _unplug_all(self, guest: _Guest) -> None:
        for tap in guest.taps.values():
            self._taps_remove(tap)
        guest.taps.clear()

    def _taps_remove(self, tap: str) -> None:
        if self.network_mode == "tap":
            self._taps.remove_tap(tap)

    def _check_fits(self, instance_uuid: UUID, vcpus: int, memory_mb: int, disk_gb: int) -> None:
        cap, used = self._capacity(), self._used()
        free = common.Resources(*(c - u for c, u in zip(cap, used, strict=True)))
        common.check_fits(
            self.host, instance_uuid, common.Resources(vcpus, memory_mb, disk_gb), free
        )

    def shutdown(self) -> None:
        """Stop every QEMU process of this driver and remove its taps and table
        (for tests and tools; a compute service leaves its guests running)."""
        with self._lock:
            for guest in list(self._guests.values()):
                self._stop_process(guest)
                self._unplug_all(guest)
            self._guests.clear()
            self._filters.clear()
            if self.firewall_mode == "nft":
                with contextlib.suppress(nftables.NftError):
                    nftables.delete_table(self.host)


_STATUS: Final = {
    "running": PowerState.RUNNING,
    "paused": PowerState.PAUSED,
    "prelaunch": PowerState.PAUSED,
    "inmigrate": PowerState.PAUSED,
    "postmigrate": PowerState.PAUSED,
    "finish-migrate": PowerState.PAUSED,
    "save-vm": PowerState.PAUSED,
    "restore-vm": PowerState.PAUSED,
    "debug": PowerState.PAUSED,
    "suspended": PowerState.SUSPENDED,
    "shutdown": PowerState.SHUTDOWN,
    "internal-error": PowerState.CRASHED,
    "io-error": PowerState.CRASHED,
    "guest-panicked": PowerState.CRASHED,
    "watchdog": PowerState.CRASHED,
}


def s_nodes(qmp: MonitorSession) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = qmp.cmd("query-named-block-nodes")
    return nodes


def _recover_source(
    qmp: MonitorSession, jobs: list[str], nbd_nodes: list[str], was_running: bool
) -> None:
    """After a failed migration: cancel what is left, drop the NBD clients, and make
    sure the guest runs as before."""
    steps: list[tuple[str, dict[str, Any]]] = [("migrate_cancel", {})]
    steps += [("block-job-cancel", {"device": job, "force": True}) for job in jobs]
    for name, args in steps:
        with contextlib.suppress(MonitorError):
            qmp.cmd(name, **args)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            left = {j["device"] for j in qmp.cmd("query-block-jobs")} & set(jobs)
            status = qmp.cmd("query-migrate").get("status")
        except MonitorError:
            break
        if not left and status not in ("active", "setup", "cancelling", "device", "pre-switchover"):
            break
        time.sleep(0.05)
    for node in nbd_nodes:
        with contextlib.suppress(MonitorError):
            qmp.cmd("blockdev-del", **{"node-name": node})
    try:
        if was_running and qmp.cmd("query-status")["status"] != "running":
            qmp.cmd("cont")
    except MonitorError:
        pass


def _poll(
    qmp: MonitorSession,
    probe: Any,
    timeout: float,
    what: str,
    interval: float = 0.05,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = probe(qmp)
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise MonitorError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _wait_migration(qmp: MonitorSession, timeout: float) -> dict[str, Any]:
    def done(s: MonitorSession) -> dict[str, Any] | None:
        info: dict[str, Any] = s.cmd("query-migrate")
        return info if info.get("status") in ("completed", "failed", "cancelled") else None

    result: dict[str, Any] = _poll(qmp, done, timeout, "the migration to finish")
    return result


def _ident(vif_id: UUID) -> str:
    return vif_id.hex[:16]


def _lun_of(mount: str) -> int:
    """``/dev/sdb`` → 1 (LUN 0 is the config drive)."""
    name = mount.removeprefix("/dev/")
    letters = name[2:] if name[:2] in ("sd", "vd", "hd", "xv") else name[-1:]
    index = 0
    for char in letters:
        if not char.isalpha():
            raise ValueError(f"mountpoint {mount!r}: expected a name such as /dev/sdb")
        index = index * 26 + (ord(char.lower()) - ord("a") + 1)
    lun = index - 1
    if lun < 1:
        raise DeviceInUse("-", mount, "the root disk or config drive")
    return lun


def _free_port_pair(address: str) -> int:
    """A port ``p`` such that ``p`` and ``p + 1`` are free on ``address``."""
    for _ in range(200):
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as first:
            first.bind((address, 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket(first.family) as second:
                try:
                    second.bind((address, port + 1))
                except OSError:
                    continue
            return port
    raise VirtDriverError(f"no free pair of ports on {address}")


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _safe_child(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if root != path and root not in path.parents:
        raise ValueError(f"path {relative!r} leaves {root}")
    return path


def _meminfo_mb(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    return 0


def _rss_kb(guest: _Guest) -> int:
    if guest.process is None:
        return 0
    try:
        for line in Path(f"/proc/{guest.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def instance_root_bytes(instance: Instance) -> int | None:
    """The root disk size the instance asks for (``None``: the image's own)."""
    root_gb = instance.size().root_gb
    return root_gb * GIB if root_gb else None
