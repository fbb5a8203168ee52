"""The database tables, as SQLAlchemy 2 typed declarative classes (one per table).

Column attributes are named after the fields of the objects they store, so rows
and objects convert field by field (``cumulo/db/convert.py``). The schema itself
is created and changed by the Alembic migrations in ``cumulo/db/migrations/``;
a test checks that they produce exactly these tables on every backend.

Soft delete: a table with ``deleted`` keeps its rows; ``deleted`` is 0 while the
row is live and the row's ``id`` (1 for tables keyed by a UUID) once deleted, so
a unique key that includes ``deleted`` admits one live row and any number of
deleted ones, portably (no partial indexes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from cumulo.model.block_device import DestinationType, SourceType
from cumulo.model.flavor import Flavor
from cumulo.model.hardware import DeviceType, DiskBus
from cumulo.model.host_resource import CpuInfo, SupportedInstance
from cumulo.model.instance_action import ActionEventResult, InstanceActionName
from cumulo.model.network import NetworkInfo
from cumulo.model.security_group import Direction, EtherType, Protocol
from cumulo.model.service import ServiceBinary
from cumulo.model.states import (
    MigrationStatus,
    MigrationType,
    PowerState,
    TaskState,
    VmState,
    VolumeStatus,
)
from cumulo.model.volume_connection import VolumeConnectionInfo

from .types import (
    EnumString,
    IntEnumInteger,
    IPAddress,
    IPAddressString,
    IPNetwork,
    IPNetworkString,
    ObjectJSON,
    ObjectListJSON,
    StringMap,
    UTCDateTime,
    UUIDString,
    long_text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}
"""Every constraint and index has a predictable name, so a later migration can
alter it on every backend."""

MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
"""Binary collation: names compare as on PostgreSQL and SQLite (case-sensitive)."""

NAME = 255
"""Length of host names, user and project ids, display names..."""


def _args(*items: Any) -> tuple[Any, ...]:
    return (*items, MYSQL_TABLE_OPTIONS)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SoftDelete:
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# --- instances ------------------------------------------------------------------------------


class InstanceRow(Timestamps, SoftDelete, Base):
    __tablename__ = "instances"
    __table_args__ = _args(
        UniqueConstraint("uuid"),
        Index("ix_instances_host_deleted", "host", "deleted"),
        Index("ix_instances_project_id", "project_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[UUID] = mapped_column(UUIDString())
    user_id: Mapped[str] = mapped_column(String(NAME))
    project_id: Mapped[str] = mapped_column(String(NAME))
    image_ref: Mapped[str | None] = mapped_column(String(NAME))
    host: Mapped[str | None] = mapped_column(String(NAME))
    node: Mapped[str | None] = mapped_column(String(NAME))
    launched_on: Mapped[str | None] = mapped_column(String(NAME))
    display_name: Mapped[str | None] = mapped_column(String(NAME))
    hostname: Mapped[str | None] = mapped_column(String(NAME))
    availability_zone: Mapped[str | None] = mapped_column(String(NAME))
    vm_state: Mapped[VmState] = mapped_column(EnumString(VmState))
    task_state: Mapped[TaskState | None] = mapped_column(EnumString(TaskState))
    power_state: Mapped[PowerState] = mapped_column(IntEnumInteger(PowerState))
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer)
    ephemeral_gb: Mapped[int] = mapped_column(Integer)
    root_device_name: Mapped[str | None] = mapped_column(String(NAME))
    config_drive: Mapped[bool] = mapped_column(Boolean)
    key_name: Mapped[str | None] = mapped_column(String(NAME))
    key_data: Mapped[str | None] = mapped_column(long_text())
    user_data: Mapped[str | None] = mapped_column(long_text())
    # `metadata` is taken by the declarative base; the column keeps the field's name.
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", StringMap())
    system_metadata: Mapped[dict[str, str]] = mapped_column(StringMap())
    locked: Mapped[bool] = mapped_column(Boolean)
    locked_by: Mapped[str | None] = mapped_column(String(NAME))
    locked_reason: Mapped[str | None] = mapped_column(String(NAME))  # 0002
    description: Mapped[str | None] = mapped_column(String(NAME))  # 0002
    access_ip_v4: Mapped[IPAddress | None] = mapped_column(IPAddressString())  # 0003
    access_ip_v6: Mapped[IPAddress | None] = mapped_column(IPAddressString())  # 0003
    reservation_id: Mapped[str | None] = mapped_column(String(NAME))  # 0003
    launch_index: Mapped[int | None] = mapped_column(Integer)  # 0003
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The instance's own copy of its flavor; read only when asked for.
    flavor: Mapped[Flavor | None] = mapped_column(ObjectJSON(Flavor), deferred=True)

    info_cache: Mapped[InstanceInfoCacheRow | None] = relationship(
        primaryjoin="InstanceRow.uuid == foreign(InstanceInfoCacheRow.instance_uuid)",
        uselist=False,
        viewonly=True,
        lazy="raise",
    )
    tags: Mapped[list[InstanceTagRow]] = relationship(
        primaryjoin="InstanceRow.uuid == foreign(InstanceTagRow.instance_uuid)",
        order_by="InstanceTagRow.tag",
        viewonly=True,
        lazy="raise",
    )
    security_groups: Mapped[list[SecurityGroupRow]] = relationship(
        secondary="security_group_instance_association",
        primaryjoin="InstanceRow.uuid == SecurityGroupInstanceAssociationRow.instance_uuid",
        secondaryjoin=(
            "SecurityGroupRow.id == SecurityGroupInstanceAssociationRow.security_group_id"
        ),
        order_by="SecurityGroupRow.id",
        viewonly=True,
        lazy="raise",
    )


class InstanceInfoCacheRow(Timestamps, SoftDelete, Base):
    __tablename__ = "instance_info_caches"
    __table_args__ = _args(UniqueConstraint("instance_uuid"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[UUID] = mapped_column(UUIDString(), ForeignKey("instances.uuid"))
    network_info: Mapped[NetworkInfo] = mapped_column(ObjectJSON(NetworkInfo))


class InstanceTagRow(Base):
    __tablename__ = "instance_tags"
    __table_args__ = _args(Index("ix_instance_tags_tag", "tag"))

    instance_uuid: Mapped[UUID] = mapped_column(
        UUIDString(), ForeignKey("instances.uuid"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(NAME), primary_key=True)


class InstanceFaultRow(Base):
    __tablename__ = "instance_faults"
    __table_args__ = _args(
        Index("ix_instance_faults_instance_uuid_created_at", "instance_uuid", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[UUID] = mapped_column(UUIDString(), ForeignKey("instances.uuid"))
    code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(NAME))
    details: Mapped[str] = mapped_column(long_text())
    host: Mapped[str | None] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InstanceActionRow(Base):
    __tablename__ = "instance_actions"
    __table_args__ = _args(
        Index("ix_instance_actions_instance_uuid_request_id", "instance_uuid", "request_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(NAME))
    instance_uuid: Mapped[UUID] = mapped_column(UUIDString(), ForeignKey("instances.uuid"))
    action: Mapped[InstanceActionName] = mapped_column(EnumString(InstanceActionName, 64))
    user_id: Mapped[str | None] = mapped_column(String(NAME))
    project_id: Mapped[str | None] = mapped_column(String(NAME))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    finish_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message: Mapped[str | None] = mapped_column(Text)


class InstanceActionEventRow(Base):
    __tablename__ = "instance_actions_events"
    __table_args__ = _args(Index("ix_instance_actions_events_action_id", "action_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(Integer, ForeignKey("instance_actions.id"))
    event: Mapped[str] = mapped_column(String(NAME))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    finish_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[ActionEventResult | None] = mapped_column(EnumString(ActionEventResult, 16))
    traceback: Mapped[str | None] = mapped_column(long_text())
    host: Mapped[str | None] = mapped_column(String(NAME))
    details: Mapped[str | None] = mapped_column(long_text())


# --- flavors --------------------------------------------------------------------------------


class FlavorRow(Timestamps, Base):
    # Flavors are deleted for real (instances keep their own copy), so flavorid and
    # name are plainly unique.
    __tablename__ = "flavors"
    __table_args__ = _args(UniqueConstraint("flavorid"), UniqueConstraint("name"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flavorid: Mapped[str] = mapped_column(String(NAME))
    name: Mapped[str] = mapped_column(String(NAME))
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer)
    ephemeral_gb: Mapped[int] = mapped_column(Integer)
    swap: Mapped[int] = mapped_column(Integer)
    rxtx_factor: Mapped[float] = mapped_column(Double)
    vcpu_weight: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean)
    is_public: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str | None] = mapped_column(Text)

    extra_specs: Mapped[list[FlavorExtraSpecRow]] = relationship(
        order_by="FlavorExtraSpecRow.key", viewonly=True, lazy="raise"
    )


class FlavorExtraSpecRow(Base):
    __tablename__ = "flavor_extra_specs"
    __table_args__ = _args(UniqueConstraint("flavor_id", "key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flavor_id: Mapped[int] = mapped_column(Integer, ForeignKey("flavors.id"))
    key: Mapped[str] = mapped_column(String(NAME))
    value: Mapped[str] = mapped_column(String(NAME))


# --- block devices, migrations, volumes -----------------------------------------------------


class BlockDeviceMappingRow(Timestamps, SoftDelete, Base):
    __tablename__ = "block_device_mappings"
    __table_args__ = _args(
        UniqueConstraint("uuid"),
        UniqueConstraint(
            "instance_uuid",
            "device_name",
            "deleted",
            name="uq_bdm_instance_uuid_device_name_deleted",
        ),
        Index("ix_block_device_mappings_instance_uuid", "instance_uuid"),
        Index("ix_block_device_mappings_volume_id", "volume_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[UUID] = mapped_column(UUIDString())
    instance_uuid: Mapped[UUID] = mapped_column(UUIDString(), ForeignKey("instances.uuid"))
    source_type: Mapped[SourceType] = mapped_column(EnumString(SourceType))
    destination_type: Mapped[DestinationType] = mapped_column(EnumString(DestinationType))
    guest_format: Mapped[str | None] = mapped_column(String(NAME))
    device_type: Mapped[DeviceType | None] = mapped_column(EnumString(DeviceType))
    disk_bus: Mapped[DiskBus | None] = mapped_column(EnumString(DiskBus))
    boot_index: Mapped[int | None] = mapped_column(Integer)
    device_name: Mapped[str | None] = mapped_column(String(NAME))
    delete_on_termination: Mapped[bool] = mapped_column(Boolean)
    snapshot_id: Mapped[UUID | None] = mapped_column(UUIDString())
    volume_id: Mapped[UUID | None] = mapped_column(UUIDString())
    volume_size: Mapped[int | None] = mapped_column(Integer)
    image_id: Mapped[UUID | None] = mapped_column(UUIDString())
    no_device: Mapped[bool] = mapped_column(Boolean)
    connection_info: Mapped[VolumeConnectionInfo | None] = mapped_column(
        ObjectJSON(VolumeConnectionInfo)
    )
    tag: Mapped[str | None] = mapped_column(String(NAME))
    attachment_id: Mapped[UUID | None] = mapped_column(UUIDString())
    volume_type: Mapped[str | None] = mapped_column(String(NAME))
    encrypted: Mapped[bool] = mapped_column(Boolean)
    encryption_secret_uuid: Mapped[UUID | None] = mapped_column(UUIDString())
    encryption_format: Mapped[str | None] = mapped_column(String(128))
    read_only: Mapped[bool] = mapped_column(Boolean, server_default="0")  # 0002


class MigrationRow(Timestamps, Base):
    __tablename__ = "migrations"
    __table_args__ = _args(
        UniqueConstraint("uuid"),
        Index("ix_migrations_instance_uuid", "instance_uuid"),
        Index("ix_migrations_source_compute_status", "source_compute", "status"),
        Index("ix_migrations_dest_compute_status", "dest_compute", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[UUID] = mapped_column(UUIDString())
    instance_uuid: Mapped[UUID] = mapped_column(UUIDString(), ForeignKey("instances.uuid"))
    migration_type: Mapped[MigrationType] = mapped_column(EnumString(MigrationType))
    status: Mapped[MigrationStatus] = mapped_column(EnumString(MigrationStatus))
    source_compute: Mapped[str | None] = mapped_column(String(NAME))
    source_node: Mapped[str | None] = mapped_column(String(NAME))
    dest_compute: Mapped[str | None] = mapped_column(String(NAME))
    dest_node: Mapped[str | None] = mapped_column(String(NAME))
    dest_host: Mapped[IPAddress | None] = mapped_column(IPAddressString())
    old_flavor_id: Mapped[int | None] = mapped_column(Integer)
    new_flavor_id: Mapped[int | None] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(Boolean)
    memory_total: Mapped[int | None] = mapped_column(BigInteger)
    memory_processed: Mapped[int | None] = mapped_column(BigInteger)
    memory_remaining: Mapped[int | None] = mapped_column(BigInteger)
    disk_total: Mapped[int | None] = mapped_column(BigInteger)
    disk_processed: Mapped[int | None] = mapped_column(BigInteger)
    disk_remaining: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(String(NAME))
    project_id: Mapped[str | None] = mapped_column(String(NAME))


class VolumeRow(Timestamps, SoftDelete, Base):
    __tablename__ = "volumes"
    __table_args__ = _args(Index("ix_volumes_host_deleted", "host", "deleted"))

    id: Mapped[UUID] = mapped_column(UUIDString(), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    size_gb: Mapped[int] = mapped_column(Integer)
    status: Mapped[VolumeStatus] = mapped_column(EnumString(VolumeStatus))
    host: Mapped[str | None] = mapped_column(String(NAME))
    path: Mapped[str | None] = mapped_column(String(1024))
    project_id: Mapped[str | None] = mapped_column(String(NAME))
    user_id: Mapped[str | None] = mapped_column(String(NAME))
    attached_to: Mapped[UUID | None] = mapped_column(UUIDString())
    attached_host: Mapped[str | None] = mapped_column(String(NAME))
    mountpoint: Mapped[str | None] = mapped_column(String(NAME))
    attachment_id: Mapped[UUID | None] = mapped_column(UUIDString())


# --- services and compute nodes -------------------------------------------------------------


class ServiceRow(Timestamps, SoftDelete, Base):
    __tablename__ = "services"
    __table_args__ = _args(
        UniqueConstraint("uuid"),
        UniqueConstraint("host", "binary", "deleted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[UUID] = mapped_column(UUIDString())
    host: Mapped[str] = mapped_column(String(NAME))
    binary: Mapped[ServiceBinary] = mapped_column(EnumString(ServiceBinary, 64))
    topic: Mapped[str] = mapped_column(String(NAME))
    report_count: Mapped[int] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean)
    disabled_reason: Mapped[str | None] = mapped_column(String(NAME))
    forced_down: Mapped[bool] = mapped_column(Boolean)
    last_seen_up: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    object_manifest: Mapped[dict[str, str]] = mapped_column(StringMap())
    rpc_api_version: Mapped[str] = mapped_column(String(32))


class ComputeNodeRow(Timestamps, SoftDelete, Base):
    __tablename__ = "compute_nodes"
    __table_args__ = _args(
        UniqueConstraint("uuid"),
        UniqueConstraint("host", "hypervisor_hostname", "deleted"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[UUID] = mapped_column(UUIDString())
    host: Mapped[str] = mapped_column(String(NAME))
    hypervisor_hostname: Mapped[str] = mapped_column(String(NAME))
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    local_gb: Mapped[int] = mapped_column(Integer)
    vcpus_used: Mapped[int] = mapped_column(Integer)
    memory_mb_used: Mapped[int] = mapped_column(Integer)
    local_gb_used: Mapped[int] = mapped_column(Integer)
    free_ram_mb: Mapped[int] = mapped_column(Integer)
    free_disk_gb: Mapped[int] = mapped_column(Integer)
    running_vms: Mapped[int] = mapped_column(Integer)
    current_workload: Mapped[int] = mapped_column(Integer)
    hypervisor_type: Mapped[str] = mapped_column(String(NAME))
    hypervisor_version: Mapped[int] = mapped_column(BigInteger)
    cpu_info: Mapped[CpuInfo] = mapped_column(ObjectJSON(CpuInfo))
    disk_available_least: Mapped[int | None] = mapped_column(Integer)
    host_ip: Mapped[IPAddress | None] = mapped_column(IPAddressString())
    supported_instances: Mapped[list[SupportedInstance]] = mapped_column(
        ObjectListJSON(SupportedInstance)
    )
    cpu_allocation_ratio: Mapped[float] = mapped_column(Double)
    ram_allocation_ratio: Mapped[float] = mapped_column(Double)
    disk_allocation_ratio: Mapped[float] = mapped_column(Double)


class AllocationRow(Timestamps, Base):
    """What one instance holds on one compute node (placement's claim); deleted for
    real when released."""

    __tablename__ = "allocations"
    __table_args__ = _args(
        UniqueConstraint("consumer_uuid", "host", "node"),
        Index("ix_allocations_host_node", "host", "node"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    consumer_uuid: Mapped[UUID] = mapped_column(UUIDString())
    host: Mapped[str] = mapped_column(String(NAME))
    node: Mapped[str] = mapped_column(String(NAME))
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    disk_gb: Mapped[int] = mapped_column(Integer)


# --- security groups ------------------------------------------------------------------------


class SecurityGroupRow(Timestamps, Base):
    __tablename__ = "security_groups"
    __table_args__ = _args(UniqueConstraint("project_id", "name"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME))
    description: Mapped[str] = mapped_column(String(NAME))
    project_id: Mapped[str] = mapped_column(String(NAME))
    user_id: Mapped[str | None] = mapped_column(String(NAME))

    rules: Mapped[list[SecurityGroupRuleRow]] = relationship(
        primaryjoin="SecurityGroupRow.id == SecurityGroupRuleRow.parent_group_id",
        order_by="SecurityGroupRuleRow.id",
        viewonly=True,
        lazy="raise",
    )


class SecurityGroupRuleRow(Base):
    __tablename__ = "security_group_rules"
    __table_args__ = _args(
        Index("ix_security_group_rules_parent_group_id", "parent_group_id"),
        Index("ix_security_group_rules_remote_group_id", "remote_group_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parent_group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("security_groups.id", name="fk_security_group_rules_parent_group")
    )
    protocol: Mapped[Protocol] = mapped_column(EnumString(Protocol, 16))
    from_port: Mapped[int | None] = mapped_column(Integer)
    to_port: Mapped[int | None] = mapped_column(Integer)
    cidr: Mapped[IPNetwork | None] = mapped_column(IPNetworkString())
    remote_group_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("security_groups.id", name="fk_security_group_rules_remote_group")
    )
    direction: Mapped[Direction] = mapped_column(EnumString(Direction, 16))
    ethertype: Mapped[EtherType] = mapped_column(EnumString(EtherType, 16))


class SecurityGroupInstanceAssociationRow(Base):
    __tablename__ = "security_group_instance_association"
    __table_args__ = _args(
        UniqueConstraint(
            "security_group_id", "instance_uuid", name="uq_security_group_instance_association"
        ),
        Index("ix_security_group_instance_association_instance_uuid", "instance_uuid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    security_group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("security_groups.id", name="fk_sg_instance_association_group")
    )
    instance_uuid: Mapped[UUID] = mapped_column(
        UUIDString(), ForeignKey("instances.uuid", name="fk_sg_instance_association_instance")
    )


# --- identity (cumulo.identity's tables) ----------------------------------------------------

IDENTITY_ID = 64
"""Length of identity ids: Keystone's (32 hex digits for a generated one, ``default``
for the default domain)."""


class DomainRow(Timestamps, Base):
    # Identity records are deleted for real, as Keystone deletes them.
    __tablename__ = "domains"
    __table_args__ = _args(UniqueConstraint("name"))

    id: Mapped[str] = mapped_column(String(IDENTITY_ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)


class ProjectRow(Timestamps, Base):
    __tablename__ = "projects"
    __table_args__ = _args(UniqueConstraint("domain_id", "name"))

    id: Mapped[str] = mapped_column(String(IDENTITY_ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    domain_id: Mapped[str] = mapped_column(String(IDENTITY_ID), ForeignKey("domains.id"))
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)


class UserRow(Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = _args(UniqueConstraint("domain_id", "name"))

    id: Mapped[str] = mapped_column(String(IDENTITY_ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    domain_id: Mapped[str] = mapped_column(String(IDENTITY_ID), ForeignKey("domains.id"))
    # An argon2 hash in PHC format; NULL: the user cannot log in with a password.
    password_hash: Mapped[str | None] = mapped_column(String(NAME))
    enabled: Mapped[bool] = mapped_column(Boolean)
    # No foreign key: Keystone keeps the reference when the project goes.
    default_project_id: Mapped[str | None] = mapped_column(String(IDENTITY_ID))
    email: Mapped[str | None] = mapped_column(String(NAME))
    description: Mapped[str | None] = mapped_column(Text)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Tokens of this user issued before this instant are refused (password change,
    # disabling): the check a stateless token needs.
    revoked_before: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RoleRow(Timestamps, Base):
    __tablename__ = "roles"
    __table_args__ = _args(UniqueConstraint("name"))

    id: Mapped[str] = mapped_column(String(IDENTITY_ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    description: Mapped[str | None] = mapped_column(Text)


class RoleAssignmentRow(Base):
    """A user's role on a project."""

    __tablename__ = "role_assignments"
    __table_args__ = _args(
        Index("ix_role_assignments_project_id", "project_id"),
        Index("ix_role_assignments_role_id", "role_id"),
    )

    user_id: Mapped[str] = mapped_column(
        String(IDENTITY_ID), ForeignKey("users.id"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(
        String(IDENTITY_ID), ForeignKey("projects.id"), primary_key=True
    )
    role_id: Mapped[str] = mapped_column(
        String(IDENTITY_ID), ForeignKey("roles.id"), primary_key=True
    )


# --- compute API records (os-keypairs, os-quota-sets) ---------------------------------------


class KeyPairRow(Timestamps, Base):
    """A user's key pair (deleted for real: a name may be reused at once)."""

    __tablename__ = "key_pairs"
    __table_args__ = _args(UniqueConstraint("user_id", "name"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME))
    user_id: Mapped[str] = mapped_column(String(IDENTITY_ID))
    fingerprint: Mapped[str] = mapped_column(String(NAME))
    public_key: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))


