"""The image store: a directory of disk images and their metadata (Glance v2's
read-only subset serves it under ``/image``; the QEMU driver boots its files)."""

from .catalog import Image, ImageCatalog, ImageError, ImageNotFound, add_image, disk_format_of

__all__ = ["Image", "ImageCatalog", "ImageError", "ImageNotFound", "add_image", "disk_format_of"]
