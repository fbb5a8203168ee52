"""Block device mappings (soft-deleted; one live mapping per instance and device name)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cumulo.model.block_device import BlockDeviceMapping, DestinationType
from cumulo.model.exceptions import AlreadyExists, BlockDeviceMappingNotFound, InstanceNotFound
from cumulo.model.storage import Context

from .. import convert
from ..models import BlockDeviceMappingRow, InstanceRow
from .base import Check, Queries, matched_rows, missing, taken, utcnow


class BlockDeviceQueries(Queries):
    """``Storage``'s ``bdm_*`` methods."""

    def bdm_create(self, context: Context, bdm: BlockDeviceMapping) -> BlockDeviceMapping:
        values = convert.columns(BlockDeviceMapping).values(bdm, skip=("id",))
        values["created_at"] = bdm.created_at or utcnow()
        values["deleted"] = 0
        try:
            with self._writing() as session:
                row = BlockDeviceMappingRow(**values)
                session.add(row)
                session.flush()
                session.refresh(row)
                return convert.block_device_mapping(row)
        except IntegrityError as exc:
            raise self._explain(
                exc, *self._bdm_conflicts(bdm.instance_uuid, bdm.uuid, bdm.device_name)
            ) from exc

    def bdm_save(
        self, context: Context, bdm_id: int, changes: dict[str, Any]
    ) -> BlockDeviceMapping:
        row = self._save(
            BlockDeviceMappingRow,
            BlockDeviceMapping,
            BlockDeviceMappingRow.id == bdm_id,
            changes,
            BlockDeviceMappingNotFound(id=bdm_id),
            lambda row: self._bdm_conflicts(
                row.instance_uuid, row.uuid, row.device_name, other_than=row.id
            ),
        )
        return convert.block_device_mapping(row)

    def _bdm_conflicts(
        self,
        instance_uuid: uuid.UUID,
        bdm_uuid: uuid.UUID,
        device_name: str | None,
        other_than: int | None = None,
    ) -> list[Check]:
        others = [] if other_than is None else [BlockDeviceMappingRow.id != other_than]
        checks = [
            missing(InstanceNotFound(uuid=instance_uuid), InstanceRow.uuid == instance_uuid),
            taken(
                AlreadyExists("block device mapping", uuid=bdm_uuid),
                BlockDeviceMappingRow.uuid == bdm_uuid,
                *others,
            ),
        ]
        if device_name is not None:
            checks.append(
                taken(
                    AlreadyExists(
                        "block device mapping", instance_uuid=instance_uuid, device_name=device_name
                    ),
                    BlockDeviceMappingRow.instance_uuid == instance_uuid,
                    BlockDeviceMappingRow.device_name == device_name,
                    BlockDeviceMappingRow.deleted == 0,
                    *others,
                )
            )
        return checks

    def bdm_destroy(self, context: Context, bdm_id: int) -> None:
        """Soft-delete the mapping (the row is kept, marked deleted)."""
        now = utcnow()
        with self._writing() as session:
            matched = matched_rows(
                session,
                update(BlockDeviceMappingRow)
                .where(BlockDeviceMappingRow.id == bdm_id, BlockDeviceMappingRow.deleted == 0)
                .values(deleted=BlockDeviceMappingRow.id, deleted_at=now, updated_at=now),
            )
            if matched == 0:
                raise BlockDeviceMappingNotFound(id=bdm_id)

    def bdm_get_by_instance_uuid(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> list[BlockDeviceMapping]:
        with self._reading() as session:
            rows = session.scalars(
                select(BlockDeviceMappingRow).where(
                    BlockDeviceMappingRow.instance_uuid == instance_uuid,
                    BlockDeviceMappingRow.deleted == 0,
                )
            ).all()
            mappings = [convert.block_device_mapping(row) for row in rows]

        def boot_order(bdm: BlockDeviceMapping) -> tuple[int, int, int]:
            index = bdm.boot_index
            bootable = index is not None and index >= 0
            return (0, index, bdm.id) if bootable and index is not None else (1, 0, bdm.id)

        return sorted(mappings, key=boot_order)

    def bdm_get_volumes_by_instance_uuids(
        self, context: Context, instance_uuids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[BlockDeviceMapping]]:
        found: dict[uuid.UUID, list[BlockDeviceMapping]] = {}
        if not instance_uuids:
            return found
        with self._reading() as session:
            rows = session.scalars(
                select(BlockDeviceMappingRow)
                .where(
                    BlockDeviceMappingRow.instance_uuid.in_(list(instance_uuids)),
                    BlockDeviceMappingRow.destination_type == DestinationType.VOLUME.value,
                    BlockDeviceMappingRow.deleted == 0,
                )
                .order_by(BlockDeviceMappingRow.id)
            ).all()
            for row in rows:
                bdm = convert.block_device_mapping(row)
                found.setdefault(bdm.instance_uuid, []).append(bdm)
        return found

    def bdm_get_by_volume_id(
        self, context: Context, volume_id: uuid.UUID, instance_uuid: uuid.UUID | None
    ) -> BlockDeviceMapping:
        criteria = [
            BlockDeviceMappingRow.volume_id == volume_id,
            BlockDeviceMappingRow.deleted == 0,
        ]
        if instance_uuid is not None:
            criteria.append(BlockDeviceMappingRow.instance_uuid == instance_uuid)
        with self._reading() as session:
            row = session.scalars(
                select(BlockDeviceMappingRow).where(*criteria).order_by(BlockDeviceMappingRow.id)
            ).first()
            if row is None:
                if instance_uuid is None:
                    raise BlockDeviceMappingNotFound(volume_id=volume_id)
                raise BlockDeviceMappingNotFound(volume_id=volume_id, instance_uuid=instance_uuid)
            return convert.block_device_mapping(row)
