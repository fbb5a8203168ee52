"""Release 0.2: an instance's description and lock reason, read-only volume attachments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Expand-only. The new columns are nullable or have a server default, so a 0.1
conductor still writing rows without them keeps working during a rolling upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

NAME = 255


def upgrade() -> None:
    op.add_column("instances", sa.Column("locked_reason", sa.String(NAME), nullable=True))
    op.add_column("instances", sa.Column("description", sa.String(NAME), nullable=True))
    op.add_column(
        "block_device_mappings",
        sa.Column("read_only", sa.Boolean(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    raise NotImplementedError("Cumulo migrations are expand-only: restore a backup instead")
