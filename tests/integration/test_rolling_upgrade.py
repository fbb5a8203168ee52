"""Our grenade: a whole fleet on release 0.1, rebuilt from its recorded commit, is
upgraded service by service to the current code while it keeps running; each
service is its own OS process, over RabbitMQ, with PostgreSQL (and again MariaDB).

1. Release 0.1 everywhere: its own ``cumulo db sync``, conductor, host-a and host-b;
   a guest booted on each through 0.1's client.
2. The schema is expanded by the current ``cumulo db sync`` under the running 0.1
   conductor, which goes on working (a second guest is booted after it).
3. Conductor first: the current conductor replaces the 0.1 one (the guard rails
   let a fleet at level 1 through); the old guests still run and are served.
4. host-b is emptied (a 0.1 -> 0.1 live migration run by the new conductor) and
   restarted on the current code.
5. The mixed round, host-a still on 0.1: boot on host-a and on host-b, attach and
   detach a volume on host-a, diagnostics on both, live-migrate host-a -> host-b
   and host-b -> host-a, inject a file, refresh security rules, delete everything.
   Requests only release 0.2 can serve (a read-only attach, a console output) are
   refused for host-a with a clear error, touching nothing. Every row is checked
   and the backports are counted: the conductor and host-b backlevel what they send
   to host-a (their ``admin`` metrics), host-a has what it cannot read backported
   by the conductor (an API that has not learnt the pins included).
6. host-a is emptied (0.1 -> current migrations) and restarted on the current code;
   ``cumulo upgrade check`` says the pin is lifted, and the same round (now with the
   0.2 requests on host-a too) runs with no backport at all. The guests from step 1
   move once more and are deleted; both hosts end at zero.

A second test live-migrates a real QEMU guest from a 0.1 host to a current one and
back (the live-migration data's new port fields, and their 0.1 fallback).
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url

from cumulo.compute.exceptions import ComputeTooOld
from cumulo.compute.manager import peer_client, peer_exceptions
from cumulo.compute.rpcapi import ComputeAPI
from cumulo.compute.version import SERVICE_VERSION
from cumulo.conductor.tasks_api import ComputeTaskAPI
from cumulo.db import sync
from cumulo.model import (
    AccessMode,
    BlockDeviceMappingList,
    ComputeNode,
    Direction,
    Flavor,
    InjectedFile,
    Instance,
    InstanceAction,
    InstanceActionList,
    InstanceActionNotFound,
    InstanceList,
    MigrationList,
    MigrationStatus,
    PowerState,
    Protocol,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupRule,
    Service,
    ServiceBinary,
    VmState,
    VolumeStatus,
)
from cumulo.rpc import RequestContext, get_transport
from cumulo.rpc.admin import get_metrics
from cumulo.virt.qemu.images import GUEST_BOOT_MARKER, GUEST_TICK, write_probe_guest_image
from cumulo.volume.store import VolumeStore
from tests.integration.processes import Fleet, Processes, wait_for
from tests.support.databases import server_database, storage_on
from upgrade.releases import ReleaseUnavailable, materialize, release, release_env

pytestmark = pytest.mark.integration

OLD_CLIENT = Path(__file__).with_name("old_release_client.py")
IMAGE = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2"
QMP_SOCKET_NOT_YET = (
    '"logger": "qemu.qmp.protocol", "msg": "Failed to establish connection: '
    "FileNotFoundError: [Errno 2] No such file or directory"
)
BACKPORT_COUNTERS = ("rpc.sender_backlevels", "conductor.result_backports")


def _ctx() -> RequestContext:
    return RequestContext(user_id="alice", project_id="p1", roles=["member"])


@pytest.fixture(scope="module")
def release_0_1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Release 0.1's ``cumulo`` package, rebuilt from its recorded commit (or archive)."""
    try:
        return materialize("0.1", tmp_path_factory.mktemp("release-0.1"))
    except ReleaseUnavailable as exc:
        pytest.fail(f"cannot rebuild release 0.1: {exc}", pytrace=False)


@pytest.fixture(params=["postgresql", "mariadb"])
def database_url(request: pytest.FixtureRequest) -> Iterator[URL]:
    """An empty throwaway database: release 0.1 creates its schema."""
    with server_database(request.param, "_upgrade") as url:
        yield url


