"""Tests for ``cumulo.objects.base``: construction, lazy fields, change tracking, copies."""

import copy
import datetime
import pickle
import uuid
from typing import ClassVar

import pytest

from cumulo.objects import (
    FieldNotSetError,
    FieldValueError,
    LazyLoadError,
    ObjectDeclarationError,
    ReadOnlyFieldError,
    Registry,
    VersionedObject,
    field,
    lazy_load_counts,
    obj_to_loggable,
    register,
    reset_lazy_load_counts,
)
from tests.objects.sample_objects import InstanceList
from tests.objects.test_codec import make_instance

_REGISTRY = Registry()


class XyzObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "test_xyz"
    OBJ_SERIAL_NAMESPACE = "test_xyz_object"
    OBJ_REGISTRY = _REGISTRY


@register
class Leaf(XyzObject):
    value: int = 0


@register
class Disk(XyzObject):
    size: int = 0
    leaf: Leaf | None = None
    label: str | None = None


@register
class Machine(XyzObject):
    VERSION = "1.1"
    id: int = field(read_only=True)
    name: str
    host: str | None = None
    flavor: Disk | None = None
    password: str | None = field(default=None, sensitive=True)
    tags: list[str] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    ports: set[int] = field(default_factory=set)
    disks: list[Disk] = field(default_factory=list)
    disk_map: dict[str, Disk] = field(default_factory=dict)
    nested: dict[str, list[str]] = field(default_factory=dict)
    created_at: datetime.datetime | None = None
    instance_uuid: uuid.UUID | None = None


@register
class Shelf(XyzObject):
    items: list[str] = field(default=["a"])
    counts: dict[str, int] = field(default={"x": 1})
    tags: set[str] = field(default={"t"})
    fresh: list[int] = field(default_factory=lambda: [1, 2])


@register
class Lazy(XyzObject):
    id: int
    detail: Disk = field(lazy=True)
    note: str = field(lazy=True)
    broken: str = field(lazy=True)
    plain: str

    loads: ClassVar[list[tuple[int, str]]] = []

    def obj_load_attr(self, name: str) -> None:
        type(self).loads.append((self.id, name))
        if name == "detail":
            self._obj_set_loaded("detail", Disk(size=self.id))
        elif name == "note":
            self._obj_set_loaded("note", f"note-{self.id}")
        # "broken": the loader forgets to set the field


@register
class NoLoader(XyzObject):
    thing: str = field(lazy=True)


@register
class Vault(XyzObject):
    user: str
    secret: str = field(sensitive=True)
    child: "Vault2 | None" = None
    children: "list[Vault2]" = field(default_factory=list)
    child_map: "dict[str, Vault2]" = field(default_factory=dict)


@register
class Vault2(XyzObject):
    token: str | None = field(default=None, sensitive=True)
    name: str = ""


def machine(**kwargs) -> Machine:
    kwargs.setdefault("id", 1)
    kwargs.setdefault("name", "m")
    return Machine(**kwargs)


def clean_machine(**kwargs) -> Machine:
    obj = machine(**kwargs)
    obj.obj_reset_changes(recursive=True)
    assert obj.obj_what_changed() == set()
    return obj


# --- construction ----------------------------------------------------------------------


