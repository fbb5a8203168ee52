"""``DriverConfig``: the frozen, typed configuration a driver is made with, the fields
every driver shares, and building one from option values (a CLI, a TOML file)."""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import os
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclasses.dataclass(frozen=True, kw_only=True)
class DriverConfig:
    """What an operator sets for one host's driver; each driver subclasses it with its
    own fields. ``None`` leaves a value to the driver (its default, or what the host
    has)."""

    driver: ClassVar[str] = ""
    """The driver name this configuration is for (in error messages)."""

    vcpus: int | None = None
    """The host's vCPUs."""
    memory_mb: int | None = None
    """The host's memory in MiB."""
    disk_gb: int | None = None
    """The host's instance disk in GiB."""
    host_ip: IPAddress | None = None
    """The address other hosts reach this one at (migration traffic)."""

    def __post_init__(self) -> None:
        # A mode, path or address given as a string (``accel="tcg"``) becomes its type,
        # so a typo fails here, where the config is made, and not at init_host.
        for field, kind in _field_types(type(self)).items():
            value = getattr(self, field)
            if isinstance(value, str | os.PathLike) and str not in _union_members(kind):
                object.__setattr__(self, field, _convert(field, kind, value))

    @classmethod
    def option_names(cls) -> list[str]:
        """The options :meth:`from_options` takes, in declaration order."""
        return [field.name for field in dataclasses.fields(cls)]

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> Self:
        """Build a config from option values: strings from a command line, or the
        values of a TOML table, converted by the type of each field.

        Raises:
            ValueError: an option this driver does not take, or a value that is not
                what its option expects (the message names the option).
        """
        types_ = _field_types(cls)
        unknown = sorted(set(options) - set(types_))
        if unknown:
            raise ValueError(
                f"driver {cls.driver}: unknown option{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))} (its options: {', '.join(cls.option_names())})"
            )
        values: dict[str, Any] = {
            name: _convert(name, types_[name], value) for name, value in options.items()
        }
        return cls(**values)


def _field_types(cls: type[DriverConfig]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}


def _union_members(kind: Any) -> tuple[Any, ...]:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return typing.get_args(kind)
    return (kind,)


def _convert(name: str, kind: Any, value: object) -> object:
    members = _union_members(kind)
    if type(None) in members and value is None:
        return None
    wanted = [member for member in members if member is not type(None)]
    if set(wanted) == {ipaddress.IPv4Address, ipaddress.IPv6Address}:
        wanted = [IPAddress]
    if len(wanted) != 1:
        raise ValueError(f"driver option {name}: cannot be given as an option")
    target = wanted[0]
    try:
        return _converter(target)(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"driver option {name}: {exc}, got {value!r}") from None


def _converter(target: Any) -> Callable[[object], object]:
    if target is IPAddress:
        return _to_ip
    if typing.get_origin(target) is tuple and typing.get_args(target) == (str, ...):
        return _to_str_tuple
    if isinstance(target, type):
        if issubclass(target, enum.StrEnum):
            return _enum_converter(target)
        if target is bool:
            return _to_bool
        if target is int:
            return _to_int
        if target is float:
            return _to_float
        if target is str:
            return _to_str
        if target is Path:
            return _to_path
    return _unsupported


def _to_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError("expected an integer")


def _to_float(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ValueError("expected a number")


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise ValueError("expected true or false")


def _to_str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise ValueError("expected a string")


def _to_path(value: object) -> Path:
    if isinstance(value, str | os.PathLike) and str(value):
        return Path(value)
    raise ValueError("expected a path")


def _to_ip(value: object) -> IPAddress:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    if isinstance(value, str):
        try:
            return ipaddress.ip_address(value.strip())
        except ValueError:
            pass
    raise ValueError("expected an IP address")


def _to_str_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ValueError("expected a list of strings (or one comma-separated string)")


def _enum_converter(target: type[enum.StrEnum]) -> Callable[[object], object]:
    def convert(value: object) -> enum.StrEnum:
        if isinstance(value, target):
            return value
        if isinstance(value, str):
            try:
                return target(value)
            except ValueError:
                pass
        raise ValueError(f"expected one of {', '.join(member.value for member in target)}")

    return convert


def _unsupported(value: object) -> object:
    raise ValueError("cannot be given as an option")
