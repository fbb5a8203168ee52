"""Errors the local volume store raises, each naming the volume and what was expected.

Attributes are primitives so the compute service can allow-list these for RPC.
``VolumeNotFound`` is the model's, shared with the database layer.
"""

from __future__ import annotations

from collections.abc import Iterable

from cumulo.model.exceptions import VolumeNotFound

__all__ = [
    "InvalidVolumeSize",
    "InvalidVolumeState",
    "VolumeInUse",
    "VolumeNotFound",
    "VolumeNotReachable",
    "VolumeRecordCorrupt",
    "VolumeStoreError",
    "VolumeStoreFull",
]


class VolumeStoreError(Exception):
    """Base class of the volume store's own errors."""


class InvalidVolumeSize(VolumeStoreError, ValueError):
    """A size that is not a whole number of GiB >= 1 (or a shrink)."""

    def __init__(self, size_gb: object, reason: str) -> None:
        self.size_gb = repr(size_gb)
        self.reason = reason
        super().__init__(f"size_gb: {reason}, got {size_gb!r}")


class InvalidVolumeState(VolumeStoreError):
    """``action`` needs the volume in one of ``expected`` states; it is ``status``."""

    def __init__(
        self, volume_id: str, action: str, status: str, expected: Iterable[str], detail: str = ""
    ) -> None:
        self.volume_id = volume_id
        self.action = action
        self.status = status
        self.expected = sorted(expected)
        self.detail = detail
        tail = f" ({detail})" if detail else ""
        super().__init__(
            f"cannot {action} volume {volume_id}: it is {status}, expected one of "
            f"{self.expected}{tail}"
        )


class VolumeInUse(InvalidVolumeState):
    """The volume is attached to an instance (delete, resize or a second attach)."""

    def __init__(self, volume_id: str, action: str, instance_uuid: str) -> None:
        super().__init__(
            volume_id, action, "in-use", ["available"], f"attached to instance {instance_uuid}"
        )
        self.instance_uuid = instance_uuid


class VolumeStoreFull(VolumeStoreError):
    """Creating or growing the volume would exceed the store's capacity."""

    def __init__(self, capacity_gb: int, used_gb: int, requested_gb: int) -> None:
        self.capacity_gb = capacity_gb
        self.used_gb = used_gb
        self.requested_gb = requested_gb
        super().__init__(
            f"volume store full: {requested_gb} GiB requested, "
            f"{capacity_gb - used_gb} GiB free of {capacity_gb} GiB"
        )


class VolumeNotReachable(VolumeStoreError):
    """The store's files are local to ``store_host``; ``connector_host`` cannot reach them."""

    def __init__(self, volume_id: str, store_host: str, connector_host: str) -> None:
        self.volume_id = volume_id
        self.store_host = store_host
        self.connector_host = connector_host
        super().__init__(
            f"volume {volume_id} lives on host {store_host!r}'s local store; "
            f"host {connector_host!r} cannot reach it"
        )


class VolumeRecordCorrupt(VolumeStoreError):
    """A volume's record file cannot be read as a ``Volume``."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"volume record {path} is unreadable: {reason}")
