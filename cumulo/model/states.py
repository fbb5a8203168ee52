"""Lifecycle states: of an instance (vm, task, power), a migration and a volume.

Enum values are what travels on the wire and what the database stores, so they
never change once released; a value added later is declared with
``field(values_added={...})`` on the fields that use it.
"""

from __future__ import annotations

import enum


class VmState(enum.StrEnum):
    """Where an instance stands, as the control plane sees it (stable between tasks)."""

    BUILDING = "building"
    ACTIVE = "active"
    STOPPED = "stopped"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    SOFT_DELETED = "soft-delete"
    DELETED = "deleted"
    ERROR = "error"


class TaskState(enum.StrEnum):
    """The operation in progress on an instance; ``None`` on the instance means none.

    ``instance.save(expected_task_state=...)`` compares against it atomically, so
    two actors cannot both start a task on one instance.
    """

    SCHEDULING = "scheduling"
    BLOCK_DEVICE_MAPPING = "block_device_mapping"
    NETWORKING = "networking"
    SPAWNING = "spawning"
    DELETING = "deleting"
    REBOOTING = "rebooting"
    REBOOTING_HARD = "rebooting_hard"
    POWERING_OFF = "powering-off"
    POWERING_ON = "powering-on"
    PAUSING = "pausing"
    UNPAUSING = "unpausing"
    SUSPENDING = "suspending"
    RESUMING = "resuming"
    MIGRATING = "migrating"


class PowerState(enum.IntEnum):
    """The guest's power state as the hypervisor reports it (Nova's integer codes)."""

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7


class RebootType(enum.StrEnum):
    """How a reboot is done: ask the guest (soft) or reset the virtual machine (hard)."""

    SOFT = "SOFT"
    HARD = "HARD"


class MigrationStatus(enum.StrEnum):
    """The steps of a migration; the last three are final."""

    ACCEPTED = "accepted"
    QUEUED = "queued"
    PREPARING = "preparing"
    RUNNING = "running"
    POST_MIGRATING = "post-migrating"
    CANCELLING = "cancelling"
    COMPLETED = "completed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"


class MigrationType(enum.StrEnum):
    """What moved the instance."""

    LIVE_MIGRATION = "live-migration"
    MIGRATION = "migration"
    RESIZE = "resize"
    EVACUATION = "evacuation"


class VolumeStatus(enum.StrEnum):
    """The life of a volume in the local volume store."""

    CREATING = "creating"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ATTACHING = "attaching"
    IN_USE = "in-use"
    DETACHING = "detaching"
    DELETING = "deleting"
    ERROR = "error"
