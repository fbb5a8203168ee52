"""Our grenade, as a matrix: the current control plane with compute hosts on release
0.1 (N-2), release 0.2 (N-1) and the current code at the same time, each rebuilt
from its recorded commit and run as its own OS process, over RabbitMQ, with
PostgreSQL (and again MariaDB).

1. Release 0.1 everywhere: its own ``cumulo db sync``, conductor, host-a, host-b and
   host-c; guests booted through 0.1's client.
2. The schema is expanded by the current ``cumulo db sync`` under the running 0.1
   conductor, which goes on working (another guest is booted after it).
3. Conductor first: the current conductor replaces the 0.1 one; the old guests
   still run and are served.
4. host-b and host-c are emptied (0.1 -> 0.1 live migrations) and restarted, host-b
   on release 0.2 and host-c on the current code. ``cumulo upgrade check`` names
   host-a N-2 and host-b N-1, what each cannot do and the release that drops it.
5. The matrix round: boot on each host, attach and detach a volume on each,
   diagnostics, live migration between every pair of hosts in both directions,
   file injection, a security refresh fanned out to all three, delete. What a
   host's release cannot do (a read-only attach on 0.1, a tagged attach on 0.1 and
   0.2, a console output on 0.1) is refused before sending with an error naming
   the host and its release. Backlevels and backports are counted per peer level:
   the conductor and host-c backlevel to level 1 and to level 2, host-b (0.2)
   backlevels to level 1, and the conductor backports for both old levels.
6. The skew policy (N-2) lets a compute jump from any supported release straight
   to this one: host-a goes 0.1 -> current and host-b 0.2 -> current, each emptied
   and upgraded in place; ``upgrade check`` says the pin is lifted, and the round
   repeats with every request allowed and no backlevel or backport at all. The
   guests from step 1 move once more and are deleted; every host ends at zero.

A second test live-migrates a real QEMU guest between a 0.1, a 0.2 and a current
host (the live-migration data's port fields and their 0.1 fallback), checking on
its console that it never rebooted.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from itertools import permutations
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url

from cumulo.compute.exceptions import ComputeTooOld
from cumulo.compute.manager import peer_client, peer_exceptions
from cumulo.compute.rpcapi import ComputeAPI
from cumulo.compute.version import SERVICE_VERSION, SERVICE_VERSION_HISTORY
from cumulo.conductor.tasks_api import ComputeTaskAPI
from cumulo.db import sync
from cumulo.image import add_image
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
from tests.integration.test_identity_api import start_cloud
from tests.support.databases import server_database, storage_on
from upgrade.releases import ReleaseUnavailable, materialize, release, release_env

pytestmark = pytest.mark.integration

OLD_CLIENT = Path(__file__).with_name("old_release_client.py")
IMAGE = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2"
QMP_SOCKET_NOT_YET = (
    '"logger": "qemu.qmp.protocol", "msg": "Failed to establish connection: '
    "FileNotFoundError: [Errno 2] No such file or directory"
)
OLD_RELEASES = ("0.1", "0.2")
HOSTS = ("host-a", "host-b", "host-c")
LEVEL = {"0.1": 1, "0.2": 2, None: SERVICE_VERSION}
"""Service level by release (``None``: the current code)."""
COUNTERS = (
    "rpc.sender_backlevels",
    "conductor.result_backports",
    "conductor.backports_served",
    "rpc.object_backports",
)

Releases = Mapping[str, str | None]
"""Each host's release (``None``: the current code)."""


def _ctx() -> RequestContext:
    return RequestContext(user_id="alice", project_id="p1", roles=["member"])


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each old release's ``cumulo`` package, rebuilt from its recorded commit (or archive)."""
    built = {}
    for name in OLD_RELEASES:
        try:
            built[name] = materialize(name, tmp_path_factory.mktemp(f"release-{name}"))
        except ReleaseUnavailable as exc:
            pytest.fail(f"cannot rebuild release {name}: {exc}", pytrace=False)
    return built


