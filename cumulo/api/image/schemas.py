"""The image request bodies: ``POST /v2/images`` and the values a JSON patch may set,
with the attributes no request may set (Glance answers 403 for those)."""

from __future__ import annotations

from typing import Any

from cumulo.model.hardware import ContainerFormat, DiskFormat

from ..validation import Schema

DISK_FORMATS = tuple(f.value for f in DiskFormat)
CONTAINER_FORMATS = tuple(f.value for f in ContainerFormat)
VISIBILITIES = ("public", "private")
"""What an image's visibility may be set to (Glance's ``shared`` and ``community``
need image members, which Cumulo has not)."""

READ_ONLY = frozenset(
    {
        "id",
        "status",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "size",
        "virtual_size",
        "created_at",
        "updated_at",
        "owner",
        "file",
        "self",
        "schema",
        "direct_url",
        "locations",
        "created_ns",
    }
)
"""Attributes the service sets (``id`` only at create)."""

NAME: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
SIZE: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
TAGS: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": 255},
    "maxItems": 128,
    "uniqueItems": True,
}
PROPERTY: dict[str, Any] = {"type": "string", "maxLength": 255}
PROPERTY_NAME = r"^[A-Za-z0-9_:.\-]{1,255}$"

ATTRIBUTES: dict[str, dict[str, Any]] = {
    "name": NAME,
    # null until known, as Glance allows: the upload needs both set.
    "disk_format": {"enum": [*DISK_FORMATS, None]},
    "container_format": {"enum": [*CONTAINER_FORMATS, None]},
    "visibility": {"enum": list(VISIBILITIES)},
    "min_disk": SIZE,
    "min_ram": SIZE,
    "protected": {"type": "boolean"},
    "os_hidden": {"type": "boolean"},
    "tags": TAGS,
}
"""The core attributes a client sets, and their values."""

CREATE = Schema(
    {
        "type": "object",
        "properties": {"id": {"type": "string", "format": "uuid"}, **ATTRIBUTES},
        "additionalProperties": PROPERTY,
    }
)

PATCH = Schema(
    {
        "type": "array",
        "maxItems": 500,
        "items": {
            "type": "object",
            "properties": {
                "op": {"enum": ["add", "replace", "remove"]},
                "path": {"type": "string", "pattern": "^/", "maxLength": 260},
                "value": {},
            },
            "required": ["op", "path"],
            "additionalProperties": False,
        },
    }
)
"""A JSON patch (``application/openstack-images-v2.1-json-patch``); each value is
checked against its attribute's schema afterwards."""

VALUES = {
    name: Schema({"type": "object", "properties": {name: schema}})
    for name, schema in ATTRIBUTES.items()
}
"""One attribute's value, checked as ``{name: value}`` so that an error names it."""
PROPERTY_VALUE = Schema({"type": "object", "additionalProperties": PROPERTY})
