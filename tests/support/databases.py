"""Throwaway databases on this machine's PostgreSQL and MariaDB for tests.

An unreachable server *fails* the test that needs it (never skips), naming the
service and its address.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import URL

from cumulo.db import SqlStorage
from cumulo.db.engine import check_connection, create_engine, describe
from cumulo.db.exceptions import DatabaseUnreachableError
from cumulo.model.storage import set_storage

POSTGRES_URL = os.environ.get(
    "CUMULO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get("CUMULO_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")

SERVERS = {"postgresql": ("PostgreSQL", POSTGRES_URL), "mariadb": ("MariaDB", MARIADB_URL)}


@contextmanager
def server_database(backend: str, suffix: str = "") -> Iterator[URL]:
    """A fresh, empty database ``cumulo_test_<pid><suffix>`` on ``backend``; dropped after."""
    service, address = SERVERS[backend]
    admin = create_engine(address, isolation_level="AUTOCOMMIT")
    try:
        check_connection(admin)
    except DatabaseUnreachableError as exc:
        pytest.fail(
            f"{service} unreachable ({describe(admin.url)}): {exc} "
            "(start it with scripts/services.sh)",
            pytrace=False,
        )
    name = f"cumulo_test_{os.getpid()}{suffix}"
    options = " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if backend == "mariadb" else ""
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}{options}")
    try:
        yield admin.url.set(database=name)
    finally:
        force = " WITH (FORCE)" if backend == "postgresql" else ""
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


@contextmanager
def storage_on(url: URL) -> Iterator[SqlStorage]:
    """This (test) process's own ``SqlStorage`` on ``url``, installed as the model's
    storage for the block, to set up and check rows."""
    engine = create_engine(url)
    storage = SqlStorage(engine)
    previous = set_storage(storage)
    try:
        yield storage
    finally:
        set_storage(previous)
        engine.dispose()