@pytest.fixture(params=["postgresql", "mariadb"])
def database_url(request: pytest.FixtureRequest) -> Iterator[URL]:
    """An empty throwaway database: release 0.1 creates its schema."""
    with server_database(request.param, "_upgrade") as url:
        yield url


@pytest.fixture
def fleet(
    rabbitmq_fresh_vhost_url: str, database_url: URL, tmp_path: Path, trees: dict[str, Path]
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
        trees,
    )
    try:
        yield fleet
    finally:
        processes.stop_and_check_logs()


@pytest.mark.parametrize("name", OLD_RELEASES)
def test_each_old_release_is_really_the_old_code(
    name: str, trees: dict[str, Path], tmp_path: Path
) -> None:
    # The child imports the extracted tree, not this checkout, at that release's level.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import cumulo, cumulo.compute.version as v, cumulo.model as m;"
            "print(cumulo.__file__, cumulo.__version__, v.SERVICE_VERSION, m.Instance.VERSION)",
        ],
        env=release_env(trees[name]),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    where, version, level, instance_version = done.stdout.split()
    assert Path(where).is_relative_to(trees[name])
    assert version.startswith(name)
    assert int(level) == release(name).service_version == LEVEL[name] < SERVICE_VERSION
    assert instance_version == SERVICE_VERSION_HISTORY[int(level)].object_manifest["Instance"]
    assert instance_version != Instance.VERSION


