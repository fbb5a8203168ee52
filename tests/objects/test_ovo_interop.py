"""Wire compatibility with the real oslo.versionedobjects (OVO) library.

Every object below is declared twice, once with Cumulo and once with OVO, under
the same wire name, project namespace and serial namespace (``versioned_object``).
Primitives and JSON then travel between the two libraries in both directions,
at the current versions and backported, and each test compares field values
and change lists on both ends.
"""

import copy
import datetime as dt
import enum
import ipaddress
import json
import uuid
import warnings
from typing import Any, ClassVar, Literal

import hypothesis.strategies as st
import netaddr
import pytest
from hypothesis import given, settings

from cumulo.objects import (
    BackportError,
    DeserializationError,
    IncompatibleObjectVersion,
    MACAddress,
    Registry,
    VersionedObject,
    codec,
    field,
    register,
)

with warnings.catch_warnings():
    # OVO imports oslo.messaging, which drags in eventlet and its deprecation warnings.
    warnings.simplefilter("ignore")
    from oslo_utils import versionutils
    from oslo_versionedobjects import base as ovo_base
    from oslo_versionedobjects import fields as ovo_fields

NAMESPACE = "cumulo_ovo_interop"
SERIAL = "versioned_object"
CHANGES_KEY = f"{SERIAL}.changes"
DATA_KEY = f"{SERIAL}.data"
VERSION_KEY = f"{SERIAL}.version"

# Object names are unique to this module: OVO's registry is keyed by name alone.
FLAVOR = "InteropFlavor"
SECURITY_GROUP = "InteropSecurityGroup"
SECURITY_GROUP_LIST = "InteropSecurityGroupList"
INSTANCE = "InteropInstance"

OLD_MANIFEST = {INSTANCE: "1.0", FLAVOR: "1.0", SECURITY_GROUP_LIST: "1.0", SECURITY_GROUP: "1.0"}
CURRENT_MANIFEST = {
    INSTANCE: "1.1",
    FLAVOR: "1.1",
    SECURITY_GROUP_LIST: "1.0",
    SECURITY_GROUP: "1.1",
}


# --- the Cumulo side ---------------------------------------------------------------------


class InteropObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = NAMESPACE
    OBJ_SERIAL_NAMESPACE = SERIAL


@register
class Flavor(InteropObject):
    OBJ_NAME = FLAVOR
    VERSION = "1.1"

    id: int
    name: str
    memory_mb: int
    vcpus: int
    root_gb: int | None
    rxtx_factor: float
    is_public: bool = True
    description: str | None = None
    swap: int = field(default=0, added="1.1")


@register
class SecurityGroup(InteropObject):
    OBJ_NAME = SECURITY_GROUP
    VERSION = "1.1"

    id: int
    name: str
    description: str | None = None
    project_id: str | None = field(default=None, added="1.1")


@register
class SecurityGroupList(InteropObject):
    OBJ_NAME = SECURITY_GROUP_LIST
    VERSION = "1.0"

    objects: list[SecurityGroup] = field(default_factory=list)


