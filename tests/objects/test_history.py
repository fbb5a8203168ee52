"""Backports generated from declared history (cumulo/objects/history.py), checked
against each version's strict schema."""

from __future__ import annotations

import copy
import enum
from typing import Any, ClassVar, Literal

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cumulo.objects import (
    BackportError,
    InvalidTargetVersion,
    ObjectDeclarationError,
    Registry,
    VersionedObject,
    backport,
    backport_hook,
    field,
    fields_at,
    historical_envelope,
    register,
    versions,
)
from cumulo.objects.addresses import dec_hook
from tests.objects.sample_objects import (
    SAMPLE_NAMESPACE,
    SAMPLE_REGISTRY,
    SAMPLE_SERIAL_NAMESPACE,
    Flavor,
    Instance,
    InstanceList,
    SampleObject,
    SecurityGroup,
    SecurityGroupList,
    VMState,
)
from tests.objects.strategies import (
    check_backport,
    class_versions,
    manifests_for,
    object_classes,
    objects_of,
    version_id,
)
from tests.objects.test_codec import make_flavor, make_instance

NS = SAMPLE_SERIAL_NAMESPACE
VERSION, DATA, CHANGES = f"{NS}.version", f"{NS}.data", f"{NS}.changes"
OLDEST = {"Instance": "1.0", "Flavor": "1.0", "SecurityGroup": "1.0"}


def load_at(
    primitive: dict[str, Any],
    cls: type[VersionedObject],
    version: str,
    manifest: dict[str, str] | None = None,
) -> Any:
    """Load ``primitive`` the way a peer running ``cls`` at ``version`` would."""
    envelope = historical_envelope(cls, version, manifest)
    return msgspec.convert(primitive, envelope, dec_hook=dec_hook)


def fresh_instance(**overrides: Any) -> Instance:
    instance = make_instance(**overrides)
    instance.obj_reset_changes(recursive=True)
    return instance


# --- dropping fields --------------------------------------------------------------------------


@pytest.mark.parametrize("version", Instance.obj_history())
def test_backport_keeps_exactly_the_fields_of_the_target(version: str) -> None:
    primitive = make_instance().obj_to_primitive(target_version=version)
    assert primitive[VERSION] == version
    assert set(primitive[DATA]) == set(fields_at(Instance, version))


def test_backport_drops_fields_added_later_and_keeps_values() -> None:
    instance = make_instance(locked=True, power_state=4)
    data = instance.obj_to_primitive(target_version="1.1")[DATA]
    assert "locked" not in data  # 1.2
    assert "networks" not in data  # 1.3
    assert data["power_state"] == 4  # 1.1
    assert data["display_name"] == "web-1"
    assert data["flavor"][DATA]["vcpus"] == 2


def test_backport_removes_dropped_fields_from_changes() -> None:
    instance = fresh_instance()
    instance.display_name = "web-2"
    instance.locked = True  # 1.2
    instance.launched_at = instance.created_at  # 1.3
    primitive = instance.obj_to_primitive(target_version="1.1")
    assert primitive[CHANGES] == ["display_name"]


def test_backport_drops_changes_key_when_only_later_fields_changed() -> None:
    instance = fresh_instance()
    instance.locked = True
    primitive = instance.obj_to_primitive(target_version="1.1")
    assert CHANGES not in primitive
    assert CHANGES in instance.obj_to_primitive(target_version="1.2")


def test_backport_leaves_the_object_alone() -> None:
    instance = make_instance(locked=True)
    before = copy.deepcopy(instance.obj_to_primitive())
    instance.obj_to_primitive(target_version="1.0", version_manifest=OLDEST)
    assert instance.obj_to_primitive() == before
    assert instance.locked is True


# --- children ---------------------------------------------------------------------------------


def test_children_follow_the_manifest() -> None:
    instance = make_instance(old_flavor=make_flavor(id=2))
    primitive = instance.obj_to_primitive(
        target_version="1.2", version_manifest={"Flavor": "1.0", "SecurityGroup": "1.0"}
    )
    for child in (primitive[DATA]["flavor"], primitive[DATA]["old_flavor"]):
        assert child[VERSION] == "1.0"
        assert set(child[DATA]) == set(fields_at(Flavor, "1.0"))
    [group] = primitive[DATA]["security_groups"]
    assert group[VERSION] == "1.0"
    assert "rules" not in group[DATA]
    load_at(primitive, Instance, "1.2", {"Flavor": "1.0", "SecurityGroup": "1.0"})


