"""Tests for ``cumulo.objects.containers``: list, dict and set field values that check
what is put into them and mark their field changed on in-place mutation."""

import pytest

from cumulo.objects import FieldValueError, TrackedDict, TrackedList, TrackedSet
from tests.objects.test_base import Leaf, XyzObject, clean_machine, machine


class TestTrackedList:
    @pytest.mark.parametrize(
        "mutate",
        [
            lambda v: v.append("x"),
            lambda v: v.extend(["x", "y"]),
            lambda v: v.insert(0, "x"),
            lambda v: v.__setitem__(0, "z"),
            lambda v: v.__setitem__(slice(0, 1), ["p", "q"]),
            lambda v: v.__delitem__(0),
            lambda v: v.pop(),
            lambda v: v.pop(0),
            lambda v: v.remove("a"),
            lambda v: v.clear(),
            lambda v: v.sort(reverse=True),
            lambda v: v.reverse(),
            lambda v: v.__iadd__(["x"]),
            lambda v: v.__imul__(2),
        ],
        ids=[
            "append",
            "extend",
            "insert",
            "setitem",
            "setslice",
            "delitem",
            "pop",
            "pop0",
            "remove",
            "clear",
            "sort",
            "reverse",
            "iadd",
            "imul",
        ],
    )
    def test_in_place_mutation_marks_field(self, mutate):
        obj = clean_machine(tags=["a", "b"])
        before = list(obj.tags)
        mutate(obj.tags)
        assert obj.obj_what_changed() == {"tags"}
        # the mutation really happened on the stored value
        expected = list(before)
        mutate(expected)
        assert list(obj.tags) == expected

    def test_augmented_assignment_on_attribute(self):
        obj = clean_machine(tags=["a"])
        obj.tags += ["b"]
        assert obj.tags == ["a", "b"]
        assert isinstance(obj.tags, TrackedList)
        assert obj.obj_what_changed() == {"tags"}

    def test_value_is_a_tracked_list(self):
        obj = machine(tags=["a"])
        assert isinstance(obj.tags, TrackedList)
        assert obj.tags == ["a"]

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda v: v.append(1),
            lambda v: v.extend(["ok", 2]),
            lambda v: v.insert(0, None),
            lambda v: v.__setitem__(0, 3),
            lambda v: v.__setitem__(slice(0, 1), [4]),
            lambda v: v.__iadd__([5]),
        ],
        ids=["append", "extend", "insert", "setitem", "setslice", "iadd"],
    )
    def test_new_items_type_checked(self, mutate):
        obj = clean_machine(tags=["a"])
        with pytest.raises(FieldValueError) as info:
            mutate(obj.tags)
        assert "Machine.tags" in str(info.value)
        assert "Expected `str`" in str(info.value)
        assert obj.tags == ["a"]
        assert obj.obj_what_changed() == set()

    def test_new_items_coerced(self):
        obj = clean_machine()
        obj.ratios.append(1)
        obj.ratios.extend([2])
        assert obj.ratios == [1.0, 2.0]
        assert all(type(r) is float for r in obj.ratios)

    def test_list_of_objects_refuses_other_objects(self):
        obj = clean_machine()
        with pytest.raises(
            FieldValueError, match=r"Expected `Disk` object, got `Leaf` - at Machine\.disks"
        ):
            obj.disks.append(Leaf())
        assert obj.disks == []

    def test_nullable_list_field_is_tracked(self):
        class MaybeList(XyzObject):
            items: list[int] | None = None

        obj = MaybeList(items=[1])
        obj.obj_reset_changes()
        obj.items.append(2)
        assert obj.obj_what_changed() == {"items"}
        with pytest.raises(FieldValueError):
            obj.items.append("x")

    def test_nested_container_mutation_tracked_and_checked(self):
        obj = clean_machine(nested={"k": ["a"]})
        obj.nested["k"].append("b")
        assert obj.obj_what_changed() == {"nested"}
        with pytest.raises(FieldValueError):
            obj.nested["k"].append(1)


