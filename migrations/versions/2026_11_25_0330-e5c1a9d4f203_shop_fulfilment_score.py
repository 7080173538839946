"""shop fulfilment score

Revision ID: e5c1a9d4f203
Revises: d3b8e2f5c012
Create Date: 2026-11-25 03:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5c1a9d4f203"
down_revision: str | None = "d3b8e2f5c012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("fulfilment_score", sa.SmallInteger(), nullable=True))
        batch.add_column(
            sa.Column("fulfilment_orders", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("fulfilment_orders")
        batch.drop_column("fulfilment_score")
