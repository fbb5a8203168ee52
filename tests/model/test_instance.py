"""Tests of cumulo/model/instance.py: fields, the derived name, lazy loading,
and the object side of the remotable methods (what goes to storage, what comes
back)."""

import datetime as dt
import uuid

import pytest

from cumulo.model import (
    LAZY_FIELDS,
    VIF,
    FixedIP,
    Flavor,
    Instance,
    InstanceFault,
    InstanceInfoCache,
    InstanceList,
    InstanceNotFound,
    Network,
    NetworkInfo,
    ObjectActionError,
    PowerState,
    SecurityGroup,
    SecurityGroupList,
    Subnet,
    TaskState,
    UnexpectedTaskStateError,
    UnexpectedVmStateError,
    VmState,
)
from cumulo.objects import (
    FieldValueError,
    LazyLoadError,
    OrphanedObjectError,
    ReadOnlyFieldError,
    lazy_load_counts,
    obj_to_loggable,
)

UUID = uuid.UUID("6e5bd4a4-4b4f-4a3e-9a0a-1c8d3b8a0f11")
NOW = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def flavor() -> Flavor:
    flv = Flavor(id=7, flavorid="m1.small", name="m1.small", memory_mb=2048, vcpus=1, root_gb=20)
    flv.obj_reset_changes()
    return flv


def row(**values) -> Instance:
    """An instance as storage returns it."""
    fields = {
        "id": 1,
        "uuid": UUID,
        "user_id": "alice",
        "project_id": "p1",
        "host": "host-a",
        "vm_state": VmState.ACTIVE,
        "power_state": PowerState.RUNNING,
        "created_at": NOW,
    }
    fields.update(values)
    inst = Instance(**fields)
    inst.obj_reset_changes(recursive=True)
    return inst


def loaded(ctx, **values) -> Instance:
    return row(**values).obj_set_context(ctx)


# --- fields ---------------------------------------------------------------------------


def test_defaults_of_a_new_instance():
    inst = Instance(uuid=UUID, user_id="u", project_id="p")
    assert inst.vm_state is VmState.BUILDING
    assert inst.task_state is None
    assert inst.power_state is PowerState.NOSTATE
    assert (inst.memory_mb, inst.vcpus, inst.root_gb, inst.ephemeral_gb) == (0, 0, 0, 0)
    assert (inst.metadata, inst.system_metadata) == ({}, {})
    assert (inst.config_drive, inst.locked, inst.deleted) == (False, False, False)
    assert not inst.obj_attr_is_set("id")
    for name in LAZY_FIELDS:
        assert not inst.obj_attr_is_set(name)


def test_states_are_enums_and_refuse_unknown_values():
    inst = Instance(uuid=UUID, user_id="u", project_id="p", vm_state="active", power_state=4)
    assert inst.vm_state is VmState.ACTIVE
    assert inst.power_state is PowerState.SHUTDOWN
    inst.task_state = "spawning"
    assert inst.task_state is TaskState.SPAWNING
    with pytest.raises(FieldValueError, match=r"Instance\.vm_state"):
        inst.vm_state = "running"
    with pytest.raises(FieldValueError, match=r"Instance\.power_state"):
        inst.power_state = 2
    with pytest.raises(FieldValueError, match=r"Instance\.task_state"):
        inst.task_state = "dancing"


def test_power_state_codes_are_novas():
    assert [(s.name, int(s)) for s in PowerState] == [
        ("NOSTATE", 0),
        ("RUNNING", 1),
        ("PAUSED", 3),
        ("SHUTDOWN", 4),
        ("CRASHED", 6),
        ("SUSPENDED", 7),
    ]


def test_metadata_holds_strings_only():
    inst = row()
    inst.metadata["role"] = "web"
    assert inst.obj_what_changed() == {"metadata"}
    with pytest.raises(FieldValueError, match="metadata"):
        inst.metadata["port"] = 80


def test_id_and_uuid_are_read_only():
    inst = row()
    with pytest.raises(ReadOnlyFieldError):
        inst.id = 2
    with pytest.raises(ReadOnlyFieldError):
        inst.uuid = uuid.uuid4()


def test_name_is_derived_not_a_field():
    assert "name" not in Instance.obj_fields()
    assert row(id=255).name == "instance-000000ff"
    assert Instance(uuid=UUID, user_id="u", project_id="p").name == f"instance-{UUID}"


