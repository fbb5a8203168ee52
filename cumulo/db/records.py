"""``RecordStore``: the transactions of a small store of API records kept in plain
tables (key pairs, quota limits), which no compute host reads: no versioned
objects, each method one transaction, a unique-key violation raised as the error
the store names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .engine import writer


def utcnow() -> datetime:
    return datetime.now(UTC)


class RecordStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._readers = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._writers = sessionmaker(writer(engine), expire_on_commit=False, autoflush=False)

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return f"{type(self).__name__}({url!r})"

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._readers() as session, session.begin():
            yield session

    @contextmanager
    def writing(self, duplicate: Exception | None = None) -> Iterator[Session]:
        """A write transaction; a unique-key violation (a concurrent create of the same
        name) becomes ``duplicate`` when given."""
        try:
            with self._writers() as session, session.begin():
                yield session
        except IntegrityError as exc:
            text = str(exc.orig).lower()
            if duplicate is not None and ("unique" in text or "duplicate" in text):
                raise duplicate from exc
            raise
