"""``LiveMigrationTask``: move a running instance to another host, in the order of
DESIGN.md.

The task takes the instance (task ``migrating``, compare-and-swap), records a
``Migration`` (``queued``), calls the destination B's
``check_can_live_migrate_destination`` (which asks the source A's
``check_can_live_migrate_source``), then calls A's ``live_migration``, which
prepares B, moves the guest and finishes on both sides or rolls back (see
``cumulo.compute.migration``). A refused check ends the migration in ``error``
with the instance untouched on A. Whatever happens, the task returns with the
instance free of its task: if a host could not settle it (unreachable), the task
clears the task state and ends the migration itself.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final

from cumulo.compute.rpcapi import ComputeAPI
from cumulo.model import (
    ComputeHostNotFound,
    ComputeNode,
    Instance,
    InstanceActionName,
    LiveMigrateData,
    Migration,
    MigrationStatus,
    MigrationType,
    TaskState,
    VmState,
)
from cumulo.model.allocation import allocations_of, release
from cumulo.model.service import DEFAULT_SERVICE_DOWN_TIME
from cumulo.rpc import RemoteError

from .actions import task_event
from .exceptions import InvalidLiveMigration, MigrationPreCheckFailed, NoValidHost
from .placement import Need, Placement

LOG = logging.getLogger(__name__)

EVENT: Final = "conductor_live_migrate_instance"
MIGRATABLE: Final = (VmState.ACTIVE, VmState.PAUSED)
REFUSALS: Final = (InvalidLiveMigration, MigrationPreCheckFailed, NoValidHost)
"""Errors that leave the instance as it was: recorded on the event, not as faults."""


def _reason(error: BaseException) -> str:
    if isinstance(error, RemoteError):
        return f"{error.exc_type.rsplit('.', 1)[-1]}: {error.value}"
    return str(error)


class LiveMigrationTask:
    """One live migration request.

    Args:
        context: the request context.
        compute_rpc: the client for the compute hosts.
        host: the conductor's name (recorded on the task's event).
        instance_uuid: the instance to move.
        destination: the host to move it to (``None``: the host placement picks).
        block_migration: copy the local disks instead of sharing them (``None``:
            when the source and the destination do not share instance storage,
            as Nova's ``"auto"``).
        disk_over_commit: let a block migration exceed the destination's free disk.
        service_down_time: seconds after its last heartbeat a host counts as down
            (and is no destination).
    """

    def __init__(
        self,
        context: Any,
        compute_rpc: ComputeAPI,
        host: str,
        instance_uuid: uuid.UUID,
        destination: str | None,
        *,
        block_migration: bool | None = False,
        disk_over_commit: bool = False,
        service_down_time: float = DEFAULT_SERVICE_DOWN_TIME,
    ) -> None:
        self.context = context
        self.service_down_time = service_down_time
        self.compute_rpc = compute_rpc
        self.host = host
        self.instance_uuid = instance_uuid
        self.destination = destination
        self.block_migration = block_migration
        self.disk_over_commit = disk_over_commit
        self._took_instance = False
        self._dest_claimed_before = False

    def execute(self) -> Migration:
        """Run the migration; returns its record (``completed``).

        Raises:
            InvalidLiveMigration: the instance cannot be migrated as it is.
            NoValidHost: no destination was given and none fits.
            MigrationPreCheckFailed: a host refused; nothing moved.
            LiveMigrationFailed: (from the source host) the migration started but did
                not complete; the error says where the instance runs.
        """
        ctx = self.context
        instance = Instance.get_by_uuid(
            ctx, self.instance_uuid, expected_attrs=["flavor", "info_cache", "security_groups"]
        )
        with task_event(
            ctx,
            instance.uuid,
            EVENT,
            self.host,
            action=InstanceActionName.LIVE_MIGRATION,
            refusals=REFUSALS,
        ):
            source = self._validate(instance)
            dest, dest_node = self._claim_destination(instance, source)
            try:
                return self._migrate(instance, source, dest, dest_node)
            finally:
                self._move_claims(instance.uuid, dest)

    def _migrate(
        self, instance: Instance, source: str, dest: str, dest_node: ComputeNode
    ) -> Migration:
        ctx = self.context
        instance.task_state = TaskState.MIGRATING
        instance.save(expected_task_state=None, expected_vm_state=MIGRATABLE)
        self._took_instance = True
        try:
            migration = self._create_migration(instance, source, dest, dest_node)
        except BaseException:
            instance.task_state = None
            instance.save(expected_task_state=TaskState.MIGRATING)
            raise
        try:
            block_migration, data = self._check(instance, source, dest, migration)
            data.migration = migration
            self.compute_rpc.live_migration(ctx, instance, dest, block_migration, migration, data)
        except BaseException:
            self._settle(instance, migration)
            raise
        return Migration.get_by_id(ctx, migration.id)

    def _claim_destination(self, instance: Instance, source: str) -> tuple[str, ComputeNode]:
        """The destination (given, or placement's choice) with the instance's claim on
        it recorded; a down, disabled or forced-down host, or one without room, is
        refused (``NoValidHost``), nothing changed."""
        need = Need.of_instance(instance)
        if instance.obj_attr_is_set("flavor"):
            need = Need.of_flavor(instance.flavor)
        placement = Placement(self.context, service_down_time=self.service_down_time)
        held = {a.host for a in allocations_of(self.context, instance.uuid)}
        dest = self.destination
        if dest is None:
            dest = placement.claim(instance.uuid, need, exclude=[source]).host
        else:
            if dest == source:
                raise InvalidLiveMigration(str(instance.uuid), f"it already runs on {dest!r}")
            try:
                ComputeNode.get_by_host(self.context, dest)
            except ComputeHostNotFound:
                raise InvalidLiveMigration(
                    str(instance.uuid), f"{dest!r} is not a compute host"
                ) from None
            placement.check_host(dest, "destination")
            placement.claim(instance.uuid, need, requested_host=dest, what="destination")
        self._dest_claimed_before = dest in held
        try:
            return dest, ComputeNode.get_by_host(self.context, dest)
        except BaseException:
            release(self.context, instance.uuid, host=dest)
            raise

    def _move_claims(self, instance_uuid: uuid.UUID, dest: str) -> None:
        """After the migration, whatever its end: the instance keeps the claim of the
        host it runs on (the destination's on success, the source's after a failure
        or a rollback) and drops the other. An instance still in a task (no host
        settled this one, or another task took the instance first) keeps both until
        whoever settles it decides. A task that never took the instance (another
        task had it) drops only the claim it made itself."""
        try:
            if not self._took_instance:
                if not self._dest_claimed_before:
                    release(self.context, instance_uuid, host=dest)
                return
            current = Instance.get_by_uuid(self.context, instance_uuid)
            if current.task_state is not None:
                LOG.warning(
                    "live migration of %s: task %s in flight, claims kept",
                    instance_uuid,
                    current.task_state,
                )
            elif current.host:
                release(self.context, instance_uuid, keep=current.host)
            else:
                release(self.context, instance_uuid, host=dest)
        except Exception:
            LOG.exception("live migration of %s: could not move its claims", instance_uuid)

    def _validate(self, instance: Instance) -> str:
        uuid_ = str(instance.uuid)
        if not instance.host:
            raise InvalidLiveMigration(uuid_, "it runs on no host")
        if instance.vm_state not in MIGRATABLE:
            raise InvalidLiveMigration(
                uuid_, f"its vm_state is {instance.vm_state}, expected active or paused"
            )
        if instance.task_state is not None:
            raise InvalidLiveMigration(uuid_, f"task {instance.task_state} is in progress")
        return instance.host

    def _create_migration(
        self, instance: Instance, source: str, dest: str, dest_node: ComputeNode
    ) -> Migration:
        migration = Migration(
            uuid=uuid.uuid4(),
            instance_uuid=instance.uuid,
            migration_type=MigrationType.LIVE_MIGRATION,
            status=MigrationStatus.QUEUED,
            source_compute=source,
            source_node=instance.node,
            dest_compute=dest,
            dest_node=dest_node.hypervisor_hostname,
            dest_host=dest_node.host_ip,
            user_id=getattr(self.context, "user_id", None),
            project_id=getattr(self.context, "project_id", None),
        )
        if instance.obj_attr_is_set("flavor") and instance.flavor.obj_attr_is_set("id"):
            migration.old_flavor_id = instance.flavor.id
            migration.new_flavor_id = instance.flavor.id
        migration.obj_set_context(self.context)
        migration.create()
        return migration

    def _check(
        self, instance: Instance, source: str, dest: str, migration: Migration
    ) -> tuple[bool, LiveMigrateData]:
        """Whether the disks are copied, and the destination's check (which runs the
        source's); a refusal ends the migration in ``error`` and frees the instance."""
        try:
            block_migration = self.block_migration
            if block_migration is None:  # "auto": copy the local disks nobody shares
                local_disks = instance.image_ref is not None and (
                    instance.root_gb + instance.ephemeral_gb > 0
                )
                block_migration = (
                    local_disks
                    and not self.compute_rpc.check_instance_shared_storage(
                        self.context, instance, dest
                    )
                )
            return block_migration, self.compute_rpc.check_can_live_migrate_destination(
                self.context, instance, dest, block_migration, self.disk_over_commit
            )
        except Exception as error:
            instance.task_state = None
            instance.save(expected_task_state=TaskState.MIGRATING)
            migration.status = MigrationStatus.ERROR
            migration.save()
            raise MigrationPreCheckFailed(
                str(instance.uuid), source, dest, _reason(error)
            ) from error

    def _settle(self, instance: Instance, migration: Migration) -> None:
        """After a failure: the hosts settle the instance; make sure nothing is left
        in flight when they could not (a host did not answer)."""
        ctx = self.context
        try:
            current = Instance.get_by_uuid(ctx, instance.uuid)
            if current.task_state is TaskState.MIGRATING:
                LOG.error(
                    "live migration of %s: no host settled the instance; clearing its task",
                    instance.uuid,
                )
                current.task_state = None
                current.save(expected_task_state=TaskState.MIGRATING)
            record = Migration.get_by_id(ctx, migration.id)
            if not record.is_final:
                record.status = MigrationStatus.ERROR
                record.save()
        except Exception:
            LOG.exception("live migration of %s: could not settle the records", instance.uuid)
