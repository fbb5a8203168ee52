"""Building and deleting instances on this host.

Build: name the disks (``default_root_device_name``,
``default_device_names_for_instance``), reserve the volumes, allocate the network
as the driver constrains it (``macs_for_instance``, ``dhcp_options_for_instance``),
spawn, set up the firewall filter of the instance's security groups, and record
the instance ACTIVE — under a resource claim. A failed build leaves nothing on the
host (guest destroyed, VIFs unplugged, volumes released, network deallocated) and
the instance in ERROR.

Delete: destroy the guest, release its volumes (with this host's volume
connector), clean up what is left, and soft-delete the instance.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from cumulo.model import (
    BlockDeviceMapping,
    BlockDeviceMappingList,
    DestinationType,
    ImageMeta,
    InjectedFile,
    Instance,
    InstanceActionName,
    NetworkInfo,
    PowerState,
    SourceType,
    TaskState,
    VmState,
)

from .base import ManagerBase
from .volumes import block_device_info

LOG = logging.getLogger(__name__)

_BUILD_STEPS = (TaskState.BLOCK_DEVICE_MAPPING, TaskState.NETWORKING, TaskState.SPAWNING)


def _is_volume_backed(bdms: BlockDeviceMappingList) -> bool:
    root = bdms.root_bdm()
    return root is not None and root.is_volume


NO_NETWORK_KEY: Final = "network_allocation"
"""System metadata: ``none`` when the instance was asked for without a network."""


class BuildFlows(ManagerBase):
    """``build_and_run_instance`` and ``terminate_instance``."""

    def build_and_run_instance(
        self,
        context: Any,
        instance: Instance,
        block_device_mappings: BlockDeviceMappingList,
        image_meta: ImageMeta,
        injected_files: list[InjectedFile],
        admin_password: str | None,
    ) -> None:
        """Build ``instance`` (scheduled here by the conductor, task ``scheduling``)."""
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context,
                instance,
                "compute_build_and_run_instance",
                InstanceActionName.CREATE,
                start_action=False,  # the conductor's build task started it
                finish_action=True,
            ),
        ):
            self._check_on_host(instance)
            # Taking the instance first: a duplicate build message stops here and
            # must not clean up the guest the first one built.
            instance.task_state = TaskState.BLOCK_DEVICE_MAPPING
            instance.save(
                expected_task_state=TaskState.SCHEDULING, expected_vm_state=VmState.BUILDING
            )
            bdms = block_device_mappings
            bdms.obj_set_context(context)
            try:
                self._build(context, instance, bdms, image_meta, injected_files, admin_password)
            except Exception:
                self._clean_failed_build(context, instance, bdms)
                raise

    def _build(
        self,
        context: Any,
        instance: Instance,
        bdms: BlockDeviceMappingList,
        image_meta: ImageMeta,
        injected_files: list[InjectedFile],
        admin_password: str | None,
    ) -> None:
        volume_backed = _is_volume_backed(bdms)
        with self.tracker.instance_claim(context, instance, volume_backed=volume_backed):
            self._default_device_names(instance, image_meta, bdms)
            for bdm in bdms.volumes():
                self.volumes.reserve(instance, bdm)
            instance.task_state = TaskState.NETWORKING
            instance.save(expected_task_state=TaskState.BLOCK_DEVICE_MAPPING)

            network_info = self._allocate_network(instance)
            instance.task_state = TaskState.SPAWNING
            instance.save(expected_task_state=TaskState.NETWORKING)

            if not volume_backed:  # the base its root disk is an overlay of
                self._ensure_image(instance, image_meta)

            self.driver.spawn(
                context,
                instance,
                image_meta,
                list(injected_files),
                admin_password,
                network_info,
                block_device_info(instance, bdms),
            )
            for bdm in bdms.volumes():  # the driver set where each volume appeared
                bdm.save()
            self.driver.ensure_filtering_rules_for_instance(
                instance, network_info, instance.security_groups
            )
            instance.power_state = self._power_state(instance)
            instance.vm_state = VmState.ACTIVE
            instance.task_state = None
            instance.launched_at = datetime.now(UTC)
            instance.launched_on = self.host
            instance.save(expected_task_state=TaskState.SPAWNING)

    def _default_device_names(
        self, instance: Instance, image_meta: ImageMeta, bdms: BlockDeviceMappingList
    ) -> None:
        """Name every disk the caller left unnamed, the root first; save the mappings
        that changed (the root device name is saved with the instance)."""
        root = bdms.root_bdm()
        if root is None:  # no mapping for the root disk: name the image's
            root = BlockDeviceMapping(
                uuid=uuid.uuid4(),
                instance_uuid=instance.uuid,
                source_type=SourceType.IMAGE,
                destination_type=DestinationType.LOCAL,
                boot_index=0,
            )
        root_name = instance.root_device_name or root.device_name
        if not root_name:
            root_name = self.driver.default_root_device_name(instance, image_meta, root)
        root.device_name = root_name
        instance.root_device_name = root_name
        others = [bdm for bdm in bdms.objects if bdm is not root]
        self.driver.default_device_names_for_instance(
            instance,
            root_name,
            [bdm for bdm in others if bdm.is_ephemeral],
            [bdm for bdm in others if bdm.is_swap],
            [bdm for bdm in others if bdm.is_volume],
        )
        for bdm in bdms.objects:
            if bdm.obj_what_changed():
                bdm.save()

    def _allocate_network(self, instance: Instance) -> NetworkInfo:
        """Allocate the instance's network within what the driver allows and store it
        in the info cache; none for an instance asked without a network (the API's
        ``networks: none`` leaves ``network_allocation: none`` in its system metadata)."""
        if instance.system_metadata.get(NO_NETWORK_KEY) == "none":
            return NetworkInfo()
        macs = self.driver.macs_for_instance(instance)
        dhcp_options = self.driver.dhcp_options_for_instance(instance)
        network_info = self.network.allocate_for_instance(instance, macs, dhcp_options)
        cache = instance.info_cache
        cache.network_info = network_info
        cache.save()
        return network_info

    def _deallocate_network(self, instance: Instance) -> None:
        """Release the instance's ports (fleet-wide) and empty its info cache."""
        self.network.deallocate_for_instance(instance)
        cache = instance.info_cache
        if cache.network_info.objects:
            cache.network_info = NetworkInfo()
            cache.save()

    def _clean_failed_build(
        self, context: Any, instance: Instance, bdms: BlockDeviceMappingList
    ) -> None:
        """Leave nothing of a failed build on the host; the instance goes to ERROR.
        Each step runs even when an earlier one failed."""
        try:
            network_info = self._network_info(instance)
        except Exception:
            LOG.exception("failed build of %s: cannot load its network info", instance.uuid)
            network_info = NetworkInfo()
        steps: list[tuple[str, Callable[[], None]]] = [
            ("destroy", lambda: self.driver.destroy(context, instance, network_info)),
            ("unplug VIFs", lambda: self.driver.unplug_vifs(instance, network_info)),
            ("release volumes", lambda: self.volumes.disconnect_all(context, instance, bdms)),
            ("deallocate network", lambda: self._deallocate_network(instance)),
        ]
        for name, step in steps:
            try:
                step()
            except Exception:
                LOG.exception("failed build of %s: %s failed", instance.uuid, name)
        try:
            instance.vm_state = VmState.ERROR
            instance.task_state = None
            instance.power_state = self._power_state(instance)
            # Only from a build step: a delete that came meanwhile wins.
            instance.save(expected_task_state=_BUILD_STEPS)
        except Exception:
            LOG.exception("failed build of %s: cannot record it in ERROR", instance.uuid)

    def terminate_instance(self, context: Any, instance: Instance) -> None:
        """Delete the instance: its guest, its volume attachments, what the host keeps
        of it; then soft-delete the row. A delete overrides any task in progress."""
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context, instance, "compute_terminate_instance", InstanceActionName.DELETE
            ),
        ):
            instance.task_state = TaskState.DELETING
            instance.save()
            try:
                network_info = self._network_info(instance)
                bdms = self._bdms(context, instance)
                bdi = block_device_info(instance, bdms)
                self.driver.destroy(context, instance, network_info, bdi)
                self.volumes.disconnect_all(context, instance, bdms)
                self.driver.cleanup(context, instance, network_info, bdi, destroy_disks=True)
                for bdm in bdms.volumes():
                    self.volumes.delete_if_asked(bdm)
            except Exception:
                instance.vm_state = VmState.ERROR
                self._revert_task(instance, TaskState.DELETING)
                raise
            finally:
                self._update_resources(context)
            instance.vm_state = VmState.DELETED
            instance.task_state = None
            instance.power_state = PowerState.NOSTATE
            instance.terminated_at = datetime.now(UTC)
            instance.save(expected_task_state=TaskState.DELETING)
            instance.destroy()