class TestConstruction:
    def test_kwargs_and_defaults(self):
        obj = Machine(id=7, name="vm")
        assert obj.id == 7
        assert obj.name == "vm"
        assert obj.host is None
        assert obj.password is None
        assert obj.tags == []
        assert obj.meta == {}
        assert obj.ports == set()

    def test_default_factory_called_per_object(self):
        a, b = machine(), machine()
        a.tags.append("x")
        assert b.tags == []
        assert a.tags is not b.tags

    def test_default_factory_result_not_shared(self):
        a, b = Shelf(), Shelf()
        a.fresh.append(3)
        assert b.fresh == [1, 2]

    def test_mutable_default_values_are_copied(self):
        a, b = Shelf(), Shelf()
        a.items.append("b")
        a.counts["y"] = 2
        a.tags.add("u")
        assert b.items == ["a"]
        assert b.counts == {"x": 1}
        assert b.tags == {"t"}
        assert Shelf().items == ["a"]

    def test_constructor_marks_given_and_defaulted_fields_changed(self):
        obj = Machine(id=1, name="x")
        expected = {"id", "name", "host", "flavor", "password", "tags", "ratios", "meta"}
        expected |= {"ports", "disks", "disk_map", "nested", "created_at", "instance_uuid"}
        assert obj.obj_what_changed() == expected

    def test_unknown_kwarg_refused(self):
        with pytest.raises(TypeError, match=r"Machine\(\) got an unexpected field 'colour'"):
            Machine(id=1, name="x", colour="red")

    def test_unknown_attribute_refused(self):
        obj = machine()
        with pytest.raises(AttributeError):
            obj.colour = "red"

    def test_bad_value_in_constructor_refused(self):
        with pytest.raises(FieldValueError, match=r"Machine\.name"):
            Machine(id=1, name=5)

    def test_obj_name_and_override(self):
        class Renamed(XyzObject):
            OBJ_NAME = "Other"
            x: int = 0

        assert Machine.obj_name() == "Machine"
        assert Renamed.obj_name() == "Other"
        assert repr(Renamed(x=1)) == "Other(x=1)"

    def test_obj_fields_in_declaration_order(self):
        assert list(Disk.obj_fields()) == ["size", "leaf", "label"]

    def test_invalid_version_refused(self):
        class BadVersion(XyzObject):
            VERSION = "1"

        with pytest.raises(ObjectDeclarationError, match=r"BadVersion\.VERSION '1'"):
            BadVersion()

    def test_recursive_objects_refused(self):
        ns: dict = {}
        exec(
            "from __future__ import annotations\n"
            "class Node(Base):\n"
            "    kids: list[Node] = field(default_factory=list)\n",
            {"Base": XyzObject, "field": field, "__name__": __name__},
            ns,
        )
        with pytest.raises(ObjectDeclarationError, match="contains itself"):
            ns["Node"]()


class TestUnsetFields:
    def test_reading_unset_field_raises_naming_object_and_field(self):
        obj = Machine(id=1, name="x")
        del obj.name
        with pytest.raises(FieldNotSetError) as info:
            obj.name  # noqa: B018
        assert str(info.value) == "Machine.name is not set"
        assert info.value.objname == "Machine"
        assert info.value.field == "name"

    def test_required_field_left_unset_by_constructor(self):
        obj = Machine(id=1)
        assert not obj.obj_attr_is_set("name")
        assert obj.obj_attr_is_set("host")
        with pytest.raises(FieldNotSetError, match=r"Machine\.name"):
            obj.name  # noqa: B018

    def test_unset_field_is_an_attribute_error(self):
        obj = Machine(id=1)
        assert not hasattr(obj, "name")
        assert getattr(obj, "name", "fallback") == "fallback"

    def test_obj_attr_is_set_unknown_name(self):
        with pytest.raises(AttributeError, match="no field 'nope'"):
            machine().obj_attr_is_set("nope")

    def test_delete_unsets_and_forgets_change(self):
        obj = machine()
        del obj.host
        assert not obj.obj_attr_is_set("host")
        assert "host" not in obj.obj_what_changed()

    def test_obj_set_defaults(self):
        obj = clean_machine(host="h", tags=["t"])
        obj.obj_set_defaults("host")
        assert obj.host is None
        assert obj.tags == ["t"]
        assert obj.obj_what_changed() == {"host"}
        obj.obj_set_defaults()
        assert obj.tags == []

    def test_obj_set_defaults_without_default(self):
        with pytest.raises(ObjectDeclarationError, match=r"Machine\.name has no default"):
            machine().obj_set_defaults("name")


