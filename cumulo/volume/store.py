"""``VolumeStore``: Cumulo's local block storage — volumes as sparse files in a directory.

Each volume is two files in the store's directory: ``<id>.img``, the disk (a
sparse file of ``size_gb`` GiB), and ``<id>.json``, its ``Volume`` object in the
versioned wire format (so an upgraded store reads what an older one wrote).
Every operation holds a lock — a thread lock and an ``flock`` on ``.lock`` in the
directory — so threads and processes sharing a directory see each other's changes
whole. The store keeps no state in memory; the directory is the truth.

The store answers what the compute flows need: create, look up, list, resize and
delete volumes; mark them attached/detached (with the transitional ``attaching``
and ``detaching`` states in between, so the block-storage API shows an attachment
under way); and give a host the connection info (a ``VolumeConnectionInfo`` of
type ``file``) to reach one.

What only the block-storage API needs (a description, the message of an error the
user may read, the exact error kind, where the volume's bytes came from) lives in
a third file, ``<id>.details`` (:class:`VolumeDetails`), not in the ``Volume``
record: hosts of releases 0.1 and 0.2 share the directory, read ``<id>.json`` as a
``Volume`` 1.0 and rewrite it whole on attach and detach, so the record keeps its
1.0 shape and what they do not know survives their writes.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from uuid import UUID

from cumulo.model import (
    AccessMode,
    Volume,
    VolumeConnectionInfo,
    VolumeConnector,
    VolumeDriverType,
    VolumeList,
    VolumeStatus,
)
from cumulo.objects import ObjectError

from .exceptions import (
    InvalidVolumeSize,
    InvalidVolumeState,
    VolumeInUse,
    VolumeNotFound,
    VolumeNotReachable,
    VolumeRecordCorrupt,
    VolumeStoreFull,
)

__all__ = ["ERROR_KINDS", "GIB", "VolumeDetails", "VolumeEntry", "VolumeStore"]

GIB: Final = 1024**3
_IMAGE = ".img"
_META = ".json"
_DETAILS = ".details"
_MAX_NAME = 255
_MAX_DESCRIPTION = 255

ERROR_KINDS: Final = ("error", "error_extending", "error_deleting")
"""How a volume in ``error`` failed: at creation (``error``), growing or deleting
(Cinder's status names)."""


@dataclass(frozen=True)
class VolumeDetails:
    """What the block-storage API keeps about a volume beside its ``Volume`` record.

    ``error_kind`` and ``error_message`` hold only while the record's status is
    ``error`` (a host of an older release rewriting the record to another status
    makes them stale; :meth:`VolumeStore.details` then drops them)."""

    description: str = ""
    bootable: bool = False
    image_id: str | None = None
    """The image the volume was created from."""
    error_kind: str | None = None
    """One of :data:`ERROR_KINDS` while the volume is in ``error``."""
    error_message: str | None = None
    """What went wrong, worded for the volume's owner (no paths, no tracebacks)."""
    attached_at: str | None = None
    """When the current attachment began (ISO 8601, UTC); ``None`` when the record's
    attachment is not the one it was noted for (an older release attached it)."""
    attachment_id: str | None = None
    """The attachment ``attached_at`` was noted for."""


@dataclass(frozen=True)
class VolumeEntry:
    """A volume with its details and times, as the block-storage API shows it."""

    volume: Volume
    details: VolumeDetails
    created_at: datetime
    updated_at: datetime
    """When its record or details last changed (their files' modification time)."""


class VolumeStore:
    """The file-backed volumes in one directory.

    Args:
        root: the directory (created if missing).
        host: the host whose local disk holds the directory; only that host can
            connect its volumes. ``None``: the directory is on storage every host
            mounts at the same path (NFS...), so any host can.
        capacity_gb: the most GiB all volumes may add up to (``None``: no limit;
            files are sparse, so the limit is what the store promises, not what
            the disk holds now).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        host: str | None = None,
        capacity_gb: int | None = None,
    ) -> None:
        if capacity_gb is not None and capacity_gb < 0:
            raise ValueError(f"capacity_gb: expected >= 0 or None, got {capacity_gb}")
        self._root = Path(root).resolve()
        self._root.mkdir(parents=True, exist_ok=True)
        self._host = host
        self._capacity_gb = capacity_gb
        self._thread_lock = threading.Lock()

    @property
    def root(self) -> Path:
        """The store's directory."""
        return self._root

    @property
    def host(self) -> str | None:
        """The host the store is local to (``None``: shared by every host)."""
        return self._host

    @property
    def capacity_gb(self) -> int | None:
        return self._capacity_gb

    def __repr__(self) -> str:
        return f"<VolumeStore {str(self._root)!r} host={self._host!r}>"

    # --- volumes ----------------------------------------------------------------------------

    def create(
        self,
        size_gb: int,
        name: str = "",
        *,
        project_id: str | None = None,
        user_id: str | None = None,
        description: str = "",
        image_id: str | None = None,
    ) -> Volume:
        """Make a new, empty volume of ``size_gb`` GiB (a sparse file), ``available``
        (``creating`` when ``image_id`` says its bytes are still to be copied in:
        :meth:`finish_create` or :meth:`set_error` follows).

        Raises:
            InvalidVolumeSize: ``size_gb`` is not an integer >= 1.
            VolumeStoreFull: it would exceed ``capacity_gb``.
            ValueError: ``name`` or ``description`` is longer than 255 characters.
        """
        _check_size(size_gb)
        _check_text("name", name, _MAX_NAME)
        _check_text("description", description, _MAX_DESCRIPTION)
        with self._locked():
            self._check_capacity(size_gb)
            volume_id = uuid.uuid4()
            image = self._image_path(volume_id)
            volume = Volume(
                id=volume_id,
                name=name,
                size_gb=size_gb,
                status=VolumeStatus.AVAILABLE if image_id is None else VolumeStatus.CREATING,
                host=self._host,
                path=str(image),
                project_id=project_id,
                user_id=user_id,
            )
            with open(image, "xb") as disk:
                disk.truncate(size_gb * GIB)
            try:
                details = VolumeDetails(
                    description=description, bootable=image_id is not None, image_id=image_id
                )
                if details != VolumeDetails():
                    self._write_details(volume_id, details)
                self._write(volume, created_ns=time.time_ns())
            except BaseException:
                image.unlink(missing_ok=True)
                self._details_path(volume_id).unlink(missing_ok=True)
                raise
            volume.obj_reset_changes(recursive=True)
            return volume

    def get(self, volume: Volume | UUID | str) -> Volume:
        """The volume as stored now.

        Raises:
            VolumeNotFound: no such volume in the store.
        """
        with self._locked(shared=True):
            return self._read(_id_of(volume))[1]

    def list(self, *, project_id: str | None = None) -> VolumeList:
        """Every volume (of ``project_id`` when given), oldest first."""
        with self._locked(shared=True):
            found = [self._read(volume_id) for volume_id in self._ids()]
        found.sort(key=lambda pair: (pair[0], str(pair[1].id)))
        volumes = [v for _, v in found if project_id is None or v.project_id == project_id]
        result = VolumeList(objects=volumes)
        result.obj_reset_changes(recursive=True)
        return result

    def used_gb(self) -> int:
        """The GiB all volumes add up to (what ``capacity_gb`` is checked against)."""
        with self._locked(shared=True):
            return self._used_gb()

    def details(self, volume: Volume | UUID | str) -> VolumeDetails:
        """The volume's :class:`VolumeDetails` (defaults for a volume that has none,
        such as one an older release made).

        Raises:
            VolumeNotFound: no such volume.
        """
        with self._locked(shared=True):
            _, current = self._read(_id_of(volume))
            return self._details_of(current)

    def entry(self, volume: Volume | UUID | str) -> VolumeEntry:
        """The volume with its details and times.

        Raises:
            VolumeNotFound: no such volume.
        """
        with self._locked(shared=True):
            return self._entry(_id_of(volume))

    def entries(self, *, project_id: str | None = None) -> builtins.list[VolumeEntry]:
        """Every volume (of ``project_id`` when given) with its details, oldest first."""
        with self._locked(shared=True):
            found = [self._entry(volume_id) for volume_id in self._ids()]
        found.sort(key=lambda e: (e.created_at, str(e.volume.id)))
        return [e for e in found if project_id is None or e.volume.project_id == project_id]

    def update(
        self,
        volume: Volume | UUID | str,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> Volume:
        """Rename the volume and/or change its description (``None``: unchanged).

        Raises:
            VolumeNotFound: no such volume.
            ValueError: a value longer than 255 characters.
        """
        if name is not None:
            _check_text("name", name, _MAX_NAME)
        if description is not None:
            _check_text("description", description, _MAX_DESCRIPTION)
        with self._locked():
            created_ns, current = self._read(_id_of(volume))
            if description is not None:
                details = self._details_of(current)
                self._write_details(current.id, replace(details, description=description))
            if name is not None and name != current.name:
                current.name = name
                self._write(current, created_ns)
            return current

    def finish_create(self, volume: Volume | UUID | str) -> Volume:
        """A ``creating`` volume whose bytes are in place becomes ``available``.

        Raises:
            VolumeNotFound: no such volume.
            InvalidVolumeState: it is not ``creating``.
        """
        with self._locked():
            created_ns, current = self._read(_id_of(volume))
            if current.status is not VolumeStatus.CREATING:
                raise InvalidVolumeState(
                    str(current.id), "finish creating", current.status, ["creating"]
                )
            current.status = VolumeStatus.AVAILABLE
            return self._write(current, created_ns)

    def set_error(
        self, volume: Volume | UUID | str, message: str, *, kind: str = "error"
    ) -> Volume:
        """Put the volume in ``error``: ``kind`` (one of :data:`ERROR_KINDS`) says
        what failed, ``message`` what its owner reads. An attached volume keeps its
        attachment record (a host still uses it).

        Raises:
            VolumeNotFound: no such volume.
            ValueError: ``kind`` is not one of :data:`ERROR_KINDS`.
        """
        if kind not in ERROR_KINDS:
            raise ValueError(f"kind: expected one of {list(ERROR_KINDS)}, got {kind!r}")
        with self._locked():
            created_ns, current = self._read(_id_of(volume))
            details = self._details_of(current)
            self._write_details(
                current.id, replace(details, error_kind=kind, error_message=message)
            )
            current.status = VolumeStatus.ERROR
            return self._write(current, created_ns)

    def resize(self, volume: Volume | UUID | str, size_gb: int) -> Volume:
        """Grow a detached volume to ``size_gb`` GiB (the new space reads as zeros).

        Raises:
            VolumeNotFound: no such volume.
            InvalidVolumeSize: ``size_gb`` is not larger than the current size.
            VolumeInUse: the volume is attached.
            VolumeStoreFull: growing it would exceed ``capacity_gb``.
        """
        _check_size(size_gb)
        with self._locked():
            created_ns, current = self._read(_id_of(volume))
            self._require_available(current, "resize")
            if size_gb <= current.size_gb:
                raise InvalidVolumeSize(
                    size_gb, f"volumes only grow; volume {current.id} has {current.size_gb} GiB"
                )
            self._check_capacity(size_gb - current.size_gb)
            with open(self._image_path(current.id), "r+b") as disk:
                disk.truncate(size_gb * GIB)
            current.size_gb = size_gb
            return self._write(current, created_ns)

    def delete(self, volume: Volume | UUID | str) -> None:
        """Remove a volume and its file.

        Raises:
            VolumeNotFound: no such volume.
            VolumeInUse: the volume is attached (detach it first).
        """
        with self._locked():
            created_ns, current = self._read(_id_of(volume))
            if current.is_attached:
                raise VolumeInUse(str(current.id), "delete", str(current.attached_to))
            # Marked first: a crash between the two unlinks leaves a volume that says
            # it was being deleted, and deleting it again finishes the job.
            current.status = VolumeStatus.DELETING
            self._write(current, created_ns)
            self._image_path(current.id).unlink(missing_ok=True)
            self._details_path(current.id).unlink(missing_ok=True)
            self._meta_path(current.id).unlink(missing_ok=True)

    # --- attachments ------------------------------------------------------------------------

    def attach(
        self,
        volume: Volume | UUID | str,
        *,
        instance_uuid: UUID,
        host: str,
        mountpoint: str,
        attaching: bool = False,
    ) -> Volume:
        """Record that the volume is attached to ``instance_uuid`` on ``host`` at
        ``mountpoint`` (``in-use``, with a new ``attachment_id``; ``attaching``
        when ``attaching`` says the host is still connecting it: :meth:`mark_in_use`
        follows, or :meth:`detach` to give up).

        Raises:
            VolumeNotFound: no such volume.
            VolumeInUse: it is attached already.
            InvalidVolumeState: it is not available (deleting, error...).
            VolumeNotReachable: the store is local to another host.
        """
        with self._locked():
            created_ns, current = self._read(_id_of(volume))
            self._require_available(current, "attach")
            self._require_reachable(current, host)
            current.status = VolumeStatus.ATTACHING if attaching else VolumeStatus.IN_USE
            current.attached_to = instance_uuid
            current.attached_host = host
            current.mountpoint = mountpoint
            current.attachment_id = uuid.uuid4()
            details = self._details_of(current)
            self._write_details(
                current.id,
                replace(
                    details,
                    attachment_id=str(current.attachment_id),
                    attached_at=datetime.now(UTC).isoformat(timespec="microseconds"),
                ),
            )
            return self._write(current, created_ns)

    def mark_in_use(self, volume: Volume | UUID | str, *, instance_uuid: UUID) -> Volume:
        """An ``attaching`` volume is connected (or a ``detaching`` one stays
        connected after a failed detach): ``in-use``.

        Raises:
            VolumeNotFound: no such volume.
            InvalidVolumeState: it is not attached to ``instance_uuid``.
        """
        return self._transition(
            volume,
            instance_uuid,
            "finish attaching",
            VolumeStatus.IN_USE,
            (VolumeStatus.ATTACHING, VolumeStatus.DETACHING, VolumeStatus.IN_USE),
        )

    def begin_detach(self, volume: Volume | UUID | str, *, instance_uuid: UUID) -> Volume:
        """An ``in-use`` volume is being disconnected from ``instance_uuid``:
        ``detaching`` (:meth:`detach` follows, or :meth:`mark_in_use` if it fails).

        Raises:
            VolumeNotFound: no such volume.
            InvalidVolumeState: it is not ``in-use`` by ``instance_uuid``.
        """
        return self._transition(
            volume, instance_uuid, "detach", VolumeStatus.DETACHING, (VolumeStatus.IN_USE,)
        )

    def _transition(
        self,
        volume: Volume | UUID | str,
        instance_uuid: UUID,
        action: str,
        to: VolumeStatus,
        expected: tuple[VolumeStatus, ...],
    ) -> Volume:
        with self._locked():
            created_ns, current = self._read(_id_of(volume))
            if current.status not in expected or current.attached_to != instance_uuid:
                detail = (
                    f"attached to instance {current.attached_to}, not {instance_uuid}"
                    if current.attached_to not in (None, instance_uuid)
                    else ""
                )
                raise InvalidVolumeState(
                    str(current.id), action, current.status, [s.value for s in expected], detail
                )
            if current.status is not to:
                current.status = to
                self._write(current, created_ns)
            return current

    def detach(self, volume: Volume | UUID | str, *, instance_uuid: UUID | None = None) -> Volume:
        """Record that the volume is no longer attached (``available``).

        Args:
            volume: the volume.
            instance_uuid: when given, the instance it must be attached to.

        Raises:
            VolumeNotFound: no such volume.
            InvalidVolumeState: it is not attached (to ``instance_uuid``).
        """
        with self._locked():
            created_ns, current = self._read(_id_of(volume))
            if not current.is_attached:
                raise InvalidVolumeState(str(current.id), "detach", current.status, ["in-use"])
            if instance_uuid is not None and current.attached_to != instance_uuid:
                raise InvalidVolumeState(
                    str(current.id),
                    "detach",
                    current.status,
                    ["in-use"],
                    f"attached to instance {current.attached_to}, not {instance_uuid}",
                )
            current.status = VolumeStatus.AVAILABLE
            current.attached_to = None
            current.attached_host = None
            current.mountpoint = None
            current.attachment_id = None
            return self._write(current, created_ns)

    def connection_info(
        self, volume: Volume | UUID | str, connector: VolumeConnector
    ) -> VolumeConnectionInfo:
        """How the host ``connector`` describes reaches the volume: its file's path.

        Raises:
            VolumeNotFound: no such volume.
            VolumeNotReachable: the store is local to another host.
            InvalidVolumeState: the volume is being deleted or in error.
        """
        with self._locked(shared=True):
            _, current = self._read(_id_of(volume))
        usable = (
            VolumeStatus.AVAILABLE,
            VolumeStatus.IN_USE,
            VolumeStatus.RESERVED,
            VolumeStatus.ATTACHING,
            VolumeStatus.DETACHING,
        )
        if current.status not in usable:
            raise InvalidVolumeState(
                str(current.id), "connect", current.status, [s.value for s in usable]
            )
        self._require_reachable(current, connector.host)
        return VolumeConnectionInfo(
            driver_volume_type=VolumeDriverType.FILE,
            volume_id=current.id,
            serial=str(current.id),
            access_mode=AccessMode.READ_WRITE,
            attachment_id=current.attachment_id,
            path=str(self._image_path(current.id)),
        )

    # --- internals --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, shared: bool = False) -> Iterator[None]:
        # The thread lock keeps threads of this store in line; flock (per open file,
        # so also between stores in one process) keeps processes in line.
        with self._thread_lock, open(self._root / ".lock", "a+b") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _image_path(self, volume_id: UUID) -> Path:
        return self._root / f"{volume_id}{_IMAGE}"

    def _meta_path(self, volume_id: UUID) -> Path:
        return self._root / f"{volume_id}{_META}"

    def _entry(self, volume_id: UUID) -> VolumeEntry:
        created_ns, volume = self._read(volume_id)
        changed_ns = self._meta_path(volume_id).stat().st_mtime_ns
        with contextlib.suppress(OSError):
            changed_ns = max(changed_ns, self._details_path(volume_id).stat().st_mtime_ns)
        return VolumeEntry(
            volume,
            self._details_of(volume),
            datetime.fromtimestamp(created_ns / 1e9, UTC),
            datetime.fromtimestamp(changed_ns / 1e9, UTC),
        )

    def _details_path(self, volume_id: UUID) -> Path:
        return self._root / f"{volume_id}{_DETAILS}"

    def _details_of(self, volume: Volume) -> VolumeDetails:
        """The stored details; the error ones only while the record says ``error``
        (an unreadable file is no details: they are the API's notes, not the truth
        about the disk)."""
        try:
            data = json.loads(self._details_path(volume.id).read_bytes())
            details = VolumeDetails(
                description=str(data.get("description", "")),
                bootable=bool(data.get("bootable", False)),
                image_id=data.get("image_id"),
                error_kind=data.get("error_kind"),
                error_message=data.get("error_message"),
                attached_at=data.get("attached_at"),
                attachment_id=data.get("attachment_id"),
            )
        except (OSError, ValueError, TypeError, AttributeError):
            return VolumeDetails()
        if volume.status is not VolumeStatus.ERROR or details.error_kind not in ERROR_KINDS:
            details = replace(details, error_kind=None, error_message=None)
        if volume.attachment_id is None or details.attachment_id != str(volume.attachment_id):
            details = replace(details, attached_at=None, attachment_id=None)
        return details

    def _write_details(self, volume_id: UUID, details: VolumeDetails) -> None:
        path = self._details_path(volume_id)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_text(json.dumps(asdict(details)))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _ids(self) -> builtins.list[UUID]:
        ids = []
        for path in self._root.glob(f"*{_META}"):
            with contextlib.suppress(ValueError):
                ids.append(UUID(path.name.removesuffix(_META)))
        return ids

    def _read(self, volume_id: UUID) -> tuple[int, Volume]:
        path = self._meta_path(volume_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise VolumeNotFound(volume_id=str(volume_id), store=str(self._root)) from None
        try:
            record = json.loads(data)
            volume = Volume.obj_from_primitive(record["volume"])
            created_ns = int(record["created_ns"])
        except (ValueError, KeyError, TypeError, ObjectError) as exc:
            raise VolumeRecordCorrupt(str(path), f"{type(exc).__name__}: {exc}") from None
        volume.obj_reset_changes(recursive=True)
        return created_ns, volume

    def _write(self, volume: Volume, created_ns: int) -> Volume:
        """Store ``volume`` atomically (a temporary file renamed over the old one)."""
        path = self._meta_path(volume.id)
        record = {"created_ns": created_ns, "volume": volume.obj_to_primitive()}
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.write_text(json.dumps(record))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        volume.obj_reset_changes(recursive=True)
        return volume

    def _used_gb(self) -> int:
        return sum(self._read(volume_id)[1].size_gb for volume_id in self._ids())

    def _check_capacity(self, extra_gb: int) -> None:
        if self._capacity_gb is None:
            return
        used = self._used_gb()
        if used + extra_gb > self._capacity_gb:
            raise VolumeStoreFull(self._capacity_gb, used, extra_gb)

    def _require_available(self, volume: Volume, action: str) -> None:
        if volume.is_attached:
            raise VolumeInUse(str(volume.id), action, str(volume.attached_to))
        if volume.status is not VolumeStatus.AVAILABLE:
            raise InvalidVolumeState(str(volume.id), action, volume.status, ["available"])

    def _require_reachable(self, volume: Volume, host: str) -> None:
        if self._host is not None and host != self._host:
            raise VolumeNotReachable(str(volume.id), self._host, host)


def _id_of(volume: Volume | UUID | str) -> UUID:
    if isinstance(volume, Volume):
        return volume.id
    if isinstance(volume, UUID):
        return volume
    try:
        return UUID(volume)
    except (TypeError, ValueError):
        raise ValueError(
            f"volume: expected a Volume, UUID or uuid string, got {volume!r}"
        ) from None


def _check_text(what: str, value: str, most: int) -> None:
    if len(value) > most:
        raise ValueError(f"{what}: expected at most {most} characters, got {len(value)}")


def _check_size(size_gb: object) -> None:
    if isinstance(size_gb, bool) or not isinstance(size_gb, int):
        raise InvalidVolumeSize(size_gb, "expected a whole number of GiB")
    if size_gb < 1:
        raise InvalidVolumeSize(size_gb, "expected at least 1 GiB")
