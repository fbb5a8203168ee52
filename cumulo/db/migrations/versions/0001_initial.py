"""The initial schema: instances and what hangs off them, flavors, block device
mappings, migrations, services, compute nodes, security groups, volumes.

Revision ID: 0001
Revises: (none)
Create Date: 2025-01-01

Expand-only: add, never drop or rename (see cumulo/db/migrations/__init__.py).
Column types are plain SQLAlchemy types, so this file keeps meaning what it
meant when it shipped whatever ``cumulo.db.types`` becomes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

MYSQL_FAMILY = ("mysql", "mariadb")
NAME = 255


def _table(name: str, *items: Any) -> None:
    op.create_table(
        name,
        *items,
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _uuid(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _name(name: str, nullable: bool = True, length: int = NAME) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _bool(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _float(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Double(), nullable=False)


def _datetime(name: str, nullable: bool = True) -> sa.Column[Any]:
    kind = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL_FAMILY)
    return sa.Column(name, kind, nullable=nullable)


def _text(name: str, nullable: bool = True) -> sa.Column[Any]:
    """Long text, JSON documents included (MEDIUMTEXT on MariaDB)."""
    kind = sa.Text().with_variant(mysql.MEDIUMTEXT(), *MYSQL_FAMILY)
    return sa.Column(name, kind, nullable=nullable)


def _timestamps() -> list[sa.Column[Any]]:
    return [_datetime("created_at", nullable=False), _datetime("updated_at")]


def _soft_delete() -> list[sa.Column[Any]]:
    return [
        _datetime("deleted_at"),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
    ]


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=f"pk_{table}")


def _unique(table: str, *columns: str, name: str | None = None) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=name or f"uq_{table}_{'_'.join(columns)}")


def _fk(table: str, column: str, target: str, name: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [target], name=name or f"fk_{table}_{column}")


def _index(name: str, table: str, *columns: str) -> None:
    op.create_index(name, table, list(columns), unique=False)


def upgrade() -> None:
    _table(
        "instances",
        _id(),
        _uuid("uuid"),
        _name("user_id", nullable=False),
        _name("project_id", nullable=False),
        _name("image_ref"),
        _name("host"),
        _name("node"),
        _name("launched_on"),
        _name("display_name"),
        _name("hostname"),
        _name("availability_zone"),
        _name("vm_state", nullable=False, length=32),
        _name("task_state", length=32),
        _int("power_state"),
        _int("memory_mb"),
        _int("vcpus"),
        _int("root_gb"),
        _int("ephemeral_gb"),
        _name("root_device_name"),
        _bool("config_drive"),
        _name("key_name"),
        _text("key_data"),
        _text("user_data"),
        _text("metadata", nullable=False),
        _text("system_metadata", nullable=False),
        _bool("locked"),
        _name("locked_by"),
        _datetime("launched_at"),
        _datetime("terminated_at"),
        _text("flavor"),
        *_timestamps(),
        *_soft_delete(),
        _pk("instances"),
        _unique("instances", "uuid"),
    )
    _index("ix_instances_host_deleted", "instances", "host", "deleted")
    _index("ix_instances_project_id", "instances", "project_id")

    _table(
        "instance_info_caches",
        _id(),
        _uuid("instance_uuid"),
        _text("network_info", nullable=False),
        *_timestamps(),
        *_soft_delete(),
        _pk("instance_info_caches"),
        _unique("instance_info_caches", "instance_uuid"),
        _fk("instance_info_caches", "instance_uuid", "instances.uuid"),
    )

    _table(
        "instance_tags",
        _uuid("instance_uuid"),
        _name("tag", nullable=False),
        _pk("instance_tags", "instance_uuid", "tag"),
        _fk("instance_tags", "instance_uuid", "instances.uuid"),
    )
    _index("ix_instance_tags_tag", "instance_tags", "tag")

    _table(
        "instance_faults",
        _id(),
        _uuid("instance_uuid"),
        _int("code"),
        _name("message", nullable=False),
        _text("details", nullable=False),
        _name("host"),
        _datetime("created_at", nullable=False),
        _pk("instance_faults"),
        _fk("instance_faults", "instance_uuid", "instances.uuid"),
    )
    _index(
        "ix_instance_faults_instance_uuid_created_at",
        "instance_faults",
        "instance_uuid",
        "created_at",
    )

    _table(
        "instance_actions",
        _id(),
        _name("request_id", nullable=False),
        _uuid("instance_uuid"),
        _name("action", nullable=False, length=64),
        _name("user_id"),
        _name("project_id"),
        _datetime("start_time", nullable=False),
        _datetime("finish_time"),
        sa.Column("message", sa.Text(), nullable=True),
        _pk("instance_actions"),
        _fk("instance_actions", "instance_uuid", "instances.uuid"),
    )
    _index(
        "ix_instance_actions_instance_uuid_request_id",
        "instance_actions",
        "instance_uuid",
        "request_id",
    )

    _table(
        "instance_actions_events",
        _id(),
        _int("action_id"),
        _name("event", nullable=False),
        _datetime("start_time", nullable=False),
        _datetime("finish_time"),
        _name("result", length=16),
        _text("traceback"),
        _name("host"),
        _text("details"),
        _pk("instance_actions_events"),
        _fk("instance_actions_events", "action_id", "instance_actions.id"),
    )
    _index("ix_instance_actions_events_action_id", "instance_actions_events", "action_id")

    _table(
        "flavors",
        _id(),
        _name("flavorid", nullable=False),
        _name("name", nullable=False),
        _int("memory_mb"),
        _int("vcpus"),
        _int("root_gb"),
        _int("ephemeral_gb"),
        _int("swap"),
        _float("rxtx_factor"),
        _int("vcpu_weight", nullable=True),
        _bool("disabled"),
        _bool("is_public"),
        sa.Column("description", sa.Text(), nullable=True),
        *_timestamps(),
        _pk("flavors"),
        _unique("flavors", "flavorid"),
        _unique("flavors", "name"),
    )

    _table(
        "flavor_extra_specs",
        _id(),
        _int("flavor_id"),
        _name("key", nullable=False),
        _name("value", nullable=False),
        _pk("flavor_extra_specs"),
        _unique("flavor_extra_specs", "flavor_id", "key"),
        _fk("flavor_extra_specs", "flavor_id", "flavors.id"),
    )

    _table(
        "block_device_mappings",
        _id(),
        _uuid("uuid"),
        _uuid("instance_uuid"),
        _name("source_type", nullable=False, length=32),
        _name("destination_type", nullable=False, length=32),
        _name("guest_format"),
        _name("device_type", length=32),
        _name("disk_bus", length=32),
        _int("boot_index", nullable=True),
        _name("device_name"),
        _bool("delete_on_termination"),
        _uuid("snapshot_id", nullable=True),
        _uuid("volume_id", nullable=True),
        _int("volume_size", nullable=True),
        _uuid("image_id", nullable=True),
        _bool("no_device"),
        _text("connection_info"),
        _name("tag"),
        _uuid("attachment_id", nullable=True),
        _name("volume_type"),
        _bool("encrypted"),
        _uuid("encryption_secret_uuid", nullable=True),
        _name("encryption_format", length=128),
        *_timestamps(),
        *_soft_delete(),
        _pk("block_device_mappings"),
        _unique("block_device_mappings", "uuid"),
        _unique(
            "block_device_mappings",
            "instance_uuid",
            "device_name",
            "deleted",
            name="uq_bdm_instance_uuid_device_name_deleted",
        ),
        _fk("block_device_mappings", "instance_uuid", "instances.uuid"),
    )
    _index("ix_block_device_mappings_instance_uuid", "block_device_mappings", "instance_uuid")
    _index("ix_block_device_mappings_volume_id", "block_device_mappings", "volume_id")

    _table(
        "migrations",
        _id(),
        _uuid("uuid"),
        _uuid("instance_uuid"),
        _name("migration_type", nullable=False, length=32),
        _name("status", nullable=False, length=32),
        _name("source_compute"),
        _name("source_node"),
        _name("dest_compute"),
        _name("dest_node"),
        _name("dest_host", length=45),
        _int("old_flavor_id", nullable=True),
        _int("new_flavor_id", nullable=True),
        _bool("hidden"),
        *(
            sa.Column(name, sa.BigInteger(), nullable=True)
            for name in (
                "memory_total",
                "memory_processed",
                "memory_remaining",
                "disk_total",
                "disk_processed",
                "disk_remaining",
            )
        ),
        _name("user_id"),
        _name("project_id"),
        *_timestamps(),
        _pk("migrations"),
        _unique("migrations", "uuid"),
        _fk("migrations", "instance_uuid", "instances.uuid"),
    )
    _index("ix_migrations_instance_uuid", "migrations", "instance_uuid")
    _index("ix_migrations_source_compute_status", "migrations", "source_compute", "status")
    _index("ix_migrations_dest_compute_status", "migrations", "dest_compute", "status")

    _table(
        "volumes",
        _uuid("id"),
        _name("name", nullable=False),
        _int("size_gb"),
        _name("status", nullable=False, length=32),
        _name("host"),
        _name("path", length=1024),
        _name("project_id"),
        _name("user_id"),
        _uuid("attached_to", nullable=True),
        _name("attached_host"),
        _name("mountpoint"),
        _uuid("attachment_id", nullable=True),
        *_timestamps(),
        *_soft_delete(),
        _pk("volumes"),
    )
    _index("ix_volumes_host_deleted", "volumes", "host", "deleted")

    _table(
        "services",
        _id(),
        _uuid("uuid"),
        _name("host", nullable=False),
        _name("binary", nullable=False, length=64),
        _name("topic", nullable=False),
        _int("report_count"),
        _bool("disabled"),
        _name("disabled_reason"),
        _bool("forced_down"),
        _datetime("last_seen_up"),
        _int("version"),
        _text("object_manifest", nullable=False),
        _name("rpc_api_version", nullable=False, length=32),
        *_timestamps(),
        *_soft_delete(),
        _pk("services"),
        _unique("services", "uuid"),
        _unique("services", "host", "binary", "deleted"),
    )

    _table(
        "compute_nodes",
        _id(),
        _uuid("uuid"),
        _name("host", nullable=False),
        _name("hypervisor_hostname", nullable=False),
        *(
            _int(name)
            for name in (
                "vcpus",
                "memory_mb",
                "local_gb",
                "vcpus_used",
                "memory_mb_used",
                "local_gb_used",
                "free_ram_mb",
                "free_disk_gb",
                "running_vms",
                "current_workload",
            )
        ),
        _name("hypervisor_type", nullable=False),
        sa.Column("hypervisor_version", sa.BigInteger(), nullable=False),
        _text("cpu_info", nullable=False),
        _int("disk_available_least", nullable=True),
        _name("host_ip", length=45),
        _text("supported_instances", nullable=False),
        _float("cpu_allocation_ratio"),
        _float("ram_allocation_ratio"),
        _float("disk_allocation_ratio"),
        *_timestamps(),
        *_soft_delete(),
        _pk("compute_nodes"),
        _unique("compute_nodes", "uuid"),
        _unique("compute_nodes", "host", "hypervisor_hostname", "deleted"),
    )

    _table(
        "security_groups",
        _id(),
        _name("name", nullable=False),
        _name("description", nullable=False),
        _name("project_id", nullable=False),
        _name("user_id"),
        *_timestamps(),
        _pk("security_groups"),
        _unique("security_groups", "project_id", "name"),
    )

    _table(
        "security_group_rules",
        _id(),
        _int("parent_group_id"),
        _name("protocol", nullable=False, length=16),
        _int("from_port", nullable=True),
        _int("to_port", nullable=True),
        _name("cidr", length=64),
        _int("remote_group_id", nullable=True),
        _name("direction", nullable=False, length=16),
        _name("ethertype", nullable=False, length=16),
        _pk("security_group_rules"),
        _fk(
            "security_group_rules",
            "parent_group_id",
            "security_groups.id",
            name="fk_security_group_rules_parent_group",
        ),
        _fk(
            "security_group_rules",
            "remote_group_id",
            "security_groups.id",
            name="fk_security_group_rules_remote_group",
        ),
    )
    _index("ix_security_group_rules_parent_group_id", "security_group_rules", "parent_group_id")
    _index("ix_security_group_rules_remote_group_id", "security_group_rules", "remote_group_id")

    _table(
        "security_group_instance_association",
        _id(),
        _int("security_group_id"),
        _uuid("instance_uuid"),
        _pk("security_group_instance_association"),
        _unique(
            "security_group_instance_association",
            "security_group_id",
            "instance_uuid",
            name="uq_security_group_instance_association",
        ),
        _fk(
            "security_group_instance_association",
            "security_group_id",
            "security_groups.id",
            name="fk_sg_instance_association_group",
        ),
        _fk(
            "security_group_instance_association",
            "instance_uuid",
            "instances.uuid",
            name="fk_sg_instance_association_instance",
        ),
    )
    _index(
        "ix_security_group_instance_association_instance_uuid",
        "security_group_instance_association",
        "instance_uuid",
    )


def downgrade() -> None:
    raise NotImplementedError("Cumulo migrations are expand-only: restore a backup instead")