@pytest.fixture
def fleet(
    rabbitmq_fresh_vhost_url: str, database_url: URL, tmp_path: Path, release_0_1: Path
) -> Iterator[Fleet]:
    """No service running yet; every process is stopped (and its log checked) at the end."""
    processes = Processes()
    fleet = Fleet(
        processes,
        get_transport(rabbitmq_fresh_vhost_url),
        rabbitmq_fresh_vhost_url,
        database_url.render_as_string(hide_password=False),
        tmp_path,
        VolumeStore(tmp_path / "volumes"),
        release_0_1,
    )
    try:
        yield fleet
    finally:
        processes.stop_and_check_logs()


def test_release_0_1_is_really_the_old_code(release_0_1: Path, tmp_path: Path) -> None:
    # The child imports the extracted tree, not this checkout, and it is 0.1's level.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import cumulo, cumulo.compute.version as v, cumulo.model as m;"
            "print(cumulo.__file__, v.SERVICE_VERSION, m.Instance.VERSION)",
        ],
        env=release_env(release_0_1),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    where, level, instance_version = done.stdout.split()
    assert Path(where).is_relative_to(release_0_1)
    assert int(level) == release("0.1").service_version == 1 < SERVICE_VERSION
    assert instance_version == "1.0" != Instance.VERSION


