"""Guest disk names: bus prefixes, letters, the next free name."""

from __future__ import annotations

import pytest

from cumulo.model import DiskBus
from cumulo.virt.device_names import (
    device_letters,
    device_name,
    next_device_name,
    normalize,
    nvme_controller,
    prefix_for_bus,
)


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "a"), (1, "b"), (25, "z"), (26, "aa"), (27, "ab"), (701, "zz"), (702, "aaa")],
)
def test_device_letters(index: int, letters: str) -> None:
    assert device_letters(index) == letters


def test_device_letters_refuses_negative() -> None:
    with pytest.raises(ValueError, match="-1"):
        device_letters(-1)


def test_prefixes() -> None:
    assert prefix_for_bus(None) == "/dev/vd"
    assert prefix_for_bus(DiskBus.SATA) == "/dev/sd"
    assert prefix_for_bus(DiskBus.IDE) == "/dev/hd"
    assert prefix_for_bus(DiskBus.NVME) == "/dev/nvme"


def test_next_name_skips_used_names_with_or_without_dev() -> None:
    assert next_device_name("/dev/vd", []) == "/dev/vda"
    assert next_device_name("/dev/vd", ["vda", "/dev/vdb", "/dev/sdc"]) == "/dev/vdc"


def test_normalize() -> None:
    assert normalize("vdb") == "/dev/vdb"
    assert normalize("/dev/vdb") == "/dev/vdb"
    assert normalize("nvme0n1") == "/dev/nvme0n1"
    assert normalize("/dev/nvme0n1") == "/dev/nvme0n1"
    with pytest.raises(ValueError, match="device name"):
        normalize("")


def test_every_bus_has_a_prefix() -> None:
    for bus in DiskBus:
        assert prefix_for_bus(bus).startswith("/dev/")


@pytest.mark.parametrize(
    ("prefix", "index", "name"),
    [("/dev/vd", 0, "/dev/vda"), ("/dev/sd", 27, "/dev/sdab"), ("/dev/nvme", 0, "/dev/nvme0n1")],
)
def test_device_name(prefix: str, index: int, name: str) -> None:
    assert device_name(prefix, index) == name


def test_nvme_disks_take_the_next_free_controller() -> None:
    nvme = prefix_for_bus(DiskBus.NVME)
    assert next_device_name(nvme, []) == "/dev/nvme0n1"
    assert next_device_name(nvme, ["nvme0n1", "/dev/vda"]) == "/dev/nvme1n1"
    # A controller is taken by any name on it: a second namespace, a partition.
    assert next_device_name(nvme, ["/dev/nvme1n1", "nvme0n2"]) == "/dev/nvme2n1"
    assert next_device_name(nvme, ["/dev/nvme0n1p1", "/dev/nvme2n1"]) == "/dev/nvme1n1"
    # Letter-named disks are not confused with NVMe ones, nor the reverse.
    assert next_device_name("/dev/vd", ["/dev/nvme0n1"]) == "/dev/vda"
    with pytest.raises(ValueError, match="-1"):
        device_name(nvme, -1)


@pytest.mark.parametrize(
    ("name", "controller"),
    [("nvme0n1", 0), ("/dev/nvme12n1", 12), ("/dev/nvme3n2p1", 3), ("/dev/nvme1", 1),
     ("/dev/vda", None), ("/dev/nvmea", None), ("nvme0n", None), ("", None)],
)  # fmt: skip
def test_nvme_controller(name: str, controller: int | None) -> None:
    assert nvme_controller(name) == controller