class QuotaRow(Timestamps, Base):
    """A project's limit on one resource, where it differs from the default."""

    __tablename__ = "quotas"
    __table_args__ = _args(UniqueConstraint("project_id", "resource"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(IDENTITY_ID))
    resource: Mapped[str] = mapped_column(String(NAME))
    hard_limit: Mapped[int] = mapped_column(Integer)


# --- networks (the Neutron subset's records; cumulo.db.ipam allocates on them) -------------


class NetworkRow(Timestamps, Base):
    """A network; ``shared`` ones are every project's to boot on."""

    __tablename__ = "networks"
    __table_args__ = _args()

    id: Mapped[UUID] = mapped_column(UUIDString(), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    project_id: Mapped[str | None] = mapped_column(String(IDENTITY_ID))
    shared: Mapped[bool] = mapped_column(Boolean)
    admin_state_up: Mapped[bool] = mapped_column(Boolean)
    mtu: Mapped[int] = mapped_column(Integer)


class SubnetRow(Timestamps, Base):
    """An IP subnet of a network: its pools (JSON ``[{"start", "end"}]``) and name
    servers (JSON list) are what allocation and the guests read."""

    __tablename__ = "subnets"
    __table_args__ = _args(Index("ix_subnets_network_id", "network_id"))

    id: Mapped[UUID] = mapped_column(UUIDString(), primary_key=True)
    network_id: Mapped[UUID] = mapped_column(
        UUIDString(), ForeignKey("networks.id", name="fk_subnets_network_id")
    )
    name: Mapped[str] = mapped_column(String(NAME))
    project_id: Mapped[str | None] = mapped_column(String(IDENTITY_ID))
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[IPNetwork] = mapped_column(IPNetworkString())
    gateway_ip: Mapped[IPAddress | None] = mapped_column(IPAddressString())
    allocation_pools: Mapped[str] = mapped_column(Text)
    dns_nameservers: Mapped[str] = mapped_column(Text)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean)


class PortRow(Timestamps, Base):
    """A port: a MAC on a network, bound to a device (an instance) and a host.
    ``preserve_on_delete``: made by a user, so an instance's delete unbinds it
    instead of deleting it."""

    __tablename__ = "ports"
    __table_args__ = _args(
        UniqueConstraint("network_id", "mac_address"),
        Index("ix_ports_device_id", "device_id"),
    )

    id: Mapped[UUID] = mapped_column(UUIDString(), primary_key=True)
    network_id: Mapped[UUID] = mapped_column(
        UUIDString(), ForeignKey("networks.id", name="fk_ports_network_id")
    )
    name: Mapped[str] = mapped_column(String(NAME))
    project_id: Mapped[str] = mapped_column(String(IDENTITY_ID))
    mac_address: Mapped[str] = mapped_column(String(17))
    device_id: Mapped[str] = mapped_column(String(NAME))
    device_owner: Mapped[str] = mapped_column(String(NAME))
    status: Mapped[str] = mapped_column(String(16))
    binding_host: Mapped[str | None] = mapped_column(String(NAME))
    preserve_on_delete: Mapped[bool] = mapped_column(Boolean)


class IPAllocationRow(Base):
    """One address held by one port. The unique key on (network, address) is what
    keeps two ports from ever holding one address, whoever allocates concurrently."""

    __tablename__ = "ip_allocations"
    __table_args__ = _args(
        UniqueConstraint("network_id", "ip_address"),
        Index("ix_ip_allocations_port_id", "port_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network_id: Mapped[UUID] = mapped_column(
        UUIDString(), ForeignKey("networks.id", name="fk_ip_allocations_network_id")
    )
    subnet_id: Mapped[UUID] = mapped_column(
        UUIDString(), ForeignKey("subnets.id", name="fk_ip_allocations_subnet_id")
    )
    port_id: Mapped[UUID] = mapped_column(
        UUIDString(), ForeignKey("ports.id", name="fk_ip_allocations_port_id")
    )
    ip_address: Mapped[IPAddress] = mapped_column(IPAddressString())
