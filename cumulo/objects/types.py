"""Field types: what an annotation means for checking, the wire and the schema.

An annotation such as ``list[Flavor] | None`` becomes a tree of :class:`FieldType`
nodes. Each node knows how to check a value assigned in Python (``coerce``), which
type msgspec decodes it with (``wire``), and how to describe itself in the
normalized schema that fingerprints and JSON Schema are made from.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import types
import typing
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, Literal, NewType, Union

import msgspec

from .addresses import IP_CLASSES, IP_WIRE, MAC_RE, MACWire, parse_ip
from .exceptions import FieldValueError, ObjectDeclarationError

if typing.TYPE_CHECKING:
    from .base import VersionedObject

MACAddress = NewType("MACAddress", str)
"""A MAC address ``aa:bb:cc:dd:ee:ff``; stored lower-case."""

_MAC_PATTERN = MAC_RE.pattern

# Resolves an object class to the msgspec type its envelope decodes with.
EnvelopeFor = Callable[[type["VersionedObject"]], Any]


def _tname(value: object) -> str:
    return type(value).__name__


class FieldType:
    """One node of a field's type tree."""

    kind: str = ""
    mutable_container = False

    def coerce(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        """The annotation msgspec decodes this type with.

        ``values`` restricts enum values (for historical schemas).
        """
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        raise NotImplementedError

    def children(self) -> tuple[FieldType, ...]:
        return ()

    def walk(self) -> Iterator[FieldType]:
        yield self
        for child in self.children():
            yield from child.walk()

    def object_classes(self) -> Iterator[type[VersionedObject]]:
        for node in self.walk():
            if isinstance(node, ObjectType):
                yield node.cls

    @functools.cached_property
    def has_objects(self) -> bool:
        return any(True for _ in self.object_classes())

    @functools.cached_property
    def needs_adopt(self) -> bool:
        """Stored values are wrapped on first read: tracked containers, owned objects."""
        return self.mutable_container or self.has_objects

    def enum(self) -> EnumType | None:
        for node in self.walk():
            if isinstance(node, EnumType):
                return node
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


class StrType(FieldType):
    kind = "str"

    def coerce(self, value: Any, where: str) -> Any:
        if type(value) is str or isinstance(value, str):
            return value
        raise FieldValueError(where, f"Expected `str`, got `{_tname(value)}`")

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return str

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "string"}


class IntType(FieldType):
    kind = "int"

    def coerce(self, value: Any, where: str) -> Any:
        if type(value) is int:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        raise FieldValueError(where, f"Expected `int`, got `{_tname(value)}`")

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return int

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "integer"}


class FloatType(FieldType):
    kind = "float"

    def coerce(self, value: Any, where: str) -> Any:
        if type(value) is float:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise FieldValueError(where, f"Expected `float`, got `{_tname(value)}`")

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return float

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "number"}


class BoolType(FieldType):
    kind = "bool"

    def coerce(self, value: Any, where: str) -> Any:
        if type(value) is bool:
            return value
        raise FieldValueError(where, f"Expected `bool`, got `{_tname(value)}`")

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return bool

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "boolean"}


class UUIDType(FieldType):
    kind = "uuid"

    def coerce(self, value: Any, where: str) -> Any:
        if type(value) is uuid.UUID:
            return value
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                raise FieldValueError(where, f"Invalid UUID {value!r}") from None
        raise FieldValueError(where, f"Expected `uuid`, got `{_tname(value)}`")

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return uuid.UUID

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "string", "format": "uuid"}


