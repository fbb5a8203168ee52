"""``FakeDriver``: an in-memory hypervisor, one per host, that keeps real books.

It claims vCPUs, memory and disk on spawn and refuses what does not fit; enforces
the guest power-state machine; tracks attached volumes, plugged VIFs, firewall
filters, injected files and applied network info; advances diagnostics counters
with the guest's running time (from an injectable clock) and with operations; and
live-migrates guests between hosts of one :class:`FakeHypervisorNetwork`.

Across processes (a compute process per host), hosts live-migrate through a
:class:`~cumulo.virt.fake_network.FakeMigrationChannel` (a directory they all see,
``migration_channel=``), with the RPC steps of a live migration doing the
hand-over: the destination's ``pre_live_migration`` reserves the guest (claims,
VIFs, volumes) and tells the channel it expects it; the source's
``live_migration`` checks that the destination expects the guest, sends its whole
state (power state, running time and counters, network info, injected files...)
and leaves it ``DEPARTED``; the destination takes the guest in on its
``post_live_migration_at_destination`` (or refuses it in
``rollback_live_migration_at_destination``, as in one process). Differences from
one process: instance storage is never shared between processes (a guest with a
local disk needs block migration), and the destination's arrival checks (and an
injected :data:`INCOMING_LIVE_MIGRATION` failure) run when it takes the guest in,
after the source has let it go, so they fail
``post_live_migration_at_destination`` instead of reaching ``recover_method``.

Each guest prints a line on its (serial) console for what happens to it — boot,
reboot, power off/on, pause, suspend, volume attach/detach, file injection, arrival
after a live migration — and keeps the last :data:`CONSOLE_LINES` of them
(``get_console_output``). An in-process live migration carries the console along;
a guest arriving through a :class:`FakeMigrationChannel` starts a fresh one (the
channel's format is the one release 0.1 hosts read and write, and has no console).

Everything it holds is readable through the driver interface (``get_info``,
``get_diagnostics``, ``get_console_output``, ``list_instances``,
``get_available_resource``) and through
the read-only :meth:`FakeDriver.describe_guest` / :meth:`FakeDriver.describe_host`
views; failures are injected with :meth:`FakeDriver.inject_failure`. No module
state: any number of hosts share one process.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import functools
import ipaddress
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Concatenate, Final, ParamSpec, TypeVar
from uuid import UUID

from cumulo.model import (
    VIF,
    AccessMode,
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
    Direction,
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
    Protocol,
    RebootType,
    SecurityGroupList,
    SecurityGroupRule,
    SharedStorageProbe,
    VolumeConnectionInfo,
    VolumeConnector,
)
from cumulo.objects import MACAddress

from . import common, device_names, firewall
from .common import Resources as _Claim
from .driver import (
    CAPABILITIES,
    ComputeDriver,
)
from .exceptions import (
    DeviceInUse,
    InjectedFailure,
    InstanceExists,
    InstanceNotFiltered,
    InstanceNotFound,
    InvalidPowerState,
    MigrationError,
    MigrationPreCheckError,
    VolumeAlreadyAttached,
    VolumeNotAttached,
)
from .fake_network import FakeHypervisorNetwork, FakeMigrationChannel, FakeStorage

__all__ = [
    "FAILURE_POINTS",
    "AttachedVolume",
    "FakeDriver",
    "FakeHypervisorNetwork",
    "FakeMigrationChannel",
    "GuestPhase",
    "GuestView",
    "HostView",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ends the message of InvalidGuestSize from this driver.
_SIZE_HINT: Final = " (is the flavor set?)"

# How a fake guest loads its virtual hardware per second of running time; the
# counters in get_info/get_diagnostics are these rates times running seconds,
# plus what operations add (boot reads, injected files, DHCP on reset_network).
CPU_UTILISATION: Final = 0.25
"""Fraction of each vCPU a running guest keeps busy."""
NIC_RX_BYTES_PER_S: Final = 2_000
NIC_TX_BYTES_PER_S: Final = 1_000
PACKET_BYTES: Final = 500
DISK_READ_BYTES_PER_S: Final = 8_192
DISK_WRITE_BYTES_PER_S: Final = 4_096
IO_REQUEST_BYTES: Final = 4_096
BOOT_READ_BYTES: Final = 50 * 1024 * 1024
"""What a guest reads from its root disk while booting."""
DHCP_EXCHANGE_BYTES: Final = 600
"""Traffic of one DHCP exchange (two packets each way), on ``reset_network``."""
MEMORY_USED_FRACTION: Final = 0.5
"""Share of its memory a booted guest touches."""
CONSOLE_LINES: Final = 1000
"""Console lines a guest keeps (the oldest go first)."""

GIB: Final = 1024**3
MIB: Final = 1024**2

INCOMING_LIVE_MIGRATION: Final = "incoming_live_migration"
"""The failure point on the destination when a live-migrated guest arrives (after
``pre_live_migration``, inside the source's ``live_migration``)."""


def _interface_methods() -> frozenset[str]:
    names: set[str] = set()
    for group in CAPABILITIES:
        names.update(
            name
            for name, value in vars(group).items()
            if callable(value) and not name.startswith("_")
        )
    return frozenset(names)


FAILURE_POINTS: Final = _interface_methods() | {INCOMING_LIVE_MIGRATION}
"""The operations :meth:`FakeDriver.inject_failure` accepts: every driver method,
and :data:`INCOMING_LIVE_MIGRATION`."""


class GuestPhase(enum.StrEnum):
    """Where a guest record stands on this host."""

    ACTIVE = "active"
    """The guest runs on this host (whatever its power state)."""
    MIGRATING = "migrating"
    """The guest runs here and is being live-migrated away."""
    INCOMING = "incoming"
    """``pre_live_migration`` made room here; the guest has not arrived yet."""
    DEPARTED = "departed"
    """The guest was live-migrated away; what it left awaits post steps and cleanup."""


_RUNS_HERE = (GuestPhase.ACTIVE, GuestPhase.MIGRATING)


@dataclasses.dataclass(frozen=True)
class AttachedVolume:
    """A volume connected to this host for a guest."""

    instance_uuid: UUID
    volume_id: UUID
    mountpoint: str
    connection_info: VolumeConnectionInfo
    disk_bus: DiskBus | None = None
    device_type: DeviceType | None = None
    read_only: bool = False
    """Connected read-only (``connection_info.access_mode`` ``ro``): the guest
    cannot write to it, and its write counters stay at zero."""


@dataclasses.dataclass(frozen=True)
class GuestView:
    """A read-only copy of what the fake holds for one guest (``describe_guest``).

    ``vcpus``/``memory_mb``/``disk_gb`` are what the guest holds claimed on this
    host (a departed guest keeps only its disk until ``cleanup``).
    """

    uuid: UUID
    name: str
    host: str
    phase: GuestPhase
    power_state: PowerState
    internal_id: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    volume_backed: bool
    has_instance_dir: bool
    """The host's instance storage holds the guest's directory (local disks, config data)."""
    volumes: tuple[AttachedVolume, ...]
    vifs: tuple[VIF, ...]
    """The guest's VIFs plugged on this host."""
    network_info: NetworkInfo
    """The network info last applied to the guest."""
    filtered: bool
    firewall_rules: tuple[SecurityGroupRule, ...]
    security_group_ids: tuple[int, ...]
    injected_files: tuple[InjectedFile, ...]
    admin_password_set: bool
    boot_count: int
    network_injections: int
    network_resets: int


@dataclasses.dataclass(frozen=True)
class HostView:
    """A read-only copy of everything the fake holds on its host (``describe_host``),
    guest records or not: what a leak would show up in."""

    host: str
    guests: tuple[GuestView, ...]
    plugged_vifs: tuple[tuple[UUID, UUID], ...]
    """(VIF id, instance uuid) of every VIF plugged on the host."""
    volume_connections: tuple[AttachedVolume, ...]
    filtered_instances: tuple[UUID, ...]
    instance_dirs: tuple[UUID, ...]
    """Instance directories in the host's instance storage (shared pools: all hosts')."""
    probes: tuple[str, ...]
    vcpus_used: int
    memory_mb_used: int
    disk_gb_used: int


@dataclasses.dataclass
class _Failure:
    exc: BaseException | type[BaseException] | None
    remaining: int | None


@dataclasses.dataclass
class _Filter:
    rules: list[SecurityGroupRule]
    group_ids: list[int]
    network_info: NetworkInfo


@dataclasses.dataclass
class _Guest:
    uuid: UUID
    name: str
    phase: GuestPhase
    internal_id: str
    claim: _Claim
    volume_backed: bool
    power_state: PowerState = PowerState.SHUTDOWN
    network_info: NetworkInfo = dataclasses.field(default_factory=NetworkInfo)
    files: dict[str, InjectedFile] = dataclasses.field(default_factory=dict)
    admin_password_set: bool = False
    config_drive: bool = False
    boot_count: int = 0
    network_injections: int = 0
    network_resets: int = 0
    # Seconds spent RUNNING before running_since; running_since is set while RUNNING.
    running_total: float = 0.0
    running_since: float | None = None
    # Clock time of the last boot while the guest is up (RUNNING or PAUSED).
    booted_at: float | None = None
    boot_read_bytes: int = 0
    config_write_bytes: int = 0
    config_write_requests: int = 0
    # Extra NIC traffic from operations, per VIF id: [rx bytes, rx packets, tx bytes, tx packets].
    nic_extra: dict[UUID, list[int]] = dataclasses.field(default_factory=dict)
    console: collections.deque[str] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=CONSOLE_LINES)
    )

    def write_console(self, line: str) -> None:
        """The guest writes ``line`` on its console."""
        self.console.append(line)


