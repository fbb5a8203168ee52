"""``ImageCatalog``: the images of a directory. Each image is ``<id>.json``, its
metadata, beside ``<id>``, its data (what the QEMU driver boots: its
``images_path/<ref>``) once it has any.

Several API workers (gunicorn processes) share one directory, so every change is
a read-modify-write under an exclusive ``flock`` on ``.lock``, and every file is
written beside its final name and renamed into place: a reader never sees half a
file, and listing needs no lock. An upload streams into a hidden temporary file
outside the lock (it can take minutes) and takes the lock only to flip the image's
status and to move the finished file in (a dead worker's file is removed an hour
after its last write). :func:`add_image` is the operator's (and
the all-in-one's) shortcut: a disk file becomes an active image at once."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

QCOW2_MAGIC = b"QFI\xfb"
CHUNK = 1 << 20
LOCK_NAME = ".lock"
UPLOAD_PREFIX = ".upload-"
STALE_UPLOAD_SECONDS = 3600.0
"""An upload's temporary file unwritten for this long belongs to a dead worker."""


class ImageError(Exception):
    """Root of the image catalog's errors."""


class ImageNotFound(ImageError, LookupError):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"No image found with ID {image_id}")
        self.image_id = image_id


class ImageConflict(ImageError):
    """The image is not in a state that allows the change (upload to an active image)."""


class ImageRejected(ImageError):
    """The uploaded data is not acceptable (not the declared format, a backing file...)."""


