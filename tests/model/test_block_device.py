"""Tests of cumulo/model/block_device.py: mappings, their list, and BlockDeviceInfo."""

import uuid

import pytest

from cumulo.model import (
    BlockDeviceInfo,
    BlockDeviceMapping,
    BlockDeviceMappingList,
    DestinationType,
    DiskBus,
    ObjectActionError,
    SourceType,
    VolumeConnectionInfo,
    VolumeDriverType,
)
from cumulo.objects import FieldValueError

INSTANCE = uuid.UUID(int=5)
VOLUME = uuid.UUID(int=6)


def bdm(**values) -> BlockDeviceMapping:
    fields = {
        "id": 1,
        "uuid": uuid.UUID(int=100 + values.get("id", 1)),
        "instance_uuid": INSTANCE,
        "source_type": "image",
        "destination_type": "local",
        "boot_index": 0,
    }
    fields.update(values)
    mapping = BlockDeviceMapping(**fields)
    mapping.obj_reset_changes(recursive=True)
    return mapping


def volume_bdm(**values) -> BlockDeviceMapping:
    return bdm(
        id=2,
        source_type="volume",
        destination_type="volume",
        boot_index=None,
        volume_id=VOLUME,
        **values,
    )


def test_roles():
    root, vol = bdm(), volume_bdm()
    swap = bdm(id=3, source_type="blank", boot_index=None, guest_format="swap")
    eph = bdm(id=4, source_type="blank", boot_index=None, guest_format="ext4")
    assert (root.is_root, root.is_volume, vol.is_volume, vol.is_root) == (True, False, True, False)
    assert (swap.is_swap, swap.is_ephemeral, eph.is_swap, eph.is_ephemeral) == (
        True,
        False,
        False,
        True,
    )
    info = BlockDeviceInfo.from_mappings(
        BlockDeviceMappingList(objects=[root, vol, swap, eph]), "/dev/vda"
    )
    assert info.root_device_name == "/dev/vda"
    assert [m.id for m in info.image] == [1]
    assert [m.id for m in info.volumes] == [2]
    assert info.swap.id == 3
    assert [m.id for m in info.ephemerals] == [4]
    mappings = BlockDeviceMappingList(objects=[vol, root])
    assert mappings.root_bdm() is root
    assert mappings.volumes() == [vol]


def test_connection_info_is_an_object_not_a_json_string():
    info = VolumeConnectionInfo(
        driver_volume_type="file", volume_id=VOLUME, serial=str(VOLUME), path="/v/x.img"
    )
    mapping = volume_bdm(connection_info=info, disk_bus="virtio")
    assert mapping.connection_info.driver_volume_type is VolumeDriverType.FILE
    assert mapping.disk_bus is DiskBus.VIRTIO
    with pytest.raises(FieldValueError, match=r"BlockDeviceMapping\.connection_info"):
        mapping.connection_info = '{"driver_volume_type": "file"}'
    again = BlockDeviceMapping.obj_from_json(mapping.obj_to_json())
    assert again.connection_info.path == "/v/x.img"


def test_enums():
    assert bdm().source_type is SourceType.IMAGE
    assert volume_bdm().destination_type is DestinationType.VOLUME
    with pytest.raises(FieldValueError):
        bdm(source_type="floppy")


def test_get_by_instance_uuid(storage, ctx):
    storage.returns["bdm_get_by_instance_uuid"] = [bdm(), volume_bdm()]
    mappings = BlockDeviceMappingList.get_by_instance_uuid(ctx, str(INSTANCE))
    assert storage.calls == [("bdm_get_by_instance_uuid", (ctx, INSTANCE), {})]
    assert [m.id for m in mappings.objects] == [1, 2]
    assert all(m.obj_context is ctx for m in mappings.objects)


def test_get_by_volume_id(storage, ctx):
    storage.returns["bdm_get_by_volume_id"] = volume_bdm()
    BlockDeviceMapping.get_by_volume_id(ctx, VOLUME)
    BlockDeviceMapping.get_by_volume_id(ctx, str(VOLUME), instance_uuid=str(INSTANCE))
    assert [c[1][1:] for c in storage.calls] == [(VOLUME, None), (VOLUME, INSTANCE)]


def test_create_save_destroy(storage, ctx):
    new = BlockDeviceMapping(
        uuid=uuid.uuid4(),
        instance_uuid=INSTANCE,
        source_type="volume",
        destination_type="volume",
        volume_id=VOLUME,
    ).obj_set_context(ctx)
    with pytest.raises(ObjectActionError, match="never created"):
        new.save()
    storage.returns["bdm_create"] = lambda _c, m: volume_bdm(uuid=m.uuid)
    new.create()
    assert new.id == 2
    new.device_name = "/dev/vdb"
    storage.returns["bdm_save"] = lambda _c, _id, changes: volume_bdm(uuid=new.uuid, **changes)
    new.save()
    assert storage.calls[-1][1][1:] == (2, {"device_name": "/dev/vdb"})
    assert new.obj_what_changed() == set()
    new.save()  # nothing changed: no call
    new.destroy()
    assert storage.names() == ["bdm_create", "bdm_save", "bdm_destroy"]
