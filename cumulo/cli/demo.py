"""``cumulo demo``: an all-in-one deployment in one process and a scenario a newcomer
can follow, driven through the public HTTP API as a user's tools would drive it.

The deployment is ``cumulo all-in-one``'s: a SQLite file under the state directory,
an ``inproc://`` bus, a conductor, two compute hosts (``host-a``, ``host-b``) —
fake hypervisors sharing one fake network and one instance storage pool, or QEMU
hosts (``--driver qemu``) — and the API (``/identity``, ``/compute``, ``/image``,
``/volume``) on a free localhost port. Every step is HTTP requests to that API (a
token from ``/identity``, then the Compute API at its newest microversion and the
Block Storage API), and prints the ``openstack`` command that does the same against
``cumulo all-in-one``. Only the final check looks behind the API, as an operator
would, and says so: it reads the hosts' usage records and the volume store.

Each run starts from a fresh state directory (what an earlier run left there is
removed first), so reruns work. The services' JSON logs go to ``demo.log`` in it.
"""

from __future__ import annotations

import argparse
import functools
import logging
import secrets
import shlex
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cumulo import logs

from .api_client import ApiClient, ApiRequestFailed, poll
from .common import UsageError
from .tables import host_table, render_table

if TYPE_CHECKING:
    from cumulo.deploy import EmbeddedCloud

