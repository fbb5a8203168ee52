"""What a running instance gets from its host besides power: cumulo/compute/guest.py
(volumes, diagnostics, injection, network reset, rule refreshes, shared storage)."""

from __future__ import annotations

import pytest

from cumulo.compute.exceptions import InstanceInvalidState, InstanceNotOnHost
from cumulo.model import (
    BlockDeviceMappingList,
    InjectedFile,
    Protocol,
    VolumeStatus,
)
from cumulo.virt.exceptions import InjectedFailure
from cumulo.volume.exceptions import VolumeInUse

from ..virt.builders import tcp_rule
from .deployment import wait_for


@pytest.fixture
def running(deployment, flavor):
    return deployment.boot(flavor, host="host-a")


def bdms_of(deployment, inst):
    return BlockDeviceMappingList.get_by_instance_uuid(deployment.ctx(), inst.uuid)


def test_attach_and_detach_volumes(deployment, running):
    driver = deployment.drivers["host-a"]
    first = deployment.store.create(1)
    second = deployment.store.create(2)

    bdm = deployment.compute.attach_volume(deployment.ctx(), running, first.id)
    assert bdm.device_name == "/dev/vdb" and bdm.volume_id == first.id
    assert bdm.connection_info is not None and bdm.connection_info.device_path
    other = deployment.compute.attach_volume(deployment.ctx(), running, second.id, "vdd")
    assert other.device_name == "/dev/vdd"

    stored = {b.volume_id: b for b in bdms_of(deployment, running).volumes()}
    assert stored[first.id].connection_info == bdm.connection_info
    volume = deployment.store.get(first.id)
    assert (volume.status, volume.attached_to, volume.attached_host, volume.mountpoint) == (
        VolumeStatus.IN_USE,
        running.uuid,
        "host-a",
        "/dev/vdb",
    )
    assert stored[first.id].attachment_id == volume.attachment_id
    mounts = {v.volume_id: v.mountpoint for v in driver.describe_guest(running.uuid).volumes}
    assert mounts == {first.id: "/dev/vdb", second.id: "/dev/vdd"}
    disks = {d.device for d in driver.get_diagnostics(running).disk_details}
    assert {"vdb", "vdd"} <= disks

    deployment.compute.detach_volume(deployment.ctx(), running, first.id)
    assert [b.volume_id for b in bdms_of(deployment, running).volumes()] == [second.id]
    assert deployment.store.get(first.id).status is VolumeStatus.AVAILABLE
    mounts = {v.volume_id: v.mountpoint for v in driver.describe_guest(running.uuid).volumes}
    assert mounts == {second.id: "/dev/vdd"}
    actions = [a[0] for a in deployment.actions(running.uuid)]
    assert actions == ["create", "attach_volume", "attach_volume", "detach_volume"]


def test_a_failed_attach_leaves_no_mapping_and_the_volume_available(deployment, running):
    volume = deployment.store.create(1)
    deployment.drivers["host-a"].inject_failure("attach_volume")
    with pytest.raises(InjectedFailure):
        deployment.compute.attach_volume(deployment.ctx(), running, volume.id)
    assert bdms_of(deployment, running).volumes() == []
    assert deployment.store.get(volume.id).status is VolumeStatus.AVAILABLE
    assert deployment.drivers["host-a"].describe_guest(running.uuid).volumes == ()
    assert "attach_volume" in deployment.fault(running.uuid).message


def test_a_volume_in_use_cannot_be_attached_again(deployment, flavor, running):
    other = deployment.boot(flavor, host="host-a")
    volume = deployment.store.create(1)
    deployment.compute.attach_volume(deployment.ctx(), running, volume.id)
    with pytest.raises(VolumeInUse):
        deployment.compute.attach_volume(deployment.ctx(), other, volume.id)
    assert bdms_of(deployment, other).volumes() == []


def test_diagnostics_of_a_running_guest(deployment, running):
    before = deployment.compute.get_diagnostics(deployment.ctx(), running)
    (vif,) = running.info_cache.network_info.objects
    assert before.driver == "fake" and before.num_cpus == 2
    assert [n.mac_address for n in before.nic_details] == [vif.address]
    deployment.clock.advance(60)
    after = deployment.compute.get_diagnostics(deployment.ctx(), running)
    assert after.cpu_details[0].time > before.cpu_details[0].time
    assert after.nic_details[0].rx_octets > before.nic_details[0].rx_octets
    assert after.uptime == before.uptime + 60

    deployment.cast_and_wait("stop_instance", running)
    with pytest.raises(InstanceInvalidState, match="power_state is SHUTDOWN"):
        deployment.compute.get_diagnostics(deployment.ctx(), running)


