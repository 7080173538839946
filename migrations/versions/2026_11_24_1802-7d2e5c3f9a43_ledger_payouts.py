"""ledger: payout requests, payout provider references, schedules

Revision ID: 7d2e5c3f9a43
Revises: 6c1d4b2e8f32
Create Date: 2026-11-24 18:02:00+00:00
"""

from collections.abc import Sequence

revision: str = "7d2e5c3f9a43"
down_revision: str | None = "6c1d4b2e8f32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
