"""What a hypervisor host offers: its CPU, the guests it can run, and the
``AvailableResource`` report a driver's ``get_available_resource`` returns."""

from __future__ import annotations

import ipaddress

from cumulo.objects import field, register

from .base import CumuloObject
from .hardware import Architecture, VmMode


@register
class CpuTopology(CumuloObject):
    """Sockets, cores per socket and threads per core of the host CPU.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    sockets: int = 1
    cores: int = 1
    threads: int = 1


@register
class CpuInfo(CumuloObject):
    """The host CPU as the scheduler and live migration compare it.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    arch: Architecture = Architecture.X86_64
    model: str | None = None
    vendor: str | None = None
    topology: CpuTopology = field(default_factory=CpuTopology)
    features: list[str] = field(default_factory=list)


@register
class SupportedInstance(CumuloObject):
    """One kind of guest the host can run: architecture, hypervisor and mode.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    arch: Architecture
    hypervisor_type: str
    vm_mode: VmMode = VmMode.HVM


@register
class AvailableResource(CumuloObject):
    """A node's capacity and use as its driver sees it now; the resource tracker
    writes it into the node's ``ComputeNode``.

    Memory in MiB, disk in GiB. ``disk_available_least`` is the disk left if
    every thin disk grew to full size.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    hypervisor_hostname: str
    vcpus: int
    memory_mb: int
    local_gb: int
    vcpus_used: int = 0
    memory_mb_used: int = 0
    local_gb_used: int = 0
    hypervisor_type: str
    hypervisor_version: int = 0
    cpu_info: CpuInfo = field(default_factory=CpuInfo)
    disk_available_least: int | None = None
    host_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    supported_instances: list[SupportedInstance] = field(default_factory=list)
