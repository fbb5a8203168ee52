"""cumulo/conductor/tasks/live_migrate.py with cumulo/compute/migration.py: the
DESIGN.md sequence across two hosts, and what each failure leaves — checked in the
rows (instance, migration, volumes, nodes) and in both hypervisors."""

from __future__ import annotations

import pytest

from cumulo.compute.exceptions import LiveMigrationFailed
from cumulo.conductor.tasks.exceptions import InvalidLiveMigration, MigrationPreCheckFailed
from cumulo.db import SqlStorage
from cumulo.model import (
    BlockDeviceMappingList,
    InstanceNotFound,
    MigrationList,
    MigrationStatus,
    PowerState,
    Protocol,
    VmState,
    VolumeStatus,
)
from cumulo.virt.exceptions import MigrationPreCheckError
from cumulo.virt.fake import INCOMING_LIVE_MIGRATION

from ..virt.builders import tcp_rule

DESIGN_ORDER = [
    ("host-b", "check_can_live_migrate_destination"),
    ("host-a", "check_can_live_migrate_source"),
    ("host-b", "cleanup_live_migration_destination_check"),
    ("host-b", "get_volume_connector"),  # the destination's connection info for the volume
    ("host-b", "pre_live_migration"),
    ("host-b", "ensure_filtering_rules_for_instance"),
    ("host-a", "live_migration"),
    ("host-a", "post_live_migration"),
    ("host-a", "get_volume_connector"),
    ("host-a", "unfilter_instance"),
    ("host-a", "post_live_migration_at_source"),
    ("host-a", "cleanup"),
    ("host-b", "post_live_migration_at_destination"),
]
STEPS = {name for _, name in DESIGN_ORDER} | {"rollback_live_migration_at_destination"}


@pytest.fixture
def statuses(monkeypatch):
    """Every migration status written to the database, in order."""
    written: list[str] = []
    create, save = SqlStorage.migration_create, SqlStorage.migration_save

    def spy_create(self, context, migration):
        written.append(str(migration.status))
        return create(self, context, migration)

    def spy_save(self, context, migration_id, changes):
        if "status" in changes:
            written.append(str(changes["status"]))
        return save(self, context, migration_id, changes)

    monkeypatch.setattr(SqlStorage, "migration_create", spy_create)
    monkeypatch.setattr(SqlStorage, "migration_save", spy_save)
    return written


@pytest.fixture
def web(deployment, flavor):
    """An instance on host-a with a security group and a volume attached."""
    group = deployment.security_group("web", tcp_rule(443))
    inst = deployment.boot(flavor, name="web", host="host-a", groups=[group])
    volume = deployment.store.create(1)
    deployment.compute.attach_volume(deployment.ctx(), inst, volume.id)
    deployment.log.clear()
    return deployment.instance(inst.uuid), volume


def migration_steps(deployment):
    return [(host, name) for host, name in deployment.log if name in STEPS]


def assert_runs_only_on(deployment, inst, host, other):
    row = deployment.instance(inst.uuid)
    assert (row.host, row.node, row.vm_state, row.task_state) == (host, host, VmState.ACTIVE, None)
    assert row.power_state is PowerState.RUNNING
    assert deployment.drivers[host].get_info(inst).state is PowerState.RUNNING
    with pytest.raises(InstanceNotFound):
        deployment.drivers[other].get_info(inst)
    return row


def assert_holds_nothing_of(deployment, host, inst):
    view = deployment.drivers[host].describe_host()
    assert all(g.uuid != inst.uuid for g in view.guests)
    assert all(owner != inst.uuid for _, owner in view.plugged_vifs)
    assert all(v.instance_uuid != inst.uuid for v in view.volume_connections)
    assert inst.uuid not in view.filtered_instances
    assert view.memory_mb_used == deployment.node(host).memory_mb_used == 0
    assert view.probes == ()


def assert_keeps_everything_of(deployment, host, inst, volume):
    guest = deployment.drivers[host].describe_guest(inst.uuid)
    assert guest.filtered and [v.volume_id for v in guest.volumes] == [volume.id]
    assert [v.id for v in guest.vifs] == [v.id for v in inst.info_cache.network_info.objects]
    assert deployment.node(host).memory_mb_used == guest.memory_mb == 2048
    stored = deployment.store.get(volume.id)
    assert (stored.status, stored.attached_host) == (VolumeStatus.IN_USE, host)


