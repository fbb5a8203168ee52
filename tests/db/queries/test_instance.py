"""Tests of cumulo/db/queries/instance.py through ``SqlStorage``: instances read back
with every lazy field, lists without N+1 queries, soft delete, the compare-and-swap
save, atomic writes. Each test runs on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import ipaddress
import threading
import uuid
from datetime import timedelta

import pytest

from cumulo.db.models import (
    InstanceInfoCacheRow,
    InstanceRow,
    InstanceTagRow,
    SecurityGroupInstanceAssociationRow,
)
from cumulo.model import (
    LAZY_FIELDS,
    VIF,
    AlreadyExists,
    FixedIP,
    FlavorNotFound,
    Instance,
    InstanceFault,
    InstanceInfoCache,
    InstanceInfoCacheNotFound,
    InstanceNotFound,
    Network,
    NetworkInfo,
    PowerState,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupNotFound,
    Subnet,
    TaskState,
    UnexpectedDeletingTaskStateError,
    UnexpectedTaskStateError,
    UnexpectedVmStateError,
    VmState,
)
from cumulo.model.storage import InstanceFilters

from ..conftest import NOW, counted_queries, make_flavor, make_group, make_instance, new_uuid

ALL = list(LAZY_FIELDS)


def network_info() -> NetworkInfo:
    vif = VIF(
        id=uuid.UUID("2f1d0a3c-4b5e-4f60-8a7b-9c0d1e2f3a4b"),
        address="fa:16:3e:00:00:01",
        network=Network(
            id=uuid.UUID("0c6a0b1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"),
            label="private",
            bridge="br100",
            subnets=[Subnet(cidr="10.0.0.0/24", ips=[FixedIP(address="10.0.0.5")])],
        ),
    )
    return NetworkInfo(objects=[vif])


def full_instance(storage, ctx, **values) -> Instance:
    """A stored instance with a flavor, a security group, tags and network info."""
    flavor = storage.flavor_create(ctx, make_flavor())
    group = storage.security_group_create(ctx, make_group())
    inst = make_instance(
        flavor=flavor,
        security_groups=SecurityGroupList(objects=[group]),
        tags=["blue", "prod"],
        info_cache=_cache(network_info()),
        **values,
    )
    return storage.instance_create(ctx, inst)


def _cache(info: NetworkInfo) -> InstanceInfoCache:
    return InstanceInfoCache(instance_uuid=new_uuid(), network_info=info)


# --- create and read ---------------------------------------------------------------------------


def test_create_assigns_id_and_created_at_and_keeps_every_field(storage, ctx):
    inst = make_instance(
        vm_state=VmState.ACTIVE,
        power_state=PowerState.RUNNING,
        launched_at=NOW,
        key_data="ssh-ed25519 AAAA" + "x" * 70000,
        user_data="I2Nsb3VkLWNvbmZpZw==",
        config_drive=True,
        locked=True,
        locked_by="admin",
        access_ip_v4="203.0.113.7",
        access_ip_v6="2001:db8::7",
        reservation_id="r-abcd1234",
        launch_index=2,
    )
    created = storage.instance_create(ctx, inst)
    assert created.id > 0
    assert created.created_at is not None and created.created_at.tzinfo is not None
    assert created.obj_what_changed() == set()
    fetched = storage.instance_get_by_uuid(ctx, inst.uuid, [])
    assert fetched == created
    for name in inst.obj_fields():
        if name in LAZY_FIELDS or name in ("id", "created_at"):
            continue
        assert getattr(fetched, name) == getattr(inst, name), name
    assert fetched.launched_at == NOW  # microseconds and UTC survive every backend
    assert fetched.access_ip_v6 == ipaddress.IPv6Address("2001:db8::7")
    assert fetched.vm_state is VmState.ACTIVE and fetched.power_state is PowerState.RUNNING
    for lazy in LAZY_FIELDS:
        assert not fetched.obj_attr_is_set(lazy)


def test_expected_attrs_load_every_lazy_field(storage, ctx):
    created = full_instance(storage, ctx)
    fault = storage.instance_fault_create(
        ctx, InstanceFault(instance_uuid=created.uuid, message="boom", host="host-a")
    )
    got = storage.instance_get_by_uuid(ctx, created.uuid, ALL)
    assert got.flavor.flavorid == "m1.small"
    assert got.flavor.extra_specs == {"hw:cpu_policy": "dedicated"}
    assert got.info_cache.network_info == network_info()
    assert got.info_cache.instance_uuid == created.uuid
    assert [g.name for g in got.security_groups.objects] == ["web"]
    assert got.security_groups.objects[0].rules[0].from_port == 80
    assert got.fault == fault
    assert got.tags == ["blue", "prod"]
    assert got.obj_what_changed() == set()


def test_create_returns_the_lazy_fields_it_was_given(storage, ctx):
    created = full_instance(storage, ctx)
    assert created.flavor.name == "m1.small"
    assert created.tags == ["blue", "prod"]
    assert created.info_cache.network_info == network_info()
    assert not created.obj_attr_is_set("fault")


def test_create_without_cache_makes_an_empty_one(storage, ctx, database):
    inst = storage.instance_create(ctx, make_instance())
    cache = storage.info_cache_get(ctx, inst.uuid)
    assert cache.network_info == NetworkInfo()
    assert database.count(InstanceInfoCacheRow) == 1


def test_get_by_uuid_of_an_unknown_instance(storage, ctx):
    missing = new_uuid()
    with pytest.raises(InstanceNotFound, match=f"instance not found: uuid={missing}"):
        storage.instance_get_by_uuid(ctx, missing, [])


def test_a_used_uuid_is_a_clear_error_and_writes_nothing(storage, ctx, database):
    inst = storage.instance_create(ctx, make_instance())
    again = make_instance(uuid=inst.uuid, host="host-b")
    with pytest.raises(AlreadyExists, match=f"instance already exists: uuid={inst.uuid}"):
        storage.instance_create(ctx, again)
    assert database.count(InstanceRow) == 1
    assert database.count(InstanceInfoCacheRow) == 1


def test_a_failure_midway_through_create_leaves_no_rows(storage, ctx, database):
    # The instance row is written first; the unknown group fails after it.
    ghost = SecurityGroup(id=987654, name="ghost", project_id="p1")
    inst = make_instance(security_groups=SecurityGroupList(objects=[ghost]), tags=["t"])
    with pytest.raises(SecurityGroupNotFound, match="security group not found: id=987654"):
        storage.instance_create(ctx, inst)
    assert database.count(InstanceRow) == 0
    assert database.count(InstanceInfoCacheRow) == 0
    assert database.count(InstanceTagRow) == 0


def test_security_groups_without_id_are_found_by_name(storage, ctx):
    storage.security_group_create(ctx, make_group(name="db"))
    named = SecurityGroup(name="db", project_id="p1")
    inst = storage.instance_create(
        ctx, make_instance(security_groups=SecurityGroupList(objects=[named]))
    )
    assert [g.name for g in inst.security_groups.objects] == ["db"]


def test_over_long_strings_are_refused_on_every_backend(storage, ctx, database):
    with pytest.raises(ValueError, match=r"Instance.display_name: at most 255 characters"):
        storage.instance_create(ctx, make_instance(display_name="x" * 256))
    assert database.count(InstanceRow) == 0


# --- lists -------------------------------------------------------------------------------------


def test_get_all_by_host_is_oldest_first_and_skips_deleted_and_other_hosts(storage, ctx):
    first = storage.instance_create(ctx, make_instance(created_at=NOW))
    second = storage.instance_create(ctx, make_instance(created_at=NOW + timedelta(seconds=1)))
    storage.instance_create(ctx, make_instance(host="host-b"))
    gone = storage.instance_create(ctx, make_instance())
    storage.instance_destroy(ctx, gone.uuid)
    listed = storage.instance_get_all_by_host(ctx, "host-a", [])
    assert [i.uuid for i in listed] == [first.uuid, second.uuid]


def test_list_queries_do_not_grow_with_the_number_of_instances(storage, ctx, database):
    full_instance(storage, ctx)
    flavor = storage.flavor_get_by_flavorid(ctx, "m1.small")
    group = storage.security_group_get_by_name(ctx, "p1", "web")

    def listed() -> tuple[int, list[Instance]]:
        with counted_queries(database.engine) as statements:
            found = storage.instance_get_all_by_host(ctx, "host-a", ALL)
        return len(statements), found

    one, _ = listed()
    for n in range(9):
        inst = storage.instance_create(
            ctx,
            make_instance(
                flavor=flavor,
                security_groups=SecurityGroupList(objects=[group]),
                tags=[f"t{n}"],
            ),
        )
        storage.instance_fault_create(ctx, InstanceFault(instance_uuid=inst.uuid, message="x"))
    ten, found = listed()
    assert len(found) == 10
    assert ten == one <= 5  # rows+caches, groups, their rules, tags, faults
    for inst in found:
        for name in ALL:
            assert inst.obj_attr_is_set(name), name
    assert all(i.fault is not None for i in found[1:])


def test_get_all_filters(storage, ctx):
    a = storage.instance_create(ctx, make_instance(vm_state=VmState.ACTIVE))
    b = storage.instance_create(ctx, make_instance(host="host-b", node="node-b"))
    c = storage.instance_create(ctx, make_instance(project_id="p2", vm_state=VmState.STOPPED))
    storage.instance_destroy(ctx, c.uuid)

    def uuids(**filters) -> list[uuid.UUID]:
        return [i.uuid for i in storage.instance_get_all(ctx, InstanceFilters(**filters), [])]

    assert uuids() == [a.uuid, b.uuid]
    assert uuids(include_deleted=True) == [a.uuid, b.uuid, c.uuid]
    assert uuids(host="host-b") == [b.uuid]
    assert uuids(node="node-a") == [a.uuid]
    assert uuids(project_id="p2", include_deleted=True) == [c.uuid]
    assert uuids(vm_states=(VmState.ACTIVE, VmState.STOPPED), include_deleted=True) == [
        a.uuid,
        c.uuid,
    ]
    assert uuids(uuids=(b.uuid, new_uuid())) == [b.uuid]
    assert uuids(uuids=()) == []
    assert uuids(limit=1) == [a.uuid]


# --- soft delete -------------------------------------------------------------------------------


def test_destroy_keeps_the_rows_marked_deleted(storage, ctx, database):
    inst = full_instance(storage, ctx)
    deleted = storage.instance_destroy(ctx, inst.uuid)
    assert deleted.deleted is True and deleted.deleted_at is not None
    assert database.count(InstanceRow, InstanceRow.uuid == inst.uuid) == 1
    assert database.count(InstanceRow, InstanceRow.deleted != 0) == 1
    assert database.count(InstanceInfoCacheRow, InstanceInfoCacheRow.deleted != 0) == 1
    # hidden from default queries, still readable by uuid, with its lazy fields
    assert storage.instance_get_all_by_host(ctx, "host-a", []) == []
    again = storage.instance_get_by_uuid(ctx, inst.uuid, ALL)
    assert again.deleted and again.tags == ["blue", "prod"]
    assert storage.info_cache_get(ctx, inst.uuid).deleted is True
    # destroying again changes nothing
    assert storage.instance_destroy(ctx, inst.uuid).deleted_at == deleted.deleted_at


def test_destroy_of_an_unknown_instance(storage, ctx):
    with pytest.raises(InstanceNotFound):
        storage.instance_destroy(ctx, new_uuid())


# --- save: compare-and-swap --------------------------------------------------------------------


def test_save_writes_the_changes_and_returns_the_row(storage, ctx):
    inst = storage.instance_create(ctx, make_instance())
    saved = storage.instance_save(
        ctx,
        inst.uuid,
        {"host": "host-b", "metadata": {"role": "db"}, "power_state": PowerState.RUNNING},
        None,
        None,
    )
    assert saved.host == "host-b" and saved.metadata == {"role": "db"}
    assert saved.updated_at is not None
    assert storage.instance_get_by_uuid(ctx, inst.uuid, []) == saved


def test_two_writers_the_second_loses_and_the_row_keeps_the_first(storage, ctx):
    inst = storage.instance_create(ctx, make_instance(vm_state=VmState.ACTIVE))
    storage.instance_save(
        ctx, inst.uuid, {"task_state": TaskState.REBOOTING, "host": "first"}, (None,), None
    )
    with pytest.raises(UnexpectedTaskStateError) as caught:
        storage.instance_save(
            ctx, inst.uuid, {"task_state": TaskState.PAUSING, "host": "second"}, (None,), None
        )
    assert caught.value.expected == (None,)
    assert caught.value.actual is TaskState.REBOOTING
    assert "expected task_state in [None], found rebooting" in str(caught.value)
    row = storage.instance_get_by_uuid(ctx, inst.uuid, [])
    assert (row.task_state, row.host) == (TaskState.REBOOTING, "first")


def test_concurrent_writers_exactly_one_wins(storage, ctx):
    inst = storage.instance_create(ctx, make_instance(vm_state=VmState.ACTIVE))
    results: list[str] = []
    start = threading.Barrier(6)

    def writer(n: int) -> None:
        start.wait()
        try:
            storage.instance_save(
                ctx, inst.uuid, {"task_state": TaskState.REBOOTING, "host": f"w{n}"}, (None,), None
            )
            results.append(f"w{n}")
        except UnexpectedTaskStateError:
            results.append("lost")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if r != "lost"]
    assert len(results) == 6 and len(winners) == 1
    assert storage.instance_get_by_uuid(ctx, inst.uuid, []).host == winners[0]


def test_expected_task_states_may_mix_none_and_states(storage, ctx):
    inst = storage.instance_create(ctx, make_instance(task_state=TaskState.SPAWNING))
    saved = storage.instance_save(
        ctx, inst.uuid, {"task_state": None}, (None, TaskState.SPAWNING), None
    )
    assert saved.task_state is None
    saved = storage.instance_save(
        ctx, inst.uuid, {"task_state": TaskState.REBOOTING}, (TaskState.SPAWNING, None), None
    )
    assert saved.task_state is TaskState.REBOOTING
    with pytest.raises(UnexpectedTaskStateError, match=r"expected task_state in \[\]"):
        storage.instance_save(ctx, inst.uuid, {"host": "x"}, (), None)


def test_unexpected_vm_state(storage, ctx):
    inst = storage.instance_create(ctx, make_instance(vm_state=VmState.STOPPED))
    with pytest.raises(UnexpectedVmStateError) as caught:
        storage.instance_save(
            ctx, inst.uuid, {"vm_state": VmState.ACTIVE}, None, (VmState.ACTIVE, VmState.PAUSED)
        )
    assert caught.value.actual is VmState.STOPPED
    assert "expected vm_state in [active, paused], found stopped" in str(caught.value)
    assert storage.instance_get_by_uuid(ctx, inst.uuid, []).vm_state is VmState.STOPPED


def test_a_deleting_instance_raises_the_deleting_error(storage, ctx):
    inst = storage.instance_create(ctx, make_instance(task_state=TaskState.DELETING))
    with pytest.raises(UnexpectedDeletingTaskStateError):
        storage.instance_save(ctx, inst.uuid, {"host": "b"}, (None,), None)


def test_save_of_an_unknown_instance(storage, ctx):
    with pytest.raises(InstanceNotFound):
        storage.instance_save(ctx, new_uuid(), {"host": "b"}, (None,), None)


def test_save_replaces_groups_tags_flavor_and_cache(storage, ctx, database):
    inst = full_instance(storage, ctx)
    other = storage.security_group_create(ctx, make_group(name="db"))
    bigger = make_flavor(flavorid="m1.large", name="m1.large", memory_mb=8192)
    saved = storage.instance_save(
        ctx,
        inst.uuid,
        {
            "security_groups": SecurityGroupList(objects=[other]),
            "tags": ["green"],
            "flavor": bigger,
            "info_cache": _cache(NetworkInfo()),
        },
        None,
        None,
    )
    assert [g.name for g in saved.security_groups.objects] == ["db"]
    assert saved.tags == ["green"]
    assert saved.flavor.memory_mb == 8192
    assert saved.info_cache.network_info == NetworkInfo()
    assert not saved.obj_attr_is_set("fault")
    assert database.count(SecurityGroupInstanceAssociationRow) == 1
    assert database.count(InstanceTagRow) == 1


def test_a_failed_save_leaves_the_row_as_it_was(storage, ctx, database):
    inst = full_instance(storage, ctx)
    ghost = SecurityGroup(id=424242, name="ghost", project_id="p1")
    with pytest.raises(SecurityGroupNotFound):
        storage.instance_save(
            ctx,
            inst.uuid,
            {"host": "host-z", "tags": [], "security_groups": SecurityGroupList(objects=[ghost])},
            (None,),
            None,
        )
    row = storage.instance_get_by_uuid(ctx, inst.uuid, ["tags", "security_groups"])
    assert row.host == "host-a" and row.updated_at is None
    assert row.tags == ["blue", "prod"]
    assert [g.name for g in row.security_groups.objects] == ["web"]


def test_save_refuses_fields_it_cannot_store(storage, ctx):
    inst = storage.instance_create(ctx, make_instance())
    with pytest.raises(ValueError, match="Instance has no stored fields"):
        storage.instance_save(ctx, inst.uuid, {"bogus": 1}, None, None)


# --- lazy loads and the info cache -------------------------------------------------------------


def test_load_attr_of_each_lazy_field(storage, ctx):
    inst = full_instance(storage, ctx)
    assert storage.instance_load_attr(ctx, inst.uuid, "flavor").name == "m1.small"
    assert storage.instance_load_attr(ctx, inst.uuid, "info_cache").network_info == network_info()
    groups = storage.instance_load_attr(ctx, inst.uuid, "security_groups")
    assert isinstance(groups, SecurityGroupList) and groups.objects[0].name == "web"
    assert storage.instance_load_attr(ctx, inst.uuid, "fault") is None
    assert storage.instance_load_attr(ctx, inst.uuid, "tags") == ["blue", "prod"]
    with pytest.raises(ValueError, match="no lazy field 'host'"):
        storage.instance_load_attr(ctx, inst.uuid, "host")
    with pytest.raises(InstanceNotFound):
        storage.instance_load_attr(ctx, new_uuid(), "tags")


def test_an_instance_without_a_flavor(storage, ctx):
    inst = storage.instance_create(ctx, make_instance())
    with pytest.raises(FlavorNotFound, match=f"instance_uuid={inst.uuid}"):
        storage.instance_load_attr(ctx, inst.uuid, "flavor")
    listed = storage.instance_get_all_by_host(ctx, "host-a", ["flavor"])
    assert not listed[0].obj_attr_is_set("flavor")


def test_info_cache_save_replaces_the_network_info(storage, ctx):
    inst = storage.instance_create(ctx, make_instance())
    saved = storage.info_cache_save(ctx, inst.uuid, network_info())
    assert saved.network_info == network_info() and saved.updated_at is not None
    assert storage.info_cache_get(ctx, inst.uuid) == saved


def test_info_cache_of_an_unknown_instance(storage, ctx):
    missing = new_uuid()
    with pytest.raises(InstanceInfoCacheNotFound, match=f"instance_uuid={missing}"):
        storage.info_cache_get(ctx, missing)
    with pytest.raises(InstanceNotFound):
        storage.info_cache_save(ctx, missing, network_info())


def test_network_info_is_stored_as_a_versioned_primitive(storage, ctx, database):
    storage.instance_create(ctx, make_instance(info_cache=_cache(network_info())))
    [(text,)] = database.raw("SELECT network_info FROM instance_info_caches")
    assert '"cumulo_object.name":"NetworkInfo"' in text
    assert '"cumulo_object.version":"1.0"' in text
    assert "cumulo_object.changes" not in text
