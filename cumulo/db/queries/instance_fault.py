"""Instance faults (the latest is what ``Instance.fault`` shows)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cumulo.model.exceptions import InstanceNotFound
from cumulo.model.instance_fault import InstanceFault
from cumulo.model.storage import Context

from .. import convert
from ..models import InstanceFaultRow, InstanceRow
from .base import Queries, missing, utcnow


class InstanceFaultQueries(Queries):
    """``Storage``'s ``instance_fault_*`` methods."""

    def instance_fault_create(self, context: Context, fault: InstanceFault) -> InstanceFault:
        values = convert.columns(InstanceFault).values(fault, skip=("id",))
        values["created_at"] = fault.created_at or utcnow()
        try:
            with self._writing() as session:
                row = InstanceFaultRow(**values)
                session.add(row)
                session.flush()
                session.refresh(row)
                return convert.instance_fault(row)
        except IntegrityError as exc:
            instance_uuid = fault.instance_uuid
            raise self._explain(
                exc,
                missing(InstanceNotFound(uuid=instance_uuid), InstanceRow.uuid == instance_uuid),
            ) from exc

    def instance_fault_get_latest(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> InstanceFault | None:
        with self._reading() as session:
            row = session.scalars(
                select(InstanceFaultRow)
                .where(InstanceFaultRow.instance_uuid == instance_uuid)
                .order_by(InstanceFaultRow.created_at.desc(), InstanceFaultRow.id.desc())
                .limit(1)
            ).first()
            return None if row is None else convert.instance_fault(row)