class Workload:
    """The grenade workload; ``round`` tags everything it makes."""

    def __init__(self, fleet: Fleet, label: str) -> None:
        self.fleet = fleet
        self.label = label
        self.tasks = ComputeTaskAPI(fleet.transport, timeout=30, extra_exceptions=peer_exceptions())
        # The API's compute client: pins read from the service rows for every message.
        self.compute: ComputeAPI = peer_client(fleet.transport, timeout=20, cap_ttl=0)
        self.made: list[uuid.UUID] = []
        self.usage_before: dict[str, tuple[int, int, int]] = {}

    def close(self) -> None:
        self.tasks.close()
        self.compute.close()

    def wait_action(self, ctx: RequestContext, instance_uuid: uuid.UUID) -> InstanceAction:
        def finished() -> InstanceAction | None:
            try:
                action = InstanceAction.get_by_request_id(ctx, instance_uuid, ctx.request_id)
            except InstanceActionNotFound:
                return None
            return action if action.finish_time is not None else None

        action: InstanceAction = wait_for(finished, f"the action of request {ctx.request_id}")
        assert action.message is None, action.message
        return action

    def instance(self, instance_uuid: uuid.UUID) -> Instance:
        return Instance.get_by_uuid(
            _ctx(), instance_uuid, expected_attrs=["flavor", "info_cache", "security_groups"]
        )

    def boot(self, host: str, flavor: Flavor, group: SecurityGroup) -> Instance:
        template = Instance(
            uuid=uuid.uuid4(),
            user_id="alice",
            project_id="p1",
            display_name=f"{self.label}-{host}",
            image_ref=IMAGE,
            flavor=flavor,
            security_groups=SecurityGroupList(objects=[group]),
            description=f"booted on {host} in the {self.label} round",
        )
        ctx = _ctx()
        (built,) = self.tasks.build_instances(ctx, [template], requested_host=host)
        self.made.append(built.uuid)
        self.wait_action(ctx, built.uuid)
        vm = self.instance(built.uuid)
        assert (vm.host, vm.vm_state, vm.power_state, vm.task_state) == (
            host,
            VmState.ACTIVE,
            PowerState.RUNNING,
            None,
        )
        # A 0.1 host never saw the description; it is still in the row.
        assert vm.description == template.description
        return vm

    def live_migrate(self, vm: Instance, dest: str, *, counters_move: bool = True) -> Instance:
        source = vm.host
        before = self.compute.get_diagnostics(_ctx(), vm)
        migration = self.tasks.live_migrate_instance(_ctx(), vm.uuid, dest, block_migration=True)
        assert migration.status is MigrationStatus.COMPLETED
        assert (migration.source_compute, migration.dest_compute) == (source, dest)
        moved = self.instance(vm.uuid)
        assert (moved.host, moved.node, moved.vm_state, moved.task_state) == (
            dest,
            dest,
            VmState.ACTIVE,
            None,
        )
        assert moved.description == vm.description
        after = self.compute.get_diagnostics(_ctx(), moved)
        assert after.state is PowerState.RUNNING
        if counters_move:  # (a fake guest's counters travel; QEMU's restart at zero)
            assert after.disk_details[0].read_bytes >= before.disk_details[0].read_bytes
        return moved

    def run(self, *, host_a_current: bool) -> None:
        self.usage_before = _usage()
        ctx = _ctx()
        flavor = Flavor(
            flavorid=f"m1.{self.label}", name=f"m1.{self.label}", memory_mb=1024, vcpus=1, root_gb=5
        )
        flavor.obj_set_context(ctx)
        flavor.create()
        ssh = SecurityGroupRule(
            protocol=Protocol.TCP,
            from_port=22,
            to_port=22,
            cidr=ipaddress.ip_network("0.0.0.0/0"),
            direction=Direction.INGRESS,
        )
        group = SecurityGroup(name=f"web-{self.label}", project_id="p1", rules=[ssh])
        group.obj_set_context(ctx)
        group.create()

        # --- boot on host-a and on host-b --------------------------------------------------
        vm_a = self.boot("host-a", flavor, group)
        vm_b = self.boot("host-b", flavor, group)

        # --- attach and detach a volume on host-a -----------------------------------------
        store = self.fleet.store
        volume = store.create(1, f"data-{self.label}", project_id="p1")
        bdm = self.compute.attach_volume(_ctx(), vm_a, volume.id)
        assert bdm.volume_id == volume.id and not bdm.read_only
        (stored,) = BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm_a.uuid).volumes()
        assert (stored.volume_id, stored.device_name, stored.read_only) == (
            volume.id,
            bdm.device_name,
            False,
        )
        assert stored.connection_info is not None
        assert store.get(volume.id).status is VolumeStatus.IN_USE
        disks = [d.device for d in self.compute.get_diagnostics(_ctx(), vm_a).disk_details]
        assert disks == ["vda", "vdb"]
        self.compute.detach_volume(_ctx(), vm_a, volume.id)
        assert BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm_a.uuid).volumes() == []
        assert store.get(volume.id).status is VolumeStatus.AVAILABLE

        # --- what only release 0.2 can do ---------------------------------------------------
        if host_a_current:
            ro = self.compute.attach_volume(_ctx(), vm_a, volume.id, read_only=True)
            (stored,) = BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm_a.uuid).volumes()
            assert stored.read_only and ro.read_only
            assert stored.connection_info is not None
            assert stored.connection_info.access_mode is AccessMode.READ_ONLY
            self.compute.detach_volume(_ctx(), vm_a, volume.id)
            assert str(vm_a.uuid) in self.compute.get_console_output(_ctx(), vm_a)
        else:
            with pytest.raises(ComputeTooOld, match=r"compute host-a speaks compute RPC 1\.0"):
                self.compute.attach_volume(_ctx(), vm_a, volume.id, read_only=True)
            with pytest.raises(ComputeTooOld, match="cannot show a console output"):
                self.compute.get_console_output(_ctx(), vm_a)
            # Refused before anything was sent: no mapping, the volume untouched.
            assert BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm_a.uuid).volumes() == []
            assert store.get(volume.id).status is VolumeStatus.AVAILABLE
        assert str(vm_b.uuid) in self.compute.get_console_output(_ctx(), vm_b)

        # --- diagnostics on both ------------------------------------------------------------
        for vm in (vm_a, vm_b):
            diag = self.compute.get_diagnostics(_ctx(), vm)
            assert diag.state is PowerState.RUNNING and diag.driver == "fake"
            assert diag.num_cpus == 1 and diag.memory_details.maximum == 1024

        # --- live-migrate host-a -> host-b and host-b -> host-a ----------------------------
        vm_a = self.live_migrate(vm_a, "host-b")
        vm_b = self.live_migrate(vm_b, "host-a")

        # --- inject a file (into each guest, on its new host) -------------------------------
        for vm in (vm_a, vm_b):
            ctx = _ctx()
            motd = InjectedFile.of("/etc/motd", f"{self.label}\n".encode())
            self.compute.inject_file(ctx, vm, motd)
            self.wait_action(ctx, vm.uuid)

        # --- refresh security rules ---------------------------------------------------------
        http = SecurityGroupRule(
            protocol=Protocol.TCP,
            from_port=80,
            to_port=80,
            cidr=ipaddress.ip_network("0.0.0.0/0"),
            direction=Direction.INGRESS,
        )
        group.obj_set_context(_ctx())
        group.add_rules([http])
        assert sorted(self.tasks.refresh_security_group(_ctx(), group.id)) == ["host-a", "host-b"]

        # --- delete everything --------------------------------------------------------------
        for vm in (vm_a, vm_b):
            ctx = _ctx()
            self.compute.terminate_instance(ctx, vm)
            self.wait_action(ctx, vm.uuid)
        store.delete(volume.id)
        self.check_rows()

    def check_rows(self) -> None:
        """Nothing lost, nothing half-written: every instance of the round deleted
        cleanly with its description, its actions finished without error, its
        migrations completed, no mapping left, both hosts' usage back to zero."""
        for instance_uuid in self.made:
            gone = Instance.get_by_uuid(_ctx(), instance_uuid)
            assert gone.deleted and gone.vm_state is VmState.DELETED and gone.task_state is None
            assert gone.description is not None and self.label in gone.description
            actions = InstanceActionList.get_by_instance_uuid(_ctx(), instance_uuid).objects
            assert actions and all(a.finish_time is not None for a in actions)
            assert all(a.message is None for a in actions), [a.message for a in actions]
            migrations = MigrationList.get_by_instance(_ctx(), instance_uuid).objects
            assert all(m.status is MigrationStatus.COMPLETED for m in migrations)
            assert (
                BlockDeviceMappingList.get_by_instance_uuid(_ctx(), instance_uuid).volumes() == []
            )
        assert InstanceList.get_all(_ctx(), uuids=self.made).objects == []
        assert _usage() == self.usage_before, "the hosts' usage is not back where it was"


