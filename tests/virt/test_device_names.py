"""Guest disk names: bus prefixes, letters, the next free name."""

from __future__ import annotations

import pytest

from cumulo.model import DiskBus
from cumulo.virt.device_names import device_letters, next_device_name, normalize, prefix_for_bus


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


def test_next_name_skips_used_names_with_or_without_dev() -> None:
    assert next_device_name("/dev/vd", []) == "/dev/vda"
    assert next_device_name("/dev/vd", ["vda", "/dev/vdb", "/dev/sdc"]) == "/dev/vdc"


def test_normalize() -> None:
    assert normalize("vdb") == "/dev/vdb"
    assert normalize("/dev/vdb") == "/dev/vdb"
    with pytest.raises(ValueError, match="device name"):
        normalize("")