def test_children_absent_from_the_manifest_stay_current() -> None:
    instance = make_instance()
    primitive = instance.obj_to_primitive(
        target_version="1.1", version_manifest={"SecurityGroup": "1.0"}
    )
    assert primitive[DATA]["flavor"][VERSION] == Flavor.VERSION
    assert set(primitive[DATA]["flavor"][DATA]) == set(Flavor.obj_fields())
    assert primitive[DATA]["security_groups"][0][VERSION] == "1.0"
    # no manifest at all: only the object itself moves
    primitive = instance.obj_to_primitive(target_version="1.1")
    assert primitive[DATA]["flavor"][VERSION] == Flavor.VERSION
    assert primitive[DATA]["security_groups"][0][VERSION] == SecurityGroup.VERSION


def test_manifest_alone_sets_the_target_version() -> None:
    primitive = make_instance().obj_to_primitive(version_manifest=OLDEST)
    assert primitive[VERSION] == "1.0"
    assert primitive[DATA]["flavor"][VERSION] == "1.0"
    load_at(primitive, Instance, "1.0", OLDEST)


def test_manifest_without_the_object_moves_only_children() -> None:
    primitive = make_instance().obj_to_primitive(version_manifest={"Flavor": "1.1"})
    assert primitive[VERSION] == Instance.VERSION
    assert primitive[DATA]["flavor"][VERSION] == "1.1"
    assert "extra_specs" not in primitive[DATA]["flavor"][DATA]


def test_children_changes_are_filtered_too() -> None:
    instance = fresh_instance()
    instance.flavor.swap = 1024  # Flavor 1.1
    instance.flavor.name = "m1.large"
    primitive = instance.obj_to_primitive(version_manifest={"Flavor": "1.0"})
    assert primitive[DATA]["flavor"][CHANGES] == ["name"]
    instance.obj_reset_changes(recursive=True)
    instance.flavor.swap = 2048
    primitive = instance.obj_to_primitive(version_manifest={"Flavor": "1.0"})
    assert CHANGES not in primitive[DATA]["flavor"]


def test_list_object_backports_every_item_and_their_children() -> None:
    instances = InstanceList(objects=[make_instance(), make_instance(display_name="web-2")])
    manifest = {"InstanceList": "1.0", **OLDEST}
    primitive = instances.obj_to_primitive(version_manifest=manifest)
    assert primitive[VERSION] == "1.0"
    for item in primitive[DATA]["objects"]:
        assert item[VERSION] == "1.0"
        assert item[DATA]["flavor"][VERSION] == "1.0"
        assert "security_groups" not in item[DATA]
    load_at(primitive, InstanceList, "1.0", manifest)


def test_conductor_backport_of_a_received_primitive() -> None:
    # What object_backport_versions does for an older peer.
    primitive = make_instance().obj_to_primitive()
    old = backport(
        copy.deepcopy(primitive), {"Instance": "1.1", "Flavor": "1.0"}, base=SampleObject
    )
    assert old[VERSION] == "1.1"
    assert old[DATA]["flavor"][VERSION] == "1.0"
    load_at(old, Instance, "1.1", {"Flavor": "1.0"})


# --- enum values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "refused_below"), [(VMState.SHELVED, "1.2"), (VMState.ACTIVE, "1.0")]
)
def test_enum_value_is_refused_below_the_version_that_added_it(
    state: VMState, refused_below: str
) -> None:
    # RESCUED is not here: the 1.3 hook converts it (see test_hook_runs_before_...).
    instance = make_instance(vm_state=state)
    for version in Instance.obj_history():
        if versions.parse(version) < versions.parse(refused_below):
            with pytest.raises(BackportError) as info:
                instance.obj_to_primitive(target_version=version)
            message = str(info.value)
            assert "Instance.vm_state" in message
            assert f"Instance {version}" in message
            assert f"added in {refused_below}" in message
            assert message.endswith("- at $.vm_state")
        else:
            data = instance.obj_to_primitive(target_version=version)[DATA]
            assert data["vm_state"] == state.value


