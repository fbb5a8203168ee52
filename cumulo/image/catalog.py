"""``ImageCatalog``: the images of a directory, read-only to the API. Each image is
a disk file named by its id (what the QEMU driver boots: its ``images_path/<ref>``)
beside ``<id>.json``, its metadata; :func:`add_image` writes both, computing the
checksums once so that listing never reads a disk."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

QCOW2_MAGIC = b"QFI\xfb"
CHUNK = 1 << 20


class ImageError(Exception):
    """Root of the image catalog's errors."""


class ImageNotFound(ImageError, LookupError):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"No image found with ID {image_id}")
        self.image_id = image_id


@dataclass(frozen=True)
class Image:
    """One image's metadata, as ``<id>.json`` keeps it."""

    id: str
    name: str
    disk_format: str
    container_format: str
    size: int
    checksum: str
    """MD5 of the disk, as Glance's ``checksum``."""
    os_hash_value: str
    """SHA-512 of the disk (``os_hash_algo`` is always ``sha512``)."""
    created_at: str
    updated_at: str
    min_disk: int = 0
    """GiB the root disk needs at least."""
    min_ram: int = 0
    """MiB of memory the guest needs at least."""
    visibility: str = "public"
    protected: bool = False
    owner: str | None = None
    status: str = "active"
    tags: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Image:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["tags"] = tuple(known.get("tags", ()))
        return cls(**known)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data


def disk_format_of(path: Path) -> str:
    """``qcow2`` when the file starts with QEMU's qcow magic, else ``raw``."""
    with path.open("rb") as disk:
        return "qcow2" if disk.read(4) == QCOW2_MAGIC else "raw"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ImageCatalog:
    """The images of ``directory`` (``None``: a catalog with none)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def images(self) -> list[Image]:
        """Every image whose metadata and disk are both there, oldest first."""
        if self.directory is None or not self.directory.is_dir():
            return []
        found = []
        for meta in self.directory.glob("*.json"):
            image = self._read(meta)
            if image is not None:
                # Glance's timestamps are to the second: the metadata's write time
                # orders the images added within one.
                found.append(((image.created_at, meta.stat().st_mtime_ns, image.id), image))
        return [image for _, image in sorted(found, key=lambda pair: pair[0])]

    def get(self, image_id: str) -> Image:
        """The image ``image_id``; raises :class:`ImageNotFound`."""
        if self.directory is not None and _is_uuid(image_id):
            image = self._read(self.directory / f"{image_id}.json")
            if image is not None:
                return image
        raise ImageNotFound(image_id)

    def data_path(self, image: Image) -> Path | None:
        """The file holding ``image``'s data, or ``None`` when it has none (yet)."""
        if self.directory is None or image.status != "active":
            return None
        path = self.directory / image.id
        return path if path.is_file() else None

    def find(self, name: str) -> list[Image]:
        return [image for image in self.images() if image.name == name]

    def _read(self, meta: Path) -> Image | None:
        # A half-written or foreign file is not an image: skip it rather than fail
        # every listing.
        try:
            image = Image.from_json(json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        if image.id != meta.stem:
            return None
        # Only an active image has data; one whose disk is gone is not listed.
        if image.status == "active" and not (meta.parent / image.id).is_file():
            return None
        return image


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def add_image(
    directory: Path,
    name: str,
    disk: Path,
    *,
    image_id: str | None = None,
    container_format: str = "bare",
    min_disk: int = 0,
    min_ram: int = 0,
    visibility: str = "public",
    protected: bool = False,
    owner: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> Image:
    """Move ``disk`` into the catalog as a new image named ``name``; its format is
    sniffed and its checksums computed here. The metadata is written last (and
    atomically), so a reader never sees an image whose disk is incomplete."""
    directory.mkdir(parents=True, exist_ok=True)
    image_id = image_id or str(uuid.uuid4())
    target = directory / image_id
    os.replace(disk, target)
    md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
    with target.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            md5.update(chunk)
            sha512.update(chunk)
    now = _timestamp(datetime.now(UTC))
    image = Image(
        id=image_id,
        name=name,
        disk_format=disk_format_of(target),
        container_format=container_format,
        size=target.stat().st_size,
        checksum=md5.hexdigest(),
        os_hash_value=sha512.hexdigest(),
        created_at=now,
        updated_at=now,
        min_disk=min_disk,
        min_ram=min_ram,
        visibility=visibility,
        protected=protected,
        owner=owner,
        properties=dict(properties or {}),
    )
    partial = directory / f".{image_id}.json.tmp"
    partial.write_text(json.dumps(image.to_json(), indent=2), encoding="utf-8")
    os.replace(partial, directory / f"{image_id}.json")
    return image
