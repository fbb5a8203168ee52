"""Allocations: placement's claims on compute nodes.

A claim locks the node's row (``SELECT ... FOR UPDATE`` on PostgreSQL and MariaDB;
SQLite's write transactions take the database's write lock when they begin, see
``cumulo.db.engine.writer``), then re-reads the node's allocations and inserts the
new one only if it fits. Concurrent claims on one node therefore queue on its row,
and each sees the ones before it. The transaction runs at READ COMMITTED so that the
re-read after the lock sees what the previous holder committed (MariaDB's default,
REPEATABLE READ, would keep reading the snapshot of before the wait).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cumulo.model.allocation import NOTHING, Allocation, NodeUsage, NoRoom, Resources
from cumulo.model.exceptions import ComputeHostNotFound
from cumulo.model.storage import Context

from ..engine import writer
from ..models import AllocationRow, ComputeNodeRow
from .base import Queries, matched_rows, utcnow

DEADLOCK_ATTEMPTS: Final = 5
"""Tries of a claim the database aborted as a deadlock victim (MariaDB, PostgreSQL)."""


def capacity_of(node: ComputeNodeRow) -> Resources:
    """A node's totals times its allocation ratios (what may be allocated)."""
    return Resources(
        memory_mb=math.floor(node.memory_mb * (node.ram_allocation_ratio or 1.0)),
        vcpus=math.floor(node.vcpus * (node.cpu_allocation_ratio or 1.0)),
        disk_gb=math.floor(node.local_gb * (node.disk_allocation_ratio or 1.0)),
    )


def reported_use(node: ComputeNodeRow) -> Resources:
    return Resources(node.memory_mb_used, node.vcpus_used, node.local_gb_used)


def _allocated(session: Session, *criteria: ColumnElement[bool]) -> Resources:
    memory, vcpus, disk = session.execute(
        select(
            func.coalesce(func.sum(AllocationRow.memory_mb), 0),
            func.coalesce(func.sum(AllocationRow.vcpus), 0),
            func.coalesce(func.sum(AllocationRow.disk_gb), 0),
        ).where(*criteria)
    ).one()
    return Resources(int(memory), int(vcpus), int(disk))


def _allocation(row: AllocationRow) -> Allocation:
    return Allocation(
        consumer_uuid=row.consumer_uuid,
        host=row.host,
        node=row.node,
        resources=Resources(row.memory_mb, row.vcpus, row.disk_gb),
    )


def drop_allocations(session: Session, consumer_uuid: uuid.UUID) -> int:
    """Delete every allocation of ``consumer_uuid`` inside the caller's transaction."""
    return matched_rows(
        session, delete(AllocationRow).where(AllocationRow.consumer_uuid == consumer_uuid)
    )


def _is_deadlock(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "deadlock" in text or "lock wait timeout" in text


class AllocationQueries(Queries):
    """``Storage``'s ``allocation_*`` methods."""

    _claim_sessions: sessionmaker[Session] | None = None

    @contextmanager
    def _claiming(self) -> Iterator[Session]:
        if self._claim_sessions is None:
            engine = writer(self.engine)
            if engine.dialect.name != "sqlite":
                engine = engine.execution_options(isolation_level="READ COMMITTED")
            self._claim_sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        with self._claim_sessions() as session, session.begin():
            yield session

    def allocation_usage(self, context: Context, hosts: tuple[str, ...] | None) -> list[NodeUsage]:
        statement = (
            select(ComputeNodeRow)
            .where(ComputeNodeRow.deleted == 0)
            .order_by(ComputeNodeRow.host, ComputeNodeRow.id)
        )
        if hosts is not None:
            statement = statement.where(ComputeNodeRow.host.in_(hosts))
        with self._reading() as session:
            nodes: dict[str, ComputeNodeRow] = {}
            for node in session.scalars(statement):
                nodes.setdefault(node.host, node)  # a host's first node, as get_by_host
            sums: dict[tuple[str, str], Resources] = {
                (host, node): Resources(int(memory), int(vcpus), int(disk))
                for host, node, memory, vcpus, disk in session.execute(
                    select(
                        AllocationRow.host,
                        AllocationRow.node,
                        func.sum(AllocationRow.memory_mb),
                        func.sum(AllocationRow.vcpus),
                        func.sum(AllocationRow.disk_gb),
                    ).group_by(AllocationRow.host, AllocationRow.node)
                )
            }
            return [
                NodeUsage(
                    host=node.host,
                    node=node.hypervisor_hostname,
                    capacity=capacity_of(node),
                    allocated=sums.get((node.host, node.hypervisor_hostname), NOTHING),
                    reported=reported_use(node),
                )
                for node in nodes.values()
            ]

    def allocation_claim(
        self, context: Context, consumer_uuid: uuid.UUID, host: str, need: Resources
    ) -> Allocation:
        for attempt in range(DEADLOCK_ATTEMPTS):
            try:
                return self._claim_once(consumer_uuid, host, need)
            except OperationalError as exc:
                if not _is_deadlock(exc) or attempt == DEADLOCK_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _claim_once(self, consumer_uuid: uuid.UUID, host: str, need: Resources) -> Allocation:
        with self._claiming() as session:
            node = session.scalars(
                select(ComputeNodeRow)
                .where(ComputeNodeRow.host == host, ComputeNodeRow.deleted == 0)
                .order_by(ComputeNodeRow.id)
                .limit(1)
                .with_for_update()
            ).first()
            if node is None:
                raise ComputeHostNotFound(host=host)
            on_node = (
                AllocationRow.host == host,
                AllocationRow.node == node.hypervisor_hostname,
            )
            # The consumer's own claim here (a retried request) is replaced, not added.
            others = _allocated(session, *on_node, AllocationRow.consumer_uuid != consumer_uuid)
            usage = NodeUsage(
                host=host,
                node=node.hypervisor_hostname,
                capacity=capacity_of(node),
                allocated=others,
                reported=reported_use(node),
            )
            if not need.fits_in(usage.free):
                raise NoRoom(usage, need)
            row = session.scalar(
                select(AllocationRow).where(*on_node, AllocationRow.consumer_uuid == consumer_uuid)
            )
            now = utcnow()
            if row is None:
                row = AllocationRow(
                    consumer_uuid=consumer_uuid,
                    host=host,
                    node=node.hypervisor_hostname,
                    created_at=now,
                )
                session.add(row)
            else:
                row.updated_at = now
            row.memory_mb, row.vcpus, row.disk_gb = need.memory_mb, need.vcpus, need.disk_gb
            session.flush()
            return _allocation(row)

    def allocation_get_all(
        self, context: Context, consumer_uuid: uuid.UUID | None
    ) -> list[Allocation]:
        statement = select(AllocationRow).order_by(
            AllocationRow.host, AllocationRow.consumer_uuid, AllocationRow.id
        )
        if consumer_uuid is not None:
            statement = statement.where(AllocationRow.consumer_uuid == consumer_uuid)
        with self._reading() as session:
            return [_allocation(row) for row in session.scalars(statement)]

    def allocation_release(
        self,
        context: Context,
        consumer_uuid: uuid.UUID,
        host: str | None,
        keep: str | None,
    ) -> int:
        criteria: list[Any] = [AllocationRow.consumer_uuid == consumer_uuid]
        if host is not None:
            criteria.append(AllocationRow.host == host)
        if keep is not None:
            criteria.append(AllocationRow.host != keep)
        with self._writing() as session:
            return matched_rows(session, delete(AllocationRow).where(*criteria))
