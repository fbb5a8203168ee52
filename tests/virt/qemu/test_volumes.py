"""Volumes hot-plugged on the guest's virtio-scsi controller, and device names."""

from __future__ import annotations

import uuid

import pytest

from cumulo.model import (
    AccessMode,
    BlockDeviceMapping,
    DestinationType,
    DiskBus,
    ImageMeta,
    SourceType,
)
from cumulo.virt.exceptions import (
    DeviceInUse,
    DiskBusNotSupported,
    VirtDriverError,
    VolumeAlreadyAttached,
    VolumeNotAttached,
)

from ..builders import Ctx, make_bdi
from .conftest import volume_bdm


def _qdevs(driver, instance) -> set[str]:
    return {str(b.get("qdev")) for b in driver.monitor(instance.uuid).cmd("query-block")}


def _nodes(driver, instance) -> set[str]:
    cmd = driver.monitor(instance.uuid).cmd
    return {n["node-name"] for n in cmd("query-named-block-nodes")}


def test_attach_and_detach_hot_plug_a_scsi_disk(host_a, instance, network_info, volumes):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    bdm = volume_bdm(volumes, host_a, instance)
    info = bdm.connection_info
    assert info is not None
    host_a.attach_volume(Ctx(), info, instance, "/dev/sdb")
    ident = f"vol-{info.volume_id.hex[:16]}"
    assert ident in _qdevs(host_a, instance)
    assert ident in _nodes(host_a, instance)
    assert info.device_path == info.path
    device = host_a.monitor(instance.uuid).cmd(
        "qom-get", path=f"/machine/peripheral/{ident}", property="lun"
    )
    assert device == 1
    with pytest.raises(VolumeAlreadyAttached):
        host_a.attach_volume(Ctx(), info, instance, "/dev/sdc")
    other = volume_bdm(volumes, host_a, instance).connection_info
    assert other is not None
    with pytest.raises(DeviceInUse):
        host_a.attach_volume(Ctx(), other, instance, "/dev/sdb")
    with pytest.raises(VolumeNotAttached):
        host_a.detach_volume(Ctx(), info, instance, "/dev/sdc")
    host_a.detach_volume(Ctx(), info, instance, "/dev/sdb")
    assert ident not in _qdevs(host_a, instance)
    assert ident not in _nodes(host_a, instance)
    # A detached volume can come back.
    host_a.attach_volume(Ctx(), info, instance, "/dev/sdb")
    assert ident in _qdevs(host_a, instance)


def test_spawn_connects_the_volumes_of_block_device_info(host_a, instance, network_info, volumes):
    bdm = volume_bdm(volumes, host_a, instance, "/dev/sdc")
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, make_bdi(bdm))
    assert bdm.connection_info is not None
    assert f"vol-{bdm.connection_info.volume_id.hex[:16]}" in _qdevs(host_a, instance)


def test_volume_attached_while_off_appears_at_power_on(host_a, instance, network_info, volumes):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, power_on=False)
    info = volume_bdm(volumes, host_a, instance).connection_info
    assert info is not None
    host_a.attach_volume(Ctx(), info, instance, "/dev/sdb")
    host_a.power_on(Ctx(), instance, network_info)
    assert f"vol-{info.volume_id.hex[:16]}" in _qdevs(host_a, instance)


def _read_only(driver, instance) -> dict[str, bool]:
    """Block device (qdev) → QEMU's ``inserted.ro`` flag, for the volumes."""
    return {
        str(b["qdev"]): b["inserted"]["ro"]
        for b in driver.monitor(instance.uuid).cmd("query-block")
        if str(b.get("qdev", "")).startswith("vol-")
    }


