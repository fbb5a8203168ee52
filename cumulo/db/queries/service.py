"""Service records: liveness and the versions peers cap their messages to."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cumulo.model.exceptions import AlreadyExists, ServiceNotFound
from cumulo.model.service import Service, ServiceBinary
from cumulo.model.storage import Context

from .. import convert
from ..models import ServiceRow
from .base import Check, Queries, taken, utcnow


class ServiceQueries(Queries):
    """``Storage``'s ``service_*`` methods."""

    def service_create(self, context: Context, service: Service) -> Service:
        values = convert.columns(Service).values(service, skip=("id",))
        values["created_at"] = service.created_at or utcnow()
        values["deleted"] = 0
        try:
            with self._writing() as session:
                row = ServiceRow(**values)
                session.add(row)
                session.flush()
                session.refresh(row)
                return convert.service(row)
        except IntegrityError as exc:
            raise self._explain(
                exc, *self._service_conflicts(service.host, service.binary, service.uuid)
            ) from exc

    def _service_conflicts(
        self,
        host: str,
        binary: ServiceBinary,
        service_uuid: uuid.UUID,
        other_than: int | None = None,
    ) -> list[Check]:
        others = [] if other_than is None else [ServiceRow.id != other_than]
        return [
            taken(
                AlreadyExists("service", host=host, binary=binary),
                ServiceRow.host == host,
                ServiceRow.binary == binary,
                ServiceRow.deleted == 0,
                *others,
            ),
            taken(
                AlreadyExists("service", uuid=service_uuid),
                ServiceRow.uuid == service_uuid,
                *others,
            ),
        ]

    def service_save(self, context: Context, service_id: int, changes: dict[str, Any]) -> Service:
        row = self._save(
            ServiceRow,
            Service,
            ServiceRow.id == service_id,
            changes,
            ServiceNotFound(id=service_id),
            lambda row: self._service_conflicts(row.host, row.binary, row.uuid, other_than=row.id),
        )
        return convert.service(row)

    def service_get_by_host_and_binary(
        self, context: Context, host: str, binary: ServiceBinary
    ) -> Service:
        with self._reading() as session:
            row = session.scalar(
                select(ServiceRow).where(
                    ServiceRow.host == host, ServiceRow.binary == binary, ServiceRow.deleted == 0
                )
            )
            if row is None:
                raise ServiceNotFound(host=host, binary=binary)
            return convert.service(row)

    def service_get_all(
        self, context: Context, binary: ServiceBinary | None, include_disabled: bool
    ) -> list[Service]:
        statement = (
            select(ServiceRow)
            .where(ServiceRow.deleted == 0)
            .order_by(ServiceRow.host, ServiceRow.binary, ServiceRow.id)
        )
        if binary is not None:
            statement = statement.where(ServiceRow.binary == binary)
        if not include_disabled:
            statement = statement.where(ServiceRow.disabled.is_(False))
        with self._reading() as session:
            return [convert.service(row) for row in session.scalars(statement)]

    def service_get_minimum_version(self, context: Context, binary: ServiceBinary) -> int:
        with self._reading() as session:
            lowest = session.scalar(
                select(func.min(ServiceRow.version)).where(
                    ServiceRow.binary == binary, ServiceRow.deleted == 0
                )
            )
        return 0 if lowest is None else int(lowest)