@dataclasses.dataclass
class _Connection:
    mountpoint: str
    connection_info: VolumeConnectionInfo
    disk_bus: DiskBus | None
    device_type: DeviceType | None
    # Guest running seconds when attached: the volume's counters start there.
    attached_at_run_s: float
    read_only: bool = False


@dataclasses.dataclass(frozen=True)
class _Transfer:
    """What a live migration carries from source to destination."""

    uuid: UUID
    power_state: PowerState
    run_s: float
    uptime_s: float | None
    network_info: NetworkInfo
    files: dict[str, InjectedFile]
    admin_password_set: bool
    config_drive: bool
    boot_count: int
    network_injections: int
    network_resets: int
    boot_read_bytes: int
    config_write_bytes: int
    config_write_requests: int
    nic_extra: dict[UUID, list[int]]
    volume_ids: frozenset[UUID]
    vif_ids: frozenset[UUID]
    filtered: bool
    volume_backed: bool
    local_disk: bool
    storage: FakeStorage
    # Neither travels on a FakeMigrationChannel (its format is release 0.1's): a
    # guest that came through one starts a fresh console.
    console: tuple[str, ...] | None = None
    source_host: str | None = None


_Host = TypeVar("_Host", bound="FakeDriver")
_Args = ParamSpec("_Args")
_Result = TypeVar("_Result")


def failure_point(
    method: Callable[Concatenate[_Host, _Args], _Result],
) -> Callable[Concatenate[_Host, _Args], _Result]:
    """Make a driver method a failure point: it runs under the host's lock and, when
    :meth:`FakeDriver.inject_failure` queued a failure for it, fails on entry,
    before it changes anything."""
    operation = method.__name__

    @functools.wraps(method)
    def run(self: _Host, /, *args: _Args.args, **kwargs: _Args.kwargs) -> _Result:
        with self._lock:
            self._maybe_fail(operation)
            return method(self, *args, **kwargs)

    run.failure_point = operation  # type: ignore[attr-defined]
    return run


def arrival_point(
    method: Callable[Concatenate[_Host, Context, Instance, _Args], _Result],
) -> Callable[Concatenate[_Host, Context, Instance, _Args], _Result]:
    """A failure point on the destination of a live migration that first takes in
    the guest a source in another process sent through the migration channel, so an
    injected failure comes after the guest arrived, as it does in one process."""
    operation = method.__name__

    @functools.wraps(method)
    def run(
        self: _Host,
        context: Context,
        instance: Instance,
        /,
        *args: _Args.args,
        **kwargs: _Args.kwargs,
    ) -> _Result:
        with self._lock:
            self._take_in(instance)
            self._maybe_fail(operation)
            return method(self, context, instance, *args, **kwargs)

    run.failure_point = operation  # type: ignore[attr-defined]
    return run


