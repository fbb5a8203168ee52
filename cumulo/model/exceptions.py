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


class NetworkNotFound(NotFound):
    what = "network"


class SubnetNotFound(NotFound):
    what = "subnet"


class PortNotFound(NotFound):
    what = "port"


class NetworkError(ModelError):
    """A network request that cannot be met as asked; ``str()`` is safe to show."""


class NoMoreIpAddresses(NetworkError):
    """Every address of the network's allocation pools is held."""

    def __init__(self, network_id: Any) -> None:
        self.network_id = network_id
        super().__init__(f"No more IP addresses available on network {network_id}.")


class IpAddressInUse(NetworkError):
    """A fixed IP asked for is held by another port."""

    def __init__(self, network_id: Any, ip_address: Any) -> None:
        self.network_id = network_id
        self.ip_address = ip_address
        super().__init__(
            f"Unable to complete operation for network {network_id}. "
            f"The IP address {ip_address} is in use."
        )


class MacAddressInUse(NetworkError):
    """The MAC asked for (or every MAC the driver allows) is taken on the network."""

    def __init__(self, network_id: Any, mac: Any) -> None:
        self.network_id = network_id
        self.mac = mac
        super().__init__(
            f"Unable to complete operation for network {network_id}. "
            f"The mac address {mac} is in use."
        )


class PortInUse(NetworkError):
    """A port asked for is bound to another device already."""

    def __init__(self, port_id: Any, device_id: Any) -> None:
        self.port_id = port_id
        self.device_id = device_id
        super().__init__(f"Port {port_id} is still in use by device {device_id}.")


class NetworkInUse(NetworkError):
    """A network (or subnet) that still has ports cannot be deleted."""

    def __init__(self, what: str, ident: Any) -> None:
        self.what = what
        self.ident = ident
        super().__init__(
            f"Unable to complete operation on {what} {ident}. "
            f"There are one or more ports still in use on the network."
        )


class InvalidNetworkRequest(NetworkError):
    """A request that names impossible values (an address outside its subnet, an
    overlapping CIDR, a pool outside the CIDR...)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


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
