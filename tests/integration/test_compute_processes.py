"""A conductor and two compute hosts, each in its own OS process, over RabbitMQ,
with PostgreSQL behind the conductor (needs both services): boot an instance,
attach a volume, live-migrate it from host-a to host-b, delete it.

The test process asks through the RPC clients (``ComputeTaskAPI`` for the
conductor's tasks, ``ComputeAPI`` for the hosts) and checks each step twice: in the
database (objects read with its own ``SqlStorage``) and in the hosts' own view
(the guest's diagnostics, served by the host's fake driver). The compute processes
are ``cumulo compute`` run with the database layer blocked
(``compute_host_child.py``); they live-migrate through a fake migration channel (a
directory), as fake hosts in different processes must. The conductor is
``cumulo conductor``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from cumulo.compute.exceptions import InstanceInvalidState
from cumulo.compute.manager import peer_client, peer_exceptions
from cumulo.compute.rpcapi import ComputeAPI
from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.conductor.tasks_api import ComputeTaskAPI
from cumulo.db import SqlStorage, sync
from cumulo.model import (
    BlockDeviceMappingList,
    ComputeNode,
    Flavor,
    Instance,
    InstanceAction,
    InstanceActionNotFound,
    MigrationList,
    MigrationStatus,
    PowerState,
    Service,
    VmState,
    VolumeStatus,
)
from cumulo.rpc import RequestContext, Transport, get_transport
from cumulo.volume.store import VolumeStore
from tests.integration.processes import Fleet, Processes, wait_for
from tests.support.databases import server_database, storage_on

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq, pytest.mark.subprocess]

HOSTS = ("host-a", "host-b")


def _ctx() -> RequestContext:
    return RequestContext(user_id="alice", project_id="p1", roles=["member"])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[URL]:
    with server_database("postgresql", "_compute") as url:
        sync(url.render_as_string(hide_password=False))
        yield url


@pytest.fixture
def storage(postgres_url: URL) -> Iterator[SqlStorage]:
    """This (test) process's own view of the database, to set up and check rows."""
    with storage_on(postgres_url) as storage:
        yield storage


@pytest.fixture
def volume_store(tmp_path: Path) -> VolumeStore:
    return VolumeStore(tmp_path / "volumes")


@pytest.fixture
def deployment(
    rabbitmq_vhost_url: str, postgres_url: URL, tmp_path: Path, volume_store: VolumeStore
) -> Iterator[Transport]:
    """conductor + host-a + host-b, each its own process; yields the test's transport."""
    processes = Processes()
    fleet = Fleet(
        processes,
        get_transport(rabbitmq_vhost_url),
        rabbitmq_vhost_url,
        postgres_url.render_as_string(hide_password=False),
        tmp_path,
        volume_store,
    )
    try:
        fleet.start_conductor()
        for host in HOSTS:
            fleet.start_compute(host)
        probe = ConductorAPI(fleet.transport, timeout=20)
        try:
            probe.wait_until_ready(_ctx(), timeout=60)
        finally:
            probe.close()
        yield fleet.transport
    finally:
        processes.stop_and_check_logs()


def _wait_action(ctx: RequestContext, instance_uuid: uuid.UUID) -> InstanceAction:
    def finished() -> InstanceAction | None:
        try:
            action = InstanceAction.get_by_request_id(ctx, instance_uuid, ctx.request_id)
        except InstanceActionNotFound:
            return None
        return action if action.finish_time is not None else None

    action: InstanceAction = wait_for(finished, f"the action of request {ctx.request_id}")
    return action


def _instance(instance_uuid: uuid.UUID) -> Instance:
    return Instance.get_by_uuid(_ctx(), instance_uuid, expected_attrs=["flavor", "info_cache"])


def _memory_used(host: str) -> int:
    return ComputeNode.get_by_host(_ctx(), host).memory_mb_used


def test_boot_attach_live_migrate_delete_across_processes(
    deployment: Transport, storage: SqlStorage, volume_store: VolumeStore
) -> None:
    tasks = ComputeTaskAPI(deployment, timeout=30, extra_exceptions=peer_exceptions())
    compute: ComputeAPI = peer_client(deployment, timeout=20)
    try:
        _scenario(tasks, compute, volume_store)
    finally:
        tasks.close()
        compute.close()


