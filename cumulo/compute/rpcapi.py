"""``ComputeAPI``: the client side of a compute host's RPC API.

Every method addresses one host (``prepare(server=host)``): the instance's own
host, or the host named for the step. Fire-and-forget operations are casts
(build, delete, reboot, power and pause changes, network re-application, rule
refreshes); what the caller needs an answer from is a call (checks, diagnostics,
volume attach/detach, file injection, every live-migration step).

It imports only ``cumulo.rpc``, ``cumulo.model``, ``cumulo.objects`` and this
package's exceptions, so the conductor may use it; everything sent is a
versioned object, a list of them, or a primitive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any, Final
from uuid import UUID

from cumulo.model import (
    BlockDeviceMapping,
    BlockDeviceMappingList,
    Diagnostics,
    ImageMeta,
    InjectedFile,
    Instance,
    LiveMigrateData,
    Migration,
    RebootType,
    SharedStorageProbe,
)
from cumulo.model import exceptions as model_exceptions
from cumulo.model.base import CumuloObject
from cumulo.model.service import Service, ServiceBinary, ServiceList
from cumulo.rpc import ALLOWED_EXCEPTIONS, BacklevelSerializer, RPCClient, Target, Transport
from cumulo.rpc.remote_errors import ExceptionAllowList

from .exceptions import COMPUTE_EXCEPTIONS
from .pins import Pin, Pinned, pin_of
from .version import (
    ATTACH_DELETE_ON_TERMINATION,
    ATTACH_READ_ONLY,
    ATTACH_WITH_TAG,
    CONSOLE_OUTPUT,
)

__all__ = ["API_VERSION", "AUTO", "TOPIC", "ComputeAPI", "Pin", "allowed_exceptions"]

AUTO: Final = "auto"
"""``version_cap`` value: cap and backlevel per message from the service rows."""

TOPIC: Final = "compute"
API_VERSION: Final = "1.2"
"""The compute RPC API. 1.0: build_and_run_instance, terminate_instance,
reboot/stop/start/pause/unpause/suspend/resume_instance, attach_volume,
detach_volume, get_diagnostics, inject_file, inject_network_info, reset_network,
refresh_instance_security_rules, refresh_security_group_rules,
check_instance_shared_storage(+_remote), check_can_live_migrate_destination,
check_can_live_migrate_source, pre_live_migration, live_migration,
post_live_migration_at_destination, rollback_live_migration_at_destination.
1.1 (release 0.2): attach_volume takes ``read_only``; get_console_output.
1.2 (release 0.3): attach_volume takes ``tag`` and ``delete_on_termination``.

