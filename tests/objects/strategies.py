"""Hypothesis strategies built from a class's declared fields, and the exhaustive
backport check every object model can run on itself.

``objects_of(cls)`` makes fully populated objects of any registered class (every
field set, nested objects and object lists filled recursively), so a test never
has to list an object's fields by hand. ``check_backport`` / ``check_all_versions``
prove that every class can be sent at every version of its history to a peer that
reads it with that version's exact (strict) schema::

    @pytest.mark.parametrize(("cls", "version"), class_versions(MY_REGISTRY, "myproject"),
                             ids=version_id)
    def test_backports(cls, version):
        check_backport(cls, version)
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from cumulo.objects import Registry, VersionedObject, fields_at, historical_envelope, versions
from cumulo.objects.addresses import dec_hook
from cumulo.objects.types import (
    BoolType,
    DateTimeType,
    DictType,
    EnumType,
    FieldType,
    FloatType,
    IntType,
    IPType,
    ListType,
    MACType,
    NullableType,
    ObjectType,
    SetType,
    StrType,
    UUIDType,
)

MAX_ITEMS = 2
"""Most items in a generated container; objects nest, so sizes stay small."""

# --- scalars ----------------------------------------------------------------------------------

# No surrogates: they are not valid UTF-8, so no JSON or msgpack peer could carry them.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
# Whole-minute UTC offsets: what RFC 3339 (and so JSON) can carry.
utc_offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=utc_offsets
)
mac_addresses = st.binary(min_size=6, max_size=6).map(lambda b: ":".join(f"{x:02x}" for x in b))


def _networks(version: int) -> st.SearchStrategy[Any]:
    bits = 32 if version == 4 else 128
    return st.tuples(st.ip_addresses(v=version), st.integers(0, bits)).map(
        lambda t: ipaddress.ip_network((t[0], t[1]), strict=False)
    )


_IP_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "ipv4": st.ip_addresses(v=4),
    "ipv6": st.ip_addresses(v=6),
    "ip": st.ip_addresses(),
    "ipv4net": _networks(4),
    "ipv6net": _networks(6),
    "ipnet": st.one_of(_networks(4), _networks(6)),
}


# --- field types ------------------------------------------------------------------------------


def values_of(
    ftype: FieldType,
    allowed: frozenset[Any] | None = None,
    manifest: Mapping[str, str] | None = None,
    allow_none: bool = False,
) -> st.SearchStrategy[Any]:
    """Values of one field type.

    ``allowed`` restricts enum values; ``manifest`` gives the version each nested
    object class will be sent at (which restricts *their* enums); ``allow_none``
    lets nullable types be ``None`` (otherwise they always hold a value).
    """

    def sub(t: FieldType) -> st.SearchStrategy[Any]:
        return values_of(t, allowed, manifest, allow_none)

    if isinstance(ftype, StrType):
        return texts
    if isinstance(ftype, BoolType):
        return st.booleans()
    if isinstance(ftype, IntType):
        return int64s
    if isinstance(ftype, FloatType):
        return finite_floats
    if isinstance(ftype, UUIDType):
        return st.uuids()
    if isinstance(ftype, DateTimeType):
        return aware_datetimes
    if isinstance(ftype, MACType):
        return mac_addresses
    if isinstance(ftype, IPType):
        return _IP_STRATEGIES[ftype.kind]
    if isinstance(ftype, EnumType):
        choices = [v for v in ftype.values if allowed is None or v in allowed]
        if not choices:
            raise ValueError(f"no enum value of {ftype!r} is allowed by {sorted(allowed or ())}")
        if ftype.enum_cls is not None:
            return st.sampled_from([ftype.enum_cls(v) for v in choices])
        return st.sampled_from(choices)
    if isinstance(ftype, NullableType):
        inner = sub(ftype.inner)
        return st.one_of(inner, st.none()) if allow_none else inner
    # Object containers get at least one item: "fully populated" reaches every class.
    if isinstance(ftype, ListType):
        min_size = 1 if ftype.item.has_objects else 0
        return st.lists(sub(ftype.item), min_size=min_size, max_size=MAX_ITEMS)
    if isinstance(ftype, SetType):
        return st.frozensets(sub(ftype.item), max_size=MAX_ITEMS).map(set)
    if isinstance(ftype, DictType):
        min_size = 1 if ftype.value.has_objects else 0
        return st.dictionaries(texts, sub(ftype.value), min_size=min_size, max_size=MAX_ITEMS)
    if isinstance(ftype, ObjectType):
        child = ftype.cls
        child_version = (manifest or {}).get(child.obj_name())
        return objects_of(child, child_version, manifest, allow_none=allow_none)
    raise TypeError(f"no strategy for field type {ftype!r}")


BACKPORT_FIXUPS: dict[str, Callable[[VersionedObject, str], None]] = {}
"""``{object name: fix(obj, version)}``: for values a ``@backport_hook`` refuses at
older versions by design (a read-only volume cannot be told to a peer that would
attach it writable), ``fix`` changes ``obj`` into one that ``version`` can carry.
Applied by :func:`objects_of` when it is given a version."""


def objects_of(
    cls: type[VersionedObject],
    version: str | None = None,
    manifest: Mapping[str, str] | None = None,
    allow_none: bool = False,
) -> st.SearchStrategy[Any]:
    """Fully populated objects of ``cls``: every current field set, recursively.

    ``version``: only enum values ``cls`` knew at that version, so the object can
    be backported to it. ``manifest``: the same for nested objects, at the versions
    it names. ``allow_none``: nullable fields may be ``None``. Changes are a random
    subset of the fields (children keep or lose theirs independently).
    """
    target = versions.parse(version) if version is not None else None
    field_strategies: dict[str, st.SearchStrategy[Any]] = {}
    for name, spec in cls.obj_fields().items():
        allowed = None
        if target is not None and spec.exists_at(target):
            allowed = spec.values_at(target)
        field_strategies[name] = values_of(spec.type, allowed, manifest, allow_none)
    names = sorted(field_strategies)

    @st.composite
    def build(draw: st.DrawFn) -> VersionedObject:
        obj = cls(**draw(st.fixed_dictionaries(field_strategies)))
        fixup = BACKPORT_FIXUPS.get(cls.obj_name())
        if fixup is not None and version is not None:
            fixup(obj, version)
        unchanged = draw(st.sets(st.sampled_from(names), max_size=len(names))) if names else set()
        obj.obj_reset_changes(unchanged)
        return obj

    return build()


# --- versions and manifests -------------------------------------------------------------------


def object_classes(cls: type[VersionedObject]) -> list[type[VersionedObject]]:
    """``cls`` and every class it can contain, directly or not, by name."""
    found: dict[str, type[VersionedObject]] = {}
    pending = [cls]
    while pending:
        current = pending.pop()
        if current.obj_name() in found:
            continue
        found[current.obj_name()] = current
        for spec in current.obj_fields().values():
            pending.extend(spec.type.object_classes())
    return [found[n] for n in sorted(found)]


def manifests_for(cls: type[VersionedObject], version: str) -> st.SearchStrategy[dict[str, str]]:
    """Manifests an older peer could send: ``cls`` at ``version``, and every class it
    can contain at any version of its history (each one independently)."""
    children = [c for c in object_classes(cls) if c.obj_name() != cls.obj_name()]
    return st.fixed_dictionaries(
        {cls.obj_name(): st.just(version)}
        | {c.obj_name(): st.sampled_from(c.obj_history()) for c in children}
    )


def class_versions(
    registry: Registry, namespace: str | None = None
) -> list[tuple[type[VersionedObject], str]]:
    """Every ``(class, version)`` pair of the registry's newest classes, for parametrize."""
    return [(cls, v) for cls in registry.classes(namespace) for v in cls.obj_history()]


