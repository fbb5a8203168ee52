"""``image_meta_of``: the ``ImageMeta`` object a server create sends the conductor
(and so the compute host's driver) for a catalog image. The image's properties
are strings; those that are ``ImageMetaProps`` fields (``hw_disk_bus``,
``hw_vif_model``, ``hw_machine_type``...) become typed values, and one the object
refuses is a 400 naming the property and the image."""

from __future__ import annotations

import uuid
from contextlib import suppress
from datetime import datetime
from typing import Any

from cumulo.image import Image
from cumulo.model import ImageMeta, ImageMetaProps
from cumulo.model.hardware import ContainerFormat, DiskFormat
from cumulo.objects.exceptions import FieldValueError

from ..errors import BadRequest

TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
FALSE = frozenset({"0", "f", "false", "off", "n", "no"})
"""The spellings of a boolean property (oslo's ``bool_from_string``)."""


def _typed(image: Image, name: str, text: str) -> Any:
    """``text`` as the value ``ImageMetaProps.<name>`` takes: tried as the string,
    an integer, then a boolean."""
    candidates: list[Any] = [text]
    with suppress(ValueError):
        candidates.append(int(text))
    if text.strip().lower() in TRUE | FALSE:
        candidates.append(text.strip().lower() in TRUE)
    problem = ""
    for candidate in candidates:
        try:
            ImageMetaProps(**{name: candidate})
        except FieldValueError as exc:
            problem = problem or str(exc).split(" - at ")[0]
            continue
        return candidate
    raise BadRequest(f"Invalid image property {name}={text[:64]!r} of image {image.id}: {problem}.")


def _created(image: Image) -> datetime | None:
    try:
        return datetime.fromisoformat(image.created_at.replace("Z", "+00:00"))
    except ValueError:
        return None


def image_meta_of(image: Image) -> ImageMeta:
    """``image`` as the drivers receive it (see the module docstring)."""
    known = ImageMetaProps.obj_fields()
    props = {
        name: _typed(image, name, value)
        for name, value in sorted(image.properties.items())
        if name in known
    }
    return ImageMeta(
        id=uuid.UUID(image.id),
        name=image.name or "",
        container_format=ContainerFormat(image.container_format or ContainerFormat.BARE),
        disk_format=DiskFormat(image.disk_format or DiskFormat.RAW),
        size=image.size or 0,
        virtual_size=image.virtual_size,
        min_ram=image.min_ram,
        min_disk=image.min_disk,
        checksum=image.checksum,
        created_at=_created(image),
        properties=ImageMetaProps(**props),
    )