class FakeDriver(ComputeDriver):
    """An in-memory hypervisor for one host (see the module docstring).

    Args:
        host: the compute host it serves.
        vcpus, memory_mb, disk_gb: the host's capacity (MiB, GiB); no overcommit.
        network: the fake network connecting hosts of this process (live
            migration, shared storage, remote security groups); ``None``: a lone host.
        migration_channel: a :class:`FakeMigrationChannel` (or its directory) to
            live-migrate with hosts of other processes (see the module docstring);
            hosts of ``network`` are still reached directly.
        host_ip: the host's address (default: the next address of ``network``,
            else ``127.0.0.1``).
        storage_pool: the instance storage this host uses; hosts on one network
            naming the same pool share instance storage (default: the host's own).
        cpu_arch, cpu_model, cpu_features: the host CPU (live migration needs the
            destination to have every feature of the source).
        mac_pool: MACs the host's NICs are fixed to (``macs_for_instance``); VIFs
            with other MACs cannot be plugged. ``None``: any MAC.
        dhcp_options: extra DHCP options the host's guests need (PXE...).
        clock: seconds, monotonic; what diagnostics counters advance with.
    """

    driver_name = "fake"

    DEFAULT_VCPUS: Final = 64
    DEFAULT_MEMORY_MB: Final = 256 * 1024
    DEFAULT_DISK_GB: Final = 4096
    DEFAULT_CPU_FEATURES: Final = ("sse4_2", "avx", "avx2", "aes")
    HYPERVISOR_VERSION: Final = 1_000_000

    def __init__(
        self,
        host: str,
        *,
        vcpus: int = DEFAULT_VCPUS,
        memory_mb: int = DEFAULT_MEMORY_MB,
        disk_gb: int = DEFAULT_DISK_GB,
        network: FakeHypervisorNetwork | None = None,
        migration_channel: FakeMigrationChannel | str | os.PathLike[str] | None = None,
        host_ip: IPAddress | str | None = None,
        storage_pool: str | None = None,
        cpu_arch: Architecture = Architecture.X86_64,
        cpu_model: str = "fake-cpu",
        cpu_features: Iterable[str] = DEFAULT_CPU_FEATURES,
        mac_pool: Iterable[str] | None = None,
        dhcp_options: Sequence[DhcpOption] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(host)
        for name, value in (("vcpus", vcpus), ("memory_mb", memory_mb), ("disk_gb", disk_gb)):
            if value < 0:
                raise ValueError(f"{name}: expected a capacity >= 0, got {value}")
        self._capacity = _Claim(vcpus, memory_mb, disk_gb)
        self._network = network
        if host_ip is not None:
            self._host_ip: IPAddress = ipaddress.ip_address(host_ip)
        elif network is not None:
            self._host_ip = network.allocate_address()
        else:
            self._host_ip = ipaddress.IPv4Address("127.0.0.1")
        pool_name = storage_pool or f"local:{host}"
        self._storage = network.storage(pool_name) if network else FakeStorage(pool_name)
        self._cpu_arch = cpu_arch
        self._cpu_model = cpu_model
        self._cpu_features = tuple(sorted(set(cpu_features)))
        self._mac_pool = (
            None if mac_pool is None else frozenset(MACAddress(m.lower()) for m in mac_pool)
        )
        self._dhcp_options = [option.obj_clone() for option in dhcp_options]
        self._clock = clock
        self._lock = threading.RLock()
        self._guests: dict[UUID, _Guest] = {}
        self._vifs: dict[UUID, tuple[UUID, VIF]] = {}
        self._connections: dict[tuple[UUID, UUID], _Connection] = {}
        self._filters: dict[UUID, _Filter] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._domain_ids = 0
        if migration_channel is not None and not isinstance(
            migration_channel, FakeMigrationChannel
        ):
            migration_channel = FakeMigrationChannel(migration_channel)
        self._channel: FakeMigrationChannel | None = migration_channel
        if migration_channel is not None:
            migration_channel.open(host)
        if network is not None:
            network.join(self)

    # --- failure injection ----------------------------------------------------------------

    def inject_failure(
        self,
        operation: str,
        exc: BaseException | type[BaseException] | None = None,
        times: int | None = 1,
    ) -> None:
        """Make the next ``times`` calls of ``operation`` fail (``None``: every call
        until :meth:`clear_failures`).

        The failure happens when the call starts, before it changes anything, so a
        failed call leaves the host as it was. ``exc`` is raised as given (an
        instance) or made with a message (a class); by default
        :class:`~cumulo.virt.exceptions.InjectedFailure`. ``live_migration`` does not
        raise: it reports the failure to ``recover_method``, as for any migration
        failure; the same goes for :data:`INCOMING_LIVE_MIGRATION` on the destination.
        Failures queue up: two calls inject two failures, used in order.

        Args:
            operation: a driver method name or :data:`INCOMING_LIVE_MIGRATION`.
            exc: what to raise.
            times: how many calls fail (>= 1), or ``None`` for all.

        Raises:
            ValueError: ``operation`` is not in :data:`FAILURE_POINTS`, or ``times`` < 1.
        """
        if operation not in FAILURE_POINTS:
            raise ValueError(
                f"inject_failure: unknown operation {operation!r}; "
                f"expected a driver method or {INCOMING_LIVE_MIGRATION!r}"
            )
        if times is not None and times < 1:
            raise ValueError(f"inject_failure: times must be >= 1 or None, got {times}")
        with self._lock:
            self._failures.setdefault(operation, []).append(_Failure(exc, times))

    def clear_failures(self, operation: str | None = None) -> None:
        """Forget the failures injected for ``operation`` (``None``: for all)."""
        with self._lock:
            if operation is None:
                self._failures.clear()
            else:
                self._failures.pop(operation, None)

    def pending_failures(self) -> dict[str, int | None]:
        """Operation → calls still to fail (``None``: unlimited), for those with any."""
        with self._lock:
            pending: dict[str, int | None] = {}
            for operation, queue in self._failures.items():
                if not queue:
                    continue
                if any(f.remaining is None for f in queue):
                    pending[operation] = None
                else:
                    pending[operation] = sum(f.remaining or 0 for f in queue)
            return pending

    def _maybe_fail(self, operation: str) -> None:
        queue = self._failures.get(operation)
        if not queue:
            return
        failure = queue[0]
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
        exc = failure.exc
        if exc is None:
            raise InjectedFailure(operation, self.host)
        if isinstance(exc, type):
            raise exc(f"injected failure of {operation} on host {self.host!r}")
        raise exc

    # --- read-only views ------------------------------------------------------------------

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
                instance_dirs=tuple(self._storage.dirs()),
                probes=tuple(self._storage.probes()),
                vcpus_used=used.vcpus,
                memory_mb_used=used.memory_mb,
                disk_gb_used=used.disk_gb,
            )

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

    def crash_guest(self, instance_uuid: UUID) -> None:
        """Simulate the guest crashing (power state ``CRASHED``), as a hypervisor
        event the compute manager finds through ``get_info``."""
        with self._lock:
            guest = self._runs_here(instance_uuid, "crash")
            self._stop_clock(guest)
            guest.booted_at = None
            guest.power_state = PowerState.CRASHED
            guest.write_console("Kernel panic - not syncing: the guest crashed")

    def shutdown_from_guest(self, instance_uuid: UUID) -> None:
        """Simulate the guest OS shutting itself down (power state ``SHUTDOWN``)."""
        with self._lock:
            guest = self._runs_here(instance_uuid, "shut down")
            self._stop_clock(guest)
            guest.booted_at = None
            guest.power_state = PowerState.SHUTDOWN
            guest.write_console("shutdown requested from inside the guest: system halted")

    # --- host -----------------------------------------------------------------------------

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
    def list_instances(self) -> list[str]:
        """See :meth:`ComputeDriver.list_instances`."""
        return [g.name for g in self._guests.values() if g.phase in _RUNS_HERE]

    @failure_point
    def list_instance_uuids(self) -> list[UUID]:
        """See :meth:`ComputeDriver.list_instance_uuids`."""
        return [g.uuid for g in self._guests.values() if g.phase in _RUNS_HERE]

    @failure_point
    def instance_exists(self, instance: Instance) -> bool:
        """See :meth:`ComputeDriver.instance_exists`."""
        guest = self._guests.get(instance.uuid)
        return guest is not None and guest.phase in _RUNS_HERE

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

    # --- lifecycle ------------------------------------------------------------------------

    @failure_point
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
        """See :meth:`ComputeDriver.spawn`."""
        uuid_ = instance.uuid
        if uuid_ in self._guests:
            phase = self._guests[uuid_].phase
            raise InstanceExists(str(uuid_), self.host, f"a guest record ({phase}) is here")
        volume_backed = common.is_volume_backed(instance, block_device_info)
        claim = common.claim_of(instance, volume_backed, hint=_SIZE_HINT)
        self._check_fits(uuid_, claim)
        self._check_pluggable(uuid_, network_info)
        volumes = self._volumes_to_connect(uuid_, block_device_info)
        files = {f.path: f.obj_clone() for f in injected_files}
        guest = _Guest(
            uuid=uuid_,
            name=instance.name,
            phase=GuestPhase.ACTIVE,
            internal_id=self._next_domain_id(),
            claim=claim,
            volume_backed=volume_backed,
            network_info=network_info.obj_clone(),
            files=files,
            admin_password_set=bool(admin_password),
            config_drive=instance.config_drive,
            config_write_bytes=sum(len(f.contents) for f in files.values()),
            config_write_requests=len(files),
        )
        self._guests[uuid_] = guest
        self._plug(uuid_, network_info)
        for volume in volumes:
            self._connect(uuid_, guest, volume.connection_info, volume.mountpoint, volume.bdm)
        self._storage.add_dir(uuid_)
        if power_on:
            self._boot(guest)

    @failure_point
    def reboot(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        reboot_type: RebootType,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.reboot`."""
        guest = self._runs_here(instance.uuid, "reboot")
        if reboot_type is RebootType.SOFT:
            _require_state(guest, "soft-reboot", (PowerState.RUNNING,))
        else:
            self._check_pluggable(guest.uuid, network_info)
            self._plug(guest.uuid, network_info)
        self._stop_clock(guest)
        guest.network_info = network_info.obj_clone()
        guest.write_console(f"reboot ({reboot_type.name}): restarting system")
        self._boot(guest)

    @failure_point
    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        """See :meth:`ComputeDriver.power_off`."""
        guest = self._runs_here(instance.uuid, "power off")
        if guest.power_state is PowerState.SHUTDOWN:
            return
        self._stop_clock(guest)
        guest.booted_at = None
        guest.power_state = PowerState.SHUTDOWN
        guest.write_console("power off: system halted")

    @failure_point
    def power_on(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.power_on`."""
        guest = self._runs_here(instance.uuid, "power on")
        if guest.power_state is PowerState.RUNNING:
            return
        _require_state(guest, "power on", (PowerState.SHUTDOWN, PowerState.CRASHED))
        guest.network_info = network_info.obj_clone()
        guest.write_console("power on")
        self._boot(guest)

    @failure_point
    def pause(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.pause`."""
        guest = self._runs_here(instance.uuid, "pause")
        _require_state(guest, "pause", (PowerState.RUNNING,))
        self._stop_clock(guest)
        guest.power_state = PowerState.PAUSED
        guest.write_console("paused: vCPUs stopped")

    @failure_point
    def unpause(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.unpause`."""
        guest = self._runs_here(instance.uuid, "unpause")
        _require_state(guest, "unpause", (PowerState.PAUSED,))
        guest.power_state = PowerState.RUNNING
        guest.running_since = self._clock()
        guest.write_console("unpaused: vCPUs running")

    @failure_point
    def suspend(self, context: Context, instance: Instance) -> None:
        """See :meth:`ComputeDriver.suspend`."""
        guest = self._runs_here(instance.uuid, "suspend")
        _require_state(guest, "suspend", (PowerState.RUNNING, PowerState.PAUSED))
        self._stop_clock(guest)
        guest.booted_at = None
        guest.power_state = PowerState.SUSPENDED
        guest.write_console("suspend: memory saved to disk, system stopped")

    @failure_point
    def resume(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.resume`."""
        guest = self._runs_here(instance.uuid, "resume")
        _require_state(guest, "resume", (PowerState.SUSPENDED,))
        guest.network_info = network_info.obj_clone()
        now = self._clock()
        guest.power_state = PowerState.RUNNING
        guest.running_since = now
        guest.booted_at = now
        guest.write_console("resume: memory restored from disk, system running")

    @failure_point
    def destroy(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        """See :meth:`ComputeDriver.destroy`."""
        uuid_ = instance.uuid
        self._guests.pop(uuid_, None)
        self._release_everything(uuid_, unplug=True)
        if destroy_disks:
            self._storage.remove_dir(uuid_)

    @failure_point
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
        uuid_ = instance.uuid
        guest = self._guests.get(uuid_)
        if guest is not None and guest.phase in _RUNS_HERE:
            raise InstanceExists(str(uuid_), self.host, "the guest still runs; destroy it")
        self._guests.pop(uuid_, None)
        self._release_everything(uuid_, unplug=destroy_vifs)
        if destroy_disks:
            self._storage.remove_dir(uuid_)

    @failure_point
    def inject_file(self, instance: Instance, injected_file: InjectedFile) -> None:
        """See :meth:`ComputeDriver.inject_file`."""
        guest = self._runs_here(instance.uuid, "inject a file into")
        contents = injected_file.contents  # validates the base64 before storing
        guest.files[injected_file.path] = injected_file.obj_clone()
        guest.config_write_bytes += len(contents)
        guest.config_write_requests += 1
        guest.write_console(
            f"config data: file {injected_file.path} written ({len(contents)} bytes)"
        )

    # --- volumes --------------------------------------------------------------------------

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
        _forbid_state(guest, "attach a volume to", (PowerState.SUSPENDED,))
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
        _forbid_state(guest, "detach a volume from", (PowerState.SUSPENDED,))
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

    # --- network --------------------------------------------------------------------------

    @failure_point
    def plug_vifs(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.plug_vifs`."""
        guest = self._guest_in(instance.uuid, (*_RUNS_HERE, GuestPhase.INCOMING))
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
        _require_state(guest, "reset the network of", (PowerState.RUNNING,))
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

    # --- firewall -------------------------------------------------------------------------

    @failure_point
    def ensure_filtering_rules_for_instance(
        self,
        instance: Instance,
        network_info: NetworkInfo,
        security_groups: SecurityGroupList,
    ) -> None:
        """See :meth:`ComputeDriver.ensure_filtering_rules_for_instance`."""
        guest = self._guest_in(instance.uuid, (*_RUNS_HERE, GuestPhase.INCOMING))
        rules, group_ids = common.flatten_security_groups(security_groups)
        self._filters[guest.uuid] = _Filter(rules, group_ids, network_info.obj_clone())

    @failure_point
    def refresh_instance_security_rules(
        self, instance: Instance, security_groups: SecurityGroupList
    ) -> None:
        """See :meth:`ComputeDriver.refresh_instance_security_rules`."""
        guest = self._guest_in(instance.uuid, (*_RUNS_HERE, GuestPhase.INCOMING))
        filt = self._filters.get(guest.uuid)
        if filt is None:
            raise InstanceNotFiltered(str(guest.uuid), self.host)
        filt.rules, filt.group_ids = common.flatten_security_groups(security_groups)

    @failure_point
    def unfilter_instance(self, instance: Instance, network_info: NetworkInfo) -> None:
        """See :meth:`ComputeDriver.unfilter_instance`."""
        self._filters.pop(instance.uuid, None)

    # --- diagnostics ----------------------------------------------------------------------

    @failure_point
    def get_info(self, instance: Instance) -> InstanceInfo:
        """See :meth:`ComputeDriver.get_info`."""
        guest = self._runs_here(instance.uuid, "get info of", reading=True)
        run_s = self._run_seconds(guest)
        per_cpu = _cpu_ns(run_s)
        return InstanceInfo(
            state=guest.power_state,
            internal_id=guest.internal_id,
            max_mem_kb=guest.claim.memory_mb * 1024,
            mem_kb=_memory_used_mb(guest) * 1024,
            num_cpu=guest.claim.vcpus,
            cpu_time_ns=per_cpu * guest.claim.vcpus,
        )

    @failure_point
    def get_diagnostics(self, instance: Instance) -> Diagnostics:
        """See :meth:`ComputeDriver.get_diagnostics`."""
        guest = self._runs_here(instance.uuid, "get diagnostics of", reading=True)
        return self._diagnostics(guest)

    @failure_point
    def get_console_output(self, instance: Instance, tail_lines: int | None = None) -> str:
        """See :meth:`ComputeDriver.get_console_output`: the lines the fake guest
        printed (the last :data:`CONSOLE_LINES` are kept).

        Raises:
            ValueError: ``tail_lines`` is negative.
        """
        common.check_tail_lines(tail_lines)
        guest = self._runs_here(instance.uuid, "read the console of", reading=True)
        lines = list(guest.console)
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines else []
        return "".join(f"{line}\n" for line in lines)

    # --- live migration -------------------------------------------------------------------

    @failure_point
    def check_can_live_migrate_destination(
        self,
        context: Context,
        instance: Instance,
        src_compute_info: ComputeNode | None,
        dst_compute_info: ComputeNode | None,
        block_migration: bool = False,
        disk_over_commit: bool = False,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.check_can_live_migrate_destination`."""
        uuid_ = instance.uuid

        def refuse(reason: str) -> MigrationPreCheckError:
            return MigrationPreCheckError(str(uuid_), self.host, reason)

        existing = self._guests.get(uuid_)
        if existing is not None:
            raise refuse(f"this host already has the guest ({existing.phase})")
        if src_compute_info is not None:
            if src_compute_info.host == self.host:
                raise refuse("source and destination are the same host")
            src_cpu = src_compute_info.cpu_info
            if src_cpu.arch is not self._cpu_arch:
                raise refuse(
                    f"CPU architecture {src_cpu.arch} of the source differs "
                    f"from {self._cpu_arch} here"
                )
            missing = sorted(set(src_cpu.features) - set(self._cpu_features))
            if missing:
                raise refuse(f"this host's CPU lacks features of the source: {missing}")
        # Disk is checked by the source, which knows what the guest has locally
        # (disk_available_mb below); here only what every guest needs.
        claim = common.claim_of(instance, volume_backed=True, hint=_SIZE_HINT)
        free = self._free()
        short = [
            (name, need, have)
            for name, need, have in (
                ("vcpus", claim.vcpus, free.vcpus),
                ("memory_mb", claim.memory_mb, free.memory_mb),
            )
            if need > have
        ]
        if short:
            described = ", ".join(f"{n} {need} needed, {have} free" for n, need, have in short)
            raise refuse(f"not enough room: {described}")
        probe = f"cumulo-probe-{uuid.uuid4().hex}"
        self._storage.add_probe(probe)
        return common.dest_check_data(
            self.host,
            self._host_ip,
            block_migration=block_migration,
            disk_over_commit=disk_over_commit,
            disk_available_mb=free.disk_gb * 1024,
            probe=probe,
        )

    @failure_point
    def cleanup_live_migration_destination_check(
        self, context: Context, dest_check_data: LiveMigrateData
    ) -> None:
        """See :meth:`ComputeDriver.cleanup_live_migration_destination_check`."""
        if dest_check_data.filename:
            self._storage.remove_probe(dest_check_data.filename)

    @failure_point
    def check_can_live_migrate_source(
        self,
        context: Context,
        instance: Instance,
        dest_check_data: LiveMigrateData,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.check_can_live_migrate_source`."""
        uuid_ = instance.uuid

        def refuse(reason: str) -> MigrationPreCheckError:
            return MigrationPreCheckError(str(uuid_), self.host, reason)

        guest = self._guests.get(uuid_)
        if guest is None or guest.phase is not GuestPhase.ACTIVE:
            state = "no record" if guest is None else guest.phase
            raise refuse(f"the guest does not run on this host ({state})")
        if guest.power_state not in (PowerState.RUNNING, PowerState.PAUSED):
            raise refuse(f"the guest is {guest.power_state.name}, not running or paused")
        if dest_check_data.dest_host == self.host:
            raise refuse("source and destination are the same host")
        data = dest_check_data.obj_clone()
        filename = dest_check_data.filename
        shared_path = bool(filename) and self._storage.has_probe(filename or "")
        local_disk = guest.claim.disk_gb > 0
        data.is_shared_instance_path = shared_path
        data.is_volume_backed = guest.volume_backed
        data.is_shared_block_storage = shared_path or not local_disk
        data.instance_relative_path = str(uuid_)
        block = bool(data.block_migration)
        if block and data.is_shared_block_storage:
            raise refuse("block migration asked, but the guest's disks are already shared")
        if not block and not data.is_shared_block_storage:
            raise refuse(
                "the guest has local disks the destination cannot see; use block migration"
            )
        if block and not data.disk_over_commit:
            need_mb = guest.claim.disk_gb * 1024
            have_mb = data.disk_available_mb or 0
            if need_mb > have_mb:
                raise refuse(
                    f"the destination has {have_mb} MiB of disk free, the guest needs {need_mb} MiB"
                )
        return data

    @failure_point
    def pre_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        network_info: NetworkInfo,
        migrate_data: LiveMigrateData,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.pre_live_migration`."""
        uuid_ = instance.uuid
        existing = self._guests.get(uuid_)
        if existing is not None:
            raise InstanceExists(str(uuid_), self.host, f"a guest record ({existing.phase})")
        volume_backed = bool(migrate_data.is_volume_backed) or common.is_volume_backed(
            instance, block_device_info
        )
        claim = common.claim_of(instance, volume_backed, hint=_SIZE_HINT)
        self._check_fits(uuid_, claim)
        self._check_pluggable(uuid_, network_info)
        volumes = self._volumes_to_connect(uuid_, block_device_info)
        guest = _Guest(
            uuid=uuid_,
            name=instance.name,
            phase=GuestPhase.INCOMING,
            internal_id="",
            claim=claim,
            volume_backed=volume_backed,
            power_state=PowerState.NOSTATE,
            network_info=network_info.obj_clone(),
        )
        self._guests[uuid_] = guest
        self._plug(uuid_, network_info)
        if self._channel is not None:
            self._channel.expect(self.host, uuid_)

        def connect(volume: common.VolumeToConnect) -> VolumeConnectionInfo:
            info, mount = volume.connection_info, volume.mountpoint
            return self._connect(uuid_, guest, info, mount, volume.bdm).connection_info

        data = migrate_data.obj_clone()
        data.bdms = common.live_migrate_bdms(volumes, connect, default_bus=DiskBus.VIRTIO)
        data.vifs = common.vif_migrate_data(network_info, self.host)
        data.graphics_listen_addr_vnc = self._host_ip
        data.serial_listen_addr = self._host_ip
        data.target_connect_addr = str(self._host_ip)
        data.dest_host = self.host
        return data

    def _migrate_guest(
        self,
        context: Context,
        instance: Instance,
        dest: str,
        block_migration: bool,
        migrate_data: LiveMigrateData,
    ) -> None:
        """See :meth:`ComputeDriver._migrate_guest`. The destination must be a host
        of the same :class:`FakeHypervisorNetwork` on which ``pre_live_migration`` ran
        (or one reached through the migration channel); it must have every volume
        and VIF of the guest, and a firewall filter when the guest has one here."""
        uuid_ = instance.uuid
        with self._lock:
            self._maybe_fail("live_migration")
            guest = self._guests.get(uuid_)
            if guest is None or guest.phase is not GuestPhase.ACTIVE:
                state = "no record" if guest is None else guest.phase
                raise MigrationError(
                    str(uuid_), self.host, f"the guest does not run here ({state})"
                )
            _require_state(guest, "live-migrate", (PowerState.RUNNING, PowerState.PAUSED))
            if dest == self.host:
                raise MigrationError(str(uuid_), self.host, "the destination is this host")
            target = self._network.driver(dest) if self._network else None
            channel = self._channel if target is None else None
            if target is None and (channel is None or not channel.is_open(dest)):
                raise MigrationError(str(uuid_), self.host, f"host {dest!r} is not reachable")
            if channel is not None:
                if not channel.expects(dest, uuid_):
                    raise MigrationError(
                        str(uuid_), self.host, f"pre_live_migration did not prepare {dest!r}"
                    )
                if guest.claim.disk_gb > 0 and not block_migration:
                    raise MigrationError(
                        str(uuid_),
                        self.host,
                        f"the guest's local disks cannot be shared with {dest!r} (another "
                        "process); use block migration",
                    )
            guest.phase = GuestPhase.MIGRATING
            transfer = self._transfer_of(guest)
        try:
            if target is not None:
                target._receive(transfer, block_migration)
            else:
                assert channel is not None
                channel.send(dest, uuid_, _encode_transfer(transfer, block_migration))
        except BaseException:
            with self._lock:
                guest.phase = GuestPhase.ACTIVE
            raise
        with self._lock:
            memory = guest.claim.memory_mb * MIB
            disk = guest.claim.disk_gb * GIB if block_migration else 0
            self._stop_clock(guest)
            guest.booted_at = None
            guest.phase = GuestPhase.DEPARTED
            guest.power_state = PowerState.NOSTATE
            # The memory left with the guest; the disk stays claimed until cleanup.
            guest.claim = _Claim(0, 0, guest.claim.disk_gb)
        migration = migrate_data.migration
        if migration is not None:
            migration.memory_total = memory
            migration.memory_processed = memory
            migration.memory_remaining = 0
            migration.disk_total = disk
            migration.disk_processed = disk
            migration.disk_remaining = 0

    def _take_in(self, instance: Instance) -> None:
        """Take in the guest a source in another process sent through the channel
        (if it did); the arrival checks of :meth:`_receive` apply. The channel does
        not name the source: ``instance.host`` does until the caller moves it here."""
        if self._channel is None:
            return
        payload = self._channel.receive(self.host, instance.uuid)
        if payload is not None:
            transfer, block_migration = _decode_transfer(payload)
            source = instance.host if instance.host != self.host else None
            self._receive(dataclasses.replace(transfer, source_host=source), block_migration)

    def _receive(self, transfer: _Transfer, block_migration: bool) -> None:
        """The destination side of a live migration: the guest arrives."""
        with self._lock:
            self._maybe_fail(INCOMING_LIVE_MIGRATION)
            uuid_ = transfer.uuid

            def fail(reason: str) -> MigrationError:
                return MigrationError(str(uuid_), self.host, reason)

            guest = self._guests.get(uuid_)
            if guest is None or guest.phase is not GuestPhase.INCOMING:
                state = "no record" if guest is None else guest.phase
                raise fail(f"pre_live_migration did not prepare this host ({state})")
            connected = {vol for inst, vol in self._connections if inst == uuid_}
            missing_volumes = sorted(transfer.volume_ids - connected)
            if missing_volumes:
                raise fail(f"volumes not connected here: {[str(v) for v in missing_volumes]}")
            plugged = {vid for vid, (inst, _) in self._vifs.items() if inst == uuid_}
            missing_vifs = sorted(transfer.vif_ids - plugged)
            if missing_vifs:
                raise fail(f"VIFs not plugged here: {[str(v) for v in missing_vifs]}")
            if transfer.filtered and uuid_ not in self._filters:
                raise fail("the guest is filtered on the source but has no filter here")
            shared = transfer.storage is self._storage
            if transfer.local_disk and not shared and not block_migration:
                raise fail("the guest's local disks are neither shared with nor copied here")
            self._storage.add_dir(uuid_)
            now = self._clock()
            guest.phase = GuestPhase.ACTIVE
            guest.internal_id = self._next_domain_id()
            guest.power_state = transfer.power_state
            guest.running_total = transfer.run_s
            guest.running_since = now if transfer.power_state is PowerState.RUNNING else None
            guest.booted_at = None if transfer.uptime_s is None else now - transfer.uptime_s
            guest.network_info = transfer.network_info
            guest.files = transfer.files
            guest.admin_password_set = transfer.admin_password_set
            guest.config_drive = transfer.config_drive
            guest.boot_count = transfer.boot_count
            guest.network_injections = transfer.network_injections
            guest.network_resets = transfer.network_resets
            guest.boot_read_bytes = transfer.boot_read_bytes
            guest.config_write_bytes = transfer.config_write_bytes
            guest.config_write_requests = transfer.config_write_requests
            guest.nic_extra = transfer.nic_extra
            for (inst, _), conn in self._connections.items():
                if inst == uuid_:
                    conn.attached_at_run_s = transfer.run_s
            guest.console.clear()
            guest.console.extend(transfer.console or ())
            guest.write_console(
                f"live migration: arrived from {transfer.source_host or 'another host'} "
                f"on {self.host}"
            )

    @failure_point
    def post_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration`."""
        guest = self._departed(instance.uuid, "post_live_migration")
        for key in [k for k in self._connections if k[0] == guest.uuid]:
            del self._connections[key]

    @failure_point
    def post_live_migration_at_source(
        self, context: Context, instance: Instance, network_info: NetworkInfo
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration_at_source`."""
        guest = self._guests.get(instance.uuid)
        if guest is not None and guest.phase in _RUNS_HERE:
            raise MigrationError(str(guest.uuid), self.host, "the guest still runs here")
        self._unplug(instance.uuid, [vif.id for vif in network_info])

    @arrival_point
    def post_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_migration: bool = False,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration_at_destination`."""
        guest = self._guest_in(instance.uuid, (GuestPhase.ACTIVE,))
        self._check_pluggable(guest.uuid, network_info)
        keep = {vif.id for vif in network_info}
        stale = [vid for vid, (inst, _) in self._vifs.items() if inst == guest.uuid]
        self._unplug(guest.uuid, [vid for vid in stale if vid not in keep])
        self._plug(guest.uuid, network_info)
        guest.network_info = network_info.obj_clone()

    @arrival_point
    def rollback_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None,
        destroy_disks: bool = True,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.rollback_live_migration_at_destination`."""
        uuid_ = instance.uuid
        if self._channel is not None:
            self._channel.forget(self.host, uuid_)
        guest = self._guests.get(uuid_)
        if guest is None:
            return
        if guest.phase is not GuestPhase.INCOMING:
            raise MigrationError(
                str(uuid_),
                self.host,
                f"cannot roll back: the guest is {guest.phase} here; rolling back would destroy it",
            )
        del self._guests[uuid_]
        self._release_everything(uuid_, unplug=True)
        if destroy_disks:
            self._storage.remove_dir(uuid_)

    @failure_point
    def check_instance_shared_storage_local(
        self, context: Context, instance: Instance
    ) -> SharedStorageProbe | None:
        """See :meth:`ComputeDriver.check_instance_shared_storage_local`."""
        filename = f"{instance.uuid}/cumulo-probe-{uuid.uuid4().hex}"
        self._storage.add_probe(filename)
        return SharedStorageProbe(host=self.host, filename=filename)

    @failure_point
    def check_instance_shared_storage_remote(
        self, context: Context, probe: SharedStorageProbe
    ) -> bool:
        """See :meth:`ComputeDriver.check_instance_shared_storage_remote`."""
        return self._storage.has_probe(probe.filename)

    @failure_point
    def check_instance_shared_storage_cleanup(
        self, context: Context, probe: SharedStorageProbe
    ) -> None:
        """See :meth:`ComputeDriver.check_instance_shared_storage_cleanup`."""
        self._storage.remove_probe(probe.filename)

    # --- internals ------------------------------------------------------------------------

    def _next_domain_id(self) -> str:
        self._domain_ids += 1
        return f"{self.host}-{self._domain_ids}"

    def _guest_in(self, instance_uuid: UUID, phases: Iterable[GuestPhase]) -> _Guest:
        guest = self._guests.get(instance_uuid)
        if guest is None or guest.phase not in tuple(phases):
            raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
        return guest

    def _runs_here(self, instance_uuid: UUID, action: str, *, reading: bool = False) -> _Guest:
        """The guest running here; only ``reading`` actions reach one that is leaving."""
        guest = self._guests.get(instance_uuid)
        if guest is None or guest.phase not in _RUNS_HERE:
            raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
        if guest.phase is GuestPhase.MIGRATING and not reading:
            raise MigrationError(
                str(instance_uuid), self.host, f"cannot {action} the guest while it migrates"
            )
        return guest

    def _departed(self, instance_uuid: UUID, action: str) -> _Guest:
        guest = self._guests.get(instance_uuid)
        if guest is None:
            raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
        if guest.phase is not GuestPhase.DEPARTED:
            raise MigrationError(
                str(instance_uuid), self.host, f"{action}: the guest is {guest.phase} here"
            )
        return guest

    def _used(self) -> _Claim:
        used = _Claim(0, 0, 0)
        for guest in self._guests.values():
            used.vcpus += guest.claim.vcpus
            used.memory_mb += guest.claim.memory_mb
            used.disk_gb += guest.claim.disk_gb
        return used

    def _free(self) -> _Claim:
        used = self._used()
        cap = self._capacity
        return _Claim(
            cap.vcpus - used.vcpus, cap.memory_mb - used.memory_mb, cap.disk_gb - used.disk_gb
        )

    def _check_fits(self, instance_uuid: UUID, claim: _Claim) -> None:
        common.check_fits(self.host, instance_uuid, claim, self._free())

    def _check_pluggable(self, instance_uuid: UUID, network_info: NetworkInfo) -> None:
        common.check_pluggable(
            self.host, instance_uuid, network_info, self._vifs.values(), mac_pool=self._mac_pool
        )

    def _plug(self, instance_uuid: UUID, network_info: NetworkInfo) -> None:
        for vif in network_info:
            self._vifs[vif.id] = (instance_uuid, vif.obj_clone())

    def _unplug(self, instance_uuid: UUID, vif_ids: Iterable[UUID]) -> None:
        for vif_id in vif_ids:
            owner = self._vifs.get(vif_id)
            if owner is not None and owner[0] == instance_uuid:
                del self._vifs[vif_id]

    def _volumes_to_connect(
        self, instance_uuid: UUID, block_device_info: BlockDeviceInfo | None
    ) -> list[common.VolumeToConnect]:
        def check(connection_info: VolumeConnectionInfo, mount: str) -> None:
            self._check_connectable(instance_uuid, connection_info, mount)

        return common.volumes_to_connect(instance_uuid, block_device_info, check=check)

    def _check_connectable(
        self, instance_uuid: UUID, connection_info: VolumeConnectionInfo, mount: str
    ) -> None:
        volume_id = connection_info.volume_id
        for (inst, vol), conn in self._connections.items():
            if inst == instance_uuid and conn.mountpoint == mount:
                raise DeviceInUse(str(instance_uuid), mount, str(vol))
            if vol == volume_id and (inst == instance_uuid or not connection_info.multiattach):
                raise VolumeAlreadyAttached(str(volume_id), str(inst), conn.mountpoint)

    def _connect(
        self,
        instance_uuid: UUID,
        guest: _Guest,
        connection_info: VolumeConnectionInfo,
        mountpoint: str,
        bdm: BlockDeviceMapping | None,
        disk_bus: DiskBus | None = None,
        device_type: DeviceType | None = None,
    ) -> _Connection:
        # Where the volume shows up on the host; the caller saves it with the mapping.
        connection_info.device_path = (
            connection_info.path or f"/dev/disk/by-id/cumulo-{connection_info.volume_id}"
        )
        conn = _Connection(
            mountpoint=device_names.normalize(mountpoint),
            connection_info=connection_info.obj_clone(),
            disk_bus=disk_bus or (bdm.disk_bus if bdm else None),
            device_type=device_type or (bdm.device_type if bdm else None),
            attached_at_run_s=self._run_seconds(guest),
            read_only=connection_info.access_mode is AccessMode.READ_ONLY,
        )
        self._connections[(instance_uuid, connection_info.volume_id)] = conn
        return conn

    def _release_everything(self, instance_uuid: UUID, *, unplug: bool) -> None:
        for key in [k for k in self._connections if k[0] == instance_uuid]:
            del self._connections[key]
        self._filters.pop(instance_uuid, None)
        if unplug:
            self._unplug(
                instance_uuid,
                [vid for vid, (inst, _) in self._vifs.items() if inst == instance_uuid],
            )

    def _boot(self, guest: _Guest) -> None:
        now = self._clock()
        guest.power_state = PowerState.RUNNING
        guest.running_since = now
        guest.booted_at = now
        guest.boot_count += 1
        guest.boot_read_bytes += BOOT_READ_BYTES
        guest.write_console(
            f"Cumulo fake guest {guest.name} ({guest.uuid}) booting on {self.host} "
            f"(boot {guest.boot_count})"
        )

    def _stop_clock(self, guest: _Guest) -> None:
        if guest.running_since is not None:
            guest.running_total += max(0.0, self._clock() - guest.running_since)
            guest.running_since = None

    def _run_seconds(self, guest: _Guest) -> float:
        extra = 0.0
        if guest.running_since is not None:
            extra = max(0.0, self._clock() - guest.running_since)
        return guest.running_total + extra

    def _uptime(self, guest: _Guest) -> float | None:
        if guest.booted_at is None:
            return None
        return max(0.0, self._clock() - guest.booted_at)

    def _transfer_of(self, guest: _Guest) -> _Transfer:
        uuid_ = guest.uuid
        return _Transfer(
            uuid=uuid_,
            power_state=guest.power_state,
            run_s=self._run_seconds(guest),
            uptime_s=self._uptime(guest),
            network_info=guest.network_info.obj_clone(),
            files={path: f.obj_clone() for path, f in guest.files.items()},
            admin_password_set=guest.admin_password_set,
            config_drive=guest.config_drive,
            boot_count=guest.boot_count,
            network_injections=guest.network_injections,
            network_resets=guest.network_resets,
            boot_read_bytes=guest.boot_read_bytes,
            config_write_bytes=guest.config_write_bytes,
            config_write_requests=guest.config_write_requests,
            nic_extra={vid: list(c) for vid, c in guest.nic_extra.items()},
            volume_ids=frozenset(vol for inst, vol in self._connections if inst == uuid_),
            vif_ids=frozenset(vid for vid, (inst, _) in self._vifs.items() if inst == uuid_),
            filtered=uuid_ in self._filters,
            volume_backed=guest.volume_backed,
            local_disk=guest.claim.disk_gb > 0,
            storage=self._storage,
            console=tuple(guest.console),
            source_host=self.host,
        )

    def _cpu_info(self) -> CpuInfo:
        return CpuInfo(
            arch=self._cpu_arch,
            model=self._cpu_model,
            vendor="Cumulo",
            topology=CpuTopology(sockets=1, cores=max(1, self._capacity.vcpus), threads=1),
            features=list(self._cpu_features),
        )

    def _attached(self, instance_uuid: UUID, volume_id: UUID, conn: _Connection) -> AttachedVolume:
        return AttachedVolume(
            instance_uuid=instance_uuid,
            volume_id=volume_id,
            mountpoint=conn.mountpoint,
            connection_info=conn.connection_info.obj_clone(),
            disk_bus=conn.disk_bus,
            device_type=conn.device_type,
            read_only=conn.read_only,
        )

    def _view(self, guest: _Guest) -> GuestView:
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
            has_instance_dir=self._storage.has_dir(uuid_),
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
        )

    def _diagnostics(self, guest: _Guest) -> Diagnostics:
        run_s = self._run_seconds(guest)
        running = guest.power_state is PowerState.RUNNING
        per_cpu = _cpu_ns(run_s)
        cpus = [
            CpuDiagnostics(
                id=i, time=per_cpu, utilisation=int(CPU_UTILISATION * 100) if running else 0
            )
            for i in range(guest.claim.vcpus)
        ]
        nics = []
        for vif in guest.network_info:
            rx_b, rx_p, tx_b, tx_p = guest.nic_extra.get(vif.id, [0, 0, 0, 0])
            rx = int(run_s * NIC_RX_BYTES_PER_S)
            tx = int(run_s * NIC_TX_BYTES_PER_S)
            nics.append(
                NicDiagnostics(
                    mac_address=vif.address,
                    rx_octets=rx + rx_b,
                    rx_packets=rx // PACKET_BYTES + rx_p,
                    rx_rate=NIC_RX_BYTES_PER_S if running else 0,
                    tx_octets=tx + tx_b,
                    tx_packets=tx // PACKET_BYTES + tx_p,
                    tx_rate=NIC_TX_BYTES_PER_S if running else 0,
                )
            )
        disks = []
        if not guest.volume_backed:
            disks.append(_disk("vda", run_s, guest.boot_read_bytes))
        for (inst, _), conn in sorted(self._connections.items()):
            if inst == guest.uuid:
                since = max(0.0, run_s - conn.attached_at_run_s)
                device = conn.mountpoint.removeprefix("/dev/")
                disks.append(_disk(device, since, 0, read_only=conn.read_only))
        if guest.files or guest.config_drive or guest.config_write_bytes:
            disks.append(
                DiskDiagnostics(
                    device="config",
                    read_bytes=guest.boot_count * guest.config_write_bytes,
                    read_requests=guest.boot_count,
                    write_bytes=guest.config_write_bytes,
                    write_requests=guest.config_write_requests,
                )
            )
        uptime = self._uptime(guest)
        return Diagnostics(
            state=guest.power_state,
            driver=self.driver_name,
            hypervisor="fake",
            hypervisor_os="linux",
            uptime=None if uptime is None else int(uptime),
            config_drive=guest.config_drive or bool(guest.files),
            memory_details=MemoryDiagnostics(
                maximum=guest.claim.memory_mb, used=_memory_used_mb(guest)
            ),
            cpu_details=cpus,
            nic_details=nics,
            disk_details=disks,
        )


def _encode_transfer(transfer: _Transfer, block_migration: bool) -> bytes:
    """What a guest's state looks like on a :class:`FakeMigrationChannel` (JSON)."""
    return json.dumps(
        {
            "block_migration": block_migration,
            "uuid": str(transfer.uuid),
            "power_state": transfer.power_state.value,
            "run_s": transfer.run_s,
            "uptime_s": transfer.uptime_s,
            "network_info": transfer.network_info.obj_to_primitive(),
            "files": {path: f.obj_to_primitive() for path, f in transfer.files.items()},
            "admin_password_set": transfer.admin_password_set,
            "config_drive": transfer.config_drive,
            "boot_count": transfer.boot_count,
            "network_injections": transfer.network_injections,
            "network_resets": transfer.network_resets,
            "boot_read_bytes": transfer.boot_read_bytes,
            "config_write_bytes": transfer.config_write_bytes,
            "config_write_requests": transfer.config_write_requests,
            "nic_extra": {str(vid): c for vid, c in transfer.nic_extra.items()},
            "volume_ids": sorted(str(v) for v in transfer.volume_ids),
            "vif_ids": sorted(str(v) for v in transfer.vif_ids),
            "filtered": transfer.filtered,
            "volume_backed": transfer.volume_backed,
            "local_disk": transfer.local_disk,
            "storage": transfer.storage.name,
        }
    ).encode()


def _decode_transfer(payload: bytes) -> tuple[_Transfer, bool]:
    """The inverse of :func:`_encode_transfer`; the storage is the source's (another
    process's), never the destination's."""
    raw = json.loads(payload)
    network_info = NetworkInfo.obj_from_primitive(raw["network_info"])
    transfer = _Transfer(
        uuid=UUID(raw["uuid"]),
        power_state=PowerState(raw["power_state"]),
        run_s=raw["run_s"],
        uptime_s=raw["uptime_s"],
        network_info=network_info,
        files={path: InjectedFile.obj_from_primitive(f) for path, f in raw["files"].items()},
        admin_password_set=raw["admin_password_set"],
        config_drive=raw["config_drive"],
        boot_count=raw["boot_count"],
        network_injections=raw["network_injections"],
        network_resets=raw["network_resets"],
        boot_read_bytes=raw["boot_read_bytes"],
        config_write_bytes=raw["config_write_bytes"],
        config_write_requests=raw["config_write_requests"],
        nic_extra={UUID(vid): list(c) for vid, c in raw["nic_extra"].items()},
        volume_ids=frozenset(UUID(v) for v in raw["volume_ids"]),
        vif_ids=frozenset(UUID(v) for v in raw["vif_ids"]),
        filtered=raw["filtered"],
        volume_backed=raw["volume_backed"],
        local_disk=raw["local_disk"],
        storage=FakeStorage(raw["storage"]),
    )
    return transfer, bool(raw["block_migration"])


def _disk(
    device: str, run_s: float, extra_read: int, *, read_only: bool = False
) -> DiskDiagnostics:
    read = int(run_s * DISK_READ_BYTES_PER_S) + extra_read
    # A read-only disk refuses the guest's writes: nothing is ever written.
    write = 0 if read_only else int(run_s * DISK_WRITE_BYTES_PER_S)
    return DiskDiagnostics(
        device=device,
        read_bytes=read,
        read_requests=read // IO_REQUEST_BYTES,
        write_bytes=write,
        write_requests=write // IO_REQUEST_BYTES,
    )


def _cpu_ns(run_s: float) -> int:
    return int(run_s * CPU_UTILISATION * 1_000_000_000)


def _memory_used_mb(guest: _Guest) -> int:
    if guest.power_state in (PowerState.RUNNING, PowerState.PAUSED):
        return int(guest.claim.memory_mb * MEMORY_USED_FRACTION)
    return 0


def _require_state(guest: _Guest, action: str, allowed: Sequence[PowerState]) -> None:
    if guest.power_state not in allowed:
        raise InvalidPowerState(
            str(guest.uuid), action, guest.power_state.name, [s.name for s in allowed]
        )


def _forbid_state(guest: _Guest, action: str, forbidden: Sequence[PowerState]) -> None:
    if guest.power_state in forbidden:
        allowed = [s.name for s in PowerState if s not in forbidden and s is not PowerState.NOSTATE]
        raise InvalidPowerState(str(guest.uuid), action, guest.power_state.name, allowed)
