"""Canonical fingerprints of object versions. ``lockfile.py`` keeps them;
``schema_diff.py`` says what changed between two of them.

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
from collections.abc import Callable, Mapping
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


__all__ = [
    "FORMAT",
    "canonical_json",
    "canonical_value",
    "fingerprint",
    "fingerprint_of",
    "normalized_schema",
    "remotable_added",
]
