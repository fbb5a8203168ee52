"""Tests of the small value objects: cumulo/model/injected_file.py, network_hints.py,
image_meta.py, instance_info_cache.py and shared_storage.py."""

import uuid

import pytest

from cumulo.model import (
    DhcpOption,
    DhcpOptionList,
    DiskBus,
    ImageMeta,
    ImageMetaProps,
    InjectedFile,
    InstanceInfoCache,
    MacConstraint,
    NetworkInfo,
    OsType,
    SharedStorageProbe,
    VIFModel,
)
from cumulo.objects import FieldValueError, decode_json, encode_json


def test_injected_file_round_trips_binary_contents():
    f = InjectedFile.of("/etc/motd", b"\x00hello\xff")
    assert f.contents == b"\x00hello\xff"
    assert decode_json(encode_json(f), InjectedFile).contents == b"\x00hello\xff"
    with pytest.raises(ValueError, match="absolute path"):
        InjectedFile.of("etc/motd", b"")
    with pytest.raises(ValueError, match="contents_b64"):
        InjectedFile(path="/x", contents_b64="not base64!").contents  # noqa: B018


def test_dhcp_options_and_mac_constraint():
    opts = DhcpOptionList(
        objects=[
            DhcpOption(opt_name="bootfile-name", opt_value="pxelinux.0"),
            DhcpOption(opt_name="tftp-server", opt_value="2001:db8::1", ip_version=6),
        ]
    )
    assert [o.ip_version for o in opts.objects] == [4, 6]
    with pytest.raises(FieldValueError, match=r"DhcpOption\.ip_version"):
        DhcpOption(opt_name="x", opt_value="y", ip_version=5)
    macs = MacConstraint(allowed={"AA:BB:CC:DD:EE:01", "aa:bb:cc:dd:ee:02"})
    assert macs.allowed == {"aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"}
    assert decode_json(encode_json(macs), MacConstraint) == macs
    with pytest.raises(FieldValueError):
        macs.allowed.add("nope")


def test_image_meta_typed_properties():
    image = ImageMeta(
        id=uuid.uuid4(),
        name="cirros",
        properties=ImageMetaProps(hw_disk_bus="scsi", hw_vif_model="e1000", os_type="linux"),
    )
    assert image.properties.hw_disk_bus is DiskBus.SCSI
    assert image.properties.hw_vif_model is VIFModel.E1000
    assert image.properties.os_type is OsType.LINUX
    assert image.properties.hw_cdrom_bus is None
    assert ImageMeta().properties == ImageMetaProps()
    with pytest.raises(FieldValueError, match=r"ImageMetaProps\.hw_disk_bus"):
        ImageMetaProps(hw_disk_bus="nvme0")


def test_info_cache_save_sends_only_when_changed(storage, ctx):
    instance_uuid = uuid.uuid4()
    cache = InstanceInfoCache(instance_uuid=instance_uuid).obj_set_context(ctx)
    cache.obj_reset_changes(recursive=True)
    cache.save()
    assert storage.calls == []
    cache.network_info = NetworkInfo()
    storage.returns["info_cache_save"] = InstanceInfoCache(instance_uuid=instance_uuid)
    cache.save()
    assert storage.calls == [("info_cache_save", (ctx, instance_uuid, NetworkInfo()), {})]
    assert cache.obj_what_changed() == set()
    storage.returns["info_cache_get"] = InstanceInfoCache(instance_uuid=instance_uuid)
    assert InstanceInfoCache.get_by_instance_uuid(ctx, str(instance_uuid)).obj_context is ctx


def test_shared_storage_probe():
    probe = SharedStorageProbe(host="host-a", filename="tmpabc")
    assert decode_json(encode_json(probe), SharedStorageProbe) == probe
