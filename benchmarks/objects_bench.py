"""Cumulo objects against oslo.versionedobjects (the baseline) and a raw msgspec Struct.

The shape is the one of the OVO baseline (shared/reference/ovo-notes.md, section 3):
an ``Instance`` at 1.3 with 36 fields (UUID, str, int, 15 nullable, 4 datetimes,
2 dict-of-str, a list-of-str, 2 enums, a nested 8-field ``Flavor`` and a
``SecurityGroupList`` of 4 ``SecurityGroup`` objects with 4 fields each), with
fields added in 1.1, 1.2 and 1.3. It is declared three ways: Cumulo objects, OVO
objects with a hand-written ``obj_make_compatible``, and msgspec Structs.

Before timing anything the script checks that the three produce the same data
(Cumulo's primitive equals OVO's and each loads in the other), so no side can be
fast by doing less work. Figures are objects per second (Instance trees per
second; for the list rows, 1000 x lists per second).

    python -m benchmarks.objects_bench            # the table
    python -m benchmarks.objects_bench --json     # the same figures as JSON
    python -m benchmarks.objects_bench --quick    # short loops, for a smoke test
    python -m benchmarks.objects_bench --profile list_from_json   # cProfile Cumulo's side
"""

import argparse
import cProfile
import datetime
import enum
import json
import os
import platform
import pstats
import sys
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec

if __package__ in (None, ""):  # run as a file: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import Settings, Timing, autorange, measure_together, ratio

PROJECT_NS = "bench"
SERIAL_NS = "bench_object"
MANIFEST_1_0 = {
    "Instance": "1.0",
    "Flavor": "1.0",
    "SecurityGroupList": "1.0",
    "SecurityGroup": "1.0",
}
IMPLS = ("cumulo", "ovo", "msgspec")

# Field names, shared by the checks and the "read every field" row.
INSTANCE_FIELDS = (
    "uuid",
    "display_name",
    "hostname",
    "project_id",
    "user_id",
    "image_ref",
    "memory_mb",
    "vcpus",
    "root_gb",
    "launch_index",
    "host",
    "node",
    "key_name",
    "key_data",
    "reservation_id",
    "availability_zone",
    "launched_on",
    "os_type",
    "architecture",
    "kernel_id",
    "ramdisk_id",
    "hypervisor_hostname",
    "ephemeral_gb",
    "progress",
    "power_state",
    "created_at",
    "updated_at",
    "launched_at",
    "scheduled_at",
    "metadata",
    "system_metadata",
    "tags",
    "vm_state",
    "cpu_policy",
    "flavor",
    "security_groups",
)
FLAVOR_FIELDS = (
    "id",
    "flavorid",
    "name",
    "memory_mb",
    "vcpus",
    "root_gb",
    "ephemeral_gb",
    "swap",
)
SECURITY_GROUP_FIELDS = ("id", "name", "description", "project_id")
# The fields Instance 1.0 did not have (msgspec's "declarative drop"; the other two
# declare the same history their own way, and check_equivalence compares the results).
ADDED_AFTER_1_0 = (
    "key_data",
    "system_metadata",
    "launch_index",
    "tags",
    "hypervisor_hostname",
    "scheduled_at",
    "cpu_policy",
)


class VMState(enum.StrEnum):
    ACTIVE = "active"
    BUILDING = "building"
    STOPPED = "stopped"
    SHELVED = "shelved"
    ERROR = "error"


class CPUPolicy(enum.StrEnum):
    SHARED = "shared"
    DEDICATED = "dedicated"
    MIXED = "mixed"


# --- the same shape, three ways ---------------------------------------------------------