def _usage() -> dict[str, tuple[int, int, int]]:
    """Each host's (RAM used, vCPUs used, running guests)."""
    usage = {}
    for host in ("host-a", "host-b"):
        node = ComputeNode.get_by_host(_ctx(), host)
        usage[host] = (node.memory_mb_used, node.vcpus_used, node.running_vms)
    return usage


def _metrics(fleet: Fleet) -> dict[str, dict[str, int]]:
    return {
        "conductor": get_metrics(fleet.transport, _ctx(), "conductor"),
        "host-b": get_metrics(fleet.transport, _ctx(), "compute", server="host-b"),
    }


def _delta(before: dict[str, int], after: dict[str, int], name: str) -> int:
    return after.get(name, 0) - before.get(name, 0)


def test_rolling_upgrade_from_release_0_1(fleet: Fleet) -> None:
    # --- release 0.1 everywhere, its schema made by its own `cumulo db sync` -----------------
    fleet.run_old("-m", "cumulo", "db", "sync", "--database-url", fleet.database_url)
    fleet.start_conductor(current=False)
    for host in ("host-a", "host-b"):
        fleet.start_compute(host, current=False)
    old_a = _old_boot(fleet, "host-a", "old-a")

    # --- expand the schema under the running 0.1 conductor -----------------------------------
    fleet.run_current("db", "sync", "--database-url", fleet.database_url)
    # The 0.1 conductor keeps working on the expanded schema (it writes rows without
    # the new columns).
    old_b = _old_boot(fleet, "host-b", "old-b")

    # --- conductor first: the current one replaces the 0.1 one, the computes keep running ---
    fleet.processes.stop_one("conductor (0.1)")
    fleet.start_conductor(current=True)
    with storage_on(make_url(fleet.database_url)):
        _after_the_conductor(fleet, old_a, old_b)


def _old_boot(fleet: Fleet, host: str, name: str) -> uuid.UUID:
    """Boot an instance through release 0.1's own client (for a 0.1 conductor)."""
    out = fleet.run_old(str(OLD_CLIENT), fleet.transport_url, "boot", host, name)
    return uuid.UUID(out.strip())


