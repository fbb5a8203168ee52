"""Alembic migrations of Cumulo's database; ``cumulo db sync`` (``cumulo.db.engine.sync``)
runs them, configured in code: no ``alembic.ini`` is needed.

Expand-only, within a release: a migration adds tables, columns (nullable or with
a server default), indexes and constraints, and never drops, renames or narrows
anything, so the previous release's services keep working on the upgraded
schema during a rolling upgrade. Data is moved by the new code (online, as it
reads and writes), and what is no longer used is dropped by a migration of a
*later* release, once no service of the old one is left. There are no
downgrades: restore a backup instead. ``tests/db/test_migrations.py`` refuses a
migration that drops or renames a table or a column.

A new migration: copy ``versions/0001_initial.py``'s shape (``revision`` is the
next number, ``down_revision`` the previous one) and describe the columns with
plain SQLAlchemy types, not ``cumulo.db.types``: a migration is frozen in time.
"""
