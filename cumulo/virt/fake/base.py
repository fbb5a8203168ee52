"""``FakeBase``: the state the fake driver's capabilities share (guests, VIFs, volume
connections, filters, injected failures) and the steps they repeat."""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Concatenate, Final, ParamSpec, TypeVar
from uuid import UUID

from cumulo.model import (
    VIF,
    AccessMode,
    Architecture,
    BlockDeviceInfo,
    BlockDeviceMapping,
    DeviceType,
    DhcpOption,
    DiskBus,
    NetworkInfo,
    PowerState,
    VolumeConnectionInfo,
)
from cumulo.objects import MACAddress

from .. import common, device_names
from ..common import Resources
from ..config import IPAddress
from ..driver import CAPABILITIES, ComputeDriver
from ..exceptions import (
    DeviceInUse,
    InjectedFailure,
    InstanceNotFound,
    InvalidPowerState,
    MigrationError,
    VolumeAlreadyAttached,
)
from ..fake_network import FakeHypervisorNetwork, FakeMigrationChannel, FakeStorage
from .guest import BOOT_READ_BYTES, RUNS_HERE, Connection, Filter, Guest, GuestPhase

# Ends the message of InvalidGuestSize from this driver.
SIZE_HINT: Final = " (is the flavor set?)"

INCOMING_LIVE_MIGRATION: Final = "incoming_live_migration"
"""The failure point on the destination when a live-migrated guest arrives (after
``pre_live_migration``, inside the source's ``live_migration``)."""


def _interface_methods() -> frozenset[str]:
    names: set[str] = set()
    for group in CAPABILITIES:
        names.update(
            name
            for name, value in vars(group).items()
            if callable(value) and not name.startswith("_")
        )
    return frozenset(names)


FAILURE_POINTS: Final = _interface_methods() | {INCOMING_LIVE_MIGRATION}
"""The operations :meth:`FakeDriver.inject_failure` accepts: every driver method,
and :data:`INCOMING_LIVE_MIGRATION`."""


@dataclasses.dataclass
class Failure:
    exc: BaseException | type[BaseException] | None
    remaining: int | None


_Host = TypeVar("_Host", bound="FakeBase")
_Args = ParamSpec("_Args")
_Result = TypeVar("_Result")


def failure_point(
    method: Callable[Concatenate[_Host, _Args], _Result],
) -> Callable[Concatenate[_Host, _Args], _Result]:
    """Make a driver method a failure point: it runs under the host's lock and, when
    :meth:`FakeDriver.inject_failure` queued a failure for it, fails on entry,
    before it changes anything."""
    operation = method.__name__

    @functools.wraps(method)
    def run(self: _Host, /, *args: _Args.args, **kwargs: _Args.kwargs) -> _Result:
        with self._lock:
            self._maybe_fail(operation)
            return method(self, *args, **kwargs)

    run.failure_point = operation  # type: ignore[attr-defined]
    return run


