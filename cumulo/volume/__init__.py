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
from .store import GIB, VolumeStore

__all__ = [
    "GIB",
    "InvalidVolumeSize",
    "InvalidVolumeState",
    "VolumeInUse",
    "VolumeNotFound",
    "VolumeNotReachable",
    "VolumeRecordCorrupt",
    "VolumeStore",
    "VolumeStoreError",
    "VolumeStoreFull",
]