class Workload:
    """The grenade workload; ``label`` tags everything it makes."""

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
            access_ip_v4=ipaddress.IPv4Address("203.0.113.10"),
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
        # An old host never saw the newer fields; they are still in the row.
        assert vm.description == template.description
        assert vm.access_ip_v4 == template.access_ip_v4
        assert vm.reservation_id is not None and vm.launch_index == 0
        return vm

    def live_migrate(self, vm: Instance, dest: str, *, counters_move: bool = True) -> Instance:
        source = vm.host
        before = self.compute.get_diagnostics(_ctx(), vm)
        migration = self.tasks.live_migrate_instance(_ctx(), vm.uuid, dest, block_migration=True)
        assert migration.status is MigrationStatus.COMPLETED, (source, dest)
        assert (migration.source_compute, migration.dest_compute) == (source, dest)
        moved = self.instance(vm.uuid)
        assert (moved.host, moved.node, moved.vm_state, moved.task_state) == (
            dest,
            dest,
            VmState.ACTIVE,
            None,
        )
        assert (moved.description, moved.access_ip_v4) == (vm.description, vm.access_ip_v4)
        after = self.compute.get_diagnostics(_ctx(), moved)
        assert after.state is PowerState.RUNNING
        if counters_move:  # (a fake guest's counters travel; QEMU's restart at zero)
            assert after.disk_details[0].read_bytes >= before.disk_details[0].read_bytes
        return moved

    def volumes_on(self, vm: Instance, releases: Releases) -> None:
        """Attach and detach a volume on ``vm``'s host, then what its release allows
        of the newer attaches and the console; the rest is refused, touching nothing."""
        host = vm.host
        assert host is not None
        level = LEVEL[releases[host]]
        store = self.fleet.store
        volume = store.create(1, f"data-{self.label}-{host}", project_id="p1")

        def mappings() -> list[object]:
            return list(BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm.uuid).volumes())

        bdm = self.compute.attach_volume(_ctx(), vm, volume.id)
        assert bdm.volume_id == volume.id and not bdm.read_only
        (stored,) = BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm.uuid).volumes()
        assert (stored.volume_id, stored.device_name, stored.read_only) == (
            volume.id,
            bdm.device_name,
            False,
        )
        assert stored.connection_info is not None
        assert store.get(volume.id).status is VolumeStatus.IN_USE
        disks = [d.device for d in self.compute.get_diagnostics(_ctx(), vm).disk_details]
        assert disks == ["vda", "vdb"]
        self.compute.detach_volume(_ctx(), vm, volume.id)
        assert mappings() == []
        assert store.get(volume.id).status is VolumeStatus.AVAILABLE

        named = rf"compute {host} \(release {releases[host]}\) speaks"
        if level >= 2:
            ro = self.compute.attach_volume(_ctx(), vm, volume.id, read_only=True)
            (stored,) = BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm.uuid).volumes()
            assert stored.read_only and ro.read_only
            assert stored.connection_info is not None
            assert stored.connection_info.access_mode is AccessMode.READ_ONLY
            self.compute.detach_volume(_ctx(), vm, volume.id)
            assert str(vm.uuid) in self.compute.get_console_output(_ctx(), vm)
        else:
            with pytest.raises(ComputeTooOld, match=rf"{named} compute RPC 1\.0 .* read-only"):
                self.compute.attach_volume(_ctx(), vm, volume.id, read_only=True)
            with pytest.raises(ComputeTooOld, match=rf"{named} .* show a console output"):
                self.compute.get_console_output(_ctx(), vm)
        if level >= 3:
            tagged = self.compute.attach_volume(
                _ctx(), vm, volume.id, tag="data", delete_on_termination=False
            )
            (stored,) = BlockDeviceMappingList.get_by_instance_uuid(_ctx(), vm.uuid).volumes()
            assert (tagged.tag, stored.tag) == ("data", "data")
            self.compute.detach_volume(_ctx(), vm, volume.id)
        else:
            with pytest.raises(ComputeTooOld, match=rf"{named} .* with a device tag"):
                self.compute.attach_volume(_ctx(), vm, volume.id, tag="data")
        # Refused before anything was sent: no mapping, the volume untouched.
        assert mappings() == []
        assert store.get(volume.id).status is VolumeStatus.AVAILABLE
        store.delete(volume.id)

    def run(self, releases: Releases) -> None:
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

        # --- boot on each host; volumes and what each release can do ---------------------
        vms = {host: self.boot(host, flavor, group) for host in HOSTS}
        for vm in vms.values():
            self.volumes_on(vm, releases)

        # --- diagnostics on each --------------------------------------------------------------
        for vm in vms.values():
            diag = self.compute.get_diagnostics(_ctx(), vm)
            assert diag.state is PowerState.RUNNING and diag.driver == "fake"
            assert diag.num_cpus == 1 and diag.memory_details.maximum == 1024

        # --- live migration between every pair, both directions ------------------------------
        # Each guest goes to another host and comes back, so every ordered pair is walked.
        moved: list[tuple[str, str]] = []
        for source, dest in permutations(HOSTS, 2):
            if (dest, source) in moved:
                continue
            vm = self.live_migrate(vms[source], dest)
            vms[source] = self.live_migrate(vm, source)
            moved += [(source, dest), (dest, source)]
        assert sorted(moved) == sorted(permutations(HOSTS, 2))

        # --- inject a file into each guest -----------------------------------------------------
        for vm in vms.values():
            ctx = _ctx()
            motd = InjectedFile.of("/etc/motd", f"{self.label}\n".encode())
            self.compute.inject_file(ctx, vm, motd)
            self.wait_action(ctx, vm.uuid)

        # --- refresh security rules ------------------------------------------------------------
        http = SecurityGroupRule(
            protocol=Protocol.TCP,
            from_port=80,
            to_port=80,
            cidr=ipaddress.ip_network("0.0.0.0/0"),
            direction=Direction.INGRESS,
        )
        group.obj_set_context(_ctx())
        group.add_rules([http])
        assert sorted(self.tasks.refresh_security_group(_ctx(), group.id)) == list(HOSTS)

        # --- delete everything -----------------------------------------------------------------
        for vm in vms.values():
            ctx = _ctx()
            self.compute.terminate_instance(ctx, vm)
            self.wait_action(ctx, vm.uuid)
        self.check_rows()

    def check_rows(self) -> None:
        """Nothing lost, nothing half-written: every instance of the round deleted
        cleanly with its description, its actions finished without error, its
        migrations completed, no mapping left, every host's usage back where it was."""
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