def build_cumulo() -> SimpleNamespace:
    from cumulo.objects import VersionedObject, field, register

    class BenchObject(VersionedObject):
        OBJ_PROJECT_NAMESPACE = PROJECT_NS
        OBJ_SERIAL_NAMESPACE = SERIAL_NS

    @register
    class Flavor(BenchObject):
        VERSION = "1.0"
        id: int
        flavorid: str
        name: str
        memory_mb: int
        vcpus: int
        root_gb: int
        ephemeral_gb: int
        swap: int

    @register
    class SecurityGroup(BenchObject):
        VERSION = "1.0"
        id: int
        name: str
        description: str
        project_id: str

    @register
    class SecurityGroupList(BenchObject):
        VERSION = "1.0"
        objects: list[SecurityGroup] = field(default_factory=list)

    @register
    class Instance(BenchObject):
        VERSION = "1.3"
        uuid: uuid.UUID
        display_name: str
        hostname: str
        project_id: str
        user_id: str
        image_ref: str
        memory_mb: int
        vcpus: int
        root_gb: int
        launch_index: int = field(default=0, added="1.2")
        host: str | None = None
        node: str | None = None
        key_name: str | None = None
        key_data: str | None = field(default=None, added="1.1")
        reservation_id: str | None = None
        availability_zone: str | None = None
        launched_on: str | None = None
        os_type: str | None = None
        architecture: str | None = None
        kernel_id: str | None = None
        ramdisk_id: str | None = None
        hypervisor_hostname: str | None = field(default=None, added="1.3")
        ephemeral_gb: int | None = None
        progress: int | None = None
        power_state: int | None = None
        created_at: datetime.datetime
        updated_at: datetime.datetime
        launched_at: datetime.datetime
        scheduled_at: datetime.datetime = field(added="1.3")
        metadata: dict[str, str] = field(default_factory=dict)
        system_metadata: dict[str, str] = field(default_factory=dict, added="1.1")
        tags: list[str] = field(default_factory=list, added="1.2")
        vm_state: VMState
        cpu_policy: CPUPolicy = field(default=CPUPolicy.SHARED, added="1.3")
        flavor: Flavor
        security_groups: SecurityGroupList

    return SimpleNamespace(
        Flavor=Flavor,
        SecurityGroup=SecurityGroup,
        SecurityGroupList=SecurityGroupList,
        Instance=Instance,
    )


def build_ovo() -> SimpleNamespace:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eventlet's deprecation warning on import
        from oslo_utils import versionutils

        # `fields` is also the class attribute's name: alias the module
        from oslo_versionedobjects import base
        from oslo_versionedobjects import fields as ovo_fields

    class BenchObject(base.VersionedObject):
        OBJ_PROJECT_NAMESPACE = PROJECT_NS
        OBJ_SERIAL_NAMESPACE = SERIAL_NS

    @base.VersionedObjectRegistry.register
    class Flavor(BenchObject):
        VERSION = "1.0"
        fields = {
            "id": ovo_fields.IntegerField(),
            "flavorid": ovo_fields.StringField(),
            "name": ovo_fields.StringField(),
            "memory_mb": ovo_fields.IntegerField(),
            "vcpus": ovo_fields.IntegerField(),
            "root_gb": ovo_fields.IntegerField(),
            "ephemeral_gb": ovo_fields.IntegerField(),
            "swap": ovo_fields.IntegerField(),
        }

    @base.VersionedObjectRegistry.register
    class SecurityGroup(BenchObject):
        VERSION = "1.0"
        fields = {
            "id": ovo_fields.IntegerField(),
            "name": ovo_fields.StringField(),
            "description": ovo_fields.StringField(),
            "project_id": ovo_fields.StringField(),
        }

    @base.VersionedObjectRegistry.register
    class SecurityGroupList(base.ObjectListBase, BenchObject):
        VERSION = "1.0"
        fields = {"objects": ovo_fields.ListOfObjectsField("SecurityGroup")}

    vm_states = [s.value for s in VMState]
    cpu_policies = [p.value for p in CPUPolicy]

    @base.VersionedObjectRegistry.register
    class Instance(BenchObject):
        # 1.1: key_data, system_metadata
        # 1.2: launch_index, tags
        # 1.3: hypervisor_hostname, scheduled_at, cpu_policy
        VERSION = "1.3"
        fields = {
            "uuid": ovo_fields.UUIDField(),
            "display_name": ovo_fields.StringField(),
            "hostname": ovo_fields.StringField(),
            "project_id": ovo_fields.StringField(),
            "user_id": ovo_fields.StringField(),
            "image_ref": ovo_fields.StringField(),
            "memory_mb": ovo_fields.IntegerField(),
            "vcpus": ovo_fields.IntegerField(),
            "root_gb": ovo_fields.IntegerField(),
            "launch_index": ovo_fields.IntegerField(),
            "host": ovo_fields.StringField(nullable=True),
            "node": ovo_fields.StringField(nullable=True),
            "key_name": ovo_fields.StringField(nullable=True),
            "key_data": ovo_fields.StringField(nullable=True),
            "reservation_id": ovo_fields.StringField(nullable=True),
            "availability_zone": ovo_fields.StringField(nullable=True),
            "launched_on": ovo_fields.StringField(nullable=True),
            "os_type": ovo_fields.StringField(nullable=True),
            "architecture": ovo_fields.StringField(nullable=True),
            "kernel_id": ovo_fields.StringField(nullable=True),
            "ramdisk_id": ovo_fields.StringField(nullable=True),
            "hypervisor_hostname": ovo_fields.StringField(nullable=True),
            "ephemeral_gb": ovo_fields.IntegerField(nullable=True),
            "progress": ovo_fields.IntegerField(nullable=True),
            "power_state": ovo_fields.IntegerField(nullable=True),
            "created_at": ovo_fields.DateTimeField(),
            "updated_at": ovo_fields.DateTimeField(),
            "launched_at": ovo_fields.DateTimeField(),
            "scheduled_at": ovo_fields.DateTimeField(),
            "metadata": ovo_fields.DictOfStringsField(),
            "system_metadata": ovo_fields.DictOfStringsField(),
            "tags": ovo_fields.ListOfStringsField(),
            "vm_state": ovo_fields.EnumField(valid_values=vm_states),
            "cpu_policy": ovo_fields.EnumField(valid_values=cpu_policies),
            "flavor": ovo_fields.ObjectField("Flavor"),
            "security_groups": ovo_fields.ObjectField("SecurityGroupList"),
        }

        def obj_make_compatible(self, primitive, target_version):
            super().obj_make_compatible(primitive, target_version)
            target = versionutils.convert_version_to_tuple(target_version)
            if target < (1, 3):
                primitive.pop("hypervisor_hostname", None)
                primitive.pop("scheduled_at", None)
                primitive.pop("cpu_policy", None)
            if target < (1, 2):
                primitive.pop("launch_index", None)
                primitive.pop("tags", None)
            if target < (1, 1):
                primitive.pop("key_data", None)
                primitive.pop("system_metadata", None)

    return SimpleNamespace(
        Flavor=Flavor,
        SecurityGroup=SecurityGroup,
        SecurityGroupList=SecurityGroupList,
        Instance=Instance,
    )


