"""Small pieces every driver computes the same way: a guest's size from its
instance, whether its root is a volume, the room it needs on a host, which volumes
and VIFs it can be given, security-group flattening and the objects a live
migration hands between hosts."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from collections.abc import Callable, Iterable
from uuid import UUID

from cumulo.model import (
    VIF,
    Architecture,
    AvailableResource,
    BlockDeviceInfo,
    BlockDeviceMapping,
    CpuInfo,
    DeviceType,
    DiskBus,
    Flavor,
    Instance,
    LiveMigrateBDMInfo,
    LiveMigrateData,
    NetworkInfo,
    SecurityGroupList,
    SecurityGroupRule,
    SupportedInstance,
    VIFMigrateData,
    VIFType,
    VmMode,
    VolumeConnectionInfo,
)
from cumulo.objects import MACAddress

from . import device_names
from .exceptions import DeviceInUse, InsufficientResources, InvalidGuestSize, VifPlugFailed

__all__ = [
    "Resources",
    "VolumeToConnect",
    "available_resource",
    "check_fits",
    "check_pluggable",
    "check_tail_lines",
    "claim_of",
    "dest_check_data",
    "flatten_security_groups",
    "is_volume_backed",
    "live_migrate_bdms",
    "local_disk_gb",
    "vif_migrate_data",
    "volumes_to_connect",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclasses.dataclass
class Resources:
    """vCPUs, memory (MiB) and local disk (GiB): what a guest claims, or what a
    host has, uses or has free."""

    vcpus: int
    memory_mb: int
    disk_gb: int

    def as_tuple(self) -> tuple[int, int, int]:
        """``(vcpus, memory_mb, disk_gb)``."""
        return self.vcpus, self.memory_mb, self.disk_gb


def is_volume_backed(instance: Instance, block_device_info: BlockDeviceInfo | None) -> bool:
    """Whether the guest's root disk is a volume: a root BDM among the volumes, or
    no image and some volume."""
    if block_device_info is None:
        return False
    if any(bdm.is_root for bdm in block_device_info.volumes):
        return True
    return instance.image_ref is None and bool(block_device_info.volumes)


def claim_of(instance: Instance, volume_backed: bool, *, hint: str = "") -> Resources:
    """What the guest takes from the host, by :meth:`Instance.size` (swap MiB
    rounded up to GiB); a volume-backed root takes no local disk. ``hint`` ends the
    message of :class:`InvalidGuestSize`."""
    size = instance.size()
    vcpus, memory_mb = size.vcpus, size.memory_mb
    if vcpus < 1 or memory_mb < 1:
        raise InvalidGuestSize(
            str(instance.uuid),
            "a guest needs at least 1 vCPU and 1 MiB of memory, "
            f"got vcpus={vcpus} memory_mb={memory_mb}{hint}",
        )
    return Resources(vcpus, memory_mb, local_disk_gb(size, volume_backed))


def local_disk_gb(size: Flavor, volume_backed: bool) -> int:
    """The local disk (GiB) a guest of ``size`` takes: root (none when it is a
    volume), ephemeral, and swap (MiB) rounded up to whole GiB."""
    return (0 if volume_backed else size.root_gb) + size.ephemeral_gb + math.ceil(size.swap / 1024)


def check_fits(host: str, instance_uuid: UUID, claim: Resources, free: Resources) -> None:
    """Raise :class:`InsufficientResources` naming every resource ``claim`` needs
    more of than ``free`` has."""
    short = [
        (name, need, have)
        for name, need, have in (
            ("vcpus", claim.vcpus, free.vcpus),
            ("memory_mb", claim.memory_mb, free.memory_mb),
            ("disk_gb", claim.disk_gb, free.disk_gb),
        )
        if need > have
    ]
    if short:
        raise InsufficientResources(host, str(instance_uuid), short)


@dataclasses.dataclass(frozen=True)
class VolumeToConnect:
    """A volume of ``block_device_info`` a driver is to connect: its mapping, the
    connection info to connect with, and the guest device (normalized)."""

    bdm: BlockDeviceMapping
    connection_info: VolumeConnectionInfo
    mountpoint: str


def volumes_to_connect(
    instance_uuid: UUID,
    block_device_info: BlockDeviceInfo | None,
    *,
    needs_path: bool = False,
    check: Callable[[VolumeConnectionInfo, str], None] | None = None,
) -> list[VolumeToConnect]:
    """The volumes of ``block_device_info``, checked before anything is connected.

    Args:
        instance_uuid: the guest the volumes are for.
        block_device_info: the guest's disks (``None``: no volume).
        needs_path: the driver connects files: a volume needs ``connection_info.path``.
        check: the driver's own check of each volume and its mountpoint (raises).

    Raises:
        ValueError: a volume has no connection info (no path, with ``needs_path``)
            or no device name.
        DeviceInUse: two volumes are given one device.
    """
    if block_device_info is None:
        return []
    what = "file connection_info" if needs_path else "connection_info"
    mounts: set[str] = set()
    volumes = []
    for index, bdm in enumerate(block_device_info.volumes):
        where = f"block_device_info.volumes[{index}] (volume {bdm.volume_id})"
        info = bdm.connection_info
        if info is None or (needs_path and not info.path):
            raise ValueError(f"{where}: no {what} to connect with")
        if not bdm.device_name:
            raise ValueError(f"{where}: no device_name (name the devices first)")
        mount = device_names.normalize(bdm.device_name)
        if mount in mounts:
            raise DeviceInUse(str(instance_uuid), mount, str(bdm.volume_id))
        mounts.add(mount)
        if check is not None:
            check(info, mount)
        volumes.append(VolumeToConnect(bdm, info, mount))
    return volumes


def live_migrate_bdms(
    volumes: Iterable[VolumeToConnect],
    connect: Callable[[VolumeToConnect], VolumeConnectionInfo],
    *,
    default_bus: DiskBus,
) -> list[LiveMigrateBDMInfo]:
    """Connect each volume on the destination with ``connect`` (which returns the
    connection info as connected here) and describe it for the source
    (``LiveMigrateData.bdms``); a mapping without a bus is on ``default_bus``."""
    bdms = []
    for volume in volumes:
        info = connect(volume)
        bdms.append(
            LiveMigrateBDMInfo(
                serial=info.serial,
                bus=volume.bdm.disk_bus or default_bus,
                dev=volume.mountpoint.removeprefix("/dev/"),
                type=volume.bdm.device_type or DeviceType.DISK,
                connection_info=info.obj_clone(),
            )
        )
    return bdms


def check_pluggable(
    host: str,
    instance_uuid: UUID,
    network_info: NetworkInfo,
    plugged: Iterable[tuple[UUID, VIF]],
    *,
    mac_pool: frozenset[MACAddress] | None,
    max_vifs: int | None = None,
) -> None:
    """Refuse the VIFs of ``network_info`` this host cannot plug for the guest.

    Args:
        host: this host.
        instance_uuid: the guest the VIFs are for.
        network_info: the VIFs to plug.
        plugged: ``(instance uuid, VIF)`` of the VIFs this host holds.
        mac_pool: the MACs the host's NICs are fixed to (``None``: any MAC).
        max_vifs: how many VIFs a guest can have (``None``: no limit).

    Raises:
        VifPlugFailed: too many VIFs, a port binding that is unbound or failed, a
            VIF plugged here for another guest, a MAC given to two of the VIFs,
            and with ``mac_pool`` a MAC that is not one of the host's NICs or that
            another guest's VIF has.
    """
    others = [(owner, vif) for owner, vif in plugged if owner != instance_uuid]
    owner_of_vif = {vif.id: owner for owner, vif in others}
    owner_of_mac = {vif.address: owner for owner, vif in others}
    if max_vifs is not None and len(network_info.objects) > max_vifs:
        vif_id = str(network_info.objects[max_vifs].id)
        raise VifPlugFailed(vif_id, host, f"a guest has {max_vifs} NICs at most")
    seen_macs: set[str] = set()
    for vif in network_info:
        vif_id = str(vif.id)
        if vif.type in (VIFType.UNBOUND, VIFType.BINDING_FAILED):
            raise VifPlugFailed(vif_id, host, f"its port binding is {vif.type}")
        owner = owner_of_vif.get(vif.id)
        if owner is not None:
            raise VifPlugFailed(vif_id, host, f"plugged for instance {owner}")
        if vif.address in seen_macs:
            raise VifPlugFailed(vif_id, host, f"MAC {vif.address} given to two VIFs")
        seen_macs.add(vif.address)
        if mac_pool is not None:
            if vif.address not in mac_pool:
                raise VifPlugFailed(
                    vif_id, host, f"MAC {vif.address} is not one of the host's NICs"
                )
            holder = owner_of_mac.get(vif.address)
            if holder is not None:
                raise VifPlugFailed(vif_id, host, f"MAC {vif.address} is used by {holder}")


def flatten_security_groups(
    security_groups: SecurityGroupList,
) -> tuple[list[SecurityGroupRule], list[int]]:
    """Copies of every group's rules, and the ids of the groups that have one."""
    rules = [rule.obj_clone() for group in security_groups.objects for rule in group.rules]
    group_ids = [g.id for g in security_groups.objects if g.obj_attr_is_set("id")]
    return rules, group_ids


