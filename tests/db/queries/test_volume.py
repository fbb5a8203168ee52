"""Tests of cumulo/db/queries/volume.py: volume records, on every backend."""

from __future__ import annotations

import pytest

from cumulo.db.models import VolumeRow
from cumulo.model import AlreadyExists, Volume, VolumeNotFound
from cumulo.model.states import VolumeStatus

from ..conftest import new_uuid


def volume(**values) -> Volume:
    fields = {"id": new_uuid(), "name": "data", "size_gb": 10, "host": "host-a", "project_id": "p1"}
    fields.update(values)
    return Volume(**fields)


def test_create_read_save(storage, ctx):
    created = storage.volume_create(ctx, volume(path="/var/lib/cumulo/v.img"))
    assert created.created_at is not None and created.status is VolumeStatus.CREATING
    assert storage.volume_get(ctx, created.id) == created
    instance_uuid = new_uuid()
    saved = storage.volume_save(
        ctx,
        created.id,
        {"status": VolumeStatus.IN_USE, "attached_to": instance_uuid, "mountpoint": "/dev/vdb"},
    )
    assert saved.is_attached and saved.attached_to == instance_uuid
    assert saved.updated_at is not None


def test_lists_and_soft_delete(storage, ctx, database):
    a = storage.volume_create(ctx, volume())
    b = storage.volume_create(ctx, volume(host="host-b"))
    c = storage.volume_create(ctx, volume(project_id="p2"))
    assert storage.volume_get_all(ctx, None, None) == [a, b, c]
    assert storage.volume_get_all(ctx, "host-a", None) == [a, c]
    assert storage.volume_get_all(ctx, "host-a", "p2") == [c]
    storage.volume_destroy(ctx, a.id)
    assert storage.volume_get_all(ctx, None, None) == [b, c]
    assert database.count(VolumeRow) == 3
    with pytest.raises(VolumeNotFound, match=f"volume not found: id={a.id}"):
        storage.volume_get(ctx, a.id)
    with pytest.raises(VolumeNotFound):
        storage.volume_destroy(ctx, a.id)
    with pytest.raises(VolumeNotFound):
        storage.volume_save(ctx, a.id, {"size_gb": 20})
    # a deleted volume's id stays used
    with pytest.raises(AlreadyExists, match=f"volume already exists: id={a.id}"):
        storage.volume_create(ctx, volume(id=a.id))
