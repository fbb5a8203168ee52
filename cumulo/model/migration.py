"""``Migration``: the record of an instance moving between hosts."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any
from uuid import UUID

from cumulo.objects import NO_DEFAULT, field, register, remotable, remotable_classmethod

from .base import CumuloObject, as_uuid, stored
from .exceptions import ObjectActionError
from .states import MigrationStatus, MigrationType
from .storage import get_storage

FINAL_STATUSES = frozenset(
    {
        MigrationStatus.COMPLETED,
        MigrationStatus.FAILED,
        MigrationStatus.ERROR,
        MigrationStatus.CANCELLED,
    }
)


@register
class Migration(CumuloObject):
    """One move of an instance from a source host to a destination host; every
    status change is saved, so the record says how far the move got.

    ``memory_*`` and ``disk_*`` report live-migration progress in bytes.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(default=NO_DEFAULT, read_only=True)
    uuid: UUID
    instance_uuid: UUID
    migration_type: MigrationType = MigrationType.LIVE_MIGRATION
    status: MigrationStatus = MigrationStatus.ACCEPTED
    source_compute: str | None = None
    source_node: str | None = None
    dest_compute: str | None = None
    dest_node: str | None = None
    dest_host: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    """The destination's address for migration traffic (``get_host_ip_addr``)."""
    old_flavor_id: int | None = None
    new_flavor_id: int | None = None
    hidden: bool = False
    memory_total: int | None = None
    memory_processed: int | None = None
    memory_remaining: int | None = None
    disk_total: int | None = None
    disk_processed: int | None = None
    disk_remaining: int | None = None
    user_id: str | None = None
    project_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_final(self) -> bool:
        """The migration ended (completed, failed, error or cancelled)."""
        return self.status in FINAL_STATUSES

    @remotable_classmethod
    def get_by_id(cls: type[Migration], context: Any, migration_id: int) -> Migration:
        """Raises ``MigrationNotFound``."""
        return stored(get_storage().migration_get_by_id(context, migration_id))

    @remotable
    def create(self) -> None:
        """Store a new migration; ``id`` is set from the database."""
        if self.obj_attr_is_set("id"):
            raise ObjectActionError("create migration", f"already created (id {self.id})")
        self._obj_take_stored(get_storage().migration_create(self.obj_context, self))

    @remotable
    def save(self) -> None:
        """Write the changed fields."""
        if not self.obj_attr_is_set("id"):
            raise ObjectActionError("save migration", "it was never created")
        changes = self.obj_get_changes()
        if not changes:
            return
        self._obj_take_stored(get_storage().migration_save(self.obj_context, self.id, changes))


@register
class MigrationList(CumuloObject):
    """A list of migrations, as one object (what a query returns over RPC).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[Migration] = field(default_factory=list)

    @remotable_classmethod
    def get_by_instance(
        cls: type[MigrationList], context: Any, instance_uuid: UUID | str
    ) -> MigrationList:
        """An instance's migrations, oldest first."""
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        rows = get_storage().migration_get_by_instance(context, uuid_)
        return stored(cls(objects=rows))
