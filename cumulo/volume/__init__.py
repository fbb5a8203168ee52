"""Cumulo's local block storage: file-backed volumes in a directory (``store``).

There is no separate block-storage service; a compute host (or several, on a
shared directory) keeps volumes with :class:`VolumeStore` and hands drivers the
``VolumeConnectionInfo`` objects they attach. Imports ``cumulo.model`` and
``cumulo.objects`` only.
"""

from .exceptions import (
    InvalidVolumeSize,
    InvalidVolumeState,
    VolumeInUse,
    VolumeNotFound,
    VolumeNotReachable,
    VolumeRecordCorrupt,
    VolumeStoreError,
    VolumeStoreFull,
)
from .store import ERROR_KINDS, GIB, VolumeDetails, VolumeEntry, VolumeStore

__all__ = [
    "ERROR_KINDS",
    "GIB",
    "InvalidVolumeSize",
    "InvalidVolumeState",
    "VolumeDetails",
    "VolumeEntry",
    "VolumeInUse",
    "VolumeNotFound",
    "VolumeNotReachable",
    "VolumeRecordCorrupt",
    "VolumeStore",
    "VolumeStoreError",
    "VolumeStoreFull",
]
