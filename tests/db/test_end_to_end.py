"""End to end on SQLite: the objects' remotable methods running on ``SqlStorage``,
as the conductor runs them (``set_storage(SqlStorage(create_engine(url)))``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cumulo.db.api import SqlStorage
from cumulo.db.engine import create_engine, sync
from cumulo.db.models import InstanceRow
from cumulo.model import (
    BlockDeviceMapping,
    BlockDeviceMappingList,
    DestinationType,
    Flavor,
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceActionEventList,
    InstanceFault,
    InstanceList,
    Migration,
    MigrationList,
    MigrationStatus,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupRule,
    Service,
    ServiceBinary,
    SourceType,
    Storage,
    TaskState,
    UnexpectedTaskStateError,
    VmState,
    set_storage,
)
from cumulo.objects import lazy_load_counts, reset_lazy_load_counts

from .conftest import Ctx, counted_queries, new_uuid


@pytest.fixture
def conductor(tmp_path) -> Iterator[SqlStorage]:
    """A conductor's storage on a fresh SQLite file, installed for the objects."""
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'cumulo.db'}")
    sync(engine)
    storage = SqlStorage(engine)
    previous = set_storage(storage)
    reset_lazy_load_counts()
    try:
        yield storage
    finally:
        set_storage(previous)
        engine.dispose()


@pytest.fixture
def ctx() -> Ctx:
    return Ctx(request_id="req-e2e")


def test_sql_storage_is_a_storage(conductor):
    assert isinstance(conductor, Storage)


def test_an_instance_through_its_remotable_methods(conductor, ctx):
    flavor = Flavor(flavorid="m1", name="m1", memory_mb=1024, vcpus=1).obj_set_context(ctx)
    flavor.create()
    group = SecurityGroup(
        name="ssh", project_id="p1", rules=[SecurityGroupRule(protocol="tcp", from_port=22)]
    ).obj_set_context(ctx)
    group.create()

    inst = Instance(
        uuid=new_uuid(),
        user_id="alice",
        project_id="p1",
        host="a",
        vm_state=VmState.ACTIVE,
        flavor=flavor,
        security_groups=SecurityGroupList(objects=[group]),
    ).obj_set_context(ctx)
    inst.create()
    assert inst.id > 0 and inst.created_at is not None
    assert inst.obj_what_changed() == set()

    loaded = Instance.get_by_uuid(ctx, inst.uuid)
    assert loaded.host == "a" and loaded.obj_context is ctx
    loaded.host = "b"
    loaded.save()
    assert loaded.obj_what_changed() == set() and loaded.updated_at is not None
    assert Instance.get_by_uuid(ctx, str(inst.uuid)).host == "b"

    on_b = InstanceList.get_by_host(ctx, "b")
    assert [i.uuid for i in on_b] == [inst.uuid]
    assert InstanceList.get_by_host(ctx, "a").objects == []

    # a lazy load: one round trip, counted once, then cached on the object
    assert lazy_load_counts() == {}
    assert on_b.objects[0].flavor.name == "m1"
    assert on_b.objects[0].flavor.memory_mb == 1024
    assert lazy_load_counts() == {("Instance", "flavor"): 1}

    # lists asked for their lazy fields need no lazy load at all
    reset_lazy_load_counts()
    listed = InstanceList.get_by_host(ctx, "b", expected_attrs=["flavor", "security_groups"])
    assert listed.objects[0].security_groups.objects[0].rules[0].from_port == 22
    assert listed.objects[0].flavor.vcpus == 1
    assert lazy_load_counts() == {}


def test_compare_and_swap_through_save(conductor, ctx):
    inst = Instance(uuid=new_uuid(), user_id="u", project_id="p1", host="a").obj_set_context(ctx)
    inst.create()
    first = Instance.get_by_uuid(ctx, inst.uuid)
    second = Instance.get_by_uuid(ctx, inst.uuid)
    first.task_state = TaskState.REBOOTING
    first.save(expected_task_state=None)
    second.task_state = TaskState.POWERING_OFF
    with pytest.raises(UnexpectedTaskStateError, match="found rebooting"):
        second.save(expected_task_state=[None])
    assert Instance.get_by_uuid(ctx, inst.uuid).task_state is TaskState.REBOOTING


def test_save_with_nothing_changed_sends_nothing(conductor, ctx):
    inst = Instance(uuid=new_uuid(), user_id="u", project_id="p1").obj_set_context(ctx)
    inst.create()
    with counted_queries(conductor.engine) as statements:
        inst.save()
    assert statements == []


def test_destroy_and_the_rest_of_an_instances_records(conductor, ctx):
    inst = Instance(uuid=new_uuid(), user_id="u", project_id="p1", host="a").obj_set_context(ctx)
    inst.create()
    bdm = BlockDeviceMapping(
        uuid=new_uuid(),
        instance_uuid=inst.uuid,
        source_type=SourceType.BLANK,
        destination_type=DestinationType.LOCAL,
        guest_format="swap",
        device_name="/dev/vdb",
    ).obj_set_context(ctx)
    bdm.create()
    assert BlockDeviceMappingList.get_by_instance_uuid(ctx, inst.uuid).objects[0].is_swap

    migration = Migration(uuid=new_uuid(), instance_uuid=inst.uuid).obj_set_context(ctx)
    migration.create()
    migration.status = MigrationStatus.COMPLETED
    migration.save()
    assert MigrationList.get_by_instance(ctx, inst.uuid).objects[0].is_final

    InstanceAction.action_start(ctx, inst.uuid, "reboot")
    InstanceActionEvent.event_start(ctx, inst.uuid, "compute_reboot_instance", host="a")
    InstanceActionEvent.event_finish(ctx, inst.uuid, "compute_reboot_instance")
    action = InstanceAction.action_finish(ctx, inst.uuid)
    assert action.request_id == "req-e2e" and action.finish_time is not None
    events = InstanceActionEventList.get_by_action(ctx, action.id)
    assert events.objects[0].result == "Success"

    fault = InstanceFault.from_exception(inst.uuid, RuntimeError("disk full"), host="a")
    fault.obj_set_context(ctx).create()
    assert InstanceFault.get_latest_for_instance(ctx, inst.uuid).message == "disk full"

    inst.destroy()
    assert inst.deleted and inst.deleted_at is not None
    assert InstanceList.get_by_host(ctx, "a").objects == []
    assert InstanceList.get_all(ctx, include_deleted=True).objects[0].uuid == inst.uuid
    assert BlockDeviceMappingList.get_by_instance_uuid(ctx, inst.uuid).objects == []
    with conductor.engine.connect() as connection:
        rows = connection.execute(InstanceRow.__table__.select()).all()
    assert len(rows) == 1


def test_services_report_their_versions(conductor, ctx):
    for host, version in (("a", 3), ("b", 2)):
        Service(
            uuid=new_uuid(),
            host=host,
            binary=ServiceBinary.COMPUTE,
            topic="compute",
            version=version,
            object_manifest=Instance.obj_tree_get_versions(),
        ).obj_set_context(ctx).create()
    assert Service.get_minimum_version(ctx, "cumulo-compute") == 2
    service = Service.get_by_host_and_binary(ctx, "a", "cumulo-compute")
    assert service.object_manifest["Instance"] == Instance.VERSION
    service.report_count += 1
    service.save()
    assert Service.get_by_host_and_binary(ctx, "a", "cumulo-compute").report_count == 1
