"""Live migration, both sides, in the order of DESIGN.md.

The conductor task calls the destination B's ``check_can_live_migrate_destination``,
which asks the source A's ``check_can_live_migrate_source``; then it calls A's
``live_migration``, which asks B's ``pre_live_migration`` and runs the driver's
``live_migration`` with two callbacks:

- success (post): on A ``post_live_migration``, the volume disconnects (A's
  volume connector), ``unfilter_instance``, ``post_live_migration_at_source``,
  ``cleanup``; then B's ``post_live_migration_at_destination`` records
  ``instance.host = B``;
- failure (recover): B's ``rollback_live_migration_at_destination``, and the
  instance stays on A.

The ``Migration`` record is saved at every status change: ``queued`` (the
conductor) → ``preparing`` → ``running`` → ``post-migrating`` → ``completed``;
``error`` when a step failed and the flow settled the instance (preparation on B
failed and was undone, or a post step failed after the guest moved), ``failed``
when the hypervisor could not move the guest. Whatever fails, the instance ends
with no task, its vm_state from the power state its guest really has, on the
host where the guest really runs (asked of the driver).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Final

from cumulo.model import (
    BlockDeviceInfo,
    BlockDeviceMappingList,
    ComputeHostNotFound,
    ComputeNode,
    Instance,
    InstanceActionName,
    LiveMigrateData,
    Migration,
    MigrationStatus,
    NetworkInfo,
    PowerState,
    SecurityGroupList,
    TaskState,
    VmState,
)

from .base import VM_STATE_FOR_POWER, ManagerBase
from .exceptions import LiveMigrationFailed
from .volumes import block_device_info

LOG = logging.getLogger(__name__)

_ACTION: Final = InstanceActionName.LIVE_MIGRATION
_PROGRESS_FIELDS: Final = (
    "memory_total",
    "memory_processed",
    "memory_remaining",
    "disk_total",
    "disk_processed",
    "disk_remaining",
)


@dataclasses.dataclass
class _Outcome:
    """What the driver's callback made of the migration (read after ``live_migration``)."""

    called: bool = False
    error: str | None = None
    runs_on: str | None = None


