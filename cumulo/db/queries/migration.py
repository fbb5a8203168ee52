"""Migration records."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cumulo.model.exceptions import AlreadyExists, InstanceNotFound, MigrationNotFound
from cumulo.model.migration import Migration
from cumulo.model.storage import Context

from .. import convert
from ..models import InstanceRow, MigrationRow
from .base import Queries, missing, taken, utcnow


class MigrationQueries(Queries):
    """``Storage``'s ``migration_*`` methods."""

    def migration_create(self, context: Context, migration: Migration) -> Migration:
        values = convert.columns(Migration).values(migration, skip=("id",))
        values["created_at"] = migration.created_at or utcnow()
        try:
            with self._writing() as session:
                row = MigrationRow(**values)
                session.add(row)
                session.flush()
                session.refresh(row)
                return convert.migration(row)
        except IntegrityError as exc:
            instance_uuid = migration.instance_uuid
            raise self._explain(
                exc,
                missing(InstanceNotFound(uuid=instance_uuid), InstanceRow.uuid == instance_uuid),
                taken(
                    AlreadyExists("migration", uuid=migration.uuid),
                    MigrationRow.uuid == migration.uuid,
                ),
            ) from exc

    def migration_save(
        self, context: Context, migration_id: int, changes: dict[str, Any]
    ) -> Migration:
        row = self._save(
            MigrationRow,
            Migration,
            MigrationRow.id == migration_id,
            changes,
            MigrationNotFound(id=migration_id),
        )
        return convert.migration(row)

    def migration_get_by_id(self, context: Context, migration_id: int) -> Migration:
        with self._reading() as session:
            row = session.get(MigrationRow, migration_id)
            if row is None:
                raise MigrationNotFound(id=migration_id)
            return convert.migration(row)

    def migration_get_by_instance(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> list[Migration]:
        with self._reading() as session:
            rows = session.scalars(
                select(MigrationRow)
                .where(MigrationRow.instance_uuid == instance_uuid)
                .order_by(MigrationRow.created_at, MigrationRow.id)
            )
            return [convert.migration(row) for row in rows]
