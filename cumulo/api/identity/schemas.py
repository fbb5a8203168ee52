"""JSON Schema fragments the identity routes share (Keystone's limits)."""

from __future__ import annotations

from typing import Any

from cumulo.identity.passwords import MAX_PASSWORD_LENGTH

ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"}
DESCRIPTION: dict[str, Any] = {"type": ["string", "null"], "maxLength": 65535}
ENABLED: dict[str, Any] = {"type": "boolean"}
PASSWORD: dict[str, Any] = {"type": "string", "maxLength": MAX_PASSWORD_LENGTH}
NULLABLE_ID: dict[str, Any] = {"type": ["string", "null"], "maxLength": 64}
EMAIL: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
NO_OPTIONS: dict[str, Any] = {"type": "object", "maxProperties": 0}
"""Keystone's resource options: none are supported, an empty object is accepted."""


def body(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    """``{"<key>": schema}``, the envelope of every identity request body."""
    return {
        "type": "object",
        "properties": {key: schema},
        "required": [key],
        "additionalProperties": False,
    }


def obj(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
        **extra,
    }
