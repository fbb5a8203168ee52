"""cumulo/compute/resource_tracker.py: the host's service row (version, manifest,
heartbeat) and node row (capacity and use from the driver, claims)."""

from __future__ import annotations

import uuid

import pytest

from cumulo.compute.exceptions import ComputeResourcesUnavailable
from cumulo.compute.resource_tracker import object_manifest
from cumulo.compute.rpcapi import API_VERSION
from cumulo.compute.version import SERVICE_VERSION
from cumulo.model import Instance, Service, ServiceBinary, ServiceList
from cumulo.virt.fake import FakeConfig

from ..virt.builders import make_flavor


def test_every_host_records_its_service(deployment):
    services = ServiceList.get_all(deployment.ctx(), ServiceBinary.COMPUTE).objects
    assert [s.host for s in services] == ["host-a", "host-b", "host-c"]
    for service in services:
        assert service.topic == "compute" and service.version == SERVICE_VERSION == 3
        assert service.rpc_api_version == API_VERSION
        assert service.object_manifest == object_manifest()
        assert service.object_manifest["Instance"] == Instance.VERSION
        assert service.last_seen_up is not None
    assert Service.get_minimum_version(deployment.ctx(), ServiceBinary.COMPUTE) == SERVICE_VERSION


def test_heartbeat_and_restart_keep_one_row(deployment):
    manager = deployment.managers["host-a"]
    ctx = deployment.ctx()
    first = Service.get_by_host_and_binary(ctx, "host-a", ServiceBinary.COMPUTE)
    manager.periodic_tasks()
    manager.periodic_tasks()
    beaten = Service.get_by_host_and_binary(ctx, "host-a", ServiceBinary.COMPUTE)
    assert beaten.report_count == first.report_count + 2
    assert beaten.last_seen_up > first.last_seen_up

    manager.tracker.service = None  # a restarted process finds its row again
    manager.init_host()
    again = Service.get_by_host_and_binary(ctx, "host-a", ServiceBinary.COMPUTE)
    assert again.id == first.id and again.report_count == beaten.report_count


def test_the_node_row_follows_the_driver(deployment, flavor):
    driver = deployment.drivers["host-b"]
    node = deployment.node("host-b")
    assert (node.memory_mb, node.vcpus, node.local_gb) == (24576, 16, 400)
    assert node.memory_mb_used == 0 and node.hypervisor_type == "fake"
    assert node.host_ip == driver.get_host_ip_addr()
    assert node.cpu_info.features == sorted(node.cpu_info.features)

    inst = deployment.boot(flavor, host="host-b")
    node = deployment.node("host-b")
    used = driver.get_available_resource()
    assert (node.memory_mb_used, node.vcpus_used) == (used.memory_mb_used, used.vcpus_used)
    assert node.free_ram_mb == 24576 - 2048 and node.running_vms == 1

    deployment.cast_and_wait("terminate_instance", inst)
    assert deployment.node("host-b").memory_mb_used == 0


def test_a_claim_refuses_what_the_host_does_not_have(deployment):
    tracker = deployment.managers["host-c"].tracker
    ctx = deployment.ctx()

    def instance(memory_mb):
        flavor = make_flavor(vcpus=1, memory_mb=memory_mb, root_gb=1)
        return Instance(uuid=uuid.uuid4(), user_id="u", project_id="p", flavor=flavor)

    with tracker.instance_claim(ctx, instance(6144)):
        # The first claim holds until its guest exists: a second one cannot have it.
        assert deployment.node("host-c").memory_mb_used == 0
        with (
            pytest.raises(ComputeResourcesUnavailable, match="memory_mb 4096 needed, 2048 free"),
            tracker.instance_claim(ctx, instance(4096)),
        ):
            pass
    with tracker.instance_claim(ctx, instance(4096)):
        pass


def test_the_service_runs_the_periodic_tasks(deployment):
    from cumulo.compute.manager import ComputeManager
    from cumulo.compute.service import ComputeService

    from .deployment import RecordingFakeDriver, wait_for

    driver = RecordingFakeDriver(
        "host-p", FakeConfig(vcpus=2, memory_mb=2048), log=[], network=deployment.net
    )
    manager = ComputeManager("host-p", driver, deployment.store, transport=deployment.transport)
    service = ComputeService(deployment.transport, manager, periodic_interval=0.01).start()
    try:
        ctx = deployment.ctx()
        wait_for(
            lambda: (
                Service.get_by_host_and_binary(ctx, "host-p", "cumulo-compute").report_count >= 3
            ),
            what="three heartbeats",
        )
        assert driver.manager_calls["get_available_resource"] >= 3
    finally:
        service.stop()
        manager.compute_rpc.close()
    assert service.server is None


def test_each_heartbeat_writes_the_level_and_manifest(deployment):
    ctx = deployment.ctx()
    row = Service.get_by_host_and_binary(ctx, "host-a", ServiceBinary.COMPUTE)
    row.version = 1  # a row edited behind the service's back (or left by an older release)
    row.object_manifest = {"Instance": "1.0"}
    row.save()
    reports = row.report_count
    deployment.managers["host-a"].tracker.service = row
    deployment.managers["host-a"].periodic_tasks()
    beaten = Service.get_by_host_and_binary(ctx, "host-a", ServiceBinary.COMPUTE)
    assert (beaten.version, beaten.object_manifest) == (SERVICE_VERSION, object_manifest())
    assert beaten.report_count == reports + 1