class FakeBase(ComputeDriver):
    """The state every capability of the fake driver shares, and the steps they
    repeat: failure injection, finding a guest in a phase, claims, VIFs, volume
    connections and the guest's running clock. ``FakeDriver`` sets it up."""

    _capacity: Resources
    _network: FakeHypervisorNetwork | None
    _host_ip: IPAddress
    _storage: FakeStorage
    _cpu_arch: Architecture
    _cpu_model: str
    _cpu_features: tuple[str, ...]
    _mac_pool: frozenset[MACAddress] | None
    _dhcp_options: list[DhcpOption]
    _clock: Callable[[], float]
    _images_path: Path | None
    _lock: threading.RLock
    _guests: dict[UUID, Guest]
    _vifs: dict[UUID, tuple[UUID, VIF]]
    """VIF id -> (instance uuid, VIF) of every VIF plugged on the host."""
    _connections: dict[tuple[UUID, UUID], Connection]
    """(instance uuid, volume id) -> the volume's connection on the host."""
    _filters: dict[UUID, Filter]
    _failures: dict[str, list[Failure]]
    _domain_ids: int
    _channel: FakeMigrationChannel | None

    def inject_failure(
        self,
        operation: str,
        exc: BaseException | type[BaseException] | None = None,
        times: int | None = 1,
    ) -> None:
        """Make the next ``times`` calls of ``operation`` fail (``None``: every call
        until :meth:`clear_failures`).

        The failure happens when the call starts, before it changes anything, so a
        failed call leaves the host as it was. ``exc`` is raised as given (an
        instance) or made with a message (a class); by default
        :class:`~cumulo.virt.exceptions.InjectedFailure`. ``live_migration`` does not
        raise: it reports the failure to ``recover_method``, as for any migration
        failure; the same goes for :data:`INCOMING_LIVE_MIGRATION` on the destination.
        Failures queue up: two calls inject two failures, used in order.

        Args:
            operation: a driver method name or :data:`INCOMING_LIVE_MIGRATION`.
            exc: what to raise.
            times: how many calls fail (>= 1), or ``None`` for all.

        Raises:
            ValueError: ``operation`` is not in :data:`FAILURE_POINTS`, or ``times`` < 1.
        """
        if operation not in FAILURE_POINTS:
            raise ValueError(
                f"inject_failure: unknown operation {operation!r}; "
                f"expected a driver method or {INCOMING_LIVE_MIGRATION!r}"
            )
        if times is not None and times < 1:
            raise ValueError(f"inject_failure: times must be >= 1 or None, got {times}")
        with self._lock:
            self._failures.setdefault(operation, []).append(Failure(exc, times))

    def clear_failures(self, operation: str | None = None) -> None:
        """Forget the failures injected for ``operation`` (``None``: for all)."""
        with self._lock:
            if operation is None:
                self._failures.clear()
            else:
                self._failures.pop(operation, None)

    def pending_failures(self) -> dict[str, int | None]:
        """Operation → calls still to fail (``None``: unlimited), for those with any."""
        with self._lock:
            pending: dict[str, int | None] = {}
            for operation, queue in self._failures.items():
                if not queue:
                    continue
                if any(f.remaining is None for f in queue):
                    pending[operation] = None
                else:
                    pending[operation] = sum(f.remaining or 0 for f in queue)
            return pending

    def _maybe_fail(self, operation: str) -> None:
        queue = self._failures.get(operation)
        if not queue:
            return
        failure = queue[0]
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
        exc = failure.exc
        if exc is None:
            raise InjectedFailure(operation, self.host)
        if isinstance(exc, type):
            raise exc(f"injected failure of {operation} on host {self.host!r}")
        raise exc

    def _next_domain_id(self) -> str:
        self._domain_ids += 1
        return f"{self.host}-{self._domain_ids}"

    def _guest_in(self, instance_uuid: UUID, phases: Iterable[GuestPhase]) -> Guest:
        guest = self._guests.get(instance_uuid)
        if guest is None or guest.phase not in tuple(phases):
            raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
        return guest

    def _in_phase(
        self,
        instance_uuid: UUID,
        phase: GuestPhase,
        error: Callable[[str], Exception],
        reason: str,
    ) -> Guest:
        """The guest's record, in ``phase``; else ``error(reason)`` is raised, the
        reason ending with the phase the record is in (or that there is none)."""
        guest = self._guests.get(instance_uuid)
        if guest is None or guest.phase is not phase:
            state = "no record" if guest is None else guest.phase
            raise error(f"{reason} ({state})")
        return guest

    def _runs_here(self, instance_uuid: UUID, action: str, *, reading: bool = False) -> Guest:
        """The guest running here; only ``reading`` actions reach one that is leaving."""
        guest = self._guests.get(instance_uuid)
        if guest is None or guest.phase not in RUNS_HERE:
            raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
        if guest.phase is GuestPhase.MIGRATING and not reading:
            raise MigrationError(
                str(instance_uuid), self.host, f"cannot {action} the guest while it migrates"
            )
        return guest

    def _departed(self, instance_uuid: UUID, action: str) -> Guest:
        guest = self._guests.get(instance_uuid)
        if guest is None:
            raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
        if guest.phase is not GuestPhase.DEPARTED:
            raise MigrationError(
                str(instance_uuid), self.host, f"{action}: the guest is {guest.phase} here"
            )
        return guest

    def _used(self) -> Resources:
        used = Resources(0, 0, 0)
        for guest in self._guests.values():
            used.vcpus += guest.claim.vcpus
            used.memory_mb += guest.claim.memory_mb
            used.disk_gb += guest.claim.disk_gb
        return used

    def _free(self) -> Resources:
        used = self._used()
        cap = self._capacity
        return Resources(
            cap.vcpus - used.vcpus, cap.memory_mb - used.memory_mb, cap.disk_gb - used.disk_gb
        )

    def _check_fits(self, instance_uuid: UUID, claim: Resources) -> None:
        common.check_fits(self.host, instance_uuid, claim, self._free())

    def _check_pluggable(self, instance_uuid: UUID, network_info: NetworkInfo) -> None:
        common.check_pluggable(
            self.host, instance_uuid, network_info, self._vifs.values(), mac_pool=self._mac_pool
        )

    def _plug(self, instance_uuid: UUID, network_info: NetworkInfo) -> None:
        for vif in network_info:
            self._vifs[vif.id] = (instance_uuid, vif.obj_clone())

    def _unplug(self, instance_uuid: UUID, vif_ids: Iterable[UUID]) -> None:
        for vif_id in vif_ids:
            owner = self._vifs.get(vif_id)
            if owner is not None and owner[0] == instance_uuid:
                del self._vifs[vif_id]

    def _volumes_to_connect(
        self, instance_uuid: UUID, block_device_info: BlockDeviceInfo | None
    ) -> list[common.VolumeToConnect]:
        def check(connection_info: VolumeConnectionInfo, mount: str) -> None:
            self._check_connectable(instance_uuid, connection_info, mount)

        return common.volumes_to_connect(instance_uuid, block_device_info, check=check)

    def _check_connectable(
        self, instance_uuid: UUID, connection_info: VolumeConnectionInfo, mount: str
    ) -> None:
        volume_id = connection_info.volume_id
        for (inst, vol), conn in self._connections.items():
            if inst == instance_uuid and conn.mountpoint == mount:
                raise DeviceInUse(str(instance_uuid), mount, str(vol))
            if vol == volume_id and (inst == instance_uuid or not connection_info.multiattach):
                raise VolumeAlreadyAttached(str(volume_id), str(inst), conn.mountpoint)

    def _connect(
        self,
        instance_uuid: UUID,
        guest: Guest,
        connection_info: VolumeConnectionInfo,
        mountpoint: str,
        bdm: BlockDeviceMapping | None,
        disk_bus: DiskBus | None = None,
        device_type: DeviceType | None = None,
    ) -> Connection:
        # Where the volume shows up on the host; the caller saves it with the mapping.
        connection_info.device_path = (
            connection_info.path or f"/dev/disk/by-id/cumulo-{connection_info.volume_id}"
        )
        conn = Connection(
            mountpoint=device_names.normalize(mountpoint),
            connection_info=connection_info.obj_clone(),
            disk_bus=disk_bus or (bdm.disk_bus if bdm else None),
            device_type=device_type or (bdm.device_type if bdm else None),
            attached_at_run_s=self._run_seconds(guest),
            read_only=connection_info.access_mode is AccessMode.READ_ONLY,
        )
        self._connections[(instance_uuid, connection_info.volume_id)] = conn
        return conn

    def _release_everything(self, instance_uuid: UUID, *, unplug: bool) -> None:
        for key in [k for k in self._connections if k[0] == instance_uuid]:
            del self._connections[key]
        self._filters.pop(instance_uuid, None)
        if unplug:
            self._unplug(
                instance_uuid,
                [vid for vid, (inst, _) in self._vifs.items() if inst == instance_uuid],
            )

    def _boot(self, guest: Guest) -> None:
        now = self._clock()
        guest.power_state = PowerState.RUNNING
        guest.running_since = now
        guest.booted_at = now
        guest.boot_count += 1
        guest.boot_read_bytes += BOOT_READ_BYTES
        guest.write_console(
            f"Cumulo fake guest {guest.name} ({guest.uuid}) booting on {self.host} "
            f"(boot {guest.boot_count})"
        )

    def _halt(self, guest: Guest, power_state: PowerState, console_line: str) -> None:
        """The guest stops and is no longer up (shut down, suspended, crashed); its
        console says why."""
        self._stop_clock(guest)
        guest.booted_at = None
        guest.power_state = power_state
        guest.write_console(console_line)

    def _stop_clock(self, guest: Guest) -> None:
        if guest.running_since is not None:
            guest.running_total += max(0.0, self._clock() - guest.running_since)
            guest.running_since = None

    def _run_seconds(self, guest: Guest) -> float:
        extra = 0.0
        if guest.running_since is not None:
            extra = max(0.0, self._clock() - guest.running_since)
        return guest.running_total + extra

    def _uptime(self, guest: Guest) -> float | None:
        if guest.booted_at is None:
            return None
        return max(0.0, self._clock() - guest.booted_at)


def require_state(guest: Guest, action: str, allowed: Sequence[PowerState]) -> None:
    if guest.power_state not in allowed:
        raise InvalidPowerState(
            str(guest.uuid), action, guest.power_state.name, [s.name for s in allowed]
        )


def forbid_state(guest: Guest, action: str, forbidden: Sequence[PowerState]) -> None:
    if guest.power_state in forbidden:
        allowed = [s.name for s in PowerState if s not in forbidden and s is not PowerState.NOSTATE]
        raise InvalidPowerState(str(guest.uuid), action, guest.power_state.name, allowed)