def build_msgspec() -> SimpleNamespace:
    class Flavor(msgspec.Struct):
        id: int
        flavorid: str
        name: str
        memory_mb: int
        vcpus: int
        root_gb: int
        ephemeral_gb: int
        swap: int

    class SecurityGroup(msgspec.Struct):
        id: int
        name: str
        description: str
        project_id: str

    class SecurityGroupList(msgspec.Struct):
        objects: list[SecurityGroup]

    class Instance(msgspec.Struct):
        uuid: uuid.UUID
        display_name: str
        hostname: str
        project_id: str
        user_id: str
        image_ref: str
        memory_mb: int
        vcpus: int
        root_gb: int
        launch_index: int
        host: str | None
        node: str | None
        key_name: str | None
        key_data: str | None
        reservation_id: str | None
        availability_zone: str | None
        launched_on: str | None
        os_type: str | None
        architecture: str | None
        kernel_id: str | None
        ramdisk_id: str | None
        hypervisor_hostname: str | None
        ephemeral_gb: int | None
        progress: int | None
        power_state: int | None
        created_at: datetime.datetime
        updated_at: datetime.datetime
        launched_at: datetime.datetime
        scheduled_at: datetime.datetime
        metadata: dict[str, str]
        system_metadata: dict[str, str]
        tags: list[str]
        vm_state: VMState
        cpu_policy: CPUPolicy
        flavor: Flavor
        security_groups: SecurityGroupList

    return SimpleNamespace(
        Flavor=Flavor,
        SecurityGroup=SecurityGroup,
        SecurityGroupList=SecurityGroupList,
        Instance=Instance,
    )


# --- values -------------------------------------------------------------------------------

