"""The request bodies of the volume routes (Cinder's fields; what this subset cannot
do is refused by name rather than ignored)."""

from __future__ import annotations

from typing import Any

from ..validation import Schema

SIZE: dict[str, Any] = {
    "type": ["integer", "string"],
    "pattern": r"^[0-9]+$",
    "minimum": 1,
    "maximum": 2147483647,
}
"""A size in GiB: Cinder takes ``1`` and ``"1"``."""
NAME: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
UUID_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "format": "uuid"}

CREATE = Schema(
    {
        "type": "object",
        "properties": {
            "volume": {
                "type": "object",
                "properties": {
                    "size": {**SIZE, "type": ["integer", "string", "null"]},
                    "name": NAME,
                    "description": NAME,
                    "display_name": NAME,
                    "display_description": NAME,
                    "imageRef": UUID_OR_NULL,
                    "image_id": UUID_OR_NULL,
                    "volume_type": {"type": ["string", "null"], "maxLength": 255},
                    "availability_zone": {"type": ["string", "null"], "maxLength": 255},
                    "metadata": {"type": ["object", "null"], "maxProperties": 0},
                    "snapshot_id": {"type": "null"},
                    "source_volid": {"type": "null"},
                    "backup_id": {"type": "null"},
                    "consistencygroup_id": {"type": "null"},
                    "group_id": {"type": "null"},
                    "scheduler_hints": {"type": ["object", "null"]},
                    "multiattach": {"type": "boolean", "const": False},
                },
                # The clients send more than a volume needs (OSC: every key, null);
                # those left out here cannot change anything.
                "additionalProperties": True,
            },
            "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]},
        },
        "required": ["volume"],
        "additionalProperties": False,
    }
)
"""``POST volumes``. Metadata, snapshots, clones, backups, groups and multi-attach
are not part of this subset: a value for them is a 400 naming the field."""

UPDATE = Schema(
    {
        "type": "object",
        "properties": {
            "volume": {
                "type": "object",
                "properties": {
                    "name": NAME,
                    "description": NAME,
                    "display_name": NAME,
                    "display_description": NAME,
                },
                "additionalProperties": False,
                "minProperties": 1,
            }
        },
        "required": ["volume"],
        "additionalProperties": False,
    }
)
"""``PUT volumes/{id}``: a new name and/or description."""

ACTION = Schema(
    {
        "type": "object",
        "properties": {
            "os-extend": {
                "type": "object",
                "properties": {"new_size": SIZE},
                "required": ["new_size"],
                "additionalProperties": False,
            }
        },
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
        "description": "one action, os-extend",
    }
)
"""``POST volumes/{id}/action``: the one action this subset has."""
