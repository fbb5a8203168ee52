"""Building instances: record each one (``Instance`` and its block device
mappings), place it, and cast the build to its host.

An instance no host can take is recorded in ERROR with a fault, and the task
raises ``NoValidHost`` once every instance of the request was handled.
"""

from __future__ import annotations

import logging
import math
import secrets
import string
import uuid
from typing import Any

from cumulo.compute.rpcapi import ComputeAPI
from cumulo.model import (
    BlockDeviceMapping,
    BlockDeviceMappingList,
    DestinationType,
    Flavor,
    ImageMeta,
    InjectedFile,
    Instance,
    InstanceActionName,
    PowerState,
    SecurityGroupList,
    SourceType,
    TaskState,
    VmState,
)
from cumulo.model.allocation import release
from cumulo.model.service import DEFAULT_SERVICE_DOWN_TIME

from .actions import task_event
from .exceptions import NoValidHost
from .placement import Need, Placement

LOG = logging.getLogger(__name__)

EVENT = "conductor_schedule_and_build_instances"


def _image_uuid(image_ref: str | None) -> uuid.UUID | None:
    if image_ref is None:
        return None
    try:
        return uuid.UUID(image_ref)
    except ValueError:
        return None


def default_mappings(
    instance: Instance, flavor: Flavor, given: list[BlockDeviceMapping]
) -> list[BlockDeviceMapping]:
    """The instance's mappings: those given, plus the image's root disk (unless a
    mapping is the root), and the flavor's ephemeral and swap disks (unless given)."""
    bdms = [bdm.obj_clone() for bdm in given]

    def local(source: SourceType, **fields: Any) -> BlockDeviceMapping:
        return BlockDeviceMapping(
            uuid=uuid.uuid4(),
            instance_uuid=instance.uuid,
            source_type=source,
            destination_type=DestinationType.LOCAL,
            delete_on_termination=True,
            **fields,
        )

    if not any(bdm.is_root for bdm in bdms):
        if instance.image_ref is None:
            raise ValueError(
                f"instance {instance.uuid}: no image_ref and no root mapping (boot_index 0)"
            )
        bdms.insert(
            0,
            local(
                SourceType.IMAGE,
                boot_index=0,
                image_id=_image_uuid(instance.image_ref),
                volume_size=flavor.root_gb,
            ),
        )
    if flavor.ephemeral_gb and not any(b.is_ephemeral and not b.is_root for b in bdms):
        bdms.append(local(SourceType.BLANK, volume_size=flavor.ephemeral_gb))
    if flavor.swap and not any(b.is_swap for b in bdms):
        bdms.append(
            local(SourceType.BLANK, guest_format="swap", volume_size=math.ceil(flavor.swap / 1024))
        )
    return bdms


def new_reservation_id() -> str:
    """``r-`` and 8 random lowercase letters and digits, as Nova names a build request."""
    alphabet = string.ascii_lowercase + string.digits
    return "r-" + "".join(secrets.choice(alphabet) for _ in range(8))


class BuildTask:
    """One ``build_instances`` request (see the module docstring)."""

    def __init__(
        self,
        context: Any,
        compute_rpc: ComputeAPI,
        host: str,
        *,
        image_meta: ImageMeta | None,
        block_device_mappings: list[BlockDeviceMapping],
        injected_files: list[InjectedFile],
        admin_password: str | None,
        requested_host: str | None,
        service_down_time: float = DEFAULT_SERVICE_DOWN_TIME,
    ) -> None:
        self.context = context
        self.compute_rpc = compute_rpc
        self.host = host
        self.image_meta = image_meta
        self.block_device_mappings = block_device_mappings
        self.injected_files = injected_files
        self.admin_password = admin_password
        self.requested_host = requested_host
        self.service_down_time = service_down_time

    def execute(self, instances: list[Instance]) -> list[Instance]:
        """Record, place and build ``instances`` (templates: not yet created, with
        their flavor set). Returns them as stored, with their hosts.

        Raises:
            NoValidHost: some instance could not be placed (it is in ERROR, with a
                fault; the others are being built).
            ValueError: a template is incomplete (no flavor, no root disk).
        """
        placement = Placement(self.context, service_down_time=self.service_down_time)
        built: list[Instance] = []
        unplaced: list[str] = []
        # One reservation for the request (an API may have chosen it already).
        given = {t.reservation_id for t in instances if t.reservation_id is not None}
        reservation = given.pop() if len(given) == 1 else new_reservation_id()
        for index, template in enumerate(instances):
            instance = self._create(template, reservation, index)
            try:
                self._place_and_build(instance, placement)
            except NoValidHost as error:
                unplaced.append(f"instance {instance.uuid}: {error.reason}")
            built.append(instance)
        if unplaced:
            raise NoValidHost(
                f"{len(unplaced)} of {len(instances)} instances could not be placed: "
                + "; ".join(unplaced)
            )
        return built

    def _create(self, template: Instance, reservation_id: str, launch_index: int) -> Instance:
        if not template.obj_attr_is_set("flavor"):
            raise ValueError(f"instance {template.uuid}: a flavor is needed to build it")
        instance = template.obj_clone()
        instance.obj_set_context(self.context)
        instance.reservation_id = reservation_id
        instance.launch_index = launch_index
        flavor = instance.flavor
        instance.memory_mb = flavor.memory_mb
        instance.vcpus = flavor.vcpus
        instance.root_gb = flavor.root_gb
        instance.ephemeral_gb = flavor.ephemeral_gb
        instance.vm_state = VmState.BUILDING
        instance.task_state = TaskState.SCHEDULING
        instance.power_state = PowerState.NOSTATE
        instance.host = None
        instance.node = None
        if not instance.obj_attr_is_set("security_groups"):
            instance.security_groups = SecurityGroupList()
        given = [b for b in self.block_device_mappings if b.instance_uuid == instance.uuid]
        bdms = default_mappings(instance, flavor, given)  # checked before anything is stored
        instance.create()
        for bdm in bdms:
            bdm.obj_set_context(self.context)
            bdm.create()
        return instance

    def _place_and_build(self, instance: Instance, placement: Placement) -> None:
        ctx = self.context
        with task_event(
            ctx,
            instance.uuid,
            EVENT,
            self.host,
            action=InstanceActionName.CREATE,
            finish_action=False,  # the compute host finishes it with the build
        ):
            bdms = BlockDeviceMappingList.get_by_instance_uuid(ctx, instance.uuid)
            root = bdms.root_bdm()
            need = Need.of_flavor(
                instance.flavor, volume_backed=root is not None and root.is_volume
            )
            try:
                allocation = placement.claim(
                    instance.uuid, need, requested_host=self.requested_host
                )
            except NoValidHost:
                instance.vm_state = VmState.ERROR
                instance.task_state = None
                instance.save(expected_task_state=TaskState.SCHEDULING)
                raise
            host = allocation.host
            instance.host = host
            instance.node = allocation.node
            try:
                instance.save(expected_task_state=TaskState.SCHEDULING)
            except BaseException:  # deleted meanwhile, or the database failed: unclaim
                release(self.context, instance.uuid, host=host)
                raise
        image_meta = self.image_meta
        if image_meta is None:
            image_meta = ImageMeta(id=_image_uuid(instance.image_ref))
        LOG.info("building instance %s on %s", instance.uuid, host)
        self.compute_rpc.build_and_run_instance(
            ctx,
            host,
            instance,
            bdms,
            image_meta,
            list(self.injected_files),
            self.admin_password,
        )
