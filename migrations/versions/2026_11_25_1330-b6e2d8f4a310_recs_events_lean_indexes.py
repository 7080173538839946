"""recs events: index only signed-in people's events by person, drop the unused type index

Revision ID: b6e2d8f4a310
Revises: a1d5c7e3f208
Create Date: 2026-11-25 13:30:00+00:00

Every stored event updated five indexes. ix_recs_events_type_occurred_at served no query (the
readers look events up by person, by video and type, or by time), and visitors' events, which
have no user_id, were never looked up through ix_recs_events_user_id_occurred_at: that index now
holds signed-in people's events only. Measured on PostgreSQL with 16 concurrent batches of 100
visitor events: about 4 µs less database CPU per event.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b6e2d8f4a310"
down_revision: str | None = "a1d5c7e3f208"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNED_IN = sa.text("user_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("recs_events", schema=None) as batch_op:
        batch_op.drop_index("ix_recs_events_type_occurred_at")
        batch_op.drop_index("ix_recs_events_user_id_occurred_at")
        batch_op.create_index(
            "ix_recs_events_user_id_occurred_at",
            ["user_id", "occurred_at"],
            unique=False,
            postgresql_where=SIGNED_IN,
            sqlite_where=SIGNED_IN,
        )


def downgrade() -> None:
    with op.batch_alter_table("recs_events", schema=None) as batch_op:
        batch_op.drop_index("ix_recs_events_user_id_occurred_at")
        batch_op.create_index(
            "ix_recs_events_user_id_occurred_at", ["user_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_recs_events_type_occurred_at", ["type", "occurred_at"], unique=False
        )
