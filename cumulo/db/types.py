"""Column types that store the model's values portably (SQLite, PostgreSQL, MariaDB).

Every type here reads back exactly the Python value the objects hold: UUIDs,
timezone-aware UTC datetimes, enum members, IP addresses, and nested versioned
objects, which are stored as the JSON text of their OVO primitive (with their
version, so a newer release can still read a row an older one wrote).
"""

from __future__ import annotations

import enum
import ipaddress
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from cumulo.objects import VersionedObject

MYSQL_FAMILY = ("mysql", "mariadb")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

E = TypeVar("E", bound=enum.StrEnum)
I = TypeVar("I", bound=enum.IntEnum)  # noqa: E741
O = TypeVar("O", bound=VersionedObject)  # noqa: E741


def long_text() -> TypeEngine[str]:
    """Text that may exceed 64 KiB (MariaDB's ``TEXT`` would cut it)."""
    return Text().with_variant(mysql.MEDIUMTEXT(), *MYSQL_FAMILY)


def precise_datetime() -> TypeEngine[datetime]:
    """A datetime column that keeps microseconds on every backend."""
    return DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL_FAMILY)


class UUIDString(TypeDecorator[uuid.UUID]):
    """A UUID as its 36-character text (no native UUID type: the same everywhere)."""

    impl = String(36)
    cache_ok = True

    def process_bind_param(self, value: uuid.UUID | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as naive UTC with microseconds."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # Unadapted: SQLAlchemy adapts it to the driver; DDL and Alembic see the type.
        return mysql.DATETIME(fsp=6) if dialect.name in MYSQL_FAMILY else DateTime()

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got naive {value.isoformat()}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class EnumString(TypeDecorator[E], Generic[E]):
    """A string enum stored as its value (no database ENUM type: adding a value
    later needs no migration)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int = 32) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(self.enum_class(value).value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_class(value)


class IntEnumInteger(TypeDecorator[I], Generic[I]):
    """An integer enum stored as its value."""

    impl = Integer
    cache_ok = True

    def __init__(self, enum_class: type[I]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: I | int | None, dialect: Dialect) -> int | None:
        return None if value is None else int(self.enum_class(value))

    def process_result_value(self, value: int | None, dialect: Dialect) -> I | None:
        return None if value is None else self.enum_class(value)


class IPAddressString(TypeDecorator[IPAddress]):
    """An IPv4 or IPv6 address as text."""

    impl = String(45)
    cache_ok = True

    def process_bind_param(self, value: IPAddress | str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(ipaddress.ip_address(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> IPAddress | None:
        return None if value is None else ipaddress.ip_address(value)


class IPNetworkString(TypeDecorator[IPNetwork]):
    """An IPv4 or IPv6 network (CIDR) as text."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: IPNetwork | str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(ipaddress.ip_network(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> IPNetwork | None:
        return None if value is None else ipaddress.ip_network(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _json_text(dialect: Dialect) -> TypeEngine[Any]:
    # Unadapted: SQLAlchemy adapts it to the driver; DDL and Alembic see TEXT.
    return mysql.MEDIUMTEXT() if dialect.name in MYSQL_FAMILY else Text()


class StringMap(TypeDecorator[dict[str, str]]):
    """A ``dict[str, str]`` as a JSON object."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _json_text(dialect)

    def process_bind_param(self, value: dict[str, str] | None, dialect: Dialect) -> str | None:
        return None if value is None else _dumps(dict(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, str] | None:
        if value is None:
            return None
        loaded: dict[str, str] = json.loads(value)
        return loaded


def stored_primitive(obj: VersionedObject) -> dict[str, Any]:
    """The OVO primitive of ``obj`` as stored: its values, without pending changes."""
    clean = obj.obj_clone()
    clean.obj_reset_changes(recursive=True)
    return clean.obj_to_primitive()


def _loaded(object_class: type[O], primitive: Any) -> O:
    obj = object_class.obj_from_primitive(primitive)
    obj.obj_reset_changes(recursive=True)
    return obj


class ObjectJSON(TypeDecorator[O], Generic[O]):
    """A versioned object (``NetworkInfo``, ``CpuInfo``...) as the JSON text of its
    OVO primitive, never as an unversioned dict."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _json_text(dialect)

    def __init__(self, object_class: type[O]) -> None:
        super().__init__()
        self.object_class = object_class

    def process_bind_param(self, value: O | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, self.object_class):
            raise TypeError(
                f"expected a {self.object_class.obj_name()} object, got {type(value).__name__}"
            )
        return _dumps(stored_primitive(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> O | None:
        return None if value is None else _loaded(self.object_class, json.loads(value))


class ObjectListJSON(TypeDecorator[list[O]], Generic[O]):
    """A list of versioned objects as a JSON array of their OVO primitives."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return _json_text(dialect)

    def __init__(self, object_class: type[O]) -> None:
        super().__init__()
        self.object_class = object_class

    def process_bind_param(self, value: list[O] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        for item in value:
            if not isinstance(item, self.object_class):
                raise TypeError(
                    f"expected {self.object_class.obj_name()} objects, got {type(item).__name__}"
                )
        return _dumps([stored_primitive(item) for item in value])

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[O] | None:
        if value is None:
            return None
        return [_loaded(self.object_class, item) for item in json.loads(value)]
