"""What an uploaded file really is: ``qemu-img info --output=json`` on it, checked
against the ``disk_format`` the image declares. Refused: another format than
declared, a qcow2 that names a backing file or an external data file, and a VMDK
made of separate extent files (each a known way to make a host read one of its
own files into a guest). The qcow2 header is read here too, before ``qemu-img``
opens the file at all."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import QCOW2_MAGIC, ImageRejected

QEMU_IMG_TIMEOUT = 60.0
QEMU_IMG_ADDRESS_SPACE = 1 << 30
"""Bytes of memory ``qemu-img info`` may map (a crafted header cannot make it eat
the API host's memory)."""

DETECTED = {
    "raw": ("raw",),
    "qcow2": ("qcow2",),
    "vmdk": ("vmdk",),
    "vdi": ("vdi",),
    "vhd": ("vpc",),
    "iso": ("raw",),
}
"""The ``qemu-img`` format names each declared ``disk_format`` may be (an ISO is
raw to qemu-img; its own signature is checked as well)."""
VMDK_SINGLE_FILE = ("monolithicSparse", "streamOptimized")
ISO_SIGNATURE_OFFSET = 0x8001
QCOW2_EXTERNAL_DATA_FILE = 1 << 2


@dataclass(frozen=True)
class DiskInfo:
    format: str
    virtual_size: int | None


def qemu_img_info(path: Path) -> dict[str, Any]:
    """``qemu-img info``'s JSON for ``path`` (only ever a file this process wrote)."""
    command = ["qemu-img", "info", "--output=json", "--", str(path)]
    limiter = shutil.which("prlimit")
    if limiter is not None:
        command = [limiter, f"--as={QEMU_IMG_ADDRESS_SPACE}", "--cpu=30", *command]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=QEMU_IMG_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        raise ImageRejected("The image data could not be inspected.") from None
    if done.returncode != 0:
        raise ImageRejected("The image data is not a disk image qemu-img can read.")
    try:
        info = json.loads(done.stdout)
    except ValueError:
        raise ImageRejected("The image data could not be inspected.") from None
    if not isinstance(info, dict):
        raise ImageRejected("The image data could not be inspected.")
    return info


def _check_qcow2_header(path: Path) -> None:
    with path.open("rb") as disk:
        header = disk.read(80)
    if header[:4] != QCOW2_MAGIC or len(header) < 72:
        return
    (version,) = struct.unpack(">I", header[4:8])
    (backing_offset,) = struct.unpack(">Q", header[8:16])
    if backing_offset:
        raise ImageRejected("A qcow2 image with a backing file is not accepted.")
    if version >= 3 and len(header) >= 80:
        (incompatible,) = struct.unpack(">Q", header[72:80])
        if incompatible & QCOW2_EXTERNAL_DATA_FILE:
            raise ImageRejected("A qcow2 image with an external data file is not accepted.")


def _is_iso(path: Path) -> bool:
    with path.open("rb") as disk:
        disk.seek(ISO_SIGNATURE_OFFSET)
        return disk.read(5) == b"CD001"


def inspect_disk(path: Path, declared: str) -> DiskInfo:
    """What ``path`` is, once it is an acceptable ``declared`` image; raises
    :class:`~cumulo.image.catalog.ImageRejected` saying why not."""
    accepted = DETECTED.get(declared)
    if accepted is None:
        raise ImageRejected(f"Disk format {declared} cannot be inspected.")
    _check_qcow2_header(path)
    info = qemu_img_info(path)
    detected = str(info.get("format", ""))
    if detected not in accepted or (declared == "iso" and not _is_iso(path)):
        shown = "an ISO" if declared == "iso" else declared
        found = {"vpc": "vhd"}.get(detected, detected) or "unknown"
        raise ImageRejected(
            f"Image data is not {shown}: qemu-img detected {found} (disk_format {declared})."
        )
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise ImageRejected("A qcow2 image with a backing file is not accepted.")
    specific = info.get("format-specific") or {}
    data = (specific.get("data") or {}) if isinstance(specific, dict) else {}
    if detected == "qcow2" and data.get("data-file"):
        raise ImageRejected("A qcow2 image with an external data file is not accepted.")
    if detected == "vmdk" and data.get("create-type") not in VMDK_SINGLE_FILE:
        raise ImageRejected(
            f"A VMDK image of type {data.get('create-type')} is not accepted "
            f"(only {' or '.join(VMDK_SINGLE_FILE)})."
        )
    virtual = info.get("virtual-size")
    return DiskInfo(detected, virtual if isinstance(virtual, int) else None)