def test_live_migration_runs_in_the_design_order_and_moves_everything(deployment, web, statuses):
    inst, volume = web
    migration = deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-b")

    assert migration_steps(deployment) == DESIGN_ORDER
    assert statuses == ["queued", "preparing", "running", "post-migrating", "completed"]
    assert migration.status is MigrationStatus.COMPLETED
    assert (migration.source_compute, migration.dest_compute) == ("host-a", "host-b")
    assert migration.dest_host == deployment.drivers["host-b"].get_host_ip_addr()
    assert migration.memory_total == migration.memory_processed == 2048 * 1024**2
    assert migration.memory_remaining == 0

    row = assert_runs_only_on(deployment, inst, "host-b", "host-a")
    (vif,) = row.info_cache.network_info.objects
    assert vif.details["bound_host"] == "host-b" and vif.network.bridge == "br-host-b"
    assert deployment.drivers["host-b"].describe_guest(inst.uuid).network_info == (
        row.info_cache.network_info
    )
    assert_holds_nothing_of(deployment, "host-a", inst)
    assert_keeps_everything_of(deployment, "host-b", row, volume)
    assert deployment.drivers["host-b"].firewall_allows(
        inst.uuid, protocol=Protocol.TCP, port=443, remote_ip="203.0.113.5"
    )
    (bdm,) = BlockDeviceMappingList.get_by_instance_uuid(deployment.ctx(), inst.uuid).volumes()
    assert bdm.attachment_id == deployment.store.get(volume.id).attachment_id

    action, failure, events = deployment.actions(inst.uuid)[-1]
    assert (action, failure) == ("live-migration", None)
    assert [(e, r) for e, r, _ in events] == [
        ("conductor_live_migrate_instance", "Success"),
        ("compute_check_can_live_migrate_destination", "Success"),
        ("compute_check_can_live_migrate_source", "Success"),
        ("compute_live_migration", "Success"),
        ("compute_pre_live_migration", "Success"),
        ("compute_post_live_migration_at_destination", "Success"),
    ]
    assert deployment.fault(inst.uuid) is None


ROLLBACKS = {
    # failing step: (host, driver operation, final status, statuses written)
    "pre": (
        "host-b",
        "pre_live_migration",
        "error",
        ["queued", "preparing", "error"],
    ),
    "pre-filter": (
        "host-b",
        "ensure_filtering_rules_for_instance",
        "error",
        ["queued", "preparing", "error"],
    ),
    "during-source": (
        "host-a",
        "live_migration",
        "failed",
        ["queued", "preparing", "running", "failed"],
    ),
    "during-destination": (
        "host-b",
        INCOMING_LIVE_MIGRATION,
        "failed",
        ["queued", "preparing", "running", "failed"],
    ),
}


@pytest.mark.parametrize("case", sorted(ROLLBACKS))
def test_a_failure_before_the_guest_moves_rolls_back_to_the_source(deployment, web, statuses, case):
    host, operation, status, written = ROLLBACKS[case]
    inst, volume = web
    deployment.drivers[host].inject_failure(operation)

    with pytest.raises(LiveMigrationFailed) as info:
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-b")
    assert (info.value.status, info.value.runs_on) == (status, "host-a")
    assert f"injected failure of {operation}" in info.value.reason

    assert statuses == written
    (migration,) = MigrationList.get_by_instance(deployment.ctx(), inst.uuid).objects
    assert migration.status == status
    row = assert_runs_only_on(deployment, inst, "host-a", "host-b")
    assert_keeps_everything_of(deployment, "host-a", row, volume)
    assert_holds_nothing_of(deployment, "host-b", inst)  # resources released on B
    assert ("host-b", "rollback_live_migration_at_destination") in migration_steps(deployment)
    assert deployment.fault(inst.uuid) is not None
    action, failure, _ = deployment.actions(inst.uuid)[-1]
    assert action == "live-migration" and "LiveMigrationFailed" in failure


POST_FAILURES = {
    "destination": ("host-b", "post_live_migration_at_destination"),
    "source": ("host-a", "post_live_migration"),
}


@pytest.mark.parametrize("case", sorted(POST_FAILURES))
def test_a_failure_after_the_guest_moved_leaves_it_recorded_where_it_runs(
    deployment, web, statuses, case
):
    host, operation = POST_FAILURES[case]
    inst, volume = web
    deployment.drivers[host].inject_failure(operation)

    with pytest.raises(LiveMigrationFailed) as info:
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-b")
    assert (info.value.status, info.value.runs_on) == ("error", "host-b")
    assert operation in info.value.reason

    assert statuses == ["queued", "preparing", "running", "post-migrating", "error"]
    row = assert_runs_only_on(deployment, inst, "host-b", "host-a")
    assert_holds_nothing_of(deployment, "host-a", inst)  # the source still cleaned up
    guest = deployment.drivers["host-b"].describe_guest(inst.uuid)
    assert [v.volume_id for v in guest.volumes] == [volume.id]
    assert deployment.node("host-b").memory_mb_used == 2048
    assert deployment.store.get(volume.id).attached_host == "host-b"
    assert row.task_state is None and deployment.fault(inst.uuid) is not None


