"""``SharedStorageProbe``: the marker a host leaves to find out whether another
host sees the same instance storage."""

from __future__ import annotations

from cumulo.objects import register

from .base import CumuloObject


@register
class SharedStorageProbe(CumuloObject):
    """What ``check_instance_shared_storage_local`` made on one host (a temporary
    file in the instance directory) for the peer's
    ``check_instance_shared_storage_remote`` to look for, and for
    ``check_instance_shared_storage_cleanup`` to remove.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    host: str
    """The host that made the probe."""
    filename: str
    """The probe file, relative to the instances directory."""
