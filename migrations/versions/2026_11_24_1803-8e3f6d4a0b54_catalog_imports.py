"""catalogue: import jobs with progress and rejected rows

Revision ID: 8e3f6d4a0b54
Revises: 7d2e5c3f9a43
Create Date: 2026-11-24 18:03:00+00:00
"""

from collections.abc import Sequence

revision: str = "8e3f6d4a0b54"
down_revision: str | None = "7d2e5c3f9a43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
