"""Over-capacity boots, a host that stops heartbeating and a duplicate ``--host``,
against real processes: two ``cumulo conductor`` and two fake ``cumulo compute``
(``compute_host_child.py``, database layer blocked) over RabbitMQ, PostgreSQL
behind the conductors. The test process reads and writes rows with its own
``SqlStorage``.

The hosts have 16 GiB each and the flavor takes 2 GiB, so 16 instances fit. The
conductors count a host down 3 s after its last heartbeat (``--service-down-time``);
the hosts beat every 0.5 s.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cumulo.compute.manager import peer_client, peer_exceptions
from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.conductor.tasks.exceptions import NoValidHost
from cumulo.conductor.tasks_api import ComputeTaskAPI
from cumulo.db import sync
from cumulo.model import (
    Flavor,
    Instance,
    InstanceFault,
    InstanceList,
    Service,
    ServiceBinary,
    VmState,
)
from cumulo.model.allocation import allocations_of
from cumulo.model.service import service_is_up
from cumulo.rpc import RequestContext, get_transport
from cumulo.volume.store import VolumeStore
from tests.integration.processes import CHILD, REPO, Fleet, Processes, wait_for
from tests.support.databases import server_database, storage_on

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgresql,
    pytest.mark.rabbitmq,
    pytest.mark.subprocess,
]

HOSTS = ("host-a", "host-b")
DOWN_TIME = 3.0
IMAGE = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2"


def _ctx() -> RequestContext:
    return RequestContext(user_id="alice", project_id="p1", roles=["member"])


def _tolerated(name: str, line: str) -> bool:
    # A build no host has room for is answered with NoValidHost (logged by the server).
    return "NoValidHost" in line or "no host has room" in line


@pytest.fixture(scope="module")
def fleet(rabbitmq_vhost_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    work: Path = tmp_path_factory.mktemp("faults")
    broker = rabbitmq_vhost_url
    with server_database("postgresql", "_faults") as database:
        url = database.render_as_string(hide_password=False)
        sync(url)
        processes = Processes()
        fleet = Fleet(
            processes,
            get_transport(broker),
            broker,
            url,
            work,
            VolumeStore(work / "volumes"),
            service_down_time=DOWN_TIME,
            compute_args=("--report-interval", "0.5", "--service-down-time", str(DOWN_TIME)),
        )
        with storage_on(database):
            try:
                # All four at once (the hosts wait for a conductor themselves).
                starts = [
                    threading.Thread(target=fleet.start_conductor),
                    threading.Thread(
                        target=fleet.start_conductor, kwargs={"name_base": "conductor-2"}
                    ),
                    *(threading.Thread(target=fleet.start_compute, args=(h,)) for h in HOSTS),
                ]
                for start in starts:
                    start.start()
                for start in starts:
                    start.join(120)
                assert sorted(processes.running) == ["conductor", "conductor-2", *HOSTS]
                assert all(p.poll() is None for p in processes.running.values())
                probe = ConductorAPI(fleet.transport, timeout=20)
                try:
                    probe.wait_until_ready(_ctx(), timeout=60)
                finally:
                    probe.close()
                yield fleet
            finally:
                processes.stop_and_check_logs(_tolerated)
                fleet.transport.cleanup()


@pytest.fixture(scope="module")
def flavor(fleet: Fleet) -> Flavor:
    flavor = Flavor(flavorid="m1.two", name="m1.two", memory_mb=2048, vcpus=1, root_gb=0)
    flavor.obj_set_context(_ctx())
    flavor.create()
    return flavor


@pytest.fixture
def tasks(fleet: Fleet) -> Iterator[ComputeTaskAPI]:
    client = ComputeTaskAPI(fleet.transport, timeout=60, extra_exceptions=peer_exceptions())
    try:
        yield client
    finally:
        client.close()


def _template(flavor: Flavor, name: str) -> Instance:
    return Instance(
        uuid=uuid.uuid4(),
        user_id="alice",
        project_id="p1",
        display_name=name,
        image_ref=IMAGE,
        flavor=flavor,
    )


def _settled(instance_uuid: uuid.UUID) -> Instance | None:
    inst = Instance.get_by_uuid(_ctx(), instance_uuid)
    if inst.task_state is None and inst.vm_state in (VmState.ACTIVE, VmState.ERROR):
        return inst
    return None


def _delete_all(fleet: Fleet) -> None:
    """Delete every instance: on its host when it has one, else in the database."""
    compute = peer_client(fleet.transport, timeout=20)
    try:
        for inst in InstanceList.get_all(_ctx()).objects:
            if inst.host:
                compute.terminate_instance(_ctx(), inst)
            else:
                inst.obj_set_context(_ctx())
                inst.destroy()
        wait_for(lambda: not InstanceList.get_all(_ctx()).objects, "every instance deleted")
    finally:
        compute.close()


def test_twenty_concurrent_boots_where_sixteen_fit(fleet: Fleet, flavor: Flavor, tasks) -> None:
    templates = [_template(flavor, f"vm-{i}") for i in range(20)]
    start = threading.Barrier(len(templates))
    refused: list[str] = []
    failed: list[BaseException] = []

    def boot(template: Instance) -> None:
        start.wait()
        try:
            tasks.build_instances(_ctx(), [template])
        except NoValidHost as error:
            refused.append(error.reason)
        except BaseException as error:  # reported below
            failed.append(error)

    threads = [threading.Thread(target=boot, args=(t,)) for t in templates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert failed == []
    settled = [
        wait_for(lambda t=t: _settled(t.uuid), f"{t.display_name} settled", 60) for t in templates
    ]
    states = Counter(i.vm_state for i in settled)
    assert states == {VmState.ACTIVE: 16, VmState.ERROR: 4}
    assert len(refused) == 4
    for inst in settled:
        if inst.vm_state is VmState.ERROR:
            assert inst.host is None
            fault = InstanceFault.get_latest_for_instance(_ctx(), inst.uuid)
            assert fault is not None and "no host has room for 2048 MiB" in fault.message
    # Spread as the weigher says (equal hosts: half each), every claim owned by a live
    # instance on the claimed host.
    active = {i.uuid: i for i in settled if i.vm_state is VmState.ACTIVE}
    assert Counter(i.host for i in active.values()) == {"host-a": 8, "host-b": 8}
    allocations = allocations_of(_ctx())
    assert len(allocations) == 16
    for allocation in allocations:
        assert allocation.consumer_uuid in active
        assert allocation.host == active[allocation.consumer_uuid].host

    _delete_all(fleet)
    assert allocations_of(_ctx()) == []


def _compute_service(host: str) -> Service:
    return Service.get_by_host_and_binary(_ctx(), host, ServiceBinary.COMPUTE)


def test_a_host_whose_heartbeat_is_stale_gets_no_new_builds(
    fleet: Fleet, flavor: Flavor, tasks
) -> None:
    frozen = fleet.processes.running["host-b"]
    frozen.send_signal(signal.SIGSTOP)  # alive, but silent: no heartbeat, no work
    try:
        wait_for(
            lambda: not service_is_up(_compute_service("host-b"), DOWN_TIME),
            "host-b's heartbeat to go stale",
            DOWN_TIME * 4,
        )
        built = [
            tasks.build_instances(_ctx(), [_template(flavor, f"late-{i}")])[0] for i in range(3)
        ]
        assert [b.host for b in built] == ["host-a"] * 3
        with pytest.raises(NoValidHost, match=r"requested host 'host-b' is down"):
            tasks.build_instances(_ctx(), [_template(flavor, "forced")], requested_host="host-b")
        for b in built:
            wait_for(lambda b=b: _settled(b.uuid), f"{b.uuid} settled", 30)
    finally:
        frozen.send_signal(signal.SIGCONT)
    wait_for(lambda: service_is_up(_compute_service("host-b"), DOWN_TIME), "host-b up again")
    _delete_all(fleet)
    assert allocations_of(_ctx()) == []


def _compute_argv(fleet: Fleet, host: str) -> list[str]:
    return [
        sys.executable,
        str(CHILD),
        "compute",
        "--host",
        host,
        "--transport-url",
        fleet.transport_url,
        "--volume-dir",
        str(fleet.store.root),
        "--service-down-time",
        str(DOWN_TIME),
        "--conductor-wait",
        "20",
    ]


def test_a_duplicate_host_is_refused_and_a_dead_one_is_taken_over(
    fleet: Fleet, flavor: Flavor, tasks
) -> None:
    done = subprocess.run(
        _compute_argv(fleet, "host-a"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert done.returncode != 0
    assert "compute host 'host-a' is already served by another process" in done.stderr
    assert "s old (service_down_time 3 s)" in done.stderr
    # host-a still serves its queue alone.
    (on_a,) = tasks.build_instances(_ctx(), [_template(flavor, "on-a")], requested_host="host-a")
    assert wait_for(lambda: _settled(on_a.uuid), "on-a settled", 30).vm_state is VmState.ACTIVE

    # host-b dies with a fresh heartbeat; a new process takes the host over at once.
    dead = fleet.processes.running.pop("host-b")
    dead.kill()
    dead.wait(10)
    fleet.start_compute("host-b")
    (on_b,) = tasks.build_instances(_ctx(), [_template(flavor, "on-b")], requested_host="host-b")
    assert wait_for(lambda: _settled(on_b.uuid), "on-b settled", 30).vm_state is VmState.ACTIVE
    _delete_all(fleet)
    assert allocations_of(_ctx()) == []
