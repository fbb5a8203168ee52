"""cumulo/conductor/tasks/build.py and placement.py: records, placement, the cast."""

from __future__ import annotations

import re

import pytest

from cumulo.conductor.tasks.exceptions import NoValidHost
from cumulo.model import (
    BlockDeviceMappingList,
    Instance,
    PowerState,
    Service,
    ServiceBinary,
    SourceType,
    TaskState,
    VmState,
)


def test_placement_picks_the_host_with_the_most_free_memory(deployment):
    # Free memory: host-a 16 GiB, host-b 24 GiB, host-c 8 GiB.
    big = deployment.flavor("m1.big", memory_mb=8192, vcpus=1)
    hosts = [deployment.boot(big, name=f"vm{i}").host for i in range(4)]
    # b (24) → a/b tie at 16, the first by name → b (16 vs 8) → all at 8, the first.
    assert hosts == ["host-b", "host-a", "host-b", "host-a"]
    assert [deployment.node(h).free_ram_mb for h in ("host-a", "host-b", "host-c")] == [
        0,
        8192,
        8192,
    ]


def test_one_request_for_several_instances_spreads_them(deployment):
    big = deployment.flavor("m1.big", memory_mb=8192, vcpus=1)
    ctx = deployment.ctx()
    templates = [deployment.template(big, name=f"vm{i}") for i in range(3)]
    built = deployment.tasks.build_instances(ctx, templates)
    assert [i.host for i in built] == ["host-b", "host-a", "host-b"]
    assert [i.uuid for i in built] == [t.uuid for t in templates]
    for inst in built:
        deployment.wait_action(ctx, inst.uuid)
        assert deployment.instance(inst.uuid).vm_state is VmState.ACTIVE


def test_one_request_shares_a_reservation_and_numbers_its_instances(deployment, flavor):
    ctx = deployment.ctx()
    first = deployment.tasks.build_instances(
        ctx, [deployment.template(flavor, name=f"vm{i}") for i in range(3)]
    )
    stored = [deployment.instance(i.uuid) for i in first]
    (reservation,) = {i.reservation_id for i in stored}
    assert re.fullmatch(r"r-[a-z0-9]{8}", reservation)
    assert [i.launch_index for i in stored] == [0, 1, 2]
    # Another request, another reservation; one the caller chose is kept.
    (other,) = deployment.tasks.build_instances(ctx, [deployment.template(flavor)])
    assert deployment.instance(other.uuid).reservation_id not in (None, reservation)
    chosen = deployment.template(flavor, name="chosen")
    chosen.reservation_id = "r-chosen01"
    (kept,) = deployment.tasks.build_instances(ctx, [chosen])
    assert (deployment.instance(kept.uuid).reservation_id, kept.launch_index) == ("r-chosen01", 0)


def test_the_requested_host_is_honoured(deployment, flavor):
    inst = deployment.boot(flavor, host="host-c")
    assert inst.host == "host-c" and inst.vm_state is VmState.ACTIVE
    assert deployment.drivers["host-c"].get_info(inst).state is PowerState.RUNNING


def test_the_build_records_the_instance_and_its_disks(deployment):
    flavor = deployment.flavor("m1.full", memory_mb=1024, vcpus=1, root_gb=5, swap=512)
    inst = deployment.boot(flavor, host="host-a")
    assert (inst.memory_mb, inst.vcpus, inst.root_gb) == (1024, 1, 5)
    assert inst.flavor.flavorid == "m1.full"
    bdms = BlockDeviceMappingList.get_by_instance_uuid(deployment.ctx(), inst.uuid).objects
    assert [(b.source_type, b.boot_index, b.guest_format, b.device_name) for b in bdms] == [
        (SourceType.IMAGE, 0, None, "/dev/vda"),
        (SourceType.BLANK, None, "swap", "/dev/vdb"),
    ]
    assert str(bdms[0].image_id) == inst.image_ref


def test_no_host_fits(deployment):
    huge = deployment.flavor("m1.huge", memory_mb=65536, vcpus=4)
    template = deployment.template(huge)
    with pytest.raises(NoValidHost) as info:
        deployment.tasks.build_instances(deployment.ctx(), [template])
    message = str(info.value)
    assert "no host has room for 65536 MiB, 4 vCPUs, 0 GiB" in message
    assert "host-b has 24576 MiB, 16 vCPUs, 400 GiB free" in message

    inst = Instance.get_by_uuid(deployment.ctx(), template.uuid)
    assert (inst.vm_state, inst.task_state, inst.host) == (VmState.ERROR, None, None)
    fault = deployment.fault(inst.uuid)
    assert fault.message.startswith("no valid host: no host has room") and fault.code == 500
    ((action, failure, events),) = deployment.actions(inst.uuid)
    assert action == "create" and failure.startswith("NoValidHost")
    assert events == [("conductor_schedule_and_build_instances", "Error", "conductor-1")]
    assert all(d.manager_calls["spawn"] == 0 for d in deployment.drivers.values())


def test_a_requested_host_that_cannot_fit_is_not_replaced(deployment):
    big = deployment.flavor("m1.big", memory_mb=12288, vcpus=1)
    template = deployment.template(big)
    with pytest.raises(NoValidHost, match="requested host 'host-c' cannot fit"):
        deployment.tasks.build_instances(deployment.ctx(), [template], requested_host="host-c")
    assert Instance.get_by_uuid(deployment.ctx(), template.uuid).vm_state is VmState.ERROR

    with pytest.raises(NoValidHost, match="'host-z' is not an enabled compute host"):
        deployment.tasks.build_instances(
            deployment.ctx(), [deployment.template(big)], requested_host="host-z"
        )


def test_a_disabled_host_gets_nothing(deployment, flavor):
    service = Service.get_by_host_and_binary(deployment.ctx(), "host-b", ServiceBinary.COMPUTE)
    service.disabled = True
    service.save()
    assert deployment.boot(flavor).host == "host-a"


def test_what_fits_is_built_when_some_instances_do_not(deployment):
    big = deployment.flavor("m1.big", memory_mb=16384, vcpus=1)
    ctx = deployment.ctx()
    templates = [deployment.template(big, name=f"vm{i}") for i in range(3)]
    with pytest.raises(NoValidHost, match="1 of 3 instances could not be placed"):
        deployment.tasks.build_instances(ctx, templates)
    placed = []
    for template in templates:
        inst = Instance.get_by_uuid(ctx, template.uuid)
        if inst.vm_state is VmState.ERROR:
            assert inst.host is None
            continue
        deployment.wait_action(ctx, inst.uuid)
        placed.append(deployment.instance(inst.uuid))
    assert sorted(i.host for i in placed) == ["host-a", "host-b"]
    assert all(i.vm_state is VmState.ACTIVE and i.task_state is None for i in placed)
    assert TaskState.SCHEDULING not in {
        Instance.get_by_uuid(ctx, t.uuid).task_state for t in templates
    }
