"""Errors the compute objects raise, each saying which object and what was expected.

The database layer raises these too (through the :class:`~cumulo.model.storage.Storage`
port), so a compute host sees the same exception class whether the failure
happened locally or in the conductor.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ModelError(Exception):
    """Base class of every error raised by ``cumulo.model``."""


class NoStorageError(ModelError, RuntimeError):
    """A remotable method ran locally in a process that has no database."""

    def __init__(self) -> None:
        super().__init__(
            "no database in this process: set a Storage (conductor) or an indirection API (compute)"
        )


class NotFound(ModelError, LookupError):
    """A lookup matched nothing. ``what`` names the object, ``key`` what was asked."""

    what = "object"

    def __init__(self, **key: Any) -> None:
        self.key = key
        described = ", ".join(f"{name}={value}" for name, value in key.items())
        super().__init__(f"{self.what} not found: {described}" if described else self.what)


class InstanceNotFound(NotFound):
    what = "instance"


class FlavorNotFound(NotFound):
    what = "flavor"


class FlavorExtraSpecNotFound(NotFound):
    what = "flavor extra spec"


class BlockDeviceMappingNotFound(NotFound):
    what = "block device mapping"


class MigrationNotFound(NotFound):
    what = "migration"


class ServiceNotFound(NotFound):
    what = "service"


class ComputeHostNotFound(NotFound):
    what = "compute node"


class SecurityGroupNotFound(NotFound):
    what = "security group"


class SecurityGroupRuleNotFound(NotFound):
    what = "security group rule"


class SecurityGroupInUse(ModelError):
    """A group cannot be deleted while instances are in it (nothing was deleted)."""

    def __init__(self, group_id: int, instances: int) -> None:
        self.group_id = group_id
        self.instances = instances
        super().__init__(f"security group {group_id} is in use by {instances} instance(s)")


class InstanceInfoCacheNotFound(NotFound):
    what = "instance info cache"


class InstanceActionNotFound(NotFound):
    what = "instance action"


class InstanceActionEventNotFound(NotFound):
    what = "instance action event"


class VolumeNotFound(NotFound):
    what = "volume"


class AlreadyExists(ModelError):
    """A create met a row with the same unique key."""

    def __init__(self, what: str, **key: Any) -> None:
        self.what = what
        self.key = key
        described = ", ".join(f"{name}={value}" for name, value in key.items())
        super().__init__(f"{what} already exists: {described}")


class ObjectActionError(ModelError):
    """An object method cannot run on this object as it is (``create`` of an object
    already created, ``save`` of one never created...)."""

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"cannot {action}: {reason}")


def _states(values: Iterable[Any]) -> str:
    return ", ".join("None" if v is None else str(v) for v in values)


class UnexpectedStateError(ModelError):
    """A compare-and-swap save found the instance in a state other than expected:
    another actor moved first. Nothing was written."""

    kind = "state"

    def __init__(self, instance_uuid: Any, expected: Iterable[Any], actual: Any) -> None:
        self.instance_uuid = instance_uuid
        self.expected = tuple(expected)
        self.actual = actual
        super().__init__(
            f"instance {instance_uuid}: expected {self.kind} in [{_states(self.expected)}], "
            f"found {'None' if actual is None else actual}; another request changed it first"
        )


class UnexpectedTaskStateError(UnexpectedStateError):
    kind = "task_state"


class UnexpectedVmStateError(UnexpectedStateError):
    kind = "vm_state"


class UnexpectedDeletingTaskStateError(UnexpectedTaskStateError):
    """The instance is being deleted: whatever the save was for no longer matters."""
