"""Hypervisor drivers: the object-only driver interface (``driver``), their
configuration (``config``), the registry that loads them by name (``loader``), the
in-memory fake (``fake``), QEMU (``qemu``), and what drivers share (device names,
firewall semantics, errors).

This package imports ``cumulo.model`` and ``cumulo.objects`` only; drivers never
reach the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import DriverConfig
from .driver import (
    CAPABILITIES,
    ComputeDriver,
    DiagnosticsDriver,
    FirewallDriver,
    HostDriver,
    LifecycleDriver,
    MigrationDriver,
    NetworkDriver,
    PostMigrationMethod,
    RecoverMigrationMethod,
    VolumeDriver,
)
from .loader import driver_names, load_driver

if TYPE_CHECKING:
    DRIVER_NAMES: tuple[str, ...]


def __getattr__(name: str) -> object:
    # Derived from the registry when asked for: the registry reads entry points.
    if name == "DRIVER_NAMES":
        return tuple(driver_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CAPABILITIES",
    "DRIVER_NAMES",
    "ComputeDriver",
    "DiagnosticsDriver",
    "DriverConfig",
    "FirewallDriver",
    "HostDriver",
    "LifecycleDriver",
    "MigrationDriver",
    "NetworkDriver",
    "PostMigrationMethod",
    "RecoverMigrationMethod",
    "VolumeDriver",
    "driver_names",
    "load_driver",
]
