"""Block device mappings: which disks an instance has and where they come from.

``BlockDeviceMapping`` is the stored record (one per disk); ``BlockDeviceInfo``
groups an instance's mappings the way drivers consume them (root device name,
swap, ephemerals, volumes) instead of Nova's ``block_device_info`` dict.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from cumulo.objects import (
    NO_DEFAULT,
    BackportError,
    backport_hook,
    field,
    register,
    remotable,
    remotable_classmethod,
)

from .base import CumuloObject, as_uuid, stored
from .exceptions import ObjectActionError
from .hardware import DeviceType, DiskBus
from .storage import get_storage
from .volume_connection import VolumeConnectionInfo


class SourceType(enum.StrEnum):
    """Where a block device's content comes from."""

    BLANK = "blank"
    IMAGE = "image"
    SNAPSHOT = "snapshot"
    VOLUME = "volume"


class DestinationType(enum.StrEnum):
    """Where a block device lives: on the host (``local``) or in a volume."""

    LOCAL = "local"
    VOLUME = "volume"


@register
class BlockDeviceMapping(CumuloObject):
    """One disk of an instance: its source, destination, guest device and bus.

    ``boot_index`` 0 is the root disk; ``None`` (or negative) means not bootable.
    For volumes, ``connection_info`` is how this instance's host reaches the
    volume (set on attach, cleared on detach).

    History: 1.0 first version. 1.1: ``read_only`` (the guest sees the volume
    write-protected); ``disk_bus`` may be ``nvme``.
    """

    VERSION = "1.1"

    id: int = field(default=NO_DEFAULT, read_only=True)
    uuid: UUID
    instance_uuid: UUID
    source_type: SourceType
    destination_type: DestinationType
    guest_format: str | None = None
    """Filesystem to create on a blank disk (``ext4``, ``swap``...)."""
    device_type: DeviceType | None = None
    disk_bus: DiskBus | None = field(default=None, values_added={"1.1": [DiskBus.NVME]})
    boot_index: int | None = None
    device_name: str | None = None
    """The guest device (``/dev/vdb``); chosen by the driver when ``None``."""
    delete_on_termination: bool = False
    snapshot_id: UUID | None = None
    volume_id: UUID | None = None
    volume_size: int | None = None
    """GiB."""
    image_id: UUID | None = None
    no_device: bool = False
    """Suppress the device the image would otherwise map at ``device_name``."""
    connection_info: VolumeConnectionInfo | None = None
    tag: str | None = None
    attachment_id: UUID | None = None
    volume_type: str | None = None
    encrypted: bool = False
    encryption_secret_uuid: UUID | None = None
    encryption_format: str | None = None
    read_only: bool = field(default=False, added="1.1")
    """Attach write-protected: the guest can read the volume but not change it."""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @backport_hook("1.1")
    @classmethod
    def _before_1_1(cls, data: dict[str, Any], target: str) -> None:
        # A 1.0 peer has no read_only: it would give the guest write access.
        if data.get("read_only"):
            raise BackportError(
                f"BlockDeviceMapping {data.get('uuid')} is read-only; version {target} "
                "cannot say so (a peer at that version would attach it writable)"
            )

    @property
    def is_root(self) -> bool:
        return self.boot_index == 0

    @property
    def is_volume(self) -> bool:
        return self.destination_type is DestinationType.VOLUME

    @property
    def is_swap(self) -> bool:
        return (
            self.source_type is SourceType.BLANK
            and self.destination_type is DestinationType.LOCAL
            and self.guest_format == "swap"
        )

    @property
    def is_ephemeral(self) -> bool:
        return (
            self.source_type is SourceType.BLANK
            and self.destination_type is DestinationType.LOCAL
            and self.guest_format != "swap"
        )

    @remotable_classmethod
    def get_by_volume_id(
        cls: type[BlockDeviceMapping],
        context: Any,
        volume_id: UUID | str,
        instance_uuid: UUID | str | None = None,
    ) -> BlockDeviceMapping:
        """The mapping of a volume (to ``instance_uuid`` when given); raises
        ``BlockDeviceMappingNotFound``."""
        vol = as_uuid(volume_id, "volume_id")
        inst = None if instance_uuid is None else as_uuid(instance_uuid, "instance_uuid")
        return stored(get_storage().bdm_get_by_volume_id(context, vol, inst))

    @remotable
    def create(self) -> None:
        """Store a new mapping; ``id`` is set from the database."""
        if self.obj_attr_is_set("id"):
            raise ObjectActionError("create block device mapping", f"already created ({self.id})")
        self._obj_take_stored(get_storage().bdm_create(self.obj_context, self))

    @remotable
    def save(self) -> None:
        """Write the changed fields."""
        if not self.obj_attr_is_set("id"):
            raise ObjectActionError("save block device mapping", "it was never created")
        changes = self.obj_get_changes()
        if not changes:
            return
        self._obj_take_stored(get_storage().bdm_save(self.obj_context, self.id, changes))

    @remotable
    def destroy(self) -> None:
        """Delete the mapping."""
        if not self.obj_attr_is_set("id"):
            raise ObjectActionError("destroy block device mapping", "it was never created")
        get_storage().bdm_destroy(self.obj_context, self.id)


