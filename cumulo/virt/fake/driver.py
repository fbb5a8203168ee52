"""``FakeDriver``: every capability of the fake hypervisor of one host in one class,
and its constructor (capacity, network, channel, CPU, MACs, clock)."""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from cumulo.model import Architecture, DhcpOption
from cumulo.objects import MACAddress

from ..common import Resources
from ..driver import IPAddress
from ..fake_network import FakeHypervisorNetwork, FakeMigrationChannel, FakeStorage
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
        vcpus, memory_mb, disk_gb: the host's capacity (MiB, GiB); no overcommit.
        network: the fake network connecting hosts of this process (live
            migration, shared storage, remote security groups); ``None``: a lone host.
        migration_channel: a :class:`FakeMigrationChannel` (or its directory) to
            live-migrate with hosts of other processes (see :mod:`cumulo.virt.fake`);
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
        self._capacity = Resources(vcpus, memory_mb, disk_gb)
        self._network = network
        if host_ip is not None:
            self._host_ip = ipaddress.ip_address(host_ip)
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
        self._guests = {}
        self._vifs = {}
        self._connections = {}
        self._filters = {}
        self._failures = {}
        self._domain_ids = 0
        if migration_channel is not None and not isinstance(
            migration_channel, FakeMigrationChannel
        ):
            migration_channel = FakeMigrationChannel(migration_channel)
        self._channel = migration_channel
        if migration_channel is not None:
            migration_channel.open(host)
        if network is not None:
            network.join(self)