def test_enum_value_refused_deep_inside_names_its_path() -> None:
    instances = InstanceList(objects=[make_instance(), make_instance(vm_state=VMState.SHELVED)])
    with pytest.raises(BackportError) as info:
        instances.obj_to_primitive(version_manifest={"Instance": "1.1"})
    assert str(info.value).endswith("- at $.objects[1].vm_state")


PATHS_REGISTRY = Registry()


class PathObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "cumulo_test_paths"
    OBJ_SERIAL_NAMESPACE = "cumulo_test_paths_object"
    OBJ_REGISTRY = PATHS_REGISTRY


@register
class Nic(PathObject):
    VERSION = "1.1"

    state: Literal["up", "down", "testing"] = field(default="up", values_added={"1.1": ["testing"]})


@register
class Host(PathObject):
    nics: dict[str, Nic] = field(default_factory=dict)
    uplink: Nic | None = None


def test_enum_value_refused_inside_a_dict_or_nested_object_names_its_path() -> None:
    host = Host(nics={"eth0": Nic(), "eth1": Nic(state="testing")})
    with pytest.raises(BackportError) as info:
        host.obj_to_primitive(version_manifest={"Nic": "1.0"})
    assert str(info.value).endswith("- at $.nics['eth1'].state")
    host = Host(uplink=Nic(state="testing"))
    with pytest.raises(BackportError) as info:
        host.obj_to_primitive(version_manifest={"Nic": "1.0"})
    assert str(info.value).endswith("- at $.uplink.state")


# --- hooks ------------------------------------------------------------------------------------

HOOKS_REGISTRY = Registry()


class HookObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "cumulo_test_hooks"
    OBJ_SERIAL_NAMESPACE = "cumulo_test_hooks_object"
    OBJ_REGISTRY = HOOKS_REGISTRY


class Colour(enum.StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


@register
class Disk(HookObject):
    """1.1: size_gb replaces size_mb in meaning (hook), 1.2: label, 1.3: bus."""

    VERSION = "1.3"
    calls: ClassVar[list[tuple[str, str]]] = []

    size: int
    label: str = field(default="", added="1.2")
    bus: str = field(default="virtio", added="1.3")

    @backport_hook("1.1")
    @classmethod
    def _before_1_1(cls, data: dict[str, Any], target: str) -> None:
        cls.calls.append(("1.1", target))
        data["size"] = data["size"] * 1024  # 1.0 counted MiB, 1.1 counts GiB

    @backport_hook("1.3")
    @classmethod
    def _before_1_3(cls, data: dict[str, Any], target: str) -> None:
        cls.calls.append(("1.3", target))
        assert "bus" in data  # hooks see the data before later fields are dropped

    @backport_hook("1.2")
    @classmethod
    def _before_1_2(cls, data: dict[str, Any], target: str) -> None:
        cls.calls.append(("1.2", target))


@register
class Server(HookObject):
    VERSION = "1.0"

    disks: list[Disk] = field(default_factory=list)


@register
class Rack(HookObject):
    """Every way to hold an object: dict values, nullable, nullable list added later."""

    VERSION = "1.1"

    by_slot: dict[str, Disk] = field(default_factory=dict)
    boot: Disk | None = None
    spares: list[Disk] | None = field(default=None, added="1.1")


@pytest.fixture(autouse=True)
def _clear_hook_calls() -> None:
    Disk.calls.clear()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("1.3", []),
        ("1.2", [("1.3", "1.2")]),
        ("1.1", [("1.3", "1.1"), ("1.2", "1.1")]),
        ("1.0", [("1.3", "1.0"), ("1.2", "1.0"), ("1.1", "1.0")]),
    ],
)
def test_hooks_run_newest_first_only_when_crossing_their_version(
    target: str, expected: list[tuple[str, str]]
) -> None:
    primitive = Disk(size=10, label="root").obj_to_primitive(target_version=target)
    assert Disk.calls == expected
    assert primitive["cumulo_test_hooks_object.data"]["size"] == (
        10 * 1024 if target == "1.0" else 10
    )
    load_at(primitive, Disk, target)


