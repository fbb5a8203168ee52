"""Tests of cumulo/model/compute_node.py and cumulo/model/host_resource.py."""

import ipaddress
import uuid

from cumulo.model import (
    Architecture,
    AvailableResource,
    ComputeNode,
    ComputeNodeList,
    CpuInfo,
    CpuTopology,
    SupportedInstance,
    VmMode,
)


def resources() -> AvailableResource:
    return AvailableResource(
        hypervisor_hostname="host-a",
        vcpus=2,
        memory_mb=8192,
        local_gb=1028,
        vcpus_used=1,
        memory_mb_used=2048,
        local_gb_used=20,
        hypervisor_type="fake",
        hypervisor_version=1000,
        cpu_info=CpuInfo(model="fake", topology=CpuTopology(sockets=1, cores=2, threads=1)),
        host_ip="192.0.2.1",
        supported_instances=[SupportedInstance(arch="x86_64", hypervisor_type="fake")],
    )


def node(**values) -> ComputeNode:
    fields = {"id": 1, "uuid": uuid.UUID(int=1), "host": "host-a", "hypervisor_hostname": "host-a"}
    fields.update(values)
    n = ComputeNode(**fields)
    n.obj_reset_changes(recursive=True)
    return n


def test_update_from_resources_computes_free_amounts():
    n = node()
    n.update_from_resources(resources())
    assert (n.vcpus, n.memory_mb, n.local_gb) == (2, 8192, 1028)
    assert (n.free_ram_mb, n.free_disk_gb) == (6144, 1008)
    assert n.host_ip == ipaddress.IPv4Address("192.0.2.1")
    assert n.cpu_info.topology.cores == 2
    assert n.supported_instances[0].vm_mode is VmMode.HVM
    assert n.supported_instances[0].arch is Architecture.X86_64
    assert {"vcpus", "free_ram_mb", "cpu_info"} <= n.obj_what_changed()


def test_remotables(storage, ctx):
    storage.returns["compute_node_get_by_host"] = node()
    n = ComputeNode.get_by_host(ctx, "host-a")
    n.update_from_resources(resources())
    storage.returns["compute_node_save"] = lambda _c, _id, changes: node(**changes)
    n.save()
    (_, (_, node_id, changes), _) = storage.calls[1]
    assert node_id == 1
    assert changes["memory_mb"] == 8192
    assert n.obj_what_changed() == set()
    storage.returns["compute_node_get_all"] = [node()]
    assert len(ComputeNodeList.get_all(ctx).objects) == 1
    new = ComputeNode(uuid=uuid.uuid4(), host="host-b", hypervisor_hostname="host-b")
    storage.returns["compute_node_create"] = node(id=2, host="host-b")
    new.obj_set_context(ctx).create()
    assert new.id == 2
