"""Building and deleting instances: cumulo/compute/build.py through the conductor's
build task, checked in the database (objects) and in the hypervisor (driver views)."""

from __future__ import annotations

import uuid

import pytest

from cumulo.compute.network import dhcp_options_of
from cumulo.model import (
    BlockDeviceMapping,
    BlockDeviceMappingList,
    DestinationType,
    DhcpOption,
    ImageMeta,
    Instance,
    InstanceNotFound,
    PowerState,
    Protocol,
    SourceType,
    VmState,
    VolumeStatus,
)
from cumulo.volume.exceptions import VolumeNotFound

from ..virt.builders import tcp_rule


def volume_bdm(volume_id, *, boot_index=None, delete_on_termination=False):
    return BlockDeviceMapping(
        uuid=uuid.uuid4(),
        instance_uuid=uuid.uuid4(),  # replaced by the instance's
        source_type=SourceType.VOLUME,
        destination_type=DestinationType.VOLUME,
        volume_id=volume_id,
        boot_index=boot_index,
        delete_on_termination=delete_on_termination,
    )


def test_build_names_disks_allocates_the_network_spawns_and_filters(deployment):
    group = deployment.security_group("ssh", tcp_rule(22))
    flavor = deployment.flavor("m1.disks", memory_mb=2048, vcpus=2, root_gb=10, ephemeral_gb=1)
    inst = deployment.boot(flavor, name="web", host="host-a", groups=[group])

    assert inst.vm_state is VmState.ACTIVE and inst.task_state is None
    assert inst.power_state is PowerState.RUNNING
    assert inst.host == inst.node == inst.launched_on == "host-a"
    assert inst.launched_at is not None and inst.root_device_name == "/dev/vda"

    bdms = BlockDeviceMappingList.get_by_instance_uuid(deployment.ctx(), inst.uuid)
    named = {(b.source_type, b.boot_index): b.device_name for b in bdms.objects}
    assert named == {(SourceType.IMAGE, 0): "/dev/vda", (SourceType.BLANK, None): "/dev/vdb"}

    (vif,) = inst.info_cache.network_info.objects
    assert vif.network is not None and vif.network.bridge == "br-host-a"
    assert [str(ip.address) for ip in vif.fixed_ips()] == [f"10.1.0.{inst.id + 1}"]
    assert vif.address == f"fa:16:3e:00:00:{inst.id:02x}"
    assert vif.details["bound_host"] == "host-a"

    driver = deployment.drivers["host-a"]
    assert driver.get_info(inst).state is PowerState.RUNNING
    guest = driver.describe_guest(inst.uuid)
    assert [v.id for v in guest.vifs] == [vif.id]
    assert guest.filtered and guest.security_group_ids == (group.id,)
    assert (guest.vcpus, guest.memory_mb, guest.disk_gb) == (2, 2048, 11)
    peer = "192.0.2.10"
    assert driver.firewall_allows(inst.uuid, protocol=Protocol.TCP, port=22, remote_ip=peer)
    assert not driver.firewall_allows(inst.uuid, protocol=Protocol.TCP, port=80, remote_ip=peer)

    node = deployment.node("host-a")
    assert (node.memory_mb_used, node.vcpus_used, node.local_gb_used) == (2048, 2, 11)
    assert node.running_vms == 1 and node.free_ram_mb == 16384 - 2048

    assert deployment.actions(inst.uuid) == [
        (
            "create",
            None,
            [
                ("conductor_schedule_and_build_instances", "Success", "conductor-1"),
                ("compute_build_and_run_instance", "Success", "host-a"),
            ],
        )
    ]


def test_build_takes_the_macs_and_dhcp_options_the_driver_asks_for(deployment, flavor):
    pxe = DhcpOption(opt_name="bootfile-name", opt_value="pxelinux.0")
    driver = deployment.add_host(
        "host-pxe", mac_pool=["52:54:00:00:00:0b", "52:54:00:00:00:0a"], dhcp_options=[pxe]
    )
    first = deployment.boot(flavor, host="host-pxe")
    second = deployment.boot(flavor, host="host-pxe")

    macs = [i.info_cache.network_info.objects[0].address for i in (first, second)]
    assert macs == ["52:54:00:00:00:0a", "52:54:00:00:00:0b"]
    (vif,) = first.info_cache.network_info.objects
    assert dhcp_options_of(vif) == [pxe]
    assert [v.address for v in driver.describe_guest(first.uuid).vifs] == [macs[0]]

    # The host's NICs are all taken: the driver allows no MAC, the build fails
    # cleanly (VIFs unplugged, nothing left), and the instance is in ERROR.
    unplugged_before = driver.manager_calls["unplug_vifs"]
    third = deployment.boot(flavor, host="host-pxe")
    assert third.vm_state is VmState.ERROR and third.task_state is None
    assert "allows no MAC" in deployment.fault(third.uuid).message
    assert driver.manager_calls["unplug_vifs"] == unplugged_before + 1
    assert {g.uuid for g in driver.describe_host().guests} == {first.uuid, second.uuid}
    assert third.info_cache.network_info.objects == []


