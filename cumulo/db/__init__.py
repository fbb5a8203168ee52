"""Cumulo's database: tables, Alembic migrations, and ``SqlStorage``, the model's
``Storage`` port on SQLite (the embedded default), PostgreSQL or MariaDB.

Only the conductor imports this package::

    engine = create_engine(url)   # cumulo.db.engine
    sync(engine)                  # create or upgrade the schema (`cumulo db sync`)
    set_storage(SqlStorage(engine))
"""

from .api import SqlStorage
from .engine import DEFAULT_DATABASE_URL, create_engine, default_database_url, sync
from .exceptions import DatabaseError, DatabaseUnreachableError, UnsupportedDatabaseError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DatabaseError",
    "DatabaseUnreachableError",
    "SqlStorage",
    "UnsupportedDatabaseError",
    "create_engine",
    "default_database_url",
    "sync",
]
