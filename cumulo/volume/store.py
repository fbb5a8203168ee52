"""``VolumeStore``: Cumulo's local block storage — volumes as sparse files in a directory.

Each volume is two files in the store's directory: ``<id>.img``, the disk (a
sparse file of ``size_gb`` GiB), and ``<id>.json``, its ``Volume`` object in the
versioned wire format (so an upgraded store reads what an older one wrote).
Every operation holds a lock — a thread lock and an ``flock`` on ``.lock`` in the
directory — so threads and processes sharing a directory see each other's changes
whole. The store keeps no state in memory; the directory is the truth.

The store answers what the compute flows need: create, look up, list, resize and
delete volumes; mark them attached/detached; and give a host the connection info
(a ``VolumeConnectionInfo`` of type ``file``) to reach one.
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

__all__ = ["GIB", "VolumeStore"]

GIB: Final = 1024**3
_IMAGE = ".img"
_META = ".json"
_MAX_NAME = 255


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
    ) -> Volume:
        """Make a new, empty volume of ``size_gb`` GiB (a sparse file), ``available``.

        Raises:
            InvalidVolumeSize: ``size_gb`` is not an integer >= 1.
            VolumeStoreFull: it would exceed ``capacity_gb``.
            ValueError: ``name`` is longer than 255 characters.
        """
        _check_size(size_gb)
        if len(name) > _MAX_NAME:
            raise ValueError(f"name: expected at most {_MAX_NAME} characters, got {len(name)}")
        with self._locked():
            self._check_capacity(size_gb)
            volume_id = uuid.uuid4()
            image = self._image_path(volume_id)
            volume = Volume(
                id=volume_id,
                name=name,
                size_gb=size_gb,
                status=VolumeStatus.AVAILABLE,
                host=self._host,
                path=str(image),
                project_id=project_id,
                user_id=user_id,
            )
            with open(image, "xb") as disk:
                disk.truncate(size_gb * GIB)
            try:
                self._write(volume, created_ns=time.time_ns())
            except BaseException:
                image.unlink(missing_ok=True)
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
            self._meta_path(current.id).unlink(missing_ok=True)

    # --- attachments ------------------------------------------------------------------------

    def attach(
        self,
        volume: Volume | UUID | str,
        *,
        instance_uuid: UUID,
        host: str,
        mountpoint: str,
    ) -> Volume:
        """Record that the volume is attached to ``instance_uuid`` on ``host`` at
        ``mountpoint`` (``in-use``, with a new ``attachment_id``).

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
            current.status = VolumeStatus.IN_USE
            current.attached_to = instance_uuid
            current.attached_host = host
            current.mountpoint = mountpoint
            current.attachment_id = uuid.uuid4()
            return self._write(current, created_ns)

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
        usable = (VolumeStatus.AVAILABLE, VolumeStatus.IN_USE, VolumeStatus.RESERVED)
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


def _check_size(size_gb: object) -> None:
    if isinstance(size_gb, bool) or not isinstance(size_gb, int):
        raise InvalidVolumeSize(size_gb, "expected a whole number of GiB")
    if size_gb < 1:
        raise InvalidVolumeSize(size_gb, "expected at least 1 GiB")