def test_size_is_the_flavor_when_loaded_else_the_own_fields_and_never_loads():
    flavor = Flavor(
        flavorid="f1", name="m1", vcpus=2, memory_mb=2048, root_gb=10, ephemeral_gb=5, swap=512
    )
    assert row(flavor=flavor).size() is flavor
    own = row(vcpus=3, memory_mb=1024, root_gb=20, ephemeral_gb=1)
    before = dict(lazy_load_counts())
    size = own.size()
    assert (size.vcpus, size.memory_mb, size.root_gb, size.ephemeral_gb, size.swap) == (
        3,
        1024,
        20,
        1,
        0,
    )
    assert not own.obj_attr_is_set("flavor") and dict(lazy_load_counts()) == before
    assert "size" not in Instance.obj_fields()


def test_user_data_is_masked_in_logs_and_repr():
    inst = row(user_data="c2VjcmV0")
    assert obj_to_loggable(inst)["user_data"] == "***"
    assert "c2VjcmV0" not in repr(inst)


def test_round_trip_with_every_lazy_field_loaded():
    inst = row(
        flavor=flavor(),
        info_cache=InstanceInfoCache(instance_uuid=UUID),
        security_groups=SecurityGroupList(
            objects=[SecurityGroup(id=1, name="web", project_id="p1")]
        ),
        fault=None,
        tags=["db"],
    )
    again = Instance.obj_from_json(inst.obj_to_json())
    assert again == inst
    assert again.flavor.memory_mb == 2048
    assert again.fault is None


# --- lazy loading -------------------------------------------------------------------------


def test_lazy_field_loads_through_storage_once_and_is_counted(ctx, storage):
    storage.returns["instance_load_attr"] = flavor()
    inst = loaded(ctx)
    assert inst.flavor.flavorid == "m1.small"
    assert inst.flavor.vcpus == 1
    assert storage.calls == [("instance_load_attr", (ctx, UUID, "flavor"), {})]
    assert lazy_load_counts() == {("Instance", "flavor"): 1}
    # A loaded field is not a change to save.
    assert inst.obj_what_changed() == set()


def test_lazy_fault_may_load_as_none(ctx, storage):
    storage.returns["instance_load_attr"] = None
    inst = loaded(ctx)
    assert inst.fault is None
    assert inst.fault is None
    assert storage.names() == ["instance_load_attr"]


def test_lazy_load_needs_a_context(storage):
    with pytest.raises(OrphanedObjectError, match="without a context"):
        row().flavor  # noqa: B018
    assert storage.calls == []


def test_non_lazy_unknown_load_is_refused(ctx):
    with pytest.raises(LazyLoadError, match="cannot lazy-load 'host'"):
        loaded(ctx).obj_load_attr("host")
    with pytest.raises(ValueError, match="no lazy field 'host'"):
        Instance.get_lazy_field(ctx, UUID, "host")


# --- queries -------------------------------------------------------------------------------


def test_get_by_uuid_sends_the_uuid_and_expected_attrs(ctx, storage):
    found = row(flavor=flavor())
    found.host = "dirty"  # storage left a change: the object side must clear it
    storage.returns["instance_get_by_uuid"] = found
    inst = Instance.get_by_uuid(ctx, str(UUID), expected_attrs=["flavor", "flavor"])
    assert storage.calls == [("instance_get_by_uuid", (ctx, UUID, ("flavor",)), {})]
    assert inst.obj_context is ctx
    assert inst.obj_what_changed() == set()
    assert inst.flavor.name == "m1.small"
    assert lazy_load_counts() == {}


def test_get_by_uuid_refuses_unknown_expected_attrs_before_any_call(ctx, storage):
    with pytest.raises(ValueError, match=r"\['host'\] are not lazy fields of Instance"):
        Instance.get_by_uuid(ctx, UUID, expected_attrs=["host"])
    with pytest.raises(ValueError, match="instance_uuid: invalid UUID 'nope'"):
        Instance.get_by_uuid(ctx, "nope")
    assert storage.calls == []


def test_not_found_propagates(ctx, storage):
    storage.raises["instance_get_by_uuid"] = InstanceNotFound(uuid=UUID)
    with pytest.raises(InstanceNotFound, match=f"instance not found: uuid={UUID}"):
        Instance.get_by_uuid(ctx, UUID)


