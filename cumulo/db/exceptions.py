"""Errors of the database layer itself (the model's errors cover missing and
conflicting objects): a database that cannot be used as asked."""

from __future__ import annotations


class DatabaseError(Exception):
    """A database could not be used as asked."""


class UnsupportedDatabaseError(DatabaseError, ValueError):
    """A database URL Cumulo cannot use."""


class DatabaseUnreachableError(DatabaseError):
    """A database server (or SQLite file) could not be connected to."""
