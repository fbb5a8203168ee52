"""Errors a hypervisor driver raises, each naming the host, the guest and what was expected.

Attributes are primitives (strings, integers), so the compute service can allow-list
these classes for RPC and a caller gets them back with the same fields.
``InstanceNotFound`` is the model's: "no such guest on this hypervisor" and "no such
instance row" are one condition to the compute manager, as in Nova.
"""

from __future__ import annotations

from collections.abc import Iterable

from cumulo.model.exceptions import InstanceNotFound

__all__ = [
    "DeviceInUse",
    "DiskBusNotSupported",
    "HypervisorUnavailable",
    "InjectedFailure",
    "InstanceExists",
    "InstanceNotFiltered",
    "InstanceNotFound",
    "InsufficientResources",
    "InvalidGuestSize",
    "InvalidPowerState",
    "MigrationError",
    "MigrationPreCheckError",
    "UnknownDriverError",
    "VifPlugFailed",
    "VirtDriverError",
    "VolumeAlreadyAttached",
    "VolumeNotAttached",
]


class VirtDriverError(Exception):
    """Base class of the errors raised by ``cumulo.virt`` (besides ``InstanceNotFound``)."""


class UnknownDriverError(VirtDriverError, LookupError):
    """``load_driver`` was asked for a driver name it does not know."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown compute driver {name!r}; expected one of {self.known}")


class HypervisorUnavailable(VirtDriverError):
    """The hypervisor of ``host`` cannot be reached or is not running."""

    def __init__(self, host: str, reason: str = "not reachable") -> None:
        self.host = host
        self.reason = reason
        super().__init__(f"hypervisor of host {host!r} unavailable: {reason}")


class InstanceExists(VirtDriverError):
    """The guest is already on this host (spawn twice, cleanup before destroy...)."""

    def __init__(self, instance_uuid: str, host: str, reason: str = "") -> None:
        self.instance_uuid = instance_uuid
        self.host = host
        self.reason = reason
        tail = f": {reason}" if reason else ""
        super().__init__(f"instance {instance_uuid} already exists on host {host!r}{tail}")


class InvalidGuestSize(VirtDriverError, ValueError):
    """The instance asks for a size no guest can have (no vCPU, no memory)."""

    def __init__(self, instance_uuid: str, reason: str) -> None:
        self.instance_uuid = instance_uuid
        self.reason = reason
        super().__init__(f"instance {instance_uuid}: {reason}")


class InsufficientResources(VirtDriverError):
    """The host has not enough free ``resource`` (``vcpus``, ``memory_mb``,
    ``disk_gb``) for the guest: ``requested`` asked, ``free`` left. When several
    resources are short, the first is in the attributes and all are in the message."""

    def __init__(
        self,
        host: str,
        instance_uuid: str,
        shortages: Iterable[tuple[str, int, int]],
    ) -> None:
        short = list(shortages)
        if not short:
            raise ValueError("InsufficientResources needs at least one shortage")
        self.host = host
        self.instance_uuid = instance_uuid
        self.resource, self.requested, self.free = short[0]
        described = ", ".join(f"{name} {req} requested, {free} free" for name, req, free in short)
        super().__init__(f"host {host!r} cannot fit instance {instance_uuid}: {described}")


class InvalidPowerState(VirtDriverError):
    """``action`` is not possible while the guest is in ``state``; ``allowed`` lists
    the power states it is possible in."""

    def __init__(self, instance_uuid: str, action: str, state: str, allowed: Iterable[str]) -> None:
        self.instance_uuid = instance_uuid
        self.action = action
        self.state = state
        self.allowed = sorted(allowed)
        super().__init__(
            f"cannot {action} instance {instance_uuid}: its power state is {state}, "
            f"expected one of {self.allowed}"
        )


class VolumeAlreadyAttached(VirtDriverError):
    """The volume is already attached (to this instance or another one on the host)."""

    def __init__(self, volume_id: str, instance_uuid: str, mountpoint: str) -> None:
        self.volume_id = volume_id
        self.instance_uuid = instance_uuid
        self.mountpoint = mountpoint
        super().__init__(
            f"volume {volume_id} is already attached to instance {instance_uuid} at {mountpoint}"
        )


class DeviceInUse(VirtDriverError):
    """The guest already has a disk at ``mountpoint``."""

    def __init__(self, instance_uuid: str, mountpoint: str, volume_id: str) -> None:
        self.instance_uuid = instance_uuid
        self.mountpoint = mountpoint
        self.volume_id = volume_id
        super().__init__(f"instance {instance_uuid} already has volume {volume_id} at {mountpoint}")


class DiskBusNotSupported(VirtDriverError):
    """The driver cannot give the guest a disk at ``mountpoint`` on ``bus``;
    ``reason`` says why."""

    def __init__(
        self, instance_uuid: str, host: str, bus: str, mountpoint: str, reason: str
    ) -> None:
        self.instance_uuid = instance_uuid
        self.host = host
        self.bus = bus
        self.mountpoint = mountpoint
        self.reason = reason
        super().__init__(
            f"cannot give instance {instance_uuid} a disk on bus {bus!r} at {mountpoint} "
            f"on host {host!r}: {reason}"
        )


class VolumeNotAttached(VirtDriverError):
    """Detach of a volume the guest does not have at ``mountpoint``."""

    def __init__(self, volume_id: str, instance_uuid: str, mountpoint: str) -> None:
        self.volume_id = volume_id
        self.instance_uuid = instance_uuid
        self.mountpoint = mountpoint
        super().__init__(
            f"volume {volume_id} is not attached to instance {instance_uuid} at {mountpoint}"
        )


class VifPlugFailed(VirtDriverError):
    """A virtual interface could not be plugged on the host."""

    def __init__(self, vif_id: str, host: str, reason: str) -> None:
        self.vif_id = vif_id
        self.host = host
        self.reason = reason
        super().__init__(f"cannot plug VIF {vif_id} on host {host!r}: {reason}")


class InstanceNotFiltered(VirtDriverError):
    """``refresh_instance_security_rules`` for a guest whose filter was never set up
    (``ensure_filtering_rules_for_instance`` comes first)."""

    def __init__(self, instance_uuid: str, host: str) -> None:
        self.instance_uuid = instance_uuid
        self.host = host
        super().__init__(
            f"instance {instance_uuid} has no firewall filter on host {host!r}; "
            "call ensure_filtering_rules_for_instance first"
        )


class MigrationPreCheckError(VirtDriverError):
    """A live-migration check refused the move; ``reason`` says why."""

    def __init__(self, instance_uuid: str, host: str, reason: str) -> None:
        self.instance_uuid = instance_uuid
        self.host = host
        self.reason = reason
        super().__init__(
            f"cannot live-migrate instance {instance_uuid} (checked on {host!r}): {reason}"
        )


class MigrationError(VirtDriverError):
    """A live-migration step failed or was called out of order; ``reason`` says why."""

    def __init__(self, instance_uuid: str, host: str, reason: str) -> None:
        self.instance_uuid = instance_uuid
        self.host = host
        self.reason = reason
        super().__init__(f"live migration of instance {instance_uuid} failed on {host!r}: {reason}")


class InjectedFailure(VirtDriverError):
    """The failure a fake driver raises for ``inject_failure(operation)`` when no
    exception was given."""

    def __init__(self, operation: str, host: str) -> None:
        self.operation = operation
        self.host = host
        super().__init__(f"injected failure of {operation} on host {host!r}")
