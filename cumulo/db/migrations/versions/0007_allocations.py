"""Allocations: what each instance holds on a compute node, claimed by placement in
the transaction that picks the node.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Expand-only: a new table no earlier release reads. Existing instances get their
allocations from the online data migration ``fill_instance_allocations``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

MYSQL_FAMILY = ("mysql", "mariadb")
NAME = 255


def upgrade() -> None:
    timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL_FAMILY)
    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("consumer_uuid", sa.String(36), nullable=False),
        sa.Column("host", sa.String(NAME), nullable=False),
        sa.Column("node", sa.String(NAME), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("disk_gb", sa.Integer(), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("updated_at", timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_allocations"),
        sa.UniqueConstraint(
            "consumer_uuid", "host", "node", name="uq_allocations_consumer_uuid_host_node"
        ),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index("ix_allocations_host_node", "allocations", ["host", "node"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("Cumulo migrations are expand-only: restore a backup instead")
