"""The seller role leaves people who no longer work for any shop.

Revision ID: a1d5c7e3f208
Revises: f7a2c4e9b105
Create Date: 2026-11-25 10:00:00+00:00

Removing someone from a shop's staff kept their seller role, which the pages read as "works
for a shop" (the Seller center link). Removal now takes the role with the last shop; this
takes it from those removed before.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a1d5c7e3f208"
down_revision: str | None = "f7a2c4e9b105"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM user_roles WHERE role = 'seller_staff'"
        " AND user_id NOT IN (SELECT user_id FROM shop_staff)"
    )


def downgrade() -> None:
    # Who held the role before cannot be told apart afterwards; nothing to restore.
    pass
