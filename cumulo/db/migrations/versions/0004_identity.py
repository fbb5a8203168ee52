"""Identity: domains, projects, users, roles and role assignments (cumulo.identity).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Expand-only: new tables that no earlier release reads, so 0.1 and 0.2 conductors
keep working on the expanded schema during a rolling upgrade. Column types are
plain SQLAlchemy types, as in 0001.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

MYSQL_FAMILY = ("mysql", "mariadb")
NAME = 255
ID = 64


def _table(name: str, *items: Any) -> None:
    op.create_table(
        name,
        *items,
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


def _id(name: str = "id", nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(ID), nullable=nullable)


def _name(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.String(NAME), nullable=nullable)


def _datetime(name: str, nullable: bool = True) -> sa.Column[Any]:
    kind = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), *MYSQL_FAMILY)
    return sa.Column(name, kind, nullable=nullable)


def _timestamps() -> list[sa.Column[Any]]:
    return [_datetime("created_at", nullable=False), _datetime("updated_at")]


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=f"pk_{table}")


def _unique(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=f"uq_{table}_{'_'.join(columns)}")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}")


def upgrade() -> None:
    _table(
        "domains",
        _id(),
        _name("name", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_timestamps(),
        _pk("domains"),
        _unique("domains", "name"),
    )
    _table(
        "projects",
        _id(),
        _name("name", nullable=False),
        _id("domain_id"),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_timestamps(),
        _pk("projects"),
        _unique("projects", "domain_id", "name"),
        _fk("projects", "domain_id", "domains.id"),
    )
    _table(
        "users",
        _id(),
        _name("name", nullable=False),
        _id("domain_id"),
        _name("password_hash"),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _id("default_project_id", nullable=True),
        _name("email"),
        sa.Column("description", sa.Text(), nullable=True),
        _datetime("password_changed_at"),
        _datetime("revoked_before"),
        *_timestamps(),
        _pk("users"),
        _unique("users", "domain_id", "name"),
        _fk("users", "domain_id", "domains.id"),
    )
    _table(
        "roles",
        _id(),
        _name("name", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        *_timestamps(),
        _pk("roles"),
        _unique("roles", "name"),
    )
    _table(
        "role_assignments",
        _id("user_id"),
        _id("project_id"),
        _id("role_id"),
        _pk("role_assignments", "user_id", "project_id", "role_id"),
        _fk("role_assignments", "user_id", "users.id"),
        _fk("role_assignments", "project_id", "projects.id"),
        _fk("role_assignments", "role_id", "roles.id"),
    )
    op.create_index("ix_role_assignments_project_id", "role_assignments", ["project_id"])
    op.create_index("ix_role_assignments_role_id", "role_assignments", ["role_id"])


def downgrade() -> None:
    raise NotImplementedError("Cumulo migrations are expand-only: restore a backup instead")
