"""Guest disk names (``/dev/vda``, ``/dev/sdb``...): the prefix a bus implies and
the next free name, for drivers that name devices the Linux way."""

from __future__ import annotations

import string
from collections.abc import Iterable

from cumulo.model import DiskBus

_PREFIXES: dict[DiskBus, str] = {
    DiskBus.VIRTIO: "vd",
    DiskBus.SCSI: "sd",
    DiskBus.SATA: "sd",
    DiskBus.USB: "sd",
    DiskBus.IDE: "hd",
    DiskBus.FDC: "fd",
}


def prefix_for_bus(bus: DiskBus | None) -> str:
    """``/dev/`` plus the name prefix disks on ``bus`` get (virtio when ``None``)."""
    return "/dev/" + _PREFIXES[bus or DiskBus.VIRTIO]


def device_letters(index: int) -> str:
    """The letters of disk number ``index``: 0 → ``a``, 25 → ``z``, 26 → ``aa``."""
    if index < 0:
        raise ValueError(f"index: expected >= 0, got {index}")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = string.ascii_lowercase[rest] + letters
    return letters


def normalize(device_name: str) -> str:
    """A device name with its ``/dev/`` prefix (``vdb`` → ``/dev/vdb``)."""
    if not device_name:
        raise ValueError("device name: expected a name such as /dev/vdb, got ''")
    return device_name if device_name.startswith("/dev/") else "/dev/" + device_name


def next_device_name(prefix: str, used: Iterable[str]) -> str:
    """The first name ``prefix`` + letters (``/dev/vd`` → ``/dev/vda``...) not in ``used``.

    Names in ``used`` may be given with or without ``/dev/``.
    """
    taken = {normalize(name) for name in used if name}
    index = 0
    while True:
        candidate = prefix + device_letters(index)
        if candidate not in taken:
            return candidate
        index += 1