class TestLazy:
    def setup_method(self):
        Lazy.loads.clear()

    def test_loader_called_once(self):
        obj = Lazy(id=3, plain="p")
        first = obj.detail
        second = obj.detail
        assert first is second
        assert first.size == 3
        assert Lazy.loads == [(3, "detail")]

    def test_loader_only_for_the_field_read(self):
        obj = Lazy(id=4, plain="p")
        assert obj.note == "note-4"
        assert Lazy.loads == [(4, "note")]
        assert not obj.obj_attr_is_set("detail")

    def test_set_lazy_field_is_not_loaded(self):
        obj = Lazy(id=5, plain="p", note="given")
        assert obj.note == "given"
        assert Lazy.loads == []

    def test_obj_attr_is_set_does_not_load(self):
        obj = Lazy(id=5, plain="p")
        assert obj.obj_attr_is_set("detail") is False
        assert Lazy.loads == []

    def test_counted_in_lazy_load_counts(self):
        before = lazy_load_counts().get(("Lazy", "detail"), 0)
        a, b = Lazy(id=1, plain="p"), Lazy(id=2, plain="p")
        a.detail  # noqa: B018
        a.detail  # noqa: B018
        b.detail  # noqa: B018
        assert lazy_load_counts()[("Lazy", "detail")] == before + 2

    def test_reset_lazy_load_counts(self):
        Lazy(id=1, plain="p").note  # noqa: B018
        assert lazy_load_counts().get(("Lazy", "note"), 0) >= 1
        reset_lazy_load_counts()
        assert lazy_load_counts() == {}
        Lazy(id=1, plain="p").note  # noqa: B018
        assert lazy_load_counts() == {("Lazy", "note"): 1}

    def test_lazy_load_counts_is_a_snapshot(self):
        snapshot = lazy_load_counts()
        snapshot[("Lazy", "bogus")] = 99
        assert ("Lazy", "bogus") not in lazy_load_counts()

    def test_loader_that_does_not_set_raises(self):
        with pytest.raises(LazyLoadError, match=r"Lazy\.obj_load_attr\('broken'\) did not set"):
            Lazy(id=1, plain="p").broken  # noqa: B018

    def test_no_loader_defined(self):
        with pytest.raises(LazyLoadError, match="NoLoader cannot lazy-load 'thing'"):
            NoLoader().thing  # noqa: B018

    def test_non_lazy_unset_field_does_not_load(self):
        obj = Lazy(id=1)
        with pytest.raises(FieldNotSetError, match=r"Lazy\.plain"):
            obj.plain  # noqa: B018
        assert Lazy.loads == []

    def test_unset_again_loads_again(self):
        obj = Lazy(id=6, plain="p")
        obj.note  # noqa: B018
        del obj.note
        obj.note  # noqa: B018
        assert Lazy.loads == [(6, "note"), (6, "note")]


class TestReadOnly:
    def test_same_value_may_be_assigned_again(self):
        obj = machine(id=9)
        obj.id = 9
        assert obj.id == 9

    def test_different_value_refused(self):
        obj = clean_machine(id=9)
        with pytest.raises(ReadOnlyFieldError) as info:
            obj.id = 10
        assert str(info.value) == "Machine.id is read-only and already set"
        assert (info.value.objname, info.value.field) == ("Machine", "id")
        assert obj.id == 9
        assert obj.obj_what_changed() == set()

    def test_first_assignment_after_construction_allowed(self):
        obj = Machine(name="x")
        obj.id = 3
        assert obj.id == 3
        with pytest.raises(ReadOnlyFieldError):
            obj.id = 4


class TestSensitive:
    def test_masked_in_repr(self):
        obj = machine(password="hunter2")
        text = repr(obj)
        assert "hunter2" not in text
        assert "password='***'" in text
        assert "name='m'" in text

    def test_repr_omits_unset_fields(self):
        obj = Machine(id=1)
        assert "name=" not in repr(obj)
        assert repr(obj).startswith("Machine(id=1,")

    def test_masked_in_loggable(self):
        obj = Vault(user="u", secret="s3cret")
        assert obj_to_loggable(obj) == {
            "user": "u",
            "secret": "***",
            "child": None,
            "children": [],
            "child_map": {},
        }

    def test_nested_objects_masked_in_loggable(self):
        obj = Vault(
            user="u",
            secret="s1",
            child=Vault2(token="s2", name="c"),
            children=[Vault2(token="s3", name="d")],
        )
        log = obj_to_loggable(obj)
        assert log["child"] == {"token": "***", "name": "c"}
        assert log["children"] == [{"token": "***", "name": "d"}]
        assert "s1" not in repr(log)
        assert "s2" not in repr(log)
        assert "s3" not in repr(log)

    def test_objects_in_dict_field_masked_in_loggable(self):
        obj = Vault(user="u", secret="s1", child_map={"k": Vault2(token="s4", name="e")})
        assert obj_to_loggable(obj)["child_map"] == {"k": {"token": "***", "name": "e"}}

    def test_loggable_leaves_out_unset_fields(self):
        obj = Vault(user="u")
        assert "secret" not in obj_to_loggable(obj)