def version_id(value: Any) -> str:
    """pytest ids for :func:`class_versions` parameters: ``Instance``, ``1.2``."""
    if isinstance(value, type) and issubclass(value, VersionedObject):
        return value.obj_name()
    return str(value)


# --- the exhaustive backport check ------------------------------------------------------------


def _assert_fully_set(value: Any, path: str) -> None:
    """Every field of every envelope inside a decoded (historical) value is set."""
    if isinstance(value, msgspec.Struct):
        data = getattr(value, "data", None)
        if isinstance(data, msgspec.Struct):
            for name in data.__struct_fields__:
                field_value = getattr(data, name)
                assert field_value is not UNSET, f"{path}.{name} was lost in the backport"
                _assert_fully_set(field_value, f"{path}.{name}")
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            _assert_fully_set(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _assert_fully_set(item, f"{path}.{key}")


def assert_backports(obj: VersionedObject, version: str, manifest: Mapping[str, str]) -> None:
    """``obj`` sent at ``version`` (children per ``manifest``) is exactly what a peer
    at that version reads: its strict historical schema loads it, every field of
    that version is there, and nothing else is."""
    cls = type(obj)
    sns = cls.OBJ_SERIAL_NAMESPACE
    primitive = obj.obj_to_primitive(target_version=version, version_manifest=dict(manifest))
    assert primitive[f"{sns}.version"] == version
    assert set(primitive[f"{sns}.data"]) == set(fields_at(cls, version))
    changes = primitive.get(f"{sns}.changes")
    assert changes is None or (changes and set(changes) <= set(fields_at(cls, version)))
    envelope = historical_envelope(cls, version, manifest)
    decoded = msgspec.convert(primitive, envelope, dec_hook=dec_hook)
    _assert_fully_set(decoded, "$")
    # And through the real wire: JSON bytes of the backported object decode the same way.
    wire = obj.obj_to_json(target_version=version, version_manifest=dict(manifest))
    msgspec.json.decode(wire, type=envelope, dec_hook=dec_hook)


def check_backport(cls: type[VersionedObject], version: str, max_examples: int = 25) -> None:
    """Property: any fully populated ``cls`` backports to ``version`` under any
    manifest of child versions, and loads with that version's strict schema."""

    @st.composite
    def cases(draw: st.DrawFn) -> tuple[VersionedObject, dict[str, str]]:
        manifest = draw(manifests_for(cls, version))
        return draw(objects_of(cls, version, manifest)), manifest

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(cases())
    def run(case: tuple[VersionedObject, dict[str, str]]) -> None:
        assert_backports(case[0], version, case[1])

    run()


def check_all_versions(
    registry: Registry, namespace: str | None = None, max_examples: int = 25
) -> None:
    """Run :func:`check_backport` for every class of ``registry`` at every version."""
    pairs = class_versions(registry, namespace)
    assert pairs, f"no object classes registered in namespace {namespace!r}"
    for cls, version in pairs:
        check_backport(cls, version, max_examples)