_EPOCH = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def instance_values(i: int) -> dict[str, Any]:
    """Plain values of Instance number ``i``; children as dicts, under their field names.

    Datetimes have no microseconds (OVO drops them on the wire) and 5 of the 15
    nullable fields are None.
    """
    at = _EPOCH + datetime.timedelta(seconds=i)
    return {
        "uuid": uuid.UUID(int=0x1234_5678_9ABC_4DEF_8123_4567_0000_0000 + i),
        "display_name": f"server-{i}",
        "hostname": f"server-{i}.example.org",
        "project_id": "6f70656e737461636b20697320636f6f",
        "user_id": "3f2a1c5e0b8d47a69e1f2d3c4b5a6978",
        "image_ref": "a7d3f0c2-4b8e-4e1a-9c6d-2f5b8e7a1d30",
        "memory_mb": 4096,
        "vcpus": 2,
        "root_gb": 40,
        "launch_index": i % 10,
        "host": f"compute-{i % 50:03d}",
        "node": f"compute-{i % 50:03d}.example.org",
        "key_name": "deploy-key",
        "key_data": None,
        "reservation_id": f"r-{i:08x}",
        "availability_zone": "nova",
        "launched_on": None,
        "os_type": "linux",
        "architecture": "x86_64",
        "kernel_id": None,
        "ramdisk_id": None,
        "hypervisor_hostname": f"compute-{i % 50:03d}.example.org",
        "ephemeral_gb": 0,
        "progress": None,
        "power_state": 1,
        "created_at": at,
        "updated_at": at + datetime.timedelta(minutes=5),
        "launched_at": at + datetime.timedelta(minutes=1),
        "scheduled_at": at + datetime.timedelta(seconds=20),
        "metadata": {"role": "web", "tier": "frontend", "owner": "team-a"},
        "system_metadata": {"image_os_distro": "ubuntu", "image_min_ram": "512"},
        "tags": ["prod", "web"],
        "vm_state": VMState.ACTIVE,
        "cpu_policy": CPUPolicy.DEDICATED,
        "flavor": {
            "id": 7,
            "flavorid": "m1.medium",
            "name": "m1.medium",
            "memory_mb": 4096,
            "vcpus": 2,
            "root_gb": 40,
            "ephemeral_gb": 0,
            "swap": 0,
        },
        "security_groups": [
            {"id": 100 + g, "name": f"sg-{g}", "description": f"group {g}", "project_id": "p1"}
            for g in range(4)
        ],
    }


def instance_kwargs(impl: str, ns: SimpleNamespace, i: int) -> dict[str, Any]:
    """Constructor arguments of Instance number ``i`` for ``impl``, children pre-built."""
    values = instance_values(i)
    groups = [ns.SecurityGroup(**g) for g in values["security_groups"]]
    values["flavor"] = ns.Flavor(**values["flavor"])
    values["security_groups"] = ns.SecurityGroupList(objects=groups)
    if impl == "ovo":  # the OVO way: UUIDs and enum values are strings
        values["uuid"] = str(values["uuid"])
        values["vm_state"] = values["vm_state"].value
        values["cpu_policy"] = values["cpu_policy"].value
    return values


# --- the operations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    key: str
    label: str  # "{n}" stands for the list size
    per_list: bool = False  # timed on a whole list; objects/s counts its Instances
    vs_ovo: float | None = None  # target: cumulo >= this x ovo
    vs_msgspec: float | None = None  # target: msgspec <= this x cumulo
    note: str = ""


OPS = (
    Op("to_primitive", "a  to primitive (dict)", vs_ovo=30),
    Op("from_primitive", "b  from primitive (dict)", vs_ovo=30),
    Op(
        "from_primitive_read_all",
        "b+ from primitive, then read every field",
        note="informational: Cumulo builds child objects on first access",
    ),
    Op("list_to_json", "c1 list of {n} -> JSON bytes", per_list=True, vs_ovo=30, vs_msgspec=3),
    Op("list_from_json", "c2 JSON bytes -> list of {n}", per_list=True, vs_ovo=30, vs_msgspec=3),
    Op("backport", "d  backport 1.3 -> 1.0 incl. serialize", vs_ovo=30),
    Op("construct", "e  construct (all fields, children built)"),
    Op(
        "set_field_what_changed",
        "f  set 1 field + what-changed",
        note="msgspec has no change tracking: its figure is a bare setattr",
    ),
)
OPS_BY_KEY = {op.key: op for op in OPS}


