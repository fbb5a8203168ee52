"""An image update as Glance takes it: a JSON patch whose operations (``add``,
``replace``, ``remove``) name one attribute each (``/name``, ``/visibility``,
``/min_disk``, ``/min_ram``, ``/protected``, ``/tags``, ``/disk_format`` and
``/container_format`` while no data is uploaded, or an extra ``/<property>``).
Every operation is checked before any is applied; the service's own attributes
(``/id``, ``/status``, ``/checksum``...) are refused with 403 as Glance does."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cumulo.image import Image

from ..errors import BadRequest, Conflict, Forbidden
from . import schemas

UNTIL_UPLOADED = frozenset({"disk_format", "container_format"})
"""Attributes that describe the data: settable only while there is none."""


@dataclass(frozen=True)
class Operation:
    op: str
    name: str
    value: Any = None


def _attribute(path: str) -> str:
    """``/hw_disk_bus`` → ``hw_disk_bus`` (JSON pointer escapes decoded); a nested
    path is refused: every attribute is top-level."""
    parts = path[1:].split("/")
    if len(parts) != 1 or not parts[0]:
        raise BadRequest(f"Invalid JSON pointer for this resource: '{path[:64]}'")
    return parts[0].replace("~1", "/").replace("~0", "~")


def parse(body: Any, check_property_name: Callable[[str], None]) -> Changes:
    """The operations of ``body`` (already checked against ``schemas.PATCH``)."""
    operations = []
    for raw in body:
        op, name = raw["op"], _attribute(raw["path"])
        if name in schemas.READ_ONLY:
            raise Forbidden(f"Attribute '{name}' is read-only.")
        if op != "remove" and "value" not in raw:
            raise BadRequest(f"Operation '{op}' on /{name} needs a value.")
        value = raw.get("value")
        if name in schemas.ATTRIBUTES:
            if op == "remove":
                raise Forbidden(f"Attribute '{name}' cannot be removed.")
            schemas.VALUES[name].validate({name: value})
        else:
            check_property_name(name)
            if op != "remove":
                schemas.PROPERTY_VALUE.validate({name: value})
        operations.append(Operation(op, name, value))
    return Changes(tuple(operations))


@dataclass(frozen=True)
class Changes:
    operations: tuple[Operation, ...]

    def publicizes(self) -> bool:
        return any(o.name == "visibility" and o.value == "public" for o in self.operations)

    def apply(self, image: Image) -> Image:
        """``image`` with every operation applied, in order (run under the catalog's
        lock, on the current metadata)."""
        core: dict[str, Any] = {}
        properties = dict(image.properties)
        for operation in self.operations:
            name = operation.name
            if name in schemas.ATTRIBUTES:
                if name in UNTIL_UPLOADED and image.status != "queued":
                    raise Forbidden(
                        f"Attribute '{name}' can only be changed while the image is queued."
                    )
                if name == "os_hidden":
                    continue  # accepted, never set: Cumulo hides no image
                core[name] = tuple(operation.value) if name == "tags" else operation.value
            elif operation.op == "remove":
                if properties.pop(name, None) is None:
                    raise Conflict(f"Property {name} does not exist.")
            elif operation.op == "replace" and name not in properties:
                raise Conflict(f"Property {name} does not exist.")
            else:
                properties[name] = operation.value
        return dataclasses.replace(image, **core, properties=properties)