def test_a_failed_spawn_leaves_nothing_behind_and_records_the_fault(deployment, flavor):
    driver = deployment.drivers["host-a"]
    driver.inject_failure("spawn")
    inst = deployment.boot(flavor, host="host-a")

    assert inst.vm_state is VmState.ERROR and inst.task_state is None
    assert inst.power_state is PowerState.NOSTATE
    fault = deployment.fault(inst.uuid)
    assert fault.host == "host-a" and "injected failure of spawn" in fault.message
    (action,) = deployment.actions(inst.uuid)
    assert action[0] == "create" and "InjectedFailure" in action[1]
    assert action[2][-1] == ("compute_build_and_run_instance", "Error", "host-a")

    host = driver.describe_host()
    assert host.guests == () and host.plugged_vifs == () and host.memory_mb_used == 0
    assert inst.info_cache.network_info.objects == []
    assert deployment.node("host-a").memory_mb_used == 0
    with pytest.raises(InstanceNotFound):
        driver.get_info(inst)


def test_a_failure_after_spawn_destroys_the_guest_and_releases_its_volumes(deployment, flavor):
    volume = deployment.store.create(1)
    driver = deployment.drivers["host-a"]
    driver.inject_failure("ensure_filtering_rules_for_instance")
    inst = deployment.boot(flavor, host="host-a", bdms=[volume_bdm(volume.id)])

    assert inst.vm_state is VmState.ERROR
    assert driver.describe_host().guests == ()
    assert driver.describe_host().volume_connections == ()
    assert deployment.store.get(volume.id).status is VolumeStatus.AVAILABLE
    assert driver.manager_calls["destroy"] == 1


def test_boot_from_volume(deployment, flavor):
    volume = deployment.store.create(5)
    root = volume_bdm(volume.id, boot_index=0)
    inst = deployment.boot(flavor, host="host-b", bdms=[root], image_ref=None)

    assert inst.vm_state is VmState.ACTIVE and inst.root_device_name == "/dev/vda"
    guest = deployment.drivers["host-b"].describe_guest(inst.uuid)
    assert guest.volume_backed and guest.disk_gb == 0
    assert [(v.volume_id, v.mountpoint) for v in guest.volumes] == [(volume.id, "/dev/vda")]
    stored = deployment.store.get(volume.id)
    assert (stored.status, stored.attached_to, stored.attached_host) == (
        VolumeStatus.IN_USE,
        inst.uuid,
        "host-b",
    )
    (bdm,) = BlockDeviceMappingList.get_by_instance_uuid(deployment.ctx(), inst.uuid).objects
    assert bdm.connection_info is not None and bdm.connection_info.device_path
    assert bdm.attachment_id == stored.attachment_id


def test_terminate_releases_the_guest_its_volumes_and_the_row(deployment, flavor):
    kept = deployment.store.create(1)
    scratch = deployment.store.create(1)
    group = deployment.security_group("web", tcp_rule(80))
    inst = deployment.boot(
        flavor,
        host="host-c",
        groups=[group],
        bdms=[volume_bdm(kept.id), volume_bdm(scratch.id, delete_on_termination=True)],
    )
    driver = deployment.drivers["host-c"]
    assert len(driver.describe_guest(inst.uuid).volumes) == 2

    connector_calls = driver.manager_calls["get_volume_connector"]
    action = deployment.cast_and_wait("terminate_instance", inst)
    assert action.message is None

    gone = Instance.get_by_uuid(deployment.ctx(), inst.uuid)
    assert gone.deleted and gone.vm_state is VmState.DELETED and gone.task_state is None
    assert gone.terminated_at is not None
    host = driver.describe_host()
    assert host.guests == () and host.plugged_vifs == () and host.volume_connections == ()
    assert host.filtered_instances == () and host.instance_dirs == ()
    assert driver.manager_calls["get_volume_connector"] > connector_calls
    assert driver.manager_calls["cleanup"] == 1
    assert deployment.store.get(kept.id).status is VolumeStatus.AVAILABLE
    with pytest.raises(VolumeNotFound):
        deployment.store.get(scratch.id)
    node = deployment.node("host-c")
    assert (node.memory_mb_used, node.running_vms) == (0, 0)


def test_a_failed_destroy_leaves_the_instance_in_error(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    deployment.drivers["host-a"].inject_failure("destroy")
    action = deployment.cast_and_wait("terminate_instance", inst)
    assert "injected failure of destroy" in action.message

    inst = deployment.instance(inst.uuid)
    assert not inst.deleted and inst.vm_state is VmState.ERROR and inst.task_state is None
    assert inst.power_state is PowerState.RUNNING  # the guest is still there
    assert "destroy" in deployment.fault(inst.uuid).message


def test_a_duplicate_build_message_does_not_touch_the_running_guest(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    bdms = BlockDeviceMappingList.get_by_instance_uuid(deployment.ctx(), inst.uuid)
    ctx = deployment.ctx()
    deployment.compute.build_and_run_instance(ctx, "host-a", inst, bdms, ImageMeta(), [], None)
    action = deployment.wait_action(ctx, inst.uuid)

    assert "UnexpectedTaskStateError" in action.message
    assert deployment.instance(inst.uuid).vm_state is VmState.ACTIVE
    assert deployment.drivers["host-a"].get_info(inst).state is PowerState.RUNNING
    assert deployment.fault(inst.uuid) is None  # a lost race is no fault of the instance
