"""Canonical fingerprints of object versions, and what changed between two versions
(in words, with the version bump each change needs). ``lockfile.py`` keeps them.

A fingerprint hashes a *normalized schema*: a JSON document that names every
detail a peer relies on (element types, object targets, nullability, defaults,
``read_only``, the enum values a version allowed, remotable method signatures)
and nothing it does not (annotations, declaration order, ``lazy``,
``sensitive``). Unlike oslo.versionedobjects' ``repr()``-based hash it is built
from canonical JSON, so it does not move with the Python version.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import inspect
import ipaddress
import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, TypeVar

from . import versions
from .base import VersionedObject
from .exceptions import ObjectDeclarationError, ObjectError
from .fields import FieldSpec
from .history import check_version_in_history, fields_at

FORMAT = 1
"""Version of the normalization below; stored in every schema so that a lockfile made
by another format is recognised as such instead of as a rewritten history."""

F = TypeVar("F")


# --- versioned remotable methods ---------------------------------------------------------


def remotable_added(version: str) -> Callable[[F], F]:
    """Mark a remotable method as introduced by object ``version``.

    Stack it on ``@remotable`` / ``@remotable_classmethod`` (either order)::

        @remotable_added("1.4")
        @remotable
        def refresh(self): ...

    The method is then part of the normalized schema of versions >= 1.4 only, so
    adding it does not rewrite the fingerprints of 1.0-1.3. A remotable method
    without the mark belongs to every version of the object's current major.
    """
    versions.parse(version)

    def mark(method: F) -> F:
        target: Any = getattr(method, "__func__", method)
        target._obj_remotable_added = version
        return method

    return mark


def _method_added(cls: type[VersionedObject], name: str, func: Any) -> versions.Version | None:
    """The version that introduced remotable ``name`` (None: every version of the major)."""
    marker = getattr(func, "_obj_remotable_added", None)
    if marker is None:
        marker = getattr(
            getattr(func, "_obj_remotable_original", None), "_obj_remotable_added", None
        )
    if marker is None:
        return None
    added = versions.parse(marker)
    current = versions.parse(cls.VERSION)
    if added[0] < current[0]:
        return None  # introduced in an earlier major: present in all of this one
    if added > current:
        raise ObjectDeclarationError(
            f"{cls.obj_name()}.{name}: remotable_added({marker!r}) is newer than "
            f"{cls.obj_name()}.VERSION {cls.VERSION}"
        )
    return added


# --- canonical values ------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value``: sorted keys, no whitespace, ASCII only."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def canonical_value(value: Any) -> Any:
    """``value`` (a default) as plain JSON data that does not depend on the Python version.

    Enum members become their values, sets sorted lists, addresses, UUIDs and
    datetimes their standard strings, objects their primitive (without the
    ``changes`` list). Anything else is named by its type, never by its ``repr``
    (which may hold a memory address).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return canonical_value(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"float": repr(value)}
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        return [canonical_value(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((canonical_value(v) for v in value), key=canonical_json)
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, VersionedObject):
        sns = value.OBJ_SERIAL_NAMESPACE
        return _without_changes(value.obj_to_primitive(), f"{sns}.name", f"{sns}.changes")
    if isinstance(
        value,
        uuid.UUID
        | ipaddress.IPv4Address
        | ipaddress.IPv6Address
        | ipaddress.IPv4Network
        | ipaddress.IPv6Network,
    ):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, type):
        return {"python": f"{value.__module__}.{value.__qualname__}"}
    kind = type(value)
    return {"python": f"{kind.__module__}.{kind.__qualname__}"}


def _without_changes(value: Any, name_key: str, changes_key: str) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_changes(v, name_key, changes_key)
            for k, v in value.items()
            if not (k == changes_key and name_key in value)
        }
    if isinstance(value, list):
        return [_without_changes(v, name_key, changes_key) for v in value]
    return canonical_value(value)


def _enum_sort_key(value: Any) -> tuple[bool, Any]:
    return (isinstance(value, str), value)


# --- the normalized schema ----------------------------------------------------------------


