"""What every group of queries shares: sessions, one transaction per call, and
the translation of integrity errors into the model's errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, TypeVar, cast

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import Executable

from cumulo.model.exceptions import ModelError
from cumulo.objects import VersionedObject

from .. import convert
from ..engine import writer
from ..exceptions import DatabaseError
from ..models import NAME

T = TypeVar("T")

IN_CHUNK: Final = 500
"""At most this many values in one ``IN (...)`` (SQLite limits bound parameters)."""

CAS_ATTEMPTS: Final = 3
"""Tries of a compare-and-swap whose row changed back between the UPDATE and the re-read."""

Check = Callable[[Session], ModelError | None]
"""Given a fresh session, the model error that explains an integrity error, or None."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def in_chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def checked_name(what: str, value: str) -> str:
    if len(value) > NAME:
        raise ValueError(f"{what}: at most {NAME} characters, got {len(value)}")
    return value


def matched_rows(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE as written (the session's objects are not synced);
    returns how many rows it matched."""
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return cast("CursorResult[Any]", result).rowcount


def row_exists(session: Session, *criteria: ColumnElement[bool]) -> bool:
    return bool(session.scalar(select(exists().where(*criteria))))


def taken(error: ModelError, *criteria: ColumnElement[bool]) -> Check:
    """The error to raise when a row matching ``criteria`` exists (a unique key)."""
    return lambda session: error if row_exists(session, *criteria) else None


def missing(error: ModelError, *criteria: ColumnElement[bool]) -> Check:
    """The error to raise when no row matches ``criteria`` (a foreign key)."""
    return lambda session: None if row_exists(session, *criteria) else error


def without_keys(changes: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``changes`` without the key fields that name the row (they are not written)."""
    return {name: value for name, value in changes.items() if name not in keys}


class Queries:
    """The base of the query groups that make up ``SqlStorage``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._readers = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._writers = sessionmaker(writer(engine), expire_on_commit=False, autoflush=False)

    def __repr__(self) -> str:
        return f"SqlStorage({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._readers() as session, session.begin():
            yield session

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A write transaction: committed at the end, rolled back on any error."""
        with self._writers() as session, session.begin():
            yield session

    def _explain(self, error: IntegrityError, *checks: Check) -> Exception:
        """The model error behind an integrity error (the transaction has rolled back)."""
        with self._reading() as session:
            for check in checks:
                found = check(session)
                if found is not None:
                    return found
        reason = " ".join(str(error.orig).split())
        return DatabaseError(f"the database refused the write: {reason}")

    def _save(
        self,
        row_class: type[Any],
        object_class: type[VersionedObject],
        criterion: ColumnElement[bool],
        changes: dict[str, Any],
        not_found: ModelError,
        conflicts: Callable[[Any], list[Check]] | None = None,
    ) -> Any:
        """Write ``changes`` to the one live row matching ``criterion``; returns the
        row as stored. ``conflicts(row)``, given the row as it is about to be
        written, says which unique keys an integrity error may come from."""
        values = convert.columns(object_class).values_of(without_keys(changes, "id"), strict=True)
        values["updated_at"] = utcnow()
        criteria = [criterion]
        if hasattr(row_class, "deleted"):
            criteria.append(row_class.deleted == 0)
        checks: list[Check] = []
        try:
            with self._writing() as session:
                row = session.scalar(select(row_class).where(*criteria))
                if row is None:
                    raise not_found
                for attr, value in values.items():
                    setattr(row, attr, value)
                if conflicts is not None:
                    checks = conflicts(row)
                session.flush()
                session.refresh(row)
                return row
        except IntegrityError as exc:
            raise self._explain(exc, *checks) from exc