class TestTrackedDict:
    @pytest.mark.parametrize(
        "mutate",
        [
            lambda v: v.__setitem__("c", "3"),
            lambda v: v.__delitem__("a"),
            lambda v: v.update({"c": "3"}),
            lambda v: v.update(c="3"),
            lambda v: v.__ior__({"c": "3"}),
            lambda v: v.pop("a"),
            lambda v: v.popitem(),
            lambda v: v.clear(),
            lambda v: v.setdefault("c", "3"),
        ],
        ids=[
            "setitem",
            "delitem",
            "update",
            "update-kw",
            "ior",
            "pop",
            "popitem",
            "clear",
            "setdefault",
        ],
    )
    def test_in_place_mutation_marks_field(self, mutate):
        obj = clean_machine(meta={"a": "1", "b": "2"})
        expected = dict(obj.meta)
        mutate(obj.meta)
        mutate(expected)
        assert obj.obj_what_changed() == {"meta"}
        assert dict(obj.meta) == expected

    def test_value_is_a_tracked_dict(self):
        assert isinstance(machine(meta={"a": "b"}).meta, TrackedDict)

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda v: v.__setitem__("k", 1),
            lambda v: v.update({"k": 1}),
            lambda v: v.update(k=None),
            lambda v: v.__ior__({"k": 2}),
            lambda v: v.setdefault("k", 3),
        ],
        ids=["setitem", "update", "update-kw", "ior", "setdefault"],
    )
    def test_new_values_type_checked(self, mutate):
        obj = clean_machine(meta={"a": "1"})
        with pytest.raises(FieldValueError) as info:
            mutate(obj.meta)
        assert "Machine.meta" in str(info.value)
        assert obj.meta == {"a": "1"}
        assert obj.obj_what_changed() == set()

    def test_non_str_key_refused(self):
        obj = clean_machine()
        with pytest.raises(FieldValueError, match="Expected `str` key, got `int`"):
            obj.meta[1] = "x"
        with pytest.raises(FieldValueError, match="Expected `str` key"):
            obj.meta.update({2: "x"})
        assert obj.meta == {}
        assert obj.obj_what_changed() == set()

    def test_non_str_key_error_names_object_and_field(self):
        obj = clean_machine()
        with pytest.raises(FieldValueError, match=r"Machine\.meta"):
            obj.meta[1] = "x"

    def test_dict_of_objects_refuses_other_values(self):
        obj = clean_machine()
        with pytest.raises(
            FieldValueError, match=r"Expected `Disk` object, got `str` - at Machine\.disk_map"
        ):
            obj.disk_map["x"] = "not a disk"
        assert obj.disk_map == {}


class TestTrackedSet:
    @pytest.mark.parametrize(
        "mutate",
        [
            lambda v: v.add(9),
            lambda v: v.update([8, 9]),
            lambda v: v.__ior__({9}),
            lambda v: v.__iand__({1}),
            lambda v: v.__isub__({1}),
            lambda v: v.__ixor__({1, 9}),
            lambda v: v.discard(1),
            lambda v: v.remove(2),
            lambda v: v.clear(),
            lambda v: v.difference_update({1}),
            lambda v: v.intersection_update({2}),
            lambda v: v.symmetric_difference_update({2, 7}),
        ],
        ids=[
            "add",
            "update",
            "ior",
            "iand",
            "isub",
            "ixor",
            "discard",
            "remove",
            "clear",
            "difference_update",
            "intersection_update",
            "symmetric_difference_update",
        ],
    )
    def test_in_place_mutation_marks_field(self, mutate):
        obj = clean_machine(ports={1, 2})
        expected = set(obj.ports)
        mutate(obj.ports)
        mutate(expected)
        assert obj.obj_what_changed() == {"ports"}
        assert set(obj.ports) == expected

    def test_pop_marks_field(self):
        obj = clean_machine(ports={1, 2})
        taken = obj.ports.pop()
        assert taken in {1, 2}
        assert obj.ports == {1, 2} - {taken}
        assert obj.obj_what_changed() == {"ports"}

    def test_augmented_operators_on_attribute(self):
        obj = clean_machine(ports={1, 2})
        obj.ports |= {3}
        obj.ports -= {1}
        obj.ports &= {2, 3, 4}
        obj.ports ^= {4}
        assert obj.ports == {2, 3, 4}
        assert isinstance(obj.ports, TrackedSet)
        assert obj.obj_what_changed() == {"ports"}

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda v: v.add("x"),
            lambda v: v.update(["x"]),
            lambda v: v.__ior__({"x"}),
            lambda v: v.__ixor__({"x"}),
            lambda v: v.symmetric_difference_update({"x"}),
        ],
        ids=["add", "update", "ior", "ixor", "symmetric_difference_update"],
    )
    def test_new_members_type_checked(self, mutate):
        obj = clean_machine(ports={1})
        with pytest.raises(FieldValueError) as info:
            mutate(obj.ports)
        assert "Machine.ports" in str(info.value)
        assert "Expected `int`, got `str`" in str(info.value)
        assert obj.ports == {1}
        assert obj.obj_what_changed() == set()
