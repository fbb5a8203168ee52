"""``cumulo demo``: an all-in-one deployment in one process and a scenario a newcomer
can follow.

The deployment: a SQLite file under the state directory, an ``inproc://`` bus, a
conductor serving the object API and the compute tasks, and two compute hosts
(``host-a``, ``host-b``) — fake hypervisors sharing one fake network and one
instance storage pool, or QEMU hosts (``--driver qemu``) each with its own instance
directory — sharing one volume store. Every step goes through the same RPC APIs a
multi-process deployment uses (``ComputeTaskAPI`` to the conductor, ``ComputeAPI``
to the hosts); only the storage is local, as in the embedded deployment.

Each run starts from a fresh state directory (what an earlier run left there is
removed first), so reruns work. The services' JSON logs go to ``demo.log`` in it.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cumulo import logs

from .common import UsageError
from .tables import host_table, render_table, server_table

if TYPE_CHECKING:
    from cumulo.deploy import EmbeddedCloud

DEFAULT_STATE_DIR = Path("var") / "demo"
HOSTS = ("host-a", "host-b")
OWNED = ("cumulo.db", "cumulo.db-journal", "volumes", "instances", "images", "demo.log")
"""What a demo run creates in its state directory (and removes before the next)."""
PROBE_PEER = "198.51.100.7"


class DemoFailed(Exception):
    """A step of the scenario did not do what it should."""


@dataclass
class Step:
    number: int
    total: int
    title: str
    started: float = field(default_factory=time.monotonic)


class Demo:
    """One run of the scenario (see the module docstring)."""

    cloud: EmbeddedCloud
    """The deployment, once :meth:`start` made it."""

    def __init__(self, state_dir: Path, driver: str, out: TextIO) -> None:
        self.state_dir = state_dir
        self.driver_name = driver
        self.out = out
        self.total = 12
        self.step_no = 0
        self.stack: list[Callable[[], None]] = []
        self.drivers: dict[str, Any] = {}
        self.instances: list[Any] = []
        self.migrated: tuple[str, str, str] | None = None

    # --- output ---------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def detail(self, text: str) -> None:
        for line in text.splitlines():
            self.say(f"        {line}")

    @contextmanager
    def step(self, title: str) -> Iterator[Step]:
        self.step_no += 1
        step = Step(self.step_no, self.total, title)
        self.say(f"[{step.number:2d}/{step.total}] {title}")
        try:
            yield step
        except DemoFailed:
            raise
        except Exception as exc:
            raise DemoFailed(f"step {step.number} ({title}): {type(exc).__name__}: {exc}") from exc
        self.say(f"        done in {time.monotonic() - step.started:.2f} s")

    # --- the deployment -------------------------------------------------------------------

    def prepare_state_dir(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for name in OWNED:
            path = self.state_dir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def ctx(self) -> Any:
        return self.cloud.context()

    def start(self) -> None:
        from cumulo.deploy import CloudOptions, EmbeddedCloud

        self.prepare_state_dir()
        log_stream = (self.state_dir / "demo.log").open("a", encoding="utf-8")
        self.stack.append(log_stream.close)
        logs.configure("demo", "info", stream=log_stream)
        self.stack.append(logging.getLogger().handlers.clear)

        url = f"inproc://cumulo-demo-{uuid.uuid4().hex[:8]}"
        options = CloudOptions.under(
            self.state_dir,
            transport_url=url,
            hosts=HOSTS,
            driver=self.driver_name,
            driver_factory=self._qemu_driver if self.driver_name == "qemu" else self._fake_driver(),
            conductor_host="conductor-1",
            compute_timeout=60.0,
            task_timeout=120.0,
            user_id="demo",
            project_id="demo",
        )
        self.cloud = EmbeddedCloud(options, on_teardown_error=self._teardown_failed)
        self.stack.append(self.cloud.stop)
        self.cloud.start()
        self.store = self.cloud.volume_store
        self.compute = self.cloud.compute
        self.tasks = self.cloud.tasks
        self.drivers = dict(self.cloud.drivers)
        self.detail(f"state dir   {self.state_dir}  (fresh; services log to demo.log there)")
        self.detail(f"database    {options.database}")
        self.detail(f"transport   {url}")
        self.detail("conductor   conductor-1 (object API + compute tasks)")
        for host, driver in self.drivers.items():
            self.detail(f"compute     {host}: {self._describe_driver(driver)}")

    def _fake_driver(self) -> Callable[[str], Any]:
        from cumulo.virt.fake import FakeConfig, FakeDriver, FakeHypervisorNetwork

        network = FakeHypervisorNetwork()
        sizes = {"host-a": 12288, "host-b": 16384}

        def make(host: str) -> Any:
            config = FakeConfig(
                vcpus=16, memory_mb=sizes[host], disk_gb=200, storage_pool="demo-shared"
            )
            return FakeDriver(host, config, network=network)

        return make

    def _qemu_driver(self, host: str) -> Any:
        from cumulo.virt.qemu import Accel, FirewallMode, NetworkMode, QemuConfig, QemuDriver

        config = QemuConfig(
            instances_path=self.state_dir / "instances" / host,
            images_path=self.state_dir / "images",
            accel=Accel.AUTO,
            network_mode=NetworkMode.USER,
            firewall=FirewallMode.RENDER,
            vcpus=4,
            memory_mb=1024 if host == "host-a" else 1088,
            disk_gb=20,
        )
        return QemuDriver(host, config)

    @staticmethod
    def _describe_driver(driver: Any) -> str:
        res = driver.get_available_resource()
        text = (
            f"{driver.driver_name} driver, {res.vcpus} vCPU, {res.memory_mb} MiB RAM, "
            f"{res.local_gb} GiB disk"
        )
        if driver.driver_name == "qemu":
            text += f", accel {driver.accel}, instances in {driver.instances_path}"
        return text

    def stop(self) -> None:
        while self.stack:
            undo = self.stack.pop()
            try:
                undo()
            except Exception as exc:  # teardown must go on
                self._teardown_failed(repr(undo), exc)

    def _teardown_failed(self, what: str, exc: Exception) -> None:
        self.say(f"        (teardown: {type(exc).__name__}: {exc})")

    # --- helpers --------------------------------------------------------------------------

    def wait_action(self, ctx: Any, instance_uuid: uuid.UUID, timeout: float = 120.0) -> Any:
        from cumulo.model import InstanceAction, InstanceActionNotFound

        deadline = time.monotonic() + timeout
        while True:
            try:
                action = InstanceAction.get_by_request_id(ctx, instance_uuid, ctx.request_id)
            except InstanceActionNotFound:
                action = None
            if action is not None and action.finish_time is not None:
                if action.message:
                    raise DemoFailed(f"{action.action} of {instance_uuid}: {action.message}")
                return action
            if time.monotonic() > deadline:
                raise DemoFailed(f"request {ctx.request_id} on {instance_uuid} did not finish")
            time.sleep(0.005)

    def instance(self, instance_uuid: uuid.UUID) -> Any:
        from cumulo.model import Instance

        return Instance.get_by_uuid(
            self.ctx(), instance_uuid, expected_attrs=["flavor", "info_cache", "security_groups"]
        )

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise DemoFailed(message)

    def show_tables(self, title: str) -> None:
        from cumulo.model import ComputeNodeList, InstanceList

        ctx = self.ctx()
        instances = InstanceList.get_all(ctx, expected_attrs=["flavor"])
        self.say(f"        {title}")
        self.detail(server_table(ctx, instances))
        self.say("")
        self.detail(host_table(ComputeNodeList.get_all(ctx).objects))
        volumes = self.store.list()
        if volumes.objects:
            self.say("")
            self.detail(
                render_table(
                    ("volume", "name", "size GiB", "status", "attached to", "host", "device"),
                    [
                        [
                            v.id,
                            v.name,
                            v.size_gb,
                            v.status,
                            v.attached_to,
                            v.attached_host,
                            v.mountpoint,
                        ]
                        for v in volumes.objects
                    ],
                )
            )

    # --- the scenario ---------------------------------------------------------------------

    def run(self) -> None:
        from cumulo.model import (
            ComputeNodeList,
            Direction,
            Flavor,
            InjectedFile,
            Instance,
            InstanceActionEventList,
            InstanceActionList,
            InstanceActionName,
            InstanceList,
            MigrationList,
            Protocol,
            SecurityGroup,
            SecurityGroupList,
            SecurityGroupRule,
            VmState,
            VolumeStatus,
        )

        qemu = self.driver_name == "qemu"
        self.say(
            f"cumulo demo: an all-in-one deployment in one process ({self.driver_name} driver)"
        )
        with self.step("start the deployment: SQLite, inproc://, a conductor, two compute hosts"):
            self.start()

        image_ref = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2"
        with self.step("create a flavor and a security group"):
            if qemu:
                from cumulo.virt.qemu.images import write_probe_guest_image

                image_ref = str(uuid.uuid4())
                write_probe_guest_image(self.state_dir / "images" / image_ref)
                self.detail(f"image {image_ref}: the probe boot sector (no guest OS)")
                flavor = Flavor(
                    flavorid="demo.tiny", name="demo.tiny", memory_mb=64, vcpus=1, root_gb=1
                )
            else:
                flavor = Flavor(
                    flavorid="demo.small", name="demo.small", memory_mb=2048, vcpus=2, root_gb=10
                )
            flavor.obj_set_context(self.ctx())
            flavor.create()
            self.detail(
                f"flavor {flavor.name} (id {flavor.id}): {flavor.vcpus} vCPU, "
                f"{flavor.memory_mb} MiB RAM, {flavor.root_gb} GiB disk"
            )
            ssh = SecurityGroupRule(
                protocol=Protocol.TCP,
                from_port=22,
                to_port=22,
                cidr=ipaddress.ip_network("0.0.0.0/0"),
                direction=Direction.INGRESS,
            )
            group = SecurityGroup(name="demo-web", project_id="demo", rules=[ssh])
            group.obj_set_context(self.ctx())
            group.create()
            self.detail(f"security group {group.name} (id {group.id}): tcp/22 in")

        with self.step("boot three instances (placement picks the host with most free RAM)"):
            for n in range(1, 4):
                started = time.monotonic()
                template = Instance(
                    uuid=uuid.uuid4(),
                    user_id="demo",
                    project_id="demo",
                    display_name=f"demo-vm-{n}",
                    image_ref=image_ref,
                    flavor=flavor,
                    security_groups=SecurityGroupList(objects=[group]),
                    description=f"demo instance {n} of 3",
                )
                ctx = self.ctx()
                (built,) = self.tasks.build_instances(ctx, [template])
                self.detail(f"demo-vm-{n}: placed on {built.host}, building ...")
                self.wait_action(ctx, built.uuid)
                inst = self.instance(built.uuid)
                self.check(
                    inst.vm_state is VmState.ACTIVE,
                    f"demo-vm-{n} is {inst.vm_state}, expected active",
                )
                self.instances.append(inst)
                self.detail(
                    f"demo-vm-{n}: {inst.uuid} {inst.vm_state} on {inst.host}, power "
                    f"{inst.power_state.name.lower()} ({time.monotonic() - started:.2f} s)"
                )
            hosts = sorted({i.host for i in self.instances})
            self.detail(f"hosts in use: {', '.join(hosts)}")

        vm = self.instances[0]
        with self.step(f"create a 1 GiB volume and attach it to {vm.display_name}"):
            volume = self.store.create(1, "demo-data", project_id="demo", user_id="demo")
            self.detail(f"volume {volume.id} created in {self.store.root} ({volume.status})")
            bdm = self.compute.attach_volume(self.ctx(), vm, volume.id)
            stored = self.store.get(volume.id)
            self.check(stored.status is VolumeStatus.IN_USE, f"volume is {stored.status}")
            self.detail(
                f"attached at {bdm.device_name} on {stored.attached_host}; volume "
                f"{stored.status}, mapping {bdm.uuid}"
            )

        with self.step(f"diagnostics of {vm.display_name}"):
            diag = self.compute.get_diagnostics(self.ctx(), self.instance(vm.uuid))
            cpu_ms = sum(c.time for c in diag.cpu_details) // 1_000_000
            mem = diag.memory_details
            self.detail(
                f"state {diag.state.name.lower()}, driver {diag.driver}, uptime "
                f"{diag.uptime} s, {len(diag.cpu_details)} vCPU ({cpu_ms} ms CPU time)"
            )
            self.detail(f"memory {mem.used}/{mem.maximum} MiB used")
            for disk in diag.disk_details:
                self.detail(
                    f"disk {disk.device}: {disk.read_bytes} bytes read, {disk.write_bytes} written"
                )
            for nic in diag.nic_details:
                self.detail(
                    f"nic {nic.mac_address}: rx {nic.rx_octets} bytes, tx {nic.tx_octets} bytes"
                )
            devices = {d.device for d in diag.disk_details}
            self.check(
                bdm.device_name is not None and bdm.device_name.removeprefix("/dev/") in devices,
                f"the attached volume {bdm.device_name} is not among the disks {devices}",
            )

        source = vm.host
        dest = next(h for h in HOSTS if h != source)
        with self.step(f"live-migrate {vm.display_name} from {source} to {dest}"):
            result: dict[str, Any] = {}

            def migrate() -> None:
                try:
                    result["migration"] = self.tasks.live_migrate_instance(
                        self.ctx(), vm.uuid, dest, block_migration=qemu
                    )
                except BaseException as exc:
                    result["error"] = exc

            thread = threading.Thread(target=migrate, name="demo-live-migration")
            thread.start()
            seen: list[str] = []
            while True:
                alive = thread.is_alive()
                for migration in MigrationList.get_by_instance(self.ctx(), vm.uuid).objects:
                    progress = ""
                    if migration.memory_total:
                        done = migration.memory_processed or 0
                        total = migration.memory_total
                        progress = (
                            f" memory {done * 100 // total}% "
                            f"({done / 2**20:.1f}/{total / 2**20:.0f} MiB transferred)"
                        )
                    line = f"migration {str(migration.uuid)[:8]}: {migration.status}{progress}"
                    if not seen or seen[-1] != line:
                        seen.append(line)
                        self.detail(line)
                if not alive:
                    break
                time.sleep(0.002)
            thread.join()
            if "error" in result:
                raise result["error"]
            migration = result["migration"]
            self.check(str(migration.status) == "completed", f"migration ended {migration.status}")
            moved = self.instance(vm.uuid)
            self.check(moved.host == dest, f"{vm.display_name} is on {moved.host}, not {dest}")
            ctx = self.ctx()
            for action in InstanceActionList.get_by_instance_uuid(ctx, vm.uuid).objects:
                if action.action is not InstanceActionName.LIVE_MIGRATION:
                    continue
                events = InstanceActionEventList.get_by_action(ctx, action.id).objects
                self.detail("steps recorded on the instance action:")
                for e in events:
                    self.detail(f"  {e.event.removeprefix('compute_'):42} {e.host:12} {e.result}")
            moved_volume = self.store.get(volume.id)
            self.check(
                moved_volume.attached_host == dest,
                f"the volume is attached on {moved_volume.attached_host}, not {dest}",
            )
            self.detail(
                f"{vm.display_name} now {moved.vm_state} on {moved.host}, power "
                f"{moved.power_state.name.lower()}; its volume is attached on "
                f"{moved_volume.attached_host} now"
            )
            self.migrated = (str(vm.uuid), source or "?", dest)
            vm = moved

        with self.step(f"the console of {vm.display_name} on {vm.host} (last 3 lines)"):
            # A QEMU guest that just arrived writes its next line within moments (a
            # KVM guest's firmware can take seconds); wait for it.
            deadline = time.monotonic() + 30.0
            while not (lines := self.compute.get_console_output(self.ctx(), vm, 3).splitlines()):
                self.check(
                    time.monotonic() < deadline,
                    f"{vm.display_name} wrote nothing on its console in 30 s",
                )
                time.sleep(0.1)
            for line in lines:
                self.detail(f"| {line}")

        with self.step(f"inject /etc/motd into {vm.display_name}"):
            motd = InjectedFile.of("/etc/motd", b"Welcome to a Cumulo demo instance\n")
            self.compute.inject_file(self.ctx(), vm, motd)
            driver = self.drivers[vm.host]
            if qemu:
                view = driver.describe_guest(vm.uuid)
                self.detail(
                    f"config drive {view.config_drive_path} rewritten "
                    f"({view.config_drive_path.stat().st_size} bytes)"
                )
            else:
                files = [f.path for f in driver.describe_guest(vm.uuid).injected_files]
                self.check("/etc/motd" in files, f"/etc/motd not in the guest's files {files}")
                self.detail(f"files in the guest's config data on {vm.host}: {', '.join(files)}")

        with self.step(f"refresh security rules: open tcp/80 in {group.name}"):
            http = SecurityGroupRule(
                protocol=Protocol.TCP,
                from_port=80,
                to_port=80,
                cidr=ipaddress.ip_network("0.0.0.0/0"),
                direction=Direction.INGRESS,
            )
            group.obj_set_context(self.ctx())
            group.add_rules([http])
            refreshed = self.tasks.refresh_security_group(self.ctx(), group.id)
            self.detail(f"the conductor fanned the change out to {', '.join(refreshed)}")
            for inst in self.instances:
                current = self.instance(inst.uuid)
                self._wait_port_open(current, 80)
                self.detail(f"{current.display_name} on {current.host}: tcp/80 now allowed")

        with self.step("the deployment now"):
            self.show_tables("instances, hosts and volumes before deletion:")

        with self.step(f"detach the volume from {vm.display_name}"):
            self.compute.detach_volume(self.ctx(), vm, volume.id)
            stored = self.store.get(volume.id)
            self.check(stored.status is VolumeStatus.AVAILABLE, f"volume is {stored.status}")
            self.detail(f"volume {volume.id} is {stored.status} again")

        with self.step("delete everything: the three instances, the volume"):
            for inst in self.instances:
                ctx = self.ctx()
                self.compute.terminate_instance(ctx, self.instance(inst.uuid))
                self.wait_action(ctx, inst.uuid)
                self.detail(f"{inst.display_name}: deleted")
            self.store.delete(volume.id)
            self.detail(f"volume {volume.id}: deleted")
            ctx = self.ctx()
            left = InstanceList.get_all(ctx)
            gone = InstanceList.get_all(ctx, include_deleted=True)
            nodes = ComputeNodeList.get_all(ctx).objects
            busy = [
                n.host
                for n in nodes
                if n.vcpus_used or n.memory_mb_used or n.local_gb_used or n.running_vms
            ]
            guests = {h: d.list_instances() for h, d in self.drivers.items()}
            self.check(not left.objects, f"instances left: {[str(i.uuid) for i in left]}")
            self.check(not busy, f"hosts still using resources: {busy}")
            self.check(not any(guests.values()), f"guests left on the hypervisors: {guests}")
            self.check(not self.store.list().objects, "volumes left in the store")
            soft = sum(1 for i in gone if i.deleted)
            self.detail(host_table(nodes))
        self.say("")
        self.say(
            f"demo complete: {len(self.instances)} instances booted, 1 live-migrated "
            f"({self.migrated[1] if self.migrated else '?'} -> "
            f"{self.migrated[2] if self.migrated else '?'}), volume attached then detached; "
            f"everything deleted: {soft} instances soft-deleted, 0 left, 0 volumes, "
            f"hosts at 0 used ({', '.join(HOSTS)})"
        )

    def _wait_port_open(self, instance: Any, port: int, timeout: float = 30.0) -> None:
        from cumulo.model import Protocol

        driver = self.drivers[instance.host]
        deadline = time.monotonic() + timeout
        while True:
            if self.driver_name == "qemu":
                ok = f"dport {port}" in driver.ruleset
            else:
                ok = driver.firewall_allows(
                    instance.uuid, protocol=Protocol.TCP, port=port, remote_ip=PROBE_PEER
                )
            if ok:
                return
            if time.monotonic() > deadline:
                raise DemoFailed(f"tcp/{port} not open for {instance.display_name}")
            time.sleep(0.01)


def cmd_demo(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    if state_dir.exists() and not state_dir.is_dir():
        raise UsageError(f"--state-dir {state_dir}: not a directory")
    demo = Demo(state_dir, args.driver, sys.stdout)
    try:
        demo.run()
    except DemoFailed as exc:
        sys.stdout.flush()
        sys.stderr.write(f"cumulo demo: FAILED: {exc}\n")
        sys.stderr.write(f"cumulo demo: the services' log is {state_dir / 'demo.log'}\n")
        return 1
    finally:
        demo.stop()
    return 0


def add_demo_command(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--driver",
        choices=["fake", "qemu"],
        default="fake",
        help="the hypervisor of both hosts: in-memory fakes (default) or real QEMU "
        "processes (TCG, or KVM when usable; a tiny probe guest, no OS)",
    )
    parser.add_argument(
        "--state-dir",
        default=str(DEFAULT_STATE_DIR),
        metavar="DIR",
        help=f"where the run keeps its SQLite file, volumes, instances and log; what a "
        f"previous run left there is removed first (default: ./{DEFAULT_STATE_DIR})",
    )
    parser.set_defaults(handler=cmd_demo)
