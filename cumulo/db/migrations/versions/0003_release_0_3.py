"""Release 0.3: an instance's access addresses, reservation id and launch index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Expand-only. The new columns are nullable, so 0.1 and 0.2 conductors still writing
rows without them keep working during a rolling upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

NAME = 255
ADDRESS = 45


def upgrade() -> None:
    op.add_column("instances", sa.Column("access_ip_v4", sa.String(ADDRESS), nullable=True))
    op.add_column("instances", sa.Column("access_ip_v6", sa.String(ADDRESS), nullable=True))
    op.add_column("instances", sa.Column("reservation_id", sa.String(NAME), nullable=True))
    op.add_column("instances", sa.Column("launch_index", sa.Integer(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("Cumulo migrations are expand-only: restore a backup instead")