def test_hooks_of_children_run_when_the_manifest_moves_them() -> None:
    server = Server(disks=[Disk(size=1), Disk(size=2)])
    primitive = server.obj_to_primitive(version_manifest={"Disk": "1.0"})
    sizes = [
        d["cumulo_test_hooks_object.data"]["size"]
        for d in primitive["cumulo_test_hooks_object.data"]["disks"]
    ]
    assert sizes == [1024, 2048]
    assert [c for c in Disk.calls if c[0] == "1.1"] == [("1.1", "1.0"), ("1.1", "1.0")]
    Disk.calls.clear()
    server.obj_to_primitive()
    server.obj_to_primitive(version_manifest={"Server": "1.0"})
    assert Disk.calls == []


def test_children_in_dicts_and_nullable_fields_follow_the_manifest() -> None:
    rack = Rack(by_slot={"a": Disk(size=1, bus="scsi")}, boot=Disk(size=2), spares=[Disk(size=3)])
    primitive = rack.obj_to_primitive(target_version="1.0", version_manifest={"Disk": "1.2"})
    data = primitive["cumulo_test_hooks_object.data"]
    assert "spares" not in data
    for disk in (data["by_slot"]["a"], data["boot"]):
        assert disk["cumulo_test_hooks_object.version"] == "1.2"
        assert "bus" not in disk["cumulo_test_hooks_object.data"]
    load_at(primitive, Rack, "1.0", {"Disk": "1.2"})
    rack.boot = None
    primitive = rack.obj_to_primitive(version_manifest={"Disk": "1.0"})
    assert primitive["cumulo_test_hooks_object.data"]["boot"] is None
    load_at(primitive, Rack, "1.1", {"Disk": "1.0"})


def test_hook_runs_before_enum_values_are_checked() -> None:
    # Instance's 1.3 hook shows a rescued instance to older peers as "error".
    instance = make_instance(vm_state=VMState.RESCUED)
    for version in ("1.2", "1.1", "1.0"):
        primitive = instance.obj_to_primitive(target_version=version, version_manifest=OLDEST)
        assert primitive[DATA]["vm_state"] == "error"
        load_at(primitive, Instance, version, OLDEST)
    assert instance.obj_to_primitive()[DATA]["vm_state"] == "rescued"


def test_backport_hook_must_not_be_newer_than_the_class() -> None:
    registry = Registry()

    class Base(VersionedObject):
        OBJ_PROJECT_NAMESPACE = "cumulo_test_bad_hook"
        OBJ_REGISTRY = registry

    class Bad(Base):
        VERSION = "1.1"
        size: int

        @backport_hook("1.2")
        @classmethod
        def _before_1_2(cls, data: dict[str, Any], target: str) -> None: ...

    with pytest.raises(ObjectDeclarationError):
        Bad.obj_fields()


# --- invalid targets --------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["1.4", "1.10", "2.0", "0.9", "0.0", "x", "1", "1.a"])
def test_invalid_target_versions(target: str) -> None:
    with pytest.raises(InvalidTargetVersion):
        make_instance().obj_to_primitive(target_version=target)


@pytest.mark.parametrize(
    "manifest",
    [{"Flavor": "1.3"}, {"Flavor": "2.0"}, {"SecurityGroup": "0.1"}, {"Instance": "1.4"}],
)
def test_manifest_naming_impossible_versions_is_invalid(manifest: dict[str, str]) -> None:
    with pytest.raises(InvalidTargetVersion):
        make_instance().obj_to_primitive(version_manifest=manifest)


def test_current_version_target_is_the_plain_primitive() -> None:
    instance = make_instance()
    assert instance.obj_to_primitive(target_version=Instance.VERSION) == (
        instance.obj_to_primitive()
    )


# --- historical schemas -----------------------------------------------------------------------


def test_fields_at_follows_the_declared_history() -> None:
    assert set(fields_at(Instance, "1.3")) == set(Instance.obj_fields())
    assert set(fields_at(Instance, "1.0")) == {
        "uuid", "display_name", "host", "vm_state", "flavor", "tags", "metadata",
        "system_metadata", "created_at", "access_ip_v4", "admin_pass",
    }  # fmt: skip
    assert set(fields_at(Instance, "1.1")) - set(fields_at(Instance, "1.0")) == {
        "security_groups", "access_ip_v6", "power_state",
    }  # fmt: skip


def test_historical_envelope_loads_a_backported_primitive() -> None:
    primitive = make_instance().obj_to_primitive(target_version="1.0", version_manifest=OLDEST)
    loaded = load_at(primitive, Instance, "1.0", OLDEST)
    assert loaded.version == "1.0"
    assert loaded.data.display_name == "web-1"
    assert loaded.data.flavor.version == "1.0"


