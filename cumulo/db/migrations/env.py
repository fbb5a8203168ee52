"""The Alembic environment: runs the migrations on the connection that
``cumulo.db.engine.sync`` passes in ``config.attributes["connection"]``.

Run by hand (``alembic -c <ini with script_location> upgrade head``), it uses
``sqlalchemy.url`` from that file, else ``$CUMULO_DATABASE_URL``, else the
embedded SQLite default; ``--sql`` prints the DDL instead of running it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from cumulo.db.engine import connect, create_engine, default_database_url, writer
from cumulo.db.models import Base

config = context.config


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or default_database_url()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given: Connection | None = config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = create_engine(_url())
    try:
        with connect(writer(engine)) as connection, connection.begin():
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
