"""media: videos, transcode jobs, product tags

Revision ID: 6c1d4b2e8f32
Revises: 5b0c3a1d7e21
Create Date: 2026-11-24 18:01:00+00:00
"""

from collections.abc import Sequence

revision: str = "6c1d4b2e8f32"
down_revision: str | None = "5b0c3a1d7e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