# --- change tracking -------------------------------------------------------------------


class TestChangeTracking:
    def test_assignment_recorded(self):
        obj = clean_machine()
        obj.host = "h1"
        assert obj.obj_what_changed() == {"host"}
        assert obj.obj_get_changes() == {"host": "h1"}

    def test_assigning_same_value_still_recorded(self):
        obj = clean_machine(host="h")
        obj.host = "h"
        assert obj.obj_what_changed() == {"host"}

    def test_failed_assignment_changes_nothing(self):
        obj = clean_machine(host="h")
        with pytest.raises(FieldValueError):
            obj.host = 5
        assert obj.host == "h"
        assert obj.obj_what_changed() == set()

    def test_what_changed_returns_a_copy(self):
        obj = clean_machine()
        obj.host = "h"
        obj.obj_what_changed().add("name")
        assert obj.obj_what_changed() == {"host"}

    def test_get_changes_values(self):
        obj = clean_machine()
        obj.name = "n2"
        obj.tags = ["a"]
        assert obj.obj_get_changes() == {"name": "n2", "tags": ["a"]}

    def test_reset_all(self):
        obj = machine()
        obj.obj_reset_changes()
        assert obj.obj_what_changed() == set()
        assert obj.obj_get_changes() == {}

    def test_reset_some_fields(self):
        obj = clean_machine()
        obj.host = "h"
        obj.name = "n"
        obj.tags.append("t")
        obj.obj_reset_changes(fields=["host", "tags"])
        assert obj.obj_what_changed() == {"name"}

    def test_reset_fields_accepts_any_iterable(self):
        obj = clean_machine()
        obj.host = "h"
        obj.obj_reset_changes(fields=(f for f in ["host"]))
        assert obj.obj_what_changed() == set()


class TestNestedChanges:
    def test_child_change_propagates_to_parent(self):
        obj = clean_machine(flavor=Disk(size=1))
        obj.flavor.size = 2
        assert obj.flavor.obj_what_changed() == {"size"}
        assert obj.obj_what_changed() == {"flavor"}
        assert obj.obj_get_changes() == {"flavor": obj.flavor}

    def test_grandchild_change_propagates_to_every_ancestor(self):
        obj = clean_machine(flavor=Disk(leaf=Leaf(value=1)))
        obj.flavor.leaf.value = 2
        assert obj.flavor.leaf.obj_what_changed() == {"value"}
        assert obj.flavor.obj_what_changed() == {"leaf"}
        assert obj.obj_what_changed() == {"flavor"}

    def test_change_in_object_inside_list_propagates(self):
        obj = clean_machine(disks=[Disk(size=1), Disk(size=2)])
        obj.disks[1].size = 3
        assert obj.obj_what_changed() == {"disks"}

    def test_change_in_object_appended_to_list_propagates(self):
        obj = clean_machine()
        obj.disks.append(Disk())
        obj.obj_reset_changes(recursive=True)
        obj.disks[0].label = "x"
        assert obj.obj_what_changed() == {"disks"}

    def test_change_in_object_inside_dict_propagates(self):
        obj = clean_machine(disk_map={"a": Disk()})
        obj.disk_map["a"].size = 5
        assert obj.obj_what_changed() == {"disk_map"}

    def test_change_in_object_put_into_dict_propagates(self):
        obj = clean_machine()
        obj.disk_map["b"] = Disk()
        obj.obj_reset_changes(recursive=True)
        obj.disk_map["b"].leaf = Leaf()
        assert obj.obj_what_changed() == {"disk_map"}

    def test_non_recursive_reset_keeps_reporting_changed_children(self):
        obj = machine(flavor=Disk(size=1))
        obj.obj_reset_changes()
        assert obj.obj_what_changed() == {"flavor"}
        assert obj.flavor.obj_what_changed() == {"size", "leaf", "label"}

    def test_recursive_reset_clears_children(self):
        obj = machine(flavor=Disk(leaf=Leaf()), disks=[Disk(leaf=Leaf())], disk_map={"k": Disk()})
        obj.obj_reset_changes(recursive=True)
        assert obj.obj_what_changed() == set()
        assert obj.flavor.obj_what_changed() == set()
        assert obj.flavor.leaf.obj_what_changed() == set()
        assert obj.disks[0].obj_what_changed() == set()
        assert obj.disks[0].leaf.obj_what_changed() == set()
        assert obj.disk_map["k"].obj_what_changed() == set()

    def test_recursive_reset_limited_to_fields(self):
        obj = machine(flavor=Disk(), disks=[Disk()])
        obj.obj_reset_changes(fields=["flavor"], recursive=True)
        assert obj.flavor.obj_what_changed() == set()
        assert obj.disks[0].obj_what_changed() == {"size", "leaf", "label"}
        assert "flavor" not in obj.obj_what_changed()
        assert "disks" in obj.obj_what_changed()

    def test_child_changes_after_reset_seen_again(self):
        obj = clean_machine(flavor=Disk())
        obj.flavor.size = 1
        obj.obj_reset_changes(recursive=True)
        obj.flavor.size = 2
        assert obj.obj_what_changed() == {"flavor"}

    def test_replaced_child_no_longer_reports(self):
        old = Disk()
        obj = machine(flavor=old)
        obj.flavor = Disk(size=9)
        obj.obj_reset_changes(recursive=True)
        old.size = 1
        assert obj.obj_what_changed() == set()

    def test_removed_list_child_no_longer_reports(self):
        obj = clean_machine(disks=[Disk()])
        popped = obj.disks.pop()
        obj.obj_reset_changes(recursive=True)
        popped.size = 4
        assert obj.obj_what_changed() == set()

    def test_decoded_children_propagate(self):
        src = clean_machine(flavor=Disk(leaf=Leaf()), disks=[Disk()])
        obj = Machine.obj_from_primitive(src.obj_to_primitive())
        assert obj.obj_what_changed() == set()
        obj.flavor.leaf.value = 3
        assert obj.obj_what_changed() == {"flavor"}
        obj.obj_reset_changes(recursive=True)
        obj.disks[0].size = 2
        assert obj.obj_what_changed() == {"disks"}

    def test_child_shared_by_two_parents_reports_to_both(self):
        shared = Disk()
        a = clean_machine(flavor=shared)
        b = clean_machine(flavor=shared)
        shared.size = 7
        assert b.obj_what_changed() == {"flavor"}
        assert a.obj_what_changed() == {"flavor"}


