"""Tests of cumulo/model/migrate_data.py: LiveMigrateData as typed fields."""

import ipaddress
import uuid

import pytest

from cumulo.model import (
    VIF,
    DiskBus,
    LiveMigrateBDMInfo,
    LiveMigrateData,
    Migration,
    VIFMigrateData,
    VIFType,
    VolumeConnectionInfo,
)
from cumulo.objects import FieldValueError


def test_undetermined_facts_are_none():
    data = LiveMigrateData()
    assert data.migration is None
    assert (data.is_shared_instance_path, data.is_shared_block_storage) == (None, None)
    assert (data.block_migration, data.disk_available_mb, data.filename) == (None, None, None)
    assert (data.vifs, data.bdms, data.wait_for_vif_plugged) == ([], [], False)


def test_full_round_trip():
    volume = uuid.uuid4()
    port = uuid.uuid4()
    data = LiveMigrateData(
        migration=Migration(id=1, uuid=uuid.uuid4(), instance_uuid=uuid.uuid4()),
        is_volume_backed=False,
        block_migration=True,
        disk_over_commit=False,
        disk_available_mb=100000,
        filename="tmp123",
        is_shared_instance_path=False,
        is_shared_block_storage=True,
        graphics_listen_addr_vnc="127.0.0.1",
        serial_listen_addr="::1",
        target_connect_addr="host-b",
        vifs=[
            VIFMigrateData(
                port_id=port,
                host="host-b",
                vif_type="ovs",
                source_vif=VIF(id=port, address="fa:16:3e:00:00:01"),
            )
        ],
        bdms=[
            LiveMigrateBDMInfo(
                serial=str(volume),
                bus="virtio",
                dev="vdb",
                connection_info=VolumeConnectionInfo(
                    driver_volume_type="file", volume_id=volume, serial=str(volume)
                ),
            )
        ],
        old_vol_attachment_ids={str(volume): uuid.uuid4()},
    )
    again = LiveMigrateData.obj_from_json(data.obj_to_json())
    assert again == data
    assert again.graphics_listen_addr_vnc == ipaddress.IPv4Address("127.0.0.1")
    assert again.vifs[0].vif_type is VIFType.OVS
    assert again.bdms[0].bus is DiskBus.VIRTIO


def test_no_dict_payloads():
    with pytest.raises(FieldValueError, match=r"LiveMigrateData\.vifs"):
        LiveMigrateData(vifs=[{"port_id": "x"}])
    with pytest.raises(FieldValueError, match=r"LiveMigrateData\.migration"):
        LiveMigrateData(migration={"id": 1})
