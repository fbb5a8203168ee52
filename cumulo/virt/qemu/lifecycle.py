"""Creating, powering and removing QEMU guests (overlay disk, config drive, taps, process;
QMP and ACPI power; suspend to a file and back), and file injection."""

from __future__ import annotations

import shutil
import time

from cumulo.model import (
    BlockDeviceInfo,
    Context,
    ImageMeta,
    InjectedFile,
    Instance,
    LiveMigrateData,
    NetworkInfo,
    PowerState,
    RebootType,
)

from .. import common
from ..exceptions import InstanceExists, InvalidPowerState, VirtDriverError
from . import configdrive, images
from .base import QemuBase
from .guest import GuestPhase, instance_root_bytes, poll, shell_quote, wait_migration
from .monitor import MonitorSession
from .netdev import tap_name


class QemuLifecycle(QemuBase):
    """Spawn, power, suspend/resume, destroy and clean up guests; inject files."""

    def spawn(
        self,
        context: Context,
        instance: Instance,
        image_meta: ImageMeta,
        injected_files: list[InjectedFile],
        admin_password: str | None,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        power_on: bool = True,
    ) -> None:
        """See :meth:`ComputeDriver.spawn`: overlay disk, config drive, taps, volumes
        and a QEMU process (started paused-free when ``power_on``)."""
        self._require_ready()
        with self._lock:
            uuid_ = instance.uuid
            self._refuse_known(uuid_, " is here")
            volume_backed = common.is_volume_backed(instance, block_device_info)
            guest = self._arriving(instance, network_info, GuestPhase.ACTIVE, volume_backed)
            directory = guest.directory
            if directory.exists() and any(directory.iterdir()):
                raise InstanceExists(str(uuid_), self.host, f"{directory} already holds files")
            guest.files = {f.path: f.obj_clone() for f in injected_files}
            if admin_password:
                guest.admin_pass_hash = configdrive.hash_password(admin_password)
            try:
                directory.mkdir(parents=True, exist_ok=True)
                if not volume_backed:
                    base = self._base_image(instance.image_ref)
                    images.create_overlay(guest.root_disk, base, instance_root_bytes(instance))
                self._write_config_drive(guest)
                self._plug(guest, network_info)
                for volume in common.volumes_to_connect(uuid_, block_device_info, needs_path=True):
                    self._record_volume(guest, volume)
                self._guests[uuid_] = guest
                if power_on:
                    self._start(guest)
            except BaseException:
                self._discard(guest)
                shutil.rmtree(directory, ignore_errors=True)
                raise

    def reboot(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        reboot_type: RebootType,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.reboot`. SOFT asks the guest (ACPI power button)
        and, when it does not go down within ``power_off_timeout``, resets it; HARD
        resets the machine (``system_reset``), or starts it when it was off."""
        with self._lock:
            guest = self._active(instance.uuid, "reboot")
            state = self._power_state(guest)
            if reboot_type is RebootType.SOFT:
                if state is not PowerState.RUNNING:
                    raise InvalidPowerState(str(guest.uuid), "soft-reboot", state.name, ["RUNNING"])
                if self._acpi_shutdown(guest, self._power_off_timeout):
                    self._start(guest)
                    guest.network_info = network_info.obj_clone()
                    return
            else:
                self._check_pluggable(guest.uuid, network_info)
                self._plug(guest, network_info)
            guest.network_info = network_info.obj_clone()
            if guest.suspended:
                guest.saved_state.unlink(missing_ok=True)
                guest.suspended = False
            if guest.alive():
                assert guest.monitor is not None
                with guest.monitor.session() as qmp:
                    qmp.cmd("system_reset")
                    if qmp.cmd("query-status")["status"] != "running":
                        qmp.cmd("cont")
                guest.started_at = time.monotonic()
            else:
                self._start(guest)

    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        """See :meth:`ComputeDriver.power_off`: ACPI power button, repeated every
        ``retry_interval`` seconds within ``timeout``, then the process is stopped."""
        with self._lock:
            guest = self._active(instance.uuid, "power off")
            if guest.suspended:
                guest.saved_state.unlink(missing_ok=True)
                guest.suspended = False
            if not guest.alive():
                return
            wait = float(timeout) if timeout else self._power_off_timeout
            if not self._acpi_shutdown(guest, wait, retry_interval):
                self._stop_process(guest)

    def power_on(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.power_on`."""
        with self._lock:
            guest = self._active(instance.uuid, "power on")
            state = self._power_state(guest)
            if state is PowerState.RUNNING:
                return
            if state in (PowerState.PAUSED, PowerState.SUSPENDED):
                raise InvalidPowerState(
                    str(guest.uuid), "power on", state.name, ["SHUTDOWN", "CRASHED"]
                )
            self._stop_process(guest)
            self._check_pluggable(guest.uuid, network_info)
            self._plug(guest, network_info)
            guest.network_info = network_info.obj_clone()
            self._start(guest)

    def pause(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.pause`: QMP ``stop``."""
        with self._lock:
            guest = self._active(instance.uuid, "pause")
            self._require(guest, "pause", (PowerState.RUNNING,))
            self._qmp(guest).cmd("stop")

    def unpause(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.unpause`: QMP ``cont``."""
        with self._lock:
            guest = self._active(instance.uuid, "unpause")
            self._require(guest, "unpause", (PowerState.PAUSED,))
            self._qmp(guest).cmd("cont")

    def suspend(self, context: Context, instance: Instance) -> None:
        """See :meth:`ComputeDriver.suspend`: the guest's state is migrated into a
        file of its instance directory and the process ends."""
        with self._lock:
            guest = self._active(instance.uuid, "suspend")
            self._require(guest, "suspend", (PowerState.RUNNING, PowerState.PAUSED))
            monitor = self._qmp(guest)
            target = guest.saved_state
            target.unlink(missing_ok=True)
            with monitor.session() as qmp:
                qmp.cmd("stop")
                qmp.cmd("migrate", uri=f"exec:cat > {shell_quote(str(target))}")
                status = wait_migration(qmp, timeout=120)
                if status["status"] != "completed":
                    qmp.cmd("cont")
                    raise VirtDriverError(f"suspend of {guest.uuid}: {status}")
            self._stop_process(guest)
            guest.suspended = True

    def resume(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.resume`: a new process loads the saved state."""
        with self._lock:
            guest = self._active(instance.uuid, "resume")
            self._require(guest, "resume", (PowerState.SUSPENDED,))
            self._plug(guest, network_info)
            guest.network_info = network_info.obj_clone()
            self._start(guest, incoming=True)
            monitor = self._qmp(guest)
            with monitor.session() as qmp:
                qmp.cmd("migrate-incoming", uri=f"exec:cat {shell_quote(str(guest.saved_state))}")

                def loaded(s: MonitorSession) -> bool | None:
                    status = s.cmd("query-status")["status"]
                    return True if status not in ("inmigrate",) else None

                poll(qmp, loaded, 120, "the saved state to load")
                qmp.cmd("cont")
            guest.saved_state.unlink(missing_ok=True)
            guest.suspended = False

    def destroy(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        """See :meth:`ComputeDriver.destroy`: the process is stopped, taps, volume
        connections and filter removed, and (``destroy_disks``) the directory."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None:
                self._discard(guest)
                directory = guest.directory
            else:
                directory = self._instances / str(instance.uuid)
            for vif in network_info:
                self._taps_remove(tap_name(self.host, str(vif.id)))
            self._unfilter(instance.uuid)
            if destroy_disks:
                shutil.rmtree(directory, ignore_errors=True)

    def cleanup(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
        migrate_data: LiveMigrateData | None = None,
        destroy_vifs: bool = True,
    ) -> None:
        """See :meth:`ComputeDriver.cleanup`."""
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is not None and guest.phase is GuestPhase.ACTIVE and guest.alive():
                raise InstanceExists(str(guest.uuid), self.host, "the guest still runs; destroy it")
            if guest is not None:
                self._stop_process(guest)
                self._guests.pop(instance.uuid, None)
                if destroy_vifs:
                    self._unplug_all(guest)
            self._unfilter(instance.uuid)
            if destroy_disks:
                shutil.rmtree(self._instances / str(instance.uuid), ignore_errors=True)

    def inject_file(self, instance: Instance, injected_file: InjectedFile) -> None:
        """See :meth:`ComputeDriver.inject_file`: rewrites the config drive and
        swaps the medium in the guest's CD drive."""
        with self._lock:
            guest = self._active(instance.uuid, "inject a file into")
            _ = injected_file.contents  # validates the base64
            guest.files[injected_file.path] = injected_file.obj_clone()
            self._refresh_config_drive(guest)