def test_list_by_host_loads_expected_attrs_without_lazy_loads(ctx, storage):
    storage.returns["instance_get_all_by_host"] = [
        row(id=1, uuid=uuid.uuid4(), flavor=flavor()),
        row(id=2, uuid=uuid.uuid4(), flavor=flavor()),
    ]
    instances = InstanceList.get_by_host(ctx, "host-a", expected_attrs=["flavor"])
    assert storage.calls == [("instance_get_all_by_host", (ctx, "host-a", ("flavor",)), {})]
    assert [i.flavor.vcpus for i in instances] == [1, 1]
    assert all(i.obj_context is ctx for i in instances)
    assert lazy_load_counts() == {}


def test_get_all_builds_typed_filters(ctx, storage):
    storage.returns["instance_get_all"] = []
    other = uuid.uuid4()
    result = InstanceList.get_all(
        ctx, project_id="p1", vm_states=["active", VmState.STOPPED], uuids=[str(other)], limit=5
    )
    assert result.objects == []
    (name, (_, filters, attrs), _) = storage.calls[0]
    assert name == "instance_get_all"
    assert filters.project_id == "p1"
    assert filters.vm_states == (VmState.ACTIVE, VmState.STOPPED)
    assert filters.uuids == (other,)
    assert (filters.limit, filters.include_deleted, filters.host) == (5, False, None)
    assert attrs == ()
    with pytest.raises(ValueError, match="limit"):
        InstanceList.get_all(ctx, limit=-1)


# --- writes --------------------------------------------------------------------------------


def test_create_sends_the_object_and_takes_the_stored_row(ctx, storage):
    storage.returns["instance_create"] = lambda _ctx, inst: row(
        id=42, uuid=inst.uuid, host=inst.host, created_at=NOW
    )
    inst = Instance(uuid=UUID, user_id="alice", project_id="p1", host="host-a", flavor=flavor())
    inst.obj_set_context(ctx).create()
    assert storage.names() == ["instance_create"]
    assert storage.calls[0][1][1] is inst
    assert (inst.id, inst.created_at, inst.vm_state) == (42, NOW, VmState.ACTIVE)
    assert inst.flavor.flavorid == "m1.small"  # not in the returned row: kept
    assert inst.obj_what_changed() == set()


def test_create_twice_is_refused(ctx, storage):
    with pytest.raises(
        ObjectActionError, match=r"cannot create instance: already created \(id 1\)"
    ):
        loaded(ctx).create()
    assert storage.calls == []


def test_save_sends_only_the_changes_and_the_expected_states(ctx, storage):
    inst = loaded(ctx, task_state=TaskState.SPAWNING)
    inst.power_state = PowerState.RUNNING
    inst.task_state = None
    inst.metadata["k"] = "v"
    storage.returns["instance_save"] = row(
        task_state=None, metadata={"k": "v"}, updated_at=NOW, power_state=PowerState.RUNNING
    )
    inst.save(expected_task_state=TaskState.SPAWNING, expected_vm_state=["building", "active"])
    (name, args, _) = storage.calls[0]
    assert name == "instance_save"
    assert args == (
        ctx,
        UUID,
        {"power_state": PowerState.RUNNING, "task_state": None, "metadata": {"k": "v"}},
        (TaskState.SPAWNING,),
        (VmState.BUILDING, VmState.ACTIVE),
    )
    assert inst.updated_at == NOW
    assert inst.obj_what_changed() == set()


def test_save_without_expectations_checks_nothing(ctx, storage):
    inst = loaded(ctx)
    inst.host = "host-b"
    storage.returns["instance_save"] = row(host="host-b")
    inst.save()
    assert storage.calls[0][1][2:] == ({"host": "host-b"}, None, None)


def test_save_expecting_no_task(ctx, storage):
    inst = loaded(ctx)
    inst.task_state = TaskState.REBOOTING
    storage.returns["instance_save"] = row(task_state=TaskState.REBOOTING)
    inst.save(expected_task_state=None)
    assert storage.calls[0][1][3:] == ((None,), None)
    inst.task_state = None
    storage.returns["instance_save"] = row()
    inst.save(expected_task_state=[TaskState.REBOOTING, "rebooting_hard", None])
    assert storage.calls[1][1][3] == (TaskState.REBOOTING, TaskState.REBOOTING_HARD, None)


