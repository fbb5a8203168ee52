"""``cumulo.deploy``: the embedded cloud, built in order and torn down in reverse,
also after a start that failed half way (SQLite, ``inproc://``, fake drivers)."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cumulo.compute.service import ComputeService
from cumulo.conductor.service import ConductorService
from cumulo.deploy import CloudOptions, EmbeddedCloud
from cumulo.model import ComputeNodeList, Flavor, Instance, InstanceList, VmState
from cumulo.model import storage as model_storage
from cumulo.rpc import RequestContext
from cumulo.virt.fake import FakeConfig, FakeDriver, FakeHypervisorNetwork


def options(tmp_path: Path, **values: Any) -> CloudOptions:
    values.setdefault("transport_url", f"inproc://deploy-test-{uuid.uuid4().hex}")
    return CloudOptions.under(tmp_path, **values)


class ShutdownDriver(FakeDriver):
    """A fake driver with a ``shutdown`` (as the QEMU driver has), recording it."""

    def __init__(self, host: str, events: list[str], *, fail: bool = False, **kw: Any) -> None:
        super().__init__(host, **kw)
        self.events = events
        self.fail = fail

    def shutdown(self) -> None:
        self.events.append(f"shutdown {self.host}")
        if self.fail:
            raise RuntimeError(f"{self.host} would not shut down")


@pytest.fixture
def stops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The order the services of any cloud stop in."""
    events: list[str] = []
    compute_stop, conductor_stop = ComputeService.stop, ConductorService.stop

    def stop_compute(self: ComputeService) -> None:
        events.append(f"stop {self.host}")
        compute_stop(self)

    def stop_conductor(self: ConductorService) -> None:
        events.append(f"stop {self.host}")
        conductor_stop(self)

    monkeypatch.setattr(ComputeService, "stop", stop_compute)
    monkeypatch.setattr(ConductorService, "stop", stop_conductor)
    return events


@pytest.fixture
def no_storage() -> Iterator[None]:
    """No model storage installed around the test (the cloud's conductor installs one)."""
    previous = model_storage.set_storage(None)
    try:
        yield
    finally:
        model_storage.set_storage(previous)


# --- options --------------------------------------------------------------------------------


def test_options_under_a_state_dir(tmp_path: Path) -> None:
    made = CloudOptions.under(tmp_path / "state", hosts=("h1",))
    assert made.sqlite_path == tmp_path / "state" / "cumulo.db"
    assert made.volume_dir == tmp_path / "state" / "volumes"
    assert made.database == f"sqlite:///{(tmp_path / 'state' / 'cumulo.db').resolve()}"
    assert made.transport_url == "inproc://"
    assert made.driver == "fake"
    assert list(made.hosts) == ["h1"]


