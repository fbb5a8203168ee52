"""JSON Schema (draft 2020-12) of an object's wire envelope at any version of its history.

The schema describes exactly what a peer at that version reads: the fields that
existed then, the enum values allowed then, and child objects at the versions a
manifest names, each child one ``$defs`` entry keyed ``"<Name>-<X.Y>"``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from . import versions
from .base import VersionedObject
from .exceptions import ObjectDeclarationError
from .fields import FieldSpec
from .fingerprint import canonical_value
from .history import check_version_in_history, fields_at
from .types import (
    DictType,
    EnumType,
    FieldType,
    ListType,
    NullableType,
    ObjectType,
    SetType,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(
    cls: type[VersionedObject],
    version: str | None = None,
    manifest: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON Schema of ``cls``'s envelope at ``version``.

    ``version`` defaults to ``manifest[name]`` when the manifest names ``cls``,
    else to the current version; child objects take the version the manifest
    names, else their current one. The root refers to its own ``$defs`` entry,
    so every object, the root included, is described once.
    """
    manifest = dict(manifest or {})
    if version is None:
        version = manifest.get(cls.obj_name(), cls.VERSION)
    version = versions.fmt(versions.parse(version))
    defs: dict[str, Any] = {}
    root = _define(cls, version, manifest, defs)
    return {
        "$schema": DRAFT,
        "title": f"{cls.obj_name()} {version}",
        "$ref": f"#/$defs/{root}",
        "$defs": dict(sorted(defs.items())),
    }


def _define(
    cls: type[VersionedObject],
    version: str,
    manifest: Mapping[str, str],
    defs: dict[str, Any],
) -> str:
    key = f"{cls.obj_name()}-{version}"
    if key in defs:
        return key
    cls.obj_fields()
    check_version_in_history(cls, version)
    defs[key] = {}  # reserve the key before visiting children
    at = versions.parse(version)

    def ref(child: type[VersionedObject]) -> dict[str, Any]:
        wanted = manifest.get(child.obj_name(), child.VERSION)
        wanted = versions.fmt(versions.parse(wanted))
        if versions.parse(wanted)[0] != versions.parse(child.VERSION)[0]:
            raise ObjectDeclarationError(
                f"manifest asks for {child.obj_name()} {wanted}, but this process only "
                f"knows {child.obj_name()} {child.VERSION} (another major version)"
            )
        return {"$ref": f"#/$defs/{_define(child, wanted, manifest, defs)}"}

    specs = fields_at(cls, version)
    properties = {name: _field_schema(spec, at, ref) for name, spec in specs.items()}
    sns = cls.OBJ_SERIAL_NAMESPACE
    changes_item: dict[str, Any] | bool = {"enum": list(specs)} if specs else False
    definition: dict[str, Any] = {
        "title": f"{cls.obj_name()} {version}",
        "type": "object",
        "properties": {
            f"{sns}.name": {"const": cls.obj_name()},
            f"{sns}.namespace": {"const": cls.OBJ_PROJECT_NAMESPACE},
            f"{sns}.version": {"const": version},
            f"{sns}.data": {
                "type": "object",
                "properties": properties,
                "additionalProperties": False,
            },
            f"{sns}.changes": {"type": "array", "items": changes_item},
        },
        "required": [f"{sns}.name", f"{sns}.namespace", f"{sns}.version", f"{sns}.data"],
        "additionalProperties": False,
    }
    own_doc = cls.__dict__.get("__doc__")
    if isinstance(own_doc, str) and own_doc.strip():
        first_paragraph = inspect.cleandoc(own_doc).split("\n\n", 1)[0]
        definition["description"] = " ".join(first_paragraph.split())
    defs[key] = definition
    return key


def _field_schema(spec: FieldSpec, at: versions.Version, ref: Any) -> dict[str, Any]:
    out = _type_schema(spec.type, spec.values_at(at), ref)
    if spec.read_only:
        out["readOnly"] = True
    if spec.has_default and not spec.type.has_objects:
        default = canonical_value(spec.make_default())
        allowed = spec.values_at(at)
        if allowed is None or all(v is None or v in allowed for v in _leaves(default)):
            out["default"] = default  # left out when this version could not hold it
    return out


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value]


def _type_schema(ftype: FieldType, allowed: frozenset[Any] | None, ref: Any) -> dict[str, Any]:
    """``ftype.json_schema`` with enum values limited to ``allowed`` at every depth."""
    if isinstance(ftype, EnumType):
        values = [v for v in ftype.values if allowed is None or v in allowed]
        return {"enum": values}
    if isinstance(ftype, NullableType):
        return {"anyOf": [_type_schema(ftype.inner, allowed, ref), {"type": "null"}]}
    if isinstance(ftype, ListType):
        return {"type": "array", "items": _type_schema(ftype.item, allowed, ref)}
    if isinstance(ftype, SetType):
        return {
            "type": "array",
            "uniqueItems": True,
            "items": _type_schema(ftype.item, allowed, ref),
        }
    if isinstance(ftype, DictType):
        return {"type": "object", "additionalProperties": _type_schema(ftype.value, allowed, ref)}
    if isinstance(ftype, ObjectType):
        result: dict[str, Any] = ref(ftype.cls)
        return result
    return ftype.json_schema(ref)


__all__ = ["DRAFT", "json_schema"]
