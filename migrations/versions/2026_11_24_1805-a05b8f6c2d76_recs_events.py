"""events: the append-only event log the recommender and analytics read

Revision ID: a05b8f6c2d76
Revises: 9f4a7e5b1c65
Create Date: 2026-11-24 18:05:00+00:00
"""

from collections.abc import Sequence

revision: str = "a05b8f6c2d76"
down_revision: str | None = "9f4a7e5b1c65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