class MigrationFlows(ManagerBase):
    """Both sides of a live migration (see the module docstring)."""

    # --- checks -----------------------------------------------------------------------------

    def check_can_live_migrate_destination(
        self,
        context: Any,
        instance: Instance,
        block_migration: bool,
        disk_over_commit: bool,
    ) -> LiveMigrateData:
        """On the destination: can this host take the guest? Then ask the source
        whether the guest can leave; the destination's probe is always removed.
        Returns the source's answer (the checks' ``LiveMigrateData``)."""
        with self._record(
            context,
            instance,
            "compute_check_can_live_migrate_destination",
            _ACTION,
            start_action=False,
        ):
            source_node: ComputeNode | None
            try:
                source_node = ComputeNode.get_by_host(context, instance.host or "")
            except ComputeHostNotFound:
                source_node = None
            dest_node = self.tracker.update_available_resource(context)
            dest_check_data = self.driver.check_can_live_migrate_destination(
                context, instance, source_node, dest_node, block_migration, disk_over_commit
            )
            try:
                return self.compute_rpc.check_can_live_migrate_source(
                    context, instance, dest_check_data
                )
            finally:
                self.driver.cleanup_live_migration_destination_check(context, dest_check_data)

    def check_can_live_migrate_source(
        self, context: Any, instance: Instance, dest_check_data: LiveMigrateData
    ) -> LiveMigrateData:
        """On the source: can the guest leave for the checked destination?"""
        with self._record(
            context, instance, "compute_check_can_live_migrate_source", _ACTION, start_action=False
        ):
            self._check_on_host(instance)
            return self.driver.check_can_live_migrate_source(
                context, instance, dest_check_data, self._block_device_info(context, instance)
            )

    # --- preparation (destination) --------------------------------------------------------

    def pre_live_migration(
        self,
        context: Any,
        instance: Instance,
        block_migration: bool,
        migrate_data: LiveMigrateData,
    ) -> LiveMigrateData:
        """On the destination: make room and connect what the guest needs (the driver's
        ``pre_live_migration`` with this host's volume connection info), then set up
        its firewall filter. Returns the driver's updated ``LiveMigrateData``. What
        a failure leaves is undone by ``rollback_live_migration_at_destination``,
        which the source calls."""
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context, instance, "compute_pre_live_migration", _ACTION, start_action=False
            ),
        ):
            network_info = self._network_info(instance)
            bdms, bdi = self._destination_disks(context, instance, None)
            root = bdms.root_bdm()
            if root is None or not root.is_volume:  # its disk arrives on this host's base
                self._ensure_image(instance)
            try:
                data = self.driver.pre_live_migration(
                    context, instance, bdi, network_info, migrate_data
                )
                groups = SecurityGroupList.get_by_instance(context, instance.uuid)
                self.driver.ensure_filtering_rules_for_instance(instance, network_info, groups)
            finally:
                self._update_resources(context)
            return data

    # --- the migration (source) -----------------------------------------------------------

    def live_migration(
        self,
        context: Any,
        instance: Instance,
        dest: str,
        block_migration: bool,
        migration: Migration,
        migrate_data: LiveMigrateData,
    ) -> None:
        """On the source: prepare the destination, move the guest, and finish on both
        sides (or roll back). Returns when the instance is settled.

        Raises:
            LiveMigrationFailed: the migration did not complete; ``runs_on`` says
                where the guest runs (and the instance record agrees).
        """
        with (
            self._instance_lock(instance.uuid),
            self._record(context, instance, "compute_live_migration", _ACTION, start_action=False),
        ):
            self._check_on_host(instance)
            migration.obj_set_context(context)
            self._set_status(migration, MigrationStatus.PREPARING)
            try:
                migrate_data = self.compute_rpc.pre_live_migration(
                    context, dest, instance, block_migration, migrate_data
                )
            except Exception as error:
                problems = self._rollback(
                    context, instance, dest, migrate_data, migration, MigrationStatus.ERROR
                )
                raise LiveMigrationFailed(
                    str(instance.uuid),
                    self.host,
                    dest,
                    MigrationStatus.ERROR.value,
                    self.host,
                    "; ".join([f"pre_live_migration on {dest!r} failed: {error}", *problems]),
                ) from error

            migrate_data.migration = migration
            self._set_status(migration, MigrationStatus.RUNNING)
            outcome = _Outcome()
            try:
                self.driver.live_migration(
                    context,
                    instance,
                    dest,
                    self._post_method(migration, outcome),
                    self._recover_method(migration, outcome),
                    block_migration=block_migration,
                    migrate_data=migrate_data,
                )
            except Exception as error:
                if outcome.called:
                    raise  # a callback failed; it settled what it could
                # The driver broke its contract (it must report through recover_method):
                # the guest has not left, so roll back as for a failed migration.
                problems = self._rollback(
                    context, instance, dest, migrate_data, migration, MigrationStatus.FAILED
                )
                raise LiveMigrationFailed(
                    str(instance.uuid),
                    self.host,
                    dest,
                    MigrationStatus.FAILED.value,
                    self.host,
                    "; ".join([f"the driver's live_migration raised: {error}", *problems]),
                ) from error
            if not outcome.called:
                problems = self._rollback(
                    context, instance, dest, migrate_data, migration, MigrationStatus.FAILED
                )
                outcome.error = "; ".join(["the driver reported no outcome", *problems])
                outcome.runs_on = self.host
            if outcome.error is not None:
                raise LiveMigrationFailed(
                    str(instance.uuid),
                    self.host,
                    dest,
                    migration.status.value,
                    outcome.runs_on,
                    outcome.error,
                )

    def _post_method(
        self, migration: Migration, outcome: _Outcome
    ) -> Callable[[Any, Instance, str, bool, LiveMigrateData], None]:
        def post(
            context: Any,
            instance: Instance,
            dest: str,
            block_migration: bool,
            migrate_data: LiveMigrateData,
        ) -> None:
            outcome.called = True
            _copy_progress(migration, migrate_data.migration)
            problems = self._post_live_migration(
                context, instance, dest, block_migration, migrate_data, migration
            )
            outcome.runs_on = dest
            if problems:
                outcome.error = "; ".join(problems)

        return post

    def _recover_method(
        self, migration: Migration, outcome: _Outcome
    ) -> Callable[[Any, Instance, str, LiveMigrateData, BaseException], None]:
        def recover(
            context: Any,
            instance: Instance,
            dest: str,
            migrate_data: LiveMigrateData,
            error: BaseException,
        ) -> None:
            outcome.called = True
            _copy_progress(migration, migrate_data.migration)
            problems = self._rollback(
                context, instance, dest, migrate_data, migration, MigrationStatus.FAILED
            )
            outcome.runs_on = self.host
            outcome.error = "; ".join([f"the guest could not be moved: {error}", *problems])

        return recover

    def _post_live_migration(
        self,
        context: Any,
        instance: Instance,
        dest: str,
        block_migration: bool,
        migrate_data: LiveMigrateData,
        migration: Migration,
    ) -> list[str]:
        """The source's post steps, then the destination's; every step runs even when
        an earlier one failed (the guest already runs on ``dest``). Returns what failed."""
        self._set_status(migration, MigrationStatus.POST_MIGRATING)
        problems: list[str] = []

        def step(name: str, run: Callable[[], None]) -> bool:
            try:
                run()
            except Exception as exc:
                LOG.exception("live migration of %s: %s failed", instance.uuid, name)
                problems.append(f"{name} on {self.host!r} failed: {exc}")
                return False
            return True

        network_info = NetworkInfo()
        bdms = BlockDeviceMappingList()
        try:
            network_info = self._network_info(instance)
            bdms = self._bdms(context, instance)
        except Exception as exc:
            problems.append(f"loading the instance's network and disks failed: {exc}")
        bdi = block_device_info(instance, bdms)
        step(
            "post_live_migration",
            lambda: self.driver.post_live_migration(context, instance, bdi, migrate_data),
        )
        step("volume disconnect", lambda: self._disconnect_source_volumes(instance, bdms))
        step("unfilter_instance", lambda: self.driver.unfilter_instance(instance, network_info))
        unplugged = step(
            "post_live_migration_at_source",
            lambda: self.driver.post_live_migration_at_source(context, instance, network_info),
        )
        step(
            "cleanup",
            lambda: self.driver.cleanup(
                context,
                instance,
                network_info,
                bdi,
                destroy_disks=not migrate_data.is_shared_instance_path,
                migrate_data=migrate_data,
                destroy_vifs=not unplugged,
            ),
        )
        try:
            self.compute_rpc.post_live_migration_at_destination(
                context, dest, instance, block_migration, migrate_data
            )
        except Exception as exc:
            problems.append(f"post_live_migration_at_destination on {dest!r} failed: {exc}")
            self._settle_on_destination(instance, dest)
        self._update_resources(context)
        migration.status = MigrationStatus.ERROR if problems else MigrationStatus.COMPLETED
        migration.save()
        return problems

    def _disconnect_source_volumes(self, instance: Instance, bdms: BlockDeviceMappingList) -> None:
        volumes = bdms.volumes()
        if not volumes:
            return
        connector = self.volumes.connector(instance)
        for bdm in volumes:
            self.volumes.terminate(instance, bdm, connector)

    def _settle_on_destination(self, instance: Instance, dest: str) -> None:
        """The destination could not finish: if its handler did not record the
        instance there, and the guest is no longer here, record it on ``dest`` (where
        the hypervisor moved it)."""
        try:
            instance.refresh()
            if instance.host == dest or instance.task_state is not TaskState.MIGRATING:
                return
            if self._power_state(instance) is not PowerState.NOSTATE:
                return  # still runs here: the source keeps it
            instance.host = dest
            instance.node = dest
            instance.task_state = None
            instance.save(expected_task_state=TaskState.MIGRATING)
        except Exception:
            LOG.exception("could not record instance %s on %s", instance.uuid, dest)

    def _rollback(
        self,
        context: Any,
        instance: Instance,
        dest: str,
        migrate_data: LiveMigrateData,
        migration: Migration,
        status: MigrationStatus,
    ) -> list[str]:
        """The guest stays here: undo the destination's preparation, record the
        instance as its guest is, and end the migration with ``status``. Returns
        what could not be done."""
        problems = []
        try:
            self.compute_rpc.rollback_live_migration_at_destination(
                context,
                dest,
                instance,
                not migrate_data.is_shared_instance_path,
                migrate_data,
            )
        except Exception as exc:
            LOG.exception("live migration of %s: rollback on %s failed", instance.uuid, dest)
            problems.append(f"rollback_live_migration_at_destination on {dest!r} failed: {exc}")
        power = self._power_state(instance)
        instance.power_state = power
        instance.vm_state = VM_STATE_FOR_POWER[power]
        instance.task_state = None
        instance.save(expected_task_state=TaskState.MIGRATING)
        migration.status = status
        migration.save()
        self._update_resources(context)
        return problems

    # --- the end (destination) ------------------------------------------------------------

    def post_live_migration_at_destination(
        self,
        context: Any,
        instance: Instance,
        block_migration: bool,
        migrate_data: LiveMigrateData,
    ) -> None:
        """On the destination, after the guest arrived: plug its VIFs as bound to
        this host (the driver's ``post_live_migration_at_destination``), then record
        what is now true — ``instance.host`` is this host, its volumes are attached
        here, its vm_state follows the guest's power state — even when the driver
        step failed (the guest runs here all the same)."""
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context,
                instance,
                "compute_post_live_migration_at_destination",
                _ACTION,
                start_action=False,
            ),
        ):
            network_info = self.network.bind_to_host(self._network_info(instance), self.host)
            bdms, bdi = self._destination_disks(context, instance, migrate_data)
            plugged = False
            try:
                self.driver.post_live_migration_at_destination(
                    context, instance, network_info, block_migration, bdi
                )
                plugged = True
            finally:
                self._take_over(context, instance, network_info if plugged else None, bdms)

    def _take_over(
        self,
        context: Any,
        instance: Instance,
        network_info: NetworkInfo | None,
        bdms: BlockDeviceMappingList,
    ) -> None:
        power = self._power_state(instance)
        if power is PowerState.NOSTATE:
            LOG.error("instance %s did not arrive on %s", instance.uuid, self.host)
            instance.vm_state = VmState.ERROR
            instance.task_state = None
            instance.save(expected_task_state=TaskState.MIGRATING)
            return
        for bdm in bdms.volumes():
            try:
                self.volumes.take_over(instance, bdm)
                bdm.save()
            except Exception:
                LOG.exception("could not record volume %s on %s", bdm.volume_id, self.host)
        if network_info is not None:
            cache = instance.info_cache
            cache.network_info = network_info
            cache.save()
        instance.host = self.host
        instance.node = self.host
        instance.power_state = power
        instance.vm_state = VM_STATE_FOR_POWER[power]
        instance.task_state = None
        instance.save(expected_task_state=TaskState.MIGRATING)
        self._update_resources(context)

    def rollback_live_migration_at_destination(
        self,
        context: Any,
        instance: Instance,
        destroy_disks: bool,
        migrate_data: LiveMigrateData,
    ) -> None:
        """On the destination, after a failure: undo ``pre_live_migration`` (claim,
        VIFs, volume connections, filter; disks made here with ``destroy_disks``)."""
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context,
                instance,
                "compute_rollback_live_migration_at_destination",
                _ACTION,
                start_action=False,
            ),
        ):
            network_info = self._network_info(instance)
            bdi: BlockDeviceInfo | None
            try:
                _, bdi = self._destination_disks(context, instance, migrate_data)
            except Exception:
                LOG.exception("rollback of %s: its disks cannot be described", instance.uuid)
                bdi = None
            try:
                self.driver.rollback_live_migration_at_destination(
                    context, instance, network_info, bdi, destroy_disks, migrate_data
                )
            finally:
                self._update_resources(context)

    # --- helpers --------------------------------------------------------------------------

    def _destination_disks(
        self, context: Any, instance: Instance, migrate_data: LiveMigrateData | None
    ) -> tuple[BlockDeviceMappingList, BlockDeviceInfo]:
        """The instance's mappings with this host's connection info for each volume
        (as ``pre_live_migration`` connected it when ``migrate_data`` says, else fresh
        from the volume store). The mappings are changed in memory, not saved."""
        bdms = self._bdms(context, instance)
        connected = {}
        if migrate_data is not None:
            connected = {b.serial: b.connection_info for b in migrate_data.bdms}
        for bdm in bdms.volumes():
            info = connected.get(str(bdm.volume_id))
            if info is not None:
                bdm.connection_info = info.obj_clone()
            else:
                bdm.connection_info = self.volumes.connection_info_for(instance, bdm)
        return bdms, block_device_info(instance, bdms)

    def _set_status(self, migration: Migration, status: MigrationStatus) -> None:
        migration.status = status
        migration.save()


def _copy_progress(migration: Migration, reported: Migration | None) -> None:
    """Take the progress the driver filled in on the migration it was given."""
    if reported is None or reported is migration:
        return
    for name in _PROGRESS_FIELDS:
        value = getattr(reported, name)
        if value is not None:
            setattr(migration, name, value)