def available_resource(
    host: str,
    capacity: Resources,
    used: Resources,
    *,
    hypervisor_type: str,
    hypervisor_version: int,
    cpu_info: CpuInfo,
    host_ip: IPAddress,
    arch: Architecture,
    supported_hypervisor_type: str,
) -> AvailableResource:
    """The host's :class:`AvailableResource` from its capacity and what guests use
    (HVM guests of ``arch`` only)."""
    return AvailableResource(
        hypervisor_hostname=host,
        vcpus=capacity.vcpus,
        memory_mb=capacity.memory_mb,
        local_gb=capacity.disk_gb,
        vcpus_used=used.vcpus,
        memory_mb_used=used.memory_mb,
        local_gb_used=used.disk_gb,
        hypervisor_type=hypervisor_type,
        hypervisor_version=hypervisor_version,
        cpu_info=cpu_info,
        disk_available_least=capacity.disk_gb - used.disk_gb,
        host_ip=host_ip,
        supported_instances=[
            SupportedInstance(
                arch=arch, hypervisor_type=supported_hypervisor_type, vm_mode=VmMode.HVM
            )
        ],
    )


def dest_check_data(
    host: str,
    host_ip: IPAddress,
    *,
    block_migration: bool,
    disk_over_commit: bool,
    disk_available_mb: int,
    probe: str,
) -> LiveMigrateData:
    """What ``check_can_live_migrate_destination`` returns: the destination's free
    disk, the probe file the source looks for and where to reach this host."""
    return LiveMigrateData(
        block_migration=block_migration,
        disk_over_commit=disk_over_commit,
        disk_available_mb=disk_available_mb,
        filename=probe,
        dest_host=host,
        target_connect_addr=str(host_ip),
    )


def vif_migrate_data(network_info: NetworkInfo, host: str) -> list[VIFMigrateData]:
    """Each VIF of ``network_info`` as bound on ``host`` (the destination)."""
    return [
        VIFMigrateData(
            port_id=vif.id,
            vnic_type=vif.vnic_type,
            vif_type=vif.type,
            vif_details=dict(vif.details),
            profile=dict(vif.profile),
            host=host,
            source_vif=vif.obj_clone(),
        )
        for vif in network_info
    ]


def check_tail_lines(tail_lines: int | None) -> None:
    """Refuse a negative line count for ``get_console_output`` (``None``: all lines).

    Raises:
        ValueError: ``tail_lines`` is negative.
    """
    if tail_lines is not None and tail_lines < 0:
        raise ValueError(f"tail_lines: expected a count >= 0 or None, got {tail_lines}")


def public_keys(instance: Instance) -> dict[str, str]:
    """The guest's public keys by key pair name, for its config data (OpenStack's
    ``meta_data.json`` ``public_keys``): the key pair it was booted with, if any."""
    if not instance.key_data:
        return {}
    return {instance.key_name or "default": instance.key_data}