def test_historical_envelope_refuses_unknown_fields() -> None:
    primitive = make_instance().obj_to_primitive(target_version="1.0", version_manifest=OLDEST)
    primitive[DATA]["locked"] = False
    with pytest.raises(msgspec.ValidationError, match="unknown field `locked`"):
        load_at(primitive, Instance, "1.0", OLDEST)
    # the same inside a child
    primitive = make_instance().obj_to_primitive(target_version="1.0", version_manifest=OLDEST)
    primitive[DATA]["flavor"][DATA]["swap"] = 0
    with pytest.raises(msgspec.ValidationError, match="unknown field `swap`"):
        load_at(primitive, Instance, "1.0", OLDEST)


def test_historical_envelope_refuses_a_current_primitive() -> None:
    # What would happen without a backport: the old peer cannot read it.
    with pytest.raises(msgspec.ValidationError):
        load_at(make_instance().obj_to_primitive(), Instance, "1.0", OLDEST)


def test_historical_envelope_refuses_enum_values_added_later() -> None:
    primitive = make_instance().obj_to_primitive(target_version="1.1")
    primitive[DATA]["vm_state"] = "shelved"
    with pytest.raises(msgspec.ValidationError, match="vm_state"):
        load_at(primitive, Instance, "1.1")
    primitive[DATA]["vm_state"] = "rescued"
    with pytest.raises(msgspec.ValidationError, match="vm_state"):
        load_at(primitive, Instance, "1.1")
    primitive = make_instance(vm_state=VMState.SHELVED).obj_to_primitive(target_version="1.2")
    assert load_at(primitive, Instance, "1.2").data.vm_state == "shelved"


def test_historical_envelope_refuses_other_version_strings() -> None:
    primitive = make_instance().obj_to_primitive(target_version="1.1")
    with pytest.raises(msgspec.ValidationError, match=r"version 1\.2"):
        load_at(primitive, Instance, "1.2")
    primitive = make_instance().obj_to_primitive(
        target_version="1.1", version_manifest={"Flavor": "1.0"}
    )
    with pytest.raises(msgspec.ValidationError, match=r"Flavor version 1\.1, got 1\.0"):
        load_at(primitive, Instance, "1.1", {"Flavor": "1.1"})


def test_historical_envelope_of_an_unknown_version_is_a_declaration_error() -> None:
    with pytest.raises(ObjectDeclarationError):
        historical_envelope(Instance, "1.4")
    with pytest.raises(ObjectDeclarationError):
        historical_envelope(Instance, "2.0")


# --- nested enum containers -------------------------------------------------------------------

NESTED_REGISTRY = Registry()


class NestedObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "cumulo_test_nested"
    OBJ_SERIAL_NAMESPACE = "cumulo_test_nested_object"
    OBJ_REGISTRY = NESTED_REGISTRY


@register
class Palette(NestedObject):
    VERSION = "1.1"

    flat: list[Colour] = field(default_factory=list, values_added={"1.1": ["blue"]})
    by_name: dict[str, Colour] = field(default_factory=dict, values_added={"1.1": ["blue"]})
    grouped: dict[str, list[Colour]] = field(default_factory=dict, values_added={"1.1": ["blue"]})


def test_enum_values_inside_lists_and_dicts_are_checked() -> None:
    with pytest.raises(BackportError, match=r"Palette\.flat"):
        Palette(flat=["red", "blue"]).obj_to_primitive(target_version="1.0")
    with pytest.raises(BackportError, match=r"Palette\.by_name"):
        Palette(by_name={"sky": "blue"}).obj_to_primitive(target_version="1.0")
    primitive = Palette(flat=["red"], by_name={"leaf": "green"}).obj_to_primitive(
        target_version="1.0"
    )
    load_at(primitive, Palette, "1.0")


@pytest.mark.parametrize(
    ("grouped", "refused"),
    [({"warm": ["red"]}, False), ({"cold": ["blue"]}, True)],
    ids=["known-values", "value-added-later"],
)
def test_enum_values_two_containers_deep_are_checked(
    grouped: dict[str, list[str]], refused: bool
) -> None:
    palette = Palette(grouped=grouped)
    if refused:
        with pytest.raises(BackportError, match=r"Palette\.grouped"):
            palette.obj_to_primitive(target_version="1.0")
    else:
        load_at(palette.obj_to_primitive(target_version="1.0"), Palette, "1.0")