def normalized_schema(cls: type[VersionedObject], version: str | None = None) -> dict[str, Any]:
    """The canonical description of ``cls`` as it was at ``version`` (default: current).

    ``version`` must be in ``cls.obj_history()``. The result is plain JSON data::

        {"format": 1, "name": "Flavor", "namespace": "cumulo",
         "serial_namespace": "cumulo_object",
         "fields": {"swap": {"type": {"kind": "int"}, "nullable": false,
                             "has_default": true, "default": 0, "read_only": false}, ...},
         "remotable": {"get_by_id": {"kind": "classmethod",
                                     "params": [{"name": "context", "kind": "positional_or_keyword",
                                                 "has_default": false}, ...]}}}

    Only fields that existed at ``version`` appear, enum values are those allowed
    at ``version``, and a remotable method marked :func:`remotable_added` appears
    from its version on. Left out on purpose: declaration order, annotations of
    remotable methods, ``lazy`` and ``sensitive`` (local behaviour, not part of
    what peers agree on), and the versions of child objects (manifests pick those
    at run time, so a parent need not bump when a child does).
    """
    cls.obj_fields()  # builds the class (and its remotables)
    if version is None:
        version = versions.fmt(versions.parse(cls.VERSION))
    check_version_in_history(cls, version)
    at = versions.parse(version)
    return {
        "format": FORMAT,
        "name": cls.obj_name(),
        "namespace": cls.OBJ_PROJECT_NAMESPACE,
        "serial_namespace": cls.OBJ_SERIAL_NAMESPACE,
        "fields": {
            name: _normalized_field(cls, spec, at) for name, spec in fields_at(cls, version).items()
        },
        "remotable": {
            name: _normalized_method(cls, name, func)
            for name, func in sorted(cls._obj_remotables.items())
            if (added := _method_added(cls, name, func)) is None or added <= at
        },
    }


def _normalized_field(
    cls: type[VersionedObject], spec: FieldSpec, at: versions.Version
) -> dict[str, Any]:
    described = _restrict_enum(spec.type.describe(), spec.values_at(at))
    nullable = described.get("kind") == "nullable"
    out: dict[str, Any] = {
        "type": described["of"] if nullable else described,
        "nullable": nullable,
        "has_default": spec.has_default,
        "read_only": spec.read_only,
    }
    if spec.has_default:
        default = spec.make_default()
        # A default the field itself refuses is described as written.
        with contextlib.suppress(ObjectError):
            default = spec.type.coerce(default, f"{cls.obj_name()}.{spec.name}")
        out["default"] = canonical_value(default)
    return out


