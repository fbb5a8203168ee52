"""Tests of cumulo/model/volume.py and cumulo/model/volume_connection.py."""

import ipaddress
import uuid

import pytest

from cumulo.model import (
    AccessMode,
    Architecture,
    Volume,
    VolumeConnectionInfo,
    VolumeConnector,
    VolumeList,
    VolumeNotFound,
    VolumeStatus,
)
from cumulo.objects import FieldValueError

VOL = uuid.UUID(int=77)


def volume(**values) -> Volume:
    fields = {"id": VOL, "name": "data", "size_gb": 1, "status": "available", "host": "host-a"}
    fields.update(values)
    v = Volume(**fields)
    v.obj_reset_changes()
    return v


def test_volume_fields():
    v = volume()
    assert v.status is VolumeStatus.AVAILABLE
    assert not v.is_attached
    v.attached_to = uuid.uuid4()
    assert v.is_attached
    with pytest.raises(FieldValueError, match=r"Volume\.status"):
        v.status = "attached"


def test_connector_and_connection_info():
    connector = VolumeConnector(host="host-a", ip="192.0.2.10", initiator="iqn.2004-10.fake")
    assert connector.ip == ipaddress.IPv4Address("192.0.2.10")
    assert connector.platform is Architecture.X86_64
    assert (connector.multipath, connector.wwpns) == (False, [])
    info = VolumeConnectionInfo(
        driver_volume_type="file", volume_id=VOL, serial=str(VOL), path="/var/lib/v/77"
    )
    assert info.access_mode is AccessMode.READ_WRITE
    assert (info.target_iqn, info.device_path, info.encrypted) == (None, None, False)
    assert VolumeConnectionInfo.obj_from_json(info.obj_to_json()) == info


def test_remotables(storage, ctx):
    new = Volume(id=VOL, size_gb=1).obj_set_context(ctx)
    storage.returns["volume_create"] = volume(created_at="2025-01-01T00:00:00Z")
    new.create()
    assert new.status is VolumeStatus.AVAILABLE
    new.status = VolumeStatus.IN_USE
    storage.returns["volume_save"] = volume(status="in-use")
    new.save()
    assert storage.calls[-1][1][1:] == (VOL, {"status": VolumeStatus.IN_USE})
    new.destroy()
    storage.returns["volume_get"] = volume()
    assert Volume.get_by_id(ctx, str(VOL)).id == VOL
    storage.returns["volume_get_all"] = [volume()]
    assert len(VolumeList.get_all(ctx, host="host-a").objects) == 1
    assert storage.names() == [
        "volume_create",
        "volume_save",
        "volume_destroy",
        "volume_get",
        "volume_get_all",
    ]
    assert storage.calls[-1][1][1:] == ("host-a", None)
    storage.raises["volume_get"] = VolumeNotFound(id=VOL)
    with pytest.raises(VolumeNotFound):
        Volume.get_by_id(ctx, VOL)
