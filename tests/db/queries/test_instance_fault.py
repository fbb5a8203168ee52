"""Tests of cumulo/db/queries/instance_fault.py: faults, latest first, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cumulo.model import InstanceFault, InstanceNotFound

from ..conftest import NOW, make_instance, new_uuid


@pytest.fixture
def instance(storage, ctx):
    return storage.instance_create(ctx, make_instance())


def test_faults_latest_first(storage, ctx, instance):
    assert storage.instance_fault_get_latest(ctx, instance.uuid) is None
    old = storage.instance_fault_create(
        ctx, InstanceFault(instance_uuid=instance.uuid, message="old", created_at=NOW)
    )
    new = storage.instance_fault_create(
        ctx,
        InstanceFault(
            instance_uuid=instance.uuid,
            code=409,
            message="new",
            details="Traceback...\n" * 5000,
            created_at=NOW + timedelta(seconds=1),
        ),
    )
    assert old.id > 0 and new.details.startswith("Traceback")
    assert storage.instance_fault_get_latest(ctx, instance.uuid) == new
    with pytest.raises(InstanceNotFound):
        storage.instance_fault_create(ctx, InstanceFault(instance_uuid=new_uuid(), message="x"))