def unwrap(value: Any) -> Any:
    """An envelope primitive without its envelopes: the plain data msgspec produces."""
    if isinstance(value, dict):
        data = value.get(f"{SERIAL_NS}.data")
        if data is not None and f"{SERIAL_NS}.name" in value:
            return unwrap(data)
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def normalize(value: Any) -> Any:
    """A primitive with its ``changes`` lists sorted (OVO writes them in set order)."""
    if isinstance(value, dict):
        return {
            k: sorted(v) if k == f"{SERIAL_NS}.changes" else normalize(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def read_all(obj: Any) -> None:
    """Read every field of an Instance tree (the same work for the three implementations)."""
    for name in INSTANCE_FIELDS:
        getattr(obj, name)
    flavor = obj.flavor
    for name in FLAVOR_FIELDS:
        getattr(flavor, name)
    for group in obj.security_groups.objects:
        for name in SECURITY_GROUP_FIELDS:
            getattr(group, name)


class Suite:
    """One implementation's objects and the callable timed for each operation."""

    impl = ""
    tracks_changes = True

    def __init__(self, ns: SimpleNamespace, size: int) -> None:
        self.ns = ns
        self.kwargs = [instance_kwargs(self.impl, ns, i) for i in range(size)]
        self.objects = [ns.Instance(**kw) for kw in self.kwargs]
        self.first = self.objects[0]
        # Construction gets children of its own, shared with no object another op uses.
        self.construct_kwargs = instance_kwargs(self.impl, ns, 0)

    def reset(self, obj: Any) -> None:
        """Forget recorded changes, recursively."""
        obj.obj_reset_changes(recursive=True)

    def wire_ops(self) -> dict[str, Callable[[], object]]:
        """to_primitive, from_primitive, list_to_json, list_from_json and backport."""
        raise NotImplementedError

    def ops(self) -> dict[str, Callable[[], object]]:
        ops = self.wire_ops()
        from_primitive = ops["from_primitive"]
        cls, kwargs = self.ns.Instance, self.construct_kwargs
        changed = self.objects[1]
        if self.tracks_changes:
            self.reset(changed)

            def set_field_what_changed() -> object:
                changed.display_name = "renamed"
                return changed.obj_what_changed()
        else:

            def set_field_what_changed() -> object:
                changed.display_name = "renamed"
                return None

        ops["from_primitive_read_all"] = lambda: read_all(from_primitive())
        ops["construct"] = lambda: cls(**kwargs)
        ops["set_field_what_changed"] = set_field_what_changed
        return ops


class CumuloSuite(Suite):
    impl = "cumulo"

    def __init__(self, size: int) -> None:
        super().__init__(build_cumulo(), size)
        from cumulo.objects import decode_json, encode_json

        self.encode_json = encode_json
        self.decode_json = decode_json
        self.primitive = self.first.obj_to_primitive()
        self.json = encode_json(self.objects)

    def wire_ops(self) -> dict[str, Callable[[], object]]:
        cls, obj, prim = self.ns.Instance, self.first, self.primitive
        objs, data = self.objects, self.json
        encode_json, decode_json = self.encode_json, self.decode_json
        list_type = list[cls]
        return {
            "to_primitive": obj.obj_to_primitive,
            "from_primitive": lambda: cls.obj_from_primitive(prim),
            "list_to_json": lambda: encode_json(objs),
            "list_from_json": lambda: decode_json(data, list_type),
            "backport": lambda: obj.obj_to_primitive(
                target_version="1.0", version_manifest=MANIFEST_1_0
            ),
        }


class OVOSuite(Suite):
    impl = "ovo"

    def __init__(self, size: int) -> None:
        super().__init__(build_ovo(), size)
        self.primitive = self.first.obj_to_primitive()
        self.json = self.encode_list(self.objects)

    @staticmethod
    def encode_list(objs: list[Any]) -> bytes:
        return json.dumps([o.obj_to_primitive() for o in objs]).encode()

    def decode_list(self, data: bytes) -> list[Any]:
        from_primitive = self.ns.Instance.obj_from_primitive
        return [from_primitive(p) for p in json.loads(data)]

    def wire_ops(self) -> dict[str, Callable[[], object]]:
        cls, obj, prim = self.ns.Instance, self.first, self.primitive
        objs, data = self.objects, self.json
        return {
            "to_primitive": obj.obj_to_primitive,
            "from_primitive": lambda: cls.obj_from_primitive(prim),
            "list_to_json": lambda: self.encode_list(objs),
            "list_from_json": lambda: self.decode_list(data),
            "backport": lambda: obj.obj_to_primitive("1.0", MANIFEST_1_0),
        }


class MsgspecSuite(Suite):
    impl = "msgspec"
    tracks_changes = False

    def __init__(self, size: int) -> None:
        super().__init__(build_msgspec(), size)
        self.encoder = msgspec.json.Encoder()
        self.decoder = msgspec.json.Decoder(list[self.ns.Instance])
        self.primitive = msgspec.to_builtins(self.first)
        self.json = self.encoder.encode(self.objects)

    def reset(self, obj: Any) -> None:
        """No change tracking: nothing to forget."""

    def backport(self, obj: Any) -> dict[str, Any]:
        data: dict[str, Any] = msgspec.to_builtins(obj)
        for name in ADDED_AFTER_1_0:
            del data[name]
        return data

    def wire_ops(self) -> dict[str, Callable[[], object]]:
        cls, obj, prim = self.ns.Instance, self.first, self.primitive
        objs, data = self.objects, self.json
        to_builtins, convert = msgspec.to_builtins, msgspec.convert
        encode, decode = self.encoder.encode, self.decoder.decode
        return {
            "to_primitive": lambda: to_builtins(obj),
            "from_primitive": lambda: convert(prim, cls),
            "list_to_json": lambda: encode(objs),
            "list_from_json": lambda: decode(data),
            "backport": lambda: self.backport(obj),
        }


# --- equivalence ------------------------------------------------------------------------


class EquivalenceError(Exception):
    """The implementations do not produce the same data; their timings would not compare."""


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise EquivalenceError(what)


def check_equivalence(c: CumuloSuite, o: OVOSuite, m: MsgspecSuite) -> dict[str, Any]:
    """Check that the three implementations hold and produce the same data; return wire sizes."""
    # Same declared shape.
    shapes = {
        "Instance": (INSTANCE_FIELDS, 36),
        "Flavor": (FLAVOR_FIELDS, 8),
        "SecurityGroup": (SECURITY_GROUP_FIELDS, 4),
        "SecurityGroupList": (("objects",), 1),
    }
    for name, (names, count) in shapes.items():
        found = {
            "cumulo": tuple(getattr(c.ns, name).obj_fields()),
            "ovo": tuple(getattr(o.ns, name).fields),
            "msgspec": getattr(m.ns, name).__struct_fields__,
        }
        for impl, fields in found.items():
            _expect(
                len(fields) == count and set(fields) == set(names),
                f"{impl} {name} fields {sorted(fields)} are not the expected {count}",
            )

    # The primitives are equal, and each side loads the other's.
    c_prim, o_prim, m_prim = c.primitive, o.primitive, m.primitive
    _expect(normalize(c_prim) == normalize(o_prim), "cumulo and ovo primitives differ")
    _expect(unwrap(c_prim) == m_prim, "cumulo primitive data and msgspec to_builtins differ")
    _expect(len(c_prim[f"{SERIAL_NS}.changes"]) == 36, "cumulo primitive does not list 36 changes")
    from_ovo = c.ns.Instance.obj_from_primitive(o_prim)
    _expect(from_ovo == c.first, "cumulo does not load ovo's primitive back to the same object")
    _expect(
        normalize(from_ovo.obj_to_primitive()) == normalize(c_prim),
        "cumulo's primitive of ovo's primitive differs",
    )
    from_cumulo = o.ns.Instance.obj_from_primitive(c_prim)
    _expect(
        normalize(from_cumulo.obj_to_primitive()) == normalize(o_prim),
        "ovo does not load cumulo's primitive back to the same primitive",
    )
    _expect(msgspec.convert(m_prim, m.ns.Instance) == m.first, "msgspec convert round trip")
    read_all(from_ovo)
    read_all(from_cumulo)

    # The JSON lists hold the same data and decode back to the same objects.
    c_json, o_json, m_json = json.loads(c.json), json.loads(o.json), json.loads(m.json)
    _expect(len(c_json) == len(o_json) == len(m_json) == len(c.objects), "list lengths differ")
    _expect(normalize(c_json) == normalize(o_json), "cumulo and ovo JSON lists differ")
    _expect(unwrap(c_json) == m_json, "cumulo JSON list data and msgspec JSON differ")
    c_back = c.decode_json(c.json, list[c.ns.Instance])
    _expect(c_back == c.objects, "cumulo JSON list does not decode to the same objects")
    o_back = [x.obj_to_primitive() for x in o.decode_list(o.json)]
    _expect(normalize(o_back) == normalize(o_json), "ovo JSON list round trip differs")
    _expect(m.decoder.decode(m.json) == m.objects, "msgspec JSON list round trip differs")
    _expect(m.decoder.decode(c.encode_json([])) == [], "empty list")

    # Backports drop the same fields (and keep the same changes).
    c_bp = c.first.obj_to_primitive(target_version="1.0", version_manifest=MANIFEST_1_0)
    o_bp = o.first.obj_to_primitive("1.0", MANIFEST_1_0)
    m_bp = m.backport(m.first)
    _expect(normalize(c_bp) == normalize(o_bp), "cumulo and ovo 1.0 backports differ")
    _expect(unwrap(c_bp) == m_bp, "cumulo 1.0 backport data and msgspec's drop differ")
    _expect(len(m_bp) == 36 - len(ADDED_AFTER_1_0), "backport keeps the wrong number of fields")
    _expect(c_bp[f"{SERIAL_NS}.version"] == "1.0", "cumulo backport version")

    # Construction gives the same objects.
    _expect(c.ns.Instance(**c.construct_kwargs) == c.first, "cumulo construction")
    _expect(
        normalize(o.ns.Instance(**o.construct_kwargs).obj_to_primitive()) == normalize(o_prim),
        "ovo construction",
    )
    _expect(m.ns.Instance(**m.construct_kwargs) == m.first, "msgspec construction")

    # Change tracking sees one change after a reset.
    for suite in (c, o):
        probe = suite.ns.Instance(**suite.kwargs[0])
        suite.reset(probe)
        _expect(not probe.obj_what_changed(), f"{suite.impl}: changes left after a reset")
        probe.display_name = "renamed"
        _expect(probe.obj_what_changed() == {"display_name"}, f"{suite.impl}: what-changed")

    count = len(c.objects)
    return {
        "json_bytes_per_instance": {
            "cumulo": round(len(c.json) / count),
            "ovo": round(len(o.json) / count),
            "msgspec": round(len(m.json) / count),
        }
    }


# --- running and reporting --------------------------------------------------------------


def run(
    size: int, settings: Settings, only: set[str] | None
) -> tuple[dict[str, dict[str, Timing]], dict[str, Any]]:
    """Check the implementations agree, then time them: ``({op: {impl: timing}}, wire sizes)``."""
    print("building objects and checking that the implementations agree...", file=sys.stderr)
    suites = (CumuloSuite(size), OVOSuite(size), MsgspecSuite(size))
    wire = check_equivalence(*suites)
    all_ops = {suite.impl: suite.ops() for suite in suites}
    results: dict[str, dict[str, Timing]] = {}
    for op in OPS:
        if only and op.key not in only:
            continue
        timings = measure_together(
            {f"{op.key} [{impl}]": all_ops[impl][op.key] for impl in IMPLS},
            items=size if op.per_list else 1,
            settings=settings,
        )
        results[op.key] = {impl: timings[f"{op.key} [{impl}]"] for impl in IMPLS}
    return results, wire


def evaluate(op: Op, rates: dict[str, float]) -> dict[str, Any]:
    """Ratios and the targets of one op's row."""
    cumulo, ovo, raw = rates.get("cumulo"), rates.get("ovo"), rates.get("msgspec")
    ratios = {
        "cumulo/ovo": ratio(cumulo, ovo),
        "cumulo/msgspec": ratio(cumulo, raw),
        "msgspec/cumulo": ratio(raw, cumulo),
    }
    targets = []
    if op.vs_ovo is not None:
        got = ratios["cumulo/ovo"]
        targets.append(
            {
                "target": f"cumulo/ovo >= {op.vs_ovo:g}",
                "ratio": got,
                "pass": got is not None and got >= op.vs_ovo,
            }
        )
    if op.vs_msgspec is not None:
        got = ratios["msgspec/cumulo"]
        targets.append(
            {
                "target": f"msgspec/cumulo <= {op.vs_msgspec:g}",
                "ratio": got,
                "pass": got is not None and got <= op.vs_msgspec,
            }
        )
    return {"ratios": ratios, "targets": targets}


def environment(size: int, settings: Settings) -> dict[str, Any]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "msgspec": version("msgspec"),
        "oslo.versionedobjects": version("oslo.versionedobjects"),
        "cumulo": version("cumulo"),
        "list_size": size,
        "target_seconds": settings.target,
        "repeats": settings.repeats,
        "gc_disabled": settings.disable_gc,
        "clock": {"wall": "time.perf_counter", "cpu": "time.process_time"}[settings.clock],
        "unit": "Instance objects per second (median of the repeats)",
    }


def _fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}x" if value >= 10 else f"{value:,.2f}x"