def _after_the_conductor(fleet: Fleet, old_a: uuid.UUID, old_b: uuid.UUID) -> None:
    conductor = Service.get_by_host_and_binary(_ctx(), "conductor", ServiceBinary.CONDUCTOR)
    assert (conductor.version, conductor.rpc_api_version) == (SERVICE_VERSION, "1.0")
    for host in ("host-a", "host-b"):
        row = Service.get_by_host_and_binary(_ctx(), host, ServiceBinary.COMPUTE)
        assert (row.version, row.rpc_api_version, row.object_manifest["Instance"]) == (
            1,
            "1.0",
            "1.0",
        )
    assert "minimum compute level: 1 -> compute RPC pin 1.0" in _upgrade_check(fleet)
    mover = Workload(fleet, "moves")
    try:
        # The guests booted under 0.1 still run, and are served by the new conductor.
        guests = {u: mover.instance(u) for u in (old_a, old_b)}
        for vm in guests.values():
            assert vm.vm_state is VmState.ACTIVE and vm.description is None
            assert mover.compute.get_diagnostics(_ctx(), vm).state is PowerState.RUNNING
        # --- computes one at a time: host-b first, its guest moved away (0.1 -> 0.1) --------
        guests[old_b] = mover.live_migrate(guests[old_b], "host-a")
        fleet.processes.stop_one("host-b (0.1)")
        fleet.start_compute("host-b", current=True)
        host_b = Service.get_by_host_and_binary(_ctx(), "host-b", ServiceBinary.COMPUTE)
        assert (host_b.version, host_b.rpc_api_version) == (SERVICE_VERSION, "1.1")

        # --- the mixed round: host-a on 0.1 beside the current conductor and host-b -------
        before = _metrics(fleet)
        mixed = Workload(fleet, "mixed")
        try:
            mixed.run(host_a_current=False)
            # An API that has not learnt the pins sends the current Instance as it is:
            # host-a cannot read it and has the conductor backport it (receiver side).
            stale = ComputeAPI(fleet.transport, timeout=20, extra_exceptions=peer_exceptions())
            try:
                vm = guests[old_a]
                assert stale.get_diagnostics(_ctx(), vm).state is PowerState.RUNNING
            finally:
                stale.close()
        finally:
            mixed.close()
        after = _metrics(fleet)
        # The conductor backlevelled what it sent to host-a (builds, migrations,
        # refreshes) and sent host-a's classmethod results back at 0.1's versions...
        assert _delta(before["conductor"], after["conductor"], "rpc.sender_backlevels") > 0
        assert _delta(before["conductor"], after["conductor"], "conductor.result_backports") > 0
        # ...host-b backlevelled what it sent to host-a during the migrations...
        assert _delta(before["host-b"], after["host-b"], "rpc.sender_backlevels") > 0
        # ...and host-a had the conductor backport what it could not read: host-b's
        # LiveMigrateData replies, and the stale API's Instance.
        assert _delta(before["conductor"], after["conductor"], "conductor.backports_served") >= 2

        # --- host-a last: its guests moved to host-b (0.1 -> current), then upgraded ------
        for instance_uuid in (old_a, old_b):
            guests[instance_uuid] = mover.live_migrate(guests[instance_uuid], "host-b")
        fleet.processes.stop_one("host-a (0.1)")
        fleet.start_compute("host-a", current=True)
        upgraded = Service.get_by_host_and_binary(_ctx(), "host-a", ServiceBinary.COMPUTE)
        assert (upgraded.version, upgraded.rpc_api_version) == (SERVICE_VERSION, "1.1")
        assert "no pin: every compute runs this level" in _upgrade_check(fleet)

        # --- every service current: the pin lifted, no backport at all --------------------
        # The conductor's and host-b's cached service levels (--pin-refresh 0.5) expire.
        time.sleep(1.0)
        before = _metrics(fleet)
        current = Workload(fleet, "upgraded")
        try:
            current.run(host_a_current=True)
            # The pre-upgrade guests move once more, between two current hosts.
            guests[old_a] = current.live_migrate(guests[old_a], "host-a")
        finally:
            current.close()
        after = _metrics(fleet)
        for service in ("conductor", "host-b"):
            for name in (*BACKPORT_COUNTERS, "conductor.backports_served"):
                assert _delta(before[service], after[service], name) == 0, (service, name)

        # --- the pre-upgrade guests are deleted like any other -----------------------------
        for vm in guests.values():
            ctx = _ctx()
            mover.compute.terminate_instance(ctx, vm)
            mover.wait_action(ctx, vm.uuid)
            gone = Instance.get_by_uuid(_ctx(), vm.uuid)
            assert gone.deleted and gone.vm_state is VmState.DELETED and gone.task_state is None
        assert _usage() == {"host-a": (0, 0, 0), "host-b": (0, 0, 0)}
    finally:
        mover.close()


def _upgrade_check(fleet: Fleet) -> str:
    """``cumulo upgrade check`` on the database (it must pass: level 1 is supported)."""
    return fleet.run_current("upgrade", "check", "--database-url", fleet.database_url)


# --- real QEMU guests live-migrated between releases ---------------------------------------


