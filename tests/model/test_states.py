"""Tests of cumulo/model/states.py: the wire values of the lifecycle enums."""

from cumulo.model import MigrationStatus, MigrationType, TaskState, VmState, VolumeStatus


def test_wire_values_are_novas_where_nova_has_them():
    assert VmState.ACTIVE == "active"
    assert VmState.SOFT_DELETED == "soft-delete"
    assert TaskState.POWERING_OFF == "powering-off"
    assert TaskState.REBOOTING_HARD == "rebooting_hard"
    assert MigrationStatus.POST_MIGRATING == "post-migrating"
    assert MigrationType.LIVE_MIGRATION == "live-migration"
    assert VolumeStatus.IN_USE == "in-use"


def test_values_are_unique():
    for enum_cls in (VmState, TaskState, MigrationStatus, MigrationType, VolumeStatus):
        values = [m.value for m in enum_cls]
        assert len(values) == len(set(values)), enum_cls
