"""What a running instance gets from its host besides power: volumes attached and
detached, diagnostics, files and network info written into its config data, a
network reset, firewall rule refreshes, and the shared-storage check with a peer."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from cumulo.model import (
    BlockDeviceMapping,
    DestinationType,
    Diagnostics,
    InjectedFile,
    Instance,
    InstanceActionName,
    InstanceList,
    InstanceNotFound,
    PowerState,
    SecurityGroupList,
    SharedStorageProbe,
    SourceType,
)
from cumulo.virt import common, device_names
from cumulo.virt.exceptions import InstanceNotFiltered

from .base import ManagerBase
from .exceptions import InstanceInvalidState

LOG = logging.getLogger(__name__)


class GuestFlows(ManagerBase):
    """Volumes, diagnostics, injection, network reset, rule refresh, shared storage."""

    # --- volumes --------------------------------------------------------------------------

    def attach_volume(
        self,
        context: Any,
        instance: Instance,
        volume_id: str,
        mountpoint: str | None = None,
        read_only: bool = False,
        tag: str | None = None,
        delete_on_termination: bool = False,
    ) -> BlockDeviceMapping:
        """Attach a volume of the store: a new mapping (named after the guest's other
        disks when ``mountpoint`` is ``None``; write-protected when ``read_only``;
        carrying the device ``tag``; the volume deleted with the server when
        ``delete_on_termination``), the store's attachment, and the driver's
        connection. Returns the stored mapping with its connection info. Nothing is
        left half done when a step fails."""
        volume_uuid = uuid.UUID(volume_id)
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context, instance, "compute_attach_volume", InstanceActionName.ATTACH_VOLUME
            ),
        ):
            self._check_on_host(instance)
            volume = self.volumes.store.get(volume_uuid)
            bdm = BlockDeviceMapping(
                uuid=uuid.uuid4(),
                instance_uuid=instance.uuid,
                source_type=SourceType.VOLUME,
                destination_type=DestinationType.VOLUME,
                volume_id=volume_uuid,
                volume_size=volume.size_gb,
                device_name=None if mountpoint is None else device_names.normalize(mountpoint),
                read_only=read_only,
                tag=tag,
                delete_on_termination=delete_on_termination,
            )
            bdm.obj_set_context(context)
            if mountpoint is None:
                named = [b for b in self._bdms(context, instance).objects if b.device_name]
                root = instance.root_device_name or "/dev/vda"
                self.driver.default_device_names_for_instance(instance, root, named, [bdm])
            assert bdm.device_name is not None
            # Store first, mapping second, and the reverse on the way out: whenever the
            # compute API shows the attachment, the volume API shows the volume
            # attaching, in-use or detaching (attaching while the driver connects it).
            info = self.volumes.reserve(instance, bdm, attaching=True)
            created = False
            try:
                bdm.create()
                created = True
                self.driver.attach_volume(
                    context, info, instance, bdm.device_name, bdm.disk_bus, bdm.device_type
                )
                self.volumes.connected(instance, bdm)
                # With the connection info as the driver completed it (where it connected
                # the volume): create() stored a copy of what reserve() set.
                bdm.connection_info = info
                bdm.save()
            except BaseException:
                if created:
                    bdm.destroy()
                self.volumes.terminate(instance, bdm, self.volumes.connector(instance))
                raise
            return bdm

    def detach_volume(self, context: Any, instance: Instance, volume_id: str) -> None:
        """Detach a volume: the driver's connection, the mapping, then the store's
        attachment (with this host's volume connector); the store shows the volume
        ``detaching`` meanwhile, and ``in-use`` again if the driver could not."""
        volume_uuid = uuid.UUID(volume_id)
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context, instance, "compute_detach_volume", InstanceActionName.DETACH_VOLUME
            ),
        ):
            self._check_on_host(instance)
            bdm = BlockDeviceMapping.get_by_volume_id(context, volume_uuid, instance.uuid)
            self.volumes.disconnecting(instance, bdm)
            if bdm.connection_info is not None and bdm.device_name:
                try:
                    self.driver.detach_volume(
                        context, bdm.connection_info, instance, bdm.device_name
                    )
                except BaseException:
                    self.volumes.connected(instance, bdm)
                    raise
            bdm.destroy()
            self.volumes.terminate(instance, bdm, self.volumes.connector(instance))

    # --- diagnostics and injection --------------------------------------------------------

    def get_diagnostics(self, context: Any, instance: Instance) -> Diagnostics:
        """The counters of the running guest.

        Raises:
            InstanceInvalidState: the guest is not running.
        """
        self._check_on_host(instance)
        power = self._power_state(instance)
        if power is not PowerState.RUNNING:
            raise InstanceInvalidState(
                str(instance.uuid), "get diagnostics of", "power_state", power.name, ["RUNNING"]
            )
        return self.driver.get_diagnostics(instance)

    def get_console_output(
        self, context: Any, instance: Instance, tail_lines: int | None = None
    ) -> str:
        """What the guest wrote on its console (the last ``tail_lines`` lines).

        Raises:
            ValueError: ``tail_lines`` is negative.
        """
        common.check_tail_lines(tail_lines)
        self._check_on_host(instance)
        return self.driver.get_console_output(instance, tail_lines)

    def inject_file(self, context: Any, instance: Instance, injected_file: InjectedFile) -> None:
        """Write ``injected_file`` into the guest's config data."""
        with (
            self._instance_lock(instance.uuid),
            self._record(context, instance, "compute_inject_file", InstanceActionName.INJECT_FILE),
        ):
            self._check_on_host(instance)
            self.driver.inject_file(instance, injected_file)

    def inject_network_info(self, context: Any, instance: Instance) -> None:
        """Re-apply the instance's cached network info to the guest."""
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context,
                instance,
                "compute_inject_network_info",
                InstanceActionName.INJECT_NETWORK_INFO,
            ),
        ):
            self._check_on_host(instance)
            self.driver.inject_network_info(instance, self._network_info(instance))

    def reset_network(self, context: Any, instance: Instance) -> None:
        """Have the guest reload the network the host last applied."""
        with (
            self._instance_lock(instance.uuid),
            self._record(
                context, instance, "compute_reset_network", InstanceActionName.RESET_NETWORK
            ),
        ):
            self._check_on_host(instance)
            self.driver.reset_network(instance)

    # --- firewall -------------------------------------------------------------------------

    def refresh_instance_security_rules(self, context: Any, instance: Instance) -> None:
        """Load the current rules of the instance's groups into its filter."""
        with self._instance_lock(instance.uuid):
            self._check_on_host(instance)
            groups = SecurityGroupList.get_by_instance(context, instance.uuid)
            self._refresh_rules(instance, groups)

    def refresh_security_group_rules(self, context: Any, security_group_id: int) -> list[str]:
        """Refresh the filter of every instance of this host in the group (after its
        rules changed); returns the uuids of the instances refreshed."""
        refreshed = []
        instances = InstanceList.get_by_host(context, self.host, expected_attrs=["security_groups"])
        for instance in instances:
            groups = instance.security_groups
            if all(group.id != security_group_id for group in groups.objects):
                continue
            with self._instance_lock(instance.uuid):
                try:
                    self._refresh_rules(instance, groups)
                except InstanceNotFound:
                    continue  # not running here (being built or moved)
                except Exception:
                    LOG.exception("could not refresh the rules of instance %s", instance.uuid)
                    continue
            refreshed.append(str(instance.uuid))
        return refreshed

    def _refresh_rules(self, instance: Instance, groups: SecurityGroupList) -> None:
        try:
            self.driver.refresh_instance_security_rules(instance, groups)
        except InstanceNotFiltered:
            # The filter is gone (a restarted host): set it up whole.
            self.driver.ensure_filtering_rules_for_instance(
                instance, self._network_info(instance), groups
            )

    # --- shared storage -------------------------------------------------------------------

    def check_instance_shared_storage(self, context: Any, instance: Instance, peer: str) -> bool:
        """Whether this host and ``peer`` see the same instance storage: leave a
        probe here, ask ``peer`` to look for it, and always remove it."""
        probe = self.driver.check_instance_shared_storage_local(context, instance)
        if probe is None:
            return False
        try:
            return self.compute_rpc.check_instance_shared_storage_remote(context, peer, probe)
        finally:
            self.driver.check_instance_shared_storage_cleanup(context, probe)

    def check_instance_shared_storage_remote(self, context: Any, probe: SharedStorageProbe) -> bool:
        """Whether this host sees a probe another host left."""
        return self.driver.check_instance_shared_storage_remote(context, probe)
