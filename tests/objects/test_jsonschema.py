"""Tests of cumulo/objects/jsonschema.py: JSON Schema 2020-12 of historical envelopes,
checked with the `jsonschema` package against real backported primitives."""

import copy
import datetime
import enum
import ipaddress
from typing import Any, Literal
from uuid import UUID

import jsonschema
import msgspec
import pytest

from cumulo.objects import (
    MACAddress,
    ObjectDeclarationError,
    Registry,
    VersionedObject,
    field,
    historical_envelope,
    register,
)
from cumulo.objects.addresses import dec_hook
from cumulo.objects.jsonschema import DRAFT, json_schema

REGISTRY = Registry()
SNS = "jstest_object"


class Base(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "jstest"
    OBJ_SERIAL_NAMESPACE = SNS
    OBJ_REGISTRY = REGISTRY


class State(enum.StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"
    SHELVED = "shelved"


@register
class Flavor(Base):
    """An instance size.

    1.1: swap.
    """

    VERSION = "1.1"
    id: int = field(read_only=True)
    name: str
    swap: int = field(default=0, added="1.1")


@register
class Rule(Base):
    protocol: Literal["tcp", "udp", "icmp"]
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None


@register
class Instance(Base):
    VERSION = "1.2"
    uuid: UUID = field(read_only=True)
    host: str | None = None
    state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})
    flavor: Flavor
    rules: list[Rule] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    meta: dict[str, str | None] = field(default_factory=dict)
    nets: set[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=set)
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    mac: MACAddress | None = None
    created_at: datetime.datetime | None = None
    ratio: float = 1.0
    locked: bool = field(default=False, added="1.1")
    history: list[State] = field(
        default_factory=list, added="1.1", values_added={"1.2": ["shelved"]}
    )
    children: dict[str, Flavor] = field(default_factory=dict, added="1.2")


@register
class Empty(Base):
    pass


def make_instance(**overrides: Any) -> Instance:
    values: dict[str, Any] = {
        "uuid": UUID(int=7),
        "host": "compute-1",
        "flavor": Flavor(id=1, name="m1.small", swap=512),
        "rules": [Rule(protocol="tcp", cidr="10.0.0.0/8"), Rule(protocol="icmp")],
        "tags": ["a", "b"],
        "meta": {"k": "v", "none": None},
        "nets": {"10.0.0.0/24", "fe80::/64"},
        "ip": "fe80::1",
        "mac": "AA:BB:CC:DD:EE:FF",
        "created_at": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC),
        "ratio": 2,
        "locked": True,
        "history": ["active", "stopped"],
        "children": {"old": Flavor(id=2, name="m1.tiny")},
    }
    values.update(overrides)
    return Instance(**values)


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def is_valid(primitive: Any, schema: dict[str, Any]) -> bool:
    return validator(schema).is_valid(primitive)


def loads_historically(
    primitive: Any, cls: type[VersionedObject], version: str, manifest=None
) -> bool:
    try:
        msgspec.convert(primitive, historical_envelope(cls, version, manifest), dec_hook=dec_hook)
    except (msgspec.ValidationError, ValueError):
        return False
    return True


# --- shape --------------------------------------------------------------------------------------


def test_root_refers_to_its_definition():
    schema = json_schema(Flavor, "1.0")
    assert schema["$schema"] == DRAFT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Flavor 1.0"
    assert schema["$ref"] == "#/$defs/Flavor-1.0"
    definition = schema["$defs"]["Flavor-1.0"]
    assert definition["description"] == "An instance size."
    assert definition["required"] == [
        f"{SNS}.name",
        f"{SNS}.namespace",
        f"{SNS}.version",
        f"{SNS}.data",
    ]
    assert definition["properties"][f"{SNS}.version"] == {"const": "1.0"}
    data = definition["properties"][f"{SNS}.data"]
    assert list(data["properties"]) == ["id", "name"]
    assert data["additionalProperties"] is False
    assert data["properties"]["id"] == {"type": "integer", "readOnly": True}


def test_fields_and_enum_values_follow_the_version():
    def data(version: str) -> dict[str, Any]:
        definition = json_schema(Instance, version)["$defs"][f"Instance-{version}"]
        result: dict[str, Any] = definition["properties"][f"{SNS}.data"]["properties"]
        return result

    assert "locked" not in data("1.0")
    assert data("1.1")["locked"] == {"type": "boolean", "default": False}
    assert data("1.0")["state"] == {"enum": ["active", "stopped"], "default": "active"}
    assert data("1.2")["state"]["enum"] == ["active", "stopped", "shelved"]
    assert data("1.1")["history"]["items"] == {"enum": ["active", "stopped"]}
    assert data("1.0")["host"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}


def test_children_follow_the_manifest():
    schema = json_schema(Instance, "1.1", {"Flavor": "1.0"})
    assert sorted(schema["$defs"]) == ["Flavor-1.0", "Instance-1.1", "Rule-1.0"]
    data = schema["$defs"]["Instance-1.1"]["properties"][f"{SNS}.data"]["properties"]
    assert data["flavor"] == {"$ref": "#/$defs/Flavor-1.0"}
    assert data["rules"] == {"type": "array", "items": {"$ref": "#/$defs/Rule-1.0"}}
    assert sorted(json_schema(Instance)["$defs"]) == ["Flavor-1.1", "Instance-1.2", "Rule-1.0"]


