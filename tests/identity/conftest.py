"""Fixtures for the identity tests: the store on SQLite, PostgreSQL and MariaDB (the
two servers are integration tests, as in tests/db), a key repository in tmp, and a
manager with cheap argon2 parameters and a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import argon2
import pytest
from sqlalchemy import delete

from cumulo.db.engine import create_engine, sync
from cumulo.db.models import DomainRow, ProjectRow, RoleAssignmentRow, RoleRow, UserRow
from cumulo.identity import (
    IdentityManager,
    IdentityStore,
    KeyRepository,
    PasswordHasher,
    TokenFormatter,
)
from tests.support.databases import server_database

IDENTITY_TABLES = (RoleAssignmentRow, UserRow, ProjectRow, RoleRow, DomainRow)


@pytest.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.integration),
        pytest.param("mariadb", marks=pytest.mark.integration),
    ],
)
def identity_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """An engine on a synced database of each backend, shared by the session."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('identity') / 'c.db'}")
        sync(engine)
        yield engine
        engine.dispose()
        return
    with server_database(request.param, suffix="_identity") as url:
        engine = create_engine(url)
        sync(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def store(identity_engine) -> IdentityStore:
    """An ``IdentityStore`` on emptied identity tables."""
    with identity_engine.begin() as connection:
        for row_class in IDENTITY_TABLES:
            connection.execute(delete(row_class))
    return IdentityStore(identity_engine)


@pytest.fixture(scope="session")
def hasher() -> PasswordHasher:
    """argon2id with the smallest parameters: the tests hash many passwords."""
    return PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def keys(tmp_path: Path) -> KeyRepository:
    repository = KeyRepository(tmp_path / "keys")
    repository.setup()
    return repository


class Clock:
    """A UTC clock that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(store, keys, hasher, clock) -> Iterator[IdentityManager]:
    yield IdentityManager(store, TokenFormatter(keys), hasher, clock=clock)