class VmState(enum.StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"
    SHELVED = "shelved"


TaskState = Literal["spawning", "migrating", "deleting"]


@register
class Instance(InteropObject):
    OBJ_NAME = INSTANCE
    VERSION = "1.1"

    uuid: uuid.UUID
    host: str | None = None
    vm_state: VmState = field(default=VmState.ACTIVE, values_added={"1.1": ["shelved"]})
    task_state: TaskState | None = None
    launched_at: dt.datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    system_metadata: dict[str, str | None] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    trusted_certs: set[str] = field(default_factory=set)
    access_ip_v4: ipaddress.IPv4Address | None = None
    mac_address: MACAddress
    flavor: Flavor
    old_flavor: Flavor | None = None
    security_groups: SecurityGroupList
    display_name: str = field(default="", added="1.1")


# --- the OVO side: each object at 1.0 and at its current version --------------------------


class OvoInteropObject(ovo_base.VersionedObject):
    OBJ_PROJECT_NAMESPACE = NAMESPACE
    OBJ_SERIAL_NAMESPACE = SERIAL
    WIRE_NAME: ClassVar[str] = ""

    @classmethod
    def obj_name(cls) -> str:
        return cls.WIRE_NAME


def _older_than(target_version: str, version: tuple[int, int]) -> bool:
    return versionutils.convert_version_to_tuple(target_version) < version


_OVO_FLAVOR_1_0 = {
    "id": ovo_fields.IntegerField(),
    "name": ovo_fields.StringField(),
    "memory_mb": ovo_fields.IntegerField(),
    "vcpus": ovo_fields.IntegerField(),
    "root_gb": ovo_fields.IntegerField(nullable=True),
    "rxtx_factor": ovo_fields.FloatField(),
    "is_public": ovo_fields.BooleanField(default=True),
    "description": ovo_fields.StringField(nullable=True),
}


@ovo_base.VersionedObjectRegistry.register
class OvoFlavor10(OvoInteropObject):
    WIRE_NAME = FLAVOR
    VERSION = "1.0"
    fields = dict(_OVO_FLAVOR_1_0)


@ovo_base.VersionedObjectRegistry.register
class OvoFlavor(OvoInteropObject):
    WIRE_NAME = FLAVOR
    VERSION = "1.1"
    fields = {**_OVO_FLAVOR_1_0, "swap": ovo_fields.IntegerField(default=0)}

    def obj_make_compatible(self, primitive: dict[str, Any], target_version: str) -> None:
        super().obj_make_compatible(primitive, target_version)
        if _older_than(target_version, (1, 1)):
            primitive.pop("swap", None)


_OVO_SECURITY_GROUP_1_0 = {
    "id": ovo_fields.IntegerField(),
    "name": ovo_fields.StringField(),
    "description": ovo_fields.StringField(nullable=True),
}


@ovo_base.VersionedObjectRegistry.register
class OvoSecurityGroup10(OvoInteropObject):
    WIRE_NAME = SECURITY_GROUP
    VERSION = "1.0"
    fields = dict(_OVO_SECURITY_GROUP_1_0)


@ovo_base.VersionedObjectRegistry.register
class OvoSecurityGroup(OvoInteropObject):
    WIRE_NAME = SECURITY_GROUP
    VERSION = "1.1"
    fields = {**_OVO_SECURITY_GROUP_1_0, "project_id": ovo_fields.StringField(nullable=True)}

    def obj_make_compatible(self, primitive: dict[str, Any], target_version: str) -> None:
        super().obj_make_compatible(primitive, target_version)
        if _older_than(target_version, (1, 1)):
            primitive.pop("project_id", None)


@ovo_base.VersionedObjectRegistry.register
class OvoSecurityGroupList(ovo_base.ObjectListBase, OvoInteropObject):
    WIRE_NAME = SECURITY_GROUP_LIST
    VERSION = "1.0"
    fields = {"objects": ovo_fields.ListOfObjectsField(SECURITY_GROUP)}


_OVO_INSTANCE_1_0 = {
    "uuid": ovo_fields.UUIDField(),
    "host": ovo_fields.StringField(nullable=True),
    "vm_state": ovo_fields.EnumField(["active", "stopped"], default="active"),
    "task_state": ovo_fields.EnumField(["spawning", "migrating", "deleting"], nullable=True),
    "launched_at": ovo_fields.DateTimeField(nullable=True),
    "metadata": ovo_fields.DictOfStringsField(),
    "system_metadata": ovo_fields.DictOfNullableStringsField(),
    "tags": ovo_fields.ListOfStringsField(),
    "trusted_certs": ovo_fields.SetOfStringsField(),
    "access_ip_v4": ovo_fields.IPV4AddressField(nullable=True),
    "mac_address": ovo_fields.MACAddressField(),
    "flavor": ovo_fields.ObjectField(FLAVOR),
    "old_flavor": ovo_fields.ObjectField(FLAVOR, nullable=True),
    "security_groups": ovo_fields.ObjectField(SECURITY_GROUP_LIST),
}


@ovo_base.VersionedObjectRegistry.register
class OvoInstance10(OvoInteropObject):
    WIRE_NAME = INSTANCE
    VERSION = "1.0"
    fields = dict(_OVO_INSTANCE_1_0)


@ovo_base.VersionedObjectRegistry.register
class OvoInstance(OvoInteropObject):
    WIRE_NAME = INSTANCE
    VERSION = "1.1"
    fields = {
        **_OVO_INSTANCE_1_0,
        "vm_state": ovo_fields.EnumField(["active", "stopped", "shelved"], default="active"),
        "display_name": ovo_fields.StringField(default=""),
    }

    def obj_make_compatible(self, primitive: dict[str, Any], target_version: str) -> None:
        super().obj_make_compatible(primitive, target_version)
        if _older_than(target_version, (1, 1)):
            primitive.pop("display_name", None)
            if primitive.get("vm_state") == "shelved":
                raise ValueError("InteropInstance 1.0 has no 'shelved' vm_state")


# --- an older Cumulo release (every object at 1.0), in a registry of its own -------------

OLD_CUMULO = Registry()


class OldInteropObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = NAMESPACE
    OBJ_SERIAL_NAMESPACE = SERIAL
    OBJ_REGISTRY = OLD_CUMULO


@register
class OldFlavor(OldInteropObject):
    OBJ_NAME = FLAVOR

    id: int
    name: str
    memory_mb: int
    vcpus: int
    root_gb: int | None
    rxtx_factor: float
    is_public: bool = True
    description: str | None = None


@register
class OldSecurityGroup(OldInteropObject):
    OBJ_NAME = SECURITY_GROUP

    id: int
    name: str
    description: str | None = None


@register
class OldSecurityGroupList(OldInteropObject):
    OBJ_NAME = SECURITY_GROUP_LIST

    objects: list[OldSecurityGroup] = field(default_factory=list)


@register
class OldInstance(OldInteropObject):
    OBJ_NAME = INSTANCE

    uuid: uuid.UUID
    host: str | None = None
    vm_state: Literal["active", "stopped"] = "active"
    task_state: TaskState | None = None
    launched_at: dt.datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    system_metadata: dict[str, str | None] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    trusted_certs: set[str] = field(default_factory=set)
    access_ip_v4: ipaddress.IPv4Address | None = None
    mac_address: MACAddress
    flavor: OldFlavor
    old_flavor: OldFlavor | None = None
    security_groups: OldSecurityGroupList


# --- comparing the two sides -------------------------------------------------------------

AnyObject = VersionedObject | ovo_base.VersionedObject

# Fields whose primitive is a list in no particular order.
_SET_FIELDS = {"trusted_certs"}


def _field_names(obj: AnyObject) -> list[str]:
    if isinstance(obj, VersionedObject):
        return list(obj.obj_fields())
    return list(obj.fields)


def _set_fields(obj: AnyObject) -> list[str]:
    return [name for name in _field_names(obj) if obj.obj_attr_is_set(name)]


def plain(value: Any) -> Any:
    """A library-neutral, type-strict image of a field value.

    Numbers keep their type (``True``, ``1`` and ``1.0`` stay apart); datetimes
    keep their offset and microseconds; addresses, UUIDs and enum members become
    their wire strings; objects become the name and the set fields.
    """
    if isinstance(value, VersionedObject | ovo_base.VersionedObject):
        return {"__object__": value.obj_name(), **values(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID | ipaddress.IPv4Address | netaddr.IPAddress):
        return str(value)
    if isinstance(value, bool | int | float):
        return (type(value).__name__, value)
    if isinstance(value, dt.datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, set | frozenset):
        return frozenset(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def values(obj: AnyObject) -> dict[str, Any]:
    """``{field: plain value}`` for every set field (unset fields are absent)."""
    return {name: plain(getattr(obj, name)) for name in _set_fields(obj)}


def changes(obj: AnyObject) -> dict[str, Any]:
    """``obj_what_changed()`` of an object and of every object inside it."""
    tree: dict[str, Any] = {"": sorted(obj.obj_what_changed())}
    for name in _set_fields(obj):
        value = getattr(obj, name)
        if isinstance(value, VersionedObject | ovo_base.VersionedObject):
            tree[name] = changes(value)
        elif isinstance(value, list) and value and hasattr(value[0], "obj_what_changed"):
            tree[name] = [changes(v) for v in value]
    return tree


def assert_same(cumulo_obj: VersionedObject, ovo_obj: ovo_base.VersionedObject) -> None:
    assert values(cumulo_obj) == values(ovo_obj)
    assert changes(cumulo_obj) == changes(ovo_obj)


def canonical(primitive: Any) -> str:
    """A primitive as sorted JSON, with changes lists and set fields in sorted order."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: sorted(v) if k == CHANGES_KEY or k in _SET_FIELDS else walk(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    return json.dumps(walk(primitive), sort_keys=True)


def assert_fits(primitive: dict[str, Any], ovo_cls: type[ovo_base.VersionedObject]) -> None:
    """Every field in the primitive (children too) is one that ``ovo_cls`` declares.

    OVO silently skips unknown fields when loading, so loading alone proves nothing
    about stray fields.
    """
    assert primitive[VERSION_KEY] == ovo_cls.VERSION
    data = primitive[DATA_KEY]
    assert set(data) <= set(ovo_cls.fields), set(data) - set(ovo_cls.fields)
    assert set(primitive.get(CHANGES_KEY, ())) <= set(data)
    for name, value in data.items():
        objname = getattr(ovo_cls.fields[name], "objname", None)
        if objname is None or value is None:
            continue
        for child in value if isinstance(value, list) else [value]:
            child_cls = ovo_base.VersionedObject.obj_class_from_name(objname, child[VERSION_KEY])
            assert child[VERSION_KEY] == child_cls.VERSION
            assert_fits(child, child_cls)


# --- sample data, built on either side ---------------------------------------------------

FLAVOR_DATA: dict[str, Any] = {
    "id": 42,
    "name": "m1.large",
    "memory_mb": 8192,
    "vcpus": 4,
    "root_gb": None,
    "rxtx_factor": 1.5,
    "is_public": False,
    "description": "a big one",
    "swap": 512,
}
SECURITY_GROUP_DATA: list[dict[str, Any]] = [
    {"id": 1, "name": "default", "description": None, "project_id": "p-1"},
    {"id": 2, "name": "web", "description": "http and https", "project_id": None},
]
INSTANCE_DATA: dict[str, Any] = {
    "uuid": "2f0ab1f2-3b5e-4a1c-9d7e-0c4f8a6b9e10",
    "host": "compute-1",
    "vm_state": "stopped",
    "task_state": "migrating",
    "launched_at": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
    "metadata": {"role": "db", "ünïcode": "välue"},
    "system_metadata": {"image_base": None, "arch": "x86_64"},
    "tags": ["a", "b", "a"],
    "trusted_certs": {"cert-1", "cert-2", "cert-3"},
    "access_ip_v4": "192.0.2.10",
    "mac_address": "fa:16:3e:00:00:01",
    "display_name": "db one",
}

_OLD_FIELDS = {"swap", "project_id", "display_name"}


def _without(data: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in names}


def cumulo_instance(**overrides: Any) -> Instance:
    children = {
        "flavor": Flavor(**FLAVOR_DATA),
        "old_flavor": None,
        "security_groups": SecurityGroupList(
            objects=[SecurityGroup(**g) for g in SECURITY_GROUP_DATA]
        ),
    }
    return Instance(**{**copy.deepcopy(INSTANCE_DATA), **children, **overrides})


def ovo_instance(**overrides: Any) -> OvoInstance:
    children = {
        "flavor": OvoFlavor(**FLAVOR_DATA),
        "old_flavor": None,
        "security_groups": OvoSecurityGroupList(
            objects=[OvoSecurityGroup(**g) for g in SECURITY_GROUP_DATA]
        ),
    }
    return OvoInstance(**{**copy.deepcopy(INSTANCE_DATA), **children, **overrides})


def ovo_instance_1_0() -> OvoInstance10:
    data = copy.deepcopy(_without(INSTANCE_DATA, _OLD_FIELDS))
    return OvoInstance10(
        **data,
        flavor=OvoFlavor10(**_without(FLAVOR_DATA, _OLD_FIELDS)),
        old_flavor=OvoFlavor10(**_without(FLAVOR_DATA, _OLD_FIELDS) | {"name": "m1.small"}),
        security_groups=OvoSecurityGroupList(
            objects=[OvoSecurityGroup10(**_without(g, _OLD_FIELDS)) for g in SECURITY_GROUP_DATA]
        ),
    )


def ovo_from_cumulo(obj: VersionedObject) -> Any:
    return OvoInteropObject.obj_from_primitive(obj.obj_to_primitive())


def edit(instance: Any, append_tag: bool) -> None:
    """The same edits on either side, after a recursive reset of changes."""
    instance.obj_reset_changes(recursive=True)
    instance.host = "compute-2"
    instance.flavor.vcpus = 8
    instance.security_groups.objects[1].name = "db"
    if append_tag:
        instance.tags.append("c")  # tracked by Cumulo only
    else:
        instance.tags = [*instance.tags, "c"]


EDITED_CHANGES = {
    "": ["flavor", "host", "security_groups", "tags"],
    "flavor": {"": ["vcpus"]},
    "security_groups": {"": ["objects"], "objects": [{"": []}, {"": ["name"]}]},
}


# --- the same object gives the same wire on both sides -----------------------------------


def test_same_object_gives_same_primitive_in_both_libraries():
    ours, theirs = cumulo_instance(), ovo_instance()
    assert canonical(ours.obj_to_primitive()) == canonical(theirs.obj_to_primitive())

    edit(ours, append_tag=True)
    edit(theirs, append_tag=False)
    ours_prim, theirs_prim = ours.obj_to_primitive(), theirs.obj_to_primitive()
    assert canonical(ours_prim) == canonical(theirs_prim)
    assert sorted(ours_prim[CHANGES_KEY]) == EDITED_CHANGES[""]


# --- (1) Cumulo primitive -> OVO -------------------------------------------------------------


def test_cumulo_primitive_loads_in_ovo():
    ours = cumulo_instance()
    theirs = OvoInstance.obj_from_primitive(ours.obj_to_primitive())

    assert type(theirs) is OvoInstance
    assert type(theirs.flavor) is OvoFlavor
    assert type(theirs.security_groups) is OvoSecurityGroupList
    assert [type(g) for g in theirs.security_groups] == [OvoSecurityGroup] * 2
    assert theirs.old_flavor is None
    assert_same(ours, theirs)
    # Spot checks in OVO's own types, so a broken ``plain`` cannot hide a mismatch.
    assert theirs.uuid == INSTANCE_DATA["uuid"]
    assert theirs.access_ip_v4 == netaddr.IPAddress("192.0.2.10")
    assert theirs.trusted_certs == {"cert-1", "cert-2", "cert-3"}
    assert theirs.launched_at == INSTANCE_DATA["launched_at"]
    assert theirs.launched_at.utcoffset() == dt.timedelta(0)
    assert theirs.security_groups[0].project_id == "p-1"
    assert theirs.obj_what_changed() == set(Instance.obj_fields())


def test_cumulo_changes_reach_ovo_including_nested_objects_and_lists():
    ours = cumulo_instance()
    edit(ours, append_tag=True)
    assert changes(ours) == EDITED_CHANGES

    theirs = OvoInstance.obj_from_primitive(ours.obj_to_primitive())
    assert changes(theirs) == EDITED_CHANGES
    assert values(theirs) == values(ours)
    assert theirs.obj_get_changes()["host"] == "compute-2"
    assert theirs.tags == ["a", "b", "a", "c"]


def test_cumulo_datetime_microseconds_and_offset_reach_ovo():
    launched = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    ours = cumulo_instance(launched_at=launched)
    theirs = OvoInstance.obj_from_primitive(ours.obj_to_primitive())
    assert theirs.launched_at == launched
    assert theirs.launched_at.microsecond == 123456
    assert theirs.launched_at.utcoffset() == dt.timedelta(hours=5)

    # OVO's wire drops the microseconds; Cumulo receives what OVO sent, nothing more.
    back = Instance.obj_from_primitive(theirs.obj_to_primitive())
    assert back.launched_at == launched.replace(microsecond=0)
    assert back.launched_at.utcoffset() == dt.timedelta(hours=5)
    assert values(back) == values(ours) | {"launched_at": plain(launched.replace(microsecond=0))}


def test_unset_and_null_fields_stay_apart_on_the_way_to_ovo():
    flavor = Flavor(id=1, name="tiny", memory_mb=64, vcpus=1, root_gb=None, rxtx_factor=1.0)
    del flavor.description
    theirs = OvoFlavor.obj_from_primitive(flavor.obj_to_primitive())
    assert theirs.obj_attr_is_set("root_gb") and theirs.root_gb is None
    assert not theirs.obj_attr_is_set("description")
    assert theirs.swap == 0 and theirs.is_public is True  # Cumulo applied the defaults
    assert_same(flavor, theirs)


# --- (2) Cumulo backports -> OVO classes of the older version ---------------------------------


def test_cumulo_backport_loads_in_old_ovo_classes():
    ours = cumulo_instance(old_flavor=Flavor(**FLAVOR_DATA))
    edit(ours, append_tag=True)
    ours.display_name = "renamed"  # changed, and then dropped by the backport
    ours.security_groups.objects[0].project_id = "p-2"
    primitive = ours.obj_to_primitive("1.0", OLD_MANIFEST)
    assert_fits(primitive, OvoInstance10)

    theirs = OvoInstance.obj_from_primitive(primitive)
    assert type(theirs) is OvoInstance10
    assert theirs.VERSION == "1.0"
    assert type(theirs.flavor) is OvoFlavor10
    assert type(theirs.old_flavor) is OvoFlavor10
    assert [type(g) for g in theirs.security_groups] == [OvoSecurityGroup10] * 2

    expected = values(ours)
    del expected["display_name"]
    for name in ("flavor", "old_flavor"):
        del expected[name]["swap"]
    for group in expected["security_groups"]["objects"]:
        del group["project_id"]
    assert values(theirs) == expected
    assert changes(theirs) == {
        "": ["flavor", "host", "security_groups", "tags"],  # display_name was dropped
        "flavor": {"": ["vcpus"]},
        "old_flavor": {"": []},
        # The first group's only change (project_id) did not survive the backport.
        "security_groups": {"": ["objects"], "objects": [{"": []}, {"": ["name"]}]},
    }


@pytest.mark.parametrize(
    "target, manifest",
    [
        ("1.0", OLD_MANIFEST),
        (None, {**CURRENT_MANIFEST, FLAVOR: "1.0"}),
        (None, {**CURRENT_MANIFEST, SECURITY_GROUP: "1.0"}),
        ("1.0", {**OLD_MANIFEST, FLAVOR: "1.1", SECURITY_GROUP: "1.1"}),
        ("1.1", CURRENT_MANIFEST),
    ],
    ids=["all-old", "old-flavor", "old-security-group", "old-instance-only", "current"],
)
def test_cumulo_backport_matches_ovo_backport(target, manifest):
    ours = cumulo_instance(old_flavor=Flavor(**FLAVOR_DATA))
    theirs = ovo_instance(old_flavor=OvoFlavor(**FLAVOR_DATA))
    edit(ours, append_tag=True)
    edit(theirs, append_tag=False)

    ours_prim = ours.obj_to_primitive(target, manifest)
    theirs_prim = theirs.obj_to_primitive(target, manifest)
    assert canonical(ours_prim) == canonical(theirs_prim)
    assert ours_prim[DATA_KEY]["flavor"][VERSION_KEY] == manifest[FLAVOR]

    loaded = OvoInstance.obj_from_primitive(ours_prim)
    assert manifest[INSTANCE] == loaded.VERSION
    assert manifest[FLAVOR] == loaded.flavor.VERSION
    assert {g.VERSION for g in loaded.security_groups} == {manifest[SECURITY_GROUP]}
    assert changes(loaded) == changes(OvoInstance.obj_from_primitive(theirs_prim))


def test_cumulo_refuses_to_backport_a_value_the_old_ovo_class_rejects():
    ours = cumulo_instance(vm_state="shelved")
    with pytest.raises(BackportError, match="shelved"):
        ours.obj_to_primitive("1.0", OLD_MANIFEST)
    # The refusal is warranted: OVO at 1.0 cannot hold the value either.
    with pytest.raises(ValueError, match="shelved"):
        OvoInstance10(vm_state="shelved")
    # At 1.1 it goes through.
    assert OvoInstance.obj_from_primitive(ours.obj_to_primitive()).vm_state == "shelved"


def test_ovo_backport_loads_in_an_older_cumulo_release():
    theirs = ovo_instance(old_flavor=OvoFlavor(**FLAVOR_DATA))
    edit(theirs, append_tag=False)
    primitive = theirs.obj_to_primitive("1.0", OLD_MANIFEST)

    ours = OldInstance.obj_from_primitive(primitive)
    assert type(ours) is OldInstance
    assert type(ours.flavor) is OldFlavor
    assert [type(g) for g in ours.security_groups.objects] == [OldSecurityGroup] * 2
    # The old release reads what OVO's own 1.0 classes read.
    reread = OvoInstance.obj_from_primitive(primitive)
    assert type(reread) is OvoInstance10
    assert values(ours) == values(reread)
    assert changes(ours) == changes(reread)
    # And what the current Cumulo release backports to the same manifest.
    ours_now = Instance.obj_from_primitive(theirs.obj_to_primitive())
    assert canonical(ours_now.obj_to_primitive("1.0", OLD_MANIFEST)) == canonical(
        ours.obj_to_primitive()
    )


def test_ovo_backport_with_a_dropped_child_change_loads_in_an_older_cumulo_release():
    theirs = ovo_instance()
    theirs.obj_reset_changes(recursive=True)
    theirs.security_groups[0].project_id = "p-9"  # a field the 1.0 peer does not have
    primitive = theirs.obj_to_primitive("1.0", OLD_MANIFEST)
    group_prim = primitive[DATA_KEY]["security_groups"][DATA_KEY]["objects"][0]
    assert group_prim[CHANGES_KEY] == ["project_id"]  # OVO does not clean it up
    assert "project_id" not in group_prim[DATA_KEY]

    reread = OvoInstance.obj_from_primitive(primitive)
    assert reread.security_groups[0].obj_what_changed() == set()  # OVO drops the name

    ours = OldInstance.obj_from_primitive(primitive)
    group = ours.security_groups.objects[0]
    assert group.obj_what_changed() == set()
    assert group.obj_get_changes() == {}
    assert changes(ours) == changes(reread)


# --- (3) OVO primitive -> Cumulo -------------------------------------------------------------


def test_ovo_primitive_loads_in_cumulo():
    theirs = ovo_instance()
    ours = Instance.obj_from_primitive(theirs.obj_to_primitive())

    assert type(ours) is Instance
    assert type(ours.flavor) is Flavor
    assert type(ours.security_groups) is SecurityGroupList
    assert [type(g) for g in ours.security_groups.objects] == [SecurityGroup] * 2
    assert_same(ours, theirs)
    assert ours.uuid == uuid.UUID(INSTANCE_DATA["uuid"])
    assert ours.vm_state is VmState.STOPPED
    assert ours.task_state == "migrating"
    assert ours.access_ip_v4 == ipaddress.IPv4Address("192.0.2.10")
    assert ours.trusted_certs == {"cert-1", "cert-2", "cert-3"}
    assert ours.system_metadata == {"image_base": None, "arch": "x86_64"}
    assert ours.launched_at == INSTANCE_DATA["launched_at"]
    assert ours.obj_what_changed() == set(OvoInstance.fields)


def test_ovo_changes_reach_cumulo_including_nested_objects_and_lists():
    theirs = ovo_instance()
    edit(theirs, append_tag=False)
    assert changes(theirs) == EDITED_CHANGES

    ours = Instance.obj_from_primitive(theirs.obj_to_primitive())
    assert changes(ours) == EDITED_CHANGES
    assert values(ours) == values(theirs)

    # A non-recursive reset leaves the children's changes visible, as in OVO.
    ours.obj_reset_changes()
    theirs.obj_reset_changes()
    assert changes(ours) == changes(theirs)
    assert ours.obj_what_changed() == {"flavor", "security_groups"}
    ours.obj_reset_changes(recursive=True)
    theirs.obj_reset_changes(recursive=True)
    assert changes(ours) == changes(theirs)
    assert ours.obj_what_changed() == set()


def test_cumulo_edits_of_an_ovo_object_go_back_to_ovo():
    theirs = ovo_instance()
    theirs.obj_reset_changes(recursive=True)
    ours = Instance.obj_from_primitive(theirs.obj_to_primitive())
    assert changes(ours) == changes(theirs)
    assert ours.obj_what_changed() == set()

    ours.security_groups.objects[0].description = "edited here"
    ours.metadata["new"] = "key"
    back = OvoInstance.obj_from_primitive(ours.obj_to_primitive())
    assert changes(back) == {
        "": ["metadata", "security_groups"],
        "flavor": {"": []},
        "security_groups": {"": ["objects"], "objects": [{"": ["description"]}, {"": []}]},
    }
    assert back.metadata["new"] == "key"
    assert back.security_groups[0].description == "edited here"


@pytest.mark.parametrize(
    "text",
    ["2F0AB1F2-3B5E-4A1C-9D7E-0C4F8A6B9E10", "2f0ab1f23b5e4a1c9d7e0c4f8a6b9e10"],
    ids=["upper-case", "no-dashes"],
)
def test_ovo_uuid_spellings_load_in_cumulo_as_the_same_uuid(text):
    # OVO's UUIDField sends the string it was given; both spellings match its pattern.
    ours = Instance.obj_from_primitive(ovo_instance(uuid=text).obj_to_primitive())
    assert ours.uuid == uuid.UUID(INSTANCE_DATA["uuid"])


def test_invalid_ovo_uuid_is_refused_with_its_path():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # OVO only warns
        theirs = ovo_instance(uuid="not-a-uuid")
    with pytest.raises(DeserializationError) as info:
        codec.decode_json(json.dumps(theirs.obj_to_primitive()), Instance)
    assert info.value.path == "$.uuid"


def test_old_ovo_primitive_loads_in_cumulo_and_backports_to_the_same_primitive():
    theirs = ovo_instance_1_0()
    theirs.obj_reset_changes(recursive=True)
    theirs.old_flavor.vcpus = 16
    theirs.tags = ["z"]
    primitive = theirs.obj_to_primitive()
    ours = Instance.obj_from_primitive(primitive)

    # What the 1.0 peer sent, plus the defaults of the fields added since.
    assert values(ours) == values(theirs) | {
        "display_name": "",
        "flavor": values(theirs)["flavor"] | {"swap": ("int", 0)},
        "old_flavor": values(theirs)["old_flavor"] | {"swap": ("int", 0)},
        "security_groups": {
            "__object__": SECURITY_GROUP_LIST,
            "objects": [
                {**g, "__object__": SECURITY_GROUP, "project_id": None}
                for g in values(theirs)["security_groups"]["objects"]
            ],
        },
    }
    assert changes(ours) == changes(theirs)
    # The reply to that peer is exactly what it sent.
    assert canonical(ours.obj_to_primitive("1.0", OLD_MANIFEST)) == canonical(primitive)


def test_old_child_inside_a_current_ovo_parent_loads_in_cumulo():
    theirs = ovo_instance()
    theirs.flavor = OvoFlavor10(**_without(FLAVOR_DATA, {"swap"}))
    primitive = theirs.obj_to_primitive()
    assert primitive[DATA_KEY]["flavor"][VERSION_KEY] == "1.0"

    ours = Instance.obj_from_primitive(primitive)
    assert ours.flavor.swap == 0
    assert values(ours.flavor) == values(theirs.flavor) | {"swap": ("int", 0)}
    assert changes(ours) == changes(theirs)


def test_newer_ovo_object_is_refused_as_incompatible():
    @ovo_base.VersionedObjectRegistry.register_if(False)
    class OvoFlavor12(OvoInteropObject):
        WIRE_NAME = FLAVOR
        VERSION = "1.2"
        fields = {**OvoFlavor.fields, "ephemeral_gb": ovo_fields.IntegerField()}

    newer = OvoFlavor12(**FLAVOR_DATA, ephemeral_gb=10)
    with pytest.raises(IncompatibleObjectVersion) as info:
        Flavor.obj_from_primitive(newer.obj_to_primitive())
    assert (info.value.objname, info.value.objver, info.value.supported) == (FLAVOR, "1.2", "1.1")
    # The same, with the newer object nested inside a current one.
    parent = ovo_instance()
    parent.flavor = newer
    with pytest.raises(IncompatibleObjectVersion):
        Instance.obj_from_primitive(parent.obj_to_primitive())


# --- (4) JSON both ways ----------------------------------------------------------------------


def test_ovo_json_decodes_in_cumulo():
    first, second = ovo_instance(), ovo_instance(uuid=str(uuid.uuid4()), host=None)
    edit(second, append_tag=False)
    data = json.dumps(first.obj_to_primitive())

    ours = codec.decode_json(data, Instance)
    assert_same(ours, first)
    assert_same(Instance.obj_from_json(data.encode()), first)

    many = codec.decode_json(
        json.dumps([first.obj_to_primitive(), second.obj_to_primitive()]), list[Instance]
    )
    assert [type(o) for o in many] == [Instance, Instance]
    assert_same(many[0], first)
    assert_same(many[1], second)


def test_cumulo_json_loads_in_ovo():
    first, second = cumulo_instance(), cumulo_instance(uuid=uuid.uuid4(), host=None)
    edit(second, append_tag=True)

    theirs = OvoInstance.obj_from_primitive(json.loads(codec.encode_json(first)))
    assert_same(first, theirs)
    assert_same(first, OvoInstance.obj_from_primitive(json.loads(first.obj_to_json())))

    many = [
        OvoInstance.obj_from_primitive(p) for p in json.loads(codec.encode_json([first, second]))
    ]
    assert_same(first, many[0])
    assert_same(second, many[1])

    old = json.loads(second.obj_to_json("1.0", OLD_MANIFEST))
    assert_fits(old, OvoInstance10)
    assert canonical(old) == canonical(
        json.loads(json.dumps(ovo_from_cumulo(second).obj_to_primitive("1.0", OLD_MANIFEST)))
    )


def test_json_round_trip_cumulo_ovo_cumulo():
    ours = cumulo_instance()
    edit(ours, append_tag=True)
    theirs = OvoInstance.obj_from_primitive(json.loads(codec.encode_json(ours)))
    back = codec.decode_json(json.dumps(theirs.obj_to_primitive()), Instance)
    assert back == ours
    assert changes(back) == changes(ours) == EDITED_CHANGES


def test_json_round_trip_ovo_cumulo_ovo():
    theirs = ovo_instance()
    edit(theirs, append_tag=False)
    ours = codec.decode_json(json.dumps(theirs.obj_to_primitive()), Instance)
    back = OvoInstance.obj_from_primitive(json.loads(codec.encode_json(ours)))
    assert values(back) == values(theirs)
    assert changes(back) == changes(theirs) == EDITED_CHANGES


def test_ovo_serializer_and_cumulo_entities_interoperate():
    class Serializer(ovo_base.VersionedObjectSerializer):
        OBJ_BASE_CLASS = OvoInteropObject

    serializer = Serializer()
    payload = {"instances": [cumulo_instance()], "count": 1}
    theirs = serializer.deserialize_entity(None, json.loads(codec.encode_json(payload)))
    assert theirs["count"] == 1
    assert type(theirs["instances"][0]) is OvoInstance
    assert_same(payload["instances"][0], theirs["instances"][0])

    wire = json.loads(json.dumps(serializer.serialize_entity(None, theirs)))
    ours = codec.deserialize_entity(wire, base=InteropObject)
    assert ours["instances"][0] == payload["instances"][0]
    assert changes(ours["instances"][0]) == changes(theirs["instances"][0])


# --- property-based: random values ---------------------------------------------------------

# OVO integers are unbounded Python ints; include some beyond 64 bits.
INTS = st.integers() | st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**30])
TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
FLAVOR_VALUES = st.fixed_dictionaries(
    {
        "id": INTS,
        "name": TEXT,
        "memory_mb": INTS,
        "vcpus": INTS,
        "root_gb": st.none() | INTS,
        "rxtx_factor": FLOATS,
        "is_public": st.booleans(),
        "description": st.none() | TEXT,
        "swap": INTS,
    }
)
FLAVOR_FIELDS = sorted(FLAVOR_DATA)


@st.composite
def flavor_states(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """Values of the set fields, and which of them are reported changed."""
    drawn = draw(FLAVOR_VALUES)
    unset = draw(st.sets(st.sampled_from(FLAVOR_FIELDS)))
    kept = {k: v for k, v in drawn.items() if k not in unset}
    changed = draw(st.sets(st.sampled_from(FLAVOR_FIELDS))) & set(kept)
    return kept, changed


def cumulo_flavor(kept: dict[str, Any], changed: set[str]) -> Flavor:
    flavor = Flavor(**kept)
    for name in FLAVOR_FIELDS:
        if name not in kept and flavor.obj_attr_is_set(name):
            delattr(flavor, name)  # a default applied at construction
    flavor.obj_reset_changes(set(FLAVOR_FIELDS) - changed)
    return flavor


def ovo_flavor(kept: dict[str, Any], changed: set[str]) -> OvoFlavor:
    flavor = OvoFlavor(**kept)
    unchanged = sorted(set(FLAVOR_FIELDS) - changed)
    if unchanged:  # OVO resets everything when given an empty list
        flavor.obj_reset_changes(unchanged)
    return flavor


@settings(max_examples=60, deadline=None)
@given(flavor_states())
def test_random_flavor_from_cumulo_to_ovo_and_back(state):
    kept, changed = state
    ours = cumulo_flavor(kept, changed)
    assert ours.obj_what_changed() == changed

    theirs = OvoFlavor.obj_from_primitive(json.loads(ours.obj_to_json()))
    assert values(theirs) == values(ours) == plain(kept)
    assert theirs.obj_what_changed() == changed

    back = codec.decode_json(json.dumps(theirs.obj_to_primitive()), Flavor)
    assert back == ours
    assert back.obj_what_changed() == changed

    old = OvoFlavor.obj_from_primitive(ours.obj_to_primitive("1.0"))
    assert type(old) is OvoFlavor10
    assert values(old) == plain(_without(kept, {"swap"}))
    assert old.obj_what_changed() == changed - {"swap"}


@settings(max_examples=60, deadline=None)
@given(flavor_states())
def test_random_flavor_from_ovo_to_cumulo(state):
    kept, changed = state
    theirs = ovo_flavor(kept, changed)
    primitive = theirs.obj_to_primitive()

    for ours in (Flavor.obj_from_primitive(primitive), Flavor.obj_from_json(json.dumps(primitive))):
        assert values(ours) == values(theirs) == plain(kept)
        assert ours.obj_what_changed() == theirs.obj_what_changed() == changed
        assert canonical(ours.obj_to_primitive()) == canonical(primitive)


TIMEZONES = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), dt.timezone(-dt.timedelta(hours=8))]
)


def _mac(octets: bytes, upper: bool) -> str:
    text = ":".join(f"{x:02x}" for x in octets)
    return text.upper() if upper else text


MACS = st.builds(_mac, st.binary(min_size=6, max_size=6), st.booleans())
INSTANCE_VALUES = st.fixed_dictionaries(
    {
        "uuid": st.uuids().map(str),
        "host": st.none() | TEXT,
        "vm_state": st.sampled_from([s.value for s in VmState]),
        "task_state": st.none() | st.sampled_from(["spawning", "migrating", "deleting"]),
        "launched_at": st.none()
        | st.datetimes(
            min_value=dt.datetime(1900, 1, 2),
            max_value=dt.datetime(9999, 12, 30),
            timezones=TIMEZONES,
        ),
        "metadata": st.dictionaries(TEXT, TEXT, max_size=3),
        "system_metadata": st.dictionaries(TEXT, st.none() | TEXT, max_size=3),
        "tags": st.lists(TEXT, max_size=3),
        "trusted_certs": st.sets(TEXT, max_size=3),
        "access_ip_v4": st.none() | st.ip_addresses(v=4).map(str),
        "mac_address": MACS,
        "display_name": TEXT,
    }
)


def _sent_by_ovo(value: Any) -> Any:
    """What OVO's wire keeps of a datetime: the second, not the microsecond."""
    return value.replace(microsecond=0) if isinstance(value, dt.datetime) else value


@settings(max_examples=40, deadline=None)
@given(INSTANCE_VALUES)
def test_random_instance_from_cumulo_to_ovo_and_back(data):
    ours = cumulo_instance(**data)
    theirs = OvoInstance.obj_from_primitive(json.loads(codec.encode_json(ours)))
    assert_same(ours, theirs)
    assert theirs.launched_at == data["launched_at"]  # microseconds and offset intact

    back = codec.decode_json(json.dumps(theirs.obj_to_primitive()), Instance)
    assert back.launched_at == _sent_by_ovo(data["launched_at"])
    assert values(back) == values(ours) | {"launched_at": plain(_sent_by_ovo(data["launched_at"]))}
    assert changes(back) == changes(ours)


@settings(max_examples=40, deadline=None)
@given(INSTANCE_VALUES)
def test_random_instance_from_ovo_to_cumulo(data):
    if data["launched_at"] is not None:  # OVO's own wire format only supports UTC well
        data["launched_at"] = data["launched_at"].astimezone(dt.UTC)
    theirs = ovo_instance(**data)
    primitive = theirs.obj_to_primitive()
    ours = codec.decode_json(json.dumps(primitive), Instance)
    # Cumulo loses nothing that OVO sent: it reads what OVO itself would read back.
    reread = OvoInstance.obj_from_primitive(primitive)
    assert values(ours) == values(reread)
    assert changes(ours) == changes(reread) == changes(theirs)
    assert ours.launched_at == _sent_by_ovo(data["launched_at"])
