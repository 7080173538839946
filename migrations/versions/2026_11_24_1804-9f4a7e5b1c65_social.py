"""social: follows, likes, saves, collections, shares, comments, reports, blocks, counters

Revision ID: 9f4a7e5b1c65
Revises: 8e3f6d4a0b54
Create Date: 2026-11-24 18:04:00+00:00
"""

from collections.abc import Sequence

revision: str = "9f4a7e5b1c65"
down_revision: str | None = "8e3f6d4a0b54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
