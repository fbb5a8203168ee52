"""Request bodies of the ``/servers`` routes as Nova's schemas declare them, one per
microversion range, built from the changes that shaped them (newest first: the
first whose change a request sees applies)."""

from __future__ import annotations

from typing import Any

from ..validation import Schema
from .microversions import (
    NETWORKS_REQUIRED,
    PERSONALITY_REMOVED,
    SERVER_DESCRIPTION,
    TAGS_AT_CREATE,
    Change,
)
from .schemas import DESCRIPTION_TEXT, NAME

UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
SERVER_NAME: dict[str, Any] = {**NAME, "pattern": r"^[^\x00-\x1f\x7f]*$"}
"""Nova allows leading and trailing spaces in server names (it strips them)."""
METADATA: dict[str, Any] = {
    "type": "object",
    "patternProperties": {
        r"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}
TAG: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": r"^[^,/]*$"}
TAGS: dict[str, Any] = {"type": "array", "items": TAG, "maxItems": 50}
COUNT: dict[str, Any] = {
    "type": ["integer", "string"],
    "pattern": r"^[0-9]*$",
    "minimum": 1,
    "minLength": 1,
}
IP_V4: dict[str, Any] = {"type": "string", "format": "ipv4"}
IP_V6: dict[str, Any] = {"type": "string", "format": "ipv6"}
DISK_CONFIG: dict[str, Any] = {"type": "string", "enum": ["AUTO", "MANUAL"]}

_NETWORK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "uuid": {"type": "string"},
        "fixed_ip": {"type": "string", "oneOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
        "port": {"type": ["string", "null"], "format": "uuid"},
        "tag": TAG,
    },
    "additionalProperties": False,
}
_NETWORKS_LIST: dict[str, Any] = {"type": "array", "items": _NETWORK}
_NETWORKS_AUTO_NONE: dict[str, Any] = {"type": "string", "enum": ["auto", "none"]}

_BDM_V2: dict[str, Any] = {
    "type": "object",
    "properties": {
        "uuid": {"type": "string", "pattern": r"^[a-zA-Z0-9._-]*$", "maxLength": 255},
        "image_id": UUID,
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "destination_type": {"type": "string", "enum": ["local", "volume"]},
        "guest_format": {"type": "string", "maxLength": 255},
        "device_type": {"type": "string", "maxLength": 255},
        "disk_bus": {"type": "string", "maxLength": 255},
        "boot_index": {"type": ["integer", "string", "null"], "pattern": r"^-?[0-9]+$"},
        "device_name": {"type": "string", "maxLength": 255},
        "delete_on_termination": {"type": ["boolean", "string"]},
        "volume_size": {"type": ["integer", "string", "null"], "pattern": r"^[0-9]+$"},
        "no_device": {},
        "connection_info": {"type": "string", "maxLength": 16777215},
        "tag": TAG,
    },
    "additionalProperties": False,
}

_PERSONALITY: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "path": {"type": "string", "minLength": 1, "maxLength": 255},
            "contents": {"type": "string", "format": "base64", "maxLength": 65535},
        },
        "required": ["path", "contents"],
        "additionalProperties": False,
    },
}

_CREATE_2_1: dict[str, Any] = {
    "name": SERVER_NAME,
    "imageRef": {"anyOf": [UUID, {"type": "string", "maxLength": 0}]},
    "flavorRef": {"type": ["string", "integer"], "minLength": 1},
    "adminPass": {"type": "string"},
    "metadata": METADATA,
    "networks": {"anyOf": [_NETWORKS_LIST, _NETWORKS_AUTO_NONE]},
    "OS-DCF:diskConfig": DISK_CONFIG,
    "accessIPv4": IP_V4,
    "accessIPv6": IP_V6,
    "personality": _PERSONALITY,
    "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
    "block_device_mapping_v2": {"type": "array", "items": _BDM_V2},
    "config_drive": {"type": ["boolean", "string"]},
    "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
    "min_count": COUNT,
    "max_count": COUNT,
    "return_reservation_id": {"type": ["boolean", "string"]},
    "security_groups": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
            "additionalProperties": False,
        },
    },
    "user_data": {"type": "string", "format": "base64", "maxLength": 65535},
}


def _create(properties: dict[str, Any], required: list[str]) -> Schema:
    return Schema(
        {
            "type": "object",
            "properties": {
                "server": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": False,
                },
                "os:scheduler_hints": {"type": "object"},
                "OS-SCH-HNT:scheduler_hints": {"type": "object"},
            },
            "required": ["server"],
            "additionalProperties": False,
        }
    )


_CREATE_2_19 = {**_CREATE_2_1, "description": DESCRIPTION_TEXT}
_CREATE_2_52 = {**_CREATE_2_19, "tags": TAGS}
_CREATE_2_57 = {k: v for k, v in _CREATE_2_52.items() if k != "personality"}

CREATE: tuple[tuple[Change | None, Schema], ...] = (
    (PERSONALITY_REMOVED, _create(_CREATE_2_57, ["name", "flavorRef", "networks"])),
    (TAGS_AT_CREATE, _create(_CREATE_2_52, ["name", "flavorRef", "networks"])),
    (NETWORKS_REQUIRED, _create(_CREATE_2_19, ["name", "flavorRef", "networks"])),
    (SERVER_DESCRIPTION, _create(_CREATE_2_19, ["name", "flavorRef"])),
    (None, _create(_CREATE_2_1, ["name", "flavorRef"])),
)
"""``POST /servers``."""

_UPDATE_2_1: dict[str, Any] = {
    "name": SERVER_NAME,
    "accessIPv4": IP_V4,
    "accessIPv6": IP_V6,
    "OS-DCF:diskConfig": DISK_CONFIG,
}


def _update(properties: dict[str, Any]) -> Schema:
    return Schema(
        {
            "type": "object",
            "properties": {
                "server": {
                    "type": "object",
                    "properties": properties,
                    "additionalProperties": False,
                }
            },
            "required": ["server"],
            "additionalProperties": False,
        }
    )


UPDATE: tuple[tuple[Change | None, Schema], ...] = (
    (SERVER_DESCRIPTION, _update({**_UPDATE_2_1, "description": DESCRIPTION_TEXT})),
    (None, _update(_UPDATE_2_1)),
)
"""``PUT /servers/{server_id}``."""

METADATA_BODY = Schema(
    {
        "type": "object",
        "properties": {"metadata": METADATA},
        "required": ["metadata"],
        "additionalProperties": False,
    }
)
"""``PUT`` and ``POST /servers/{server_id}/metadata``."""

META_ITEM = Schema(
    {
        "type": "object",
        "properties": {
            "meta": {**METADATA, "minProperties": 1, "maxProperties": 1},
        },
        "required": ["meta"],
        "additionalProperties": False,
    }
)
"""``PUT /servers/{server_id}/metadata/{key}``."""

TAGS_BODY = Schema(
    {
        "type": "object",
        "properties": {"tags": TAGS},
        "required": ["tags"],
        "additionalProperties": False,
    }
)
"""``PUT /servers/{server_id}/tags``."""

TAG_VALUE = Schema(TAG)
"""The ``{tag}`` of ``PUT /servers/{server_id}/tags/{tag}``."""
