"""``QuotaStore``: the limits a project was given where they differ from the defaults
(``os-quota-sets``); usage is not stored here but counted where it lives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select

from .models import QuotaRow
from .records import RecordStore, utcnow


class QuotaStore(RecordStore):
    def limits(self, project_id: str) -> dict[str, int]:
        """The project's own limits, by resource (only those set)."""
        with self.reading() as session:
            rows = session.scalars(select(QuotaRow).where(QuotaRow.project_id == project_id))
            return {row.resource: row.hard_limit for row in rows}

    def set_limits(self, project_id: str, limits: Mapping[str, int]) -> None:
        """Set (or replace) the project's limits on each resource named."""
        with self.writing() as session:
            rows = {
                row.resource: row
                for row in session.scalars(
                    select(QuotaRow).where(QuotaRow.project_id == project_id)
                )
            }
            now = utcnow()
            for resource, limit in limits.items():
                row = rows.get(resource)
                if row is None:
                    session.add(
                        QuotaRow(
                            project_id=project_id,
                            resource=resource,
                            hard_limit=limit,
                            created_at=now,
                        )
                    )
                elif row.hard_limit != limit:
                    row.hard_limit, row.updated_at = limit, now

    def clear(self, project_id: str, resources: Iterable[str] | None = None) -> None:
        """Back to the defaults: forget every limit the project was given (on
        ``resources`` only, when given: the compute and volume APIs share the store)."""
        statement = delete(QuotaRow).where(QuotaRow.project_id == project_id)
        if resources is not None:
            statement = statement.where(QuotaRow.resource.in_(list(resources)))
        with self.writing() as session:
            session.execute(statement, execution_options={"synchronize_session": False})
