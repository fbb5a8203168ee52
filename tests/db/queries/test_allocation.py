"""Tests of cumulo/db/queries/allocation.py: placement's claims on every backend —
the locked re-check, replacement, release, the room a node's ratios and reported use
leave, concurrent claims from many threads never overcommitting, and the instance
writes that drop allocations (destroy, a failed build)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest

from cumulo.db.online_migrations import FILL_INSTANCE_ALLOCATIONS
from cumulo.model import ComputeHostNotFound, TaskState, VmState
from cumulo.model.allocation import NoRoom, Resources

from ..conftest import make_instance, new_uuid
from .test_compute_node import node

SMALL = Resources(memory_mb=2048, vcpus=1, disk_gb=10)


def add_node(storage, ctx, host: str, memory_mb: int = 16384, **values):
    fields = {
        "hypervisor_hostname": host,
        "memory_mb": memory_mb,
        "vcpus": 16,
        "local_gb": 400,
        "memory_mb_used": 0,
        "vcpus_used": 0,
        "local_gb_used": 0,
        "ram_allocation_ratio": 1.0,
        "cpu_allocation_ratio": 1.0,
        "disk_allocation_ratio": 1.0,
    }
    fields.update(values)
    return storage.compute_node_create(ctx, node(host, **fields))


def usage_of(storage, ctx, host: str):
    (usage,) = storage.allocation_usage(ctx, (host,))
    return usage


def test_a_claim_is_recorded_and_counted(storage, ctx):
    add_node(storage, ctx, "host-a")
    consumer = new_uuid()
    allocation = storage.allocation_claim(ctx, consumer, "host-a", SMALL)
    assert (allocation.consumer_uuid, allocation.host, allocation.node) == (
        consumer,
        "host-a",
        "host-a",
    )
    assert storage.allocation_get_all(ctx, consumer) == [allocation]
    usage = usage_of(storage, ctx, "host-a")
    assert usage.allocated == SMALL
    assert usage.free == Resources(16384 - 2048, 15, 390)
    assert usage.describe() == "host-a has 14336 MiB, 15 vCPUs, 390 GiB free"


def test_a_full_node_refuses_and_writes_nothing(storage, ctx):
    add_node(storage, ctx, "host-a", memory_mb=4096)
    storage.allocation_claim(ctx, new_uuid(), "host-a", SMALL)
    storage.allocation_claim(ctx, new_uuid(), "host-a", SMALL)
    late = new_uuid()
    with pytest.raises(NoRoom) as info:
        storage.allocation_claim(ctx, late, "host-a", SMALL)
    assert str(info.value) == (
        "no room for 2048 MiB, 1 vCPUs, 10 GiB on host-a: host-a has 0 MiB, 14 vCPUs, 380 GiB free"
    )
    assert storage.allocation_get_all(ctx, late) == []
    assert len(storage.allocation_get_all(ctx, None)) == 2


def test_a_claim_on_an_unknown_host_is_refused(storage, ctx):
    with pytest.raises(ComputeHostNotFound):
        storage.allocation_claim(ctx, new_uuid(), "host-z", SMALL)


def test_a_repeated_claim_replaces_the_consumers_own(storage, ctx):
    add_node(storage, ctx, "host-a", memory_mb=4096)
    consumer = new_uuid()
    storage.allocation_claim(ctx, consumer, "host-a", SMALL)
    # 4096 MiB fits only because the first claim is replaced, not added to.
    bigger = Resources(4096, 2, 20)
    storage.allocation_claim(ctx, consumer, "host-a", bigger)
    (allocation,) = storage.allocation_get_all(ctx, consumer)
    assert allocation.resources == bigger


def test_ratios_and_reported_use_bound_the_room(storage, ctx):
    add_node(storage, ctx, "host-a", memory_mb=4096, ram_allocation_ratio=1.5, vcpus=2)
    assert usage_of(storage, ctx, "host-a").capacity == Resources(6144, 2, 400)
    # An instance placed before allocations existed shows only in the tracker's report.
    add_node(storage, ctx, "host-b", memory_mb=4096, memory_mb_used=3072)
    with pytest.raises(NoRoom):
        storage.allocation_claim(ctx, new_uuid(), "host-b", SMALL)
    storage.allocation_claim(ctx, new_uuid(), "host-a", SMALL)
    storage.allocation_claim(ctx, new_uuid(), "host-a", SMALL)
    storage.allocation_claim(ctx, new_uuid(), "host-a", Resources(2048, 0, 0))
    assert usage_of(storage, ctx, "host-a").free == Resources(0, 0, 380)


def test_release_drops_one_host_all_but_one_or_all(storage, ctx):
    for host in ("host-a", "host-b", "host-c"):
        add_node(storage, ctx, host)
    consumer, other = new_uuid(), new_uuid()
    for host in ("host-a", "host-b", "host-c"):
        storage.allocation_claim(ctx, consumer, host, SMALL)
    storage.allocation_claim(ctx, other, "host-a", SMALL)
    assert storage.allocation_release(ctx, consumer, "host-c", None) == 1
    assert storage.allocation_release(ctx, consumer, None, "host-b") == 1
    assert [a.host for a in storage.allocation_get_all(ctx, consumer)] == ["host-b"]
    assert storage.allocation_release(ctx, consumer, None, None) == 1
    assert storage.allocation_release(ctx, consumer, None, None) == 0
    assert [a.consumer_uuid for a in storage.allocation_get_all(ctx, None)] == [other]


def test_destroying_an_instance_drops_its_allocations(storage, ctx):
    add_node(storage, ctx, "host-a")
    inst = storage.instance_create(ctx, make_instance(host="host-a", node="host-a"))
    storage.allocation_claim(ctx, inst.uuid, "host-a", SMALL)
    storage.instance_destroy(ctx, inst.uuid)
    assert storage.allocation_get_all(ctx, inst.uuid) == []


def test_a_failed_build_drops_its_allocations_a_failed_active_keeps_them(storage, ctx):
    add_node(storage, ctx, "host-a")
    building = storage.instance_create(
        ctx, make_instance(vm_state=VmState.BUILDING, task_state=TaskState.SPAWNING)
    )
    active = storage.instance_create(ctx, make_instance(vm_state=VmState.ACTIVE))
    for inst in (building, active):
        storage.allocation_claim(ctx, inst.uuid, "host-a", SMALL)
    for inst in (building, active):
        storage.instance_save(ctx, inst.uuid, {"vm_state": VmState.ERROR}, None, None)
    assert storage.allocation_get_all(ctx, building.uuid) == []
    assert len(storage.allocation_get_all(ctx, active.uuid)) == 1


def test_the_online_migration_gives_placed_instances_their_allocations(storage, database, ctx):
    add_node(storage, ctx, "host-a")
    placed = [
        storage.instance_create(
            ctx, make_instance(host="host-a", node="host-a", vm_state=VmState.ACTIVE, root_gb=5)
        )
        for _ in range(3)
    ]
    storage.instance_create(ctx, make_instance(vm_state=VmState.ERROR))  # holds nothing
    storage.allocation_claim(ctx, placed[0].uuid, "host-a", SMALL)  # has one already
    engine = database.engine
    assert FILL_INSTANCE_ALLOCATIONS.count(engine) == 2
    assert FILL_INSTANCE_ALLOCATIONS.function(engine, 1) == (1, 1)
    assert FILL_INSTANCE_ALLOCATIONS.function(engine, 10) == (1, 1)
    assert FILL_INSTANCE_ALLOCATIONS.count(engine) == 0
    assert FILL_INSTANCE_ALLOCATIONS.function(engine, 10) == (0, 0)
    (filled,) = storage.allocation_get_all(ctx, placed[2].uuid)
    assert filled.resources == Resources(2048, 2, 5)


def _place(storage, ctx, hosts: list[str], consumer: uuid.UUID, need: Resources) -> str | None:
    """What Placement does: the most free memory first, the next host on a lost race."""
    tried: set[str] = set()
    while True:
        usages = [u for u in storage.allocation_usage(ctx, tuple(hosts)) if u.host not in tried]
        fitting = sorted(
            (u for u in usages if need.fits_in(u.free)), key=lambda u: (-u.free.memory_mb, u.host)
        )
        if not fitting:
            return None
        try:
            return storage.allocation_claim(ctx, consumer, fitting[0].host, need).host
        except NoRoom:
            tried.add(fitting[0].host)


def test_concurrent_claims_never_overcommit(storage, ctx):
    hosts = ["host-a", "host-b"]
    for host in hosts:
        add_node(storage, ctx, host)  # room for 8 x 2 GiB each
    results: list[str | None] = []
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def boot() -> None:
        try:
            start.wait()
            results.append(_place(storage, ctx, hosts, new_uuid(), SMALL))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=boot) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Counter(results) == {"host-a": 8, "host-b": 8, None: 4}
    for host in hosts:
        usage = usage_of(storage, ctx, host)
        assert usage.allocated.memory_mb == 16384 and usage.free.memory_mb == 0