# --- where a bad value is --------------------------------------------------------------


class TestErrorPaths:
    """A bad value assigned to a nested object's field is named from the object the
    user started from (``Instance.flavor.vcpus``), not only by the inner class."""

    def test_nested_object_field_names_the_whole_path(self):
        instance = make_instance()
        with pytest.raises(FieldValueError) as info:
            instance.flavor.vcpus = "two"
        assert info.value.where == "Instance.flavor.vcpus"
        assert str(info.value) == "Expected `int`, got `str` - at Instance.flavor.vcpus"
        assert instance.flavor.vcpus == make_instance().flavor.vcpus

    def test_none_for_a_nested_required_field_names_the_whole_path(self):
        instance = make_instance()
        with pytest.raises(FieldValueError) as info:
            instance.flavor.vcpus = None
        assert info.value.where == "Instance.flavor.vcpus"

    def test_grandchild_field_names_every_step(self):
        obj = machine(flavor=Disk(leaf=Leaf()))
        with pytest.raises(FieldValueError) as info:
            obj.flavor.leaf.value = "x"
        assert info.value.where == "Machine.flavor.leaf.value"

    def test_list_element_field_names_its_index(self):
        obj = machine(disks=[Disk(size=i) for i in range(5)])
        with pytest.raises(FieldValueError) as info:
            obj.disks[3].size = "big"
        assert info.value.where == "Machine.disks[3].size"

    def test_decoded_list_element_field_names_its_index(self):
        instances = InstanceList(objects=[make_instance() for _ in range(5)])
        loaded = InstanceList.obj_from_json(instances.obj_to_json())
        with pytest.raises(FieldValueError) as info:
            loaded.objects[3].flavor.vcpus = "two"
        assert str(info.value) == (
            "Expected `int`, got `str` - at InstanceList.objects[3].flavor.vcpus"
        )

    def test_dict_element_field_names_its_key(self):
        obj = machine(disk_map={"vda": Disk(), "vdb": Disk()})
        with pytest.raises(FieldValueError) as info:
            obj.disk_map["vdb"].size = "big"
        assert info.value.where == "Machine.disk_map['vdb'].size"

    def test_container_of_a_nested_object_names_the_whole_path(self):
        instance = make_instance()
        with pytest.raises(FieldValueError) as info:
            instance.security_groups[0].rules.append(22)
        assert info.value.where == "Instance.security_groups[0].rules[]"
        with pytest.raises(FieldValueError) as info:
            instance.flavor.extra_specs[1] = "x"
        assert info.value.where == "Instance.flavor.extra_specs[1]"

    def test_top_level_object_is_named_by_its_class(self):
        with pytest.raises(FieldValueError) as info:
            machine().name = 5
        assert info.value.where == "Machine.name"

    def test_object_taken_out_of_its_parent_is_named_by_its_class(self):
        obj = machine(disks=[Disk(), Disk()])
        disk = obj.disks.pop(1)
        with pytest.raises(FieldValueError) as info:
            disk.size = "big"
        assert info.value.where == "Disk.size"

    def test_object_held_by_two_parents_is_named_through_the_first(self):
        disk = Disk()
        first, second = machine(name="a", flavor=disk), machine(name="b", disks=[disk])
        assert second.disks[0] is disk
        with pytest.raises(FieldValueError) as info:
            disk.size = "big"
        assert info.value.where == "Machine.flavor.size"
        del first
        with pytest.raises(FieldValueError) as info:
            disk.size = "big"
        assert info.value.where == "Machine.disks[0].size"


