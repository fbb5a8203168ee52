"""``QemuDriver``: every capability of QEMU/KVM (or TCG) guests on one host in one class,
and its constructor (a ``QemuConfig``)."""

from __future__ import annotations

import hashlib
import ipaddress
import tempfile
import threading
from pathlib import Path

from cumulo.objects import MACAddress

from .config import QemuConfig
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
        config: what the operator set (paths, accelerator, network and firewall
            modes, capacity, address, MACs, DHCP options, config drive, migration
            bandwidth, power-off timeout, direct kernel boot, the QEMU binary; see
            :class:`QemuConfig`).
    """

    driver_name = "qemu"
    config_class = QemuConfig

    def __init__(self, host: str, config: QemuConfig) -> None:
        super().__init__(host)
        self.config = config
        instances = config.instances_path or Path("/var/lib/cumulo/instances") / host
        self._instances = instances.resolve()
        self._images = (
            config.images_path.resolve() if config.images_path else self._instances / "_base"
        )
        self._default_image = config.default_image
        salt = hashlib.sha1(host.encode()).hexdigest()[:6]
        self._run = config.run_path or Path(tempfile.gettempdir()) / "cumulo-qemu"
        self._salt = salt
        self._accel_wanted = config.accel
        self._network_wanted = config.network_mode
        self._firewall_wanted = config.firewall
        self._capacity_override = (config.vcpus, config.memory_mb, config.disk_gb)
        self._host_ip = config.host_ip or ipaddress.IPv4Address("127.0.0.1")
        self._mac_pool = (
            None
            if config.mac_pool is None
            else frozenset(MACAddress(m.lower()) for m in config.mac_pool)
        )
        self._dhcp_options = [o.obj_clone() for o in config.dhcp_options]
        self._config_drive_bytes = config.config_drive_mb * MIB
        self._migration_bandwidth = config.migration_max_bandwidth
        self._power_off_timeout = config.power_off_timeout
        self._kernel = config.guest_kernel
        self._initrd = config.guest_initrd
        self._qemu_name = config.qemu_binary
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

    @property
    def images_path(self) -> Path:
        """Where this host's base images are, one file per ``image_ref`` (where a
        host fetching images from the image API caches them)."""
        return self._images
