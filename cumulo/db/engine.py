"""Engines for the three supported databases, and ``sync``: create or upgrade a schema.

- ``sqlite:///path`` (the embedded default): WAL journal, foreign keys enforced,
  a busy timeout, and transactions begun by Cumulo so that a write transaction
  takes the write lock up front (``BEGIN IMMEDIATE``) instead of failing halfway;
- ``postgresql+psycopg://user@host:port/db`` (``postgresql://`` picks psycopg 3);
- ``mysql+pymysql://user:pw@host:port/db`` for MariaDB or MySQL (``mysql://`` and
  ``mariadb://`` pick PyMySQL), in ``utf8mb4``, with strict (``TRADITIONAL``) SQL mode.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from .exceptions import DatabaseError, DatabaseUnreachableError, UnsupportedDatabaseError

DATABASE_URL_ENV: Final = "CUMULO_DATABASE_URL"
DEFAULT_DATABASE_URL: Final = "sqlite:///var/cumulo.db"
"""The embedded default: a SQLite file under ``./var``."""

SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
SQLITE_BEGIN_OPTION: Final = "cumulo_sqlite_begin"
"""Execution option naming how a SQLite transaction begins (``DEFERRED`` or ``IMMEDIATE``)."""

MIGRATIONS: Final = Path(__file__).with_name("migrations")

_DEFAULT_DRIVERS: Final = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}
_DEFAULT_PORTS: Final = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}


def default_database_url() -> str:
    """``$CUMULO_DATABASE_URL``, else the embedded SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def parse_url(url: str | URL) -> URL:
    """``url`` with Cumulo's driver for its backend; raises ``UnsupportedDatabaseError``."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UnsupportedDatabaseError(f"invalid database URL {str(url)!r}: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed
    if backend not in _DEFAULT_DRIVERS:
        raise UnsupportedDatabaseError(
            f"unsupported database {backend!r} in {parsed.render_as_string()!r}: expected "
            "sqlite:///PATH, postgresql+psycopg://... or mysql+pymysql://..."
        )
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{backend}+{_DEFAULT_DRIVERS[backend]}")
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def describe(url: str | URL) -> str:
    """Where a database is, for messages: ``postgresql database 'x' at host:port``
    or ``SQLite database at /path`` (never the password)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        where = parsed.database or ":memory:"
        if where != ":memory:":
            where = str(Path(where).resolve())
        return f"SQLite database at {where}"
    port = parsed.port or _DEFAULT_PORTS.get(backend, 0)
    return f"{backend} database {parsed.database!r} at {parsed.host or 'localhost'}:{port}"


def create_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` configured for Cumulo (see the module docstring).

    ``kwargs`` go to :func:`sqlalchemy.create_engine`. Nothing connects yet; use
    :func:`check_connection` to fail early with a clear message.
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    mysql = parsed.get_backend_name() in ("mysql", "mariadb")
    if mysql:
        kwargs.setdefault("pool_recycle", 3600)
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("connect_timeout", 10)
    engine = sqlalchemy.create_engine(parsed, **kwargs)
    if mysql:

        @event.listens_for(engine, "connect")
        def _strict(dbapi_connection: Any, connection_record: Any) -> None:
            # Refuse bad data (too long, out of range) instead of silently cutting it.
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SET SESSION sql_mode = 'TRADITIONAL'")
            finally:
                cursor.close()

    return engine


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database or ""
    memory = database in ("", ":memory:")
    if not memory:
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnreachableError(
                f"cannot create the directory of {describe(url)}: {exc}"
            ) from exc
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    if memory:
        kwargs.setdefault("poolclass", StaticPool)
    engine = sqlalchemy.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, connection_record: Any) -> None:
        # Cumulo emits BEGIN itself (below): pysqlite's own handling begins late and
        # cannot take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if not memory:
                _use_wal(cursor)
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _use_wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself,
    which the busy timeout does not wait for, so a connection made while another
    writes retries until the timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def writer(engine: Engine) -> Engine:
    """``engine`` for write transactions: on SQLite they take the write lock when
    they begin, so two writers queue (busy timeout) instead of one failing."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    return engine


def unreachable(engine: Engine, error: BaseException) -> DatabaseUnreachableError:
    """A clear error for a failed connection: where, and what the driver said."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    reason = " ".join(str(cause).split()) or type(cause).__name__
    return DatabaseUnreachableError(f"cannot connect to {describe(engine.url)}: {reason}")


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A connection; a failure to connect raises ``DatabaseUnreachableError``
    naming the database."""
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise unreachable(engine, exc) from exc
    with connection:
        yield connection


def check_connection(engine: Engine) -> None:
    """Connect once; raises ``DatabaseUnreachableError`` naming the database."""
    with connect(engine) as connection:
        connection.exec_driver_sql("SELECT 1")


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, made in code (no ``alembic.ini``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this release."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise DatabaseError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration a database is at (``None``: never synced)."""
    with connect(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def sync(database: str | URL | Engine) -> str:
    """Create the schema, or upgrade it to this release's (Alembic ``upgrade head``);
    returns the revision the database is at. Running it again changes nothing."""
    engine = database if isinstance(database, Engine) else create_engine(database)
    try:
        with connect(writer(engine)) as connection, connection.begin():
            known = ScriptDirectory.from_config(alembic_config())
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None and current not in {r.revision for r in known.walk_revisions()}:
                raise DatabaseError(
                    f"{describe(engine.url)} is at schema revision {current}, which this "
                    f"release does not know (its newest is {head_revision()}): a newer "
                    "release synced it; run that release's `cumulo db sync`"
                )
            command.upgrade(alembic_config(connection), "head")
        revision = current_revision(engine)
        if revision is None:
            raise DatabaseError(f"{describe(engine.url)}: sync left no schema revision")
        return revision
    finally:
        if engine is not database:
            engine.dispose()
