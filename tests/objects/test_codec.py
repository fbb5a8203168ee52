"""The wire format (cumulo/objects/codec.py): envelope shape, JSON and msgpack round
trips, typed list/dict decoding, and the errors bad input turns into."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import ipaddress
import json
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cumulo.objects import (
    DeserializationError,
    IncompatibleObjectVersion,
    ObjectError,
    UnsupportedObjectError,
    decode_json,
    decode_msgpack,
    deserialize_entity,
    encode_json,
    encode_msgpack,
)
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
from tests.objects.strategies import int64s, objects_of

NS = SAMPLE_SERIAL_NAMESPACE
NAME, NAMESPACE, VERSION, DATA, CHANGES = (
    f"{NS}.{k}" for k in ("name", "namespace", "version", "data", "changes")
)
ENVELOPE_KEYS = {NAME, NAMESPACE, VERSION, DATA, CHANGES}
CLASSES = list(SAMPLE_REGISTRY.classes(SAMPLE_NAMESPACE))

fast = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_flavor(**overrides: Any) -> Flavor:
    values: dict[str, Any] = dict(
        id=1, flavorid="m1.small", name="m1.small", vcpus=2, memory_mb=2048, root_gb=20
    )
    values.update(overrides)
    return Flavor(**values)


def make_instance(**overrides: Any) -> Instance:
    values: dict[str, Any] = dict(
        uuid=uuid.UUID("6f2f5a3e-2c1b-4e8f-9d0a-1b2c3d4e5f60"),
        display_name="web-1",
        host="compute-1",
        vm_state=VMState.ACTIVE,
        flavor=make_flavor(),
        tags=["a", "b"],
        metadata={"role": "web"},
        created_at=dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
        access_ip_v4="10.0.0.5",
        security_groups=[SecurityGroup(id=7, name="default", rules=["tcp/22"])],
        networks={"10.0.0.0/24", "fd00::/64"},
        fixed_ips=["10.0.0.5", "fd00::5"],
        mac_address="AA:BB:CC:DD:EE:FF",
    )
    values.update(overrides)
    return Instance(**values)


def normalized(primitive: Any) -> Any:
    """A primitive with every ``changes`` list sorted: the order is not part of the format."""
    if isinstance(primitive, dict):
        return {k: sorted(v) if k == CHANGES else normalized(v) for k, v in primitive.items()}
    if isinstance(primitive, list):
        return [normalized(v) for v in primitive]
    return primitive


def clean_primitive() -> dict[str, Any]:
    instance = make_instance()
    instance.obj_reset_changes(recursive=True)
    return instance.obj_to_primitive()


# --- envelope shape ---------------------------------------------------------------------------


def test_envelope_has_the_serial_namespace_keys() -> None:
    instance = make_instance()
    primitive = instance.obj_to_primitive()
    assert set(primitive) == ENVELOPE_KEYS
    assert primitive[NAME] == "Instance"
    assert primitive[NAMESPACE] == SAMPLE_NAMESPACE
    assert primitive[VERSION] == Instance.VERSION
    assert set(primitive[DATA]) == set(Instance.obj_fields())
    assert sorted(primitive[CHANGES]) == sorted(instance.obj_what_changed())


def test_changes_key_only_when_something_changed() -> None:
    instance = make_instance()
    instance.obj_reset_changes(recursive=True)
    assert CHANGES not in instance.obj_to_primitive()
    instance.display_name = "web-2"
    assert instance.obj_to_primitive()[CHANGES] == ["display_name"]


def test_unset_fields_are_absent_not_null() -> None:
    flavor = Flavor(id=1, name="tiny")
    data = flavor.obj_to_primitive()[DATA]
    assert "vcpus" not in data
    assert "flavorid" not in data
    assert data["id"] == 1
    # Fields with defaults are set at construction, so they are sent.
    assert data["swap"] == 0
    assert data["extra_specs"] == {}


def test_nested_objects_carry_full_envelopes_with_their_own_changes() -> None:
    instance = make_instance()
    instance.obj_reset_changes(recursive=True)
    instance.flavor.vcpus = 4
    primitive = instance.obj_to_primitive()
    flavor = primitive[DATA]["flavor"]
    assert set(flavor) == ENVELOPE_KEYS
    assert flavor[NAME] == "Flavor"
    assert flavor[NAMESPACE] == SAMPLE_NAMESPACE
    assert flavor[VERSION] == Flavor.VERSION
    assert flavor[CHANGES] == ["vcpus"]
    assert primitive[CHANGES] == ["flavor"]  # the parent reports the changed child
    group = primitive[DATA]["security_groups"][0]
    assert set(group) == ENVELOPE_KEYS - {CHANGES}
    assert group[NAME] == "SecurityGroup"
    assert group[VERSION] == SecurityGroup.VERSION
    assert group[DATA]["rules"] == ["tcp/22"]


def test_primitive_values_are_plain_json_values() -> None:
    data = make_instance().obj_to_primitive()[DATA]
    assert data["uuid"] == "6f2f5a3e-2c1b-4e8f-9d0a-1b2c3d4e5f60"
    assert data["vm_state"] == "active"
    assert data["created_at"] == "2026-01-02T03:04:05.678901Z"  # microseconds kept
    assert data["access_ip_v4"] == "10.0.0.5"
    assert data["mac_address"] == "aa:bb:cc:dd:ee:ff"
    assert sorted(data["networks"]) == ["10.0.0.0/24", "fd00::/64"]
    assert data["fixed_ips"] == ["10.0.0.5", "fd00::5"]
    assert data["old_flavor"] is None
    assert data["admin_pass"] is None


def test_json_bytes_are_the_primitive() -> None:
    instance = make_instance()
    assert normalized(json.loads(instance.obj_to_json())) == normalized(instance.obj_to_primitive())
    assert normalized(json.loads(encode_json(instance))) == normalized(instance.obj_to_primitive())


# --- round trips ------------------------------------------------------------------------------


def assert_same_object(loaded: Any, original: Any) -> None:
    assert type(loaded) is type(original)
    assert loaded == original
    assert loaded.obj_what_changed() == original.obj_what_changed()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.obj_name())
def test_primitive_round_trip(cls: type[SampleObject]) -> None:
    @fast
    @given(objects_of(cls, allow_none=True))
    def check(obj: SampleObject) -> None:
        primitive = obj.obj_to_primitive()
        loaded = cls.obj_from_primitive(copy.deepcopy(primitive))
        assert_same_object(loaded, obj)
        assert_same_object(cls.obj_from_primitive(loaded.obj_to_primitive()), obj)

    check()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.obj_name())
def test_json_round_trip(cls: type[SampleObject]) -> None:
    @fast
    @given(objects_of(cls, allow_none=True))
    def check(obj: SampleObject) -> None:
        data = obj.obj_to_json()
        loaded = cls.obj_from_json(data)
        assert_same_object(loaded, obj)
        assert_same_object(cls.obj_from_json(loaded.obj_to_json()), obj)
        assert_same_object(cls.obj_from_json(data.decode()), obj)  # str input too

    check()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.obj_name())
def test_msgpack_round_trip(cls: type[SampleObject]) -> None:
    @fast
    @given(objects_of(cls, allow_none=True))
    def check(obj: SampleObject) -> None:
        # msgpack timestamps carry the instant, not the UTC offset, so compare objects
        # (aware datetimes compare by instant) rather than bytes.
        assert_same_object(cls.obj_from_msgpack(obj.obj_to_msgpack()), obj)
        assert_same_object(decode_msgpack(encode_msgpack(obj), cls), obj)

    check()


def test_round_trip_keeps_nested_changes_apart() -> None:
    instance = make_instance()
    instance.obj_reset_changes(recursive=True)
    instance.security_groups[0].name = "web"
    loaded = Instance.obj_from_json(instance.obj_to_json())
    assert loaded.obj_what_changed() == {"security_groups"}
    assert loaded.security_groups[0].obj_what_changed() == {"name"}
    assert loaded.flavor.obj_what_changed() == set()


def test_decoded_objects_get_the_context() -> None:
    context = object()
    data = encode_json([make_instance()])
    [loaded] = decode_json(data, list[Instance], context=context)
    assert loaded.obj_context is context
    assert Instance.obj_from_json(data[1:-1], context=context).obj_context is context


# --- typed containers -------------------------------------------------------------------------


@fast
@given(st.lists(objects_of(Instance), max_size=3))
def test_list_of_objects_round_trip(instances: list[Instance]) -> None:
    for encode, decode in ((encode_json, decode_json), (encode_msgpack, decode_msgpack)):
        loaded = decode(encode(instances), list[Instance])
        assert isinstance(loaded, list)
        assert len(loaded) == len(instances)
        for got, want in zip(loaded, instances, strict=True):
            assert_same_object(got, want)


@fast
@given(st.dictionaries(st.text(max_size=5), objects_of(Flavor), max_size=3))
def test_dict_of_objects_round_trip(flavors: dict[str, Flavor]) -> None:
    for encode, decode in ((encode_json, decode_json), (encode_msgpack, decode_msgpack)):
        loaded = decode(encode(flavors), dict[str, Flavor])
        assert isinstance(loaded, dict)
        assert loaded.keys() == flavors.keys()
        for key, want in flavors.items():
            assert_same_object(loaded[key], want)


def test_list_object_round_trip() -> None:
    instances = InstanceList(objects=[make_instance(), make_instance(display_name="web-2")])
    loaded = InstanceList.obj_from_json(instances.obj_to_json())
    assert loaded == instances
    assert [i.display_name for i in loaded.objects] == ["web-1", "web-2"]


# --- older peers ------------------------------------------------------------------------------


def test_loading_an_older_version_fills_defaults_of_later_fields() -> None:
    instance = make_instance()
    instance.obj_reset_changes(recursive=True)
    instance.display_name = "old"
    old = instance.obj_to_primitive(
        target_version="1.0", version_manifest={"Flavor": "1.0", "SecurityGroup": "1.0"}
    )
    assert "locked" not in old[DATA]
    for load in (
        lambda: Instance.obj_from_primitive(copy.deepcopy(old)),
        lambda: Instance.obj_from_json(json.dumps(old)),
        lambda: Instance.obj_from_msgpack(msgspec.msgpack.encode(old)),
    ):
        loaded = load()
        assert loaded.obj_to_primitive()[VERSION] == Instance.VERSION
        # fields of 1.0 keep their values
        assert loaded.display_name == "old"
        assert loaded.tags == ["a", "b"]
        assert loaded.flavor.vcpus == 2
        # fields added in 1.1-1.3 take their declared defaults
        assert loaded.security_groups == []
        assert loaded.access_ip_v6 is None
        assert loaded.power_state == 0
        assert loaded.locked is False
        assert loaded.old_flavor is None
        assert loaded.networks == set()
        assert loaded.fixed_ips == []
        assert loaded.launched_at is None
        # and so do the nested Flavor 1.0's
        assert loaded.flavor.swap == 0
        assert loaded.flavor.extra_specs == {}
        assert loaded.flavor.rxtx_factor == 1.0
        # filling in defaults is not a change
        assert loaded.obj_what_changed() == {"display_name"}
        assert loaded.flavor.obj_what_changed() == set()


def test_older_version_does_not_invent_fields_it_had() -> None:
    # A 1.0 primitive without ``host`` (a 1.0 field) leaves it unset: only fields
    # the sender could not know about get defaults.
    old = make_instance().obj_to_primitive(target_version="1.0")
    del old[DATA]["host"]
    loaded = Instance.obj_from_primitive(old)
    assert not loaded.obj_attr_is_set("host")
    assert loaded.locked is False


# --- errors -----------------------------------------------------------------------------------


def load_primitive(primitive: Any) -> Any:
    return Instance.obj_from_primitive(primitive)


def load_json(primitive: Any) -> Any:
    return Instance.obj_from_json(msgspec.json.encode(primitive))


def load_msgpack(primitive: Any) -> Any:
    return Instance.obj_from_msgpack(msgspec.msgpack.encode(primitive))


def load_json_list(primitive: Any) -> Any:
    return decode_json(msgspec.json.encode([clean_primitive(), primitive]), list[Instance])


LOADERS: dict[str, Callable[[Any], Any]] = {
    "primitive": load_primitive,
    "json": load_json,
    "msgpack": load_msgpack,
    "json-list": load_json_list,
}
loaders = pytest.mark.parametrize("load", list(LOADERS.values()), ids=list(LOADERS))


def with_envelope(**changes: Any) -> dict[str, Any]:
    primitive = clean_primitive()
    for key, value in changes.items():
        primitive[f"{NS}.{key}"] = value
    return primitive


def without(key: str) -> dict[str, Any]:
    primitive = clean_primitive()
    del primitive[f"{NS}.{key}"]
    return primitive


@pytest.mark.parametrize(
    "load",
    [
        load_primitive,
        load_json,
        load_msgpack,
    ],
    ids=["primitive", "json", "msgpack"],
)
@pytest.mark.parametrize(
    "primitive",
    [with_envelope(name="Server"), with_envelope(namespace="someone_else")],
    ids=["unknown-name", "unknown-namespace"],
)
def test_unregistered_object_is_unsupported(load: Callable[[Any], Any], primitive: Any) -> None:
    with pytest.raises(UnsupportedObjectError):
        load(primitive)


@loaders
def test_unregistered_object_is_a_deserialization_error(load: Callable[[Any], Any]) -> None:
    for primitive in (with_envelope(name="Server"), with_envelope(namespace="someone_else")):
        with pytest.raises(DeserializationError):
            load(primitive)


@loaders
@pytest.mark.parametrize("version", ["1.4", "1.10", "2.0", "2.3", "0.9"])
def test_too_new_or_other_major_is_incompatible(load: Callable[[Any], Any], version: str) -> None:
    with pytest.raises(IncompatibleObjectVersion) as info:
        load(with_envelope(version=version))
    assert info.value.objname == "Instance"
    assert info.value.objver == version
    assert info.value.supported == Instance.VERSION


@loaders
def test_nested_too_new_object_with_unknown_fields_is_incompatible(
    load: Callable[[Any], Any],
) -> None:
    # What a newer peer sends: a Flavor 1.5 with a field we have never heard of.
    primitive = clean_primitive()
    flavor = primitive[DATA]["flavor"]
    flavor[VERSION] = "1.5"
    flavor[DATA]["gpus"] = 2
    with pytest.raises(IncompatibleObjectVersion) as info:
        load(primitive)
    assert (info.value.objname, info.value.objver) == ("Flavor", "1.5")


@loaders
def test_too_new_object_inside_an_object_list_is_incompatible(load: Callable[[Any], Any]) -> None:
    primitive = clean_primitive()
    group = primitive[DATA]["security_groups"][0]
    group[VERSION] = "1.2"
    group[DATA]["stateful"] = True
    with pytest.raises(IncompatibleObjectVersion) as info:
        load(primitive)
    assert (info.value.objname, info.value.objver) == ("SecurityGroup", "1.2")


@loaders
def test_nested_other_major_is_incompatible(load: Callable[[Any], Any]) -> None:
    primitive = clean_primitive()
    primitive[DATA]["flavor"][VERSION] = "2.0"
    with pytest.raises(IncompatibleObjectVersion):
        load(primitive)


def _nested_data_missing() -> dict[str, Any]:
    primitive = clean_primitive()
    del primitive[DATA]["flavor"][DATA]
    return primitive


def _nested_not_envelope() -> dict[str, Any]:
    primitive = clean_primitive()
    primitive[DATA]["flavor"] = {"id": 1}
    return primitive


def _unknown_field() -> dict[str, Any]:
    primitive = clean_primitive()
    primitive[DATA]["colour"] = "blue"
    return primitive


MALFORMED = {
    "no-data": without("data"),
    "no-name": without("name"),
    "no-version": without("version"),
    "no-namespace": without("namespace"),
    "data-not-object": with_envelope(data=["uuid"]),
    "data-null": with_envelope(data=None),
    "version-not-string": with_envelope(version=1.3),
    "version-garbage": with_envelope(version="one.three"),
    "name-not-string": with_envelope(name=["Instance"]),
    "changes-not-list": with_envelope(changes="display_name"),
    "changes-not-strings": with_envelope(changes=[1, 2]),
    "extra-envelope-key": with_envelope(extra=1),
    "unknown-field-same-version": _unknown_field(),
    "nested-data-missing": _nested_data_missing(),
    "nested-not-an-envelope": _nested_not_envelope(),
    "not-an-object": [1, 2, 3],
    "null": None,
    "string": "Instance",
}


@loaders
@pytest.mark.parametrize("primitive", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_envelope_is_a_deserialization_error(
    load: Callable[[Any], Any], primitive: Any
) -> None:
    with pytest.raises(DeserializationError):
        load(copy.deepcopy(primitive))


def wrong_vcpus() -> dict[str, Any]:
    primitive = clean_primitive()
    primitive[DATA]["flavor"][DATA]["vcpus"] = "two"
    return primitive


@pytest.mark.parametrize(
    ("load", "prefix"),
    [
        (load_primitive, "$"),
        (load_json, "$"),
        (load_msgpack, "$"),
        (load_json_list, "$[1]"),
    ],
    ids=["primitive", "json", "msgpack", "json-list"],
)
def test_wrong_type_deep_inside_names_the_exact_path(
    load: Callable[[Any], Any], prefix: str
) -> None:
    # The user's path, not the wire's ($.cumulo_test_object.data.flavor.cumulo_test_object...).
    with pytest.raises(DeserializationError) as info:
        load(wrong_vcpus())
    assert info.value.path == f"{prefix}.flavor.vcpus"
    assert "Expected `int`, got `str`" in info.value.reason
    assert str(info.value).endswith(f"- at {info.value.path}")


def test_wrong_type_inside_an_object_list_names_the_item() -> None:
    primitive = clean_primitive()
    primitive[DATA]["security_groups"][0][DATA]["id"] = "seven"
    with pytest.raises(DeserializationError) as info:
        Instance.obj_from_json(json.dumps(primitive))
    assert info.value.path == "$.security_groups[0].id"
    assert str(info.value) == "Expected `int`, got `str` - at $.security_groups[0].id"


def _group_list_primitive(bad_index: int) -> dict[str, Any]:
    groups = SecurityGroupList(objects=[SecurityGroup(id=i, name=f"g{i}") for i in range(5)])
    primitive = groups.obj_to_primitive()
    primitive[DATA]["objects"][bad_index][DATA]["id"] = "seven"
    return primitive


@pytest.mark.parametrize(
    "load",
    [
        SecurityGroupList.obj_from_primitive,
        lambda p: SecurityGroupList.obj_from_json(msgspec.json.encode(p)),
        lambda p: SecurityGroupList.obj_from_msgpack(msgspec.msgpack.encode(p)),
    ],
    ids=["primitive", "json", "msgpack"],
)
def test_wrong_type_in_a_list_object_names_the_element(load: Callable[[Any], Any]) -> None:
    with pytest.raises(DeserializationError) as info:
        load(_group_list_primitive(3))
    assert info.value.path == "$.objects[3].id"
    assert str(info.value) == "Expected `int`, got `str` - at $.objects[3].id"


def test_wrong_type_deep_inside_a_list_object_names_every_step() -> None:
    instances = InstanceList(objects=[make_instance() for _ in range(5)])
    primitive = instances.obj_to_primitive()
    primitive[DATA]["objects"][3][DATA]["flavor"][DATA]["vcpus"] = "two"
    with pytest.raises(DeserializationError) as info:
        InstanceList.obj_from_json(json.dumps(primitive))
    assert info.value.path == "$.objects[3].flavor.vcpus"


def test_wrong_type_inside_a_dict_of_objects_names_the_value() -> None:
    # msgspec does not say which key: a dict value is "[...]", as in its own messages.
    with pytest.raises(DeserializationError) as info:
        decode_json(
            json.dumps({"web": clean_primitive(), "db": wrong_vcpus()}), dict[str, Instance]
        )
    assert info.value.path == "$[...].flavor.vcpus"


def test_a_bad_header_of_a_nested_object_keeps_its_wire_key() -> None:
    # The user's objects have no name for an envelope's version: the path says the key.
    primitive = clean_primitive()
    primitive[DATA]["flavor"][VERSION] = 5
    with pytest.raises(DeserializationError) as info:
        Instance.obj_from_json(json.dumps(primitive))
    assert info.value.path == f"$.flavor.{VERSION}"


def test_errors_about_a_whole_nested_object_name_the_object() -> None:
    unknown_field = clean_primitive()
    unknown_field[DATA]["flavor"][DATA]["colour"] = "red"
    with pytest.raises(DeserializationError) as info:
        Instance.obj_from_json(json.dumps(unknown_field))
    assert str(info.value) == "Object contains unknown field `colour` - at $.flavor"
    wrong_object = clean_primitive()
    wrong_object[DATA]["flavor"][NAME] = "Bogus"
    with pytest.raises(UnsupportedObjectError) as unsupported:
        Instance.obj_from_json(json.dumps(wrong_object))
    assert str(unsupported.value) == "Expected a `Flavor` object, got `Bogus` - at $.flavor"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("uuid", "not-a-uuid"),
        ("created_at", "2026-01-02T03:04:05"),  # naive
        ("access_ip_v4", "fd00::1"),
        ("access_ip_v4", 167772165),
        ("mac_address", "aa:bb:cc"),
        ("vm_state", "exploded"),
        ("power_state", 2),
        ("networks", ["10.0.0.1/33"]),
        ("locked", "yes"),
    ],
)
@loaders
def test_invalid_field_value_is_a_deserialization_error_at_its_path(
    load: Callable[[Any], Any], field: str, value: Any
) -> None:
    primitive = clean_primitive()
    primitive[DATA][field] = value
    with pytest.raises(DeserializationError) as info:
        load(primitive)
    assert info.value.path.startswith(("$.", "$[1].")), info.value.path
    prefix = "$[1]" if load is load_json_list else "$"
    assert info.value.path in (f"{prefix}.{field}", f"{prefix}.{field}[0]"), info.value.path


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"\xff\xfe\x00", b"not json", b'{"a": 1,}', b"[1, 2", b"\x00" * 16],
)
def test_garbage_json_is_a_deserialization_error(data: bytes) -> None:
    with pytest.raises(DeserializationError):
        Instance.obj_from_json(data)
    with pytest.raises(DeserializationError):
        decode_json(data, list[Instance])


@pytest.mark.parametrize("data", [b"", b"\xc1", b"\x91", b"\xdf\xff\xff\xff\xff", b"\x81\xa1"])
def test_garbage_msgpack_is_a_deserialization_error(data: bytes) -> None:
    with pytest.raises(DeserializationError):
        Instance.obj_from_msgpack(data)


INVALID_UTF8_BUG = (
    "BUG: invalid UTF-8 inside a string escapes decode_json/decode_msgpack as a raw "
    "UnicodeDecodeError instead of DeserializationError"
)


@pytest.mark.parametrize(
    ("encode", "decode"),
    [(msgspec.json.encode, decode_json), (msgspec.msgpack.encode, decode_msgpack)],
    ids=["json", "msgpack"],
)
def test_invalid_utf8_in_a_string_is_a_deserialization_error(
    encode: Callable[[Any], bytes], decode: Callable[[bytes, Any], Any]
) -> None:
    data = encode(clean_primitive()).replace(b"web-1", b"web\xff1")
    with pytest.raises(DeserializationError):
        decode(data, Instance)


@fast
@given(st.binary(max_size=64))
def test_any_bytes_load_or_raise_an_object_error(data: bytes) -> None:
    for decode in (decode_json, decode_msgpack):
        with contextlib.suppress(ObjectError):
            decode(data, Instance)


json_values = st.recursive(
    st.none() | st.booleans() | int64s | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_paths(v, (*path, i)))
    return found


@fast
@given(st.data())
def test_any_corrupted_primitive_loads_or_raises_an_object_error(data: st.DataObject) -> None:
    primitive = clean_primitive()
    path = data.draw(st.sampled_from(_paths(primitive)[1:]))
    replacement = data.draw(json_values)
    target = primitive
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    for load in (load_primitive, load_json, load_msgpack):
        with contextlib.suppress(ObjectError):
            load(copy.deepcopy(primitive))


def test_oversized_input_is_refused_before_decoding() -> None:
    data = make_instance().obj_to_json()
    assert Instance.obj_from_json(data) == make_instance()
    assert decode_json(data, Instance, max_bytes=len(data)) == make_instance()
    with pytest.raises(DeserializationError, match="larger than the limit"):
        decode_json(data, Instance, max_bytes=len(data) - 1)
    with pytest.raises(DeserializationError, match="larger than the limit"):
        decode_json(b"x" * 100, Instance, max_bytes=10)  # not even parsed
    packed = make_instance().obj_to_msgpack()
    assert decode_msgpack(packed, Instance, max_bytes=len(packed)) == make_instance()
    with pytest.raises(DeserializationError, match="larger than the limit"):
        decode_msgpack(packed, Instance, max_bytes=len(packed) - 1)


def test_max_bytes_counts_bytes_of_str_input() -> None:
    text = make_instance(display_name="\U0001f600" * 50).obj_to_json().decode()
    with pytest.raises(DeserializationError, match="larger than the limit"):
        decode_json(text, Instance, max_bytes=len(text) + 10)


DEPTH = 100_000


def _deep_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def test_too_deeply_nested_json_is_a_deserialization_error() -> None:
    primitive_json = make_instance().obj_to_json()
    for field, deep in (
        (b'"tags":["a","b"]', b'"tags":' + b"[" * DEPTH + b"]" * DEPTH),
        (b'"metadata":{"role":"web"}', b'"metadata":' + b'{"a":' * DEPTH + b"1" + b"}" * DEPTH),
    ):
        assert field in primitive_json
        with pytest.raises(DeserializationError):
            Instance.obj_from_json(primitive_json.replace(field, deep))
    with pytest.raises(DeserializationError):
        decode_json(b"[" * DEPTH, list[Instance])


def test_too_deeply_nested_msgpack_is_a_deserialization_error() -> None:
    with pytest.raises(DeserializationError):
        Instance.obj_from_msgpack(b"\x91" * DEPTH)
    with pytest.raises(DeserializationError):
        decode_msgpack(b"\x81\xa1a" * DEPTH, dict[str, Instance])


def test_too_deeply_nested_primitive_is_a_deserialization_error() -> None:
    primitive = clean_primitive()
    primitive[DATA]["tags"] = _deep_list(DEPTH)
    with pytest.raises(DeserializationError):
        Instance.obj_from_primitive(primitive)


def test_too_deeply_nested_entity_is_a_deserialization_error() -> None:
    with pytest.raises(DeserializationError):
        deserialize_entity(_deep_list(DEPTH), base=SampleObject)


def test_changes_naming_unknown_fields_are_refused_or_dropped() -> None:
    primitive = with_envelope(changes=["display_name", "no_such_field"])
    try:
        loaded = Instance.obj_from_primitive(primitive)
    except DeserializationError:
        return
    assert loaded.obj_what_changed() <= set(Instance.obj_fields())
    assert set(loaded.obj_get_changes()) == {"display_name"}


def test_errors_are_object_errors_not_raw_library_errors() -> None:
    # The exception families callers catch: everything above derives from these.
    assert issubclass(DeserializationError, ObjectError)
    assert issubclass(UnsupportedObjectError, DeserializationError)
    assert issubclass(IncompatibleObjectVersion, ObjectError)
    assert not issubclass(DeserializationError, msgspec.MsgspecError)


# --- deserialize_entity / serialize_entity ----------------------------------------------------


def test_deserialize_entity_finds_objects_inside_plain_values() -> None:
    instance = make_instance()
    flavor = make_flavor(vcpus=8)
    wire = json.loads(encode_json({"instances": [instance], "flavor": flavor, "n": 3}))
    loaded = deserialize_entity(wire, base=SampleObject)
    assert loaded["instances"] == [instance]
    assert loaded["flavor"] == flavor
    assert loaded["n"] == 3


def test_ip_typed_values_survive_the_wire() -> None:
    instance = make_instance()
    loaded = Instance.obj_from_json(instance.obj_to_json())
    assert loaded.access_ip_v4 == ipaddress.IPv4Address("10.0.0.5")
    assert isinstance(loaded.fixed_ips[1], ipaddress.IPv6Address)
    assert ipaddress.ip_network("fd00::/64") in loaded.networks
