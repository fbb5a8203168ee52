"""Errors the compute manager raises itself (the driver's and the volume store's pass
through unchanged).

Attributes are primitives, and this module imports only the standard library, so
``rpcapi`` allow-lists these classes and every caller (the conductor included) gets
them back typed.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "COMPUTE_EXCEPTIONS",
    "ComputeError",
    "ComputeHostInUse",
    "ComputeResourcesUnavailable",
    "ComputeTooOld",
    "ImageFetchFailed",
    "InstanceInvalidState",
    "InstanceNotOnHost",
    "LiveMigrationFailed",
    "NetworkAllocationFailed",
]


class ComputeError(Exception):
    """Base class of the compute manager's own errors."""


class InstanceInvalidState(ComputeError):
    """``action`` needs the instance's ``attr`` in one of ``expected``; it is ``state``."""

    def __init__(
        self, instance_uuid: str, action: str, attr: str, state: str, expected: Iterable[str]
    ) -> None:
        self.instance_uuid = instance_uuid
        self.action = action
        self.attr = attr
        self.state = state
        self.expected = sorted(expected)
        super().__init__(
            f"cannot {action} instance {instance_uuid}: its {attr} is {state}, "
            f"expected one of {self.expected}"
        )


class InstanceNotOnHost(ComputeError):
    """A request for an instance reached a host it is not recorded on."""

    def __init__(self, instance_uuid: str, host: str, recorded_host: str | None) -> None:
        self.instance_uuid = instance_uuid
        self.host = host
        self.recorded_host = recorded_host
        super().__init__(
            f"instance {instance_uuid} is recorded on host {recorded_host!r}, "
            f"not on {host!r} which received the request"
        )


class ComputeResourcesUnavailable(ComputeError):
    """The host's resource tracker cannot claim what the instance needs."""

    def __init__(self, host: str, instance_uuid: str, reason: str) -> None:
        self.host = host
        self.instance_uuid = instance_uuid
        self.reason = reason
        super().__init__(f"host {host!r} cannot claim resources for {instance_uuid}: {reason}")


class NetworkAllocationFailed(ComputeError):
    """No network could be allocated for the instance on this host."""

    def __init__(self, instance_uuid: str, host: str, reason: str) -> None:
        self.instance_uuid = instance_uuid
        self.host = host
        self.reason = reason
        super().__init__(
            f"cannot allocate a network for instance {instance_uuid} on {host!r}: {reason}"
        )


class LiveMigrationFailed(ComputeError):
    """A live migration did not complete; ``runs_on`` is where the guest runs now
    (the instance record says the same), ``status`` the migration's final status."""

    def __init__(
        self,
        instance_uuid: str,
        source: str,
        dest: str,
        status: str,
        runs_on: str | None,
        reason: str,
    ) -> None:
        self.instance_uuid = instance_uuid
        self.source = source
        self.dest = dest
        self.status = status
        self.runs_on = runs_on
        self.reason = reason
        super().__init__(
            f"live migration of instance {instance_uuid} from {source!r} to {dest!r} "
            f"ended {status}; it runs on {runs_on!r}: {reason}"
        )


class ImageFetchFailed(ComputeError):
    """The host could not bring image ``image_id`` into its cache (the image API
    unreachable or refusing the host's credential, no such image, data that does not
    match its recorded hash...); ``reason`` says which, never a password."""

    def __init__(self, image_id: str, reason: str) -> None:
        self.image_id = image_id
        self.reason = reason
        super().__init__(f"cannot fetch image {image_id}: {reason}")


class ComputeTooOld(ComputeError):
    """The addressed compute host speaks an older compute RPC API than a request
    needs (a rolling upgrade has not reached it yet)."""

    def __init__(
        self, host: str, speaks: str | None, needs: str, what: str, *, release: str | None = None
    ) -> None:
        self.host = host
        self.speaks = speaks
        self.needs = needs
        self.what = what
        self.release = release
        on = f" (release {release})" if release else ""
        super().__init__(
            f"compute {host}{on} speaks compute RPC {speaks or 'of an unknown version'} and "
            f"cannot {what}, which needs {needs}: upgrade {host} first "
            "(`cumulo upgrade check` shows each host's level)"
        )


class ComputeHostInUse(ComputeError):
    """Another process serves this compute host: its service row's heartbeat is fresh
    and it answers on the bus. Two processes on one host's queue would each take
    the other's messages."""

    def __init__(self, host: str, heartbeat_age: float, service_down_time: float) -> None:
        self.host = host
        self.heartbeat_age = heartbeat_age
        self.service_down_time = service_down_time
        super().__init__(
            f"compute host {host!r} is already served by another process: its last "
            f"heartbeat is {heartbeat_age:.1f} s old (service_down_time "
            f"{service_down_time:g} s) and it answers on the bus; stop that process "
            f"first (a host whose process died is taken over once it no longer answers "
            f"or its heartbeat is older than {service_down_time:g} s)"
        )


COMPUTE_EXCEPTIONS: tuple[type[ComputeError], ...] = (
    ComputeError,
    ComputeHostInUse,
    ComputeTooOld,
    InstanceInvalidState,
    InstanceNotOnHost,
    ComputeResourcesUnavailable,
    NetworkAllocationFailed,
    LiveMigrationFailed,
    ImageFetchFailed,
)
"""Every class of this module (what ``rpcapi`` allow-lists)."""