# --- the exhaustive check over every (class, version) -----------------------------------------


@pytest.mark.parametrize(
    ("cls", "version"), class_versions(SAMPLE_REGISTRY, SAMPLE_NAMESPACE), ids=version_id
)
def test_every_class_backports_to_every_version(cls: type[SampleObject], version: str) -> None:
    check_backport(cls, version, max_examples=25)


@pytest.mark.parametrize(("cls", "version"), class_versions(HOOKS_REGISTRY), ids=version_id)
def test_every_hooked_class_backports_to_every_version(cls: type[HookObject], version: str) -> None:
    check_backport(cls, version, max_examples=10)


def test_class_versions_cover_the_whole_registry() -> None:
    pairs = class_versions(SAMPLE_REGISTRY, SAMPLE_NAMESPACE)
    assert {(c.obj_name(), v) for c, v in pairs} == {
        ("Flavor", "1.0"), ("Flavor", "1.1"), ("Flavor", "1.2"),
        ("Instance", "1.0"), ("Instance", "1.1"), ("Instance", "1.2"), ("Instance", "1.3"),
        ("InstanceList", "1.0"), ("InstanceList", "1.1"),
        ("SecurityGroup", "1.0"), ("SecurityGroup", "1.1"),
        ("SecurityGroupList", "1.0"),
    }  # fmt: skip
    assert class_versions(SAMPLE_REGISTRY, "no_such_namespace") == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_backported_values_survive_the_trip_back(data: st.DataObject) -> None:
    """A peer's old primitive loads into the current classes with the same values
    for every field the old version had."""
    version = data.draw(st.sampled_from(Instance.obj_history()))
    manifest = data.draw(manifests_for(Instance, version))
    instance = data.draw(objects_of(Instance, version, manifest))
    primitive = instance.obj_to_primitive(target_version=version, version_manifest=manifest)
    loaded = Instance.obj_from_primitive(primitive)
    assert_same_at(loaded, instance, version, manifest)


def assert_same_at(
    loaded: VersionedObject, original: VersionedObject, version: str, manifest: dict[str, str]
) -> None:
    cls = type(original)
    assert type(loaded) is cls
    for name, spec in fields_at(cls, version).items():
        got, want = getattr(loaded, name), getattr(original, name)
        if not spec.type.has_objects:
            assert got == want, name
            continue
        children = zip(_objects(got), _objects(want), strict=True)
        for got_child, want_child in children:
            child_version = manifest.get(got_child.obj_name(), got_child.VERSION)
            assert_same_at(got_child, want_child, child_version, manifest)


def _objects(value: Any) -> list[VersionedObject]:
    if isinstance(value, VersionedObject):
        return [value]
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return []


# --- the strategies themselves ----------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects_of(InstanceList))
def test_objects_of_populates_every_field_recursively(instances: InstanceList) -> None:
    def check(obj: VersionedObject) -> None:
        for name in obj.obj_fields():
            assert obj.obj_attr_is_set(name), f"{obj.obj_name()}.{name}"
            value = getattr(obj, name)
            assert value is not None, f"{obj.obj_name()}.{name}"
            if obj.obj_fields()[name].type.has_objects:
                children = _objects(value)
                assert children, f"{obj.obj_name()}.{name} holds no object"
                for child in children:
                    check(child)

    check(instances)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects_of(Instance, "1.1", {"Instance": "1.1", "Flavor": "1.0"}))
def test_objects_of_keeps_enum_values_backportable(instance: Instance) -> None:
    assert instance.vm_state not in (VMState.SHELVED, VMState.RESCUED)


def test_object_classes_reaches_every_nested_class() -> None:
    assert [c.obj_name() for c in object_classes(InstanceList)] == [
        "Flavor", "Instance", "InstanceList", "SecurityGroup",
    ]  # fmt: skip
    assert object_classes(SecurityGroupList) == [SecurityGroup, SecurityGroupList]


def test_sample_objects_use_their_own_registry() -> None:
    from cumulo.objects import REGISTRY

    assert SAMPLE_NAMESPACE not in REGISTRY.namespaces()
    assert Instance.OBJ_REGISTRY is SAMPLE_REGISTRY
