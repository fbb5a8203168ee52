"""What an object looked like at each version of its history, and how to get there
from the current version.

- :func:`fields_at` and :func:`historical_envelope`: the fields a version had and
  the exact envelope type an older release reads it with (strict about unknown
  fields, enum values and the version string; tests and JSON Schema use it);
- :func:`backport_primitive`: a primitive rewritten for an older version. Dropping
  fields added after the target, refusing enum values the target did not know and
  moving children to the manifest's versions are automatic, planned once per
  (class, version). ``@backport_hook`` is only for a change of *meaning*, for
  example a field whose unit changed in 1.2::

    @backport_hook("1.2")
    @classmethod
    def _before_1_2(cls, data: dict[str, Any], target: str) -> None:
        if "disk_gb" in data:
            data["disk_mb"] = data.pop("disk_gb") * 1024

  It receives the primitive ``data`` dict and the target version, and runs when a
  backport goes below the version it names (newest hook first).

Going the other way (an older primitive loaded as the current version) is part of
decoding: see ``schema.upgrade_envelope``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from . import versions
from .exceptions import BackportError, InvalidTargetVersion, ObjectDeclarationError
from .fields import FieldSpec
from .registry import Registry
from .schema import envelope_struct
from .types import DictType, FieldType, ListType, NullableType, ObjectType

if TYPE_CHECKING:
    from .base import VersionedObject

F = TypeVar("F")


# --- declarations --------------------------------------------------------------------------


def backport_hook(version: str) -> Callable[[F], F]:
    """Mark a classmethod as the conversion from ``version`` to anything older."""
    versions.parse(version)

    def mark(func: F) -> F:
        target: Any = getattr(func, "__func__", func)
        target._obj_backport_from = version
        return func

    return mark


# --- what a version looks like -------------------------------------------------------------

_historical: dict[tuple[type[Any], str, tuple[tuple[str, str], ...]], Any] = {}


def fields_at(cls: type[VersionedObject], version: str) -> dict[str, FieldSpec]:
    """The fields ``cls`` had at ``version``."""
    cls._obj_build()
    v = versions.parse(version)
    all_specs = cls._obj_all_fields
    return {n: s for n, s in all_specs.items() if s.exists_at(v)}


def check_version_in_history(cls: type[VersionedObject], version: str) -> None:
    if version not in cls.obj_history():
        raise ObjectDeclarationError(
            f"{cls.obj_name()} has no version {version!r} (history: {cls.obj_history()})"
        )


def historical_envelope(
    cls: type[VersionedObject], version: str, manifest: Mapping[str, str] | None = None
) -> Any:
    """The exact envelope type an older release reads ``cls`` with, at ``version``.

    Children take the versions ``manifest`` names (their current one otherwise).
    Decoding with it refuses unknown fields, enum values the version did not know,
    and any other version string.
    """
    cls._obj_build()
    check_version_in_history(cls, version)
    manifest = dict(manifest or {})
    key = (cls, version, tuple(sorted(manifest.items())))
    cached = _historical.get(key)
    if cached is not None:
        return cached
    v = versions.parse(version)

    def child_envelope(child: type[VersionedObject]) -> Any:
        return historical_envelope(child, manifest.get(child.obj_name(), child.VERSION), manifest)

    data_fields = []
    for n, spec in fields_at(cls, version).items():
        wire = spec.type.wire(child_envelope, spec.values_at(v))
        data_fields.append((n, wire | UnsetType, UNSET))
    data_cls = msgspec.defstruct(
        f"{cls.obj_name()}Data_{version.replace('.', '_')}",
        data_fields,
        kw_only=True,
        forbid_unknown_fields=True,
        gc=False,
    )
    name = cls.obj_name()
    namespace = cls.OBJ_PROJECT_NAMESPACE

    def __post_init__(self: Any) -> None:
        if self.name != name:
            raise ValueError(f"Expected a `{name}` object, got `{self.name}`")
        if self.namespace != namespace:
            raise ValueError(f"Object namespace `{self.namespace}` is not `{namespace}`")
        if self.version != version:
            raise ValueError(f"Expected {name} version {version}, got {self.version}")

    env = envelope_struct(cls, data_cls, __post_init__, tag=f"_{version.replace('.', '_')}")
    _historical[key] = env
    return env


# --- backports -----------------------------------------------------------------------------


def backport_primitive(
    primitive: dict[str, Any],
    cls: type[VersionedObject],
    target: str,
    manifest: Mapping[str, str],
    sns: str,
    path: str = "$",
) -> None:
    """Rewrite ``primitive`` (in place) as ``cls`` at ``target``, children per ``manifest``.

    Fields added after the target are dropped, enum values the target did not know
    are refused, ``@backport`` hooks run for the versions crossed, and every child
    object goes to the version the manifest names (children it does not name stay).
    ``path`` is where the user's objects hold this one (``$.objects[1]``): errors
    name it, not the primitive's keys.
    """
    ver_key, data_key, changes_key = f"{sns}.version", f"{sns}.data", f"{sns}.changes"
    try:
        current = versions.parse(primitive[ver_key])
        wanted = versions.parse(target)
    except ObjectDeclarationError as exc:
        raise InvalidTargetVersion(f"{cls.obj_name()}: {exc}") from None
    if wanted > current:
        raise InvalidTargetVersion(
            f"cannot backport {cls.obj_name()} {primitive[ver_key]} to newer version {target}"
        )
    if wanted[0] != current[0]:
        raise InvalidTargetVersion(
            f"cannot backport {cls.obj_name()} {primitive[ver_key]} to {target}: "
            "different major version"
        )
    data: dict[str, Any] = primitive[data_key]
    if wanted < current:
        hooks, dropped, enum_specs = _backport_plan(cls, wanted)
        for attr in hooks:
            getattr(cls, attr)(data, target)
        for spec in enum_specs:
            if spec.name in data:
                _check_enum_values(cls, spec, data[spec.name], wanted, f"{path}.{spec.name}")
        for fname in dropped:
            data.pop(fname, None)
        primitive[ver_key] = target
        changes = primitive.get(changes_key)
        if changes:
            kept = [c for c in changes if c in data]
            if kept:
                primitive[changes_key] = kept
            else:
                del primitive[changes_key]
    if not _children_may_need_backport(cls, manifest):
        return
    for fname in cls._obj_object_fields:
        value = data.get(fname)
        if value is not None:
            spec = cls._obj_fields[fname]
            _backport_children(value, spec.type, manifest, sns, cls.OBJ_REGISTRY, f"{path}.{fname}")


_descendants: dict[type[Any], tuple[tuple[str, str], ...]] = {}


def _children_may_need_backport(cls: type[VersionedObject], manifest: Mapping[str, str]) -> bool:
    """False when the manifest asks no object below ``cls`` for another version than
    its current one, so the children's primitives need no walk."""
    if not manifest or not cls._obj_object_fields:
        return False
    below = _descendants.get(cls)
    if below is None:
        names = dict(cls.obj_tree_get_versions())
        names.pop(cls.obj_name(), None)
        below = _descendants[cls] = tuple(names.items())
    return any(manifest.get(name, version) != version for name, version in below)


