"""Guest disk names (``/dev/vda``, ``/dev/sdb``, ``/dev/nvme0n1``...): the prefix a
bus implies and the next free name, for drivers that name devices the Linux way."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Final

from cumulo.model import DiskBus

NVME_PREFIX: Final = "/dev/nvme"
"""The prefix of NVMe disks: ``/dev/nvme<controller>n<namespace>``, one controller
per disk (namespace 1), so disk ``i`` is ``/dev/nvme<i>n1``."""

_PREFIXES: dict[DiskBus, str] = {
    DiskBus.VIRTIO: "vd",
    DiskBus.SCSI: "sd",
    DiskBus.SATA: "sd",
    DiskBus.USB: "sd",
    DiskBus.IDE: "hd",
    DiskBus.FDC: "fd",
    DiskBus.NVME: "nvme",
}

# /dev/nvme0 (the controller), /dev/nvme0n1 (a namespace), /dev/nvme0n1p2 (a partition).
_NVME_NAME = re.compile(r"/dev/nvme(\d+)(?:n\d+(?:p\d+)?)?")


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


def device_name(prefix: str, index: int) -> str:
    """The name of disk number ``index`` under ``prefix``: ``/dev/vd``, 1 →
    ``/dev/vdb``; ``/dev/nvme``, 1 → ``/dev/nvme1n1``."""
    if prefix == NVME_PREFIX:
        if index < 0:
            raise ValueError(f"index: expected >= 0, got {index}")
        return f"{NVME_PREFIX}{index}n1"
    return prefix + device_letters(index)


def nvme_controller(name: str) -> int | None:
    """The controller index of an NVMe name (``nvme1n1`` or ``/dev/nvme1n1`` → 1);
    ``None`` when ``name`` is not an NVMe one."""
    match = _NVME_NAME.fullmatch(normalize(name)) if name else None
    return int(match.group(1)) if match else None


def normalize(device_name: str) -> str:
    """A device name with its ``/dev/`` prefix (``vdb`` → ``/dev/vdb``,
    ``nvme0n1`` → ``/dev/nvme0n1``)."""
    if not device_name:
        raise ValueError("device name: expected a name such as /dev/vdb, got ''")
    return device_name if device_name.startswith("/dev/") else "/dev/" + device_name


def next_device_name(prefix: str, used: Iterable[str]) -> str:
    """The first name under ``prefix`` not in ``used``: ``/dev/vd`` → ``/dev/vda``,
    ``/dev/vdb``...; ``/dev/nvme`` → ``/dev/nvme0n1``, ``/dev/nvme1n1``... (the
    first controller index no used name is on).

    Names in ``used`` may be given with or without ``/dev/``.
    """
    taken = {normalize(name) for name in used if name}
    if prefix == NVME_PREFIX:
        controllers = {c for name in taken if (c := nvme_controller(name)) is not None}
        index = 0
        while index in controllers:
            index += 1
        return device_name(prefix, index)
    index = 0
    while True:
        candidate = device_name(prefix, index)
        if candidate not in taken:
            return candidate
        index += 1
