"""What changed between two normalized schemas of an object (``fingerprint.py``), in
words, with the version bump each change needs; and the words for schema pieces
(``list[str]``, a default, a method signature) that those descriptions and the CLI use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .fingerprint import canonical_json

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
    "ENUM_VALUES_ADDED",
    "ENUM_VALUES_REMOVED",
    "FIELD_ADDED",
    "FIELD_DEFAULT",
    "FIELD_NULLABLE",
    "FIELD_READ_ONLY",
    "FIELD_REMOVED",
    "FIELD_TYPE",
    "METHOD_ADDED",
    "METHOD_KIND",
    "METHOD_REMOVED",
    "METHOD_SIGNATURE",
    "OBJECT_IDENTITY",
    "VERSIONED_KINDS",
    "Change",
    "default_label",
    "diff_schemas",
    "enum_values",
    "field_type_label",
    "signature_label",
    "type_label",
]