def test_a_read_only_volume_is_read_only_in_qemu(host_a, instance, network_info, volumes):
    ro_bdm = volume_bdm(volumes, host_a, instance, "/dev/sdb")
    assert ro_bdm.connection_info is not None
    ro_bdm.connection_info.access_mode = AccessMode.READ_ONLY
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, make_bdi(ro_bdm))
    ro = f"vol-{ro_bdm.connection_info.volume_id.hex[:16]}"
    assert _read_only(host_a, instance) == {ro: True}  # on the command line
    rw_info = volume_bdm(volumes, host_a, instance).connection_info
    hot_ro_info = volume_bdm(volumes, host_a, instance).connection_info
    assert rw_info is not None and hot_ro_info is not None
    hot_ro_info.access_mode = AccessMode.READ_ONLY
    host_a.attach_volume(Ctx(), rw_info, instance, "/dev/sdc")
    host_a.attach_volume(Ctx(), hot_ro_info, instance, "/dev/sdd")
    rw = f"vol-{rw_info.volume_id.hex[:16]}"
    hot_ro = f"vol-{hot_ro_info.volume_id.hex[:16]}"
    assert _read_only(host_a, instance) == {ro: True, rw: False, hot_ro: True}  # hot-plugged
    # A new process (power cycle) gets the same flags.
    host_a.power_off(instance)
    host_a.power_on(Ctx(), instance, network_info)
    assert _read_only(host_a, instance) == {ro: True, rw: False, hot_ro: True}


def test_a_volume_on_the_nvme_bus_is_refused(host_a, instance, network_info, volumes):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    before = _qdevs(host_a, instance), _nodes(host_a, instance)
    info = volume_bdm(volumes, host_a, instance).connection_info
    assert info is not None
    with pytest.raises(DiskBusNotSupported) as refused:
        host_a.attach_volume(Ctx(), info, instance, "/dev/nvme0n1", disk_bus=DiskBus.NVME)
    error = refused.value
    assert isinstance(error, VirtDriverError)
    assert (error.bus, error.mountpoint, error.host) == ("nvme", "/dev/nvme0n1", host_a.host)
    assert "'nvme'" in str(error) and "virtio-scsi" in str(error) and "ACPI" in str(error)
    # An NVMe name says the bus as much as disk_bus does.
    with pytest.raises(DiskBusNotSupported):
        host_a.attach_volume(Ctx(), info, instance, "nvme1n1")
    # Nothing was plugged or recorded: the volume attaches on scsi as usual.
    assert (_qdevs(host_a, instance), _nodes(host_a, instance)) == before
    assert host_a.describe_guest(instance.uuid).volume_nodes == ()
    host_a.attach_volume(Ctx(), info, instance, "/dev/sdb")
    host_a.detach_volume(Ctx(), info, instance, "/dev/sdb")


def test_spawn_with_an_nvme_volume_is_refused_and_leaves_nothing(
    host_a, instance, network_info, volumes
):
    bdm = volume_bdm(volumes, host_a, instance, "/dev/nvme0n1")
    bdm.disk_bus = DiskBus.NVME
    with pytest.raises(DiskBusNotSupported, match="nvme"):
        host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, make_bdi(bdm))
    assert host_a.list_instance_uuids() == []
    assert not (host_a.instances_path / str(instance.uuid)).exists()


def test_volume_connector_names_this_host(host_a, instance):
    connector = host_a.get_volume_connector(instance)
    assert connector.host == host_a.host
    assert str(connector.ip) == "127.0.0.1"
    assert connector.initiator == f"iqn.2010-10.org.cumulo:{host_a.host}"


def _bdm(instance, **fields) -> BlockDeviceMapping:
    return BlockDeviceMapping(
        uuid=uuid.uuid4(),
        instance_uuid=instance.uuid,
        source_type=SourceType.VOLUME,
        destination_type=DestinationType.VOLUME,
        volume_id=uuid.uuid4(),
        **fields,
    )


def test_default_names_put_volumes_on_the_scsi_bus(host_a, instance):
    root = _bdm(instance, boot_index=0)
    assert host_a.default_root_device_name(instance, ImageMeta(), root) == "/dev/vda"
    named = _bdm(instance, device_name="/dev/sdb")
    fresh = _bdm(instance)
    virtio = _bdm(instance, disk_bus=DiskBus.VIRTIO)
    nvme = _bdm(instance, disk_bus=DiskBus.NVME)
    host_a.default_device_names_for_instance(instance, "/dev/vda", [named, fresh, virtio, nvme])
    assert (named.device_name, fresh.device_name, virtio.device_name, nvme.device_name) == (
        "/dev/sdb",
        "/dev/sdc",
        "/dev/vdb",
        "/dev/nvme0n1",
    )
    assert fresh.disk_bus is DiskBus.SCSI
