"""The config drive: metadata, injected files and network data, re-read with pycdlib."""

from __future__ import annotations

import json

from cumulo.model import ImageMeta, InjectedFile, PowerState
from cumulo.virt.qemu.configdrive import META_DATA, NETWORK_DATA, read_config_drive

from ..builders import Ctx, make_vif


def _drive(driver, instance) -> dict[str, bytes]:
    return read_config_drive(driver.describe_guest(instance.uuid).config_drive_path)


def _medium_file(driver, instance) -> str:
    for block in driver.monitor(instance.uuid).cmd("query-block"):
        if block.get("qdev") == "config-cd":
            return str(block["inserted"]["file"])
    raise AssertionError("no config-cd in query-block")


def test_spawn_writes_metadata_files_and_network_data(host_a, instance, network_info):
    files = [InjectedFile.of("/etc/motd", b"welcome"), InjectedFile.of("/root/.ssh/k", b"ssh-ed")]
    host_a.spawn(Ctx(), instance, ImageMeta(), files, "s3cret", network_info)
    drive = _drive(host_a, instance)
    meta = json.loads(drive[META_DATA])
    assert meta["uuid"] == str(instance.uuid)
    assert [f["path"] for f in meta["files"]] == ["/etc/motd", "/root/.ssh/k"]
    assert drive["/openstack" + meta["files"][0]["content_path"]] == b"welcome"
    assert "s3cret" not in drive[META_DATA].decode()
    assert meta["admin_pass_hash"].startswith("sha512$")
    network = json.loads(drive[NETWORK_DATA])
    vif = network_info.objects[0]
    assert network["links"][0]["ethernet_mac_address"] == str(vif.address)
    assert network["networks"][0]["ip_address"] == "10.1.0.5"


def test_inject_file_rewrites_the_drive_and_swaps_the_medium(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    host_a.inject_file(instance, InjectedFile.of("/etc/hosts.extra", b"10.0.0.1 db"))
    drive = _drive(host_a, instance)
    meta = json.loads(drive[META_DATA])
    assert meta["files"] == [{"path": "/etc/hosts.extra", "content_path": "/content/0000"}]
    assert drive["/openstack/content/0000"] == b"10.0.0.1 db"
    assert _medium_file(host_a, instance).endswith("config.iso")
    host_a.inject_file(instance, InjectedFile.of("/etc/hosts.extra", b"10.0.0.2 db"))
    assert _drive(host_a, instance)["/openstack/content/0000"] == b"10.0.0.2 db"
    assert host_a.get_info(instance).state is PowerState.RUNNING


def test_inject_network_info_and_reset_network(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    extra = make_vif(ip="10.1.0.77")
    assert extra.network is not None and network_info.objects[0].network is not None
    extra.network.bridge = network_info.objects[0].network.bridge
    updated = network_info.obj_clone()
    updated.objects.append(extra)
    host_a.inject_network_info(instance, updated)
    addresses = [
        n["ip_address"] for n in json.loads(_drive(host_a, instance)[NETWORK_DATA])["networks"]
    ]
    assert addresses == ["10.1.0.5", "10.1.0.77"]
    # reset_network re-applies the last network info: a broken drive is rewritten.
    path = host_a.describe_guest(instance.uuid).config_drive_path
    path.write_bytes(b"\0" * path.stat().st_size)
    host_a.reset_network(instance)
    addresses = [
        n["ip_address"] for n in json.loads(_drive(host_a, instance)[NETWORK_DATA])["networks"]
    ]
    assert addresses == ["10.1.0.5", "10.1.0.77"]
    assert _medium_file(host_a, instance) == str(path)