def _restrict_enum(described: dict[str, Any], allowed: frozenset[Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in described.items():
        out[key] = _restrict_enum(value, allowed) if isinstance(value, dict) else value
    if out.get("kind") == "enum":
        values = [canonical_value(v) for v in out.get("values", [])]
        if allowed is not None:
            values = [v for v in values if v in allowed]
        out["values"] = sorted(values, key=_enum_sort_key)
    return out


def _normalized_method(cls: type[VersionedObject], name: str, func: Any) -> dict[str, Any]:
    original = getattr(func, "_obj_remotable_original", func)
    static = inspect.getattr_static(cls, name)
    kind = "classmethod" if isinstance(static, classmethod) else "instance"
    params = list(inspect.signature(original).parameters.values())
    if params and params[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        params = params[1:]  # self / cls
    described = []
    for param in params:
        entry: dict[str, Any] = {
            "name": param.name,
            "kind": param.kind.name.lower(),
            "has_default": param.default is not inspect.Parameter.empty,
        }
        if param.default is not inspect.Parameter.empty:
            entry["default"] = canonical_value(param.default)
        described.append(entry)
    return {"kind": kind, "params": described}


def fingerprint_of(schema: Mapping[str, Any], version: str) -> str:
    """``"X.Y-<32 hex>"``: the first 128 bits of the SHA-256 of the canonical JSON."""
    digest = hashlib.sha256(canonical_json(schema).encode("ascii")).hexdigest()
    return f"{versions.fmt(versions.parse(version))}-{digest[:32]}"


def fingerprint(cls: type[VersionedObject], version: str | None = None) -> str:
    """The fingerprint of ``cls`` at ``version`` (default: current), e.g. ``"1.2-3f0c…"``.

    Not re-exported by ``cumulo.objects``: there it would hide this module.
    """
    if version is None:
        version = versions.fmt(versions.parse(cls.VERSION))
    return fingerprint_of(normalized_schema(cls, version), version)


# --- words for schema pieces ---------------------------------------------------------------


def type_label(described: Mapping[str, Any]) -> str:
    """A normalized type as people write it: ``list[str]``, ``dict[str, str | None]``."""
    kind = described.get("kind")
    if kind == "nullable":
        return f"{type_label(described['of'])} | None"
    if kind in ("list", "set"):
        return f"{kind}[{type_label(described['item'])}]"
    if kind == "dict":
        return f"dict[str, {type_label(described['value'])}]"
    if kind == "object":
        return str(described.get("name"))
    if kind == "enum":
        return "enum(" + ", ".join(json.dumps(v) for v in described.get("values", [])) + ")"
    return str(kind)


def field_type_label(normalized_field: Mapping[str, Any]) -> str:
    label = type_label(normalized_field["type"])
    return f"{label} | None" if normalized_field.get("nullable") else label


def default_label(normalized_field: Mapping[str, Any]) -> str:
    if not normalized_field.get("has_default"):
        return "no default"
    return json.dumps(normalized_field.get("default"), sort_keys=True)


def signature_label(params: Iterable[Mapping[str, Any]]) -> str:
    """Parameters as a ``def`` line shows them, without annotations."""
    parts: list[str] = []
    saw_positional_only = False
    star_written = False
    for param in params:
        kind = param["kind"]
        if saw_positional_only and kind != "positional_only":
            parts.append("/")
            saw_positional_only = False
        text = str(param["name"])
        if kind == "var_positional":
            text = "*" + text
            star_written = True
        elif kind == "var_keyword":
            text = "**" + text
        elif kind == "keyword_only" and not star_written:
            parts.append("*")
            star_written = True
        if param.get("has_default"):
            text += "=" + json.dumps(param.get("default"), sort_keys=True)
        parts.append(text)
        saw_positional_only = kind == "positional_only"
    if saw_positional_only:
        parts.append("/")
    return "(" + ", ".join(parts) + ")"


# --- diffs ---------------------------------------------------------------------------------

FIELD_ADDED = "field-added"
FIELD_REMOVED = "field-removed"
FIELD_TYPE = "field-type"
FIELD_NULLABLE = "field-nullable"
FIELD_DEFAULT = "field-default"
FIELD_READ_ONLY = "field-read-only"
ENUM_VALUES_ADDED = "enum-values-added"
ENUM_VALUES_REMOVED = "enum-values-removed"
METHOD_ADDED = "method-added"
METHOD_REMOVED = "method-removed"
METHOD_SIGNATURE = "method-signature"
METHOD_KIND = "method-kind"
OBJECT_IDENTITY = "object-identity"

VERSIONED_KINDS = frozenset(
    {
        FIELD_ADDED,
        FIELD_REMOVED,
        ENUM_VALUES_ADDED,
        ENUM_VALUES_REMOVED,
        METHOD_ADDED,
        METHOD_REMOVED,
    }
)
"""Changes that declarations can place at a version (``added=``, ``values_added=``,
:func:`remotable_added`). Every other detail holds for all versions of a major."""


@dataclass(frozen=True, eq=True)
class Change:
    """One difference between two normalized schemas of an object."""

    kind: str
    """One of the ``FIELD_*``, ``ENUM_*``, ``METHOD_*`` constants or ``OBJECT_IDENTITY``."""
    subject: str
    """The field or method concerned ('' for the object itself)."""
    description: str
    """The change in words: ``field 'swap' added (int, default 0)``."""
    additive: bool
    """True when peers of the previous version still understand it (a minor bump)."""
    old: Any = field(default=None, compare=False)
    new: Any = field(default=None, compare=False)
    values: tuple[Any, ...] = ()
    """Enum values added or removed (for the ``ENUM_*`` kinds)."""

    @property
    def bump(self) -> str:
        """``"minor"`` or ``"major"``."""
        return "minor" if self.additive else "major"

    @property
    def versioned(self) -> bool:
        return self.kind in VERSIONED_KINDS

    def key(self) -> str:
        """Identifies the same change seen at two versions of an object."""
        return canonical_json([self.kind, self.subject, self.old, self.new, list(self.values)])

    def advice(self, version: str) -> str | None:
        """What to declare so that this change belongs to ``version``."""
        if self.kind == FIELD_ADDED:
            return f"declare added={version!r} on field {self.subject!r}"
        if self.kind == ENUM_VALUES_ADDED:
            values = {version: list(self.values)}
            return f"declare values_added={values!r} on field {self.subject!r}"
        if self.kind == METHOD_ADDED:
            return f"decorate remotable method {self.subject!r} with @remotable_added({version!r})"
        if self.kind == FIELD_REMOVED:
            return (
                f"keep field {self.subject!r} declared with removed={version!r} to keep its history"
            )
        return None

    def __str__(self) -> str:
        return self.description


def diff_schemas(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """What changed from normalized schema ``old`` to ``new``, in a stable order."""
    changes: list[Change] = []
    for key, what in (
        ("name", "name"),
        ("namespace", "project namespace"),
        ("serial_namespace", "serial namespace"),
        ("format", "fingerprint format"),
    ):
        if old.get(key) != new.get(key):
            changes.append(
                Change(
                    OBJECT_IDENTITY,
                    "",
                    f"{what} changed from {old.get(key)!r} to {new.get(key)!r}",
                    False,
                    old.get(key),
                    new.get(key),
                )
            )
    old_fields: Mapping[str, Any] = old.get("fields", {})
    new_fields: Mapping[str, Any] = new.get("fields", {})
    for name in sorted(old_fields.keys() | new_fields.keys()):
        if name not in new_fields:
            changes.append(
                Change(FIELD_REMOVED, name, f"field {name!r} removed", False, old_fields[name])
            )
        elif name not in old_fields:
            spec = new_fields[name]
            default = f"default {default_label(spec)}" if spec.get("has_default") else "no default"
            text = f"field {name!r} added ({field_type_label(spec)}, {default})"
            changes.append(Change(FIELD_ADDED, name, text, True, None, spec))
        else:
            changes.extend(_diff_field(name, old_fields[name], new_fields[name]))
    old_methods: Mapping[str, Any] = old.get("remotable", {})
    new_methods: Mapping[str, Any] = new.get("remotable", {})
    for name in sorted(old_methods.keys() | new_methods.keys()):
        if name not in new_methods:
            changes.append(
                Change(
                    METHOD_REMOVED,
                    name,
                    f"remotable method {name!r} removed",
                    False,
                    old_methods[name],
                )
            )
        elif name not in old_methods:
            sig = signature_label(new_methods[name]["params"])
            changes.append(
                Change(
                    METHOD_ADDED,
                    name,
                    f"remotable method {name!r}{sig} added",
                    True,
                    None,
                    new_methods[name],
                )
            )
        else:
            changes.extend(_diff_method(name, old_methods[name], new_methods[name]))
    return changes


def _stripenum_values(described: Any) -> Any:
    if isinstance(described, dict):
        return {
            k: ([] if k == "values" and described.get("kind") == "enum" else _stripenum_values(v))
            for k, v in described.items()
        }
    return described


def enum_values(described: Any) -> list[Any]:
    """The enum values inside a normalized type (empty when it has no enum)."""
    if isinstance(described, dict):
        if described.get("kind") == "enum":
            return list(described.get("values", []))
        for value in described.values():
            found = enum_values(value)
            if found:
                return found
    return []


def _diff_field(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out: list[Change] = []
    old_type, new_type = old.get("type"), new.get("type")
    if _stripenum_values(old_type) != _stripenum_values(new_type):
        before, after = type_label(old_type or {}), type_label(new_type or {})
        if before == after:
            before, after = canonical_json(old_type), canonical_json(new_type)
        text = f"field {name!r} changed type from {before} to {after}"
        out.append(Change(FIELD_TYPE, name, text, False, old_type, new_type))
    elif old_type != new_type:
        was, now = enum_values(old_type), enum_values(new_type)
        added = tuple(v for v in now if v not in was)
        removed = tuple(v for v in was if v not in now)
        if added:
            text = f"enum values {list(added)!r} added to field {name!r}"
            out.append(Change(ENUM_VALUES_ADDED, name, text, True, values=added))
        if removed:
            text = f"enum values {list(removed)!r} removed from field {name!r}"
            out.append(Change(ENUM_VALUES_REMOVED, name, text, False, values=removed))
    if bool(old.get("nullable")) != bool(new.get("nullable")):
        now_nullable = bool(new.get("nullable"))
        text = f"field {name!r} is {'now' if now_nullable else 'no longer'} nullable"
        out.append(
            Change(FIELD_NULLABLE, name, text, False, old.get("nullable"), new.get("nullable"))
        )
    old_default = (old.get("has_default"), old.get("default"))
    new_default = (new.get("has_default"), new.get("default"))
    if canonical_json(old_default) != canonical_json(new_default):
        if not old.get("has_default"):
            text = f"field {name!r} now has a default ({default_label(new)})"
        elif not new.get("has_default"):
            text = f"field {name!r} no longer has a default (was {default_label(old)})"
        else:
            text = (
                f"default of field {name!r} changed from {default_label(old)} "
                f"to {default_label(new)}"
            )
        out.append(Change(FIELD_DEFAULT, name, text, True, list(old_default), list(new_default)))
    if bool(old.get("read_only")) != bool(new.get("read_only")):
        now_read_only = bool(new.get("read_only"))
        text = f"field {name!r} is {'now' if now_read_only else 'no longer'} read-only"
        # Loosening is compatible; a field that becomes read-only breaks peers that set it.
        out.append(
            Change(
                FIELD_READ_ONLY,
                name,
                text,
                not now_read_only,
                old.get("read_only"),
                new.get("read_only"),
            )
        )
    return out


def _diff_method(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out: list[Change] = []
    if old.get("kind") != new.get("kind"):
        text = f"remotable method {name!r} changed from {old.get('kind')} to {new.get('kind')}"
        out.append(Change(METHOD_KIND, name, text, False, old.get("kind"), new.get("kind")))
    old_params, new_params = old.get("params", []), new.get("params", [])
    if canonical_json(old_params) != canonical_json(new_params):
        text = (
            f"signature of remotable method {name!r} changed from "
            f"{signature_label(old_params)} to {signature_label(new_params)}"
        )
        additive = _signature_extends(old_params, new_params)
        out.append(Change(METHOD_SIGNATURE, name, text, additive, old_params, new_params))
    return out


_POSITIONAL = ("positional_only", "positional_or_keyword")
_VARIADIC = ("var_positional", "var_keyword")


def _signature_extends(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    """True when every call valid against ``old`` is valid against ``new``, meaning the
    same: old parameters kept (same kind, still defaulted if they were), positional
    order kept, and every new parameter optional."""
    new_by_name = {p["name"]: p for p in new}
    for param in old:
        match = new_by_name.get(param["name"])
        if match is None or match["kind"] != param["kind"]:
            return False
        if param.get("has_default") and not match.get("has_default"):
            return False
    old_positional = [p["name"] for p in old if p["kind"] in _POSITIONAL]
    new_positional = [p["name"] for p in new if p["kind"] in _POSITIONAL]
    if new_positional[: len(old_positional)] != old_positional:
        return False
    old_names = {p["name"] for p in old}
    return all(
        p.get("has_default") or p["kind"] in _VARIADIC for p in new if p["name"] not in old_names
    )


__all__ = [
    "FORMAT",
    "Change",
    "canonical_json",
    "canonical_value",
    "default_label",
    "diff_schemas",
    "field_type_label",
    "fingerprint",
    "fingerprint_of",
    "normalized_schema",
    "remotable_added",
    "signature_label",
    "type_label",
]