def _through_the_api(fleet: Fleet, guests: Mapping[str, Instance]) -> None:
    """The current API (a real ``cumulo api`` process) in front of the mixed fleet:
    the old guests listed and shown, power actions on a 0.1 host, a server booted on
    the 0.1 host and deleted; what host-a's release cannot do (console output) a 409
    naming the host and its release, from the real ``openstack`` CLI."""
    images = fleet.work / "api-images"
    images.mkdir()
    (images / "disk.partial").write_bytes(b"\0" * 65536)
    add_image(images, "cirros", images / "disk.partial", image_id=IMAGE)
    cloud = start_cloud(
        fleet.processes,
        fleet.work / "api",
        fleet.database_url,
        (
            "--transport-url",
            fleet.transport_url,
            "--volume-dir",
            str(fleet.store.root),
            "--images-dir",
            str(images),
        ),
    )
    everyone = cloud.openstack_json("server", "list", "--all-projects", "--long")
    listed = {s["ID"]: s for s in everyone}
    for vm in guests.values():
        assert listed[str(vm.uuid)]["Status"] == "ACTIVE"
        assert listed[str(vm.uuid)]["Host"] == vm.host
    on_a = next(vm for vm in guests.values() if vm.host == "host-a")
    refused = cloud.openstack("console", "log", "show", str(on_a.uuid), ok=False)
    assert refused.returncode != 0
    assert "compute host host-a (release 0.1) cannot" in refused.stderr, refused.stderr
    assert "409" in refused.stderr, refused.stderr
    cloud.openstack("server", "stop", str(on_a.uuid))
    wait_for(
        lambda: cloud.openstack_json("server", "show", str(on_a.uuid))["status"] == "SHUTOFF",
        "the 0.1 host to stop its guest",
    )
    cloud.openstack("server", "start", str(on_a.uuid))
    wait_for(
        lambda: cloud.openstack_json("server", "show", str(on_a.uuid))["status"] == "ACTIVE",
        "the 0.1 host to start its guest",
    )
    # A server booted through the API onto the 0.1 host (an admin's forced host).
    sdk = cloud.sdk()
    flavor = sdk.compute.create_flavor(name="api.tiny", ram=256, vcpus=1, disk=1)
    server = sdk.compute.create_server(
        name="api-on-0.1",
        flavor_id=flavor.id,
        image_id=IMAGE,
        networks="none",
        availability_zone="nova:host-a",
    )
    server = sdk.compute.wait_for_server(server, status="ACTIVE", wait=60)
    assert server.compute_host == "host-a"
    sdk.compute.delete_server(server)
    sdk.compute.wait_for_delete(server, wait=60)
    fleet.processes.stop_one("api")


def _usage() -> dict[str, tuple[int, int, int]]:
    """Each host's (RAM used, vCPUs used, running guests)."""
    usage = {}
    for host in HOSTS:
        node = ComputeNode.get_by_host(_ctx(), host)
        usage[host] = (node.memory_mb_used, node.vcpus_used, node.running_vms)
    return usage


def _metrics(fleet: Fleet, services: Mapping[str, str | None]) -> dict[str, dict[str, int]]:
    """The counters of the conductor and of each compute named in ``services`` whose
    release has an ``admin`` endpoint (0.1 has none)."""
    found = {"conductor": get_metrics(fleet.transport, _ctx(), "conductor")}
    for host, rel in services.items():
        if rel != "0.1":
            found[host] = get_metrics(fleet.transport, _ctx(), "compute", server=host)
    return found


def _delta(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], service: str, name: str
) -> int:
    return after[service].get(name, 0) - before[service].get(name, 0)


