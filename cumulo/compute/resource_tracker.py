"""``ResourceTracker``: a compute host's record of itself — its ``ComputeNode``
(capacity and use, from the driver, plus claims of guests being built) and its
``Service`` row (release version, object manifest, heartbeat).

``object_manifest`` (from ``cumulo.model.base``) is re-exported here for callers
that read it next to the resource tracker."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cumulo.model import (
    ComputeHostNotFound,
    ComputeNode,
    Instance,
    Service,
    ServiceBinary,
)
from cumulo.model.base import object_manifest
from cumulo.model.service import register_service, report_service
from cumulo.virt import ComputeDriver, common

from .exceptions import ComputeResourcesUnavailable
from .rpcapi import API_VERSION, TOPIC
from .version import SERVICE_VERSION

__all__ = ["Claim", "ResourceTracker", "claim_of", "object_manifest"]

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """What a guest being built takes from the host before the driver accounts for it."""

    instance_uuid: uuid.UUID
    vcpus: int
    memory_mb: int
    disk_gb: int


def claim_of(instance: Instance, volume_backed: bool = False) -> Claim:
    """The resources ``instance`` needs (by :meth:`Instance.size`)."""
    size = instance.size()
    disk_gb = common.local_disk_gb(size, volume_backed)
    return Claim(instance.uuid, size.vcpus, size.memory_mb, disk_gb)


class ResourceTracker:
    """Keeps ``host``'s ``ComputeNode`` and ``Service`` rows up to date.

    The driver's ``get_available_resource`` is the truth about use; a claim covers
    a guest from the moment the host accepts to build it until the driver has
    created it, so two builds racing for the last memory cannot both be accepted.
    The fake hypervisor does not overcommit, so the node records allocation ratios
    of 1.0.
    """

    def __init__(self, host: str, driver: ComputeDriver) -> None:
        self.host = host
        self.driver = driver
        self._lock = threading.Lock()
        self._service_lock = threading.Lock()
        self._claims: dict[uuid.UUID, Claim] = {}
        self.node: ComputeNode | None = None
        self.service: Service | None = None

    # --- the service row ------------------------------------------------------------------

    def register_service(self, context: Any) -> Service:
        """Create or update this host's ``cumulo-compute`` service row with this
        release's version, object manifest and RPC API version."""
        self.service = register_service(
            context, self.host, ServiceBinary.COMPUTE, TOPIC, SERVICE_VERSION, API_VERSION
        )
        return self.service

    def report_state(self, context: Any) -> Service:
        """Heartbeat: count a report and move ``last_seen_up`` to now."""
        # The heartbeat timer and the periodic tasks may both report.
        with self._service_lock:
            if self.service is None:
                return self.register_service(context)
            return report_service(context, self.service, SERVICE_VERSION, API_VERSION)

    # --- the node row ---------------------------------------------------------------------

    def update_available_resource(self, context: Any) -> ComputeNode:
        """Refresh the node row from the driver (plus claims not yet on the driver)."""
        with self._lock:
            resources = self.driver.get_available_resource()
            running = set(self.driver.list_instance_uuids())
            pending = [c for c in self._claims.values() if c.instance_uuid not in running]
            node = self._node(context)
            node.update_from_resources(resources)
            node.vcpus_used += sum(c.vcpus for c in pending)
            node.memory_mb_used += sum(c.memory_mb for c in pending)
            node.local_gb_used += sum(c.disk_gb for c in pending)
            node.free_ram_mb = node.memory_mb - node.memory_mb_used
            node.free_disk_gb = node.local_gb - node.local_gb_used
            node.running_vms = len(running)
            node.current_workload = len(pending)
            node.save()
            return node

    def _node(self, context: Any) -> ComputeNode:
        node = self.node
        if node is not None:
            node.obj_set_context(context)
            return node
        try:
            node = ComputeNode.get_by_host(context, self.host)
        except ComputeHostNotFound:
            node = ComputeNode(uuid=uuid.uuid4(), host=self.host, hypervisor_hostname=self.host)
            node.obj_set_context(context)
            node.cpu_allocation_ratio = 1.0
            node.ram_allocation_ratio = 1.0
            node.disk_allocation_ratio = 1.0
            node.update_from_resources(self.driver.get_available_resource())
            node.create()
        self.node = node
        return node

    # --- claims ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def instance_claim(
        self, context: Any, instance: Instance, *, volume_backed: bool = False
    ) -> Iterator[Claim]:
        """Claim what ``instance`` needs for the duration of the block (its build);
        the node row is refreshed when the block ends, whatever happened.

        Raises:
            ComputeResourcesUnavailable: the host has not that much free.
        """
        claim = claim_of(instance, volume_backed)
        with self._lock:
            resources = self.driver.get_available_resource()
            running = set(self.driver.list_instance_uuids())
            pending = [c for c in self._claims.values() if c.instance_uuid not in running]
            free = {
                "vcpus": resources.vcpus - resources.vcpus_used - sum(c.vcpus for c in pending),
                "memory_mb": resources.memory_mb
                - resources.memory_mb_used
                - sum(c.memory_mb for c in pending),
                "disk_gb": resources.local_gb
                - resources.local_gb_used
                - sum(c.disk_gb for c in pending),
            }
            need = {"vcpus": claim.vcpus, "memory_mb": claim.memory_mb, "disk_gb": claim.disk_gb}
            short = [f"{k} {need[k]} needed, {free[k]} free" for k in need if need[k] > free[k]]
            if short:
                raise ComputeResourcesUnavailable(self.host, str(instance.uuid), ", ".join(short))
            self._claims[instance.uuid] = claim
        try:
            yield claim
        finally:
            with self._lock:
                self._claims.pop(instance.uuid, None)
            try:
                self.update_available_resource(context)
            except Exception:
                LOG.exception("could not update the node of %s after a claim", self.host)
