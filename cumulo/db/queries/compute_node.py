"""Compute node records."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cumulo.model.compute_node import ComputeNode
from cumulo.model.exceptions import AlreadyExists, ComputeHostNotFound
from cumulo.model.storage import Context

from .. import convert
from ..models import ComputeNodeRow
from .base import Check, Queries, taken, utcnow


class ComputeNodeQueries(Queries):
    """``Storage``'s ``compute_node_*`` methods."""

    def compute_node_create(self, context: Context, node: ComputeNode) -> ComputeNode:
        values = convert.columns(ComputeNode).values(node, skip=("id",))
        values["created_at"] = node.created_at or utcnow()
        values["deleted"] = 0
        try:
            with self._writing() as session:
                row = ComputeNodeRow(**values)
                session.add(row)
                session.flush()
                session.refresh(row)
                return convert.compute_node(row)
        except IntegrityError as exc:
            raise self._explain(
                exc, *self._node_conflicts(node.host, node.hypervisor_hostname, node.uuid)
            ) from exc

    def _node_conflicts(
        self,
        host: str,
        hypervisor_hostname: str,
        node_uuid: uuid.UUID,
        other_than: int | None = None,
    ) -> list[Check]:
        others = [] if other_than is None else [ComputeNodeRow.id != other_than]
        return [
            taken(
                AlreadyExists("compute node", host=host, hypervisor_hostname=hypervisor_hostname),
                ComputeNodeRow.host == host,
                ComputeNodeRow.hypervisor_hostname == hypervisor_hostname,
                ComputeNodeRow.deleted == 0,
                *others,
            ),
            taken(
                AlreadyExists("compute node", uuid=node_uuid),
                ComputeNodeRow.uuid == node_uuid,
                *others,
            ),
        ]

    def compute_node_save(
        self, context: Context, node_id: int, changes: dict[str, Any]
    ) -> ComputeNode:
        row = self._save(
            ComputeNodeRow,
            ComputeNode,
            ComputeNodeRow.id == node_id,
            changes,
            ComputeHostNotFound(id=node_id),
            lambda row: self._node_conflicts(
                row.host, row.hypervisor_hostname, row.uuid, other_than=row.id
            ),
        )
        return convert.compute_node(row)

    def compute_node_get_by_host(self, context: Context, host: str) -> ComputeNode:
        with self._reading() as session:
            row = session.scalars(
                select(ComputeNodeRow)
                .where(ComputeNodeRow.host == host, ComputeNodeRow.deleted == 0)
                .order_by(ComputeNodeRow.id)
            ).first()
            if row is None:
                raise ComputeHostNotFound(host=host)
            return convert.compute_node(row)

    def compute_node_get_all(self, context: Context) -> list[ComputeNode]:
        with self._reading() as session:
            rows = session.scalars(
                select(ComputeNodeRow)
                .where(ComputeNodeRow.deleted == 0)
                .order_by(ComputeNodeRow.host, ComputeNodeRow.id)
            )
            return [convert.compute_node(row) for row in rows]
