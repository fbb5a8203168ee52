"""The driver registry: names to driver and config classes, built-ins imported only
when asked for, third-party drivers through the ``cumulo.virt.drivers`` entry points."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from typing import ClassVar

import pytest

from cumulo.virt import DRIVER_NAMES, DriverConfig, driver_names, load_driver, loader
from cumulo.virt.exceptions import UnknownDriverError
from cumulo.virt.fake import FakeConfig, FakeDriver, FakeHypervisorNetwork
from cumulo.virt.qemu import QemuConfig, QemuDriver


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    loader.registry.cache_clear()
    yield
    loader.registry.cache_clear()


def test_the_builtins_are_registered() -> None:
    assert {"fake", "qemu"} <= set(driver_names()) and driver_names() == sorted(driver_names())
    assert tuple(driver_names()) == DRIVER_NAMES
    assert loader.driver_entry("fake").driver_class() is FakeDriver
    assert loader.driver_entry("fake").config_class() is FakeConfig
    assert loader.driver_entry("qemu").driver_class() is QemuDriver
    assert loader.driver_entry("qemu").config_class() is QemuConfig
    assert FakeDriver.config_class is FakeConfig and QemuDriver.config_class is QemuConfig


def _driver_modules_after(code: str) -> list[str]:
    code = (
        f"import sys\n{code}\n"
        "print(' '.join(sorted(m for m in sys.modules"
        " if m.startswith(('cumulo.virt.fake', 'cumulo.virt.qemu')))))"
    )
    run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return run.stdout.split()


def test_a_builtin_is_imported_only_when_asked_for() -> None:
    assert _driver_modules_after("import cumulo.virt.driver") == []
    assert (
        _driver_modules_after("import cumulo.virt as v, cumulo.virt.loader\nv.driver_names()") == []
    )
    fake = _driver_modules_after("import cumulo.virt as v\nv.load_driver('fake', 'h')")
    assert "cumulo.virt.fake.driver" in fake
    assert not [m for m in fake if m.startswith("cumulo.virt.qemu")]


def test_a_config_object_or_option_values() -> None:
    by_object = load_driver("fake", "h1", FakeConfig(vcpus=3))
    by_options = load_driver("fake", "h2", {"vcpus": "3"})
    assert by_object.get_available_resource().vcpus == 3
    assert by_options.get_available_resource().vcpus == 3


def test_a_config_of_another_driver_is_refused() -> None:
    with pytest.raises(ValueError, match="driver fake: expected a FakeConfig, got QemuConfig"):
        load_driver("fake", "h1", QemuConfig())


def test_only_the_fake_takes_the_fake_network() -> None:
    net = FakeHypervisorNetwork()
    driver = load_driver("fake", "h1", network=net)
    assert net.driver("h1") is driver
    with pytest.raises(ValueError, match="network: only the fake driver"):
        load_driver("qemu", "h2", network=net)


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(UnknownDriverError) as raised:
        load_driver("xen", "h1")
    assert raised.value.known == sorted(driver_names())


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToyConfig(DriverConfig):
    driver: ClassVar[str] = "toy"
    flavour: str = "plain"


class ToyDriver(FakeDriver):
    driver_name = "toy"
    config_class = ToyConfig  # type: ignore[assignment]

    def __init__(self, host: str, config: ToyConfig) -> None:
        super().__init__(host, FakeConfig(vcpus=1))
        self.toy = config


def test_third_party_drivers_come_from_entry_points(
    monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    points = metadata.EntryPoints(
        [
            metadata.EntryPoint("toy", f"{__name__}:ToyDriver", loader.ENTRY_POINT_GROUP),
            # A built-in name cannot be taken over.
            metadata.EntryPoint("fake", f"{__name__}:ToyDriver", loader.ENTRY_POINT_GROUP),
        ]
    )
    monkeypatch.setattr(
        loader.metadata,
        "entry_points",
        lambda group: points if group == loader.ENTRY_POINT_GROUP else metadata.EntryPoints([]),
    )
    assert driver_names() == ["fake", "qemu", "toy"]
    driver = load_driver("toy", "t1", {"flavour": "spicy"})
    assert isinstance(driver, ToyDriver) and driver.toy == ToyConfig(flavour="spicy")
    assert type(load_driver("fake", "f1")) is FakeDriver


def test_an_entry_point_that_is_not_a_driver_is_refused(
    monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    points = metadata.EntryPoints(
        [metadata.EntryPoint("odd", f"{__name__}:ToyConfig", loader.ENTRY_POINT_GROUP)]
    )
    monkeypatch.setattr(loader.metadata, "entry_points", lambda group: points)
    with pytest.raises(ValueError, match=r"driver odd: .*ToyConfig is not a ComputeDriver"):
        load_driver("odd", "o1")