def _scenario(tasks: ComputeTaskAPI, compute: ComputeAPI, store: VolumeStore) -> None:
    # Both hosts registered themselves through the conductor.
    for host in HOSTS:
        assert Service.get_by_host_and_binary(_ctx(), host, "cumulo-compute").host == host
        assert _memory_used(host) == 0

    # --- boot on host-a ---------------------------------------------------------------------
    flavor = Flavor(flavorid="m1.small", name="m1.small", memory_mb=2048, vcpus=2, root_gb=10)
    flavor.obj_set_context(_ctx())
    flavor.create()
    template = Instance(
        uuid=uuid.uuid4(),
        user_id="alice",
        project_id="p1",
        display_name="vm-1",
        image_ref="8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2",
        flavor=flavor,
    )
    ctx = _ctx()
    (built,) = tasks.build_instances(ctx, [template], requested_host="host-a")
    assert built.host == "host-a"
    assert _wait_action(ctx, built.uuid).message is None
    vm = _instance(built.uuid)
    assert (vm.host, vm.vm_state, vm.power_state, vm.task_state) == (
        "host-a",
        VmState.ACTIVE,
        PowerState.RUNNING,
        None,
    )
    assert len(vm.info_cache.network_info.objects) == 1
    assert _memory_used("host-a") == 2048
    diag = compute.get_diagnostics(_ctx(), vm)
    assert diag.state is PowerState.RUNNING and diag.driver == "fake"
    assert diag.num_cpus == 2 and diag.memory_details.maximum == 2048
    assert [d.device for d in diag.disk_details] == ["vda"]

    # --- attach a volume (the store's directory is shared by both hosts) --------------------
    volume = store.create(1, "data", project_id="p1")
    bdm = compute.attach_volume(_ctx(), vm, volume.id)
    assert bdm.volume_id == volume.id and bdm.device_name == "/dev/vdb"
    (stored_bdm,) = BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm.uuid).volumes()
    assert stored_bdm.volume_id == volume.id and stored_bdm.device_name == "/dev/vdb"
    assert store.get(volume.id).status is VolumeStatus.IN_USE
    assert [d.device for d in compute.get_diagnostics(_ctx(), vm).disk_details] == ["vda", "vdb"]

    # --- live-migrate host-a -> host-b ------------------------------------------------------
    migration = tasks.live_migrate_instance(_ctx(), vm.uuid, "host-b", block_migration=True)
    assert migration.status is MigrationStatus.COMPLETED
    assert (migration.source_compute, migration.dest_compute) == ("host-a", "host-b")
    (stored_migration,) = MigrationList.get_by_instance(_ctx(), vm.uuid).objects
    assert stored_migration.status is MigrationStatus.COMPLETED
    assert stored_migration.memory_total == stored_migration.memory_processed == 2048 * 1024**2
    moved = _instance(vm.uuid)
    assert (moved.host, moved.node, moved.vm_state, moved.task_state) == (
        "host-b",
        "host-b",
        VmState.ACTIVE,
        None,
    )
    (vif,) = moved.info_cache.network_info.objects
    assert vif.details["bound_host"] == "host-b"
    (moved_bdm,) = BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm.uuid).volumes()
    assert moved_bdm.volume_id == volume.id
    assert moved_bdm.attachment_id == store.get(volume.id).attachment_id
    assert _memory_used("host-a") == 0 and _memory_used("host-b") == 2048
    # host-b runs the same guest (with its volume); host-a no longer has it.
    diag_b = compute.get_diagnostics(_ctx(), moved)
    assert diag_b.state is PowerState.RUNNING
    assert [d.device for d in diag_b.disk_details] == ["vda", "vdb"]
    assert diag_b.disk_details[0].read_bytes >= diag.disk_details[0].read_bytes  # came along
    stale = moved.obj_clone()
    stale.host = "host-a"
    with pytest.raises(InstanceInvalidState, match="NOSTATE"):
        compute.get_diagnostics(_ctx(), stale)

    # --- delete -----------------------------------------------------------------------------
    ctx = _ctx()
    compute.terminate_instance(ctx, moved)
    assert _wait_action(ctx, vm.uuid).message is None
    gone = Instance.get_by_uuid(_ctx(), vm.uuid)
    assert gone.deleted and gone.vm_state is VmState.DELETED and gone.task_state is None
    assert store.get(volume.id).status is VolumeStatus.AVAILABLE
    node_b = ComputeNode.get_by_host(_ctx(), "host-b")
    assert (node_b.memory_mb_used, node_b.running_vms) == (0, 0)
    with pytest.raises(InstanceInvalidState, match="NOSTATE"):
        compute.get_diagnostics(_ctx(), moved)
