"""Tests of cumulo/db/queries/migration.py: migration records, on every backend."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest

from cumulo.model import AlreadyExists, InstanceNotFound, Migration, MigrationNotFound
from cumulo.model.states import MigrationStatus, MigrationType

from ..conftest import NOW, make_instance, new_uuid


def test_create_save_and_list(storage, ctx):
    inst = storage.instance_create(ctx, make_instance())
    first = storage.migration_create(
        ctx,
        Migration(
            uuid=new_uuid(),
            instance_uuid=inst.uuid,
            source_compute="host-a",
            dest_compute="host-b",
            dest_host=ipaddress.ip_address("2001:db8::5"),
            memory_total=64 * 2**30,
            created_at=NOW,
        ),
    )
    assert first.id > 0 and first.migration_type is MigrationType.LIVE_MIGRATION
    assert first.dest_host == ipaddress.IPv6Address("2001:db8::5")
    assert first.memory_total == 64 * 2**30  # bytes beyond 32 bits
    saved = storage.migration_save(
        ctx, first.id, {"status": MigrationStatus.RUNNING, "memory_processed": 2**33}
    )
    assert saved.status is MigrationStatus.RUNNING and saved.memory_processed == 2**33
    assert storage.migration_get_by_id(ctx, first.id) == saved
    second = storage.migration_create(
        ctx,
        Migration(
            uuid=new_uuid(),
            instance_uuid=inst.uuid,
            migration_type=MigrationType.RESIZE,
            created_at=NOW + timedelta(minutes=1),
        ),
    )
    assert [m.id for m in storage.migration_get_by_instance(ctx, inst.uuid)] == [
        first.id,
        second.id,
    ]


def test_errors(storage, ctx):
    with pytest.raises(MigrationNotFound, match="migration not found: id=5"):
        storage.migration_get_by_id(ctx, 5)
    with pytest.raises(MigrationNotFound):
        storage.migration_save(ctx, 5, {"status": MigrationStatus.FAILED})
    missing = new_uuid()
    with pytest.raises(InstanceNotFound):
        storage.migration_create(ctx, Migration(uuid=new_uuid(), instance_uuid=missing))
    inst = storage.instance_create(ctx, make_instance())
    used = storage.migration_create(ctx, Migration(uuid=new_uuid(), instance_uuid=inst.uuid))
    with pytest.raises(AlreadyExists, match="migration already exists"):
        storage.migration_create(ctx, Migration(uuid=used.uuid, instance_uuid=inst.uuid))
    with pytest.raises(ValueError, match="Migration has no stored field 'bogus'"):
        storage.migration_save(ctx, used.id, {"bogus": 1})