@pytest.mark.parametrize("error", [UnexpectedTaskStateError, UnexpectedVmStateError])
def test_a_lost_compare_and_swap_propagates_and_keeps_the_changes(ctx, storage, error):
    inst = loaded(ctx)
    inst.task_state = TaskState.POWERING_OFF
    storage.raises["instance_save"] = error(UUID, [None], TaskState.DELETING)
    with pytest.raises(error) as caught:
        inst.save(expected_task_state=None, expected_vm_state=VmState.ACTIVE)
    assert "another request changed it first" in str(caught.value)
    assert caught.value.actual is TaskState.DELETING
    assert inst.obj_what_changed() == {"task_state"}  # nothing was written


def test_unexpected_task_state_message():
    error = UnexpectedTaskStateError(UUID, [TaskState.SPAWNING, None], TaskState.DELETING)
    assert str(error) == (
        f"instance {UUID}: expected task_state in [spawning, None], found deleting; "
        "another request changed it first"
    )


def test_save_with_nothing_changed_makes_no_round_trip(ctx, storage):
    loaded(ctx).save(expected_task_state=None)
    assert storage.calls == []


def test_save_of_a_new_instance_is_refused(ctx, storage):
    with pytest.raises(ObjectActionError, match="never created"):
        Instance(uuid=UUID, user_id="u", project_id="p").obj_set_context(ctx).save()


def test_save_writes_a_changed_info_cache_through_the_cache(ctx, storage):
    cache = InstanceInfoCache(instance_uuid=UUID)
    cache.obj_reset_changes()
    inst = loaded(ctx, info_cache=cache)
    vif = VIF(
        id=uuid.uuid4(),
        address="FA:16:3E:00:00:01",
        network=Network(
            id=uuid.uuid4(),
            subnets=[Subnet(cidr="10.0.0.0/24", ips=[FixedIP(address="10.0.0.5")])],
        ),
    )
    inst.info_cache.network_info.objects.append(vif)
    assert inst.obj_what_changed() == {"info_cache"}
    saved_cache = InstanceInfoCache(instance_uuid=UUID, network_info=NetworkInfo(objects=[vif]))
    storage.returns["info_cache_save"] = saved_cache
    inst.save()
    assert storage.names() == ["info_cache_save"]  # and no instance_save: nothing else changed
    assert storage.calls[0][1][2].objects[0].address == "fa:16:3e:00:00:01"
    assert inst.obj_what_changed() == set()


def test_save_sends_a_changed_flavor_as_an_object(ctx, storage):
    inst = loaded(ctx, flavor=flavor())
    inst.flavor.extra_specs["hw:cpu_policy"] = "dedicated"
    storage.returns["instance_save"] = row()
    inst.save()
    changes = storage.calls[0][1][2]
    assert list(changes) == ["flavor"]
    assert isinstance(changes["flavor"], Flavor)
    assert inst.flavor.extra_specs == {"hw:cpu_policy": "dedicated"}  # kept
    assert inst.obj_what_changed() == set()


def test_destroy_takes_the_soft_deleted_row(ctx, storage):
    storage.returns["instance_destroy"] = row(deleted=True, deleted_at=NOW, vm_state="deleted")
    inst = loaded(ctx)
    inst.destroy()
    assert storage.calls == [("instance_destroy", (ctx, UUID), {})]
    assert (inst.deleted, inst.deleted_at, inst.vm_state) == (True, NOW, VmState.DELETED)


def test_refresh_reloads_the_lazy_fields_already_loaded(ctx, storage):
    inst = loaded(ctx, flavor=flavor(), tags=["a"])
    inst.host = "local-change"
    storage.returns["instance_get_by_uuid"] = row(host="host-c", flavor=flavor(), tags=["b"])
    inst.refresh()
    assert storage.calls == [("instance_get_by_uuid", (ctx, UUID, ["flavor", "tags"]), {})]
    assert (inst.host, inst.tags) == ("host-c", ["b"])
    assert inst.obj_what_changed() == set()


def test_faults_are_not_saved_through_the_instance(ctx, storage):
    inst = loaded(ctx, fault=None)
    inst.fault = InstanceFault(instance_uuid=UUID, message="boom")
    inst.save()
    assert storage.calls == []
    assert inst.obj_what_changed() == set()