def test_version_defaults_to_the_manifest():
    assert json_schema(Instance, manifest={"Instance": "1.0"})["title"] == "Instance 1.0"
    assert json_schema(Instance)["title"] == "Instance 1.2"


def test_object_without_fields():
    schema = json_schema(Empty)
    assert is_valid(Empty().obj_to_primitive(), schema)


def test_bad_versions_are_refused():
    with pytest.raises(ObjectDeclarationError, match="has no version"):
        json_schema(Instance, "1.3")
    with pytest.raises(ObjectDeclarationError, match="another major version"):
        json_schema(Instance, "1.2", {"Flavor": "2.0"})


# --- against real primitives ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
@pytest.mark.parametrize("flavor_version", ["1.0", "1.1"])
def test_backported_primitives_validate(version, flavor_version):
    manifest = {"Flavor": flavor_version}
    primitive = make_instance().obj_to_primitive(target_version=version, version_manifest=manifest)
    schema = json_schema(Instance, version, manifest)
    validator(schema).validate(primitive)
    assert loads_historically(primitive, Instance, version, manifest)


def test_primitive_with_changes_validates():
    instance = make_instance()
    instance.obj_reset_changes(recursive=True)
    instance.host = "compute-2"
    primitive = instance.obj_to_primitive()
    assert primitive[f"{SNS}.changes"] == ["host"]
    validator(json_schema(Instance)).validate(primitive)
    primitive[f"{SNS}.changes"] = ["nope"]
    assert not is_valid(primitive, json_schema(Instance))


def test_minimal_primitives_validate():
    # Unset fields are absent from the primitive; the schema requires none of them.
    instance = Instance(uuid=UUID(int=1), flavor=Flavor(id=1, name="x"))
    for version in Instance.obj_history():
        primitive = instance.obj_to_primitive(target_version=version)
        assert is_valid(primitive, json_schema(Instance, version))


def test_current_primitive_is_not_an_old_one():
    primitive = make_instance().obj_to_primitive()
    primitive[f"{SNS}.version"] = "1.0"
    assert not is_valid(primitive, json_schema(Instance, "1.0"))
    assert not loads_historically(primitive, Instance, "1.0")


def _mutations() -> list[tuple[str, Any]]:
    def data(p: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = p[f"{SNS}.data"]
        return result

    def set_key(key: str, value: Any) -> Any:
        return lambda p: p.__setitem__(key, value)

    def set_data(key: str, value: Any) -> Any:
        return lambda p: data(p).__setitem__(key, value)

    return [
        ("unknown field", set_data("color", "red")),
        ("field added later", set_data("locked", True)),
        ("enum value added later", set_data("state", "shelved")),
        ("enum value added later, in a list", set_data("history", ["shelved"])),
        ("wrong scalar type", set_data("tags", [1])),
        ("null where not nullable", set_data("tags", None)),
        ("null in a list of objects", set_data("rules", [None])),
        ("other version", set_key(f"{SNS}.version", "1.1")),
        ("other name", set_key(f"{SNS}.name", "Flavor")),
        ("other namespace", set_key(f"{SNS}.namespace", "elsewhere")),
        ("unknown envelope key", set_key(f"{SNS}.extra", 1)),
        ("missing data", lambda p: p.pop(f"{SNS}.data")),
        (
            "child at another version",
            lambda p: data(p)["flavor"].__setitem__(f"{SNS}.version", "1.1"),
        ),
        (
            "child with a field it did not have",
            lambda p: data(data(p)["flavor"]).__setitem__("swap", 1),
        ),
        (
            "bad enum in a child list",
            lambda p: data(data(p)["rules"][0]).__setitem__("protocol", "sctp"),
        ),
    ]


@pytest.mark.parametrize(("what", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_schema_and_historical_envelope_refuse_the_same_mutations(what, mutate):
    manifest = {"Flavor": "1.0"}
    primitive = make_instance().obj_to_primitive(target_version="1.0", version_manifest=manifest)
    schema = json_schema(Instance, "1.0", manifest)
    assert is_valid(primitive, schema)
    broken = copy.deepcopy(primitive)
    mutate(broken)
    assert not is_valid(broken, schema), what
    assert not loads_historically(broken, Instance, "1.0", manifest), what


def test_formats_are_checked_where_jsonschema_knows_them():
    primitive = make_instance().obj_to_primitive()
    primitive[f"{SNS}.data"]["uuid"] = "not-a-uuid"
    assert not is_valid(primitive, json_schema(Instance))


def test_a_default_the_first_version_cannot_hold_is_refused_at_declaration():
    class Odd(Base):
        VERSION = "1.1"
        state: State = field(default=State.SHELVED, values_added={"1.1": ["shelved"]})

    with pytest.raises(ObjectDeclarationError, match=r"Odd\.state: the default 'shelved'"):
        json_schema(Odd, "1.0")