_plans: dict[tuple[type[Any], versions.Version], Any] = {}


def _backport_plan(
    cls: type[VersionedObject], wanted: versions.Version
) -> tuple[list[str], list[str], list[FieldSpec]]:
    """What a backport of ``cls`` to ``wanted`` does: hooks to run, fields to drop,
    enum fields whose values need checking. Computed once per (class, version)."""
    plan = _plans.get((cls, wanted))
    if plan is None:
        hooks = [attr for version, attr in cls._obj_backport_hooks if version > wanted]
        dropped = [n for n, spec in cls._obj_fields.items() if not spec.exists_at(wanted)]
        enum_specs = [
            spec
            for spec in cls._obj_fields.values()
            if spec.values_added and spec.exists_at(wanted)
        ]
        plan = _plans[(cls, wanted)] = (hooks, dropped, enum_specs)
    return plan


def _backport_children(
    value: Any,
    ftype: FieldType,
    manifest: Mapping[str, str],
    sns: str,
    registry: Registry,
    path: str,
) -> None:
    if value is None:
        return
    if isinstance(ftype, NullableType):
        ftype = ftype.inner
    if isinstance(ftype, ObjectType):
        child_name = value[f"{sns}.name"]
        child_version = value[f"{sns}.version"]
        child_target = manifest.get(child_name)
        if child_target is None or child_target == child_version:
            child_cls = ftype.cls
            if child_name != child_cls.obj_name() or child_version != child_cls.VERSION:
                child_cls = registry.lookup(
                    ftype.cls.OBJ_PROJECT_NAMESPACE, child_name, child_version
                )
            if not child_cls._obj_object_fields:
                return
        else:
            child_cls = registry.lookup(ftype.cls.OBJ_PROJECT_NAMESPACE, child_name, child_version)
        backport_primitive(value, child_cls, child_target or child_version, manifest, sns, path)
    elif isinstance(ftype, ListType):
        for i, item in enumerate(value):
            _backport_children(item, ftype.item, manifest, sns, registry, f"{path}[{i}]")
    elif isinstance(ftype, DictType):
        for k, item in value.items():
            _backport_children(item, ftype.value, manifest, sns, registry, f"{path}[{k!r}]")


def _check_enum_values(
    cls: type[VersionedObject], spec: FieldSpec, value: Any, version: versions.Version, path: str
) -> None:
    allowed = spec.values_at(version)
    assert allowed is not None
    for v in _leaves(value):
        if v is not None and v not in allowed:
            raise BackportError(
                f"{cls.obj_name()}.{spec.name} = {v!r} cannot be sent as "
                f"{cls.obj_name()} {versions.fmt(version)}: the value was added in "
                f"{spec.value_added_in(v)} - at {path}"
            )


def _leaves(value: Any) -> list[Any]:
    """The scalar values inside a (possibly nested) list/dict primitive."""
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value]