def test_qemu_live_migration_between_release_0_1_and_current(
    rabbitmq_fresh_vhost_url: str, tmp_path: Path, release_0_1: Path
) -> None:
    """A real guest (the probe boot sector, under QEMU) boots on a 0.1 host, moves to
    a current host and back, and keeps running: the 0.1 source reads only
    ``target_connect_addr``, the current destination fills the new port fields too,
    and the current source falls back to ``target_connect_addr`` from a 0.1
    destination. Block migration: the hosts' instance directories are their own."""
    database = f"sqlite:///{tmp_path / 'cumulo.db'}"
    sync(database)
    image_ref = str(uuid.uuid4())
    write_probe_guest_image(tmp_path / "images" / image_ref)
    processes = Processes()
    fleet = Fleet(
        processes,
        get_transport(rabbitmq_fresh_vhost_url),
        rabbitmq_fresh_vhost_url,
        database,
        tmp_path,
        VolumeStore(tmp_path / "volumes"),
        release_0_1,
    )
    try:
        fleet.start_conductor(current=True)
        fleet.start_compute("qemu-a", current=False, driver="qemu")
        fleet.start_compute("qemu-b", current=True, driver="qemu")
        with storage_on(make_url(database)):
            _migrate_qemu_guest_across_releases(fleet, image_ref)
    finally:
        # Release 0.1's QMP client connected before QEMU made its socket, and the QMP
        # library logs each refused try as an error (fixed in 0.2).
        processes.stop_and_check_logs(
            tolerate=lambda name, line: name.endswith("(0.1)") and QMP_SOCKET_NOT_YET in line
        )


def _console_on_a(fleet: Fleet, instance_uuid: uuid.UUID) -> str:
    """The 0.1 host serves no console output: read its guest's log file."""
    log = fleet.work / "qemu-a" / "instances" / str(instance_uuid) / "console.log"
    return log.read_text(errors="replace") if log.exists() else ""


def _migrate_qemu_guest_across_releases(fleet: Fleet, image_ref: str) -> None:
    workload = Workload(fleet, "qemu")
    try:
        flavor = Flavor(flavorid="q.tiny", name="q.tiny", memory_mb=64, vcpus=1, root_gb=1)
        flavor.obj_set_context(_ctx())
        flavor.create()
        template = Instance(
            uuid=uuid.uuid4(),
            user_id="alice",
            project_id="p1",
            display_name="probe",
            image_ref=image_ref,
            flavor=flavor,
            description="a real guest crossing releases",
        )
        ctx = _ctx()
        (built,) = workload.tasks.build_instances(ctx, [template], requested_host="qemu-a")
        workload.wait_action(ctx, built.uuid)
        vm = workload.instance(built.uuid)
        assert (vm.host, vm.vm_state, vm.power_state) == (
            "qemu-a",
            VmState.ACTIVE,
            PowerState.RUNNING,
        )
        # The guest has booted (firmware done) and ticks on host-a's console.
        wait_for(
            lambda: (
                GUEST_BOOT_MARKER in (out := _console_on_a(fleet, vm.uuid))
                and out.rstrip().endswith(GUEST_TICK * 2)
            ),
            "the guest on qemu-a (0.1) to boot and tick",
            timeout=60,
        )

        # 0.1 source -> current destination.
        vm = workload.live_migrate(vm, "qemu-b", counters_move=False)
        # The same guest goes on ticking on qemu-b: no second boot.
        console_b = wait_for(
            lambda: (
                (out := workload.compute.get_console_output(_ctx(), vm)).count(GUEST_TICK) >= 3
                and out
            ),
            "the guest to tick on qemu-b",
            timeout=30,
        )
        assert GUEST_BOOT_MARKER not in console_b
        assert not (fleet.work / "qemu-a" / "instances" / str(vm.uuid)).exists()

        # current source -> 0.1 destination.
        vm = workload.live_migrate(vm, "qemu-a", counters_move=False)
        console_a = wait_for(
            lambda: (out := _console_on_a(fleet, vm.uuid)).count(GUEST_TICK) >= 3 and out,
            "the guest to tick on qemu-a again",
            timeout=30,
        )
        assert GUEST_BOOT_MARKER not in console_a
        with pytest.raises(ComputeTooOld, match="cannot show a console output"):
            workload.compute.get_console_output(_ctx(), vm)

        ctx = _ctx()
        workload.compute.terminate_instance(ctx, vm)
        workload.wait_action(ctx, vm.uuid)
        gone = Instance.get_by_uuid(_ctx(), vm.uuid)
        assert gone.deleted and gone.vm_state is VmState.DELETED
        assert gone.description == template.description
        assert [m.status for m in MigrationList.get_by_instance(_ctx(), vm.uuid).objects] == [
            MigrationStatus.COMPLETED,
            MigrationStatus.COMPLETED,
        ]
        assert not (fleet.work / "qemu-a" / "instances" / str(vm.uuid)).exists()
    finally:
        workload.close()