# --- on a compute host: through an indirection API ------------------------------------


class WireConductor:
    """An in-process indirection that serializes everything both ways, like the
    conductor client, and runs the methods "server side" with no indirection."""

    def __init__(self):
        self.calls = []

    @staticmethod
    def _wire(value, context):
        from cumulo.model import CumuloObject
        from cumulo.objects import REGISTRY, deserialize_entity, serialize_entity

        return deserialize_entity(serialize_entity(value), context, REGISTRY, CumuloObject)

    def _server(self, fn):
        from cumulo.model import CumuloObject

        CumuloObject.indirection_api = None
        try:
            return fn()
        finally:
            CumuloObject.indirection_api = self

    def object_action(self, context, objinst, objmethod, args, kwargs):
        from cumulo.objects import run_object_action

        self.calls.append(("object_action", objinst.obj_name(), objmethod))
        server_obj = self._wire(objinst, context)
        updates, result = self._server(
            lambda: run_object_action(
                context,
                server_obj,
                objmethod,
                tuple(self._wire(list(args), context)),
                self._wire(kwargs, context),
            )
        )
        return self._wire(updates, context), self._wire(result, context)

    def object_class_action_versions(self, context, objname, objmethod, versions, args, kwargs):
        from cumulo.objects import REGISTRY, run_class_action

        self.calls.append(("class_action", objname, objmethod))
        cls = REGISTRY.newest("cumulo", objname)
        result = self._server(
            lambda: run_class_action(
                context,
                cls,
                objmethod,
                tuple(self._wire(list(args), context)),
                self._wire(kwargs, context),
            )
        )
        return self._wire(result, None)

    def object_backport_versions(self, context, objinst, object_versions):
        raise NotImplementedError


@pytest.fixture
def conductor():
    from cumulo.model import CumuloObject

    wire = WireConductor()
    CumuloObject.indirection_api = wire
    yield wire
    CumuloObject.indirection_api = None


def test_lazy_load_on_a_compute_host_goes_through_the_conductor(ctx, storage, conductor):
    storage.returns["instance_get_by_uuid"] = row()
    storage.returns["instance_load_attr"] = flavor()
    inst = Instance.get_by_uuid(ctx, UUID)
    assert inst.flavor.memory_mb == 2048
    assert inst.flavor.memory_mb == 2048
    assert conductor.calls == [
        ("class_action", "Instance", "get_by_uuid"),
        ("class_action", "Instance", "get_lazy_field"),
    ]
    assert storage.calls[1] == ("instance_load_attr", (ctx, UUID, "flavor"), {})
    assert lazy_load_counts() == {("Instance", "flavor"): 1}
    assert inst.obj_what_changed() == set()


def test_save_on_a_compute_host_compares_and_swaps_in_the_conductor(ctx, storage, conductor):
    inst = loaded(ctx, task_state=TaskState.SPAWNING)
    inst.task_state = None
    inst.vm_state = VmState.ACTIVE
    storage.returns["instance_save"] = row(task_state=None, updated_at=NOW)
    inst.save(expected_task_state=TaskState.SPAWNING)
    assert conductor.calls == [("object_action", "Instance", "save")]
    # The expected state crossed the wire as a string and came back a TaskState.
    (_, args, _) = storage.calls[0]
    assert args[2] == {"task_state": None, "vm_state": VmState.ACTIVE}
    assert args[3] == (TaskState.SPAWNING,)
    assert inst.updated_at == NOW
    assert inst.obj_what_changed() == set()


def test_a_lost_compare_and_swap_reaches_the_compute_host(ctx, storage, conductor):
    inst = loaded(ctx)
    inst.task_state = TaskState.DELETING
    storage.raises["instance_save"] = UnexpectedTaskStateError(UUID, [None], TaskState.REBOOTING)
    with pytest.raises(UnexpectedTaskStateError):
        inst.save(expected_task_state=[None])
    assert inst.obj_what_changed() == {"task_state"}


def test_unchecked_passed_explicitly_survives_the_wire(ctx, storage, conductor):
    from cumulo.model import UNCHECKED

    inst = loaded(ctx)
    inst.host = "host-b"
    storage.returns["instance_save"] = row(host="host-b")
    inst.save(expected_task_state=UNCHECKED, expected_vm_state=UNCHECKED)
    assert storage.calls[0][1][3:] == (None, None)
