"""Tests of cumulo/db/queries/compute_node.py: compute node records with their nested
objects, on every backend."""

from __future__ import annotations

import ipaddress

import pytest

from cumulo.model import (
    AlreadyExists,
    ComputeHostNotFound,
    ComputeNode,
    CpuInfo,
    CpuTopology,
    SupportedInstance,
)

from ..conftest import new_uuid


def node(host: str, **values) -> ComputeNode:
    fields = {
        "uuid": new_uuid(),
        "host": host,
        "hypervisor_hostname": f"{host}.example",
        "vcpus": 16,
        "memory_mb": 65536,
        "hypervisor_type": "QEMU",
        "hypervisor_version": 8002002,
        "cpu_info": CpuInfo(
            model="EPYC", topology=CpuTopology(sockets=2, cores=8), features=["avx2", "aes"]
        ),
        "supported_instances": [SupportedInstance(arch="x86_64", hypervisor_type="qemu")],
        "host_ip": ipaddress.ip_address("192.0.2.10"),
    }
    fields.update(values)
    return ComputeNode(**fields)


def test_compute_nodes_round_trip_with_nested_objects(storage, ctx):
    created = storage.compute_node_create(ctx, node("host-a"))
    assert created.cpu_info.topology.cores == 8
    assert created.cpu_info.features == ["avx2", "aes"]
    assert created.supported_instances[0].hypervisor_type == "qemu"
    assert created.host_ip == ipaddress.IPv4Address("192.0.2.10")
    assert storage.compute_node_get_by_host(ctx, "host-a") == created
    saved = storage.compute_node_save(
        ctx, created.id, {"vcpus_used": 4, "cpu_info": CpuInfo(model="Zen")}
    )
    assert saved.vcpus_used == 4 and saved.cpu_info.model == "Zen"
    assert saved.cpu_info.obj_what_changed() == set()


def test_compute_node_lists_uniqueness_and_errors(storage, ctx):
    b = storage.compute_node_create(ctx, node("host-b"))
    a = storage.compute_node_create(ctx, node("host-a"))
    assert storage.compute_node_get_all(ctx) == [a, b]
    with pytest.raises(AlreadyExists, match="compute node already exists: host=host-a"):
        storage.compute_node_create(ctx, node("host-a"))
    with pytest.raises(ComputeHostNotFound, match="compute node not found: host=nowhere"):
        storage.compute_node_get_by_host(ctx, "nowhere")
    with pytest.raises(ComputeHostNotFound, match="id=999"):
        storage.compute_node_save(ctx, 999, {"vcpus": 1})