def test_options_name_one_database(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one of database_url and sqlite_path"):
        CloudOptions(volume_dir=tmp_path)
    with pytest.raises(ValueError, match="exactly one of database_url and sqlite_path"):
        CloudOptions(volume_dir=tmp_path, database_url="sqlite://", sqlite_path=tmp_path / "x")
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/cumulo"
    assert CloudOptions(volume_dir=tmp_path, database_url=url).database == url


def test_options_refuse_an_unknown_driver_and_a_host_named_twice(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"driver: expected one of fake, qemu, got 'xen'"):
        CloudOptions.under(tmp_path, driver="xen")
    with pytest.raises(ValueError, match="a host named twice"):
        CloudOptions.under(tmp_path, hosts=("a", "b", "a"))


# --- a running cloud ------------------------------------------------------------------------


def test_a_cloud_of_loaded_fake_drivers_builds_and_migrates(tmp_path: Path, no_storage) -> None:
    opts = options(
        tmp_path,
        hosts=("host-a", "host-b"),
        driver_config=FakeConfig(vcpus=4, memory_mb=4096, disk_gb=40),
        host_driver_configs={
            "host-b": FakeConfig(
                vcpus=8, memory_mb=8192, disk_gb=80, host_ip=ipaddress.ip_address("192.0.2.9")
            )
        },
        user_id="u1",
        project_id="p1",
    )
    with EmbeddedCloud(opts) as cloud:
        assert cloud.transport.url == opts.transport_url
        assert str(cloud.engine.url) == opts.database
        assert cloud.volume_store.root == tmp_path / "volumes"
        assert cloud.conductor.host == "conductor" and cloud.conductor.server is not None
        assert (
            list(cloud.managers)
            == list(cloud.drivers)
            == list(cloud.services)
            == [
                "host-a",
                "host-b",
            ]
        )
        a, b = cloud.drivers["host-a"], cloud.drivers["host-b"]
        assert isinstance(a, FakeDriver) and isinstance(b, FakeDriver)
        assert isinstance(cloud.network, FakeHypervisorNetwork)
        assert cloud.network.driver("host-a") is a and cloud.network.driver("host-b") is b
        assert (a.get_available_resource().vcpus, b.get_available_resource().vcpus) == (4, 8)
        assert str(b.get_host_ip_addr()) == "192.0.2.9"
        assert cloud.managers["host-a"].driver is a

        ctx = cloud.context()
        assert isinstance(ctx, RequestContext)
        assert (ctx.user_id, ctx.project_id, ctx.roles) == ("u1", "p1", ["member"])
        assert cloud.context().request_id != ctx.request_id
        nodes = ComputeNodeList.get_all(ctx).objects
        assert sorted(n.host for n in nodes) == ["host-a", "host-b"]

        flavor = Flavor(flavorid="t", name="t", memory_mb=512, vcpus=1, root_gb=0)
        flavor.obj_set_context(cloud.context())
        flavor.create()
        template = Instance(
            uuid=uuid.uuid4(),
            user_id="u1",
            project_id="p1",
            display_name="vm",
            image_ref="8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2",
            flavor=flavor,
        )
        (built,) = cloud.tasks.build_instances(cloud.context(), [template], requested_host="host-a")
        _wait_active(cloud, built.uuid)
        migration = cloud.tasks.live_migrate_instance(cloud.context(), built.uuid, "host-b")
        assert str(migration.status) == "completed"
        moved = Instance.get_by_uuid(cloud.context(), built.uuid)
        assert moved.host == "host-b"
        assert cloud.compute.get_console_output(cloud.context(), moved, 5)
    assert cloud.conductor.server is None
    assert all(s.server is None for s in cloud.services.values())
    with pytest.raises(model_storage.NoStorageError):
        model_storage.get_storage()


def _wait_active(cloud: EmbeddedCloud, instance_uuid: uuid.UUID) -> None:
    from tests.compute.deployment import wait_for

    def active() -> bool:
        found = InstanceList.get_all(cloud.context(), vm_states=[VmState.ACTIVE]).objects
        return any(i.uuid == instance_uuid for i in found)

    wait_for(active, 10.0, f"{instance_uuid} active")


def test_stop_runs_backwards_and_twice_is_harmless(tmp_path: Path, stops: list[str]) -> None:
    events = stops

    def driver(host: str) -> ShutdownDriver:
        return ShutdownDriver(host, events)

    cloud = EmbeddedCloud(
        options(tmp_path, hosts=("h1", "h2"), driver_factory=driver, conductor_host="c1")
    ).start()
    assert cloud.network is None  # a driver factory owns what its drivers share
    cloud.stop()
    assert events == ["stop h2", "shutdown h2", "stop h1", "shutdown h1", "stop c1"]
    cloud.stop()
    assert len(events) == 5


def test_a_cloud_starts_once(tmp_path: Path) -> None:
    cloud = EmbeddedCloud(options(tmp_path, hosts=())).start()
    try:
        with pytest.raises(RuntimeError, match="started already"):
            cloud.start()
    finally:
        cloud.stop()


def test_add_host_after_start_and_a_host_that_fails_leaves_nothing(
    tmp_path: Path, stops: list[str]
) -> None:
    events = stops
    with EmbeddedCloud(options(tmp_path, hosts=("h1",))) as cloud:
        added = ShutdownDriver("h2", events)
        manager = cloud.add_host("h2", added)
        assert manager.driver is added and cloud.drivers["h2"] is added
        with pytest.raises(ValueError, match="runs already"):
            cloud.add_host("h2")

        wrong = ShutdownDriver("not-h3", events)  # serves another host: the manager refuses
        with pytest.raises(ValueError, match="it serves host 'not-h3', not 'h3'"):
            cloud.add_host("h3", wrong)
        assert events == ["shutdown not-h3"]
        assert "h3" not in cloud.managers and "h3" not in cloud.drivers
        events.clear()
    assert events == ["stop h2", "shutdown h2", "stop h1", "stop conductor"]


# --- teardown after failures ----------------------------------------------------------------


def test_a_failed_start_tears_down_what_it_built(
    tmp_path: Path, stops: list[str], no_storage
) -> None:
    events = stops
    opts_values: dict[str, Any] = {"hosts": ("h1", "h2", "h3"), "conductor_host": "c1"}

    def driver(host: str) -> ShutdownDriver:
        if host == "h2":
            raise RuntimeError("no hypervisor on h2")
        return ShutdownDriver(host, events)

    opts = options(tmp_path, driver_factory=driver, **opts_values)
    cloud = EmbeddedCloud(opts)
    with pytest.raises(RuntimeError, match="no hypervisor on h2"):
        cloud.start()
    assert events == ["stop h1", "shutdown h1", "stop c1"]
    assert cloud.conductor.server is None
    assert cloud.services["h1"].server is None
    with pytest.raises(model_storage.NoStorageError):
        model_storage.get_storage()
    cloud.stop()  # nothing left to undo
    assert len(events) == 3

    # Nothing was left listening: a cloud on the same bus and database starts cleanly.
    events.clear()
    retry = options(
        tmp_path,
        transport_url=opts.transport_url,
        driver_factory=lambda host: ShutdownDriver(host, events),
        **opts_values,
    )
    with EmbeddedCloud(retry) as again:
        assert list(again.managers) == ["h1", "h2", "h3"]


def test_a_failed_start_notes_the_teardown_steps_that_failed_too(
    tmp_path: Path, stops: list[str]
) -> None:
    events = stops

    def driver(host: str) -> ShutdownDriver:
        if host == "h2":
            raise RuntimeError("no hypervisor on h2")
        return ShutdownDriver(host, events, fail=True)

    cloud = EmbeddedCloud(options(tmp_path, hosts=("h1", "h2"), driver_factory=driver))
    with pytest.raises(RuntimeError, match="no hypervisor on h2") as caught:
        cloud.start()
    assert caught.value.__notes__ == [
        "teardown after the failed start: shut down the driver of h1: "
        "RuntimeError('h1 would not shut down')"
    ]
    assert events == ["stop h1", "shutdown h1", "stop conductor"]  # went on after it


def test_a_conductor_that_refuses_to_start_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_storage
) -> None:
    from cumulo.db.exceptions import DatabaseError

    def refuse(self: ConductorService) -> None:
        raise DatabaseError("not this schema")

    monkeypatch.setattr(ConductorService, "check_schema", refuse)
    cloud = EmbeddedCloud(options(tmp_path, hosts=("h1",)))
    with pytest.raises(DatabaseError, match="not this schema"):
        cloud.start()
    assert cloud.managers == {}
    with pytest.raises(model_storage.NoStorageError):
        model_storage.get_storage()


