"""Disk images with ``qemu-img``: base images, per-instance overlays, and the tiny
boot-sector guest used when no guest OS is given."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final

__all__ = [
    "GUEST_BOOT_MARKER",
    "GUEST_TICK",
    "ImageError",
    "create_overlay",
    "image_info",
    "probe_guest_sector",
    "qemu_img",
    "write_probe_guest_image",
]

GUEST_BOOT_MARKER: Final = "CUMULO-GUEST-BOOT"
"""What the probe guest prints on its serial console when it boots."""
GUEST_TICK: Final = "."
"""What it prints after each disk read (five times a second)."""


class ImageError(RuntimeError):
    """``qemu-img`` failed or is missing; the message carries its output."""


def qemu_img(*args: str) -> str:
    """Run ``qemu-img`` and return its stdout."""
    binary = shutil.which("qemu-img")
    if binary is None:
        raise ImageError("qemu-img not found on PATH (install qemu-utils: scripts/system-deps.sh)")
    result = subprocess.run([binary, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ImageError(f"qemu-img {' '.join(args)}: {result.stderr.strip() or result.stdout}")
    return result.stdout


def image_info(path: Path) -> dict[str, Any]:
    """``qemu-img info`` of ``path`` (format, virtual-size, backing file...)."""
    info: dict[str, Any] = json.loads(qemu_img("info", "--output=json", "-U", str(path)))
    return info


def create_overlay(path: Path, backing: Path, size_bytes: int | None = None) -> None:
    """A qcow2 overlay at ``path`` on ``backing``, at least ``size_bytes`` large."""
    backing_format = str(image_info(backing)["format"])
    args = ["create", "-q", "-f", "qcow2", "-b", str(backing), "-F", backing_format, str(path)]
    if size_bytes is not None:
        virtual = int(image_info(backing)["virtual-size"])
        args.append(str(max(size_bytes, virtual)))
    qemu_img(*args)


def probe_guest_sector(marker: str = GUEST_BOOT_MARKER) -> bytes:
    """A 512-byte x86 boot sector standing in for a guest OS.

    It prints ``marker`` (default :data:`GUEST_BOOT_MARKER`; another printable ASCII
    text of the same length tells images apart) on COM1, then loops: read sector 0 of the
    boot disk with BIOS int 13h, print :data:`GUEST_TICK`, wait 200 ms (int 15h
    86h). So a VM with no OS still executes, does disk I/O that QMP counts,
    and shows on its console that it runs (after a migration too).
    """
    code = bytes.fromhex(
        "fa"  # cli
        "31c0"  # xor ax,ax
        "8ed8"  # mov ds,ax
        "8ec0"  # mov es,ax
        "8ed0"  # mov ss,ax
        "bc007c"  # mov sp,0x7c00
        "fb"  # sti
        "be3f7c"  # mov si,msg (0x7c3f)
        "e82000"  # call print (0x33)
        # loop (0x13):
        "b80102"  # mov ax,0x0201   read 1 sector
        "b90100"  # mov cx,0x0001   cylinder 0, sector 1
        "ba8000"  # mov dx,0x0080   head 0, first hard disk
        "bb0080"  # mov bx,0x8000   buffer es:bx
        "cd13"  # int 0x13
        "be537c"  # mov si,tick (0x7c53)
        "e80c00"  # call print
        "b486"  # mov ah,0x86      wait cx:dx microseconds
        "b90300"  # mov cx,0x0003
        "ba400d"  # mov dx,0x0d40   0x30d40 = 200000 us
        "cd15"  # int 0x15
        "ebe0"  # jmp loop
        # print (0x33): write the NUL-terminated string at si to COM1
        "baf803"  # mov dx,0x3f8
        "ac"  # lodsb
        "84c0"  # test al,al
        "7403"  # jz done
        "ee"  # out dx,al
        "ebf8"  # jmp lodsb
        "c3"  # done: ret
    )
    assert len(code) == 0x3F
    # The code addresses the tick string right after the message: same length only.
    if len(marker) != len(GUEST_BOOT_MARKER) or not (marker.isascii() and marker.isprintable()):
        raise ValueError(
            f"marker: expected {len(GUEST_BOOT_MARKER)} printable ASCII characters, got {marker!r}"
        )
    message = (marker + "\r\n").encode() + b"\0"
    assert len(code) + len(message) == 0x53
    tick = GUEST_TICK.encode() + b"\0"
    sector = code + message + tick
    return sector.ljust(510, b"\0") + b"\x55\xaa"


def write_probe_guest_image(path: Path, size_mb: int = 1, marker: str = GUEST_BOOT_MARKER) -> Path:
    """A raw disk image of ``size_mb`` MiB that boots :func:`probe_guest_sector`
    (printing ``marker``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(probe_guest_sector(marker))
        f.truncate(size_mb * 1024 * 1024)
    return path
