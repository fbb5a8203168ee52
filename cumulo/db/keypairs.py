"""``KeyPairStore``: users' key pairs (``os-keypairs``), by user and name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from .models import KeyPairRow
from .records import RecordStore, utcnow


class KeyPairNotFound(LookupError):
    def __init__(self, user_id: str, name: str) -> None:
        super().__init__(f"Keypair {name} not found for user {user_id}")
        self.user_id, self.name = user_id, name


class KeyPairExists(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Key pair '{name}' already exists.")
        self.name = name


@dataclass(frozen=True, slots=True)
class KeyPair:
    id: int
    name: str
    user_id: str
    fingerprint: str
    public_key: str
    type: str
    created_at: datetime
    updated_at: datetime | None


def _record(row: KeyPairRow) -> KeyPair:
    return KeyPair(
        row.id,
        row.name,
        row.user_id,
        row.fingerprint,
        row.public_key,
        row.type,
        row.created_at,
        row.updated_at,
    )


class KeyPairStore(RecordStore):
    def create(
        self, user_id: str, name: str, fingerprint: str, public_key: str, key_type: str
    ) -> KeyPair:
        """A new key pair; raises :class:`KeyPairExists` when the user has one so named."""
        duplicate = KeyPairExists(name)
        with self.writing(duplicate) as session:
            taken = session.scalar(
                select(KeyPairRow.id).where(KeyPairRow.user_id == user_id, KeyPairRow.name == name)
            )
            if taken is not None:
                raise duplicate
            row = KeyPairRow(
                name=name,
                user_id=user_id,
                fingerprint=fingerprint,
                public_key=public_key,
                type=key_type,
                created_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return _record(row)

    def get(self, user_id: str, name: str) -> KeyPair:
        with self.reading() as session:
            row = session.scalar(
                select(KeyPairRow).where(KeyPairRow.user_id == user_id, KeyPairRow.name == name)
            )
            if row is None:
                raise KeyPairNotFound(user_id, name)
            return _record(row)

    def list(self, user_id: str) -> list[KeyPair]:
        """The user's key pairs by name (the order of Nova's paging marker)."""
        with self.reading() as session:
            rows = session.scalars(
                select(KeyPairRow).where(KeyPairRow.user_id == user_id).order_by(KeyPairRow.name)
            )
            return [_record(row) for row in rows]

    def count(self, user_id: str) -> int:
        with self.reading() as session:
            counted = session.scalar(
                select(func.count()).select_from(KeyPairRow).where(KeyPairRow.user_id == user_id)
            )
            return int(counted or 0)

    def delete(self, user_id: str, name: str) -> None:
        with self.writing() as session:
            result = session.execute(
                delete(KeyPairRow).where(KeyPairRow.user_id == user_id, KeyPairRow.name == name),
                execution_options={"synchronize_session": False},
            )
            if not getattr(result, "rowcount", 0):
                raise KeyPairNotFound(user_id, name)
