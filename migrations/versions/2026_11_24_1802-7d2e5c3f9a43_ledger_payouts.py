"""ledger: payout requests, payout provider references, schedules

Revision ID: 7d2e5c3f9a43
Revises: 6c1d4b2e8f32
Create Date: 2026-11-24 18:02:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clipcart.core.db

revision: str = "7d2e5c3f9a43"
down_revision: str | None = "6c1d4b2e8f32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_payout_schedules",
        sa.Column("owner_type", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("minimum", sa.BigInteger(), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("updated_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "frequency IN ('off', 'daily', 'weekly')",
            name=op.f("ck_ledger_payout_schedules_frequency_known"),
        ),
        sa.CheckConstraint(
            "minimum >= 0", name=op.f("ck_ledger_payout_schedules_minimum_not_negative")
        ),
        sa.PrimaryKeyConstraint(
            "owner_type", "owner_id", "currency", name=op.f("pk_ledger_payout_schedules")
        ),
    )
    op.create_table(
        "ledger_payouts",
        sa.Column("owner_type", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=100), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_reference", sa.String(length=200), nullable=True),
        sa.Column("failure_reason", sa.String(length=300), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("schedule_period", sa.String(length=32), nullable=True),
        sa.Column("submitted_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("settled_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clipcart.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'in_transit', 'paid', 'failed')",
            name=op.f("ck_ledger_payouts_status_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_payouts_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_payouts")),
        sa.UniqueConstraint(
            "owner_type",
            "owner_id",
            "currency",
            "schedule_period",
            name=op.f("uq_ledger_payouts_owner_type_owner_id_currency_schedule_period"),
        ),
        sa.UniqueConstraint(
            "provider_reference", name=op.f("uq_ledger_payouts_provider_reference")
        ),
    )
    with op.batch_alter_table("ledger_payouts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_payouts_owner", ["owner_type", "owner_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_payouts_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_payouts_status"))
        batch_op.drop_index("ix_ledger_payouts_owner")

    op.drop_table("ledger_payouts")
    op.drop_table("ledger_payout_schedules")
