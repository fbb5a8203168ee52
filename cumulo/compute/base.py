"""``ManagerBase``: what every flow of the compute manager shares — the host's
driver, volume connections, network allocator, resource tracker and peer client,
per-instance locks, and the small steps flows repeat (asking the driver for the
power state, loading mappings and network info, moving task states)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any, Final
from uuid import UUID

from cumulo.model import (
    BlockDeviceInfo,
    BlockDeviceMappingList,
    ImageMeta,
    Instance,
    InstanceActionName,
    InstanceNotFound,
    NetworkInfo,
    PowerState,
    TaskState,
    VmState,
)
from cumulo.rpc import RequestContext, Target
from cumulo.virt import ComputeDriver

from .actions import recorded
from .exceptions import InstanceNotOnHost
from .image_cache import ImageCache
from .network import NetworkAllocator
from .resource_tracker import ResourceTracker
from .rpcapi import API_VERSION, ComputeAPI
from .volumes import VolumeConnections, block_device_info

LOG = logging.getLogger(__name__)

_LOCK_STRIPES: Final = 64

VM_STATE_FOR_POWER: Final = {
    PowerState.RUNNING: VmState.ACTIVE,
    PowerState.PAUSED: VmState.PAUSED,
    PowerState.SUSPENDED: VmState.SUSPENDED,
    PowerState.SHUTDOWN: VmState.STOPPED,
    PowerState.CRASHED: VmState.STOPPED,
    PowerState.NOSTATE: VmState.ERROR,
}
"""The vm_state an instance settles in when its guest is found in a power state
(after a live migration, or a rollback of one)."""


class ManagerBase:
    """The state and helpers the compute manager's flows share (see ``manager``)."""

    target = Target(version=API_VERSION)

    host: str
    driver: ComputeDriver
    volumes: VolumeConnections
    network: NetworkAllocator
    tracker: ResourceTracker
    compute_rpc: ComputeAPI
    images: ImageCache | None
    """Where base images are fetched into from the image API (``None``: the driver
    finds them by itself, e.g. in a directory an operator fills)."""
    _locks: tuple[threading.RLock, ...]

    def _init_locks(self) -> None:
        self._locks = tuple(threading.RLock() for _ in range(_LOCK_STRIPES))

    @contextlib.contextmanager
    def _instance_lock(self, instance_uuid: UUID) -> Iterator[None]:
        """One operation at a time per instance on this host (stripes of re-entrant
        locks: a step may call back into this host in the same thread)."""
        with self._locks[instance_uuid.int % _LOCK_STRIPES]:
            yield

    def _admin_context(self) -> RequestContext:
        """A context for the host's own work (start-up, periodic tasks)."""
        return RequestContext(roles=["admin"], is_admin=True)

    def _record(
        self,
        context: Any,
        instance: Instance,
        event: str,
        action: InstanceActionName,
        *,
        start_action: bool = True,
        finish_action: bool | None = None,
    ) -> contextlib.AbstractContextManager[None]:
        return recorded(
            context,
            instance.uuid,
            event,
            self.host,
            action=action,
            start_action=start_action,
            finish_action=finish_action,
        )

    def _check_on_host(self, instance: Instance) -> None:
        if instance.host != self.host:
            raise InstanceNotOnHost(str(instance.uuid), self.host, instance.host)

    def _power_state(self, instance: Instance) -> PowerState:
        """The guest's power state as the driver reports it; ``NOSTATE`` when the guest
        does not run here."""
        try:
            return self.driver.get_info(instance).state
        except InstanceNotFound:
            return PowerState.NOSTATE

    def _network_info(self, instance: Instance) -> NetworkInfo:
        """The instance's network info from its info cache."""
        return instance.info_cache.network_info

    def _bdms(self, context: Any, instance: Instance) -> BlockDeviceMappingList:
        return BlockDeviceMappingList.get_by_instance_uuid(context, instance.uuid)

    def _block_device_info(self, context: Any, instance: Instance) -> BlockDeviceInfo:
        """The instance's disks as connected on this host."""
        return block_device_info(instance, self._bdms(context, instance))

    def _ensure_image(self, instance: Instance, image_meta: ImageMeta | None = None) -> None:
        """Bring the instance's base image into this host's cache, if the host fetches
        images and the instance boots from one; ``image_meta`` (when given) gets the
        image's checksum if it had none.

        Raises:
            ImageFetchFailed: the image could not be fetched.
        """
        if self.images is None or not instance.image_ref:
            return
        cached = self.images.ensure(instance.image_ref)
        if image_meta is not None and image_meta.checksum is None:
            image_meta.checksum = cached.checksum

    def _update_resources(self, context: Any) -> None:
        """Refresh the node row; a failure is logged (the next refresh catches up)."""
        try:
            self.tracker.update_available_resource(context)
        except Exception:
            LOG.exception("could not update the resources of host %s", self.host)

    def _start_task(
        self,
        instance: Instance,
        task_state: TaskState,
        allowed_vm_states: tuple[VmState, ...],
    ) -> None:
        """Take the instance for ``task_state``: only if no other task runs and its
        vm_state is one of ``allowed_vm_states`` (compare-and-swap)."""
        instance.task_state = task_state
        instance.save(expected_task_state=None, expected_vm_state=allowed_vm_states)

    def _finish_task(self, instance: Instance, task_state: TaskState, vm_state: VmState) -> None:
        """End ``task_state``: the driver's power state and ``vm_state`` are recorded."""
        instance.power_state = self._power_state(instance)
        instance.vm_state = vm_state
        instance.task_state = None
        instance.save(expected_task_state=task_state)

    def _revert_task(self, instance: Instance, task_state: TaskState) -> None:
        """After a failed step: clear ``task_state`` and record the power state the
        guest is really in; the vm_state stays (the driver changed nothing)."""
        try:
            instance.power_state = self._power_state(instance)
            instance.task_state = None
            instance.save(expected_task_state=task_state)
        except Exception:
            LOG.exception("could not clear task %s of instance %s", task_state, instance.uuid)
