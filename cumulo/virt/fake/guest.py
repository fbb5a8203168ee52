"""What the fake holds of a guest and shows of it: the record (phase, volume connections,
filter), the read-only views, and the rates its counters advance with."""

from __future__ import annotations

import collections
import dataclasses
import enum
from typing import Final
from uuid import UUID

import msgspec

from cumulo.model import (
    VIF,
    DeviceType,
    DiskBus,
    InjectedFile,
    NetworkInfo,
    PowerState,
    SecurityGroupRule,
    VolumeConnectionInfo,
)

from ..common import Resources
from .transfer import MovableState

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


RUNS_HERE = (GuestPhase.ACTIVE, GuestPhase.MIGRATING)


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
    """An admin password was given at spawn (the fake never keeps the password)."""
    boot_count: int
    """Boots on this host and before it: spawn, reboots, power-ons."""
    network_injections: int
    """``inject_network_info`` calls."""
    network_resets: int
    """``reset_network`` calls."""
    image_id: str | None = None
    """The image the guest was spawned from on this host (``None``: none, or it
    arrived by live migration)."""
    image_checksum: str | None = None
    """MD5 of that image: of the host's base file when ``images_path`` has it, else
    the ``ImageMeta`` checksum."""
    image_os_hash_value: str | None = None
    """SHA-512 of the host's base file (``None``: no such file)."""


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
    """Shared-storage probes left in the host's instance storage."""
    # What the guest records claim (get_available_resource reports the same):
    vcpus_used: int
    memory_mb_used: int
    disk_gb_used: int


@dataclasses.dataclass
class Filter:
    rules: list[SecurityGroupRule]
    group_ids: list[int]
    network_info: NetworkInfo


class Guest(MovableState, kw_only=True):
    """What the fake holds for one guest on this host: its movable state (what a
    live migration carries) and the host's own bookkeeping of it."""

    uuid: UUID
    name: str
    phase: GuestPhase
    internal_id: str
    claim: Resources
    volume_backed: bool
    # Seconds spent RUNNING before running_since; running_since is set while RUNNING.
    running_total: float = 0.0
    running_since: float | None = None
    # Clock time of the last boot while the guest is up (RUNNING or PAUSED).
    booted_at: float | None = None
    console: collections.deque[str] = msgspec.field(
        default_factory=lambda: collections.deque(maxlen=CONSOLE_LINES)
    )
    # The image it was spawned from here, and its checksums (see GuestView).
    image_id: str | None = None
    image_checksum: str | None = None
    image_os_hash_value: str | None = None

    def write_console(self, line: str) -> None:
        """The guest writes ``line`` on its console."""
        self.console.append(line)


@dataclasses.dataclass
class Connection:
    mountpoint: str
    connection_info: VolumeConnectionInfo
    disk_bus: DiskBus | None
    device_type: DeviceType | None
    # Guest running seconds when attached: the volume's counters start there.
    attached_at_run_s: float
    read_only: bool = False
