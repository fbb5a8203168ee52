"""cumulo/compute/migration.py: what the two hosts of a live migration do when a
step fails, before the guest moved (rolled back to the source) or after (recorded
where it runs), and the flows' special cases (a paused guest, block migration of
local disks, a driver that raises instead of calling recover). The conductor's
task is tested in tests/conductor/tasks/test_live_migrate.py."""

from __future__ import annotations

import pytest

from cumulo.compute.exceptions import LiveMigrationFailed
from cumulo.conductor.tasks.exceptions import MigrationPreCheckFailed
from cumulo.model import MigrationList, PowerState, VmState
from cumulo.virt.fake import INCOMING_LIVE_MIGRATION
from tests.support.live_migration import (
    assert_holds_nothing_of,
    assert_keeps_everything_of,
    assert_runs_only_on,
    migration_steps,
    record_statuses,
    web_instance,
)


@pytest.fixture
def statuses(monkeypatch):
    """Every migration status written to the database, in order."""
    return record_statuses(monkeypatch)


@pytest.fixture
def web(deployment, flavor):
    """An instance on host-a with a security group and a volume attached."""
    return web_instance(deployment, flavor)


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