def _old_boot(fleet: Fleet, host: str, name: str) -> uuid.UUID:
    """Boot an instance through release 0.1's own client (for a 0.1 conductor)."""
    out = fleet.run_release("0.1", str(OLD_CLIENT), fleet.transport_url, "boot", host, name)
    return uuid.UUID(out.strip())


def _upgrade_check(fleet: Fleet) -> str:
    """``cumulo upgrade check`` on the database (it must pass: 0.1 and 0.2 are served)."""
    return fleet.run_current("upgrade", "check", "--database-url", fleet.database_url)


def _compute_row(host: str) -> Service:
    return Service.get_by_host_and_binary(_ctx(), host, ServiceBinary.COMPUTE)


def test_rolling_upgrade_matrix_of_three_releases(fleet: Fleet) -> None:
    # --- release 0.1 everywhere, its schema made by its own `cumulo db sync` -----------------
    fleet.run_release("0.1", "-m", "cumulo", "db", "sync", "--database-url", fleet.database_url)
    fleet.start_conductor(release="0.1")
    for host in HOSTS:
        fleet.start_compute(host, release="0.1")
    old = {
        "old-a": _old_boot(fleet, "host-a", "old-a"),
        "old-c": _old_boot(fleet, "host-c", "old-c"),
    }

    # --- expand the schema (0.1 -> 0.3, 0.2's migrations included) under the 0.1 conductor --
    fleet.run_current("db", "sync", "--database-url", fleet.database_url)
    old["old-b"] = _old_boot(fleet, "host-b", "old-b")  # the 0.1 conductor keeps working

    # --- conductor first: the current one replaces the 0.1 one, the computes keep running ---
    fleet.processes.stop_one("conductor (0.1)")
    fleet.start_conductor()
    with storage_on(make_url(fleet.database_url)):
        _after_the_conductor(fleet, old)


