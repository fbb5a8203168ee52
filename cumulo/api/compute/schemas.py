"""Request bodies of the flavor routes, as Nova's schemas declare them, one per
microversion range (the microversion a key names is the first that accepts it)."""

from __future__ import annotations

from typing import Any

from ..validation import Schema
from .microversions import DESCRIPTION, Change, Microversion, since

NAME: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^(?! )[^\x00-\x1f\x7f]*(?<! )$",
}
FLAVOR_ID: dict[str, Any] = {
    "type": ["string", "null"],
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$",
}
POSITIVE_INTEGER: dict[str, Any] = {
    "type": ["integer", "string"],
    "pattern": r"^[0-9]+$",
    "minimum": 1,
    "maximum": 2147483647,
}
NON_NEGATIVE_INTEGER: dict[str, Any] = {
    "type": ["integer", "string"],
    "pattern": r"^[0-9]+$",
    "minimum": 0,
    "maximum": 2147483647,
}
DESCRIPTION_TEXT: dict[str, Any] = {
    "type": ["string", "null"],
    "maxLength": 65535,
    "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
}
SPEC_KEY = r"^[a-zA-Z0-9-_:. ]{1,255}$"
SPEC_VALUE: dict[str, Any] = {"type": ["string", "number", "boolean"], "maxLength": 255}


def _envelope(key: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            key: {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            }
        },
        "required": [key],
        "additionalProperties": False,
    }


_CREATE_2_1: dict[str, Any] = {
    "name": NAME,
    "id": FLAVOR_ID,
    "ram": POSITIVE_INTEGER,
    "vcpus": POSITIVE_INTEGER,
    "disk": NON_NEGATIVE_INTEGER,
    "OS-FLV-EXT-DATA:ephemeral": NON_NEGATIVE_INTEGER,
    "swap": {"anyOf": [NON_NEGATIVE_INTEGER, {"const": ""}]},
    "rxtx_factor": {
        "type": ["number", "string"],
        "pattern": r"^[0-9]+(\.[0-9]+)?$",
        "exclusiveMinimum": 0,
        "maximum": 3.40282e38,
    },
    "os-flavor-access:is_public": {"type": "boolean"},
}
_REQUIRED = ["name", "ram", "vcpus", "disk"]

CREATE: tuple[tuple[Change | None, Schema], ...] = (
    (
        DESCRIPTION,
        Schema(_envelope("flavor", {**_CREATE_2_1, "description": DESCRIPTION_TEXT}, _REQUIRED)),
    ),
    (None, Schema(_envelope("flavor", _CREATE_2_1, _REQUIRED))),
)
"""``POST /flavors``, newest first: the first whose change the request sees."""

UPDATE = Schema(_envelope("flavor", {"description": DESCRIPTION_TEXT}, ["description"]))
"""``PUT /flavors/{flavor_id}`` (from 2.55)."""

EXTRA_SPECS = Schema(
    {
        "type": "object",
        "properties": {
            "extra_specs": {
                "type": "object",
                "patternProperties": {SPEC_KEY: SPEC_VALUE},
                "additionalProperties": False,
            }
        },
        "required": ["extra_specs"],
        "additionalProperties": False,
    }
)
"""``POST /flavors/{flavor_id}/os-extra_specs``."""

ONE_EXTRA_SPEC = Schema(
    {
        "type": "object",
        "patternProperties": {SPEC_KEY: SPEC_VALUE},
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
    }
)
"""``PUT /flavors/{flavor_id}/os-extra_specs/{key}``: ``{key: value}``."""


def for_version(schemas: tuple[tuple[Change | None, Schema], ...], version: Microversion) -> Schema:
    for change, schema in schemas:
        if change is None or since(version, change):
            return schema
    raise LookupError(f"no schema for {version}")
