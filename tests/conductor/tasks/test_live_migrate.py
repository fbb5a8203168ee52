"""cumulo/conductor/tasks/live_migrate.py: the task drives the DESIGN.md sequence
across two hosts (checked in the order of the driver calls, the statuses written,
the rows and both hypervisors), refuses what cannot start, and leaves everything
as it was when a host's check refuses. What the hosts do on failure is in
tests/compute/test_migration.py."""

from __future__ import annotations

import pytest

from cumulo.conductor.tasks.exceptions import (
    InvalidLiveMigration,
    MigrationPreCheckFailed,
    NoValidHost,
)
from cumulo.model import BlockDeviceMappingList, MigrationList, MigrationStatus, Protocol
from cumulo.model.allocation import allocations_of
from cumulo.virt.exceptions import MigrationPreCheckError
from tests.support.live_migration import (
    DESIGN_ORDER,
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


def test_a_destination_without_room_changes_nothing(deployment, statuses):
    large = deployment.flavor("m1.large", memory_mb=12288, vcpus=2)
    inst = deployment.boot(large, host="host-a")
    # The conductor's claim on the destination refuses before any host is asked.
    with pytest.raises(NoValidHost, match=r"destination 'host-c' cannot fit 12288 MiB"):
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-c")
    assert statuses == []
    assert_runs_only_on(deployment, inst, "host-a", "host-c")
    assert deployment.drivers["host-c"].describe_host().probes == ()
    assert deployment.drivers["host-a"].manager_calls["pre_live_migration"] == 0
    assert deployment.fault(inst.uuid) is None  # a refusal is not a fault of the instance
    action, failure, _ = deployment.actions(inst.uuid)[-1]
    assert action == "live-migration" and "NoValidHost" in failure
    assert [a.host for a in allocations_of(deployment.ctx(), inst.uuid)] == ["host-a"]


def test_a_refused_check_changes_nothing(deployment, statuses):
    inst = deployment.boot(deployment.flavor(), host="host-a")
    deployment.drivers["host-c"].inject_failure(
        "check_can_live_migrate_destination",
        MigrationPreCheckError(str(inst.uuid), "host-c", "not enough room"),
    )
    with pytest.raises(MigrationPreCheckFailed, match=r"MigrationPreCheckError: .*not enough room"):
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-c")
    assert statuses == ["queued", "error"]
    assert_runs_only_on(deployment, inst, "host-a", "host-c")
    assert deployment.drivers["host-a"].manager_calls["pre_live_migration"] == 0
    assert deployment.fault(inst.uuid) is None  # a refusal is not a fault of the instance
    action, failure, events = deployment.actions(inst.uuid)[-1]
    assert action == "live-migration" and "MigrationPreCheckFailed" in failure
    assert ("compute_check_can_live_migrate_destination", "Error", "host-c") in events
    # The destination's claim went back with the refusal.
    assert [a.host for a in allocations_of(deployment.ctx(), inst.uuid)] == ["host-a"]


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