def _after_the_conductor(fleet: Fleet, old: dict[str, uuid.UUID]) -> None:
    conductor = Service.get_by_host_and_binary(_ctx(), "conductor", ServiceBinary.CONDUCTOR)
    assert (conductor.version, conductor.rpc_api_version) == (SERVICE_VERSION, "1.0")
    for host in HOSTS:
        row = _compute_row(host)
        assert (row.version, row.rpc_api_version, row.object_manifest["Instance"]) == (
            1,
            "1.0",
            "1.0",
        )
    mover = Workload(fleet, "moves")
    try:
        # The guests booted under 0.1 still run, and are served by the new conductor.
        guests = {u: mover.instance(u) for u in old.values()}
        for vm in guests.values():
            assert vm.vm_state is VmState.ACTIVE and vm.description is None
            assert mover.compute.get_diagnostics(_ctx(), vm).state is PowerState.RUNNING

        # --- host-b to release 0.2 and host-c to the current code, each emptied first ------
        for host, rel in (("host-b", "0.2"), ("host-c", None)):
            for key, vm in guests.items():
                if vm.host == host:
                    guests[key] = mover.live_migrate(vm, "host-a")  # 0.1 -> 0.1
            fleet.processes.stop_one(f"{host} (0.1)")
            fleet.start_compute(host, release=rel)
            row = _compute_row(host)
            assert (row.version, row.rpc_api_version) == (
                LEVEL[rel],
                SERVICE_VERSION_HISTORY[LEVEL[rel]].compute_rpc,
            )
        check = _upgrade_check(fleet)
        print(f"\n--- cumulo upgrade check, mixed fleet ---\n{check}")
        assert "minimum compute level: 1 -> compute RPC pin 1.0" in check
        assert (
            "  host-a: level 1 (release 0.1), N-2: supported; release 0.4 (level 4) will refuse it"
        ) in check
        assert (
            "  host-b: level 2 (release 0.2), N-1: supported; release 0.5 (level 5) will refuse it"
        ) in check
        assert "warning: compute host-a runs release 0.1, the oldest this release serves" in check
        assert check.endswith("result: OK\n")

        # --- the matrix round: 0.1, 0.2 and current side by side ---------------------------
        releases: Releases = {"host-a": "0.1", "host-b": "0.2", "host-c": None}
        time.sleep(1.0)  # every cached service level (--pin-refresh 0.5) has expired
        before = _metrics(fleet, releases)
        mixed = Workload(fleet, "mixed")
        try:
            mixed.run(releases)
            _through_the_api(fleet, guests)
            # An API that has not learnt the pins sends the current Instance as it is:
            # the old hosts cannot read it and have the conductor backport it.
            stale = ComputeAPI(fleet.transport, timeout=20, extra_exceptions=peer_exceptions())
            try:
                for vm in guests.values():  # all on host-a (0.1)
                    assert stale.get_diagnostics(_ctx(), vm).state is PowerState.RUNNING
                on_b = mover.live_migrate(next(iter(guests.values())), "host-b")
                guests[on_b.uuid] = on_b
                assert stale.get_diagnostics(_ctx(), on_b).state is PowerState.RUNNING
            finally:
                stale.close()
        finally:
            mixed.close()
        after = _metrics(fleet, releases)
        counted = {
            (service, name): _delta(before, after, service, name)
            for service in after
            for name in after[service]
            if name.startswith(COUNTERS)
        }
        print(f"--- counters moved in the matrix round ---\n{counted}")

        def moved(service: str, name: str) -> int:
            return counted.get((service, name), 0)

        # The conductor backlevelled what it sent to each old level (builds, migration
        # steps, refreshes) and sent classmethod results back at each one's versions...
        for peer in ("level_1", "level_2"):
            assert moved("conductor", f"rpc.sender_backlevels.{peer}") > 0, peer
            assert moved("conductor", f"conductor.result_backports.{peer}") > 0, peer
        # ...the current host backlevelled to both old levels during the migrations, and
        # the 0.2 host (whose counter has no per-peer labels yet) to 0.1...
        for peer in ("level_1", "level_2"):
            assert moved("host-c", f"rpc.sender_backlevels.{peer}") > 0, peer
        assert moved("host-c", f"rpc.sender_backlevels.level_{SERVICE_VERSION}") == 0
        assert moved("host-b", "rpc.sender_backlevels") > 0
        # ...and both old hosts had the conductor backport the stale API's Instance.
        for peer in ("level_1", "level_2"):
            assert moved("conductor", f"conductor.backports_served.{peer}") >= 1, peer
        assert moved("host-b", "rpc.object_backports") >= 1

        # --- in place, straight to the current code: host-a from 0.1, host-b from 0.2 -------
        for host, rel in (("host-a", "0.1"), ("host-b", "0.2")):
            for key, vm in guests.items():
                if vm.host == host:
                    guests[key] = mover.live_migrate(vm, "host-c")  # old -> current
            fleet.processes.stop_one(f"{host} ({rel})")
            fleet.start_compute(host)
            row = _compute_row(host)
            assert (row.version, row.rpc_api_version) == (SERVICE_VERSION, "1.2")
        check = _upgrade_check(fleet)
        assert "no pin: every compute runs this level" in check
        assert "computes behind this code" not in check and "warning" not in check

        # --- every service current: the pin lifted, every request allowed, no backport ------
        current: Releases = dict.fromkeys(HOSTS)
        time.sleep(1.0)
        before = _metrics(fleet, current)
        upgraded = Workload(fleet, "upgraded")
        try:
            upgraded.run(current)
            # The pre-upgrade guests move once more, between current hosts.
            for key, vm in guests.items():
                guests[key] = upgraded.live_migrate(vm, "host-a")
        finally:
            upgraded.close()
        after = _metrics(fleet, current)
        for service in after:
            for name in after[service]:
                if name.startswith(COUNTERS):
                    assert _delta(before, after, service, name) == 0, (service, name)

        # --- the pre-upgrade guests are deleted like any other -----------------------------
        for vm in guests.values():
            ctx = _ctx()
            mover.compute.terminate_instance(ctx, vm)
            mover.wait_action(ctx, vm.uuid)
            gone = Instance.get_by_uuid(_ctx(), vm.uuid)
            assert gone.deleted and gone.vm_state is VmState.DELETED and gone.task_state is None
        assert _usage() == dict.fromkeys(HOSTS, (0, 0, 0))
    finally:
        mover.close()


