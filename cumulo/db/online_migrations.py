"""Online data migrations: batched, idempotent rewrites of rows that the running
services tolerate in either form, run by ``cumulo db online-migrations`` while the
cloud is up (after every service runs the new release, before the next schema
contraction).

A migration is a name, a function ``(engine, max_count) -> (found, done)`` and a
read-only count of what remains. The function
it looks at up to ``max_count`` rows still needing it (``found``) and migrates
what it can (``done``). Running it again does nothing once ``found`` is 0.

The database layer does not import the compute package: what a migration needs
to know about service levels comes in as :class:`ServiceLevels` (the command line
passes ``cumulo.compute.version.SERVICE_VERSION_HISTORY``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, exists, select, update
from sqlalchemy.orm import Session, undefer

from cumulo.model.block_device import DestinationType
from cumulo.model.service import ServiceBinary
from cumulo.model.states import VmState

from .engine import writer
from .models import AllocationRow, BlockDeviceMappingRow, InstanceRow, ServiceRow
from .queries.base import utcnow

MigrationFunction = Callable[[Engine, int], tuple[int, int]]


class ServiceLevel(Protocol):
    """What a service level understands (``cumulo.compute.version.ServiceLevel``)."""

    @property
    def compute_rpc(self) -> str: ...

    @property
    def object_manifest(self) -> Mapping[str, str]: ...


ServiceLevels = Sequence[ServiceLevel]
"""Indexed by service level, as ``SERVICE_VERSION_HISTORY``."""


@dataclass(frozen=True)
class OnlineMigration:
    name: str
    description: str
    function: MigrationFunction
    """``(engine, max_count) -> (found, done)``: one batch."""
    count: Callable[[Engine], int]
    """Rows still to do, read-only."""


@dataclass(frozen=True)
class MigrationResult:
    name: str
    found: int
    done: int


def _manifestless_compute_services(connection: Connection, levels: ServiceLevels) -> list[Any]:
    rows = connection.execute(
        select(ServiceRow.id, ServiceRow.version, ServiceRow.object_manifest)
        .where(ServiceRow.binary == ServiceBinary.COMPUTE)
        .order_by(ServiceRow.id)
    ).all()
    return [
        (row_id, version)
        for row_id, version, manifest in rows
        if not manifest and 0 < version < len(levels)
    ]


def fill_compute_service_manifests(levels: ServiceLevels) -> OnlineMigration:
    """Compute ``services`` rows with an empty ``object_manifest`` (the ``Service``
    default, ``{}``: a row written without one) get the manifest and compute RPC API
    version of their level from ``levels``. Rows at level 0, or at a level ``levels``
    does not know, are left alone (and not counted: nothing here can fill them)."""

    def migrate(engine: Engine, max_count: int) -> tuple[int, int]:
        done = 0
        with engine.begin() as connection:
            batch = _manifestless_compute_services(connection, levels)[:max_count]
            for row_id, version in batch:
                level = levels[version]
                result = connection.execute(
                    update(ServiceRow)
                    .where(ServiceRow.id == row_id, ServiceRow.version == version)
                    .values(
                        object_manifest=dict(level.object_manifest),
                        rpc_api_version=level.compute_rpc,
                    )
                )
                done += result.rowcount
        return len(batch), done

    def count(engine: Engine) -> int:
        with engine.connect() as connection:
            return len(_manifestless_compute_services(connection, levels))

    return OnlineMigration(
        "fill_compute_service_manifests",
        "compute service rows without an object manifest get their level's",
        migrate,
        count,
    )


_PLACED_STATES = (VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED)
"""Instances that hold their host's resources between tasks. Building ones are
claimed by the conductor that places them; failed builds and deleted ones hold none."""


def _unallocated_instances() -> Any:
    return (
        select(InstanceRow)
        .where(
            InstanceRow.deleted == 0,
            InstanceRow.host.is_not(None),
            InstanceRow.node.is_not(None),
            InstanceRow.vm_state.in_(_PLACED_STATES),
            ~exists().where(AllocationRow.consumer_uuid == InstanceRow.uuid),
        )
        .order_by(InstanceRow.id)
    )


def _fill_allocations(engine: Engine, max_count: int) -> tuple[int, int]:
    with Session(writer(engine)) as session, session.begin():
        rows = list(session.scalars(_unallocated_instances().options(undefer(InstanceRow.flavor))))[
            :max_count
        ]
        volume_roots = set(
            session.scalars(
                select(BlockDeviceMappingRow.instance_uuid).where(
                    BlockDeviceMappingRow.instance_uuid.in_([r.uuid for r in rows]),
                    BlockDeviceMappingRow.boot_index == 0,
                    BlockDeviceMappingRow.destination_type == DestinationType.VOLUME,
                    BlockDeviceMappingRow.deleted == 0,
                )
            )
        )
        now = utcnow()
        for row in rows:
            assert row.host is not None and row.node is not None
            swap = row.flavor.swap if row.flavor is not None else 0
            root = 0 if row.uuid in volume_roots else row.root_gb
            session.add(
                AllocationRow(
                    consumer_uuid=row.uuid,
                    host=row.host,
                    node=row.node,
                    memory_mb=row.memory_mb,
                    vcpus=row.vcpus,
                    disk_gb=root + row.ephemeral_gb + math.ceil(swap / 1024),
                    created_at=now,
                )
            )
    return len(rows), len(rows)


def _count_unallocated(engine: Engine) -> int:
    with Session(engine) as session:
        return len(list(session.scalars(_unallocated_instances())))


FILL_INSTANCE_ALLOCATIONS = OnlineMigration(
    "fill_instance_allocations",
    "instances placed before allocations existed (schema 0007) get the allocation "
    "of what they hold on their host",
    _fill_allocations,
    _count_unallocated,
)


def online_migrations(levels: ServiceLevels) -> tuple[OnlineMigration, ...]:
    """The registry: every online data migration of this release, in running order."""
    return (fill_compute_service_manifests(levels), FILL_INSTANCE_ALLOCATIONS)


def run_online_migrations(
    engine: Engine, migrations: Sequence[OnlineMigration], max_count: int
) -> list[MigrationResult]:
    """One batch of each migration (at most ``max_count`` rows in all)."""
    if max_count < 1:
        raise ValueError(f"max_count must be at least 1, not {max_count}")
    results = []
    budget = max_count
    for migration in migrations:
        if budget <= 0:
            results.append(MigrationResult(migration.name, 0, 0))
            continue
        found, done = migration.function(engine, budget)
        budget -= found
        results.append(MigrationResult(migration.name, found, done))
    return results


def pending_online_migrations(
    engine: Engine, migrations: Sequence[OnlineMigration]
) -> dict[str, int]:
    """Rows each migration still has to do, counted without changing anything."""
    return {migration.name: migration.count(engine) for migration in migrations}
