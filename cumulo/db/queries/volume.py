"""Volume records of the local volume store (soft-deleted)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cumulo.model.exceptions import AlreadyExists, VolumeNotFound
from cumulo.model.storage import Context
from cumulo.model.volume import Volume

from .. import convert
from ..models import VolumeRow
from .base import Queries, matched_rows, taken, utcnow


class VolumeQueries(Queries):
    """``Storage``'s ``volume_*`` methods."""

    def volume_create(self, context: Context, volume: Volume) -> Volume:
        values = convert.columns(Volume).values(volume)
        values["created_at"] = utcnow()
        values["deleted"] = 0
        try:
            with self._writing() as session:
                row = VolumeRow(**values)
                session.add(row)
                session.flush()
                session.refresh(row)
                return convert.volume(row)
        except IntegrityError as exc:
            raise self._explain(
                exc, taken(AlreadyExists("volume", id=volume.id), VolumeRow.id == volume.id)
            ) from exc

    def volume_get(self, context: Context, volume_id: uuid.UUID) -> Volume:
        with self._reading() as session:
            row = session.scalar(
                select(VolumeRow).where(VolumeRow.id == volume_id, VolumeRow.deleted == 0)
            )
            if row is None:
                raise VolumeNotFound(id=volume_id)
            return convert.volume(row)

    def volume_get_all(
        self, context: Context, host: str | None, project_id: str | None
    ) -> list[Volume]:
        statement = (
            select(VolumeRow)
            .where(VolumeRow.deleted == 0)
            .order_by(VolumeRow.created_at, VolumeRow.id)
        )
        if host is not None:
            statement = statement.where(VolumeRow.host == host)
        if project_id is not None:
            statement = statement.where(VolumeRow.project_id == project_id)
        with self._reading() as session:
            return [convert.volume(row) for row in session.scalars(statement)]

    def volume_save(
        self, context: Context, volume_id: uuid.UUID, changes: dict[str, Any]
    ) -> Volume:
        row = self._save(
            VolumeRow, Volume, VolumeRow.id == volume_id, changes, VolumeNotFound(id=volume_id)
        )
        return convert.volume(row)

    def volume_destroy(self, context: Context, volume_id: uuid.UUID) -> None:
        """Soft-delete the record (kept, marked deleted)."""
        now = utcnow()
        with self._writing() as session:
            matched = matched_rows(
                session,
                update(VolumeRow)
                .where(VolumeRow.id == volume_id, VolumeRow.deleted == 0)
                .values(deleted=1, deleted_at=now, updated_at=now),
            )
            if matched == 0:
                raise VolumeNotFound(id=volume_id)
