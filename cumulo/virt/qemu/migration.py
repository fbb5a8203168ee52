"""Live migration with QEMU's own: both hosts' checks, the destination waiting (``-incoming
defer``, NBD exports), the source's mirror and migrate, post steps, rollback, probes."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import time
import uuid as uuidlib
from typing import Any

from cumulo.model import (
    BlockDeviceInfo,
    ComputeNode,
    Context,
    DiskBus,
    InjectedFile,
    Instance,
    LiveMigrateData,
    NetworkInfo,
    PowerState,
    SharedStorageProbe,
)

from .. import common
from ..exceptions import InstanceNotFound, MigrationError, MigrationPreCheckError
from . import configdrive, endpoints, images
from .base import QemuBase
from .guest import (
    MIB,
    Guest,
    GuestPhase,
    free_port_pair,
    instance_root_bytes,
    meminfo_mb,
    poll,
    safe_child,
)
from .monitor import MonitorError, MonitorSession
from .netdev import tap_name


class QemuMigration(QemuBase):
    """Both sides of a live migration, and whether two hosts share instance storage."""

    def check_instance_shared_storage_local(
        self, context: Context, instance: Instance
    ) -> SharedStorageProbe | None:
        """See :meth:`ComputeDriver.check_instance_shared_storage_local`: a marker
        file in the instance's directory."""
        directory = self._instances / str(instance.uuid)
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{instance.uuid}/.cumulo-probe-{uuidlib.uuid4().hex}"
        (self._instances / name).write_text(self.host)
        return SharedStorageProbe(host=self.host, filename=name)

    def check_instance_shared_storage_remote(
        self, context: Context, probe: SharedStorageProbe
    ) -> bool:
        """See :meth:`ComputeDriver.check_instance_shared_storage_remote`."""
        return safe_child(self._instances, probe.filename).is_file()

    def check_instance_shared_storage_cleanup(
        self, context: Context, probe: SharedStorageProbe
    ) -> None:
        """See :meth:`ComputeDriver.check_instance_shared_storage_cleanup`; the
        instance directory goes too when the probe was all it held."""
        path = safe_child(self._instances, probe.filename)
        path.unlink(missing_ok=True)
        parent = path.parent
        if parent != self._instances:
            with self._lock:
                in_use = any(g.directory == parent for g in self._guests.values())
            if not in_use:
                with contextlib.suppress(OSError):
                    parent.rmdir()

    def check_can_live_migrate_destination(
        self,
        context: Context,
        instance: Instance,
        src_compute_info: ComputeNode | None,
        dst_compute_info: ComputeNode | None,
        block_migration: bool = False,
        disk_over_commit: bool = False,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.check_can_live_migrate_destination`: same QEMU
        version, machine type and CPU model as the source; free vCPUs and RAM here
        (the driver's claims and the host's available memory); a probe file for
        the source to look for."""
        self._require_ready()
        with self._lock:
            uuid_ = instance.uuid
            refuse = functools.partial(MigrationPreCheckError, str(uuid_), self.host)
            if uuid_ in self._guests:
                raise refuse(f"this host already has the guest ({self._guests[uuid_].phase})")
            if src_compute_info is not None:
                if src_compute_info.host == self.host:
                    raise refuse("source and destination are the same host")
                mine = self._cpu_info().model
                theirs = src_compute_info.cpu_info.model
                if theirs != mine:
                    raise refuse(f"CPU model/machine/QEMU differ: source {theirs!r}, here {mine!r}")
            vcpus, memory_mb, _ = common.claim_of(instance, True).as_tuple()
            cap, used = self._capacity(), self._used()
            free_mem = min(cap[1] - used[1], meminfo_mb("MemAvailable"))
            if vcpus > cap[0] - used[0] or memory_mb > free_mem:
                raise refuse(
                    f"not enough room: vcpus {vcpus} needed, {cap[0] - used[0]} free; "
                    f"memory_mb {memory_mb} needed, {free_mem} free"
                )
            probe = f".cumulo-probe-{uuidlib.uuid4().hex}"
            (self._instances / probe).write_text(self.host)
            stat = os.statvfs(self._instances)
            return common.dest_check_data(
                self.host,
                self._host_ip,
                block_migration=block_migration,
                disk_over_commit=disk_over_commit,
                disk_available_mb=min(
                    (cap[2] - self._used()[2]) * 1024, stat.f_bavail * stat.f_frsize // MIB
                ),
                probe=probe,
            )

    def cleanup_live_migration_destination_check(
        self, context: Context, dest_check_data: LiveMigrateData
    ) -> None:
        """See :meth:`ComputeDriver.cleanup_live_migration_destination_check`."""
        if dest_check_data.filename:
            safe_child(self._instances, dest_check_data.filename).unlink(missing_ok=True)

    def check_can_live_migrate_source(
        self,
        context: Context,
        instance: Instance,
        dest_check_data: LiveMigrateData,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.check_can_live_migrate_source`. Local disks on
        storage the destination does not share are copied (NBD mirror) whether or not
        ``block_migration`` was asked: that is how this driver migrates them."""
        with self._lock:
            uuid_ = instance.uuid
            refuse = functools.partial(MigrationPreCheckError, str(uuid_), self.host)
            guest = self._guests.get(uuid_)
            if guest is None or guest.phase is not GuestPhase.ACTIVE:
                raise refuse("the guest does not run on this host")
            state = self._power_state(guest)
            if state not in (PowerState.RUNNING, PowerState.PAUSED):
                raise refuse(f"the guest is {state.name}, not running or paused")
            if dest_check_data.dest_host == self.host:
                raise refuse("source and destination are the same host")
            data = dest_check_data.obj_clone()
            filename = dest_check_data.filename
            shared = bool(filename) and safe_child(self._instances, filename or "").is_file()
            data.is_shared_instance_path = shared
            data.is_volume_backed = guest.volume_backed
            data.is_shared_block_storage = shared
            data.instance_relative_path = str(uuid_)
            if not shared and not data.disk_over_commit:
                need_mb = guest.disk_gb * 1024
                have = data.disk_available_mb or 0
                if need_mb > have:
                    raise refuse(
                        f"the destination has {have} MiB free, the guest needs {need_mb} MiB"
                    )
            return data

    def pre_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        network_info: NetworkInfo,
        migrate_data: LiveMigrateData,
    ) -> LiveMigrateData:
        """See :meth:`ComputeDriver.pre_live_migration`: the disks (an empty overlay
        on the same base, a config-drive placeholder) unless storage is shared; taps;
        a QEMU with ``-incoming defer -S`` listening for the migration stream on a
        port and serving its local disks over NBD on the next port.

        The ports come back in ``migration_port`` and ``nbd_port`` (``None`` with
        shared storage: no disk is served) and, for release 0.1 sources, in
        ``target_connect_addr`` as ``address:port`` (NBD at port + 1)."""
        self._require_ready()
        with self._lock:
            uuid_ = instance.uuid
            self._refuse_known(uuid_)
            volume_backed = bool(migrate_data.is_volume_backed) or common.is_volume_backed(
                instance, block_device_info
            )
            shared = bool(migrate_data.is_shared_instance_path)
            guest = self._arriving(
                instance, network_info, GuestPhase.INCOMING, volume_backed, local_disk=not shared
            )
            directory = guest.directory
            created_dir = not directory.exists()
            try:
                directory.mkdir(parents=True, exist_ok=True)
                if not shared:
                    if not volume_backed:
                        base = self._base_image(instance.image_ref)
                        images.create_overlay(guest.root_disk, base, instance_root_bytes(instance))
                    with guest.config_drive.open("wb") as f:
                        f.truncate(self._config_drive_bytes)
                self._plug(guest, network_info)
                data = migrate_data.obj_clone()
                data.bdms = common.live_migrate_bdms(
                    common.volumes_to_connect(uuid_, block_device_info, needs_path=True),
                    lambda volume: self._record_volume(guest, volume).connection_info,
                    default_bus=DiskBus.SCSI,
                )
                self._guests[uuid_] = guest
                port = free_port_pair(str(self._host_ip))
                listen = f"{endpoints.uri_host(str(self._host_ip))}:{port}"
                guest.incoming_port = port
                self._start(guest, incoming=True)
                with self._qmp(guest).session() as qmp:
                    qmp.cmd(
                        "migrate-set-capabilities",
                        capabilities=[{"capability": "events", "state": True}],
                    )
                    qmp.cmd(
                        "migrate-incoming",
                        uri=f"tcp:{endpoints.uri_host(str(self._host_ip))}:{port}",
                    )
                    if not shared:
                        qmp.cmd(
                            "nbd-server-start",
                            addr={
                                "type": "inet",
                                "data": {"host": str(self._host_ip), "port": str(port + 1)},
                            },
                        )
                        for node in self._local_nodes(guest):
                            qmp.cmd(
                                "block-export-add",
                                type="nbd",
                                id=f"export-{node}",
                                **{"node-name": node},
                                name=node,
                                writable=True,
                            )
            except BaseException:
                self._discard(guest)
                if created_dir or not shared:
                    guest.root_disk.unlink(missing_ok=True)
                    guest.config_drive.unlink(missing_ok=True)
                if created_dir:
                    shutil.rmtree(directory, ignore_errors=True)
                raise
            data.vifs = common.vif_migrate_data(network_info, self.host)
            data.serial_listen_addr = self._host_ip
            data.target_connect_addr = listen
            data.migration_port = port
            data.nbd_port = None if shared else port + 1
            data.dest_host = self.host
            return data

    def _local_nodes(self, guest: Guest) -> list[str]:
        nodes = [] if guest.volume_backed else ["root"]
        return [*nodes, "config"]

    def _migrate_guest(
        self, instance: Instance, dest: str, block_migration: bool, migrate_data: LiveMigrateData
    ) -> None:
        """See :meth:`ComputeDriver._migrate_guest`: mirror the local disks to the
        destination's NBD exports, ``migrate`` with progress from ``query-migrate``
        written into ``migrate_data.migration``, then end the source process.

        The destination is ``migrate_data.target_connect_addr``'s address, on
        ``migration_port`` and ``nbd_port``; from a release 0.1 destination (which
        leaves them ``None``), on the port of ``target_connect_addr`` and that port
        + 1 (see :mod:`cumulo.virt.qemu.endpoints`)."""
        data = migrate_data
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is not GuestPhase.ACTIVE or not guest.alive():
                raise MigrationError(str(instance.uuid), self.host, "the guest does not run here")
            monitor = self._qmp(guest)
        try:
            target = endpoints.endpoints_of(data)
        except ValueError as error:
            raise MigrationError(str(guest.uuid), self.host, str(error)) from error
        shared = bool(data.is_shared_instance_path)
        migration = data.migration
        jobs: list[str] = []
        nbd_nodes: list[str] = []
        with monitor.session() as qmp:
            was_running = qmp.cmd("query-status")["status"] == "running"
            try:
                if not shared:
                    devices = {"root-disk": "root", "config-cd": "config"}
                    inserted = {
                        str(b.get("qdev", "")).rsplit("/", 2)[-2]
                        if str(b.get("qdev", "")).endswith("/virtio-backend")
                        else str(b.get("qdev", "")): b["inserted"]["node-name"]
                        for b in qmp.cmd("query-block")
                        if b.get("inserted")
                    }
                    for export in self._local_nodes(guest):
                        device = next(d for d, e in devices.items() if e == export)
                        node = f"nbd-{export}"
                        qmp.cmd(
                            "blockdev-add",
                            driver="nbd",
                            **{"node-name": node},
                            server={
                                "type": "inet",
                                "host": target.host,
                                "port": str(target.nbd_port),
                            },
                            export=export,
                        )
                        nbd_nodes.append(node)
                        job = f"mirror-{export}"
                        qmp.cmd(
                            "blockdev-mirror",
                            **{"job-id": job},
                            device=inserted[device],
                            target=node,
                            sync="top" if export == "root" else "full",
                        )
                        jobs.append(job)

                    def mirrors_ready(s: MonitorSession) -> bool | None:
                        listing = {j["device"]: j for j in s.cmd("query-block-jobs")}
                        if migration is not None:
                            total = sum(int(j["len"]) for j in listing.values())
                            done = sum(int(j["offset"]) for j in listing.values())
                            migration.disk_total, migration.disk_processed = total, done
                            migration.disk_remaining = total - done
                        missing = [j for j in jobs if j not in listing]
                        if missing:
                            raise MigrationError(
                                str(guest.uuid), self.host, f"disk mirror {missing} stopped"
                            )
                        return True if all(listing[j]["ready"] for j in jobs) else None

                    poll(qmp, mirrors_ready, 300, "the disk mirrors to be ready")
                if self._migration_bandwidth:
                    qmp.cmd(
                        "migrate-set-parameters", **{"max-bandwidth": self._migration_bandwidth}
                    )
                qmp.cmd("migrate", uri=target.migration_uri)

                def finished(s: MonitorSession) -> dict[str, Any] | None:
                    info: dict[str, Any] = s.cmd("query-migrate")
                    ram = info.get("ram")
                    if migration is not None and ram:
                        migration.memory_total = int(ram["total"])
                        migration.memory_processed = int(ram["transferred"])
                        migration.memory_remaining = int(ram["remaining"])
                    if info.get("status") in ("completed", "failed", "cancelled"):
                        return info
                    return None

                info = poll(qmp, finished, 600, "the migration to finish", interval=0.02)
                if info["status"] != "completed":
                    raise MigrationError(
                        str(guest.uuid),
                        self.host,
                        f"migration {info['status']}: {info.get('error-desc', 'no reason given')}",
                    )
                for job in jobs:
                    qmp.cmd("block-job-cancel", device=job)

                def jobs_gone(s: MonitorSession) -> bool | None:
                    left = {j["device"] for j in s.cmd("query-block-jobs")} & set(jobs)
                    return None if left else True

                poll(qmp, jobs_gone, 60, "the disk mirrors to finish")
                if migration is not None:
                    migration.memory_remaining = 0
                    if migration.disk_total is not None:
                        migration.disk_processed = migration.disk_total
                        migration.disk_remaining = 0
                self.last_migration_stats = info
            except BaseException:
                _recover_source(qmp, jobs, nbd_nodes, was_running)
                raise
        with self._lock:
            self._stop_process(guest)
            guest.phase = GuestPhase.DEPARTED
            guest.vcpus = guest.memory_mb = 0

    last_migration_stats: dict[str, Any] | None = None
    """The final ``query-migrate`` of the last live migration from this host
    (total time, downtime, RAM transferred), for tools and benchmarks."""

    def post_live_migration(
        self,
        context: Context,
        instance: Instance,
        block_device_info: BlockDeviceInfo | None,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration`: forgets the volume
        connections of this host (the process that held them is gone)."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            if guest.phase is not GuestPhase.DEPARTED:
                raise MigrationError(str(guest.uuid), self.host, "the guest still runs here")
            guest.volumes.clear()

    def post_live_migration_at_source(
        self, context: Context, instance: Instance, network_info: NetworkInfo
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration_at_source`: removes the taps."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None and guest.phase is GuestPhase.ACTIVE:
                raise MigrationError(str(guest.uuid), self.host, "the guest still runs here")
            for vif in network_info:
                tap = guest.taps.pop(vif.id, None) if guest else None
                self._taps_remove(tap or tap_name(self.host, str(vif.id)))

    def post_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_migration: bool = False,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.post_live_migration_at_destination`: stops the NBD
        server and lets the guest run (``cont``) unless it was paused at the source
        (``instance.power_state``)."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None or guest.phase is GuestPhase.DEPARTED or not guest.alive():
                raise InstanceNotFound(instance_uuid=str(instance.uuid), host=self.host)
            with self._qmp(guest).session() as qmp:

                def arrived(s: MonitorSession) -> bool | None:
                    return None if s.cmd("query-status")["status"] == "inmigrate" else True

                poll(qmp, arrived, 60, "the guest to arrive")
                # With shared storage no NBD server was started.
                with contextlib.suppress(MonitorError):
                    qmp.cmd("nbd-server-stop")
                paused = (
                    instance.obj_attr_is_set("power_state")
                    and instance.power_state is PowerState.PAUSED
                )
                if not paused and qmp.cmd("query-status")["status"] != "running":
                    qmp.cmd("cont")
            guest.phase = GuestPhase.ACTIVE
            guest.started_at = time.monotonic()
            self._check_pluggable(guest.uuid, network_info)
            self._plug(guest, network_info)
            guest.network_info = network_info.obj_clone()
            self._write_config_drive_if_needed(guest)

    def rollback_live_migration_at_destination(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None,
        destroy_disks: bool = True,
        migrate_data: LiveMigrateData | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.rollback_live_migration_at_destination`: stops
        the waiting QEMU, removes taps, filter and (``destroy_disks``) the disks."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:
                return
            if guest.phase is not GuestPhase.INCOMING:
                raise MigrationError(
                    str(guest.uuid), self.host, f"cannot roll back: the guest is {guest.phase} here"
                )
            self._discard(guest)
            self._unfilter(guest.uuid)
            if destroy_disks:
                shutil.rmtree(guest.directory, ignore_errors=True)

    def _write_config_drive_if_needed(self, guest: Guest) -> None:
        """After a migration the mirrored ISO holds the files; re-read them so later
        injections keep them."""
        if guest.files or not guest.config_drive.is_file():
            return
        try:
            found = configdrive.read_config_drive(guest.config_drive)
        except Exception:  # a placeholder that never got mirrored: nothing to keep
            return
        meta = found.get(configdrive.META_DATA)
        if meta is None:
            return
        import json

        doc = json.loads(meta)
        for entry in doc.get("files", []):
            body = found.get("/openstack" + entry["content_path"])
            if body is not None:
                guest.files[entry["path"]] = InjectedFile.of(entry["path"], body)
        guest.admin_pass_hash = doc.get("admin_pass_hash")


def _recover_source(
    qmp: MonitorSession, jobs: list[str], nbd_nodes: list[str], was_running: bool
) -> None:
    """After a failed migration: cancel what is left, drop the NBD clients, and make
    sure the guest runs as before."""
    steps: list[tuple[str, dict[str, Any]]] = [("migrate_cancel", {})]
    steps += [("block-job-cancel", {"device": job, "force": True}) for job in jobs]
    for name, args in steps:
        with contextlib.suppress(MonitorError):
            qmp.cmd(name, **args)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            left = {j["device"] for j in qmp.cmd("query-block-jobs")} & set(jobs)
            status = qmp.cmd("query-migrate").get("status")
        except MonitorError:
            break
        if not left and status not in ("active", "setup", "cancelling", "device", "pre-switchover"):
            break
        time.sleep(0.05)
    for node in nbd_nodes:
        with contextlib.suppress(MonitorError):
            qmp.cmd("blockdev-del", **{"node-name": node})
    try:
        if was_running and qmp.cmd("query-status")["status"] != "running":
            qmp.cmd("cont")
    except MonitorError:
        pass
