"""What the live-migration tests share (the conductor's task in
tests/conductor/tasks/test_live_migrate.py, the compute flows in
tests/compute/test_migration.py): the DESIGN.md order, a spy on the statuses written,
the instance they migrate, and checks of what each host keeps."""

from __future__ import annotations

import pytest

from cumulo.db import SqlStorage
from cumulo.model import InstanceNotFound, PowerState, VmState, VolumeStatus
from tests.virt.builders import tcp_rule

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


def record_statuses(monkeypatch):
    """Every migration status written to the database from now on, in order (the
    ``statuses`` fixture of the live-migration tests)."""
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


def web_instance(deployment, flavor):
    """An instance on host-a with a security group and a volume attached, and the
    volume; the driver call log cleared after (the ``web`` fixture)."""
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
