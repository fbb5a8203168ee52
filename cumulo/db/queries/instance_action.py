"""Instance actions and their events."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cumulo.model.exceptions import (
    InstanceActionEventNotFound,
    InstanceActionNotFound,
    InstanceNotFound,
)
from cumulo.model.instance_action import ActionEventResult, InstanceAction, InstanceActionEvent
from cumulo.model.storage import Context

from .. import convert
from ..models import InstanceActionEventRow, InstanceActionRow, InstanceRow
from .base import Queries, missing


class InstanceActionQueries(Queries):
    """``Storage``'s ``action_*`` methods."""

    def action_start(self, context: Context, action: InstanceAction) -> InstanceAction:
        values = convert.columns(InstanceAction).values(action, skip=("id",))
        try:
            with self._writing() as session:
                row = InstanceActionRow(**values)
                session.add(row)
                session.flush()
                session.refresh(row)
                return convert.instance_action(row)
        except IntegrityError as exc:
            instance_uuid = action.instance_uuid
            raise self._explain(
                exc,
                missing(InstanceNotFound(uuid=instance_uuid), InstanceRow.uuid == instance_uuid),
            ) from exc

    def action_finish(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        request_id: str,
        finish_time: datetime,
        message: str | None,
    ) -> InstanceAction:
        with self._writing() as session:
            row = self._action(session, instance_uuid, request_id)
            row.finish_time = finish_time
            if message is not None:
                row.message = message
            session.flush()
            session.refresh(row)
            return convert.instance_action(row)

    def action_get_by_request_id(
        self, context: Context, instance_uuid: uuid.UUID, request_id: str
    ) -> InstanceAction:
        with self._reading() as session:
            return convert.instance_action(self._action(session, instance_uuid, request_id))

    def action_get_by_instance(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> list[InstanceAction]:
        with self._reading() as session:
            rows = session.scalars(
                select(InstanceActionRow)
                .where(InstanceActionRow.instance_uuid == instance_uuid)
                .order_by(InstanceActionRow.start_time.desc(), InstanceActionRow.id.desc())
            )
            return [convert.instance_action(row) for row in rows]

    def _action(
        self, session: Session, instance_uuid: uuid.UUID, request_id: str
    ) -> InstanceActionRow:
        """The (latest) action of a request on an instance."""
        row = session.scalars(
            select(InstanceActionRow)
            .where(
                InstanceActionRow.instance_uuid == instance_uuid,
                InstanceActionRow.request_id == request_id,
            )
            .order_by(InstanceActionRow.id.desc())
        ).first()
        if row is None:
            raise InstanceActionNotFound(instance_uuid=instance_uuid, request_id=request_id)
        return row

    def action_event_start(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        request_id: str,
        event: InstanceActionEvent,
    ) -> InstanceActionEvent:
        values = convert.columns(InstanceActionEvent).values(event, skip=("id", "action_id"))
        with self._writing() as session:
            action = self._action(session, instance_uuid, request_id)
            row = InstanceActionEventRow(action_id=action.id, **values)
            session.add(row)
            session.flush()
            session.refresh(row)
            return convert.instance_action_event(row)

    def action_event_finish(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        request_id: str,
        event: str,
        finish_time: datetime,
        result: ActionEventResult,
        traceback: str | None,
    ) -> InstanceActionEvent:
        """Close the latest event named ``event``; an error also marks the action
        failed (its ``message`` becomes ``"Error"`` unless it has one)."""
        with self._writing() as session:
            action = self._action(session, instance_uuid, request_id)
            row = session.scalars(
                select(InstanceActionEventRow)
                .where(
                    InstanceActionEventRow.action_id == action.id,
                    InstanceActionEventRow.event == event,
                )
                .order_by(InstanceActionEventRow.id.desc())
            ).first()
            if row is None:
                raise InstanceActionEventNotFound(
                    instance_uuid=instance_uuid, request_id=request_id, event=event
                )
            row.finish_time = finish_time
            row.result = result
            row.traceback = traceback
            if result is ActionEventResult.ERROR and action.message is None:
                action.message = "Error"
            session.flush()
            session.refresh(row)
            return convert.instance_action_event(row)

    def action_events_get(self, context: Context, action_id: int) -> list[InstanceActionEvent]:
        with self._reading() as session:
            rows = session.scalars(
                select(InstanceActionEventRow)
                .where(InstanceActionEventRow.action_id == action_id)
                .order_by(InstanceActionEventRow.start_time, InstanceActionEventRow.id)
            )
            return [convert.instance_action_event(row) for row in rows]
