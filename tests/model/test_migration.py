"""Tests of cumulo/model/migration.py."""

import ipaddress
import uuid

import pytest

from cumulo.model import (
    Migration,
    MigrationList,
    MigrationNotFound,
    MigrationStatus,
    MigrationType,
    ObjectActionError,
)

INSTANCE = uuid.UUID(int=5)


def migration(**values) -> Migration:
    fields = {"id": 3, "uuid": uuid.UUID(int=3), "instance_uuid": INSTANCE}
    fields.update(values)
    m = Migration(**fields)
    m.obj_reset_changes()
    return m


def test_defaults_and_final_states():
    m = migration(source_compute="a", dest_compute="b", dest_host="192.0.2.7")
    assert m.migration_type is MigrationType.LIVE_MIGRATION
    assert m.status is MigrationStatus.ACCEPTED
    assert m.dest_host == ipaddress.IPv4Address("192.0.2.7")
    assert not m.is_final
    for status in ("completed", "failed", "error", "cancelled"):
        m.status = status
        assert m.is_final
    m.status = "post-migrating"
    assert not m.is_final


def test_save_records_each_status_change(storage, ctx):
    m = migration().obj_set_context(ctx)
    storage.returns["migration_save"] = lambda _c, _id, changes: migration(**changes)
    for status in (MigrationStatus.PREPARING, MigrationStatus.RUNNING, MigrationStatus.COMPLETED):
        m.status = status
        m.save()
    assert [c[1][2] for c in storage.calls] == [
        {"status": MigrationStatus.PREPARING},
        {"status": MigrationStatus.RUNNING},
        {"status": MigrationStatus.COMPLETED},
    ]
    assert m.obj_what_changed() == set()


def test_create_and_get(storage, ctx):
    new = Migration(uuid=uuid.uuid4(), instance_uuid=INSTANCE).obj_set_context(ctx)
    with pytest.raises(ObjectActionError, match="never created"):
        new.save()
    storage.returns["migration_create"] = migration()
    new.create()
    assert new.id == 3
    storage.returns["migration_get_by_id"] = migration()
    assert Migration.get_by_id(ctx, 3).obj_context is ctx
    storage.returns["migration_get_by_instance"] = [migration()]
    assert len(MigrationList.get_by_instance(ctx, str(INSTANCE)).objects) == 1
    assert storage.calls[-1] == ("migration_get_by_instance", (ctx, INSTANCE), {})
    storage.raises["migration_get_by_id"] = MigrationNotFound(id=9)
    with pytest.raises(MigrationNotFound, match="migration not found: id=9"):
        Migration.get_by_id(ctx, 9)
