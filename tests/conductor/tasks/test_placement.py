"""cumulo/conductor/tasks/placement.py through the build and live-migration tasks:
down, forced-down and disabled hosts are skipped with a reason each; every placed
instance holds one allocation, released when its build fails or it is deleted and
moved by a live migration; concurrent build requests never overcommit a host."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from cumulo.conductor.tasks.exceptions import NoValidHost
from cumulo.model import Instance, Service, ServiceBinary, VmState
from cumulo.model.allocation import Resources, allocations_of, node_usage

from ...compute.deployment import wait_for


def silence(deployment, host: str) -> None:
    """Stop ``host``'s heartbeat timer (it keeps serving, as a hung host might)."""
    deployment.services[host]._stop.set()


def _service(deployment, host: str) -> Service:
    return Service.get_by_host_and_binary(deployment.ctx(), host, ServiceBinary.COMPUTE)


def _stale(deployment, host: str, seconds: float = 120) -> None:
    """``host``'s process stops heartbeating and its last beat is ``seconds`` old."""
    silence(deployment, host)
    service = _service(deployment, host)
    service.last_seen_up = datetime.now(UTC) - timedelta(seconds=seconds)
    service.save()


def test_a_host_whose_heartbeat_is_stale_gets_no_builds(deployment, flavor):
    _stale(deployment, "host-b")
    hosts = {deployment.boot(flavor, name=f"vm{i}").host for i in range(3)}
    assert "host-b" not in hosts
    with pytest.raises(
        NoValidHost,
        match=r"requested host 'host-b' is down \(last heartbeat 1[12]\d s ago; "
        r"service_down_time 60 s\)",
    ):
        deployment.tasks.build_instances(
            deployment.ctx(), [deployment.template(flavor)], requested_host="host-b"
        )


def test_every_skipped_host_is_named_with_its_reason(deployment):
    _stale(deployment, "host-a")
    forced = _service(deployment, "host-b")
    forced.forced_down = True
    forced.save()
    disabled = _service(deployment, "host-c")
    disabled.disabled, disabled.disabled_reason = True, "maintenance"
    disabled.save()
    with pytest.raises(NoValidHost) as info:
        deployment.tasks.build_instances(
            deployment.ctx(), [deployment.template(deployment.flavor())]
        )
    reason = info.value.reason
    assert reason.startswith("1 of 1 instances could not be placed")
    assert "no host has room for 2048 MiB, 2 vCPUs, 0 GiB" in reason
    assert "host-a is down (last heartbeat" in reason
    assert "host-b is forced down" in reason
    assert "host-c is disabled (maintenance)" in reason


def test_a_down_destination_is_refused_before_anything_moves(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    _stale(deployment, "host-b")
    with pytest.raises(NoValidHost, match=r"destination 'host-b' is down"):
        deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid, "host-b")
    # Placement's own choice skips it too.
    migration = deployment.tasks.live_migrate_instance(deployment.ctx(), inst.uuid)
    assert migration.dest_compute == "host-c"


def test_a_placed_instance_holds_one_allocation_until_deleted(deployment, flavor):
    inst = deployment.boot(flavor)
    ctx = deployment.ctx()
    (allocation,) = allocations_of(ctx, inst.uuid)
    assert (allocation.host, allocation.node) == (inst.host, inst.node)
    assert allocation.resources == Resources(2048, 2, 0)
    deployment.cast_and_wait("terminate_instance", inst)
    assert allocations_of(ctx, inst.uuid) == []


def test_a_build_that_fails_on_its_host_releases_the_claim(deployment, flavor):
    deployment.drivers["host-a"].inject_failure("spawn")
    inst = deployment.boot(flavor, host="host-a")
    assert inst.vm_state is VmState.ERROR
    assert allocations_of(deployment.ctx(), inst.uuid) == []


def test_a_live_migration_moves_the_claim(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    ctx = deployment.ctx()
    deployment.tasks.live_migrate_instance(ctx, inst.uuid, "host-b")
    assert Instance.get_by_uuid(ctx, inst.uuid).host == "host-b"
    assert [a.host for a in allocations_of(ctx, inst.uuid)] == ["host-b"]


def test_a_failed_live_migration_drops_the_destinations_claim(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    ctx = deployment.ctx()
    deployment.drivers["host-a"].inject_failure("live_migration")
    with pytest.raises(Exception, match="live migration"):
        deployment.tasks.live_migrate_instance(ctx, inst.uuid, "host-b")
    assert Instance.get_by_uuid(ctx, inst.uuid).host == "host-a"
    assert [a.host for a in allocations_of(ctx, inst.uuid)] == ["host-a"]


def test_concurrent_build_requests_fill_the_hosts_and_never_overcommit(deployment):
    # 3 GiB each: host-a (16 GiB) takes 5, host-b (24 GiB) 8, host-c (8 GiB) 2.
    flavor = deployment.flavor("m1.three", memory_mb=3072, vcpus=1)
    templates = [deployment.template(flavor, name=f"vm{i}") for i in range(18)]
    start = threading.Barrier(len(templates))
    refused: list[str] = []

    def build(template: Instance) -> None:
        start.wait()
        try:
            deployment.tasks.build_instances(deployment.ctx(), [template])
        except NoValidHost as error:
            refused.append(error.reason)

    threads = [threading.Thread(target=build, args=(t,)) for t in templates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ctx = deployment.ctx()
    placed = [Instance.get_by_uuid(ctx, t.uuid) for t in templates]
    assert Counter(i.host for i in placed) == {"host-a": 5, "host-b": 8, "host-c": 2, None: 3}
    assert len(refused) == 3 and all("no host has room for 3072 MiB" in r for r in refused)
    for usage in node_usage(ctx):
        assert usage.allocated.memory_mb <= usage.capacity.memory_mb
        assert usage.free.memory_mb < 3072
    for inst in placed:
        if inst.host is None:
            assert inst.vm_state is VmState.ERROR
            assert "no host has room" in deployment.fault(inst.uuid).message
        else:
            wait_for(
                lambda i=inst: deployment.instance(i.uuid).vm_state is VmState.ACTIVE,
                what=f"{inst.uuid} active",
            )