Methods that have a newer version try it first and step down for an older host
(``can_send_version``), adapting the arguments, or raise :class:`ComputeTooOld`
when the older host cannot do what is asked."""


def _module_exceptions(module: Any) -> list[type[Exception]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Exception)
        and value.__module__ == module.__name__
    ]


def allowed_exceptions(extra: Iterable[type[Exception]] = ()) -> ExceptionAllowList:
    """The exceptions a compute call re-raises as themselves: the defaults, the
    model's, the compute manager's own, and ``extra``.

    Callers that may import the driver and volume packages (a compute host calling
    its peers, the API) pass their exception classes as ``extra``; the conductor
    cannot, and gets those as ``RemoteError`` naming the class.
    """
    allowed = ALLOWED_EXCEPTIONS.copy()
    for cls in (
        *_module_exceptions(model_exceptions),
        *COMPUTE_EXCEPTIONS,
        *extra,
    ):
        allowed.allow(cls)
    return allowed


def _host_of(instance: Instance) -> str:
    host = instance.host
    if not host:
        raise ValueError(f"instance {instance.uuid} has no host to send the request to")
    return host


class ComputeAPI:
    """Talks to the compute hosts on topic :data:`TOPIC`.

    Args:
        transport: the message bus.
        timeout: seconds a call may go without news from the host.
        version_cap: the newest API version every host understands (``None``:
            this release's); a message above it is refused before it is sent.
            ``"auto"``: per message, what the addressed host's service level
            understands (the fleet's lowest level for fanout), read from the
            ``services`` rows; objects are then backlevelled to that level's manifest
            before they are sent (sender-side backlevel).
        cap_ttl: with ``"auto"``, how many seconds the service rows are cached (0:
            read them for every message), so upgrades are picked up without a restart.
        extra_exceptions: exception classes to re-raise typed besides
            :func:`allowed_exceptions`' defaults.
        accept_newer_peers: with ``"auto"``, whether a peer at a newer service level
            than this code is addressed at this code's own versions (a compute host
            talking to an already upgraded peer: the normal middle of a rolling
            upgrade). ``False`` (the control plane: conductor, API) refuses it with
            :class:`ServiceTooNew`, since the control plane is upgraded first.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        timeout: float | None = 60.0,
        version_cap: str | None = None,
        cap_ttl: float = 30.0,
        extra_exceptions: Iterable[type[Exception]] = (),
        accept_newer_peers: bool = False,
    ) -> None:
        self.auto = version_cap == AUTO
        self.accept_newer_peers = accept_newer_peers
        self._static_cap = None if self.auto else version_cap
        self.cap_ttl = cap_ttl
        self._lock = threading.Lock()
        self._cache: tuple[float, list[Service]] | None = None
        self.serializer = BacklevelSerializer(CumuloObject)
        self.client = RPCClient(
            transport,
            Target(topic=TOPIC, version=API_VERSION),
            version_cap=self._static_cap,
            serializer=self.serializer,
            timeout=timeout,
            allowed_exceptions=allowed_exceptions(extra_exceptions),
        )

    def close(self) -> None:
        self.client.close()

    def can_send_version(self, version: str, ctxt: Any = None, host: str | None = None) -> bool:
        """Whether ``host`` (``None``: every host) understands messages at ``version``.

        With ``version_cap="auto"`` the fleet is read through ``ctxt``; without a
        ``ctxt`` only a static cap is checked."""
        if self.auto and ctxt is not None:
            cap = self.pin_for(ctxt, host).version_cap
            return self.client.prepare(version_cap=cap).can_send_version(version)
        return self.client.can_send_version(version)

    def _to(self, ctxt: Any, host: str, version: str = "1.0") -> Pinned:
        return self.prepare(ctxt, host, version=version)

    def prepare(self, ctxt: Any, host: str | None = None, *, version: str = "1.0") -> Pinned:
        """A context sending to ``host`` (``None``: every compute, fanout) at ``version``,
        capped and backlevelled for that peer when the cap is ``"auto"``."""
        pin = self.pin_for(ctxt, host)
        if host is None:
            cctxt = self.client.prepare(fanout=True, version=version, version_cap=pin.version_cap)
        else:
            cctxt = self.client.prepare(server=host, version=version, version_cap=pin.version_cap)
        return Pinned(cctxt, self.serializer, pin, host)

    def pin_for(self, ctxt: Any, host: str | None = None) -> Pin:
        """What may be sent to ``host`` (``None``: to every compute).

        With a static cap: that cap and no backlevel. With ``"auto"``: the compute RPC
        version and object manifest of the host's service level (of the lowest level in
        the fleet for fanout, or when ``host`` has no service row); level 0 (no
        computes) means no pin.

        Raises:
            ServiceTooNew: the host (or a compute, for fanout) runs a newer level than
                this code knows, and this client does not ``accept_newer_peers``.
        """
        if not self.auto:
            return Pin(self._static_cap, None)
        rows = self._fleet(ctxt)
        if host is not None:
            mine = [row for row in rows if row.host == host]
            if mine:
                return pin_of(mine, accept_newer=self.accept_newer_peers)
        return pin_of(rows, accept_newer=self.accept_newer_peers)

    def _fleet(self, ctxt: Any) -> list[Service]:
        """The compute service rows, cached for ``cap_ttl`` seconds."""
        with self._lock:
            cached = self._cache
            if cached is not None and time.monotonic() < cached[0]:
                return cached[1]
        rows = list(ServiceList.get_all(ctxt, binary=ServiceBinary.COMPUTE).objects)
        if self.cap_ttl > 0:
            with self._lock:
                self._cache = (time.monotonic() + self.cap_ttl, rows)
        return rows

    def reset_pins(self) -> None:
        """Forget the cached fleet: the next message reads the service rows again."""
        with self._lock:
            self._cache = None

    # --- building and removing ------------------------------------------------------------

    def build_and_run_instance(
        self,
        ctxt: Any,
        host: str,
        instance: Instance,
        block_device_mappings: BlockDeviceMappingList,
        image_meta: ImageMeta,
        injected_files: list[InjectedFile],
        admin_password: str | None,
    ) -> None:
        """Cast: build ``instance`` on ``host`` (which the instance already names)."""
        self._to(ctxt, host).cast(
            ctxt,
            "build_and_run_instance",
            instance=instance,
            block_device_mappings=block_device_mappings,
            image_meta=image_meta,
            injected_files=injected_files,
            admin_password=admin_password,
        )

    def terminate_instance(self, ctxt: Any, instance: Instance) -> None:
        """Cast: delete the instance and everything it holds on its host."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "terminate_instance", instance=instance)

    # --- power and pause ------------------------------------------------------------------

    def reboot_instance(self, ctxt: Any, instance: Instance, reboot_type: RebootType | str) -> None:
        """Cast: reboot, ``SOFT`` or ``HARD``."""
        self._to(ctxt, _host_of(instance)).cast(
            ctxt, "reboot_instance", instance=instance, reboot_type=RebootType(reboot_type).value
        )

    def stop_instance(self, ctxt: Any, instance: Instance) -> None:
        """Cast: power the guest off."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "stop_instance", instance=instance)

    def start_instance(self, ctxt: Any, instance: Instance) -> None:
        """Cast: power a stopped guest on."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "start_instance", instance=instance)

    def pause_instance(self, ctxt: Any, instance: Instance) -> None:
        """Cast: freeze the guest in memory."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "pause_instance", instance=instance)

    def unpause_instance(self, ctxt: Any, instance: Instance) -> None:
        """Cast: let a paused guest run again."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "unpause_instance", instance=instance)

    def suspend_instance(self, ctxt: Any, instance: Instance) -> None:
        """Cast: save the guest's memory to disk and stop it."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "suspend_instance", instance=instance)

    def resume_instance(self, ctxt: Any, instance: Instance) -> None:
        """Cast: restore a suspended guest."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "resume_instance", instance=instance)

    # --- volumes --------------------------------------------------------------------------

    def attach_volume(
        self,
        ctxt: Any,
        instance: Instance,
        volume_id: UUID,
        mountpoint: str | None = None,
        *,
        read_only: bool = False,
        tag: str | None = None,
        delete_on_termination: bool = False,
    ) -> BlockDeviceMapping:
        """Call: attach a volume of the volume store (``mountpoint`` ``None``: the next
        free device; ``read_only``: the guest cannot write to it; ``tag``: the device
        tag the guest's metadata names it by; ``delete_on_termination``: the volume is
        deleted with the server); returns the new mapping.

        Steps down to what the host speaks (1.1 without a tag, 1.0 without read-only).

        Raises:
            ComputeTooOld: something asked that the host's release cannot do (a tag or
                delete-on-termination below 1.2, read-only below 1.1), naming the host
                and its release; nothing was sent.
        """
        kwargs: dict[str, Any] = {
            "instance": instance,
            "volume_id": str(volume_id),
            "mountpoint": mountpoint,
            "read_only": read_only,
            "tag": tag,
            "delete_on_termination": delete_on_termination,
        }
        cctxt = self._to(ctxt, _host_of(instance), version="1.2")
        if not cctxt.can(ATTACH_WITH_TAG):
            if tag is not None:
                raise cctxt.refuse(ATTACH_WITH_TAG)
            if delete_on_termination:
                raise cctxt.refuse(ATTACH_DELETE_ON_TERMINATION)
            del kwargs["tag"], kwargs["delete_on_termination"]
            cctxt = cctxt.at("1.1")
        if not cctxt.can(ATTACH_READ_ONLY):
            if read_only:
                raise cctxt.refuse(ATTACH_READ_ONLY)
            del kwargs["read_only"]
            cctxt = cctxt.at("1.0")
        result: BlockDeviceMapping = cctxt.call(ctxt, "attach_volume", **kwargs)
        return result

    def detach_volume(self, ctxt: Any, instance: Instance, volume_id: UUID) -> None:
        """Call: detach a volume from the instance."""
        self._to(ctxt, _host_of(instance)).call(
            ctxt, "detach_volume", instance=instance, volume_id=str(volume_id)
        )

    # --- the guest's view -----------------------------------------------------------------

    def get_diagnostics(self, ctxt: Any, instance: Instance) -> Diagnostics:
        """Call: the running guest's counters."""
        result: Diagnostics = self._to(ctxt, _host_of(instance)).call(
            ctxt, "get_diagnostics", instance=instance
        )
        return result

    def get_console_output(
        self, ctxt: Any, instance: Instance, tail_lines: int | None = None
    ) -> str:
        """Call: what the guest wrote on its console (the last ``tail_lines`` lines;
        ``None``: all that the host keeps).

        Raises:
            ComputeTooOld: the host is older than 1.1.
        """
        cctxt = self._to(ctxt, _host_of(instance), version="1.1")
        if not cctxt.can(CONSOLE_OUTPUT):
            raise cctxt.refuse(CONSOLE_OUTPUT)
        result: str = cctxt.call(
            ctxt, "get_console_output", instance=instance, tail_lines=tail_lines
        )
        return result

    def inject_file(self, ctxt: Any, instance: Instance, injected_file: InjectedFile) -> None:
        """Call: write a file into the guest's config data."""
        self._to(ctxt, _host_of(instance)).call(
            ctxt, "inject_file", instance=instance, injected_file=injected_file
        )

    def inject_network_info(self, ctxt: Any, instance: Instance) -> None:
        """Cast: re-apply the instance's cached network info to the guest."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "inject_network_info", instance=instance)

    def reset_network(self, ctxt: Any, instance: Instance) -> None:
        """Cast: reset the guest's networking to what the host last applied."""
        self._to(ctxt, _host_of(instance)).cast(ctxt, "reset_network", instance=instance)

    def refresh_instance_security_rules(self, ctxt: Any, instance: Instance) -> None:
        """Cast: reload the instance's security group rules into its filter."""
        self._to(ctxt, _host_of(instance)).cast(
            ctxt, "refresh_instance_security_rules", instance=instance
        )

    def refresh_security_group_rules(self, ctxt: Any, host: str, security_group_id: int) -> None:
        """Cast: refresh the filter of every instance of ``host`` in the group."""
        self._to(ctxt, host).cast(
            ctxt, "refresh_security_group_rules", security_group_id=security_group_id
        )

    # --- shared storage -------------------------------------------------------------------

    def check_instance_shared_storage(self, ctxt: Any, instance: Instance, peer: str) -> bool:
        """Call: whether the instance's host and ``peer`` share instance storage."""
        result: bool = self._to(ctxt, _host_of(instance)).call(
            ctxt, "check_instance_shared_storage", instance=instance, peer=peer
        )
        return result

    def check_instance_shared_storage_remote(
        self, ctxt: Any, host: str, probe: SharedStorageProbe
    ) -> bool:
        """Call: whether ``host`` sees a probe another host left."""
        result: bool = self._to(ctxt, host).call(
            ctxt, "check_instance_shared_storage_remote", probe=probe
        )
        return result

    # --- live migration -------------------------------------------------------------------

    def check_can_live_migrate_destination(
        self,
        ctxt: Any,
        instance: Instance,
        destination: str,
        block_migration: bool,
        disk_over_commit: bool,
    ) -> LiveMigrateData:
        """Call ``destination``: can it take the instance? (It asks the source in turn.)"""
        result: LiveMigrateData = self._to(ctxt, destination).call(
            ctxt,
            "check_can_live_migrate_destination",
            instance=instance,
            block_migration=block_migration,
            disk_over_commit=disk_over_commit,
        )
        return result

    def check_can_live_migrate_source(
        self, ctxt: Any, instance: Instance, dest_check_data: LiveMigrateData
    ) -> LiveMigrateData:
        """Call the instance's host: can the guest leave for the checked destination?"""
        result: LiveMigrateData = self._to(ctxt, _host_of(instance)).call(
            ctxt,
            "check_can_live_migrate_source",
            instance=instance,
            dest_check_data=dest_check_data,
        )
        return result

    def pre_live_migration(
        self,
        ctxt: Any,
        host: str,
        instance: Instance,
        block_migration: bool,
        migrate_data: LiveMigrateData,
    ) -> LiveMigrateData:
        """Call the destination ``host``: prepare for the guest."""
        result: LiveMigrateData = self._to(ctxt, host).call(
            ctxt,
            "pre_live_migration",
            instance=instance,
            block_migration=block_migration,
            migrate_data=migrate_data,
        )
        return result

    def live_migration(
        self,
        ctxt: Any,
        instance: Instance,
        dest: str,
        block_migration: bool,
        migration: Migration,
        migrate_data: LiveMigrateData,
    ) -> None:
        """Call the instance's host: move the guest to ``dest`` and finish on both
        sides; returns when the instance is settled (moved, or back in place)."""
        self._to(ctxt, _host_of(instance)).call(
            ctxt,
            "live_migration",
            instance=instance,
            dest=dest,
            block_migration=block_migration,
            migration=migration,
            migrate_data=migrate_data,
        )

    def post_live_migration_at_destination(
        self,
        ctxt: Any,
        host: str,
        instance: Instance,
        block_migration: bool,
        migrate_data: LiveMigrateData,
    ) -> None:
        """Call the destination ``host``: take the arrived guest over."""
        self._to(ctxt, host).call(
            ctxt,
            "post_live_migration_at_destination",
            instance=instance,
            block_migration=block_migration,
            migrate_data=migrate_data,
        )

    def rollback_live_migration_at_destination(
        self,
        ctxt: Any,
        host: str,
        instance: Instance,
        destroy_disks: bool,
        migrate_data: LiveMigrateData,
    ) -> None:
        """Call the destination ``host``: undo what it prepared for the guest."""
        self._to(ctxt, host).call(
            ctxt,
            "rollback_live_migration_at_destination",
            instance=instance,
            destroy_disks=destroy_disks,
            migrate_data=migrate_data,
        )
