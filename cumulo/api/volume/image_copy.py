"""A volume created from an image (``imageRef``): the image's virtual size (what the
volume must at least hold) and the copy of its bytes into the volume's file (raw
as they are; qcow2 converted to raw by ``qemu-img convert``, written into the
existing file so the volume keeps its size)."""

from __future__ import annotations

import json
import logging
import math
import subprocess
from pathlib import Path
from typing import Final

from cumulo.image import Image
from cumulo.volume.store import GIB

LOG = logging.getLogger(__name__)

_CHUNK: Final = 1024 * 1024
QEMU_IMG_TIMEOUT: Final = 600.0
"""Seconds one ``qemu-img`` run may take (a copy of a large image is slow, not stuck)."""


class ImageCopyFailed(Exception):
    """The image could not be read or copied; ``str()`` is safe for the user (the
    details, with paths, go to the log)."""


def image_file(directory: Path, image: Image) -> Path:
    return directory / image.id


def virtual_size_gb(path: Path, image: Image) -> int:
    """The GiB a volume needs to hold the image's disk (rounded up; at least its
    ``min_disk``).

    Raises:
        ImageCopyFailed: the image's file cannot be read.
    """
    try:
        if image.disk_format == "qcow2":
            done = _qemu_img(["info", "--output=json", "-f", "qcow2", str(path)])
            size = int(json.loads(done)["virtual-size"])
        else:
            size = path.stat().st_size
    except (OSError, ValueError, KeyError, TypeError) as exc:
        LOG.warning("cannot size image %s: %s", image.id, exc)
        raise ImageCopyFailed(f"Image {image.id} could not be read.") from None
    return max(image.min_disk, math.ceil(size / GIB), 1)


def copy_into(path: Path, image: Image, volume_path: Path) -> None:
    """Write the image's disk (as raw) at the start of the volume's file.

    Raises:
        ImageCopyFailed: reading or converting the image failed.
    """
    try:
        if image.disk_format == "qcow2":
            # -n: into the existing file, which keeps its (larger) size.
            _qemu_img(["convert", "-n", "-f", "qcow2", "-O", "raw", str(path), str(volume_path)])
        else:
            _copy_sparse(path, volume_path)
    except OSError as exc:
        LOG.warning("cannot copy image %s into %s: %s", image.id, volume_path, exc)
        raise ImageCopyFailed(f"Image {image.id} could not be copied into the volume.") from None


def _copy_sparse(source_path: Path, target_path: Path) -> None:
    """Copy ``source_path`` over the start of ``target_path``, skipping runs of zeros
    (the target is a sparse file of zeros: its holes stay holes)."""
    with source_path.open("rb") as source, target_path.open("r+b") as target:
        while chunk := source.read(_CHUNK):
            if chunk.count(0) == len(chunk):
                target.seek(len(chunk), 1)
            else:
                target.write(chunk)


def _qemu_img(args: list[str]) -> str:
    """``qemu-img`` with ``args``; its output. A failure is an ``OSError`` naming it."""
    try:
        done = subprocess.run(
            ["qemu-img", *args],
            capture_output=True,
            text=True,
            timeout=QEMU_IMG_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"qemu-img {args[0]} took more than {QEMU_IMG_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        raise OSError(f"qemu-img {args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout
