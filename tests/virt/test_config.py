"""``DriverConfig``: frozen typed driver configuration, built from option values
(strings of a command line, values of a TOML table) by the type of each field."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

import pytest

from cumulo.model import Architecture
from cumulo.virt import DriverConfig
from cumulo.virt.fake import FakeConfig
from cumulo.virt.qemu import Accel, FirewallMode, NetworkMode, QemuConfig


def test_configs_are_frozen_and_keyword_only() -> None:
    config = FakeConfig(vcpus=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.vcpus = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        FakeConfig(2)  # type: ignore[misc]


def test_the_common_fields_live_in_the_base() -> None:
    common = {"vcpus", "memory_mb", "disk_gb", "host_ip"}
    assert {f.name for f in dataclasses.fields(DriverConfig)} == common
    for config in (FakeConfig(), QemuConfig()):
        assert isinstance(config, DriverConfig)
        assert all(getattr(config, name) is None for name in common)


def test_options_are_converted_by_field_type() -> None:
    config = QemuConfig.from_options(
        {
            "vcpus": "4",
            "memory_mb": 2048,
            "host_ip": "192.0.2.5",
            "instances_path": "/srv/i",
            "accel": "tcg",
            "network_mode": "user",
            "firewall": "render",
            "mac_pool": "52:54:00:00:00:01, 52:54:00:00:00:02",
            "power_off_timeout": "2.5",
        }
    )
    assert config == QemuConfig(
        vcpus=4,
        memory_mb=2048,
        host_ip=ipaddress.IPv4Address("192.0.2.5"),
        instances_path=Path("/srv/i"),
        accel=Accel.TCG,
        network_mode=NetworkMode.USER,
        firewall=FirewallMode.RENDER,
        mac_pool=("52:54:00:00:00:01", "52:54:00:00:00:02"),
        power_off_timeout=2.5,
    )
    assert isinstance(config.accel, Accel) and isinstance(config.instances_path, Path)


def test_toml_values_keep_their_types() -> None:
    config = FakeConfig.from_options(
        {"cpu_features": ["avx", "aes"], "cpu_arch": "aarch64", "migration_channel": "/tmp/c"}
    )
    assert config.cpu_features == ("avx", "aes")
    assert config.cpu_arch is Architecture.AARCH64
    assert config.migration_channel == Path("/tmp/c")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"accel": "xen"}, "driver option accel: expected one of auto, kvm, tcg, got 'xen'"),
        ({"vcpus": "four"}, "driver option vcpus: expected an integer, got 'four'"),
        ({"vcpus": True}, "driver option vcpus: expected an integer, got True"),
        ({"power_off_timeout": "soon"}, "driver option power_off_timeout: expected a number"),
        ({"host_ip": "host-a"}, "driver option host_ip: expected an IP address, got 'host-a'"),
        ({"mac_pool": [1, 2]}, "driver option mac_pool: expected a list of strings"),
        ({"instances_path": 3}, "driver option instances_path: expected a path, got 3"),
        ({"qemu_binary": 3}, "driver option qemu_binary: expected a string, got 3"),
        ({"dhcp_options": "x"}, "driver option dhcp_options: cannot be given as an option"),
    ],
)
def test_a_bad_value_names_the_option_and_what_was_expected(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        QemuConfig.from_options(options)
    assert str(raised.value).startswith(message)


def test_unknown_options_are_refused_naming_the_driver_and_its_options() -> None:
    with pytest.raises(ValueError) as raised:
        FakeConfig.from_options({"accel": "tcg", "vcpus": 1})
    message = str(raised.value)
    assert message.startswith("driver fake: unknown option 'accel' (its options: vcpus, ")
    assert "cpu_model" in message and "instances_path" not in message


def test_a_mode_given_as_a_string_becomes_its_enum_or_fails_at_once() -> None:
    assert QemuConfig(accel="kvm").accel is Accel.KVM  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="accel: expected one of auto, kvm, tcg, got 'xen'"):
        QemuConfig(accel="xen")  # type: ignore[arg-type]


def test_fake_capacity_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="disk_gb: expected a capacity >= 0, got -1"):
        FakeConfig(disk_gb=-1)
