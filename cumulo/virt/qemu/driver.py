"""``QemuDriver``: every capability of QEMU/KVM (or TCG) guests on one host in one class,
and its constructor (paths, accelerator, networking, firewall, capacity, migration)."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from cumulo.model import DhcpOption
from cumulo.objects import MACAddress

from ..driver import IPAddress
from . import process
from .diagnostics import QemuDiagnostics
from .firewall import QemuFirewall
from .guest import MIB
from .host import QemuHost
from .lifecycle import QemuLifecycle
from .migration import QemuMigration
from .netdev import TapManager
from .network import QemuNetworking
from .volumes import QemuVolumes


class QemuDriver(
    QemuHost,
    QemuLifecycle,
    QemuVolumes,
    QemuNetworking,
    QemuFirewall,
    QemuMigration,
    QemuDiagnostics,
):
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
        self._host_ip = ipaddress.ip_address(host_ip or "127.0.0.1")
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
        self._guests = {}
        self._filters = {}
        self._taps = TapManager()
        self._ready = False
        # Set by init_host:
        self._binary = ""
        self.accel = ""
        self.network_mode = ""
        self.firewall_mode = ""
        self.firewall_stateful = False
        self.unavailable = {}
        self._qemu_version = (0, 0, 0)
        self._ruleset = ""
