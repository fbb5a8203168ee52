"""Key pairs and per-project quota limits (the compute API's ``os-keypairs`` and
``os-quota-sets``, kept where nova-api keeps them: beside the other API records).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Expand-only: two new tables no earlier release reads.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

MYSQL_FAMILY = ("mysql", "mariadb")
NAME = 255
ID = 64


def _datetime(name: str, nullable: bool = True) -> sa.Column[Any]:
    kind = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL_FAMILY)
    return sa.Column(name, kind, nullable=nullable)


def _table(name: str, *items: Any) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *items,
        _datetime("created_at", nullable=False),
        _datetime("updated_at"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


def upgrade() -> None:
    _table(
        "key_pairs",
        sa.Column("name", sa.String(NAME), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("fingerprint", sa.String(NAME), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_key_pairs_user_id_name"),
    )
    _table(
        "quotas",
        sa.Column("project_id", sa.String(ID), nullable=False),
        sa.Column("resource", sa.String(NAME), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.UniqueConstraint("project_id", "resource", name="uq_quotas_project_id_resource"),
    )


def downgrade() -> None:
    raise NotImplementedError("Cumulo migrations are expand-only: restore a backup instead")