def test_stop_goes_on_and_raises_every_failed_step(tmp_path: Path, stops: list[str]) -> None:
    events = stops

    def driver(host: str) -> ShutdownDriver:
        return ShutdownDriver(host, events, fail=True)

    cloud = EmbeddedCloud(options(tmp_path, hosts=("h1", "h2"), driver_factory=driver)).start()
    with pytest.raises(ExceptionGroup, match=r"2 step\(s\) failed") as caught:
        cloud.stop()
    assert [str(e) for e in caught.value.exceptions] == [
        "h2 would not shut down",
        "h1 would not shut down",
    ]
    assert events == ["stop h2", "shutdown h2", "stop h1", "shutdown h1", "stop conductor"]


def test_a_teardown_error_handler_is_told_instead(tmp_path: Path, stops: list[str]) -> None:
    events = stops
    told: list[tuple[str, str]] = []

    def driver(host: str) -> ShutdownDriver:
        return ShutdownDriver(host, events, fail=host == "h1")

    cloud = EmbeddedCloud(
        options(tmp_path, hosts=("h1", "h2"), driver_factory=driver),
        on_teardown_error=lambda what, exc: told.append((what, str(exc))),
    )
    with cloud:
        pass
    assert told == [("shut down the driver of h1", "h1 would not shut down")]
    assert events[-1] == "stop conductor"
