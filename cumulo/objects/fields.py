"""``field(...)``: per-field metadata, including the field's history."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

from . import versions
from .exceptions import ObjectDeclarationError
from .types import FieldType, NullableType


class _Missing:
    """Sentinel: no default declared."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

NO_DEFAULT: Any = MISSING
"""``field(default=NO_DEFAULT)``: a field with no default that a constructor call may
still leave out (a database id, a lazy field). Type checkers see a default; at run
time the field simply stays unset."""

T = TypeVar("T")


class FieldInfo:
    """What ``field(...)`` returns before the class is built."""

    __slots__ = (
        "added",
        "default",
        "default_factory",
        "lazy",
        "read_only",
        "removed",
        "sensitive",
        "values_added",
    )

    def __init__(
        self,
        default: Any,
        default_factory: Callable[[], Any] | None,
        added: str | None,
        removed: str | None,
        read_only: bool,
        sensitive: bool,
        lazy: bool,
        values_added: Mapping[str, Iterable[Any]] | None,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.added = added
        self.removed = removed
        self.read_only = read_only
        self.sensitive = sensitive
        self.lazy = lazy
        self.values_added = {k: tuple(v) for k, v in (values_added or {}).items()}


@overload
def field(
    *,
    default: T,
    added: str | None = ...,
    removed: str | None = ...,
    read_only: bool = ...,
    sensitive: bool = ...,
    lazy: bool = ...,
    values_added: Mapping[str, Iterable[Any]] | None = ...,
) -> T: ...


@overload
def field(
    *,
    default_factory: Callable[[], T],
    added: str | None = ...,
    removed: str | None = ...,
    read_only: bool = ...,
    sensitive: bool = ...,
    lazy: bool = ...,
    values_added: Mapping[str, Iterable[Any]] | None = ...,
) -> T: ...


@overload
def field(
    *,
    added: str | None = ...,
    removed: str | None = ...,
    read_only: bool = ...,
    sensitive: bool = ...,
    lazy: bool = ...,
    values_added: Mapping[str, Iterable[Any]] | None = ...,
) -> Any: ...


def field(
    *,
    default: Any = MISSING,
    default_factory: Callable[[], Any] | None = None,
    added: str | None = None,
    removed: str | None = None,
    read_only: bool = False,
    sensitive: bool = False,
    lazy: bool = False,
    values_added: Mapping[str, Iterable[Any]] | None = None,
) -> Any:
    """Declare a field's metadata.

    - ``default`` / ``default_factory``: value given to a new object that was not
      passed the field (and to an object loaded from a version older than ``added``).
    - ``added="1.2"``: the object version that introduced the field; backports to
      older versions drop it.
    - ``removed="2.0"``: the (major) version that dropped it; kept for history.
    - ``read_only``: a second assignment of a different value is refused.
    - ``sensitive``: masked in ``repr`` and :func:`obj_to_loggable`.
    - ``lazy``: reading it while unset calls ``obj_load_attr(name)`` once.
    - ``values_added={"1.3": ["shelved"]}``: enum values that appeared after the
      field itself; a backport below that version refuses an object holding them.
    """
    if default is not MISSING and default_factory is not None:
        raise ObjectDeclarationError("field(): give default or default_factory, not both")
    return FieldInfo(
        default, default_factory, added, removed, read_only, sensitive, lazy, values_added
    )


class FieldSpec:
    """A fully resolved field of a registered class."""

    __slots__ = (
        "added",
        "added_v",
        "adopt",
        "default",
        "default_factory",
        "fast_default",
        "lazy",
        "name",
        "nullable",
        "read_only",
        "removed",
        "removed_v",
        "sensitive",
        "type",
        "values_added",
        "where",
    )

    def __init__(
        self, name: str, ftype: FieldType, info: FieldInfo, first_version: str, objname: str = "?"
    ) -> None:
        self.name = name
        self.type = ftype
        self.where = f"{objname}.{name}"
        self.nullable = isinstance(ftype, NullableType)
        # Stored values of container or object fields are wrapped (tracked, owned).
        self.adopt = ftype.mutable_container or ftype.has_objects
        self.default = info.default
        self.default_factory = info.default_factory
        self.added = info.added or first_version
        self.removed = info.removed
        self.read_only = info.read_only
        self.sensitive = info.sensitive
        self.lazy = info.lazy
        self.values_added = info.values_added
        self.added_v = versions.parse(self.added)
        self.removed_v = versions.parse(self.removed) if self.removed else None
        # A default that needs neither a copy nor a check can be stored as it is.
        self.fast_default = self.default_factory is None and (
            self.default is None or type(self.default) in (str, int, float, bool)
        )
        if self.has_default:
            try:
                ftype.coerce(self.make_default(), self.where)
            except ValueError as exc:
                raise ObjectDeclarationError(f"{self.where}: invalid default: {exc}") from None

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING or self.default_factory is not None

    def make_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        default = self.default
        if isinstance(default, list | dict | set):
            return type(default)(default)
        return default

    def exists_at(self, version: versions.Version) -> bool:
        if version < self.added_v:
            return False
        return self.removed_v is None or version < self.removed_v

    def values_at(self, version: versions.Version) -> frozenset[Any] | None:
        """Enum values allowed at ``version`` (None: no restriction)."""
        if not self.values_added:
            return None
        enum_t = self.type.enum()
        assert enum_t is not None
        later = {
            v
            for ver, vals in self.values_added.items()
            if versions.parse(ver) > version
            for v in vals
        }
        return frozenset(v for v in enum_t.values if v not in later)

    def value_added_in(self, value: Any) -> str | None:
        for ver, vals in self.values_added.items():
            if value in vals:
                return ver
        return None
