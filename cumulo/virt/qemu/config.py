"""``QemuConfig``: what an operator sets for a QEMU host (paths, accelerator,
networking and firewall modes, capacity, MACs, config drive, migration, boot)."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import ClassVar

from cumulo.model import DhcpOption

from ..config import DriverConfig
from .process import BIN


class Accel(enum.StrEnum):
    """The accelerator guests run on."""

    AUTO = "auto"
    """KVM when usable here, else TCG."""
    KVM = "kvm"
    TCG = "tcg"


class NetworkMode(enum.StrEnum):
    """How guests' NICs reach the network."""

    AUTO = "auto"
    """Taps when this process may create them, else user networking."""
    TAP = "tap"
    """Taps on Linux bridges."""
    USER = "user"
    """QEMU user networking."""


class FirewallMode(enum.StrEnum):
    """What the host does with security groups."""

    AUTO = "auto"
    """Apply the rules when ``nft`` works here, else only render them."""
    NFT = "nft"
    """Apply nftables rules on the taps."""
    RENDER = "render"
    """Only generate the rules."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class QemuConfig(DriverConfig):
    """The QEMU driver's configuration (see :class:`~cumulo.virt.qemu.QemuDriver`).

    ``vcpus``, ``memory_mb``, ``disk_gb`` (``None``: what the host has) are the
    capacity; ``host_ip`` (``None``: ``127.0.0.1``) the address other hosts reach
    this one at.
    """

    driver: ClassVar[str] = "qemu"

    instances_path: Path | None = None
    """The host's instance directory, one sub-directory per guest (``None``:
    ``/var/lib/cumulo/instances/<host>``). Two drivers given the same path share
    instance storage."""
    images_path: Path | None = None
    """Base images, one file per ``image_ref`` (raw or qcow2; ``None``:
    ``<instances_path>/_base``)."""
    default_image: Path | None = None
    """The base image for an ``image_ref`` not in ``images_path``."""
    run_path: Path | None = None
    """Where QMP sockets live (short paths: UNIX sockets have a limit)."""
    accel: Accel = Accel.AUTO
    network_mode: NetworkMode = NetworkMode.AUTO
    firewall: FirewallMode = FirewallMode.AUTO
    mac_pool: tuple[str, ...] | None = None
    """The answer of ``macs_for_instance`` (``None``: any MAC)."""
    dhcp_options: tuple[DhcpOption, ...] = ()
    """The answer of ``dhcp_options_for_instance``; not settable as options."""
    config_drive_mb: int = 4
    """The fixed size of every config drive."""
    migration_max_bandwidth: int | None = None
    """Bytes/s for live migration (``None``: QEMU's default)."""
    power_off_timeout: float = 0.0
    """Seconds an ACPI shutdown may take before a hard stop when ``power_off`` is
    given no timeout of its own."""
    guest_kernel: Path | None = None
    guest_initrd: Path | None = None
    """Boot this kernel (and initrd) directly instead of the disk."""
    qemu_binary: str = BIN
    """The QEMU system emulator, a name on ``PATH`` or a path."""

    def __post_init__(self) -> None:
        super().__post_init__()
        # Given as any iterable (a list), kept as a tuple: the config is frozen.
        if self.mac_pool is not None:
            object.__setattr__(self, "mac_pool", tuple(self.mac_pool))
        object.__setattr__(self, "dhcp_options", tuple(self.dhcp_options))
