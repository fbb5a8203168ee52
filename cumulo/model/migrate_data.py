"""``LiveMigrateData``: what the source and destination of a live migration tell
each other, one typed field per fact (Nova's Juno dict, then its per-driver
subclasses, flattened into one object every Cumulo driver shares)."""

from __future__ import annotations

import ipaddress
from uuid import UUID

from cumulo.objects import field, register

from .base import CumuloObject
from .hardware import DeviceType, DiskBus, DiskFormat, VIFType, VnicType
from .migration import Migration
from .network import VIF
from .volume_connection import VolumeConnectionInfo


@register
class VIFMigrateData(CumuloObject):
    """A port's binding on the destination host, next to its binding on the source.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    port_id: UUID
    vnic_type: VnicType = VnicType.NORMAL
    vif_type: VIFType = VIFType.UNBOUND
    vif_details: dict[str, str] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)
    host: str
    """The host this binding is for (the destination)."""
    source_vif: VIF | None = None
    """The VIF as plugged on the source, to restore on rollback."""


@register
class LiveMigrateBDMInfo(CumuloObject):
    """A volume of the instance as the destination will connect it.

    History: 1.0 first version. 1.1: ``bus`` may be ``nvme``.
    """

    VERSION = "1.1"

    serial: str
    bus: DiskBus = field(values_added={"1.1": [DiskBus.NVME]})
    dev: str
    """The guest device name (``vdb``)."""
    type: DeviceType = DeviceType.DISK
    format: DiskFormat | None = None
    connection_info: VolumeConnectionInfo | None = None
    """How the destination reaches the volume."""
    encryption_secret_uuid: UUID | None = None


@register
class LiveMigrateData(CumuloObject):
    """The facts gathered by the checks and preparation of a live migration,
    passed from step to step (destination check → source check → pre-migration →
    migration → post/rollback).

    Fields the steps have not determined yet are ``None``.

    History: 1.0 first version. 1.1: ``migration_port`` and ``nbd_port``;
    LiveMigrateBDMInfo 1.1.
    """

    VERSION = "1.1"

    migration: Migration | None = None
    is_volume_backed: bool | None = None
    block_migration: bool | None = None
    disk_over_commit: bool | None = None
    disk_available_mb: int | None = None
    """Free disk on the destination (destination check)."""
    filename: str | None = None
    """The temporary file the destination made to test for shared instance storage."""
    is_shared_instance_path: bool | None = None
    is_shared_block_storage: bool | None = None
    instance_relative_path: str | None = None
    graphics_listen_addr_vnc: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    serial_listen_addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    serial_listen_ports: list[int] = field(default_factory=list)
    target_connect_addr: str | None = None
    """Where the source sends migration traffic (host name or address)."""
    dest_host: str | None = None
    migration_port: int | None = field(default=None, added="1.1")
    """The destination's TCP port for the migration stream (older destinations put
    it in ``target_connect_addr`` as ``address:port``)."""
    nbd_port: int | None = field(default=None, added="1.1")
    """The destination's TCP port serving its local disks over NBD for a block
    migration (older destinations serve them at the migration port + 1)."""
    wait_for_vif_plugged: bool = False
    vifs: list[VIFMigrateData] = field(default_factory=list)
    bdms: list[LiveMigrateBDMInfo] = field(default_factory=list)
    old_vol_attachment_ids: dict[str, UUID] = field(default_factory=dict)
    """Volume id → the source's attachment id, to restore on rollback."""
