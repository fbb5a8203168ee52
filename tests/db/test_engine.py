"""Tests of cumulo/db/engine.py: URLs, SQLite settings, sync, and the error for an
unreachable database."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import event, inspect

from cumulo.db import engine as db_engine
from cumulo.db.engine import (
    DEFAULT_DATABASE_URL,
    create_engine,
    current_revision,
    default_database_url,
    describe,
    head_revision,
    parse_url,
    sync,
)
from cumulo.db.exceptions import (
    DatabaseError,
    DatabaseUnreachableError,
    UnsupportedDatabaseError,
)
from cumulo.db.models import Base


def test_urls_get_cumulos_drivers():
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    mysql = parse_url("mysql://u@h/db")
    assert mysql.drivername == "mysql+pymysql" and mysql.query["charset"] == "utf8mb4"
    assert parse_url("mariadb://u@h/db").drivername == "mariadb+pymysql"
    assert parse_url("sqlite:///x.db").drivername == "sqlite"


def test_unsupported_and_invalid_urls():
    with pytest.raises(UnsupportedDatabaseError, match="unsupported database 'oracle'"):
        create_engine("oracle://u@h/db")
    with pytest.raises(UnsupportedDatabaseError, match="invalid database URL 'not a url'"):
        create_engine("not a url")


def test_describe_never_shows_the_password():
    shown = describe("postgresql+psycopg://u:secret@db.example:6543/cumulo")
    assert shown == "postgresql database 'cumulo' at db.example:6543"
    assert (
        describe("mysql+pymysql://root@127.0.0.1/test") == "mysql database 'test' at 127.0.0.1:3306"
    )


def test_default_url_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("CUMULO_DATABASE_URL", raising=False)
    assert default_database_url() == DEFAULT_DATABASE_URL == "sqlite:///var/cumulo.db"
    monkeypatch.setenv("CUMULO_DATABASE_URL", "postgresql://x@y/z")
    assert default_database_url() == "postgresql://x@y/z"


def test_sqlite_is_wal_with_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'sub' / 'c.db'}")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == db_engine.SQLITE_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()
    assert (tmp_path / "sub").is_dir()


def test_sqlite_write_transactions_take_the_lock_when_they_begin(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    statements: list[str] = []
    try:
        event.listen(engine, "before_cursor_execute", lambda c, cur, s, *a: statements.append(s))
        with db_engine.writer(engine).begin() as connection:
            connection.exec_driver_sql("SELECT 1")
        with engine.begin() as connection:
            connection.exec_driver_sql("SELECT 1")
    finally:
        engine.dispose()
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("scheme", "service"),
    [("postgresql+psycopg://postgres", "postgresql"), ("mysql+pymysql://root", "mysql")],
)
def test_an_unreachable_server_is_named_with_its_address(scheme, service):
    port = _closed_port()
    with pytest.raises(DatabaseUnreachableError) as caught:
        sync(f"{scheme}@127.0.0.1:{port}/cumulo")
    message = str(caught.value)
    assert message.startswith(f"cannot connect to {service} database 'cumulo' at 127.0.0.1:{port}")
    assert "refused" in message.lower()


def test_an_unusable_sqlite_path_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    target = blocker / "sub" / "c.db"
    with pytest.raises(DatabaseUnreachableError, match="cannot create the directory of SQLite"):
        sync(f"sqlite:///{target}")
    directory = tmp_path / "dir.db"
    directory.mkdir()
    with pytest.raises(DatabaseUnreachableError) as caught:
        sync(f"sqlite:///{directory}")
    assert str(caught.value).startswith(f"cannot connect to SQLite database at {directory}: ")


def test_sync_creates_the_schema_and_is_idempotent(database):
    assert current_revision(database.engine) == head_revision() == "0007"
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert sync(database.engine) == "0007"
    assert sync(database.engine) == "0007"
    assert set(inspect(database.engine).get_table_names()) == tables


def test_sync_by_url_on_a_new_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'cumulo.db'}"
    assert sync(url) == head_revision()
    engine = create_engine(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_concurrent_syncs_of_one_sqlite_file_both_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    results: list[object] = []

    def run() -> None:
        try:
            results.append(sync(url))
        except Exception as exc:  # pragma: no cover - reported by the assert
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["0007", "0007"]


def test_a_database_synced_by_a_newer_release_is_refused_clearly(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    sync(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
        with pytest.raises(DatabaseError, match="is at schema revision 0099, which this release"):
            sync(engine)
        assert current_revision(engine) == "0099"
    finally:
        engine.dispose()
