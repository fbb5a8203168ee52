"""Live migration on the fake: both hosts' checks, the destination's preparation, the
hand-over (direct or through the migration channel), post steps, rollback, probes."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from typing import Concatenate, ParamSpec, TypeVar

from cumulo.model import (
    BlockDeviceInfo,
    ComputeNode,
    Context,
    DiskBus,
    Instance,
    LiveMigrateData,
    NetworkInfo,
    PowerState,
    SharedStorageProbe,
    VolumeConnectionInfo,
)

from .. import common
from ..common import Resources
from ..exceptions import InstanceExists, MigrationError, MigrationPreCheckError
from ..fake_network import FakeStorage
from .base import (
    INCOMING_LIVE_MIGRATION,
    SIZE_HINT,
    FakeBase,
    failure_point,
    require_state,
)
from .guest import GIB, MIB, RUNS_HERE, Guest, GuestPhase
from .transfer import GuestState

_Destination = TypeVar("_Destination", bound="FakeMigration")
_Args = ParamSpec("_Args")
_Result = TypeVar("_Result")


def arrival_point(
    method: Callable[Concatenate[_Destination, Context, Instance, _Args], _Result],
) -> Callable[Concatenate[_Destination, Context, Instance, _Args], _Result]:
    """A failure point (see :func:`~.base.failure_point`) on the destination of a
    live migration that first takes in the guest a source in another process sent
    through the migration channel, so an injected failure comes after the guest
    arrived, as it does in one process."""
    operation = method.__name__

    @functools.wraps(method)
    def run(
        self: _Destination,
        context: Context,
        instance: Instance,
        /,
        *args: _Args.args,
        **kwargs: _Args.kwargs,
    ) -> _Result:
        with self._lock:
            self._take_in(instance)
            self._maybe_fail(operation)
            return method(self, context, instance, *args, **kwargs)

    run.failure_point = operation  # type: ignore[attr-defined]
    return run


class FakeMigration(FakeBase):
    """Both sides of a live migration, and whether two hosts share instance storage."""

    @failure_point
    def check_can_live_migrate_destination(
        self,
        context: Context,
        instance: Instance,
        src_compute_info: ComputeNode | None,
        dst_compute_info: ComputeNode | None,
        block_migration: bool = False,
        disk_over_commit: bool = False,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.check_can_live_migrate_destination`."""
        uuid_ = instance.uuid
        refuse = functools.partial(MigrationPreCheckError, str(uuid_), self.host)
        existing = self._guests.get(uuid_)
        if existing is not None:
            raise refuse(f"this host already has the guest ({existing.phase})")
        if src_compute_info is not None:
            if src_compute_info.host == self.host:
                raise refuse("source and destination are the same host")
            src_cpu = src_compute_info.cpu_info
            if src_cpu.arch is not self._cpu_arch:
                raise refuse(
                    f"CPU architecture {src_cpu.arch} of the source differs "
                    f"from {self._cpu_arch} here"
                )
            missing = sorted(set(src_cpu.features) - set(self._cpu_features))
            if missing:
                raise refuse(f"this host's CPU lacks features of the source: {missing}")
        # Disk is checked by the source, which knows what the guest has locally
        # (disk_available_mb below); here only what every guest needs.
        claim = common.claim_of(instance, volume_backed=True, hint=SIZE_HINT)
        free = self._free()
        short = [
            (name, need, have)
            for name, need, have in (
                ("vcpus", claim.vcpus, free.vcpus),
                ("memory_mb", claim.memory_mb, free.memory_mb),
            )
            if need > have
        ]
        if short:
            described = ", ".join(f"{n} {need} needed, {have} free" for n, need, have in short)
            raise refuse(f"not enough room: {described}")
        probe = f"cumulo-probe-{uuid.uuid4().hex}"
        self._storage.probes.add(probe)
        return common.dest_check_data(
            self.host,
            self._host_ip,
            block_migration=block_migration,
            disk_over_commit=disk_over_commit,
            disk_available_mb=free.disk_gb * 1024,
            probe=probe,
        )

    @failure_point
    def cleanup_live_migration_destination_check(
        self, context: Context, dest_check_data: LiveMigrateData
    ) -> None:
        """See :meth:`ComputeDriver.cleanup_live_migration_destination_check`."""
        if dest_check_data.filename:
            self._storage.probes.discard(dest_check_data.filename)

    @failure_point
    def check_can_live_migrate_source(
        self,
        context: Context,
        instance: Instance,
        dest_check_data: LiveMigrateData,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.check_can_live_migrate_source`."""
        uuid_ = instance.uuid
        refuse = functools.partial(MigrationPreCheckError, str(uuid_), self.host)
        guest = self._in_phase(
            uuid_, GuestPhase.ACTIVE, refuse, "the guest does not run on this host"
        )
        if guest.power_state not in (PowerState.RUNNING, PowerState.PAUSED):
            raise refuse(f"the guest is {guest.power_state.name}, not running or paused")
        if dest_check_data.dest_host == self.host:
            raise refuse("source and destination are the same host")
        data = dest_check_data.obj_clone()
        filename = dest_check_data.filename
        shared_path = bool(filename) and (filename or "") in self._storage.probes
        local_disk = guest.claim.disk_gb > 0
        data.is_shared_instance_path = shared_path
        data.is_volume_backed = guest.volume_backed
        data.is_shared_block_storage = shared_path or not local_disk
        data.instance_relative_path = str(uuid_)
        block = bool(data.block_migration)
        if block and data.is_shared_block_storage:
            raise refuse("block migration asked, but the guest's disks are already shared")
        if not block and not data.is_shared_block_storage:
            raise refuse(
                "the guest has local disks the destination cannot see; use block migration"
            )
        if block and not data.disk_over_commit:
            need_mb = guest.claim.disk_gb * 1024
            have_mb = data.disk_available_mb or 0
            if need_mb > have_mb:
                raise refuse(
                    f"the destination has {have_mb} MiB of disk free, the guest needs {need_mb} MiB"
                )
        return data

    @failure_point
    def pre_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        network_info: NetworkInfo,
        migrate_data: LiveMigrateData,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.pre_live_migration`."""
        uuid_ = instance.uuid
        existing = self._guests.get(uuid_)
        if existing is not None:
            raise InstanceExists(str(uuid_), self.host, f"a guest record ({existing.phase})")
        volume_backed = bool(migrate_data.is_volume_backed) or common.is_volume_backed(
            instance, block_device_info
        )
        claim = common.claim_of(instance, volume_backed, hint=SIZE_HINT)
        self._check_fits(uuid_, claim)
        self._check_pluggable(uuid_, network_info)
        volumes = self._volumes_to_connect(uuid_, block_device_info)
        guest = Guest(
            uuid=uuid_,
            name=instance.name,
            phase=GuestPhase.INCOMING,
            internal_id="",
            claim=claim,
            volume_backed=volume_backed,
            power_state=PowerState.NOSTATE,
            network_info=network_info.obj_clone(),
        )
        self._guests[uuid_] = guest
        self._plug(uuid_, network_info)
        if self._channel is not None:
            self._channel.expect(self.host, uuid_)

        def connect(volume: common.VolumeToConnect) -> VolumeConnectionInfo:
            info, mount = volume.connection_info, volume.mountpoint
            return self._connect(uuid_, guest, info, mount, volume.bdm).connection_info

        data = migrate_data.obj_clone()
        data.bdms = common.live_migrate_bdms(volumes, connect, default_bus=DiskBus.VIRTIO)
        data.vifs = common.vif_migrate_data(network_info, self.host)
        data.graphics_listen_addr_vnc = self._host_ip
        data.serial_listen_addr = self._host_ip
        data.target_connect_addr = str(self._host_ip)
        data.dest_host = self.host
        return data

    def _migrate_guest(
        self, instance: Instance, dest: str, block_migration: bool, migrate_data: LiveMigrateData
    ) -> None:
        """See :meth:`ComputeDriver._migrate_guest`. The destination must be a host
        of the same :class:`FakeHypervisorNetwork` on which ``pre_live_migration`` ran
        (or one reached through the migration channel); it must have every volume
        and VIF of the guest, and a firewall filter when the guest has one here."""
        uuid_ = instance.uuid
        with self._lock:
            self._maybe_fail("live_migration")
            fail = functools.partial(MigrationError, str(uuid_), self.host)
            guest = self._in_phase(uuid_, GuestPhase.ACTIVE, fail, "the guest does not run here")
            require_state(guest, "live-migrate", (PowerState.RUNNING, PowerState.PAUSED))
            if dest == self.host:
                raise fail("the destination is this host")
            target = self._network.driver(dest) if self._network else None
            channel = self._channel if target is None else None
            if target is None and (channel is None or not channel.is_open(dest)):
                raise fail(f"host {dest!r} is not reachable")
            if channel is not None:
                if not channel.expects(dest, uuid_):
                    raise fail(f"pre_live_migration did not prepare {dest!r}")
                if guest.claim.disk_gb > 0 and not block_migration:
                    raise fail(
                        f"the guest's local disks cannot be shared with {dest!r} (another "
                        "process); use block migration"
                    )
            guest.phase = GuestPhase.MIGRATING
            payload = self._state_of(guest, block_migration).encode()
            console = tuple(guest.console)
        try:
            if target is not None:
                sent = GuestState.decode(payload)
                target._receive(sent, self._storage, console=console, source=self.host)
            else:
                assert channel is not None
                channel.send(dest, uuid_, payload)
        except BaseException:
            with self._lock:
                guest.phase = GuestPhase.ACTIVE
            raise
        with self._lock:
            memory = guest.claim.memory_mb * MIB
            disk = guest.claim.disk_gb * GIB if block_migration else 0
            self._stop_clock(guest)
            guest.booted_at = None
            guest.phase = GuestPhase.DEPARTED
            guest.power_state = PowerState.NOSTATE
            # The memory left with the guest; the disk stays claimed until cleanup.
            guest.claim = Resources(0, 0, guest.claim.disk_gb)
        migration = migrate_data.migration
        if migration is not None:
            migration.memory_total = memory
            migration.memory_processed = memory
            migration.memory_remaining = 0
            migration.disk_total = disk
            migration.disk_processed = disk
            migration.disk_remaining = 0

    def _take_in(self, instance: Instance) -> None:
        """Take in the guest a source in another process sent through the channel
        (if it did); the arrival checks of :meth:`_receive` apply. The channel does
        not name the source: ``instance.host`` does until the caller moves it here."""
        if self._channel is None:
            return
        payload = self._channel.receive(self.host, instance.uuid)
        if payload is not None:
            source = instance.host if instance.host != self.host else None
            # The source's storage is another process's: never shared with this one.
            self._receive(GuestState.decode(payload), None, console=(), source=source)

    def _receive(
        self,
        sent: GuestState,
        storage: FakeStorage | None,
        *,
        console: Iterable[str],
        source: str | None,
    ) -> None:
        """The destination side of a live migration: the guest ``sent`` arrives, from
        the source host ``source`` whose instance storage is ``storage`` (``None``:
        another process's), with the console lines it carries."""
        with self._lock:
            self._maybe_fail(INCOMING_LIVE_MIGRATION)
            uuid_ = sent.uuid
            fail = functools.partial(MigrationError, str(uuid_), self.host)
            not_prepared = "pre_live_migration did not prepare this host"
            guest = self._in_phase(uuid_, GuestPhase.INCOMING, fail, not_prepared)
            connected = {vol for inst, vol in self._connections if inst == uuid_}
            missing_volumes = sorted(set(sent.volume_ids) - connected)
            if missing_volumes:
                raise fail(f"volumes not connected here: {[str(v) for v in missing_volumes]}")
            plugged = {vid for vid, (inst, _) in self._vifs.items() if inst == uuid_}
            missing_vifs = sorted(set(sent.vif_ids) - plugged)
            if missing_vifs:
                raise fail(f"VIFs not plugged here: {[str(v) for v in missing_vifs]}")
            if sent.filtered and uuid_ not in self._filters:
                raise fail("the guest is filtered on the source but has no filter here")
            shared = storage is self._storage
            if sent.local_disk and not shared and not sent.block_migration:
                raise fail("the guest's local disks are neither shared with nor copied here")
            self._storage.dirs.add(uuid_)
            now = self._clock()
            guest.phase = GuestPhase.ACTIVE
            guest.internal_id = self._next_domain_id()
            for name, value in sent.movable().items():
                setattr(guest, name, value)
            guest.running_total = sent.run_s
            guest.running_since = now if sent.power_state is PowerState.RUNNING else None
            guest.booted_at = None if sent.uptime_s is None else now - sent.uptime_s
            for (inst, _), conn in self._connections.items():
                if inst == uuid_:
                    conn.attached_at_run_s = sent.run_s
            guest.console.clear()
            guest.console.extend(console)
            guest.write_console(
                f"live migration: arrived from {source or 'another host'} on {self.host}"
            )

    def _state_of(self, guest: Guest, block_migration: bool) -> GuestState:
        uuid_ = guest.uuid
        return GuestState(
            **guest.movable(),
            block_migration=block_migration,
            uuid=uuid_,
            run_s=self._run_seconds(guest),
            uptime_s=self._uptime(guest),
            volume_ids=sorted(vol for inst, vol in self._connections if inst == uuid_),
            vif_ids=sorted(vid for vid, (inst, _) in self._vifs.items() if inst == uuid_),
            filtered=uuid_ in self._filters,
            volume_backed=guest.volume_backed,
            local_disk=guest.claim.disk_gb > 0,
            storage=self._storage.name,
        )

    @failure_point
    def post_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration`."""
        guest = self._departed(instance.uuid, "post_live_migration")
        for key in [k for k in self._connections if k[0] == guest.uuid]:
            del self._connections[key]

    @failure_point
    def post_live_migration_at_source(
        self, context: Context, instance: Instance, network_info: NetworkInfo
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration_at_source`."""
        guest = self._guests.get(instance.uuid)
        if guest is not None and guest.phase in RUNS_HERE:
            raise MigrationError(str(guest.uuid), self.host, "the guest still runs here")
        self._unplug(instance.uuid, [vif.id for vif in network_info])

    @arrival_point
    def post_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_migration: bool = False,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration_at_destination`."""
        guest = self._guest_in(instance.uuid, (GuestPhase.ACTIVE,))
        self._check_pluggable(guest.uuid, network_info)
        keep = {vif.id for vif in network_info}
        stale = [vid for vid, (inst, _) in self._vifs.items() if inst == guest.uuid]
        self._unplug(guest.uuid, [vid for vid in stale if vid not in keep])
        self._plug(guest.uuid, network_info)
        guest.network_info = network_info.obj_clone()

    @arrival_point
    def rollback_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None,
        destroy_disks: bool = True,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.rollback_live_migration_at_destination`."""
        uuid_ = instance.uuid
        if self._channel is not None:
            self._channel.forget(self.host, uuid_)
        guest = self._guests.get(uuid_)
        if guest is None:
            return
        if guest.phase is not GuestPhase.INCOMING:
            raise MigrationError(
                str(uuid_),
                self.host,
                f"cannot roll back: the guest is {guest.phase} here; rolling back would destroy it",
            )
        del self._guests[uuid_]
        self._release_everything(uuid_, unplug=True)
        if destroy_disks:
            self._storage.dirs.discard(uuid_)

    @failure_point
    def check_instance_shared_storage_local(
        self, context: Context, instance: Instance
    ) -> SharedStorageProbe | None:
        """See :meth:`ComputeDriver.check_instance_shared_storage_local`."""
        filename = f"{instance.uuid}/cumulo-probe-{uuid.uuid4().hex}"
        self._storage.probes.add(filename)
        return SharedStorageProbe(host=self.host, filename=filename)

    @failure_point
    def check_instance_shared_storage_remote(
        self, context: Context, probe: SharedStorageProbe
    ) -> bool:
        """See :meth:`ComputeDriver.check_instance_shared_storage_remote`."""
        return probe.filename in self._storage.probes

    @failure_point
    def check_instance_shared_storage_cleanup(
        self, context: Context, probe: SharedStorageProbe
    ) -> None:
        """See :meth:`ComputeDriver.check_instance_shared_storage_cleanup`."""
        self._storage.probes.discard(probe.filename)
