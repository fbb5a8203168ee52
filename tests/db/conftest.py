"""Fixtures for the database tests: the same suite runs on SQLite, PostgreSQL and MariaDB.

``database`` is parametrized over the three backends. For PostgreSQL and MariaDB
it creates a throwaway database (``cumulo_test_<pid>``) on the server of this
machine (``CUMULO_TEST_POSTGRES_URL`` / ``CUMULO_TEST_MARIADB_URL`` override the
address), brings it to the schema with Alembic, and drops it at the end of the
session. Those two carry the ``postgresql`` and ``mariadb`` markers (integration
tests: ``-m "not integration"`` leaves them out); an unreachable server *fails*
them, naming the service and its address: start it with ``scripts/services.sh``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import URL, Engine

from cumulo.db.api import SqlStorage
from cumulo.db.engine import create_engine, sync
from cumulo.db.models import Base
from cumulo.model import Flavor, Instance, SecurityGroup, SecurityGroupRule
from tests.support.databases import server_database


@dataclasses.dataclass(frozen=True)
class Database:
    """A synced database of one backend, shared by the tests of a session."""

    backend: str
    url: URL
    engine: Engine

    def count(self, row_class: Any, *criteria: Any) -> int:
        """Rows of a table (matching ``criteria``), read straight from the database."""
        with self.engine.connect() as connection:
            statement = select(func.count()).select_from(row_class).where(*criteria)
            return int(connection.scalar(statement) or 0)

    def raw(self, sql: str) -> list[Any]:
        """The rows of a literal query, values as the driver returns them."""
        with self.engine.connect() as connection:
            return list(connection.exec_driver_sql(sql).all())

    def clear(self) -> None:
        with self.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))


@pytest.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A database brought to the current schema by ``sync``, on each backend."""
    backend: str = request.param
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "cumulo.db"
        engine = create_engine(f"sqlite:///{path}")
        sync(engine)
        yield Database(backend, engine.url, engine)
        engine.dispose()
        return
    with server_database(backend) as url:
        engine = create_engine(url)
        sync(engine)
        try:
            yield Database(backend, url, engine)
        finally:
            engine.dispose()


@pytest.fixture
def storage(database: Database) -> SqlStorage:
    """A ``SqlStorage`` on an emptied database."""
    database.clear()
    return SqlStorage(database.engine)


@dataclasses.dataclass
class Ctx:
    """Fits ``cumulo.model.storage.Context``."""

    user_id: str | None = "alice"
    project_id: str | None = "p1"
    request_id: str = "req-1"


@pytest.fixture
def ctx() -> Ctx:
    return Ctx()


@contextmanager
def counted_queries(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block (BEGIN/COMMIT aside)."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- object factories --------------------------------------------------------------------------

NOW = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


def make_flavor(**values: Any) -> Flavor:
    fields: dict[str, Any] = {
        "flavorid": "m1.small",
        "name": "m1.small",
        "memory_mb": 2048,
        "vcpus": 2,
        "root_gb": 20,
        "extra_specs": {"hw:cpu_policy": "dedicated"},
    }
    fields.update(values)
    return Flavor(**fields)


def make_group(**values: Any) -> SecurityGroup:
    fields: dict[str, Any] = {
        "name": "web",
        "project_id": "p1",
        "description": "web servers",
        "rules": [SecurityGroupRule(protocol="tcp", from_port=80, to_port=80, cidr="0.0.0.0/0")],
    }
    fields.update(values)
    return SecurityGroup(**fields)


def make_instance(**values: Any) -> Instance:
    fields: dict[str, Any] = {
        "uuid": new_uuid(),
        "user_id": "alice",
        "project_id": "p1",
        "host": "host-a",
        "node": "node-a",
        "display_name": "vm",
        "memory_mb": 2048,
        "vcpus": 2,
        "metadata": {"role": "web"},
        "system_metadata": {"image_os": "linux"},
    }
    fields.update(values)
    return Instance(**fields)