def render_table(report: dict[str, Any]) -> str:
    meta = report["meta"]
    header = (
        "op",
        "cumulo",
        "ovo",
        "msgspec",
        "cumulo÷ovo",
        "cumulo÷msgspec",
        "msgspec÷cumulo",
        "target",
        "result",
    )
    rows = []
    notes = []
    for op in OPS:
        if op.key not in report["ops"]:
            continue
        rates = report["ops"][op.key]
        verdict = report["evaluation"][op.key]
        ratios = verdict["ratios"]
        targets = verdict["targets"]
        label = op.label.format(n=meta["list_size"])
        if op.note:
            notes.append(f"{op.key}: {op.note}")
            label += f" [{len(notes)}]"
        rows.append(
            (
                label,
                _fmt_rate(rates["cumulo"]),
                _fmt_rate(rates["ovo"]),
                _fmt_rate(rates["msgspec"]),
                _fmt_ratio(ratios["cumulo/ovo"]),
                _fmt_ratio(ratios["cumulo/msgspec"]),
                _fmt_ratio(ratios["msgspec/cumulo"]) if op.vs_msgspec is not None else "",
                "; ".join(t["target"].replace("/", "÷") for t in targets) or "-",
                " ".join("PASS" if t["pass"] else "MISS" for t in targets) or "-",
            )
        )
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = []
    for n, row in enumerate((header, *rows)):
        cells = [
            str(cell).ljust(widths[i]) if i in (0, 7, 8) else str(cell).rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append(" | ".join(cells).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    sizes = report["wire"]["json_bytes_per_instance"]
    out = [
        "Instance objects per second (median of {repeats} repeats, loops of ~{target:g} s, "
        "{clock}); list rows: {list_size} Instances per list".format(
            repeats=meta["repeats"],
            target=meta["target_seconds"],
            clock=meta["clock"],
            list_size=meta["list_size"],
        ),
        "Python {python} on {machine}, {cpus} CPUs; msgspec {msgspec}, "
        "oslo.versionedobjects {ovo}{gc}".format(
            ovo=meta["oslo.versionedobjects"],
            gc=", cyclic GC off while timing" if meta["gc_disabled"] else "",
            **meta,
        ),
        "",
        *lines,
        "",
        *(f"[{i}] {note}" for i, note in enumerate(notes, 1)),
        "JSON bytes per Instance: " + ", ".join(f"{impl} {size:,}" for impl, size in sizes.items()),
    ]
    return "\n".join(out)


def build_report(
    results: dict[str, dict[str, Timing]], wire: dict[str, Any], meta: dict[str, Any]
) -> dict[str, Any]:
    ops = {key: {impl: t.per_second for impl, t in row.items()} for key, row in results.items()}
    evaluation = {key: evaluate(OPS_BY_KEY[key], rates) for key, rates in ops.items()}
    return {
        "ops": ops,
        "evaluation": evaluation,
        "wire": wire,
        "meta": meta,
    }


def as_json(report: dict[str, Any]) -> dict[str, Any]:
    """``{op: {impl: objects_per_s}, ..., "ratios": ..., "targets": ..., "meta": ...}``."""
    out: dict[str, Any] = dict(report["ops"])
    out["ratios"] = {key: ev["ratios"] for key, ev in report["evaluation"].items()}
    out["targets"] = {key: ev["targets"] for key, ev in report["evaluation"].items()}
    out["wire"] = report["wire"]
    out["meta"] = report["meta"]
    return out


def profile(keys: list[str], size: int, seconds: float, limit: int) -> None:
    """cProfile Cumulo's side of each op for about ``seconds`` and print the hot spots."""
    suite = CumuloSuite(size)
    ops = suite.ops()
    for key in keys:
        fn = ops[key]
        fn()
        loops = autorange(fn, seconds)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(loops):
            fn()
        profiler.disable()
        print(f"\n=== cumulo {key}: {loops} calls, list size {size} ===")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs().sort_stats("tottime").print_stats(limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--quick", action="store_true", help="short loops and lists (smoke test)")
    parser.add_argument("--list-size", type=int, help="Instances per list (1000; quick: 100)")
    parser.add_argument("--no-gc", action="store_true", help="disable cyclic GC while timing")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: time.perf_counter (default); cpu: time.process_time, steadier on a busy box",
    )
    parser.add_argument("--only", help="comma-separated op keys to time: " + ", ".join(OPS_BY_KEY))
    parser.add_argument(
        "--profile", metavar="OPS", help="cProfile Cumulo's side of these ops instead of timing"
    )
    args = parser.parse_args(argv)

    size = args.list_size or (100 if args.quick else 1000)
    only = set(args.only.split(",")) if args.only else None
    wanted = (only or set()) | set(args.profile.split(",") if args.profile else [])
    unknown = wanted - set(OPS_BY_KEY)
    if unknown:
        parser.error(f"unknown op(s) {sorted(unknown)}; known: {', '.join(OPS_BY_KEY)}")
    if args.profile:
        profile(args.profile.split(","), size, 0.05 if args.quick else 1.0, 30)
        return 0

    if args.quick:
        settings = Settings.quick(args.no_gc, args.clock)
    else:
        settings = Settings(disable_gc=args.no_gc, clock=args.clock)
    try:
        results, wire = run(size, settings, only)
    except EquivalenceError as exc:
        print(f"the implementations disagree, not timing them: {exc}", file=sys.stderr)
        return 2
    report = build_report(results, wire, environment(size, settings))
    if args.json:
        print(json.dumps(as_json(report), indent=2))
    else:
        print(render_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
