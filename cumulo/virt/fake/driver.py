"""``FakeDriver``: every capability of the fake hypervisor of one host in one class,
and its constructor (a ``FakeConfig``, the fake network, a clock)."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from cumulo.objects import MACAddress

from ..common import Resources
from ..fake_network import FakeHypervisorNetwork, FakeMigrationChannel, FakeStorage
from .config import (
    DEFAULT_CPU_FEATURES,
    DEFAULT_DISK_GB,
    DEFAULT_MEMORY_MB,
    DEFAULT_VCPUS,
    FakeConfig,
)
from .diagnostics import FakeDiagnostics
from .firewall import FakeFirewall
from .host import FakeHost
from .lifecycle import FakeLifecycle
from .migration import FakeMigration
from .network import FakeNetworking
from .volumes import FakeVolumes


class FakeDriver(
    FakeHost,
    FakeLifecycle,
    FakeVolumes,
    FakeNetworking,
    FakeFirewall,
    FakeMigration,
    FakeDiagnostics,
):
    """An in-memory hypervisor for one host (see :mod:`cumulo.virt.fake`).

    Args:
        host: the compute host it serves.
        config: what the operator set (capacity, address, migration channel,
            storage pool, CPU, MACs, DHCP options; see :class:`FakeConfig`);
            ``None``: the defaults.
        network: the fake network connecting hosts of this process (live
            migration, shared storage, remote security groups); ``None``: a lone host.
        clock: seconds, monotonic; what diagnostics counters advance with.
    """

    driver_name = "fake"
    config_class = FakeConfig

    DEFAULT_VCPUS: Final = DEFAULT_VCPUS
    DEFAULT_MEMORY_MB: Final = DEFAULT_MEMORY_MB
    DEFAULT_DISK_GB: Final = DEFAULT_DISK_GB
    DEFAULT_CPU_FEATURES: Final = DEFAULT_CPU_FEATURES

    def __init__(
        self,
        host: str,
        config: FakeConfig | None = None,
        *,
        network: FakeHypervisorNetwork | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(host)
        config = FakeConfig() if config is None else config
        self.config = config
        self._images_path = config.images_path
        self._capacity = Resources(
            DEFAULT_VCPUS if config.vcpus is None else config.vcpus,
            DEFAULT_MEMORY_MB if config.memory_mb is None else config.memory_mb,
            DEFAULT_DISK_GB if config.disk_gb is None else config.disk_gb,
        )
        self._network = network
        if config.host_ip is not None:
            self._host_ip = config.host_ip
        elif network is not None:
            self._host_ip = network.allocate_address()
        else:
            self._host_ip = ipaddress.IPv4Address("127.0.0.1")
        pool_name = config.storage_pool or f"local:{host}"
        self._storage = network.storage(pool_name) if network else FakeStorage(pool_name)
        self._cpu_arch = config.cpu_arch
        self._cpu_model = config.cpu_model
        self._cpu_features = tuple(sorted(set(config.cpu_features)))
        self._mac_pool = (
            None
            if config.mac_pool is None
            else frozenset(MACAddress(m.lower()) for m in config.mac_pool)
        )
        self._dhcp_options = [option.obj_clone() for option in config.dhcp_options]
        self._clock = clock
        self._lock = threading.RLock()
        self._guests = {}
        self._vifs = {}
        self._connections = {}
        self._filters = {}
        self._failures = {}
        self._domain_ids = 0
        # Hosts of ``network`` are still reached directly; the channel (see
        # cumulo.virt.fake) reaches the hosts of other processes.
        self._channel = (
            None
            if config.migration_channel is None
            else FakeMigrationChannel(config.migration_channel)
        )
        if self._channel is not None:
            self._channel.open(host)
        if network is not None:
            network.join(self)

    @property
    def images_path(self) -> Path | None:
        """Where this host's base images are (``FakeConfig.images_path``)."""
        return self._images_path