class DateTimeType(FieldType):
    """A timezone-aware datetime; microseconds survive the wire."""

    kind = "datetime"

    def coerce(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise FieldValueError(where, f"Invalid ISO 8601 datetime {value!r}") from None
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise FieldValueError(
                    where, "Expected a timezone-aware `datetime`, got a naive one"
                )
            return value
        raise FieldValueError(where, f"Expected `datetime`, got `{_tname(value)}`")

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return Annotated[datetime, msgspec.Meta(tz=True)]

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


class IPType(FieldType):
    """IPv4/IPv6 addresses and networks, stored as :mod:`ipaddress` objects."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.classes = IP_CLASSES[kind]

    def coerce(self, value: Any, where: str) -> Any:
        if isinstance(value, self.classes):
            return value
        if isinstance(value, str):
            try:
                parsed = parse_ip(self.kind, value)
            except ValueError as exc:
                raise FieldValueError(where, str(exc)) from None
            return parsed
        raise FieldValueError(where, f"Expected `{self.kind}`, got `{_tname(value)}`")

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        # msgspec has no native ipaddress support; dec_hook turns the string into one.
        return IP_WIRE[self.kind]

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        v4 = {"type": "string", "format": "ipv4"}
        v6 = {"type": "string", "format": "ipv6"}
        v4net = {"type": "string", "pattern": _V4NET_PATTERN}
        v6net = {"type": "string", "pattern": _V6NET_PATTERN}
        schemas: dict[str, dict[str, Any]] = {
            "ipv4": v4,
            "ipv6": v6,
            "ip": {"anyOf": [v4, v6]},
            "ipv4net": v4net,
            "ipv6net": v6net,
            "ipnet": {"anyOf": [v4net, v6net]},
        }
        return schemas[self.kind]


# Shapes of networks for JSON Schema (the decoder checks them fully).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])"
_V4NET_PATTERN = rf"^{_OCTET}(\.{_OCTET}){{3}}/([0-9]|[12][0-9]|3[0-2])$"
_V6NET_PATTERN = r"^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$"


class MACType(FieldType):
    kind = "mac"

    def coerce(self, value: Any, where: str) -> Any:
        if isinstance(value, str) and MAC_RE.match(value):
            return value.lower()
        if isinstance(value, str):
            raise FieldValueError(where, f"Invalid MAC address {value!r}")
        raise FieldValueError(where, f"Expected `mac`, got `{_tname(value)}`")

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return MACWire

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "string", "pattern": _MAC_PATTERN}


class EnumType(FieldType):
    """An enum (``enum.Enum`` subclass with str/int values) or a ``Literal`` set."""

    kind = "enum"

    def __init__(self, values: tuple[Any, ...], enum_cls: type[enum.Enum] | None) -> None:
        self.values = values  # wire values, in declaration order
        self.enum_cls = enum_cls
        self._allowed = frozenset(values)

    def coerce(self, value: Any, where: str) -> Any:
        if self.enum_cls is not None:
            if isinstance(value, self.enum_cls):
                return value
            if isinstance(value, bool):
                raise FieldValueError(where, f"Invalid enum value {value!r}")
            try:
                return self.enum_cls(value)
            except ValueError:
                pass
        elif value in self._allowed and type(value) in (str, int):
            return value
        raise FieldValueError(
            where, f"Invalid enum value {value!r}, expected one of {list(self.values)}"
        )

    @staticmethod
    def wire_value(value: Any) -> Any:
        return value.value if isinstance(value, enum.Enum) else value

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        if values is None and self.enum_cls is not None:
            return self.enum_cls
        allowed = [v for v in self.values if values is None or v in values]
        if not allowed:
            return typing.Never
        return Literal[tuple(allowed)]

    def describe(self) -> dict[str, Any]:
        return {"kind": "enum", "values": sorted(self.values, key=repr)}

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"enum": list(self.values)}


class ListType(FieldType):
    kind = "list"
    mutable_container = True

    def __init__(self, item: FieldType) -> None:
        self.item = item

    def coerce(self, value: Any, where: str) -> Any:
        if not isinstance(value, list | tuple):
            raise FieldValueError(where, f"Expected `list`, got `{_tname(value)}`")
        item = self.item
        return [item.coerce(v, f"{where}[{i}]") for i, v in enumerate(value)]

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return list[self.item.wire(envelope_for, values)]  # type: ignore[misc]

    def describe(self) -> dict[str, Any]:
        return {"kind": "list", "item": self.item.describe()}

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "array", "items": self.item.json_schema(ref)}

    def children(self) -> tuple[FieldType, ...]:
        return (self.item,)


class SetType(FieldType):
    kind = "set"
    mutable_container = True

    def __init__(self, item: FieldType) -> None:
        self.item = item

    def coerce(self, value: Any, where: str) -> Any:
        if not isinstance(value, set | frozenset | list | tuple):
            raise FieldValueError(where, f"Expected `set`, got `{_tname(value)}`")
        item = self.item
        return {item.coerce(v, f"{where}[{v!r}]") for v in value}

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return set[self.item.wire(envelope_for, values)]  # type: ignore[misc]

    def describe(self) -> dict[str, Any]:
        return {"kind": "set", "item": self.item.describe()}

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "array", "uniqueItems": True, "items": self.item.json_schema(ref)}

    def children(self) -> tuple[FieldType, ...]:
        return (self.item,)


class DictType(FieldType):
    kind = "dict"
    mutable_container = True

    def __init__(self, value: FieldType) -> None:
        self.value = value

    def coerce(self, value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise FieldValueError(where, f"Expected `dict`, got `{_tname(value)}`")
        out = {}
        item = self.value
        for k, v in value.items():
            if not isinstance(k, str):
                raise FieldValueError(f"{where}[{k!r}]", f"Expected `str` key, got `{_tname(k)}`")
            out[k] = item.coerce(v, f"{where}[{k!r}]")
        return out

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return dict[str, self.value.wire(envelope_for, values)]  # type: ignore[misc]

    def describe(self) -> dict[str, Any]:
        return {"kind": "dict", "value": self.value.describe()}

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": self.value.json_schema(ref)}

    def children(self) -> tuple[FieldType, ...]:
        return (self.value,)


class NullableType(FieldType):
    kind = "nullable"

    def __init__(self, inner: FieldType) -> None:
        self.inner = inner
        self.mutable_container = inner.mutable_container

    def coerce(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        return self.inner.coerce(value, where)

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return self.inner.wire(envelope_for, values) | None

    def describe(self) -> dict[str, Any]:
        return {"kind": "nullable", "of": self.inner.describe()}

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return {"anyOf": [self.inner.json_schema(ref), {"type": "null"}]}

    def children(self) -> tuple[FieldType, ...]:
        return (self.inner,)


class ObjectType(FieldType):
    kind = "object"

    def __init__(self, cls: type[VersionedObject]) -> None:
        self.cls = cls

    def coerce(self, value: Any, where: str) -> Any:
        if type(value) is self.cls:
            return value
        # Exactly the declared class: the wire names one class per field, so a subclass
        # with more fields could not be sent.
        raise FieldValueError(
            where, f"Expected `{self.cls.obj_name()}` object, got `{_tname(value)}`"
        )

    def wire(self, envelope_for: EnvelopeFor, values: frozenset[str] | None = None) -> Any:
        return envelope_for(self.cls)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "object",
            "name": self.cls.obj_name(),
            "namespace": self.cls.OBJ_PROJECT_NAMESPACE,
        }

    def json_schema(self, ref: Callable[[type[VersionedObject]], dict[str, Any]]) -> dict[str, Any]:
        return ref(self.cls)


_SCALARS: dict[Any, Callable[[], FieldType]] = {
    str: StrType,
    int: IntType,
    float: FloatType,
    bool: BoolType,
    uuid.UUID: UUIDType,
    datetime: DateTimeType,
    MACAddress: MACType,
    ipaddress.IPv4Address: lambda: IPType("ipv4"),
    ipaddress.IPv6Address: lambda: IPType("ipv6"),
    ipaddress.IPv4Network: lambda: IPType("ipv4net"),
    ipaddress.IPv6Network: lambda: IPType("ipv6net"),
}


def from_annotation(annotation: Any, where: str) -> FieldType:
    """Build the type tree of a resolved annotation; ``where`` names it in errors."""
    from .base import VersionedObject

    if annotation in _SCALARS:
        return _SCALARS[annotation]()
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return from_annotation(args[0], where)
    if origin in (Union, types.UnionType):
        non_null = [a for a in args if a is not type(None)]
        if len(non_null) == len(args) - 1 and len(non_null) >= 1:
            if len(non_null) == 1:
                return NullableType(from_annotation(non_null[0], where))
            return NullableType(_union(non_null, where))
        return _union(list(args), where)
    if origin is list:
        return ListType(from_annotation(args[0], where))
    if origin in (set, frozenset):
        return SetType(from_annotation(args[0], where))
    if origin is dict:
        if args[0] is not str:
            raise ObjectDeclarationError(f"{where}: dict keys must be `str`, got {args[0]!r}")
        return DictType(from_annotation(args[1], where))
    if origin is Literal:
        if not all(type(a) in (str, int) for a in args):
            raise ObjectDeclarationError(f"{where}: Literal values must be str or int")
        return EnumType(tuple(args), None)
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            values = tuple(m.value for m in annotation)
            if not all(type(v) in (str, int) for v in values):
                raise ObjectDeclarationError(f"{where}: enum values must be str or int")
            return EnumType(values, annotation)
        if issubclass(annotation, VersionedObject):
            return ObjectType(annotation)
    raise ObjectDeclarationError(f"{where}: unsupported field type {annotation!r}")


def _union(members: list[Any], where: str) -> FieldType:
    ips = {m for m in members if m in (ipaddress.IPv4Address, ipaddress.IPv6Address)}
    nets = {m for m in members if m in (ipaddress.IPv4Network, ipaddress.IPv6Network)}
    if len(ips) == 2 and len(members) == 2:
        return IPType("ip")
    if len(nets) == 2 and len(members) == 2:
        return IPType("ipnet")
    raise ObjectDeclarationError(
        f"{where}: unions other than `T | None` and IPv4/IPv6 pairs are not supported"
    )
