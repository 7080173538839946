"""recs events: a BRIN index on occurred_at instead of the B-tree on (occurred_at, id)

Revision ID: c8f3a6d1e402
Revises: b6e2d8f4a310
Create Date: 2026-11-25 21:10:00+00:00

Events arrive roughly in the order they happened, so their time follows the table's physical
order and a BRIN index (a few bytes per range of pages) finds a window as well as a B-tree for
the readers that read windows (training, iter_events). The B-tree cost every stored event an
insert at its right edge, where all concurrent batches meet: measured on PostgreSQL with 16
concurrent batches of 100 events, ~3.5 µs of database CPU an event, a sixth of it. SQLite has no
BRIN: there the index stays a B-tree (on occurred_at alone).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c8f3a6d1e402"
down_revision: str | None = "b6e2d8f4a310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recs_events", schema=None) as batch_op:
        batch_op.drop_index("ix_recs_events_occurred_at_id")
        batch_op.create_index(
            "ix_recs_events_occurred_at",
            ["occurred_at"],
            unique=False,
            postgresql_using="brin",
            postgresql_with={"autosummarize": "on"},
        )


def downgrade() -> None:
    with op.batch_alter_table("recs_events", schema=None) as batch_op:
        batch_op.drop_index("ix_recs_events_occurred_at")
        batch_op.create_index("ix_recs_events_occurred_at_id", ["occurred_at", "id"], unique=False)