def test_a_refused_check_changes_nothing(deployment, statuses):
    large = deployment.flavor("m1.large", memory_mb=12288, vcpus=2)
    inst = deployment.boot(large, host="host-a")
    with pytest.raises(MigrationPreCheckFailed, match=r"MigrationPreCheckError: .*not enough room"):
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-c")
    assert statuses == ["queued", "error"]
    assert_runs_only_on(deployment, inst, "host-a", "host-c")
    assert deployment.drivers["host-c"].describe_host().probes == ()
    assert deployment.drivers["host-a"].manager_calls["pre_live_migration"] == 0
    assert deployment.fault(inst.uuid) is None  # a refusal is not a fault of the instance
    action, failure, events = deployment.actions(inst.uuid)[-1]
    assert action == "live-migration" and "MigrationPreCheckFailed" in failure
    assert ("compute_check_can_live_migrate_destination", "Error", "host-c") in events


def test_a_refused_source_check_removes_the_destination_probe(deployment, web, statuses):
    inst, _ = web
    deployment.drivers["host-a"].inject_failure(
        "check_can_live_migrate_source", MigrationPreCheckError(str(inst.uuid), "host-a", "no")
    )
    with pytest.raises(MigrationPreCheckFailed):
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-b")
    assert statuses == ["queued", "error"]
    assert deployment.drivers["host-b"].describe_host().probes == ()
    assert_runs_only_on(deployment, inst, "host-a", "host-b")


def test_requests_that_cannot_start(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    tasks, ctx = deployment.tasks, deployment.ctx
    with pytest.raises(InvalidLiveMigration, match="already runs on 'host-a'"):
        tasks.live_migrate_instance(ctx(), inst.uuid, "host-a")
    with pytest.raises(InvalidLiveMigration, match="'host-z' is not a compute host"):
        tasks.live_migrate_instance(ctx(), inst.uuid, "host-z")
    deployment.cast_and_wait("stop_instance", inst)
    with pytest.raises(InvalidLiveMigration, match="vm_state is stopped"):
        tasks.live_migrate_instance(ctx(), inst.uuid, "host-b")
    assert MigrationList.get_by_instance(ctx(), inst.uuid).objects == []
    assert deployment.fault(inst.uuid) is None


def test_placement_chooses_the_destination(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    migration = deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid)
    assert migration.dest_compute == "host-b"  # the most free memory besides the source
    assert_runs_only_on(deployment, inst, "host-b", "host-a")


def test_a_paused_instance_arrives_paused(deployment, flavor):
    inst = deployment.boot(flavor, host="host-b")
    deployment.cast_and_wait("pause_instance", inst)
    deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-a")
    row = deployment.instance(inst.uuid)
    assert (row.host, row.vm_state, row.power_state) == (
        "host-a",
        VmState.PAUSED,
        PowerState.PAUSED,
    )
    assert deployment.drivers["host-a"].get_info(inst).state is PowerState.PAUSED


def test_local_disks_need_a_block_migration_between_unshared_hosts(deployment):
    disky = deployment.flavor("m1.disk", memory_mb=1024, vcpus=1, root_gb=10)
    inst = deployment.boot(disky, host="host-a")
    with pytest.raises(MigrationPreCheckFailed, match="use block migration"):
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-c")

    migration = deployment.tasks.live_migrate_instance(
        deployment.ctx(), inst.uuid, "host-c", block_migration=True
    )
    assert migration.disk_total == 10 * 1024**3
    assert_runs_only_on(deployment, inst, "host-c", "host-a")
    assert deployment.drivers["host-c"].describe_guest(inst.uuid).has_instance_dir
    assert inst.uuid not in deployment.drivers["host-a"].describe_host().instance_dirs


def test_a_driver_that_raises_instead_of_recovering_is_rolled_back(
    deployment, web, statuses, monkeypatch
):
    inst, volume = web

    def broken(*args, **kwargs):
        raise RuntimeError("hypervisor connection lost")

    monkeypatch.setattr(deployment.drivers["host-a"], "live_migration", broken)
    with pytest.raises(LiveMigrationFailed, match="hypervisor connection lost") as info:
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-b")
    assert (info.value.status, info.value.runs_on) == ("failed", "host-a")
    assert statuses == ["queued", "preparing", "running", "failed"]
    row = assert_runs_only_on(deployment, inst, "host-a", "host-b")
    assert_keeps_everything_of(deployment, "host-a", row, volume)
    assert_holds_nothing_of(deployment, "host-b", inst)
