"""The image store: a directory of disk images and their metadata (Glance v2's
subset serves it under ``/image``; the QEMU driver boots its files), and the
inspection of uploaded data."""

from .catalog import (
    Image,
    ImageCatalog,
    ImageConflict,
    ImageError,
    ImageNotFound,
    ImageRejected,
    ImageTooLarge,
    UploadIncomplete,
    add_image,
    disk_format_of,
    new_image,
)

__all__ = [
    "Image",
    "ImageCatalog",
    "ImageConflict",
    "ImageError",
    "ImageNotFound",
    "ImageRejected",
    "ImageTooLarge",
    "UploadIncomplete",
    "add_image",
    "disk_format_of",
    "new_image",
]