class ImageTooLarge(ImageError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Image exceeds the storage quota: at most {limit} bytes are accepted.")
        self.limit = limit


class UploadIncomplete(ImageError):
    """The client sent less than it declared (or the connection dropped)."""


@dataclass(frozen=True)
class Image:
    """One image's metadata, as ``<id>.json`` keeps it."""

    id: str
    name: str | None
    disk_format: str | None
    container_format: str | None
    size: int | None
    checksum: str | None
    """MD5 of the data, as Glance's ``checksum`` (``None`` until uploaded)."""
    os_hash_value: str | None
    """SHA-512 of the data (``os_hash_algo`` is always ``sha512``)."""
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
    virtual_size: int | None = None
    """Bytes the guest sees (``qemu-img info``'s ``virtual-size``)."""
    created_ns: int = 0
    """The creation time in nanoseconds: orders the images created within one of
    ``created_at``'s seconds (not shown by the API)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Image:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["tags"] = tuple(known.get("tags", ()))
        return cls(**known)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True)
class Received:
    """What an upload wrote: the temporary file and its size and checksums."""

    path: Path
    size: int
    checksum: str
    os_hash_value: str


def disk_format_of(path: Path) -> str:
    """``qcow2`` when the file starts with QEMU's qcow magic, else ``raw``."""
    with path.open("rb") as disk:
        return "qcow2" if disk.read(4) == QCOW2_MAGIC else "raw"


def timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ImageCatalog:
    """The images of ``directory`` (``None``: a catalog with none, which refuses changes)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    # -- reading (no lock: every file is renamed into place whole) ------------------

    def images(self) -> list[Image]:
        """Every image whose metadata is readable (and, if active, whose data is
        there), oldest first."""
        if self.directory is None or not self.directory.is_dir():
            return []
        found = []
        for meta in self.directory.glob("*.json"):
            image = self._read(meta)
            if image is not None:
                found.append((order_key(image), image))
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

    # -- changing (under the directory's lock) --------------------------------------

    def _root(self) -> Path:
        if self.directory is None:
            raise ImageError("This cloud has no image store.")
        self.directory.mkdir(parents=True, exist_ok=True)
        return self.directory

    @contextmanager
    def locked(self) -> Iterator[Path]:
        """The directory, held exclusively against every other worker's changes."""
        root = self._root()
        with (root / LOCK_NAME).open("a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield root
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def create(self, image: Image) -> Image:
        """Record a new image (normally ``queued``: no data yet)."""
        with self.locked() as root:
            if (root / f"{image.id}.json").exists():
                raise ImageConflict(f"An image with ID {image.id} already exists.")
            _write_meta(root, image)
        return image

    def update(self, image_id: str, change: Callable[[Image], Image]) -> Image:
        """Apply ``change`` to the current metadata and store the result (with a new
        ``updated_at``); ``change`` may raise to refuse."""
        with self.locked() as root:
            image = self.get(image_id)
            changed = dataclasses.replace(change(image), id=image.id, updated_at=timestamp())
            _write_meta(root, changed)
            return changed

    def delete(self, image_id: str, check: Callable[[Image], None] | None = None) -> Image:
        """Remove the image's data and then its metadata (``check`` may refuse first)."""
        with self.locked() as root:
            image = self.get(image_id)
            if check is not None:
                check(image)
            with suppress(FileNotFoundError):
                (root / image.id).unlink()
            (root / f"{image.id}.json").unlink()
            return image

    def start_upload(self, image_id: str) -> Image:
        """``queued`` → ``saving`` (:class:`ImageConflict` unless queued)."""

        def saving(image: Image) -> Image:
            check_uploadable(image)
            return dataclasses.replace(image, status="saving")

        return self.update(image_id, saving)

    def receive(
        self, image_id: str, chunks: Iterable[bytes], limit: int, expected: int | None
    ) -> Received:
        """Stream ``chunks`` into a hidden temporary file of the directory, hashing as
        they come; at most ``limit`` bytes (:class:`ImageTooLarge`), exactly
        ``expected`` if given (:class:`UploadIncomplete`). On any failure the
        temporary file is gone."""
        root = self._root()
        self.remove_stale_uploads()
        path = root / f"{UPLOAD_PREFIX}{image_id}.{uuid.uuid4().hex[:8]}"
        md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        size = 0
        try:
            with path.open("xb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise ImageTooLarge(limit)
                    md5.update(chunk)
                    sha512.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if expected is not None and size != expected:
                raise UploadIncomplete(
                    f"The upload ended after {size} of the {expected} bytes declared."
                )
        except BaseException:
            with suppress(FileNotFoundError):
                path.unlink()
            raise
        return Received(path, size, md5.hexdigest(), sha512.hexdigest())

    def remove_stale_uploads(self, max_age: float = STALE_UPLOAD_SECONDS) -> list[Path]:
        """Remove the temporary files of uploads whose worker died mid-body (no
        write for ``max_age`` seconds: a running upload touches its file with every
        chunk); returns them."""
        if self.directory is None or not self.directory.is_dir():
            return []
        removed = []
        now = time.time()
        for path in self.directory.glob(f"{UPLOAD_PREFIX}*"):
            with suppress(FileNotFoundError):
                if now - path.stat().st_mtime > max_age:
                    path.unlink()
                    removed.append(path)
        return removed

    def finish_upload(self, image_id: str, received: Received, virtual_size: int | None) -> Image:
        """Move the received data in and mark the image ``active`` (the image may have
        been deleted meanwhile: then the data is dropped and it is not found)."""
        try:
            with self.locked() as root:
                image = self.get(image_id)
                if image.status != "saving":
                    raise ImageConflict(f"Image {image_id} changed to {image.status} meanwhile.")
                os.replace(received.path, root / image.id)
                done = dataclasses.replace(
                    image,
                    status="active",
                    size=received.size,
                    checksum=received.checksum,
                    os_hash_value=received.os_hash_value,
                    virtual_size=virtual_size,
                    updated_at=timestamp(),
                )
                _write_meta(root, done)
                return done
        finally:
            with suppress(FileNotFoundError):
                received.path.unlink()

    def abandon_upload(self, image_id: str, status: str) -> None:
        """After a failed upload: back to ``queued`` (the data was refused: the client
        may try again) or ``killed`` (the upload broke off); no-op if it is gone."""

        def reset(image: Image) -> Image:
            return dataclasses.replace(image, status=status) if image.status == "saving" else image

        with suppress(ImageNotFound):
            self.update(image_id, reset)


def check_uploadable(image: Image) -> None:
    """Raise :class:`ImageConflict` unless ``image`` may take data (it is ``queued``)."""
    if image.status != "queued":
        raise ImageConflict(f"Image status transition from {image.status} to saving is not allowed")


def order_key(image: Image) -> tuple[str, int, str]:
    """Creation order. Glance's timestamps are to the second; ``created_ns`` breaks
    the ties (the metadata's mtime would not: it changes with every update)."""
    return (image.created_at, image.created_ns, image.id)


def new_image(**fields: Any) -> Image:
    """A ``queued`` image with a new id and no data (``fields`` override)."""
    now = timestamp()
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": None,
        "disk_format": None,
        "container_format": None,
        "size": None,
        "checksum": None,
        "os_hash_value": None,
        "created_at": now,
        "updated_at": now,
        "status": "queued",
        "created_ns": time.time_ns(),
    }
    values.update(fields)
    return Image(**values)


def _write_meta(root: Path, image: Image) -> None:
    partial = root / f".{image.id}.json.{uuid.uuid4().hex[:8]}.tmp"
    partial.write_text(json.dumps(image.to_json(), indent=2), encoding="utf-8")
    os.replace(partial, root / f"{image.id}.json")


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
    now = timestamp()
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
        created_ns=time.time_ns(),
    )
    _write_meta(directory, image)
    return image
