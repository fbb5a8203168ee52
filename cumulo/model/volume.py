"""``Volume``: a volume of Cumulo's local, file-backed volume store."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from cumulo.objects import field, register, remotable, remotable_classmethod

from .base import CumuloObject, as_uuid, stored
from .exceptions import ObjectActionError
from .states import VolumeStatus
from .storage import get_storage


@register
class Volume(CumuloObject):
    """A persistent disk kept as a file in the volume store, attachable to one
    instance at a time.

    ``path`` is the backing file; ``host`` the host whose store holds it.
    ``attached_to``, ``attached_host`` and ``mountpoint`` describe the current
    attachment (all ``None`` while detached).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: UUID = field(read_only=True)
    name: str = ""
    size_gb: int
    status: VolumeStatus = VolumeStatus.CREATING
    host: str | None = None
    path: str | None = None
    project_id: str | None = None
    user_id: str | None = None
    attached_to: UUID | None = None
    """The uuid of the instance the volume is attached to."""
    attached_host: str | None = None
    mountpoint: str | None = None
    attachment_id: UUID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_attached(self) -> bool:
        return self.attached_to is not None

    @remotable_classmethod
    def get_by_id(cls: type[Volume], context: Any, volume_id: UUID | str) -> Volume:
        """Raises ``VolumeNotFound``."""
        return stored(get_storage().volume_get(context, as_uuid(volume_id, "volume_id")))

    @remotable
    def create(self) -> None:
        """Record a new volume (its ``id`` chosen by the caller, who made the file)."""
        if self.created_at is not None:
            raise ObjectActionError("create volume", f"already created ({self.id})")
        self._obj_take_stored(get_storage().volume_create(self.obj_context, self))

    @remotable
    def save(self) -> None:
        """Write the changed fields."""
        changes = self.obj_get_changes()
        if not changes:
            return
        self._obj_take_stored(get_storage().volume_save(self.obj_context, self.id, changes))

    @remotable
    def destroy(self) -> None:
        """Delete the record (the store removes the file)."""
        get_storage().volume_destroy(self.obj_context, self.id)


@register
class VolumeList(CumuloObject):
    """A list of volumes, as one object (what a query returns over RPC).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[Volume] = field(default_factory=list)

    @remotable_classmethod
    def get_all(
        cls: type[VolumeList], context: Any, host: str | None = None, project_id: str | None = None
    ) -> VolumeList:
        """Volumes not deleted, oldest first (of ``host`` / ``project_id`` when given)."""
        rows = get_storage().volume_get_all(context, host, project_id)
        return stored(cls(objects=rows))