@register
class BlockDeviceMappingList(CumuloObject):
    """The block device mappings of an instance, boot devices first.

    History: 1.0 first version. 1.1: BlockDeviceMapping 1.1.
    """

    VERSION = "1.1"

    objects: list[BlockDeviceMapping] = field(default_factory=list)

    def root_bdm(self) -> BlockDeviceMapping | None:
        """The mapping with boot index 0, if any."""
        return next((bdm for bdm in self.objects if bdm.is_root), None)

    def volumes(self) -> list[BlockDeviceMapping]:
        return [bdm for bdm in self.objects if bdm.is_volume]

    @remotable_classmethod
    def get_by_instance_uuid(
        cls: type[BlockDeviceMappingList], context: Any, instance_uuid: UUID | str
    ) -> BlockDeviceMappingList:
        """An instance's mappings, boot devices first."""
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        rows = get_storage().bdm_get_by_instance_uuid(context, uuid_)
        return stored(cls(objects=rows))


def volume_mappings_of(
    context: Any, instance_uuids: Sequence[UUID]
) -> dict[UUID, list[BlockDeviceMapping]]:
    """The volume mappings of many instances in one storage query, by instance (for
    a listing of many servers). Local storage only: the API and the conductor have
    it; a compute host asks per instance with ``get_by_instance_uuid``."""
    return {
        instance: [stored(bdm) for bdm in bdms]
        for instance, bdms in get_storage()
        .bdm_get_volumes_by_instance_uuids(context, list(instance_uuids))
        .items()
    }


@register
class BlockDeviceInfo(CumuloObject):
    """An instance's disks as a driver consumes them (Nova's ``block_device_info``).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    root_device_name: str | None = None
    image: list[BlockDeviceMapping] = field(default_factory=list)
    """Local disks made from the image (the root disk of an image-backed instance)."""
    swap: BlockDeviceMapping | None = None
    ephemerals: list[BlockDeviceMapping] = field(default_factory=list)
    volumes: list[BlockDeviceMapping] = field(default_factory=list)
    """Mappings with ``destination_type`` volume, with their connection info."""

    @classmethod
    def from_mappings(
        cls, mappings: BlockDeviceMappingList, root_device_name: str | None
    ) -> BlockDeviceInfo:
        """Group an instance's mappings by the role they play."""
        info = cls(root_device_name=root_device_name)
        for bdm in mappings.objects:
            if bdm.is_volume:
                info.volumes.append(bdm)
            elif bdm.is_swap:
                info.swap = bdm
            elif bdm.source_type is SourceType.IMAGE:
                info.image.append(bdm)
            elif bdm.is_ephemeral:
                info.ephemerals.append(bdm)
        return info