# --- copies, equality, pickle -------------------------------------------------------------


def _full_machine() -> Machine:
    return machine(
        host="h",
        flavor=Disk(size=2, leaf=Leaf(value=1)),
        password="pw",
        tags=["a"],
        meta={"k": "v"},
        ports={22},
        disks=[Disk(size=3)],
        disk_map={"d": Disk(size=4)},
        nested={"n": ["x"]},
        created_at=datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
        instance_uuid=uuid.UUID(int=5),
    )


class TestClone:
    def test_clone_is_equal_but_distinct(self):
        obj = _full_machine()
        clone = obj.obj_clone()
        assert clone == obj
        assert clone is not obj
        assert type(clone) is Machine
        assert clone.flavor is not obj.flavor
        assert clone.flavor.leaf is not obj.flavor.leaf
        assert clone.tags is not obj.tags

    def test_mutating_clone_leaves_original(self):
        obj = _full_machine()
        clone = obj.obj_clone()
        clone.host = "other"
        clone.tags.append("b")
        clone.meta["k2"] = "v2"
        clone.ports.add(80)
        clone.flavor.leaf.value = 99
        clone.disks[0].size = 30
        clone.disks.append(Disk())
        clone.disk_map["d"].size = 40
        clone.nested["n"].append("y")
        assert obj.host == "h"
        assert obj.tags == ["a"]
        assert obj.meta == {"k": "v"}
        assert obj.ports == {22}
        assert obj.flavor.leaf.value == 1
        assert [d.size for d in obj.disks] == [3]
        assert obj.disk_map["d"].size == 4
        assert obj.nested == {"n": ["x"]}
        assert clone != obj

    def test_mutating_original_leaves_clone(self):
        obj = _full_machine()
        clone = obj.obj_clone()
        obj.tags.append("z")
        obj.flavor.size = 100
        assert clone.tags == ["a"]
        assert clone.flavor.size == 2

    def test_clone_keeps_changes(self):
        obj = clean_machine(flavor=Disk(leaf=Leaf()))
        obj.host = "h2"
        obj.flavor.leaf.value = 5
        clone = obj.obj_clone()
        assert clone.obj_what_changed() == {"host", "flavor"}
        assert clone.flavor.obj_what_changed() == {"leaf"}
        assert clone.flavor.leaf.obj_what_changed() == {"value"}

    def test_clone_of_clean_object_is_clean(self):
        clone = clean_machine(flavor=Disk()).obj_clone()
        assert clone.obj_what_changed() == set()
        clone.flavor.size = 1
        assert clone.obj_what_changed() == {"flavor"}

    def test_clone_keeps_unset_fields_unset(self):
        obj = Machine(id=1)
        clone = obj.obj_clone()
        assert not clone.obj_attr_is_set("name")

    def test_clone_keeps_context(self):
        ctx = object()
        obj = machine(flavor=Disk()).obj_set_context(ctx)
        clone = obj.obj_clone()
        assert clone.obj_context is ctx
        assert clone.flavor.obj_context is ctx

    def test_copy_module_makes_deep_copies(self):
        obj = _full_machine()
        for dup in (copy.copy(obj), copy.deepcopy(obj)):
            assert dup == obj
            dup.flavor.size = 77
            dup.tags.append("q")
            assert obj.flavor.size == 2
            assert obj.tags == ["a"]


