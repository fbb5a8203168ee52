"""Builders for the driver tests: the objects drivers take (instances, VIFs, volumes,
security groups), a manual clock, and the live-migration sequence of DESIGN.md."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from cumulo.model import (
    VIF,
    BlockDeviceInfo,
    BlockDeviceMapping,
    ComputeNode,
    DestinationType,
    Direction,
    FixedIP,
    Flavor,
    Instance,
    LiveMigrateData,
    Network,
    NetworkInfo,
    Protocol,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupRule,
    SourceType,
    Subnet,
    VolumeConnectionInfo,
    VolumeDriverType,
)
from cumulo.virt.fake import FakeDriver


@dataclasses.dataclass
class Ctx:
    """Fits ``cumulo.model.Context``."""

    user_id: str | None = "alice"
    project_id: str | None = "p1"
    request_id: str = "req-1"


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_flavor(vcpus: int = 2, memory_mb: int = 2048, root_gb: int = 10, **extra: Any) -> Flavor:
    return Flavor(
        flavorid=f"f-{vcpus}-{memory_mb}-{root_gb}",
        name="m1.test",
        vcpus=vcpus,
        memory_mb=memory_mb,
        root_gb=root_gb,
        **extra,
    )


def make_instance(flavor: Flavor | None = None, **fields: Any) -> Instance:
    fields.setdefault("uuid", uuid.uuid4())
    fields.setdefault("user_id", "alice")
    fields.setdefault("project_id", "p1")
    fields.setdefault("image_ref", str(uuid.uuid4()))
    if flavor is None and "vcpus" not in fields:
        flavor = make_flavor()
    if flavor is not None:
        fields["flavor"] = flavor
    return Instance(**fields)


_mac_counter = iter(range(1, 1 << 24))


def make_vif(address: str | None = None, ip: str = "10.1.0.5", **fields: Any) -> VIF:
    if address is None:
        n = next(_mac_counter)
        address = f"fa:16:3e:{n >> 16 & 0xFF:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"
    network = Network(
        id=uuid.uuid4(),
        label="private",
        bridge="br-int",
        subnets=[Subnet(cidr="10.1.0.0/24", ips=[FixedIP(address=ip)])],
    )
    return VIF(id=uuid.uuid4(), address=address, network=network, **fields)


def make_network_info(*vifs: VIF) -> NetworkInfo:
    return NetworkInfo(objects=list(vifs) if vifs else [make_vif()])


def make_connection_info(volume_id: uuid.UUID | None = None) -> VolumeConnectionInfo:
    volume_id = volume_id or uuid.uuid4()
    return VolumeConnectionInfo(
        driver_volume_type=VolumeDriverType.FILE,
        volume_id=volume_id,
        serial=str(volume_id),
        path=f"/srv/volumes/{volume_id}.img",
    )


def make_volume_bdm(
    instance: Instance,
    device_name: str | None = "/dev/vdb",
    boot_index: int | None = None,
    connection_info: VolumeConnectionInfo | None = None,
) -> BlockDeviceMapping:
    info = connection_info or make_connection_info()
    return BlockDeviceMapping(
        uuid=uuid.uuid4(),
        instance_uuid=instance.uuid,
        source_type=SourceType.VOLUME,
        destination_type=DestinationType.VOLUME,
        volume_id=info.volume_id,
        device_name=device_name,
        boot_index=boot_index,
        connection_info=info,
    )


def make_bdi(*volumes: BlockDeviceMapping, root: str = "/dev/vda") -> BlockDeviceInfo:
    return BlockDeviceInfo(root_device_name=root, volumes=list(volumes))


def make_groups(*rules: SecurityGroupRule, group_id: int = 1) -> SecurityGroupList:
    group = SecurityGroup(id=group_id, name=f"sg-{group_id}", project_id="p1", rules=list(rules))
    return SecurityGroupList(objects=[group])


def tcp_rule(port: int, cidr: str | None = "0.0.0.0/0", **fields: Any) -> SecurityGroupRule:
    return SecurityGroupRule(
        protocol=Protocol.TCP,
        from_port=port,
        to_port=port,
        cidr=cidr,
        direction=Direction.INGRESS,
        **fields,
    )


def node_of(driver: FakeDriver) -> ComputeNode:
    node = ComputeNode(uuid=uuid.uuid4(), host=driver.host, hypervisor_hostname=driver.host)
    node.update_from_resources(driver.get_available_resource())
    return node


@dataclasses.dataclass
class MigrationRun:
    """What one live migration did: the callbacks called, and the data passed on."""

    calls: list[str] = dataclasses.field(default_factory=list)
    errors: list[BaseException] = dataclasses.field(default_factory=list)
    data: LiveMigrateData | None = None


def live_migrate(
    src: FakeDriver,
    dst: FakeDriver,
    instance: Instance,
    network_info: NetworkInfo,
    *,
    block_migration: bool = False,
    src_bdi: BlockDeviceInfo | None = None,
    dst_bdi: BlockDeviceInfo | None = None,
    security_groups: SecurityGroupList | None = None,
    post_steps: bool = True,
) -> MigrationRun:
    """The live migration of DESIGN.md, driver calls only, in the Juno order."""
    ctx = Ctx()
    run = MigrationRun()
    dest_data = dst.check_can_live_migrate_destination(
        ctx, instance, node_of(src), node_of(dst), block_migration=block_migration
    )
    try:
        data = src.check_can_live_migrate_source(ctx, instance, dest_data, src_bdi)
    finally:
        dst.cleanup_live_migration_destination_check(ctx, dest_data)
    data = dst.pre_live_migration(ctx, instance, dst_bdi, network_info, data)
    if security_groups is not None:
        dst.ensure_filtering_rules_for_instance(instance, network_info, security_groups)
    run.data = data

    def post(context: Any, inst: Instance, dest: str, block: bool, md: LiveMigrateData) -> None:
        run.calls.append("post")
        if not post_steps:
            return
        shared = bool(md.is_shared_instance_path)
        src.post_live_migration(context, inst, src_bdi, md)
        src.unfilter_instance(inst, network_info)
        src.post_live_migration_at_source(context, inst, network_info)
        dst.post_live_migration_at_destination(context, inst, network_info, block, dst_bdi)
        src.cleanup(
            context,
            inst,
            network_info,
            src_bdi,
            destroy_disks=not shared,
            migrate_data=md,
            destroy_vifs=False,
        )

    def recover(
        context: Any, inst: Instance, dest: str, md: LiveMigrateData, error: BaseException
    ) -> None:
        run.calls.append("recover")
        run.errors.append(error)
        dst.rollback_live_migration_at_destination(
            context,
            inst,
            network_info,
            dst_bdi,
            destroy_disks=not md.is_shared_instance_path,
            migrate_data=md,
        )

    src.live_migration(
        ctx, instance, dst.host, post, recover, block_migration=block_migration, migrate_data=data
    )
    return run