DEFAULT_STATE_DIR = Path("var") / "demo"
HOSTS = ("host-a", "host-b")
OWNED = (
    "cumulo.db",
    "cumulo.db-journal",
    "volumes",
    "instances",
    "images",
    "fernet-keys",
    "demo.log",
)
"""What a demo run creates in its state directory (and removes before the next)."""
USER = "demo"
PROJECT = "demo"
SERVERS = ("demo-vm-1", "demo-vm-2", "demo-vm-3")
MIGRATION_STEPS = ("check_can_live_migrate_destination", "pre_live_migration", "live_migration")


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
    admin: ApiClient
    """The API as the admin (project ``admin``)."""
    user: ApiClient
    """The API as user ``demo``, a member of project ``demo``."""

    def __init__(self, state_dir: Path, driver: str, out: TextIO) -> None:
        self.state_dir = state_dir
        self.driver_name = driver
        self.out = out
        self.total = 12
        self.step_no = 0
        self.stack: list[Callable[[], None]] = []
        self.drivers: dict[str, Any] = {}
        self.servers: dict[str, dict[str, Any]] = {}
        """Name -> the server's body when it became ACTIVE."""
        self.migrated: tuple[str, str, str] | None = None

    # --- output ---------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def detail(self, text: str) -> None:
        for line in text.splitlines():
            self.say(f"        {line}")

    def command(self, *argv: str, cloud: str = "") -> None:
        """The ``openstack`` command a user would type for what comes next."""
        prefix = f"--os-cloud {cloud} " if cloud else ""
        self.say(f"      $ openstack {prefix}{shlex.join(argv)}")

    @contextmanager
    def step(self, title: str) -> Iterator[Step]:
        self.step_no += 1
        step = Step(self.step_no, self.total, title)
        self.say(f"[{step.number:2d}/{step.total}] {title}")
        try:
            yield step
        except DemoFailed as exc:
            raise DemoFailed(f"step {step.number} ({title}): {exc}") from exc
        except Exception as exc:
            raise DemoFailed(f"step {step.number} ({title}): {type(exc).__name__}: {exc}") from exc
        self.say(f"        done in {time.monotonic() - step.started:.2f} s")

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise DemoFailed(message)

    # --- the deployment -------------------------------------------------------------------

    def prepare_state_dir(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for name in OWNED:
            path = self.state_dir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def start(self) -> None:
        from cumulo.api.app import create_app
        from cumulo.api.inprocess import InProcessServer
        from cumulo.deploy import CloudOptions, EmbeddedCloud

        from .allinone import (
            IMAGES_DIR,
            KEYS_DIR,
            api_config,
            bootstrap_identity,
            seed_default_image,
            served_prefixes,
        )

        self.prepare_state_dir()
        state_dir = self.state_dir.resolve()
        log_stream = (state_dir / "demo.log").open("a", encoding="utf-8")
        self.stack.append(log_stream.close)
        logs.configure("demo", "info", stream=log_stream)
        self.stack.append(logging.getLogger().handlers.clear)

        url = f"inproc://cumulo-demo-{uuid.uuid4().hex[:8]}"
        options = CloudOptions.under(
            state_dir,
            transport_url=url,
            hosts=HOSTS,
            driver=self.driver_name,
            driver_factory=self._qemu_driver if self.driver_name == "qemu" else self._fake_driver(),
            conductor_host="conductor-1",
            compute_timeout=60.0,
            task_timeout=120.0,
            periodic_interval=60.0,
        )
        self.cloud = EmbeddedCloud(options, on_teardown_error=self._teardown_failed)
        self.stack.append(self.cloud.stop)
        self.cloud.start()
        self.store = self.cloud.volume_store
        self.drivers = dict(self.cloud.drivers)
        seed_default_image(state_dir / IMAGES_DIR, self.driver_name)
        password = secrets.token_urlsafe(12)
        keys_dir = state_dir / KEYS_DIR
        bootstrap_identity(self.cloud.engine, keys_dir, password)
        server = InProcessServer(
            create_app(api_config(options, state_dir, keys_dir)), "127.0.0.1:0"
        )
        server.start()
        self.stack.append(server.stop)
        host, port = server.address
        base = f"http://{host}:{port}"
        self.admin = ApiClient(base)
        self.stack.append(self.admin.close)
        self.admin.login("admin", password, "admin")
        self.user = ApiClient(base)
        self.stack.append(self.user.close)
        self.detail(f"state dir   {self.state_dir}  (fresh; services log to demo.log there)")
        self.detail(f"database    {options.database}")
        self.detail(f"transport   {url}")
        self.detail("conductor   conductor-1 (object API + compute tasks)")
        for name, driver in self.drivers.items():
            self.detail(f"compute     {name}: {self._describe_driver(driver)}")
        self.detail(f"API         {base}  ({served_prefixes()}; admin password generated)")

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
            instances_path=self.state_dir.resolve() / "instances" / host,
            images_path=self.state_dir.resolve() / "images",
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

    # --- API helpers ----------------------------------------------------------------------

    def server(self, name: str, client: ApiClient | None = None) -> dict[str, Any]:
        body: dict[str, Any] = (client or self.admin).compute(
            "GET", f"/servers/{self.servers[name]['id']}"
        )["server"]
        return body

    def wait_status(self, name: str, *statuses: str, timeout: float = 120.0) -> dict[str, Any]:
        """Poll the server as its owner until its status is one of ``statuses``
        (``ERROR`` fails the demo with the server's fault)."""

        def probe() -> dict[str, Any] | None:
            server = self.server(name, self.user)
            if server["status"] == "ERROR":
                fault = server.get("fault", {}).get("message", "no fault recorded")
                raise DemoFailed(f"{name} went to ERROR: {fault}")
            return server if server["status"] in statuses else None

        return poll(probe, f"{name} to become {'/'.join(statuses)}", timeout=timeout)

    def show_tables(self, title: str) -> None:
        """What ``openstack server list --long`` and ``hypervisor list --long`` show."""
        listed = self.admin.compute("GET", "/servers/detail?all_tenants=1&sort_key=display_name")
        self.say(f"        {title}")
        rows = []
        for server in reversed(listed["servers"]):
            volumes = ",".join(v["id"][:8] for v in server["os-extended-volumes:volumes_attached"])
            rows.append(
                [
                    server["id"],
                    server["name"],
                    server["status"],
                    server["OS-EXT-SRV-ATTR:host"],
                    _addresses(server),
                    server["flavor"]["original_name"],
                    volumes or "-",
                ]
            )
        self.detail(
            render_table(("ID", "Name", "Status", "Host", "Networks", "Flavor", "Volumes"), rows)
        )
        self.say("")
        hypervisors = self.admin.compute("GET", "/os-hypervisors/detail")["hypervisors"]
        self.detail(
            render_table(
                ("Hypervisor", "State", "vCPUs used", "RAM used MiB", "Disk used GiB", "VMs"),
                [
                    [
                        h["hypervisor_hostname"],
                        h["state"],
                        f"{h['vcpus_used']}/{h['vcpus']}",
                        f"{h['memory_mb_used']}/{h['memory_mb']}",
                        f"{h['local_gb_used']}/{h['local_gb']}",
                        h["running_vms"],
                    ]
                    for h in sorted(hypervisors, key=lambda h: h["hypervisor_hostname"])
                ],
            )
        )

    # --- the scenario ---------------------------------------------------------------------

    def run(self) -> None:
        qemu = self.driver_name == "qemu"
        self.say(
            f"cumulo demo: an all-in-one deployment in one process ({self.driver_name} driver), "
            "driven through its HTTP API"
        )
        with self.step("start the deployment and its API (what `cumulo all-in-one` serves)"):
            self.start()

        with self.step(f"as the admin: project {PROJECT}, user {USER} (member); log in as {USER}"):
            self._identity()

        with self.step("a flavor (admin), a key pair and the image to boot (demo)"):
            flavor, image = self._flavor_key_image(qemu)

        with self.step("boot three servers (placement picks the host with most free RAM)"):
            for name in SERVERS:
                self._boot(name, flavor, image)
            hosts = sorted({s["OS-EXT-SRV-ATTR:host"] for s in self._admin_views().values()})
            self.detail(f"hosts in use: {', '.join(hosts)}")

        first = SERVERS[0]
        with self.step(f"a 1 GiB volume, attached to {first}"):
            volume_id, device = self._attach(first)

        with self.step(f"diagnostics of {first} (admin)"):
            self._diagnostics(first, device)

        source = self._admin_views()[first]["OS-EXT-SRV-ATTR:host"]
        dest = next(h for h in HOSTS if h != source)
        with self.step(f"live-migrate {first} from {source} to {dest} (admin)"):
            self._live_migrate(first, source, dest, volume_id, qemu)

        with self.step(f"the console of {first} on {dest} (last 3 lines)"):
            self.command("console", "log", "show", "--lines", "3", first, cloud=USER)
            lines = poll(
                lambda: (
                    self.user.compute(
                        "POST",
                        f"/servers/{self.servers[first]['id']}/action",
                        {"os-getConsoleOutput": {"length": 3}},
                    )["output"].splitlines()
                    or None
                ),
                f"{first} to write on its console",
                timeout=30.0,
                interval=0.1,
            )
            for line in lines:
                self.detail(f"| {line}")

        second = SERVERS[1]
        with self.step(f"stop, start and reboot {second}"):
            self._power_cycle(second)

        with self.step("the deployment now"):
            self.command("server", "list", "--all-projects", "--long")
            self.command("hypervisor", "list", "--long")
            self.show_tables("servers and hypervisors before deletion:")

        with self.step(f"detach the volume from {first}"):
            self.command("server", "remove", "volume", first, "demo-data", cloud=USER)
            server_id = self.servers[first]["id"]
            self.user.compute(
                "DELETE", f"/servers/{server_id}/os-volume_attachments/{volume_id}", expect=(202,)
            )
            volume_url = f"{self._volumes_url(first)}/volumes/{volume_id}"
            poll(
                lambda: (
                    True if self.user.get(volume_url)["volume"]["status"] == "available" else None
                ),
                "the volume to be detached",
            )
            self.detail(f"volume {volume_id} is available again")

        with self.step("delete everything: the three servers, the volume"):
            self._delete_all(volume_id)
        self.say("")
        migrated = self.migrated or ("?", "?", "?")
        self.say(
            f"demo complete: {len(self.servers)} servers booted, 1 live-migrated "
            f"({migrated[1]} -> {migrated[2]}), volume attached then detached; everything "
            f"deleted: 0 servers left, 0 volumes, hosts at 0 used ({', '.join(HOSTS)}); "
            f"{self.admin.requests + self.user.requests} API requests"
        )

    # --- the steps ------------------------------------------------------------------------

    def _identity(self) -> None:
        password = secrets.token_urlsafe(12)
        self.command("project", "create", PROJECT)
        project = self.admin.post(
            "/identity/v3/projects",
            {"project": {"name": PROJECT, "domain_id": "default"}},
            expect=(201,),
        )["project"]
        self.command("user", "create", "--project", PROJECT, "--password", "********", USER)
        user = self.admin.post(
            "/identity/v3/users",
            {
                "user": {
                    "name": USER,
                    "domain_id": "default",
                    "password": password,
                    "default_project_id": project["id"],
                }
            },
            expect=(201,),
        )["user"]
        self.command("role", "add", "--user", USER, "--project", PROJECT, "member")
        (role,) = self.admin.get("/identity/v3/roles?name=member")["roles"]
        self.admin.request(
            "PUT",
            f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role['id']}",
            expect=(204,),
        )
        self.command("token", "issue", cloud=USER)
        self.user.login(USER, password, PROJECT)
        self.detail(f"project {PROJECT} {project['id']}, user {USER} {user['id']}, role member")
        self.detail(f"{USER} holds a token scoped to {PROJECT} (Fernet, signed)")

    def _flavor_key_image(self, qemu: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        name, ram, vcpus, disk = ("demo.tiny", 64, 1, 1) if qemu else ("demo.small", 2048, 2, 10)
        self.command(
            "flavor", "create", "--ram", str(ram), "--vcpus", str(vcpus), "--disk", str(disk), name
        )
        flavor = self.admin.compute(
            "POST",
            "/flavors",
            {"flavor": {"name": name, "ram": ram, "vcpus": vcpus, "disk": disk, "id": name}},
        )["flavor"]
        self.detail(f"flavor {name}: {vcpus} vCPU, {ram} MiB RAM, {disk} GiB disk")
        self.command("keypair", "create", "demo-key", cloud=USER)
        key = self.user.compute(
            "POST", "/os-keypairs", {"keypair": {"name": "demo-key"}}, expect=(201,)
        )
        self.detail(
            f"key pair demo-key ({key['keypair']['fingerprint']}); its private key is "
            "returned once, to the caller only"
        )
        self.command("image", "list", cloud=USER)
        images = self.user.get("/image/v2/images")["images"]
        self.check(bool(images), "the image service lists no image")
        image: dict[str, Any] = images[0]
        self.detail(
            f"image {image['name']} {image['id']} ({image['disk_format']}, {image['size']} bytes)"
        )
        return flavor, image

    def _boot(self, name: str, flavor: dict[str, Any], image: dict[str, Any]) -> None:
        started = time.monotonic()
        self.command(
            "server", "create", "--flavor", flavor["name"], "--image", image["name"],
            "--key-name", "demo-key", "--network", "private", "--wait", name, cloud=USER,
        )  # fmt: skip
        body = {
            "server": {
                "name": name,
                "flavorRef": flavor["id"],
                "imageRef": image["id"],
                "key_name": "demo-key",
                "networks": [{"uuid": "private"}],
                "description": f"demo server {name[-1]} of {len(SERVERS)}",
            }
        }
        created = self.user.compute("POST", "/servers", body, expect=(202,))["server"]
        self.servers[name] = {"id": created["id"]}
        server = self.wait_status(name, "ACTIVE")
        self.servers[name] = server
        host = self.server(name)["OS-EXT-SRV-ATTR:host"]
        self.detail(
            f"{name}: {server['id']} active on {host}, {_addresses(server)} "
            f"({time.monotonic() - started:.2f} s)"
        )

    def _admin_views(self) -> dict[str, dict[str, Any]]:
        return {name: self.server(name) for name in self.servers}

    def _attach(self, name: str) -> tuple[str, str]:
        self.command("volume", "create", "--size", "1", "demo-data", cloud=USER)
        volume = self.user.post(
            f"{self._volumes_url(name)}/volumes",
            {"volume": {"size": 1, "name": "demo-data"}},
            expect=(202,),
        )["volume"]
        self.detail(
            f"volume {volume['id']} created through the block storage API ({volume['status']})"
        )
        self.command("server", "add", "volume", name, "demo-data", cloud=USER)
        attachment = self.user.compute(
            "POST",
            f"/servers/{self.servers[name]['id']}/os-volume_attachments",
            {"volumeAttachment": {"volumeId": volume["id"]}},
        )["volumeAttachment"]
        shown = self.user.get(f"{self._volumes_url(name)}/volumes/{volume['id']}")["volume"]
        self.check(shown["status"] == "in-use", f"volume is {shown['status']}")
        (held,) = shown["attachments"]
        self.detail(
            f"attached at {attachment['device']} on {held['host_name']}; volume "
            f"{shown['status']}, attachment {attachment['id']}"
        )
        return str(volume["id"]), str(attachment["device"])

    def _volumes_url(self, name: str) -> str:
        """The user's project under ``/volume/v3`` (the server's project)."""
        return f"/volume/v3/{self.servers[name]['tenant_id']}"

    def _diagnostics(self, name: str, device: str) -> None:
        self.command("server", "show", "--diagnostics", name)
        diag = self.admin.compute("GET", f"/servers/{self.servers[name]['id']}/diagnostics")
        cpu_ms = sum(c["time"] or 0 for c in diag["cpu_details"]) // 1_000_000
        mem = diag["memory_details"]
        self.detail(
            f"state {diag['state']}, driver {diag['driver']}, uptime {diag['uptime']} s, "
            f"{diag['num_cpus']} vCPU ({cpu_ms} ms CPU time)"
        )
        self.detail(f"memory {mem['used']}/{mem['maximum']} MiB used")
        self.detail(f"{diag['num_disks']} disks, {diag['num_nics']} NICs")
        self.check(diag["num_disks"] >= 2, f"the attached volume {device} is not among the disks")

    def _live_migrate(self, name: str, source: str, dest: str, volume_id: str, qemu: bool) -> None:
        server_id = self.servers[name]["id"]
        self.command("server", "migrate", "--live-migration", "--host", dest, "--wait", name)
        self.admin.compute(
            "POST",
            f"/servers/{server_id}/action",
            {"os-migrateLive": {"host": dest, "block_migration": "auto"}},
            expect=(202,),
        )
        seen: list[str] = []

        def finished() -> dict[str, Any] | None:
            for migration in self.admin.compute("GET", f"/os-migrations?instance_uuid={server_id}")[
                "migrations"
            ]:
                line = f"migration {migration['uuid'][:8]}: {migration['status']}"
                if not seen or seen[-1] != line:
                    seen.append(line)
                    self.detail(line)
                if migration["status"] in ("completed", "failed", "error", "cancelled"):
                    return dict(migration)
            return None

        migration = poll(finished, f"the live migration of {name}", timeout=120.0, interval=0.005)
        if migration["status"] != "completed":
            raise DemoFailed(
                f"live migration of {name} ended {migration['status']}: {self._why(name)}"
            )
        server = self.wait_status(name, "ACTIVE")
        moved = self.server(name)
        self.check(
            moved["OS-EXT-SRV-ATTR:host"] == dest,
            f"{name} is on {moved['OS-EXT-SRV-ATTR:host']}, not {dest}",
        )
        self.command("server", "event", "list", name)
        actions = self.admin.compute("GET", f"/servers/{server_id}/os-instance-actions")
        live = next(a for a in actions["instanceActions"] if a["action"] == "live-migration")
        action = self.admin.compute(
            "GET", f"/servers/{server_id}/os-instance-actions/{live['request_id']}"
        )["instanceAction"]
        self.detail("steps recorded on the instance action, in order:")
        for event in reversed(action["events"]):  # the API lists the newest first
            self.detail(f"  {event['event'].removeprefix('compute_'):42} {event['result']}")
        attached_host = self.store.get(uuid.UUID(volume_id)).attached_host
        self.check(attached_host == dest, f"the volume is attached on {attached_host}, not {dest}")
        self.detail(
            f"{name} now {server['status'].lower()} on {dest}; its volume is attached on "
            f"{attached_host} now"
        )
        self.migrated = (server_id, source, dest)

    def _why(self, name: str) -> str:
        """What the server's latest action recorded about its failure."""
        server_id = self.servers[name]["id"]
        actions = self.admin.compute("GET", f"/servers/{server_id}/os-instance-actions")
        for action in actions["instanceActions"]:
            detail = self.admin.compute(
                "GET", f"/servers/{server_id}/os-instance-actions/{action['request_id']}"
            )["instanceAction"]
            failed = [e for e in detail["events"] if e["result"] == "Error"]
            if failed:
                return "; ".join(f"{e['event']}: {_last_line(e.get('traceback'))}" for e in failed)
        return "no failed event recorded"

    def _power_cycle(self, name: str) -> None:
        server_id = self.servers[name]["id"]
        for action, body, status in (
            ("stop", {"os-stop": None}, "SHUTOFF"),
            ("start", {"os-start": None}, "ACTIVE"),
            ("reboot", {"reboot": {"type": "SOFT"}}, "ACTIVE"),
        ):
            self.command("server", action, name, cloud=USER)
            sent = self.user.request(
                "POST", f"/compute/v2.1/servers/{server_id}/action", body, expect=(202,)
            )
            events = self._wait_request(name, sent.headers["x-openstack-request-id"])
            server = self.server(name, self.user)
            self.check(server["status"] == status, f"{name} is {server['status']} after {action}")
            self.detail(
                f"{action}: {name} {server['status']}, power state "
                f"{server['OS-EXT-STS:power_state']} ({', '.join(events)})"
            )

    def _wait_request(self, name: str, request_id: str) -> list[str]:
        """Wait until the host finished what request ``request_id`` asked of the server
        (its instance action's events all finished); the events' names. A failed event
        fails the demo."""
        path = f"/compute/v2.1/servers/{self.servers[name]['id']}/os-instance-actions/{request_id}"

        def finished() -> list[dict[str, Any]] | None:
            answer = self.user.request("GET", path, expect=(200, 404))
            if answer.status == 404:
                return None  # not recorded yet
            events: list[dict[str, Any]] = answer.body["instanceAction"]["events"]
            if not events or any(e["finish_time"] is None for e in events):
                return None
            return events

        events = poll(finished, f"request {request_id} on {name} to finish")
        failed = [e["event"] for e in events if e["result"] != "Success"]
        self.check(not failed, f"request {request_id} on {name}: {', '.join(failed)} failed")
        return [e["event"].removeprefix("compute_") for e in events]

    def _gone(self, server_id: str) -> bool | None:
        """``True`` once the server answers 404 (deleted)."""
        path = f"/compute/v2.1/servers/{server_id}"
        return True if self.user.request("GET", path, expect=(200, 404)).status == 404 else None

    def _delete_all(self, volume_id: str) -> None:
        from cumulo.model import ComputeNodeList

        for name in SERVERS:
            self.command("server", "delete", "--wait", name, cloud=USER)
            server_id = self.servers[name]["id"]
            self.user.compute("DELETE", f"/servers/{server_id}", expect=(204,))
            poll(functools.partial(self._gone, server_id), f"{name} to be deleted")
            self.detail(f"{name}: deleted")
        self.command("volume", "delete", "demo-data", cloud=USER)
        self.user.request(
            "DELETE", f"{self._volumes_url(SERVERS[0])}/volumes/{volume_id}", expect=(202,)
        )
        self.detail(f"volume {volume_id}: deleted")
        left = self.admin.compute("GET", "/servers/detail?all_tenants=1")["servers"]
        self.check(not left, f"servers left: {[s['name'] for s in left]}")
        nodes = ComputeNodeList.get_all(self.cloud.context()).objects
        busy = [n.host for n in nodes if n.vcpus_used or n.memory_mb_used or n.running_vms]
        guests = {h: d.list_instances() for h, d in self.drivers.items()}
        self.check(not busy, f"hosts still using resources: {busy}")
        self.check(not any(guests.values()), f"guests left on the hypervisors: {guests}")
        self.check(not self.store.list().objects, "volumes left in the store")
        self.detail("the hosts' usage records (operator view):")
        self.detail(host_table(nodes))


def _last_line(text: str | None) -> str:
    """The last line of a traceback: the exception and its message."""
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else "no traceback recorded"


def _addresses(server: dict[str, Any]) -> str:
    return (
        "; ".join(
            f"{network}={', '.join(a['addr'] for a in entries)}"
            for network, entries in sorted(server["addresses"].items())
        )
        or "-"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    if state_dir.exists() and not state_dir.is_dir():
        raise UsageError(f"--state-dir {state_dir}: not a directory")
    demo = Demo(state_dir, args.driver, sys.stdout)
    try:
        demo.run()
    except (DemoFailed, ApiRequestFailed) as exc:
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


__all__: Sequence[str] = ("Demo", "DemoFailed", "add_demo_command", "cmd_demo")
