"""Hypervisor drivers: the object-only driver interface (``driver``), the in-memory
fake (``fake``), and what drivers share (device names, firewall semantics, errors).

This package imports ``cumulo.model`` and ``cumulo.objects`` only; drivers never
reach the database.
"""

from .driver import (
    CAPABILITIES,
    DRIVER_NAMES,
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
    load_driver,
)

__all__ = [
    "CAPABILITIES",
    "DRIVER_NAMES",
    "ComputeDriver",
    "DiagnosticsDriver",
    "FirewallDriver",
    "HostDriver",
    "LifecycleDriver",
    "MigrationDriver",
    "NetworkDriver",
    "PostMigrationMethod",
    "RecoverMigrationMethod",
    "VolumeDriver",
    "load_driver",
]
