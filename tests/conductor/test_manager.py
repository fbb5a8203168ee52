"""The conductor's object endpoints, in one process over ``inproc://`` and SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cumulo.compute.version import SERVICE_VERSION, UnsupportedServiceVersion
from cumulo.conductor.manager import ConductorManager
from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.conductor.service import ConductorService
from cumulo.db import create_engine, sync
from cumulo.db.exceptions import DatabaseError
from cumulo.model import Flavor, Instance, Service, ServiceBinary, ServiceList
from cumulo.model.exceptions import InstanceNotFound, UnexpectedTaskStateError
from cumulo.model.states import TaskState
from cumulo.objects import (
    Registry,
    VersionedObject,
    field,
    register,
    remotable,
    remotable_classmethod,
)
from cumulo.rpc import METRICS, Counters, RequestContext, get_transport
from cumulo.rpc.admin import get_metrics


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[ConductorAPI]:
    engine = create_engine(f"sqlite:///{tmp_path / 'cumulo.db'}")
    sync(engine)
    transport = get_transport(f"inproc://conductor-{uuid.uuid4().hex}")
    with ConductorService(transport, engine):
        api = ConductorAPI(transport, timeout=10)
        yield api
        api.close()
    engine.dispose()


@pytest.fixture
def ctx() -> RequestContext:
    return RequestContext(user_id="u", project_id="p1")


def _instance(ctx: RequestContext) -> Instance:
    flavor = Flavor(flavorid="f1", name="m1.tiny", memory_mb=512, vcpus=1, root_gb=1)
    flavor.obj_set_context(ctx)
    flavor.create()
    instance = Instance(uuid=uuid.uuid4(), user_id="u", project_id="p1", host="a", flavor=flavor)
    instance.obj_set_context(ctx)
    instance.create()
    return instance


def _get(api: ConductorAPI, ctx: RequestContext, instance_uuid: Any) -> Instance:
    result = api.object_class_action_versions(
        ctx, "Instance", "get_by_uuid", Instance.obj_tree_get_versions(), (instance_uuid,), {}
    )
    assert isinstance(result, Instance)
    return result


def test_ping(deployment: ConductorAPI, ctx: RequestContext) -> None:
    assert deployment.ping(ctx, 42) == {"service": "conductor", "arg": 42}


def test_class_action_runs_against_the_database(
    deployment: ConductorAPI, ctx: RequestContext
) -> None:
    instance = _instance(ctx)
    loaded = _get(deployment, ctx, instance.uuid)
    assert loaded.uuid == instance.uuid and loaded.host == "a"
    assert loaded.obj_what_changed() == set()


def test_object_action_returns_only_changes_and_writes_them(
    deployment: ConductorAPI, ctx: RequestContext
) -> None:
    instance = _instance(ctx)
    loaded = _get(deployment, ctx, instance.uuid)
    loaded.host = "b"
    updates, result = deployment.object_action(ctx, loaded, "save", (), {})
    assert result is None
    assert "host" not in updates  # the caller already has it
    assert updates["obj_what_changed"] == []
    assert set(updates) <= {"updated_at", "obj_what_changed"}
    assert Instance.get_by_uuid(ctx, instance.uuid).host == "b"


def test_flavor_writes_run_in_the_conductor(deployment: ConductorAPI, ctx: RequestContext) -> None:
    # Flavor 1.1's writes are remotable: a process without a database has the
    # conductor run them, and gets back only what changed.
    flavor = Flavor(flavorid="f2", name="m1.small", memory_mb=1024, vcpus=1, root_gb=1)
    flavor.obj_set_context(ctx)
    flavor.create()
    updates, _ = deployment.object_action(
        ctx, flavor, "update_extra_specs", ({"hw:cpu_policy": "dedicated"},), {}
    )
    assert updates["extra_specs"] == {"hw:cpu_policy": "dedicated"}
    deployment.object_action(ctx, flavor, "update_description", ("pinned CPUs",), {})
    stored = Flavor.get_by_flavorid(ctx, "f2")
    assert (stored.extra_specs, stored.description) == (
        {"hw:cpu_policy": "dedicated"},
        "pinned CPUs",
    )


def test_compare_and_swap_conflict_comes_back_typed_and_writes_nothing(
    deployment: ConductorAPI, ctx: RequestContext
) -> None:
    instance = _instance(ctx)
    first = _get(deployment, ctx, instance.uuid)
    second = _get(deployment, ctx, instance.uuid)
    first.task_state = TaskState.SPAWNING
    deployment.object_action(ctx, first, "save", (), {"expected_task_state": None})
    second.task_state = TaskState.DELETING
    second.host = "elsewhere"
    with pytest.raises(UnexpectedTaskStateError) as failure:
        deployment.object_action(ctx, second, "save", (), {"expected_task_state": None})
    assert "spawning" in str(failure.value)
    row = Instance.get_by_uuid(ctx, instance.uuid)
    assert (row.task_state, row.host) == (TaskState.SPAWNING, "a")


def test_not_found_comes_back_typed(deployment: ConductorAPI, ctx: RequestContext) -> None:
    with pytest.raises(InstanceNotFound):
        _get(deployment, ctx, uuid.uuid4())


def test_backport_versions_endpoint(deployment: ConductorAPI, ctx: RequestContext) -> None:
    instance = _instance(ctx)
    primitive = deployment.object_backport_versions(
        ctx, instance.obj_to_primitive(), Instance.obj_tree_get_versions()
    )
    # The serializer hands back what the conductor made: an object this process loads.
    assert isinstance(primitive, Instance)
    assert primitive.uuid == instance.uuid


def test_service_refuses_a_database_that_was_not_synced(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    service = ConductorService(get_transport("inproc://unsynced"), engine)
    with pytest.raises(DatabaseError, match="cumulo db sync"):
        service.start()
    engine.dispose()


# --- results go back at the caller's versions ---------------------------------------------

_REGISTRY = Registry()


class _Base(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "conductor_test"
    OBJ_SERIAL_NAMESPACE = "conductor_test_object"
    OBJ_REGISTRY = _REGISTRY


@register
class Widget(_Base):
    VERSION = "1.1"
    name: str
    color: str = field(default="red", added="1.1")

    @remotable_classmethod
    def make(cls: type[Widget], context: Any, name: str) -> Widget:
        return cls(name=name, color="blue")

    @remotable
    def rename(self, name: str) -> str:
        self.name = name
        return "renamed"


def test_class_action_result_is_backported_to_the_callers_manifest() -> None:
    metrics = Counters()
    manager = ConductorManager(_Base, metrics=metrics)
    ctx = RequestContext()
    old = manager.object_class_action_versions(ctx, "Widget", "make", {"Widget": "1.0"}, ["w"], {})
    assert old["conductor_test_object.version"] == "1.0"
    assert old["conductor_test_object.data"] == {"name": "w"}
    assert old["conductor_test_object.changes"] == ["name"]
    current = manager.object_class_action_versions(
        ctx, "Widget", "make", {"Widget": "1.1"}, ["w"], {}
    )
    assert isinstance(current, Widget) and current.color == "blue"
    # Only the result that had to go back older is counted.
    assert metrics.snapshot() == {"conductor.result_backports": 1}


def test_backports_served_are_counted_and_the_admin_endpoint_reports_them(
    deployment: ConductorAPI, ctx: RequestContext
) -> None:
    instance = _instance(ctx)
    instance.description = "a 1.1 field"
    before = METRICS.get("conductor.backports_served")
    backported = deployment.object_backport_versions(
        ctx, instance.obj_to_primitive(), {**Instance.obj_tree_get_versions(), "Instance": "1.0"}
    )
    # (This process loads the 1.0 primitive back; a 1.0 peer reads it as it is.)
    assert isinstance(backported, Instance) and backported.uuid == instance.uuid
    assert backported.description is None  # dropped on the way to 1.0
    assert METRICS.get("conductor.backports_served") == before + 1
    counters = get_metrics(deployment.client.transport, ctx, "conductor")
    assert counters["conductor.backports_served"] == before + 1


def test_object_action_runs_the_method_and_reports_changes() -> None:
    manager = ConductorManager(_Base)
    widget = Widget(name="a")
    widget.obj_reset_changes()
    updates, result = manager.object_action(RequestContext(), widget, "rename", ["b"], {})
    assert result == "renamed"
    assert updates["name"] == "b"
    assert updates["obj_what_changed"] == ["name"]


def test_object_action_refuses_a_non_object() -> None:
    with pytest.raises(TypeError, match="needs an object"):
        ConductorManager(_Base).object_action(RequestContext(), {"x": 1}, "save", [], {})  # type: ignore[arg-type]


def test_class_action_needs_the_object_in_the_manifest() -> None:
    with pytest.raises(ValueError, match="does not name 'Widget'"):
        ConductorManager(_Base).object_class_action_versions(
            RequestContext(), "Widget", "make", {}, ["w"], {}
        )


@pytest.mark.parametrize(
    ("level", "match"),
    [
        (0, "compute old-host is at service level 0, below the oldest level"),
        (SERVICE_VERSION + 1, "newer than this code .*: upgrade the conductor first"),
    ],
)
def test_a_compute_at_an_unsupported_level_cannot_register(
    deployment: ConductorAPI, ctx: RequestContext, level: int, match: str
) -> None:
    # Whatever release the compute runs, its Service.create runs here, in the conductor.
    service = Service(
        uuid=uuid.uuid4(), host="old-host", binary=ServiceBinary.COMPUTE, topic="compute"
    )
    service.version = level
    with pytest.raises(UnsupportedServiceVersion, match=match):
        deployment.object_action(ctx, service, "create", (), {})
    assert ServiceList.get_all(ctx, binary=ServiceBinary.COMPUTE).objects == []
    service.version = SERVICE_VERSION
    updates, _ = deployment.object_action(ctx, service, "create", (), {})
    assert updates["id"] > 0