class TestEquality:
    def test_same_values_equal(self):
        assert _full_machine() == _full_machine()

    def test_change_marks_do_not_matter(self):
        a, b = _full_machine(), _full_machine()
        b.obj_reset_changes(recursive=True)
        assert a == b

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda m: setattr(m, "host", "other"),
            lambda m: m.tags.append("b"),
            lambda m: setattr(m.flavor.leaf, "value", 2),
            lambda m: setattr(m.disks[0], "size", 0),
            lambda m: m.disk_map.clear(),
            lambda m: delattr(m, "host"),
        ],
        ids=["scalar", "list", "grandchild", "list-child", "dict", "unset"],
    )
    def test_any_difference_is_unequal(self, mutate):
        a, b = _full_machine(), _full_machine()
        mutate(b)
        assert a != b
        assert b != a

    def test_unset_vs_unset_equal(self):
        assert Machine(id=1) == Machine(id=1)

    def test_different_classes_unequal(self):
        assert Leaf(value=1) != Disk(size=1)
        assert Leaf() != {"value": 0}
        assert Leaf() != None  # noqa: E711

    def test_decoded_copy_equal(self):
        obj = _full_machine()
        assert Machine.obj_from_primitive(obj.obj_to_primitive()) == obj

    def test_unhashable(self):
        with pytest.raises(TypeError):
            hash(Leaf())


class TestPickle:
    def test_round_trip(self):
        obj = _full_machine()
        back = pickle.loads(pickle.dumps(obj))
        assert back == obj
        assert type(back) is Machine
        assert back.created_at.microsecond == 6
        assert back.flavor.leaf.value == 1

    def test_round_trip_keeps_changes(self):
        obj = clean_machine(flavor=Disk())
        obj.host = "h"
        obj.flavor.size = 3
        back = pickle.loads(pickle.dumps(obj))
        assert back.obj_what_changed() == {"host", "flavor"}
        assert back.flavor.obj_what_changed() == {"size"}

    def test_round_trip_keeps_unset(self):
        back = pickle.loads(pickle.dumps(Machine(id=2)))
        assert not back.obj_attr_is_set("name")
        assert back.id == 2

    def test_unpickled_containers_are_tracked(self):
        back = pickle.loads(pickle.dumps(clean_machine(tags=["a"])))
        back.tags.append("b")
        assert back.obj_what_changed() == {"tags"}
        with pytest.raises(FieldValueError):
            back.tags.append(1)

    def test_tracked_containers_pickle_as_plain(self):
        obj = machine(tags=["a"], meta={"k": "v"}, ports={1})
        assert type(pickle.loads(pickle.dumps(obj.tags))) is list
        assert type(pickle.loads(pickle.dumps(obj.meta))) is dict
        assert type(pickle.loads(pickle.dumps(obj.ports))) is set


class TestContext:
    def test_set_context_returns_self_and_reaches_children(self):
        ctx = object()
        obj = machine(flavor=Disk(leaf=Leaf()), disks=[Disk()], disk_map={"k": Disk()})
        assert obj.obj_set_context(ctx) is obj
        assert obj.obj_context is ctx
        assert obj.flavor.obj_context is ctx
        assert obj.flavor.leaf.obj_context is ctx
        assert obj.disks[0].obj_context is ctx
        assert obj.disk_map["k"].obj_context is ctx

    def test_default_context_is_none(self):
        assert Leaf().obj_context is None

    def test_decoded_object_gets_context(self):
        ctx = object()
        src = machine(flavor=Disk())
        obj = Machine.obj_from_primitive(src.obj_to_primitive(), context=ctx)
        assert obj.obj_context is ctx
        assert obj.flavor.obj_context is ctx


def test_obj_tree_get_versions():
    assert Machine.obj_tree_get_versions() == {"Machine": "1.1", "Disk": "1.0", "Leaf": "1.0"}


def test_obj_history():
    assert Machine.obj_history() == ["1.0", "1.1"]
    assert Leaf.obj_history() == ["1.0"]
