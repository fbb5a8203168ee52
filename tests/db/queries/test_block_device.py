"""Tests of cumulo/db/queries/block_device.py: block device mappings, on every backend."""

from __future__ import annotations

import uuid

import pytest

from cumulo.db.models import BlockDeviceMappingRow
from cumulo.model import (
    AlreadyExists,
    BlockDeviceMapping,
    BlockDeviceMappingNotFound,
    DestinationType,
    DiskBus,
    InstanceNotFound,
    SourceType,
)
from cumulo.model.volume_connection import VolumeConnectionInfo, VolumeDriverType

from ..conftest import make_instance, new_uuid


def bdm(instance_uuid: uuid.UUID, **values) -> BlockDeviceMapping:
    fields = {
        "uuid": new_uuid(),
        "instance_uuid": instance_uuid,
        "source_type": SourceType.VOLUME,
        "destination_type": DestinationType.VOLUME,
        "device_name": "/dev/vdb",
        "disk_bus": DiskBus.VIRTIO,
        "volume_id": new_uuid(),
        "volume_size": 10,
    }
    fields.update(values)
    return BlockDeviceMapping(**fields)


def connection(volume_id: uuid.UUID) -> VolumeConnectionInfo:
    return VolumeConnectionInfo(
        driver_volume_type=VolumeDriverType.FILE,
        volume_id=volume_id,
        serial=str(volume_id),
        path="/var/lib/cumulo/volumes/v.img",
    )


@pytest.fixture
def instance(storage, ctx):
    return storage.instance_create(ctx, make_instance())


def test_create_and_read_back_with_connection_info(storage, ctx, instance):
    new = bdm(instance.uuid)
    new.connection_info = connection(new.volume_id)
    created = storage.bdm_create(ctx, new)
    assert created.id > 0 and created.created_at is not None
    assert created.connection_info == connection(new.volume_id)
    assert created.connection_info is not new.connection_info
    assert storage.bdm_get_by_volume_id(ctx, new.volume_id, None) == created
    assert storage.bdm_get_by_volume_id(ctx, new.volume_id, instance.uuid) == created


def test_list_puts_boot_devices_first(storage, ctx, instance):
    data = storage.bdm_create(ctx, bdm(instance.uuid, device_name="/dev/vdc"))
    root = storage.bdm_create(
        ctx,
        bdm(
            instance.uuid,
            device_name="/dev/vda",
            boot_index=0,
            source_type=SourceType.IMAGE,
            destination_type=DestinationType.LOCAL,
            volume_id=None,
            image_id=new_uuid(),
        ),
    )
    second = storage.bdm_create(ctx, bdm(instance.uuid, device_name="/dev/vdb", boot_index=1))
    hidden = storage.bdm_create(ctx, bdm(instance.uuid, device_name="/dev/vdd", boot_index=-1))
    listed = storage.bdm_get_by_instance_uuid(ctx, instance.uuid)
    assert [b.id for b in listed] == [root.id, second.id, data.id, hidden.id]


def test_save_and_destroy(storage, ctx, instance, database):
    created = storage.bdm_create(ctx, bdm(instance.uuid))
    saved = storage.bdm_save(
        ctx, created.id, {"connection_info": connection(created.volume_id), "id": created.id}
    )
    assert saved.connection_info is not None and saved.updated_at is not None
    storage.bdm_destroy(ctx, created.id)
    assert storage.bdm_get_by_instance_uuid(ctx, instance.uuid) == []
    assert database.count(BlockDeviceMappingRow, BlockDeviceMappingRow.deleted != 0) == 1
    with pytest.raises(BlockDeviceMappingNotFound, match=f"id={created.id}"):
        storage.bdm_destroy(ctx, created.id)
    with pytest.raises(BlockDeviceMappingNotFound):
        storage.bdm_save(ctx, created.id, {"tag": "x"})


def test_one_live_mapping_per_device_name(storage, ctx, instance):
    first = storage.bdm_create(ctx, bdm(instance.uuid))
    with pytest.raises(AlreadyExists, match="device_name=/dev/vdb"):
        storage.bdm_create(ctx, bdm(instance.uuid))
    other = storage.bdm_create(ctx, bdm(instance.uuid, device_name="/dev/vdc"))
    with pytest.raises(AlreadyExists, match="device_name=/dev/vdb"):
        storage.bdm_save(ctx, other.id, {"device_name": "/dev/vdb"})
    storage.bdm_destroy(ctx, first.id)
    # once the first is deleted, the name is free again
    assert storage.bdm_create(ctx, bdm(instance.uuid)).device_name == "/dev/vdb"
    # mappings without a device name never collide
    storage.bdm_create(ctx, bdm(instance.uuid, device_name=None))
    storage.bdm_create(ctx, bdm(instance.uuid, device_name=None))


def test_a_used_uuid_and_an_unknown_instance(storage, ctx, instance):
    created = storage.bdm_create(ctx, bdm(instance.uuid))
    with pytest.raises(AlreadyExists, match=f"uuid={created.uuid}"):
        storage.bdm_create(ctx, bdm(instance.uuid, uuid=created.uuid, device_name="/dev/vdz"))
    missing = new_uuid()
    with pytest.raises(InstanceNotFound, match=f"uuid={missing}"):
        storage.bdm_create(ctx, bdm(missing))


def test_unknown_volume(storage, ctx, instance):
    volume = new_uuid()
    with pytest.raises(BlockDeviceMappingNotFound, match=f"volume_id={volume}"):
        storage.bdm_get_by_volume_id(ctx, volume, None)
    created = storage.bdm_create(ctx, bdm(instance.uuid))
    with pytest.raises(BlockDeviceMappingNotFound, match="instance_uuid="):
        storage.bdm_get_by_volume_id(ctx, created.volume_id, new_uuid())


def test_instance_destroy_soft_deletes_its_mappings(storage, ctx, instance, database):
    storage.bdm_create(ctx, bdm(instance.uuid))
    storage.instance_destroy(ctx, instance.uuid)
    assert storage.bdm_get_by_instance_uuid(ctx, instance.uuid) == []
    assert database.count(BlockDeviceMappingRow) == 1
