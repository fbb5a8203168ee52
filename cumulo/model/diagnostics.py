"""``Diagnostics``: a guest's CPU, memory, NIC and disk counters, driver-neutral."""

from __future__ import annotations

from cumulo.objects import MACAddress, field, register

from .base import CumuloObject
from .states import PowerState


@register
class CpuDiagnostics(CumuloObject):
    """One virtual CPU.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int
    time: int = 0
    """CPU time used, in nanoseconds."""
    utilisation: int | None = None
    """Percent busy over the last sampling period."""


@register
class NicDiagnostics(CumuloObject):
    """One virtual NIC's traffic counters (rates in bytes per second).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    mac_address: MACAddress
    rx_octets: int = 0
    rx_errors: int = 0
    rx_drop: int = 0
    rx_packets: int = 0
    rx_rate: int | None = None
    tx_octets: int = 0
    tx_errors: int = 0
    tx_drop: int = 0
    tx_packets: int = 0
    tx_rate: int | None = None


@register
class DiskDiagnostics(CumuloObject):
    """One virtual disk's I/O counters.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    device: str | None = None
    """The guest device (``vda``)."""
    read_bytes: int = 0
    read_requests: int = 0
    write_bytes: int = 0
    write_requests: int = 0
    errors_count: int = 0


@register
class MemoryDiagnostics(CumuloObject):
    """Guest memory in MiB.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    maximum: int = 0
    used: int = 0


@register
class Diagnostics(CumuloObject):
    """A snapshot of a running guest's counters (``get_diagnostics``).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    state: PowerState
    driver: str
    """The Cumulo driver that answered (``fake``, ``qemu``)."""
    hypervisor: str | None = None
    hypervisor_os: str | None = None
    uptime: int | None = None
    """Seconds since the guest started."""
    config_drive: bool = False
    memory_details: MemoryDiagnostics = field(default_factory=MemoryDiagnostics)
    cpu_details: list[CpuDiagnostics] = field(default_factory=list)
    nic_details: list[NicDiagnostics] = field(default_factory=list)
    disk_details: list[DiskDiagnostics] = field(default_factory=list)

    @property
    def num_cpus(self) -> int:
        return len(self.cpu_details)

    @property
    def num_nics(self) -> int:
        return len(self.nic_details)

    @property
    def num_disks(self) -> int:
        return len(self.disk_details)