def test_a_request_sent_to_another_host_is_refused(deployment, running):
    to_b = deployment.compute.client.prepare(server="host-b")
    with pytest.raises(InstanceNotOnHost, match="recorded on host 'host-a'"):
        to_b.call(deployment.ctx(), "get_diagnostics", instance=running)


def test_inject_file(deployment, running):
    driver = deployment.drivers["host-a"]
    motd = InjectedFile.of("/etc/motd", b"welcome\n")
    deployment.compute.inject_file(deployment.ctx(), running, motd)
    assert driver.describe_guest(running.uuid).injected_files == (motd,)
    config = next(d for d in driver.get_diagnostics(running).disk_details if d.device == "config")
    assert config.write_bytes == len(b"welcome\n")
    assert deployment.actions(running.uuid)[-1][0] == "inject_file"


def test_inject_network_info_and_reset_network(deployment, running):
    driver = deployment.drivers["host-a"]
    before = driver.get_diagnostics(running).nic_details[0].rx_packets

    deployment.cast_and_wait("inject_network_info", running)
    guest = driver.describe_guest(running.uuid)
    assert guest.network_injections == 1
    assert guest.network_info == running.info_cache.network_info

    deployment.cast_and_wait("reset_network", running)
    assert driver.describe_guest(running.uuid).network_resets == 1
    assert driver.get_diagnostics(running).nic_details[0].rx_packets == before + 2  # DHCP
    actions = [a[0] for a in deployment.actions(running.uuid)]
    assert actions[-2:] == ["inject_network_info", "reset_network"]


def test_a_rule_change_is_fanned_out_to_the_hosts_that_need_it(deployment, flavor):
    web = deployment.security_group("web", tcp_rule(22))
    other = deployment.security_group("other", tcp_rule(22))
    on_a = deployment.boot(flavor, host="host-a", groups=[web])
    on_b = deployment.boot(flavor, host="host-b", groups=[web, other])
    on_c = deployment.boot(flavor, host="host-c", groups=[other])

    web.obj_set_context(deployment.ctx())
    web.add_rules([tcp_rule(80)])
    hosts = deployment.tasks.refresh_security_group(deployment.ctx(), web.id)
    assert hosts == ["host-a", "host-b"]

    peer = "198.51.100.7"
    for inst in (on_a, on_b):
        driver = deployment.drivers[inst.host]
        wait_for(
            lambda d=driver, i=inst: d.firewall_allows(
                i.uuid, protocol=Protocol.TCP, port=80, remote_ip=peer
            ),
            what=f"port 80 open on {inst.host}",
        )
    assert deployment.drivers["host-c"].manager_calls["refresh_instance_security_rules"] == 0
    assert not deployment.drivers["host-c"].firewall_allows(
        on_c.uuid, protocol=Protocol.TCP, port=80, remote_ip=peer
    )


def test_refresh_the_rules_of_one_instance(deployment, flavor):
    group = deployment.security_group("db", tcp_rule(5432))
    inst = deployment.boot(flavor, host="host-b", groups=[group])
    driver = deployment.drivers["host-b"]
    group.obj_set_context(deployment.ctx())
    group.remove_rules([group.rules[0].id])

    deployment.compute.refresh_instance_security_rules(deployment.ctx(), inst)
    wait_for(lambda: driver.describe_guest(inst.uuid).firewall_rules == (), what="rules refreshed")
    assert not driver.firewall_allows(
        inst.uuid, protocol=Protocol.TCP, port=5432, remote_ip="10.9.9.9"
    )


def test_shared_storage_check_between_two_hosts(deployment, flavor, running):
    ctx = deployment.ctx()
    assert deployment.compute.check_instance_shared_storage(ctx, running, "host-b") is True
    assert deployment.compute.check_instance_shared_storage(ctx, running, "host-c") is False
    for host, driver in deployment.drivers.items():
        assert driver.describe_host().probes == (), host
    assert deployment.drivers["host-a"].manager_calls["check_instance_shared_storage_local"] == 2
    assert deployment.drivers["host-b"].manager_calls["check_instance_shared_storage_remote"] == 1
    assert deployment.drivers["host-a"].manager_calls["check_instance_shared_storage_cleanup"] == 2
