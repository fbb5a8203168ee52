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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, select, update

from cumulo.model.service import ServiceBinary

from .models import ServiceRow

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


def online_migrations(levels: ServiceLevels) -> tuple[OnlineMigration, ...]:
    """The registry: every online data migration of this release, in running order."""
    return (fill_compute_service_manifests(levels),)


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
