"""The driver registry: which driver (and configuration) class each name means, and
:func:`load_driver`, which makes one. Built-in drivers are imported only when asked
for; other packages add theirs through the ``cumulo.virt.drivers`` entry points."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

from .config import DriverConfig
from .driver import ComputeDriver
from .exceptions import UnknownDriverError

if TYPE_CHECKING:
    from .fake_network import FakeHypervisorNetwork

ENTRY_POINT_GROUP = "cumulo.virt.drivers"
"""Third-party drivers: ``name = "package.module:DriverClass"``; the class names its
configuration in ``config_class``."""


@dataclass(frozen=True)
class DriverEntry:
    """One registered driver: where its class and its configuration class live
    (``"module:attribute"``), imported the first time they are asked for."""

    name: str
    driver: str
    config: str | None = None
    """``None``: the driver class's ``config_class``."""
    takes_fake_network: bool = False
    """Whether the driver joins the in-process fake network (``load_driver(network=)``)."""

    def driver_class(self) -> type[ComputeDriver]:
        """Import the driver class.

        Raises:
            ValueError: the entry does not name a driver class.
        """
        found = _resolve(self.driver)
        if not (isinstance(found, type) and issubclass(found, ComputeDriver)):
            raise ValueError(f"driver {self.name}: {self.driver} is not a ComputeDriver")
        return found

    def config_class(self) -> type[DriverConfig]:
        """Import the driver's configuration class (not the driver, for a built-in)."""
        if self.config is None:
            return self.driver_class().config_class
        found = _resolve(self.config)
        if not (isinstance(found, type) and issubclass(found, DriverConfig)):
            raise ValueError(f"driver {self.name}: {self.config} is not a DriverConfig")
        return found


BUILTIN_DRIVERS = (
    DriverEntry(
        "fake",
        "cumulo.virt.fake:FakeDriver",
        "cumulo.virt.fake.config:FakeConfig",
        takes_fake_network=True,
    ),
    DriverEntry("qemu", "cumulo.virt.qemu:QemuDriver", "cumulo.virt.qemu.config:QemuConfig"),
)


def _resolve(target: str) -> object:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@functools.cache
def registry() -> Mapping[str, DriverEntry]:
    """Every driver this process can load, by name: the built-ins, then those of the
    ``cumulo.virt.drivers`` entry points (a built-in name cannot be taken over)."""
    entries = {entry.name: entry for entry in BUILTIN_DRIVERS}
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        entries.setdefault(point.name, DriverEntry(point.name, point.value))
    return entries


def driver_names() -> list[str]:
    """The driver names :func:`load_driver` accepts, sorted."""
    return sorted(registry())


def driver_entry(name: str) -> DriverEntry:
    """The registered driver called ``name``.

    Raises:
        UnknownDriverError: no driver has that name.
    """
    try:
        return registry()[name]
    except KeyError:
        raise UnknownDriverError(name, registry()) from None


def load_driver(
    name: str,
    host: str,
    config: DriverConfig | Mapping[str, object] | None = None,
    *,
    network: FakeHypervisorNetwork | None = None,
) -> ComputeDriver:
    """Make the driver called ``name`` for ``host``.

    Args:
        name: a registered driver: ``"fake"`` (an in-memory hypervisor), ``"qemu"``
            (QEMU processes, KVM or TCG), or one of the entry points.
        host: the compute host the driver serves.
        config: the driver's configuration (an instance of its config class, e.g.
            :class:`~cumulo.virt.fake.FakeConfig`), or option values to build one
            from (:meth:`DriverConfig.from_options`); ``None``: the defaults.
        network: ``"fake"`` only: the fake network joining the hosts of this process
            (live migration, shared storage); ``None``: a lone host.

    Returns:
        ComputeDriver: the driver, not yet initialized (call ``init_host``).

    Raises:
        UnknownDriverError: no driver is registered as ``name``.
        ValueError: an option the driver does not take, a bad value, or a config of
            another driver.
    """
    entry = driver_entry(name)
    config_class = entry.config_class()
    if config is None:
        config = config_class()
    elif isinstance(config, Mapping):
        config = config_class.from_options(config)
    elif not isinstance(config, config_class):
        raise ValueError(
            f"driver {name}: expected a {config_class.__name__}, got {type(config).__name__}"
        )
    make: Callable[..., ComputeDriver] = entry.driver_class()
    if network is None:
        return make(host, config)
    if not entry.takes_fake_network:
        raise ValueError(f"network: only the fake driver takes a fake network, not {name}")
    return make(host, config, network=network)
