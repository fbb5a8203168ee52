"""Volumes as the compute host handles them: the handshake with the volume store
(this host's ``VolumeConnector`` in, ``VolumeConnectionInfo`` out), the store's
attachment records, and the ``BlockDeviceInfo`` drivers consume.

The store records one attachment per volume (instance, host, mountpoint); a host
"terminates its connection" by releasing that record when it no longer uses the
volume (delete, detach, the source after a live migration).
"""

from __future__ import annotations

import logging
from typing import Any

from cumulo.model import (
    AccessMode,
    BlockDeviceInfo,
    BlockDeviceMapping,
    BlockDeviceMappingList,
    Instance,
    VolumeConnectionInfo,
    VolumeConnector,
)
from cumulo.virt import ComputeDriver
from cumulo.volume.exceptions import InvalidVolumeState, VolumeNotFound
from cumulo.volume.store import VolumeStore

LOG = logging.getLogger(__name__)


def block_device_info(instance: Instance, bdms: BlockDeviceMappingList) -> BlockDeviceInfo:
    """The instance's disks grouped as drivers take them."""
    return BlockDeviceInfo.from_mappings(bdms, instance.root_device_name)


class VolumeConnections:
    """This host's use of the volume store.

    Args:
        host: the compute host.
        driver: its driver (for ``get_volume_connector``).
        store: the volume store the host's instances use.
    """

    def __init__(self, host: str, driver: ComputeDriver, store: VolumeStore) -> None:
        self.host = host
        self.driver = driver
        self.store = store

    def connector(self, instance: Instance) -> VolumeConnector:
        """How this host connects volumes (asked of the driver each time: a host's
        initiators can change)."""
        return self.driver.get_volume_connector(instance)

    def reserve(
        self, instance: Instance, bdm: BlockDeviceMapping, *, attaching: bool = False
    ) -> VolumeConnectionInfo:
        """Record the volume of ``bdm`` as attached to the instance on this host and
        return the connection info for this host (set on ``bdm``, not yet saved).
        ``attaching``: the store shows ``attaching`` until :meth:`connected`."""
        assert bdm.volume_id is not None and bdm.device_name is not None
        connector = self.connector(instance)
        self.store.attach(
            bdm.volume_id,
            instance_uuid=instance.uuid,
            host=self.host,
            mountpoint=bdm.device_name,
            attaching=attaching,
        )
        try:
            info = self.store.connection_info(bdm.volume_id, connector)
        except BaseException:
            self.store.detach(bdm.volume_id, instance_uuid=instance.uuid)
            raise
        _apply_access_mode(info, bdm)
        bdm.connection_info = info
        bdm.attachment_id = info.attachment_id
        return info

    def connected(self, instance: Instance, bdm: BlockDeviceMapping) -> None:
        """The driver connected the volume of ``bdm`` (or kept it after a failed
        disconnect): the store shows it ``in-use``."""
        assert bdm.volume_id is not None
        self.store.mark_in_use(bdm.volume_id, instance_uuid=instance.uuid)

    def disconnecting(self, instance: Instance, bdm: BlockDeviceMapping) -> None:
        """The driver is about to disconnect the volume of ``bdm``: the store shows
        it ``detaching``. A record that is not this instance's ``in-use`` one is
        left alone (:meth:`terminate` copes with it)."""
        if bdm.volume_id is None:
            return
        try:
            self.store.begin_detach(bdm.volume_id, instance_uuid=instance.uuid)
        except (VolumeNotFound, InvalidVolumeState) as exc:
            LOG.info("volume %s not marked detaching: %s", bdm.volume_id, exc)

    def connection_info_for(
        self, instance: Instance, bdm: BlockDeviceMapping
    ) -> VolumeConnectionInfo:
        """Connection info for this host to a volume already attached elsewhere (the
        destination of a live migration), without touching the attachment record."""
        assert bdm.volume_id is not None
        info = self.store.connection_info(bdm.volume_id, self.connector(instance))
        _apply_access_mode(info, bdm)
        return info

    def terminate(
        self, instance: Instance, bdm: BlockDeviceMapping, connector: VolumeConnector
    ) -> None:
        """Release this host's attachment of the volume for ``instance``: the store
        then shows the volume available. Releasing what is already released (or an
        attachment held by another host) does nothing."""
        if bdm.volume_id is None:
            return
        try:
            volume = self.store.get(bdm.volume_id)
        except VolumeNotFound:
            LOG.warning("volume %s of instance %s is gone", bdm.volume_id, instance.uuid)
            return
        if volume.attached_to != instance.uuid:
            return
        if volume.attached_host not in (None, connector.host):
            LOG.info(
                "volume %s is attached on %s, not %s: leaving it",
                volume.id,
                volume.attached_host,
                connector.host,
            )
            return
        try:
            self.store.detach(volume.id, instance_uuid=instance.uuid)
        except InvalidVolumeState:  # detached meanwhile
            return

    def take_over(self, instance: Instance, bdm: BlockDeviceMapping) -> None:
        """Record the volume of ``bdm`` as attached to ``instance`` on this host (the
        guest moved here): a record the source still holds is released first. Sets
        the new attachment id on ``bdm`` (not saved)."""
        assert bdm.volume_id is not None and bdm.device_name is not None
        volume = self.store.get(bdm.volume_id)
        if volume.attached_to == instance.uuid and volume.attached_host == self.host:
            return
        if volume.attached_to == instance.uuid:
            self.store.detach(volume.id, instance_uuid=instance.uuid)
        volume = self.store.attach(
            volume.id, instance_uuid=instance.uuid, host=self.host, mountpoint=bdm.device_name
        )
        bdm.attachment_id = volume.attachment_id
        if bdm.connection_info is not None:
            bdm.connection_info.attachment_id = volume.attachment_id

    def delete_if_asked(self, bdm: BlockDeviceMapping) -> None:
        """Delete the volume when its mapping says ``delete_on_termination``."""
        if not bdm.delete_on_termination or bdm.volume_id is None:
            return
        try:
            self.store.delete(bdm.volume_id)
        except VolumeNotFound:
            return
        except Exception:
            LOG.exception("could not delete volume %s on termination", bdm.volume_id)

    def disconnect_all(
        self, context: Any, instance: Instance, bdms: BlockDeviceMappingList
    ) -> None:
        """Release every volume of the instance held by this host (delete, failed build)."""
        volumes = bdms.volumes()
        if not volumes:
            return
        connector = self.connector(instance)
        for bdm in volumes:
            self.terminate(instance, bdm, connector)


def _apply_access_mode(info: VolumeConnectionInfo, bdm: BlockDeviceMapping) -> None:
    """A read-only mapping is connected read-only (drivers honour ``access_mode``)."""
    if bdm.read_only:
        info.access_mode = AccessMode.READ_ONLY
