"""Creating, powering and removing fake guests, writing into their config data, and
the events a guest causes itself (a crash, a shutdown from inside)."""

from __future__ import annotations

import hashlib
from uuid import UUID

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
from ..exceptions import InstanceExists
from .base import SIZE_HINT, FakeBase, failure_point, require_state
from .guest import RUNS_HERE, Guest, GuestPhase

AUTHORIZED_KEYS = "/root/.ssh/authorized_keys"
"""Where the fake's config data puts the instance's public key."""


class FakeLifecycle(FakeBase):
    """Spawn, power, destroy and clean up guests; inject files; simulated guest events."""

    @failure_point
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
        """See :meth:`ComputeDriver.spawn`."""
        uuid_ = instance.uuid
        if uuid_ in self._guests:
            phase = self._guests[uuid_].phase
            raise InstanceExists(str(uuid_), self.host, f"a guest record ({phase}) is here")
        volume_backed = common.is_volume_backed(instance, block_device_info)
        claim = common.claim_of(instance, volume_backed, hint=SIZE_HINT)
        self._check_fits(uuid_, claim)
        self._check_pluggable(uuid_, network_info)
        volumes = self._volumes_to_connect(uuid_, block_device_info)
        files = {f.path: f.obj_clone() for f in injected_files}
        keys = common.public_keys(instance)
        if keys:  # the config data carries the key pair as the guest's authorized keys
            text = "".join(f"{key.strip()}\n" for key in keys.values())
            files[AUTHORIZED_KEYS] = InjectedFile.of(AUTHORIZED_KEYS, text.encode())
        guest = Guest(
            uuid=uuid_,
            name=instance.name,
            phase=GuestPhase.ACTIVE,
            internal_id=self._next_domain_id(),
            claim=claim,
            volume_backed=volume_backed,
            network_info=network_info.obj_clone(),
            files=files,
            admin_password_set=bool(admin_password),
            config_drive=instance.config_drive,
            config_write_bytes=sum(len(f.contents) for f in files.values()),
            config_write_requests=len(files),
        )
        self._record_image(guest, instance, image_meta)
        self._guests[uuid_] = guest
        self._plug(uuid_, network_info)
        for volume in volumes:
            self._connect(uuid_, guest, volume.connection_info, volume.mountpoint, volume.bdm)
        self._storage.dirs.add(uuid_)
        if power_on:
            self._boot(guest)

    def _record_image(self, guest: Guest, instance: Instance, image_meta: ImageMeta) -> None:
        """Note which image the guest boots from, with the checksums of the bytes this
        host has of it (``images_path/<image_ref>``) when it has them."""
        ref = instance.image_ref or (str(image_meta.id) if image_meta.id else None)
        if ref is None:
            return
        guest.image_id = ref
        guest.image_checksum = image_meta.checksum
        images = self._images_path
        if images is None or "/" in ref or ref.startswith("."):
            return
        base = images / ref
        if not base.is_file():
            return
        md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        with base.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                md5.update(chunk)
                sha512.update(chunk)
        guest.image_checksum = md5.hexdigest()
        guest.image_os_hash_value = sha512.hexdigest()

    @failure_point
    def reboot(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        reboot_type: RebootType,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.reboot`."""
        guest = self._runs_here(instance.uuid, "reboot")
        if reboot_type is RebootType.SOFT:
            require_state(guest, "soft-reboot", (PowerState.RUNNING,))
        else:
            self._check_pluggable(guest.uuid, network_info)
            self._plug(guest.uuid, network_info)
        self._stop_clock(guest)
        guest.network_info = network_info.obj_clone()
        guest.write_console(f"reboot ({reboot_type.name}): restarting system")
        self._boot(guest)

    @failure_point
    def power_off(self, instance: Instance, timeout: int = 0, retry_interval: int = 0) -> None:
        """See :meth:`ComputeDriver.power_off`."""
        guest = self._runs_here(instance.uuid, "power off")
        if guest.power_state is PowerState.SHUTDOWN:
            return
        self._halt(guest, PowerState.SHUTDOWN, "power off: system halted")

    @failure_point
    def power_on(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.power_on`."""
        guest = self._runs_here(instance.uuid, "power on")
        if guest.power_state is PowerState.RUNNING:
            return
        require_state(guest, "power on", (PowerState.SHUTDOWN, PowerState.CRASHED))
        guest.network_info = network_info.obj_clone()
        guest.write_console("power on")
        self._boot(guest)

    @failure_point
    def pause(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.pause`."""
        guest = self._runs_here(instance.uuid, "pause")
        require_state(guest, "pause", (PowerState.RUNNING,))
        self._stop_clock(guest)
        guest.power_state = PowerState.PAUSED
        guest.write_console("paused: vCPUs stopped")

    @failure_point
    def unpause(self, instance: Instance) -> None:
        """See :meth:`ComputeDriver.unpause`."""
        guest = self._runs_here(instance.uuid, "unpause")
        require_state(guest, "unpause", (PowerState.PAUSED,))
        guest.power_state = PowerState.RUNNING
        guest.running_since = self._clock()
        guest.write_console("unpaused: vCPUs running")

    @failure_point
    def suspend(self, context: Context, instance: Instance) -> None:
        """See :meth:`ComputeDriver.suspend`."""
        guest = self._runs_here(instance.uuid, "suspend")
        require_state(guest, "suspend", (PowerState.RUNNING, PowerState.PAUSED))
        self._halt(guest, PowerState.SUSPENDED, "suspend: memory saved to disk, system stopped")

    @failure_point
    def resume(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
    ) -> None:
        """See :meth:`ComputeDriver.resume`."""
        guest = self._runs_here(instance.uuid, "resume")
        require_state(guest, "resume", (PowerState.SUSPENDED,))
        guest.network_info = network_info.obj_clone()
        now = self._clock()
        guest.power_state = PowerState.RUNNING
        guest.running_since = now
        guest.booted_at = now
        guest.write_console("resume: memory restored from disk, system running")

    @failure_point
    def destroy(
        self,
        context: Context,
        instance: Instance,
        network_info: NetworkInfo,
        block_device_info: BlockDeviceInfo | None = None,
        destroy_disks: bool = True,
    ) -> None:
        """See :meth:`ComputeDriver.destroy`."""
        uuid_ = instance.uuid
        self._guests.pop(uuid_, None)
        self._release_everything(uuid_, unplug=True)
        if destroy_disks:
            self._storage.dirs.discard(uuid_)

    @failure_point
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
        uuid_ = instance.uuid
        guest = self._guests.get(uuid_)
        if guest is not None and guest.phase in RUNS_HERE:
            raise InstanceExists(str(uuid_), self.host, "the guest still runs; destroy it")
        self._guests.pop(uuid_, None)
        self._release_everything(uuid_, unplug=destroy_vifs)
        if destroy_disks:
            self._storage.dirs.discard(uuid_)

    @failure_point
    def inject_file(self, instance: Instance, injected_file: InjectedFile) -> None:
        """See :meth:`ComputeDriver.inject_file`."""
        guest = self._runs_here(instance.uuid, "inject a file into")
        contents = injected_file.contents  # validates the base64 before storing
        guest.files[injected_file.path] = injected_file.obj_clone()
        guest.config_write_bytes += len(contents)
        guest.config_write_requests += 1
        guest.write_console(
            f"config data: file {injected_file.path} written ({len(contents)} bytes)"
        )

    def crash_guest(self, instance_uuid: UUID) -> None:
        """Simulate the guest crashing (power state ``CRASHED``), as a hypervisor
        event the compute manager finds through ``get_info``."""
        with self._lock:
            guest = self._runs_here(instance_uuid, "crash")
            self._halt(guest, PowerState.CRASHED, "Kernel panic - not syncing: the guest crashed")

    def shutdown_from_guest(self, instance_uuid: UUID) -> None:
        """Simulate the guest OS shutting itself down (power state ``SHUTDOWN``)."""
        with self._lock:
            guest = self._runs_here(instance_uuid, "shut down")
            self._halt(
                guest,
                PowerState.SHUTDOWN,
                "shutdown requested from inside the guest: system halted",
            )
