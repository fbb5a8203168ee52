"""``ComputeNode``: the stored capacity and use of a hypervisor node."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any
from uuid import UUID

from cumulo.objects import NO_DEFAULT, field, register, remotable, remotable_classmethod

from .base import CumuloObject, stored
from .exceptions import ObjectActionError
from .host_resource import AvailableResource, CpuInfo, SupportedInstance
from .storage import get_storage


@register
class ComputeNode(CumuloObject):
    """A hypervisor node of a compute host (one per host in Cumulo): what it has,
    what is used, and what it can run; the scheduler places instances from it.

    Memory in MiB, disk in GiB.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(default=NO_DEFAULT, read_only=True)
    uuid: UUID
    host: str
    hypervisor_hostname: str
    vcpus: int = 0
    memory_mb: int = 0
    local_gb: int = 0
    vcpus_used: int = 0
    memory_mb_used: int = 0
    local_gb_used: int = 0
    free_ram_mb: int = 0
    free_disk_gb: int = 0
    running_vms: int = 0
    current_workload: int = 0
    """Instances with a task in progress."""
    hypervisor_type: str = ""
    hypervisor_version: int = 0
    cpu_info: CpuInfo = field(default_factory=CpuInfo)
    disk_available_least: int | None = None
    host_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    supported_instances: list[SupportedInstance] = field(default_factory=list)
    cpu_allocation_ratio: float = 16.0
    ram_allocation_ratio: float = 1.5
    disk_allocation_ratio: float = 1.0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def update_from_resources(self, resources: AvailableResource) -> None:
        """Take a driver's report (capacity, use, hypervisor facts) and recompute
        the free amounts."""
        self.hypervisor_hostname = resources.hypervisor_hostname
        self.vcpus = resources.vcpus
        self.memory_mb = resources.memory_mb
        self.local_gb = resources.local_gb
        self.vcpus_used = resources.vcpus_used
        self.memory_mb_used = resources.memory_mb_used
        self.local_gb_used = resources.local_gb_used
        self.hypervisor_type = resources.hypervisor_type
        self.hypervisor_version = resources.hypervisor_version
        self.cpu_info = resources.cpu_info.obj_clone()
        self.disk_available_least = resources.disk_available_least
        self.host_ip = resources.host_ip
        self.supported_instances = [s.obj_clone() for s in resources.supported_instances]
        self.free_ram_mb = self.memory_mb - self.memory_mb_used
        self.free_disk_gb = self.local_gb - self.local_gb_used

    @remotable_classmethod
    def get_by_host(cls: type[ComputeNode], context: Any, host: str) -> ComputeNode:
        """The node of a compute host; raises ``ComputeHostNotFound``."""
        return stored(get_storage().compute_node_get_by_host(context, host))

    @remotable
    def create(self) -> None:
        """Store a new node; ``id`` is set from the database."""
        if self.obj_attr_is_set("id"):
            raise ObjectActionError("create compute node", f"already created (id {self.id})")
        self._obj_take_stored(get_storage().compute_node_create(self.obj_context, self))

    @remotable
    def save(self) -> None:
        """Write the changed fields."""
        if not self.obj_attr_is_set("id"):
            raise ObjectActionError("save compute node", "it was never created")
        changes = self.obj_get_changes()
        if not changes:
            return
        self._obj_take_stored(get_storage().compute_node_save(self.obj_context, self.id, changes))


@register
class ComputeNodeList(CumuloObject):
    """A list of compute nodes, as one object (what a query returns over RPC).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[ComputeNode] = field(default_factory=list)

    @remotable_classmethod
    def get_all(cls: type[ComputeNodeList], context: Any) -> ComputeNodeList:
        """Every node not deleted, by host."""
        rows = get_storage().compute_node_get_all(context)
        return stored(cls(objects=rows))