# --- real QEMU guests live-migrated between releases ---------------------------------------


def test_qemu_live_migration_across_three_releases(
    rabbitmq_fresh_vhost_url: str, tmp_path: Path, trees: dict[str, Path]
) -> None:
    """A real guest (the probe boot sector, under QEMU) boots on a 0.1 host and moves
    0.1 -> current -> 0.2 -> current -> 0.1, ticking all along: the 0.1 source reads
    only ``target_connect_addr``, a current destination fills the port fields too,
    a 0.2 host reads and fills them, and a current source falls back to
    ``target_connect_addr`` from a 0.1 destination. Block migration: the hosts'
    instance directories are their own."""
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
        trees,
    )
    try:
        fleet.start_conductor()
        fleet.start_compute("qemu-a", release="0.1", driver="qemu")
        fleet.start_compute("qemu-b", release="0.2", driver="qemu")
        fleet.start_compute("qemu-c", driver="qemu")
        with storage_on(make_url(database)):
            _migrate_qemu_guest_across_releases(fleet, image_ref)
    finally:
        # Release 0.1's QMP client connected before QEMU made its socket, and the QMP
        # library logs each refused try as an error (fixed in 0.2).
        processes.stop_and_check_logs(
            tolerate=lambda name, line: name.endswith("(0.1)") and QMP_SOCKET_NOT_YET in line
        )


def _console(fleet: Fleet, workload: Workload, vm: Instance) -> str:
    """The guest's console: asked of its host, or read from the 0.1 host's log file
    (0.1 serves no console output)."""
    if vm.host != "qemu-a":
        return workload.compute.get_console_output(_ctx(), vm)
    log = fleet.work / "qemu-a" / "instances" / str(vm.uuid) / "console.log"
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
        # The guest has booted (firmware done) and ticks on qemu-a's console.
        wait_for(
            lambda: (
                GUEST_BOOT_MARKER in (out := _console(fleet, workload, vm))
                and out.rstrip().endswith(GUEST_TICK * 2)
            ),
            "the guest on qemu-a (0.1) to boot and tick",
            timeout=60,
        )
        path = ["qemu-c", "qemu-b", "qemu-c", "qemu-a"]  # 0.1 -> cur -> 0.2 -> cur -> 0.1
        for dest in path:
            source = vm.host
            vm = workload.live_migrate(vm, dest, counters_move=False)
            console = wait_for(
                lambda vm=vm: (out := _console(fleet, workload, vm)).count(GUEST_TICK) >= 3 and out,
                f"the guest to tick on {dest} after {source}",
                timeout=30,
            )
            # The same guest goes on ticking: no second boot.
            assert GUEST_BOOT_MARKER not in console, (source, dest)
            assert not (fleet.work / str(source) / "instances" / str(vm.uuid)).exists()
        with pytest.raises(ComputeTooOld, match=r"qemu-a \(release 0\.1\).*console output"):
            workload.compute.get_console_output(_ctx(), vm)

        ctx = _ctx()
        workload.compute.terminate_instance(ctx, vm)
        workload.wait_action(ctx, vm.uuid)
        gone = Instance.get_by_uuid(_ctx(), vm.uuid)
        assert gone.deleted and gone.vm_state is VmState.DELETED
        assert gone.description == template.description
        assert [m.status for m in MigrationList.get_by_instance(_ctx(), vm.uuid).objects] == [
            MigrationStatus.COMPLETED
        ] * len(path)
        assert not (fleet.work / "qemu-a" / "instances" / str(vm.uuid)).exists()
    finally:
        workload.close()
