"""Security groups and their rules."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cumulo.model.exceptions import (
    AlreadyExists,
    SecurityGroupInUse,
    SecurityGroupNotFound,
    SecurityGroupRuleNotFound,
)
from cumulo.model.security_group import SecurityGroup, SecurityGroupRule
from cumulo.model.storage import Context

from .. import convert
from ..models import (
    InstanceRow,
    SecurityGroupInstanceAssociationRow,
    SecurityGroupRow,
    SecurityGroupRuleRow,
)
from .base import Check, Queries, in_chunks, matched_rows, missing, row_exists, taken, utcnow


class SecurityGroupQueries(Queries):
    """``Storage``'s ``security_group_*`` methods."""

    def security_group_create(self, context: Context, group: SecurityGroup) -> SecurityGroup:
        values = convert.columns(SecurityGroup).values(group, skip=("id",))
        values["created_at"] = utcnow()
        try:
            with self._writing() as session:
                row = SecurityGroupRow(**values)
                session.add(row)
                session.flush()
                self._add_rules(session, row.id, group.rules)
                session.flush()
                return self._group(session, row.id)
        except IntegrityError as exc:
            raise self._explain(
                exc,
                taken(
                    AlreadyExists("security group", project_id=group.project_id, name=group.name),
                    SecurityGroupRow.project_id == group.project_id,
                    SecurityGroupRow.name == group.name,
                ),
                *self._remote_groups_missing(group.rules),
            ) from exc

    def _add_rules(
        self, session: Session, group_id: int, rules: Sequence[SecurityGroupRule]
    ) -> None:
        rule_columns = convert.columns(SecurityGroupRule)
        session.add_all(
            SecurityGroupRuleRow(
                parent_group_id=group_id, **rule_columns.values(rule, skip=("id",))
            )
            for rule in rules
        )

    def _remote_groups_missing(self, rules: Sequence[SecurityGroupRule]) -> list[Check]:
        remote = {rule.remote_group_id for rule in rules if rule.remote_group_id is not None}
        return [
            missing(SecurityGroupNotFound(id=group_id), SecurityGroupRow.id == group_id)
            for group_id in sorted(remote)
        ]

    def security_group_get(self, context: Context, group_id: int) -> SecurityGroup:
        with self._reading() as session:
            return self._group(session, group_id)

    def security_group_get_by_name(
        self, context: Context, project_id: str, name: str
    ) -> SecurityGroup:
        with self._reading() as session:
            found = self._groups(
                session, SecurityGroupRow.project_id == project_id, SecurityGroupRow.name == name
            )
            if not found:
                raise SecurityGroupNotFound(project_id=project_id, name=name)
            return found[0]

    def security_group_get_all(
        self, context: Context, project_id: str | None
    ) -> list[SecurityGroup]:
        criteria = [] if project_id is None else [SecurityGroupRow.project_id == project_id]
        with self._reading() as session:
            return self._groups(session, *criteria)

    def security_group_get_by_instance(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> list[SecurityGroup]:
        linked = select(SecurityGroupInstanceAssociationRow.security_group_id).where(
            SecurityGroupInstanceAssociationRow.instance_uuid == instance_uuid
        )
        with self._reading() as session:
            return self._groups(session, SecurityGroupRow.id.in_(linked))

    def security_group_add_rules(
        self, context: Context, group_id: int, rules: list[SecurityGroupRule]
    ) -> SecurityGroup:
        try:
            with self._writing() as session:
                if not row_exists(session, SecurityGroupRow.id == group_id):
                    raise SecurityGroupNotFound(id=group_id)
                self._add_rules(session, group_id, rules)
                session.flush()
                return self._group(session, group_id)
        except IntegrityError as exc:
            raise self._explain(exc, *self._remote_groups_missing(rules)) from exc

    def security_group_remove_rules(
        self, context: Context, group_id: int, rule_ids: list[int]
    ) -> SecurityGroup:
        """Rule ids that are not rules of the group are ignored (already removed)."""
        with self._writing() as session:
            if not row_exists(session, SecurityGroupRow.id == group_id):
                raise SecurityGroupNotFound(id=group_id)
            for chunk in in_chunks(rule_ids):
                matched_rows(
                    session,
                    delete(SecurityGroupRuleRow).where(
                        SecurityGroupRuleRow.parent_group_id == group_id,
                        SecurityGroupRuleRow.id.in_(chunk),
                    ),
                )
            return self._group(session, group_id)

    def security_group_get_by_rule(self, context: Context, rule_id: int) -> SecurityGroup:
        parent = select(SecurityGroupRuleRow.parent_group_id).where(
            SecurityGroupRuleRow.id == rule_id
        )
        with self._reading() as session:
            found = self._groups(session, SecurityGroupRow.id.in_(parent))
            if not found:
                raise SecurityGroupRuleNotFound(id=rule_id)
            return found[0]

    def security_group_update(
        self, context: Context, group_id: int, *, name: str | None, description: str | None
    ) -> SecurityGroup:
        values: dict[str, object] = {"updated_at": utcnow()}
        if name is not None:
            values["name"] = name
        if description is not None:
            values["description"] = description
        project_id: str | None = None
        try:
            with self._writing() as session:
                project_id = session.scalar(
                    select(SecurityGroupRow.project_id).where(SecurityGroupRow.id == group_id)
                )
                if project_id is None:
                    raise SecurityGroupNotFound(id=group_id)
                matched_rows(
                    session,
                    update(SecurityGroupRow).where(SecurityGroupRow.id == group_id).values(values),
                )
                return self._group(session, group_id)
        except IntegrityError as exc:
            raise self._explain(
                exc,
                taken(
                    AlreadyExists("security group", project_id=project_id, name=name),
                    SecurityGroupRow.project_id == project_id,
                    SecurityGroupRow.name == name,
                    SecurityGroupRow.id != group_id,
                ),
            ) from exc

    def security_group_destroy(self, context: Context, group_id: int) -> None:
        association = SecurityGroupInstanceAssociationRow
        with self._writing() as session:
            # Lock the group's row so that no instance joins it between the count and
            # the delete (a build adds its association in its own transaction).
            locked = session.scalar(
                select(SecurityGroupRow.id).where(SecurityGroupRow.id == group_id).with_for_update()
            )
            if locked is None:
                raise SecurityGroupNotFound(id=group_id)
            # A deleted instance keeps its association rows (soft delete): only live
            # instances hold the group.
            in_use = session.scalar(
                select(func.count())
                .select_from(association)
                .join(InstanceRow, InstanceRow.uuid == association.instance_uuid)
                .where(association.security_group_id == group_id, InstanceRow.deleted == 0)
            )
            if in_use:
                raise SecurityGroupInUse(group_id, int(in_use))
            # What is left of deleted instances' membership goes with the group.
            matched_rows(
                session, delete(association).where(association.security_group_id == group_id)
            )
            matched_rows(
                session,
                delete(SecurityGroupRuleRow).where(
                    or_(
                        SecurityGroupRuleRow.parent_group_id == group_id,
                        SecurityGroupRuleRow.remote_group_id == group_id,
                    )
                ),
            )
            matched_rows(session, delete(SecurityGroupRow).where(SecurityGroupRow.id == group_id))

    def _group(self, session: Session, group_id: int) -> SecurityGroup:
        found = self._groups(session, SecurityGroupRow.id == group_id)
        if not found:
            raise SecurityGroupNotFound(id=group_id)
        return found[0]

    def _groups(self, session: Session, *criteria: ColumnElement[bool]) -> list[SecurityGroup]:
        rows = session.scalars(
            select(SecurityGroupRow)
            .where(*criteria)
            .order_by(SecurityGroupRow.id)
            .options(selectinload(SecurityGroupRow.rules))
            .execution_options(populate_existing=True)
        )
        return [convert.security_group(row) for row in rows]
