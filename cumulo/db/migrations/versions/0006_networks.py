"""Networks, subnets, ports and their IP allocations (the Neutron subset's records,
where fleet-wide address management keeps them), and the default shared network
``private`` with subnet 10.1.0.0/16 that every host allocated on before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Expand-only: four new tables no earlier release reads. The default network keeps
the id hosts of releases 0.1 and 0.2 put in their VIFs, so instances they built
stay on a network this API knows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

MYSQL_FAMILY = ("mysql", "mariadb")
NAME = 255
ID = 64
DEFAULT_NETWORK_ID = "6f0b1a4e-3c2d-5e7f-8a9b-0c1d2e3f4a5b"
DEFAULT_SUBNET_ID = "80c636cb-256e-51fe-b242-caea3fc8332b"


def _datetime(name: str, nullable: bool = True) -> sa.Column[Any]:
    kind = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL_FAMILY)
    return sa.Column(name, kind, nullable=nullable)


def _uuid(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.String(36), nullable=False)


def _name(name: str, nullable: bool = False, length: int = NAME) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _bool(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Boolean(), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}")


def _table(name: str, *items: Any, timestamps: bool = True) -> sa.Table:
    stamps = [_datetime("created_at", nullable=False), _datetime("updated_at")]
    return op.create_table(
        name,
        *items,
        *(stamps if timestamps else []),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


def upgrade() -> None:
    networks = _table(
        "networks",
        _uuid("id"),
        _name("name"),
        _name("project_id", nullable=True, length=ID),
        _bool("shared"),
        _bool("admin_state_up"),
        sa.Column("mtu", sa.Integer(), nullable=False),
    )
    subnets = _table(
        "subnets",
        _uuid("id"),
        _uuid("network_id"),
        _name("name"),
        _name("project_id", nullable=True, length=ID),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("cidr", sa.String(64), nullable=False),
        sa.Column("gateway_ip", sa.String(45), nullable=True),
        sa.Column("allocation_pools", sa.Text(), nullable=False),
        sa.Column("dns_nameservers", sa.Text(), nullable=False),
        _bool("enable_dhcp"),
        _fk("subnets", "network_id", "networks.id"),
    )
    op.create_index("ix_subnets_network_id", "subnets", ["network_id"], unique=False)
    _table(
        "ports",
        _uuid("id"),
        _uuid("network_id"),
        _name("name"),
        _name("project_id", length=ID),
        _name("mac_address", length=17),
        _name("device_id"),
        _name("device_owner"),
        _name("status", length=16),
        _name("binding_host", nullable=True),
        _bool("preserve_on_delete"),
        _fk("ports", "network_id", "networks.id"),
        sa.UniqueConstraint("network_id", "mac_address", name="uq_ports_network_id_mac_address"),
    )
    op.create_index("ix_ports_device_id", "ports", ["device_id"], unique=False)
    _table(
        "ip_allocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _uuid("network_id"),
        _uuid("subnet_id"),
        _uuid("port_id"),
        sa.Column("ip_address", sa.String(45), nullable=False),
        _fk("ip_allocations", "network_id", "networks.id"),
        _fk("ip_allocations", "subnet_id", "subnets.id"),
        _fk("ip_allocations", "port_id", "ports.id"),
        sa.UniqueConstraint(
            "network_id", "ip_address", name="uq_ip_allocations_network_id_ip_address"
        ),
        timestamps=False,
    )
    op.create_index("ix_ip_allocations_port_id", "ip_allocations", ["port_id"], unique=False)

    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        networks,
        [
            {
                "id": DEFAULT_NETWORK_ID,
                "name": "private",
                "project_id": None,
                "shared": True,
                "admin_state_up": True,
                "mtu": 1500,
                "created_at": now,
            }
        ],
    )
    op.bulk_insert(
        subnets,
        [
            {
                "id": DEFAULT_SUBNET_ID,
                "network_id": DEFAULT_NETWORK_ID,
                "name": "private-subnet",
                "project_id": None,
                "ip_version": 4,
                "cidr": "10.1.0.0/16",
                "gateway_ip": "10.1.0.1",
                "allocation_pools": json.dumps([{"start": "10.1.0.2", "end": "10.1.255.254"}]),
                "dns_nameservers": json.dumps(["10.1.0.1"]),
                "enable_dhcp": True,
                "created_at": now,
            }
        ],
    )


def downgrade() -> None:
    raise NotImplementedError("Cumulo migrations are expand-only: restore a backup instead")
