"""shops and catalogue: shops, staff, products, variants, images, inventory

Revision ID: 5b0c3a1d7e21
Revises: aaed2277811a
Create Date: 2026-11-24 18:00:00+00:00
"""

from collections.abc import Sequence

revision: str = "5b0c3a1d7e21"
down_revision: str | None = "aaed2277811a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
